package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStateStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, Config{DataDir: t.TempDir()})
	ss, err := NewStateStore(ctx, st.JetStream(), 1)
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
