package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	// IdempotencyBucket is the JetStream KV bucket holding the results of
	// idempotent writes (AIP-155 request ids).
	IdempotencyBucket = "kwaishop_idempotency"
	// IdempotencyTTL is how long a write's first result is kept: the
	// bucket's max age, counted from the record's last change.
	IdempotencyTTL = 24 * time.Hour

	maxClaimTries = 5
)

// Write states.
const (
	// WritePending marks a write whose owner is calling the platform.
	WritePending = "pending"
	// WriteDone marks a write whose result is stored.
	WriteDone = "done"
)

// WriteRecord is the stored state of one idempotent write.
type WriteRecord struct {
	State       string    `json:"state"`       // WritePending or WriteDone
	Fingerprint string    `json:"fingerprint"` // the request's arguments, hashed; a reuse must match
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	// Result is the owner's encoding of the first result (opaque here).
	Result []byte `json:"result,omitempty"`
}

// Idempotency keeps the first result of each write for IdempotencyTTL, so a
// retried write is answered from the store instead of reaching the platform
// again. A key is claimed with KV Create before the platform is called, so
// of several concurrent duplicates exactly one owns the write. It is safe
// for concurrent use.
type Idempotency struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// NewIdempotency opens the idempotency bucket, creating it (file storage,
// history 1, max age IdempotencyTTL, the given replicas; <= 0 means 1) if
// missing. An existing bucket's configuration is left untouched.
func NewIdempotency(ctx context.Context, js jetstream.JetStream, replicas int) (*Idempotency, error) {
	if js == nil {
		return nil, errors.New("store: idempotency: nil jetstream")
	}
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := OpenBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      IdempotencyBucket,
		Description: "kwaishop-gateway first results of idempotent writes (AIP-155 request ids)",
		History:     1,
		TTL:         IdempotencyTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, err
	}
	return &Idempotency{kv: kv, now: time.Now}, nil
}

// Idempotency opens the idempotency bucket on this Store with its replica
// count.
func (s *Store) Idempotency(ctx context.Context) (*Idempotency, error) {
	return NewIdempotency(ctx, s.js, s.cfg.Replicas)
}

// KeyValue exposes the underlying bucket.
func (i *Idempotency) KeyValue() jetstream.KeyValue { return i.kv }

// WriteKey joins the parts of a write's identity (for example open_id, RPC
// name, request id) into a KV key. Each part must match [A-Za-z0-9_-]+.
func WriteKey(parts ...string) (string, error) {
	if len(parts) == 0 {
		return "", fmt.Errorf("%w: empty write key", ErrInvalidKey)
	}
	for _, p := range parts {
		if !validName(p) {
			return "", fmt.Errorf("%w: write key parts must match [A-Za-z0-9_-]+", ErrInvalidKey)
		}
	}
	return strings.Join(parts, "."), nil
}

// Claim tries to become the owner of the write under key by creating a
// pending record with fingerprint. claimed reports success; rev is then the
// record's revision, for Complete or Release. Otherwise the existing record
// and its revision are returned (pending: another caller owns the write;
// done: its stored result).
func (i *Idempotency) Claim(ctx context.Context, key, fingerprint string) (rec WriteRecord, rev uint64, claimed bool, err error) {
	mine := WriteRecord{State: WritePending, Fingerprint: fingerprint, Started: i.now().UTC()}
	val, err := json.Marshal(mine)
	if err != nil {
		return WriteRecord{}, 0, false, fmt.Errorf("store: claim %s: %w", key, err)
	}
	for range maxClaimTries {
		rev, err := i.kv.Create(ctx, key, val)
		if err == nil {
			return mine, rev, true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return WriteRecord{}, 0, false, fmt.Errorf("store: claim %s: %w", key, err)
		}
		rec, rev, err := i.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // released or expired between Create and Get: try again
		}
		return rec, rev, false, err
	}
	return WriteRecord{}, 0, false, fmt.Errorf("store: claim %s: %w", key, ErrConflict)
}

// Get reads the record under key (ErrNotFound if there is none).
func (i *Idempotency) Get(ctx context.Context, key string) (WriteRecord, uint64, error) {
	e, err := i.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return WriteRecord{}, 0, fmt.Errorf("store: write %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return WriteRecord{}, 0, fmt.Errorf("store: write %s: %w", key, err)
	}
	rec, err := decodeWrite(key, e.Value())
	return rec, e.Revision(), err
}

func decodeWrite(key string, b []byte) (WriteRecord, error) {
	var rec WriteRecord
	if err := json.Unmarshal(b, &rec); err != nil || (rec.State != WritePending && rec.State != WriteDone) {
		return WriteRecord{}, fmt.Errorf("store: write %s: %w", key, ErrCorrupt)
	}
	return rec, nil
}

// Complete stores the write's result under the owner's claim (the record
// and revision Claim returned). ErrConflict means the claim was lost (it
// expired or was released).
func (i *Idempotency) Complete(ctx context.Context, key string, rev uint64, claim WriteRecord, result []byte) error {
	rec := WriteRecord{State: WriteDone, Fingerprint: claim.Fingerprint, Started: claim.Started, Finished: i.now().UTC(), Result: result}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: complete %s: %w", key, err)
	}
	if _, err := i.kv.Update(ctx, key, val, rev); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("store: complete %s: %w", key, ErrConflict)
		}
		return fmt.Errorf("store: complete %s: %w", key, err)
	}
	return nil
}

// Release gives up the owner's claim without a result, so the same key may
// be claimed again (for a write that certainly did not reach the platform).
func (i *Idempotency) Release(ctx context.Context, key string, rev uint64) error {
	if err := i.kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
		return fmt.Errorf("store: release %s: %w", key, err)
	}
	return nil
}

// Wait blocks until the write under key is no longer pending and returns
// its record; found is false when there is no record (released or
// expired). A record still pending staleAfter after it was claimed is
// returned as it is: its owner is presumed gone. It ends with ctx.
func (i *Idempotency) Wait(ctx context.Context, key string, staleAfter time.Duration) (rec WriteRecord, found bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := i.kv.Watch(ctx, key)
	if err != nil {
		return WriteRecord{}, false, fmt.Errorf("store: watch %s: %w", key, err)
	}
	defer func() { _ = w.Stop() }()
	var stale <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return WriteRecord{}, false, fmt.Errorf("store: wait %s: %w", key, ctx.Err())
		case <-stale:
			return rec, true, nil
		case e, ok := <-w.Updates():
			if !ok {
				return WriteRecord{}, false, fmt.Errorf("store: wait %s: watcher stopped", key)
			}
			if e == nil { // initial values delivered; keep waiting for changes
				if rec.State == "" {
					return WriteRecord{}, false, nil
				}
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				return WriteRecord{}, false, nil
			}
			if rec, err = decodeWrite(key, e.Value()); err != nil {
				return WriteRecord{}, false, err
			}
			if rec.State == WriteDone {
				return rec, true, nil
			}
			left := rec.Started.Add(staleAfter).Sub(i.now())
			if left <= 0 {
				return rec, true, nil
			}
			t := time.NewTimer(left)
			defer t.Stop()
			stale = t.C
		}
	}
}
