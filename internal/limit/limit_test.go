package limit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// cluster is one embedded NATS server (listening on loopback) and n
// separate connections to it, one per simulated replica.
func cluster(t testing.TB, n int) []*store.Store {
	t.Helper()
	ctx := context.Background()
	first, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := []*store.Store{first}
	for range n - 1 {
		s, err := store.Open(ctx, store.Config{NATSURL: first.ClientURL()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	t.Cleanup(func() {
		for i := len(out) - 1; i >= 0; i-- {
			_ = out[i].Close()
		}
	})
	return out
}

func newLimiters(t testing.TB, stores []*store.Store, cfg Config) []*Limiter {
	t.Helper()
	var out []*Limiter
	for _, s := range stores {
		c := cfg
		c.JetStream = s.JetStream()
		l, err := New(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func TestSchedule_SlotsSpacedAcrossReplicas(t *testing.T) {
	// Three replicas book slots of one API concurrently; the booked slot
	// start times, all together, are never closer than one interval: the
	// budget is one, not one per replica.
	ls := newLimiters(t, cluster(t, 3), Config{QPS: 50})
	const perReplica = 40
	interval := ls[0].interval(50)
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perReplica / 4 {
					s, err := l.slots.reserve(context.Background, "qps.open.shop.info.get", interval, time.Now(), time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					starts = append(starts, s)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(starts) != 3*perReplica {
		t.Fatalf("booked %d slots, want %d", len(starts), 3*perReplica)
	}
	slices.SortFunc(starts, time.Time.Compare)
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < interval {
			t.Fatalf("slots %d and %d are %s apart, want >= %s", i-1, i, gap, interval)
		}
	}
}

func TestSchedule_IdleLeasesKeepTheSharedSpacing(t *testing.T) {
	// A limit high enough that an idle lease books several slots (20 000
	// QPS: ~56 µs apart, ~18 per lease). Three replicas, one caller each
	// (so no block is booked for queued callers), call in bursts with
	// pauses, so the schedule keeps turning idle and every replica leases
	// slots of it. All booked slots together are never closer than one
	// interval, and fewer compare-and-swaps than slots were needed.
	const qps = 20000
	ls := newLimiters(t, cluster(t, 3), Config{QPS: qps})
	interval := ls[0].interval(qps)
	if n := idleLease / interval; n < 4 {
		t.Fatalf("a lease holds %d slots: pick a higher rate", n)
	}
	const key, perWorker = "qps.open.shop.info.get", 150
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for _, l := range ls {
		for w := range 1 {
			wg.Go(func() {
				for i := range perWorker {
					s, err := l.slots.reserve(context.Background, key, interval, time.Now(), time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					starts = append(starts, s)
					mu.Unlock()
					if (i+w)%7 == 0 {
						time.Sleep(time.Duration(1+i%3) * idleLease) // let the schedule go idle
					}
				}
			})
		}
	}
	wg.Wait()
	if len(starts) != 3*perWorker {
		t.Fatalf("booked %d slots, want %d", len(starts), 3*perWorker)
	}
	slices.SortFunc(starts, time.Time.Compare)
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < interval {
			t.Fatalf("slots %d and %d are %s apart, want >= %s", i-1, i, gap, interval)
		}
	}
	e, err := ls[0].slots.kv.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	// Every booking is one revision of the key (the bucket is fresh).
	if cas := e.Revision(); cas >= uint64(len(starts)) {
		t.Fatalf("%d compare-and-swaps for %d slots: idle leases booked nothing ahead", cas, len(starts))
	} else {
		t.Logf("%d slots booked with %d compare-and-swaps", len(starts), cas)
	}
}

func attempt(method string) platform.Attempt { return platform.Attempt{Method: method} }

func TestLimiter_QPSRefusesOrWaits(t *testing.T) {
	ls := newLimiters(t, cluster(t, 2), Config{QPS: 5, MaxQueue: -1})
	ctx := context.Background()
	done, err := ls[0].Admit(ctx, attempt("open.shop.info.get"))
	if err != nil {
		t.Fatal(err)
	}
	done(platform.Outcome{})

	t.Run("other_replica_refused_without_wait", func(t *testing.T) {
		_, err := ls[1].Admit(ctx, attempt("open.shop.info.get"))
		var le *Error
		if !errors.As(err, &le) || le.Kind != KindQPS || le.RetryAfter <= 0 || le.Limit != 5 {
			t.Fatalf("err = %v, want a KindQPS *Error with a RetryAfter", err)
		}
	})
	t.Run("other_api_has_its_own_budget", func(t *testing.T) {
		if _, err := ls[1].Admit(ctx, attempt("open.item.get")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("waiting_caller_is_admitted", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(WithWait(ctx), 10*time.Second)
		defer cancel()
		for i := range 3 {
			if _, err := ls[i%2].Admit(wctx, attempt("open.shop.info.get")); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
	})
	t.Run("wait_bounded_by_deadline", func(t *testing.T) {
		// Book ~2 s of slots, then a waiting call with a 1 s deadline is
		// refused at once rather than timing out.
		wctx, cancel := context.WithTimeout(WithWait(ctx), 10*time.Second)
		defer cancel()
		for range 10 {
			if _, err := ls[0].slots.reserve(func() context.Context { return wctx }, "qps.open.order.detail", ls[0].interval(5), time.Now(), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		sctx, cancel2 := context.WithTimeout(WithWait(ctx), time.Second)
		defer cancel2()
		_, err := ls[1].Admit(sctx, attempt("open.order.detail"))
		var le *Error
		if !errors.As(err, &le) || le.Kind != KindQPS {
			t.Fatalf("err = %v, want KindQPS", err)
		}
		if sctx.Err() != nil {
			t.Fatal("the refusal waited for the deadline")
		}
	})
}

func TestLimiter_PerUserQPS(t *testing.T) {
	ls := newLimiters(t, cluster(t, 1), Config{QPS: 1000, Rates: map[string]Rate{"open.item.edit": {App: 1000, User: 0.5}}})
	ctx := context.Background()
	a := platform.Attempt{Method: "open.item.edit", OpenID: "shop-a", Write: true}
	if _, err := ls[0].Admit(ctx, a); err != nil {
		t.Fatal(err)
	}
	var le *Error
	if _, err := ls[0].Admit(ctx, a); !errors.As(err, &le) || le.Kind != KindUserQPS {
		t.Fatalf("second call of the same shop: %v, want KindUserQPS", err)
	}
	a.OpenID = "shop-b"
	if _, err := ls[0].Admit(ctx, a); err != nil {
		t.Fatalf("another shop: %v", err)
	}
}

// drain admits attempts on l until it refuses and returns how many passed.
func drain(t *testing.T, l *Limiter, a platform.Attempt) int {
	t.Helper()
	for n := 0; ; n++ {
		done, err := l.Admit(context.Background(), a)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || (le.Kind != KindDaily && le.Kind != KindTestUserDaily) {
				t.Fatalf("refusal: %v", err)
			}
			if le.RetryAfter <= 0 || le.RetryAfter > 24*time.Hour {
				t.Fatalf("RetryAfter %s: want the time to the next day", le.RetryAfter)
			}
			return n
		}
		done(platform.Outcome{})
	}
}

func TestLimiter_DailyQuotaSharedAndPrioritized(t *testing.T) {
	ls := newLimiters(t, cluster(t, 3), Config{AppDaily: 100})
	low := platform.Attempt{Method: "open.order.cursor.list"}
	normal := platform.Attempt{Method: "open.order.detail"}
	high := platform.Attempt{Method: "open.seller.order.goods.deliver", Write: true}

	// Replicas interleave: each leases blocks from the one counter.
	got := map[Priority]int{}
	for _, step := range []struct {
		p Priority
		a platform.Attempt
	}{{PriorityLow, low}, {PriorityNormal, normal}, {PriorityHigh, high}} {
		for round := 0; ; round++ {
			n := 0
			for _, l := range ls {
				done, err := l.Admit(context.Background(), step.a)
				if err == nil {
					done(platform.Outcome{})
					n++
				}
			}
			got[step.p] += n
			if n == 0 {
				break
			}
		}
		for _, l := range ls { // each replica refuses now
			got[step.p] += drain(t, l, step.a)
		}
	}
	if got[PriorityLow] != 90 || got[PriorityNormal] != 5 || got[PriorityHigh] != 5 {
		t.Fatalf("admitted low/normal/high = %d/%d/%d, want 90/5/5 (bulk reads stop at 90 %%, reads at 95 %%)",
			got[PriorityLow], got[PriorityNormal], got[PriorityHigh])
	}
}

func TestLimiter_DailyQuotaNeverExceededUnderConcurrency(t *testing.T) {
	ls := newLimiters(t, cluster(t, 3), Config{AppDaily: 137, TestUserDaily: 40})
	var passed, userA atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := ls[i%3]
			for j := range 20 {
				a := platform.Attempt{Method: "open.item.sku.stock.update", Write: true}
				if j%2 == 0 {
					a.OpenID = "shop-a"
				}
				done, err := l.Admit(context.Background(), a)
				if err != nil {
					continue
				}
				done(platform.Outcome{})
				passed.Add(1)
				if a.OpenID == "shop-a" {
					userA.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if passed.Load() > 137 || userA.Load() > 40 {
		t.Fatalf("admitted %d calls (%d for shop-a), quotas 137 (40)", passed.Load(), userA.Load())
	}
	// Unused leases go back on Close; then nothing is lost either.
	for _, l := range ls {
		l.Close(context.Background())
	}
	n := int32(drain(t, ls[0], platform.Attempt{Method: "open.item.sku.stock.update", OpenID: "shop-a", Write: true}))
	userA.Add(n)
	passed.Add(n + int32(drain(t, ls[1], platform.Attempt{Method: "open.item.sku.stock.update", Write: true})))
	if passed.Load() != 137 || userA.Load() != 40 {
		t.Fatalf("admitted %d calls (%d for shop-a) in all, want exactly 137 (40)", passed.Load(), userA.Load())
	}
}

func TestLimiter_CloseReturnsUnusedLease(t *testing.T) {
	stores := cluster(t, 2)
	ls := newLimiters(t, stores, Config{AppDaily: 1000})
	done, err := ls[0].Admit(context.Background(), attempt("open.order.detail"))
	if err != nil {
		t.Fatal(err)
	}
	done(platform.Outcome{})
	ls[0].Close(context.Background())
	today, _ := day(time.Now())
	kv, err := stores[1].JetStream().KeyValue(context.Background(), QuotaBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), "day."+today+".app")
	if err != nil || string(e.Value()) != "1" {
		t.Fatalf("counter after Close = %v %v, want 1 (one call used, the rest returned)", e, err)
	}
}

func TestLimiter_InFlightKeepsShareForWrites(t *testing.T) {
	ls := newLimiters(t, cluster(t, 1), Config{MaxInFlight: 4})
	l := ls[0]
	held := 0
	admit := func(a platform.Attempt) error {
		_, err := l.Admit(context.Background(), a)
		if err == nil {
			held++
		}
		return err
	}
	for admit(attempt("open.order.cursor.list")) == nil {
	}
	if held != 2 {
		t.Fatalf("bulk reads got %d of 4 slots, want 2", held)
	}
	for admit(attempt("open.order.detail")) == nil {
	}
	if held != 3 {
		t.Fatalf("reads reached %d of 4 slots, want 3", held)
	}
	err := admit(platform.Attempt{Method: "open.seller.order.close", Write: true})
	if err != nil || held != 4 {
		t.Fatalf("write: %v (held %d)", err, held)
	}
	var le *Error
	if err := admit(platform.Attempt{Method: "open.seller.order.close", Write: true}); !errors.As(err, &le) || le.Kind != KindInFlight {
		t.Fatalf("fifth call: %v, want KindInFlight", err)
	}
}

func TestLimiter_StoreDownFailsClosed(t *testing.T) {
	stores := cluster(t, 1)
	ls := newLimiters(t, stores, Config{QPS: 10})
	_ = stores[0].Close()
	_, err := ls[0].Admit(context.Background(), attempt("open.order.detail"))
	var le *Error
	if !errors.As(err, &le) || le.Kind != KindUnavailable || le.RetryAfter <= 0 {
		t.Fatalf("err = %v, want KindUnavailable", err)
	}
}

func TestPriorityOf(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		a    platform.Attempt
		want Priority
	}{
		{"write", context.Background(), platform.Attempt{Method: "open.seller.order.goods.deliver", Write: true}, PriorityHigh},
		{"list_read", context.Background(), attempt("open.order.cursor.list"), PriorityLow},
		{"pcursor_read", context.Background(), attempt("open.seller.order.refund.pcursor.list"), PriorityLow},
		{"single_read", context.Background(), attempt("open.order.detail"), PriorityNormal},
		{"caller_lowers", WithPriority(context.Background(), PriorityLow), platform.Attempt{Method: "open.item.edit", Write: true}, PriorityLow},
		{"caller_cannot_raise", WithPriority(context.Background(), PriorityHigh), attempt("open.item.list.get"), PriorityLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PriorityOf(tt.ctx, tt.a); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromMetadata(t *testing.T) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(MetadataWait, "true", MetadataPriority, "low"))
	ctx = FromMetadata(ctx)
	if !Waits(ctx) || PriorityOf(ctx, platform.Attempt{Method: "a.b", Write: true}) != PriorityLow {
		t.Fatal("metadata not applied")
	}
	if Waits(FromMetadata(metadata.NewIncomingContext(context.Background(), metadata.Pairs(MetadataWait, "no")))) {
		t.Fatal("wait: no must not wait")
	}
}

func TestConfig_Validate(t *testing.T) {
	err := Config{QPS: -1, Headroom: 0.9, Rates: map[string]Rate{"bad name!": {App: 1}}}.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 4 {
		t.Fatalf("got %d errors, want 4 (store, negative, headroom, rate name): %v", n, err)
	}
}

func TestDay(t *testing.T) {
	// 2024-01-01 15:59:59 UTC is 23:59:59 in UTC+8: one second left.
	d, left := day(time.Date(2024, 1, 1, 15, 59, 59, 0, time.UTC))
	if d != "20240101" || left != time.Second {
		t.Fatalf("day = %s, %s", d, left)
	}
	if d, _ := day(time.Date(2024, 1, 1, 16, 0, 0, 0, time.UTC)); d != "20240102" {
		t.Fatalf("day = %s, want 20240102", d)
	}
}

func TestError_QPSTextSaysWhatTheCallerCanDo(t *testing.T) {
	t.Parallel()
	asked := (&Error{Kind: KindQPS, Method: "m", Limit: 100, RetryAfter: time.Second, Waited: true}).Error()
	notAsked := (&Error{Kind: KindQPS, Method: "m", Limit: 100, RetryAfter: time.Second}).Error()
	if strings.Contains(asked, MetadataWait) || !strings.Contains(asked, "deadline") {
		t.Fatalf("caller that waited: %q", asked)
	}
	if !strings.Contains(notAsked, MetadataWait) {
		t.Fatalf("caller that did not wait: %q", notAsked)
	}
}
