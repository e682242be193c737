package limit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// schedule is the shared QPS budget: one GCRA ("virtual scheduling") state
// per key in a NATS KV bucket, the theoretical arrival time (TAT) of the
// next free slot. Reserving a slot is one compare-and-swap of the TAT from
// any replica, so every replica draws from the same budget whatever the
// load balance; a replica that lost the race re-reads and tries again.
type schedule struct {
	kv  jetstream.KeyValue
	now func() time.Time // wall clock: slots are shared with other hosts

	mu   sync.Mutex
	keys map[string]*slotState
}

// slotState caches a key's last known TAT and revision, so an
// uncontended reservation is a single KV update.
type slotState struct {
	mu    sync.Mutex
	known bool
	tat   int64 // unix nanoseconds
	rev   uint64
}

// maxCachedKeys bounds the cache (API names and open_ids come from callers).
// The KV is authoritative, so dropping the cache only costs a re-read.
const maxCachedKeys = 8192

// maxCASTries bounds one reservation's compare-and-swap attempts.
const maxCASTries = 64

func (s *schedule) state(key string) *slotState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.keys[key]
	if st == nil {
		if len(s.keys) >= maxCachedKeys {
			clear(s.keys)
		}
		st = &slotState{}
		s.keys[key] = st
	}
	return st
}

// errTooFar reports a slot beyond the caller's maximum delay; wait is how
// long until the next slot would start.
type errTooFar struct{ wait time.Duration }

func (e errTooFar) Error() string { return fmt.Sprintf("limit: next slot in %s", e.wait) }

// reserve books the next slot of key, spaced interval from the previous
// one, starting no earlier than notBefore. It fails with errTooFar, booking
// nothing, when that slot starts more than maxDelay from now.
func (s *schedule) reserve(ctx context.Context, key string, interval time.Duration, notBefore time.Time, maxDelay time.Duration) (time.Time, error) {
	st := s.state(key)
	st.mu.Lock()
	defer st.mu.Unlock()
	for try := range maxCASTries {
		if try > 0 {
			// Lost a race: back off a little (jittered), so the
			// replicas contending for one API take turns.
			d := time.Duration(rand.Int64N(int64(50*time.Microsecond) << min(try, 6)))
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return time.Time{}, ctx.Err()
			}
		}
		if !st.known {
			e, err := s.kv.Get(ctx, key)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
				st.tat, st.rev = 0, 0
			case err != nil:
				return time.Time{}, err
			case len(e.Value()) != 8:
				st.tat, st.rev = 0, e.Revision() // unreadable: start afresh
			default:
				st.tat, st.rev = int64(binary.BigEndian.Uint64(e.Value())), e.Revision()
			}
			st.known = true
		}
		now := s.now()
		start := now
		for _, t := range []time.Time{time.Unix(0, st.tat), notBefore} {
			if t.After(start) {
				start = t
			}
		}
		if d := start.Sub(now); d > maxDelay {
			return time.Time{}, errTooFar{wait: d}
		}
		next := start.Add(interval).UnixNano()
		var val [8]byte
		binary.BigEndian.PutUint64(val[:], uint64(next))
		var rev uint64
		var err error
		if st.rev == 0 {
			rev, err = s.kv.Create(ctx, key, val[:])
		} else {
			rev, err = s.kv.Update(ctx, key, val[:], st.rev)
		}
		switch {
		case err == nil:
			st.tat, st.rev = next, rev
			return start, nil
		case errors.Is(err, jetstream.ErrKeyExists):
			st.known = false // another replica booked first (or the key expired): re-read
		default:
			st.known = false
			return time.Time{}, err
		}
	}
	return time.Time{}, errors.New("limit: too much contention on " + key)
}
