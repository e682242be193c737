package message

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// refuseCalls fails the test if the reconciler calls the platform (there
// are no shops in these tests).
type refuseCalls struct{ t *testing.T }

func (r refuseCalls) Shop(context.Context, string) (platform.TokenSource, error) {
	r.t.Error("unexpected token request")
	return nil, store.ErrNotFound
}

func (r refuseCalls) Do(context.Context, *platform.Request) (*platform.Response, error) {
	r.t.Error("unexpected platform call")
	return nil, store.ErrNotFound
}

func TestReconciler_OneReplicaAtATime(t *testing.T) {
	l, st := openLog(t)
	ctx := testCtx(t)
	k, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := store.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := st.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	newReplica := func(id string) *Reconciler {
		r, err := NewReconciler(ctx, ReconcilerConfig{Log: l, Shops: tokens, Tokens: refuseCalls{t}, Caller: refuseCalls{t}, ReplicaID: id, Interval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := newReplica("a"), newReplica("b")

	if _, err := a.RunOnce(ctx); err != nil || !a.Holder() {
		t.Fatalf("a: holder=%v err=%v", a.Holder(), err)
	}
	if _, err := b.RunOnce(ctx); err != nil || b.Holder() {
		t.Fatalf("b took a held lease: holder=%v err=%v", b.Holder(), err)
	}
	if _, _ = a.RunOnce(ctx); !a.Holder() {
		t.Fatal("a lost its own lease on renewal")
	}

	// a stops (Run returns and releases): b takes over at its next pass.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(runCtx) }()
	stop()
	<-done
	if _, _ = b.RunOnce(ctx); !b.Holder() {
		t.Fatal("b did not take over a released lease")
	}

	// b crashes (its lease is simply left to expire): a takes over after expiry.
	expired, _ := json.Marshal(lease{Owner: "b", Expires: time.Now().Add(-time.Second).UnixMilli()})
	if _, err := b.kv.Put(ctx, leaseKey, expired); err != nil {
		t.Fatal(err)
	}
	if _, _ = a.RunOnce(ctx); !a.Holder() {
		t.Fatal("a did not take over an expired lease")
	}
	if _, _ = b.RunOnce(ctx); b.Holder() {
		t.Fatal("b kept running after a took over")
	}
}
