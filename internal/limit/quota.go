package limit

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// quotas are the shared daily counters: one KV key per quota and day whose
// value is the number of calls handed out so far, across all replicas. A
// replica leases a block of calls with one compare-and-swap and hands them
// out locally, so the store sees one write per block rather than per call.
// Leased calls count as used whether or not they are sent, so the sum over
// all replicas never exceeds the quota; a replica returns its unused block
// on Close. Blocks shrink as the quota runs low, so little of the tail is
// stranded on one replica.
type quotas struct {
	kv jetstream.KeyValue

	mu     sync.Mutex
	leases map[string]*lease
}

// lease is a replica's block of a quota: the call numbers next..end (1-based
// positions in the day's sequence) are ours to hand out.
type lease struct {
	mu     sync.Mutex
	key    string // KV key: includes the day
	next   int64
	end    int64
	global int64 // the counter as last seen (end of the newest block)
	spare  int64 // calls given back (a later check refused the call)
}

// maxBlock bounds one lease.
const maxBlock = 50

// share is the part of the quota up to which a priority may use it:
// bulk reads stop at 90 %, single reads at 95 %, writes may use it all.
func share(limit int64, p Priority) int64 {
	switch p {
	case PriorityLow:
		return limit * 90 / 100
	case PriorityNormal:
		return limit * 95 / 100
	}
	return limit
}

func (q *quotas) lease(name, key string) *lease {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.leases[name]
	if l == nil || l.key != key {
		if len(q.leases) >= maxCachedKeys {
			clear(q.leases)
		}
		l = &lease{key: key, next: 1} // empty: next > end
		q.leases[name] = l
	}
	return l
}

// errQuota reports a used quota.
var errQuota = errors.New("limit: quota used")

// exhausted reports, from what this replica last saw and without a store
// round trip, whether the quota is used for priority p.
func (q *quotas) exhausted(name, key string, limit int64, p Priority) bool {
	l := q.lease(name, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := share(limit, p)
	switch {
	case l.spare > 0:
		return false
	case l.next <= l.end:
		return l.next > c
	}
	return l.global >= c
}

// take hands out one call of quota name (KV key key, limit per day) to a
// caller of priority p, or fails with errQuota.
func (q *quotas) take(storeCtx func() context.Context, name, key string, limit int64, p Priority) error {
	l := q.lease(name, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := share(limit, p)
	if l.spare > 0 && l.next-1 <= c {
		l.spare--
		return nil
	}
	if l.next <= l.end {
		if l.next > c {
			return errQuota // the rest of our block is kept for higher priorities
		}
		l.next++
		return nil
	}
	ctx := storeCtx()
	for range maxCASTries {
		e, err := q.kv.Get(ctx, key)
		var used int64
		var rev uint64
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			used, _ = strconv.ParseInt(string(e.Value()), 10, 64)
			rev = e.Revision()
		}
		l.global = used
		if used >= c {
			return errQuota
		}
		block := min(max((limit-used)/16, 1), maxBlock, limit-used)
		val := []byte(strconv.FormatInt(used+block, 10))
		if rev == 0 {
			_, err = q.kv.Create(ctx, key, val)
		} else {
			_, err = q.kv.Update(ctx, key, val, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return err
		}
		l.next, l.end, l.global = used+2, used+block, used+block // used+1 is this call
		return nil
	}
	return errors.New("limit: too much contention on " + key)
}

// giveBack returns a call taken from quota name that was not sent.
func (q *quotas) giveBack(name, key string) {
	l := q.lease(name, key)
	l.mu.Lock()
	l.spare++
	l.mu.Unlock()
}

// release gives every unused leased call back to its counter (best effort).
func (q *quotas) release(ctx context.Context) {
	q.mu.Lock()
	ls := make([]*lease, 0, len(q.leases))
	for _, l := range q.leases {
		ls = append(ls, l)
	}
	q.mu.Unlock()
	for _, l := range ls {
		l.mu.Lock()
		unused := l.end - l.next + 1 + l.spare
		if unused > 0 {
			for range maxCASTries {
				e, err := q.kv.Get(ctx, l.key)
				if err != nil {
					break
				}
				used, _ := strconv.ParseInt(string(e.Value()), 10, 64)
				_, err = q.kv.Update(ctx, l.key, []byte(strconv.FormatInt(max(used-unused, 0), 10)), e.Revision())
				if !errors.Is(err, jetstream.ErrKeyExists) {
					break
				}
			}
			l.next, l.spare = l.end+1, 0
		}
		l.mu.Unlock()
	}
}

// day is the platform's calendar day (UTC+8) of t, as used in quota keys,
// and the time left until it ends.
func day(t time.Time) (string, time.Duration) {
	t = t.In(chinaTime)
	y, m, d := t.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, chinaTime)
	return t.Format("20060102"), next.Sub(t)
}

var chinaTime = time.FixedZone("UTC+8", 8*3600)

// calendar caches the last day answered by day: a call formats no date
// while its day lasts.
type calendar struct{ last atomic.Pointer[calendarDay] }

type calendarDay struct {
	key        string
	start, end time.Time
}

// day is day(t), from the cache when t falls in the last day answered (by
// the wall clock, as day reads it; UTC+8 days are 24 hours).
func (c *calendar) day(t time.Time) (string, time.Duration) {
	t = t.Round(0)
	if d := c.last.Load(); d != nil && !t.Before(d.start) && t.Before(d.end) {
		return d.key, d.end.Sub(t)
	}
	key, left := day(t)
	end := t.Add(left)
	c.last.Store(&calendarDay{key: key, start: end.Add(-24 * time.Hour), end: end})
	return key, left
}
