package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestStateStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, Config{DataDir: t.TempDir()})
	ss, err := NewStateStore(ctx, st.JetStream(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	bound := OAuthState{Scopes: []string{"merchant_order"}, ReturnURL: "https://example.test/done", Expiry: time.Now().Add(10 * time.Minute)}

	t.Run("single_use", func(t *testing.T) {
		state, err := ss.Issue(ctx, bound)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ss.Consume(ctx, state, time.Now())
		if err != nil || got.ReturnURL != bound.ReturnURL || got.Scopes[0] != "merchant_order" {
			t.Fatalf("consume = %+v, %v", got, err)
		}
		if _, err := ss.Consume(ctx, state, time.Now()); !errors.Is(err, ErrStateUnknown) {
			t.Fatalf("replay err = %v", err)
		}
	})
	t.Run("forged", func(t *testing.T) {
		if _, err := ss.Consume(ctx, "forged-state", time.Now()); !errors.Is(err, ErrStateUnknown) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		old := bound
		old.Expiry = time.Now().Add(-time.Second)
		state, _ := ss.Issue(ctx, old)
		if _, err := ss.Consume(ctx, state, time.Now()); !errors.Is(err, ErrStateExpired) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("concurrent_consumers_one_wins", func(t *testing.T) {
		state, _ := ss.Issue(ctx, bound)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := ss.Consume(ctx, state, time.Now()); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d consumers won", wins.Load())
		}
	})
	t.Run("state_not_stored_in_clear", func(t *testing.T) {
		state, _ := ss.Issue(ctx, bound)
		keys, err := ss.kv.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(k, state) {
				t.Fatal("state stored as key")
			}
		}
	})
}

func TestStateStore_BoundedBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, Config{DataDir: t.TempDir()})
	// An older bucket without limits is brought to the cap on open.
	if _, err := st.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: StateBucket, History: 1, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 64 << 10
	ss, err := NewStateStore(ctx, st.JetStream(), 1, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	status, err := ss.kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := status.(*jetstream.KeyValueBucketStatus).StreamInfo().Config; cfg.MaxBytes != maxBytes || cfg.MaxMsgSize != stateMaxValue {
		t.Fatalf("bucket limits = %d bytes, %d per record", cfg.MaxBytes, cfg.MaxMsgSize)
	}

	rec := OAuthState{Scopes: []string{strings.Repeat("a", 64)}, ReturnURL: "https://example.test/" + strings.Repeat("p", 1000), Expiry: time.Now().Add(time.Minute)}
	var issued []string
	for {
		state, err := ss.Issue(ctx, rec)
		if errors.Is(err, ErrStateStoreFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		issued = append(issued, state)
		if len(issued) > maxBytes/1000 {
			t.Fatalf("%d states of over 1 KB issued under a %d-byte cap", len(issued), maxBytes)
		}
	}
	if len(issued) == 0 {
		t.Fatal("the cap refused the first state")
	}
	if status, _ := ss.kv.Status(ctx); status.Bytes() > maxBytes {
		t.Fatalf("bucket holds %d bytes over its %d cap", status.Bytes(), maxBytes)
	}
	// A full bucket still lets pending states be used, which frees room.
	if _, err := ss.Consume(ctx, issued[0], time.Now()); err != nil {
		t.Fatalf("consume in a full bucket: %v", err)
	}
	if _, err := ss.Issue(ctx, OAuthState{Scopes: []string{"merchant_order"}, Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatalf("issue after a state was used: %v", err)
	}

	big := OAuthState{ReturnURL: strings.Repeat("x", stateMaxValue), Expiry: time.Now().Add(time.Minute)}
	if _, err := ss.Issue(ctx, big); err == nil || errors.Is(err, ErrStateStoreFull) {
		t.Fatalf("oversized record: %v", err)
	}
}
