package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func embeddedIdempotency(t *testing.T) *Idempotency {
	t.Helper()
	s := openStore(t, Config{DataDir: t.TempDir()})
	idem, err := s.Idempotency(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return idem
}

func TestWriteKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		parts []string
		want  string
		ok    bool
	}{
		{"ok", []string{"shop1", "OrderService-ShipOrder", "3f2c-11aa_bb"}, "shop1.OrderService-ShipOrder.3f2c-11aa_bb", true},
		{"dot_in_part", []string{"shop1", "a.b"}, "", false},
		{"wildcard", []string{"shop1", "*"}, "", false},
		{"empty_part", []string{"shop1", ""}, "", false},
		{"none", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WriteKey(tc.parts...)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("WriteKey(%q) = %q, %v", tc.parts, got, err)
			}
			if err != nil && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
		})
	}
}

func TestIdempotency_BucketHasTTL(t *testing.T) {
	idem := embeddedIdempotency(t)
	st, err := idem.KeyValue().Status(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != IdempotencyTTL || st.History() != 1 {
		t.Fatalf("bucket TTL %v history %d, want %v and 1", st.TTL(), st.History(), IdempotencyTTL)
	}
}

func TestIdempotency_ClaimCompleteReplay(t *testing.T) {
	idem := embeddedIdempotency(t)
	ctx := testCtx(t)
	key, _ := WriteKey("shop1", "ship", "req-1")

	claim, rev, claimed, err := idem.Claim(ctx, key, "fp-a")
	if err != nil || !claimed || claim.State != WritePending || claim.Fingerprint != "fp-a" {
		t.Fatalf("first claim: %+v %v %v", claim, claimed, err)
	}
	got, _, claimed, err := idem.Claim(ctx, key, "fp-a")
	if err != nil || claimed || got.State != WritePending {
		t.Fatalf("second claim while pending: %+v claimed=%v err=%v", got, claimed, err)
	}
	if err := idem.Complete(ctx, key, rev, claim, []byte("result-1")); err != nil {
		t.Fatal(err)
	}
	got, _, claimed, err = idem.Claim(ctx, key, "fp-b")
	if err != nil || claimed {
		t.Fatalf("claim after completion: claimed=%v err=%v", claimed, err)
	}
	if got.State != WriteDone || string(got.Result) != "result-1" || got.Fingerprint != "fp-a" || got.Finished.IsZero() {
		t.Fatalf("stored record = %+v", got)
	}
	// A stale revision cannot complete again.
	if err := idem.Complete(ctx, key, rev, claim, []byte("result-2")); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Complete = %v, want ErrConflict", err)
	}
}

func TestIdempotency_ReleaseAllowsNewClaim(t *testing.T) {
	idem := embeddedIdempotency(t)
	ctx := testCtx(t)
	key, _ := WriteKey("shop1", "ship", "req-2")
	_, rev, claimed, err := idem.Claim(ctx, key, "fp")
	if err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	if err := idem.Release(ctx, key, rev); err != nil {
		t.Fatal(err)
	}
	if _, _, err := idem.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after release = %v, want ErrNotFound", err)
	}
	if _, _, claimed, err := idem.Claim(ctx, key, "fp"); err != nil || !claimed {
		t.Fatalf("claim after release: %v %v", claimed, err)
	}
}

func TestIdempotency_ConcurrentClaimsHaveOneOwner(t *testing.T) {
	idem := embeddedIdempotency(t)
	ctx := testCtx(t)
	key, _ := WriteKey("shop1", "ship", "req-3")
	const n = 16
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		owners int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, claimed, err := idem.Claim(ctx, key, "fp")
			if err != nil {
				t.Error(err)
				return
			}
			if claimed {
				mu.Lock()
				owners++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if owners != 1 {
		t.Fatalf("%d owners, want exactly 1", owners)
	}
}

func TestIdempotency_Wait(t *testing.T) {
	idem := embeddedIdempotency(t)
	ctx := testCtx(t)

	t.Run("no_record", func(t *testing.T) {
		_, found, err := idem.Wait(ctx, "nothing.here", time.Minute)
		if err != nil || found {
			t.Fatalf("found=%v err=%v", found, err)
		}
	})

	t.Run("done_while_waiting", func(t *testing.T) {
		key, _ := WriteKey("shop1", "ship", "req-4")
		claim, rev, _, err := idem.Claim(ctx, key, "fp")
		if err != nil {
			t.Fatal(err)
		}
		type res struct {
			rec   WriteRecord
			found bool
			err   error
		}
		out := make(chan res, 1)
		go func() {
			rec, found, err := idem.Wait(ctx, key, time.Hour)
			out <- res{rec, found, err}
		}()
		if err := idem.Complete(ctx, key, rev, claim, []byte("r")); err != nil {
			t.Fatal(err)
		}
		r := <-out
		if r.err != nil || !r.found || r.rec.State != WriteDone || string(r.rec.Result) != "r" {
			t.Fatalf("Wait = %+v", r)
		}
	})

	t.Run("released_while_waiting", func(t *testing.T) {
		key, _ := WriteKey("shop1", "ship", "req-5")
		_, rev, _, err := idem.Claim(ctx, key, "fp")
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan bool, 1)
		go func() {
			_, found, err := idem.Wait(ctx, key, time.Hour)
			if err != nil {
				t.Error(err)
			}
			out <- found
		}()
		if err := idem.Release(ctx, key, rev); err != nil {
			t.Fatal(err)
		}
		if <-out {
			t.Fatal("Wait found a released record")
		}
	})

	t.Run("stale_pending", func(t *testing.T) {
		key, _ := WriteKey("shop1", "ship", "req-6")
		if _, _, _, err := idem.Claim(ctx, key, "fp"); err != nil {
			t.Fatal(err)
		}
		rec, found, err := idem.Wait(ctx, key, 0) // pending longer than 0: stale at once
		if err != nil || !found || rec.State != WritePending {
			t.Fatalf("Wait = %+v %v %v", rec, found, err)
		}
	})

	t.Run("ends_with_ctx", func(t *testing.T) {
		key, _ := WriteKey("shop1", "ship", "req-7")
		if _, _, _, err := idem.Claim(ctx, key, "fp"); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := idem.Wait(cctx, key, time.Hour); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
	})
}
