package limit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
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

	// waiting counts callers queued for mu: when several calls of this
	// replica wait for the same key, one compare-and-swap books a block of
	// consecutive slots for all of them (the block is this replica's alone,
	// so the spacing of every booked slot across replicas is unchanged), and
	// the others take theirs from memory. A lone caller books one slot,
	// unless the schedule is idle and its limit is high (see idleLease), so
	// a quiet replica never holds budget it does not use.
	waiting   atomic.Int32
	blockNext int64 // next unused slot of the block (unix ns)
	blockEnd  int64 // end of the block (unix ns), exclusive
}

// maxSlotBlock bounds the slots one compare-and-swap books for queued
// callers.
const maxSlotBlock = 32

// idleLease is how much of an idle schedule (no slot booked beyond now)
// one compare-and-swap may book for this replica: the slots of the next
// idleLease, handed to this replica's next calls as their time comes, so a
// replica calling far below a high limit does not pay a store round trip
// per call. Only limits above 1/idleLease (1 000 QPS after headroom; the
// platform's own are at most 300) book more than one slot this way; the
// cost is that another replica's call may wait up to idleLease for its
// slot, and that slots this replica does not use in time go unused (never
// to another call: the limit is never exceeded).
const idleLease = time.Millisecond

// maxLeaseBlock bounds the slots of one idle lease.
const maxLeaseBlock = 1024

// takeFromBlock hands out the first unused slot of the local block that is
// not in the past and not before notBefore. ok is false when the block has
// none left.
func (st *slotState) takeFromBlock(now, notBefore, interval int64) (int64, bool) {
	if from := max(now, notBefore); st.blockNext < from && st.blockNext < st.blockEnd {
		// skip the slots nobody took in time, or too early for this caller
		st.blockNext += (from - st.blockNext + interval - 1) / interval * interval
	}
	if st.blockNext >= st.blockEnd {
		return 0, false
	}
	t := st.blockNext
	st.blockNext += interval
	return t, true
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

// tooFarError reports a slot beyond the caller's maximum delay; wait is how
// long until the next slot would start.
type tooFarError struct{ wait time.Duration }

func (e tooFarError) Error() string { return fmt.Sprintf("limit: next slot in %s", e.wait) }

// reserve books the next slot of key, spaced interval from the previous
// one, starting no earlier than notBefore (storeCtx gives the context of
// the store round trips, when one is needed). It fails with tooFarError, booking
// nothing, when that slot starts more than maxDelay from now.
func (s *schedule) reserve(storeCtx func() context.Context, key string, interval time.Duration, notBefore time.Time, maxDelay time.Duration) (time.Time, error) {
	st := s.state(key)
	st.waiting.Add(1)
	st.mu.Lock()
	st.waiting.Add(-1)
	defer st.mu.Unlock()
	if t, ok := st.takeFromBlock(s.now().UnixNano(), notBefore.UnixNano(), int64(interval)); ok {
		if d := time.Duration(t - s.now().UnixNano()); d > maxDelay {
			st.blockNext -= int64(interval) // leave it to a caller that may wait that long
			return time.Time{}, tooFarError{wait: d}
		}
		return time.Unix(0, t), nil
	}
	ctx := storeCtx()
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
			return time.Time{}, tooFarError{wait: d}
		}
		block := int64(1 + min(st.waiting.Load(), maxSlotBlock-1))
		if !start.After(now) { // idle: nothing booked beyond now
			block = max(block, min(int64(idleLease/interval), maxLeaseBlock))
		}
		next := start.Add(time.Duration(block) * interval).UnixNano()
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
			st.blockNext, st.blockEnd = start.Add(interval).UnixNano(), next
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
