package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/internal/msgtest"
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
	l, st := msgtest.OpenLog(t)
	ctx := msgtest.Ctx(t)
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
		r, err := New(ctx, Config{Log: l, Shops: tokens, Tokens: refuseCalls{t}, Caller: refuseCalls{t}, ReplicaID: id, Interval: time.Minute})
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

// listPlatform serves open.order.cursor.list and
// open.seller.order.refund.pcursor.list over records at fixed update times.
// Its windows include both ends (the reconciler must still see a record on
// a window boundary once), it pages three records at a time, and it keeps
// every call's parameters.
type listPlatform struct {
	t       *testing.T
	orders  []int64 // order i+1 updated at orders[i]
	refunds []int64 // refund i+1 updated at refunds[i]
	calls   []map[string]any
	methods []string
}

func (p *listPlatform) Shop(context.Context, string) (platform.TokenSource, error) {
	return platform.TokenSourceFunc(func(context.Context) (string, error) { return "token", nil }), nil
}

func (p *listPlatform) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	var q struct {
		Begin   int64  `json:"beginTime"`
		End     int64  `json:"endTime"`
		Cursor  string `json:"cursor"`
		Pcursor string `json:"pcursor"`
	}
	var all map[string]any
	if err := json.Unmarshal(r.Param, &q); err != nil || json.Unmarshal(r.Param, &all) != nil {
		p.t.Errorf("params %s: %v", r.Param, err)
	}
	p.calls, p.methods = append(p.calls, all), append(p.methods, r.Method)
	times, cursor := p.orders, q.Cursor
	if r.Method == "open.seller.order.refund.pcursor.list" {
		times, cursor = p.refunds, q.Pcursor
	}
	var in []string
	for i, u := range times {
		if u < q.Begin || u > q.End {
			continue
		}
		id := int64(i + 1)
		if r.Method == "open.order.cursor.list" {
			in = append(in, fmt.Sprintf(`{"orderBaseInfo":{"oid":%d,"status":30,"createTime":%d,"updateTime":%d,"payTime":%d,"sellerId":77}}`, id, u-5000, u, u))
		} else {
			in = append(in, fmt.Sprintf(`{"refundId":%d,"orderId":%d,"status":10,"handlingWay":10,"createTime":%d,"updateTime":%d,"sellerId":77}`, id, 900+id, u-5000, u))
		}
	}
	from, _ := strconv.Atoi(cursor)
	to := min(len(in), from+3)
	next := strconv.Itoa(to)
	if to >= len(in) {
		next = "nomore"
	}
	page := strings.Join(in[min(from, len(in)):to], ",")
	data := `{"cursor":"` + next + `","orderList":[` + page + `]}`
	if r.Method == "open.seller.order.refund.pcursor.list" {
		data = `{"pcursor":"` + next + `","refundOrderInfoList":[` + page + `]}`
	}
	return &platform.Response{Data: json.RawMessage(data), RequestID: "r"}, nil
}

type oneShop struct{ openID string }

func (s oneShop) ListMetadata(context.Context) ([]store.Authorization, error) {
	return []store.Authorization{{OpenID: s.openID, Status: store.StatusActive, Scopes: []string{"merchant_order", "merchant_refund"}}}, nil
}

// The reconciler reads orders and refunds through the commerce walks:
// oldest window first, by update time, each change published once even
// when the platform returns a boundary record in two windows, the cursor at
// the end of the range after the pass.
func TestReconciler_WalksWindowsOldestFirst(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	ctx := msgtest.Ctx(t)
	const day = int64(24 * time.Hour / time.Millisecond)
	now := time.UnixMilli(200 * day)
	lag := 30 * time.Second
	end := now.Add(-lag).UnixMilli()
	orderFrom, refundFrom := end-10*day, end-2*day-day/2
	p := &listPlatform{t: t}
	begin := orderFrom - reconcileOverlap.Milliseconds()
	for u := begin; u < end; u += day / 2 {
		p.orders = append(p.orders, u)
	}
	p.orders = append(p.orders, begin+7*day, begin-1, end) // a window boundary; the range's ends
	rBegin := refundFrom - reconcileOverlap.Milliseconds()
	for u := rBegin; u < end; u += day / 4 {
		p.refunds = append(p.refunds, u)
	}
	p.refunds = append(p.refunds, rBegin+day, rBegin+2*day)

	r, err := New(ctx, Config{Log: l, Shops: oneShop{"shop1"}, Tokens: p, Caller: p, AppKey: "ks1",
		Lag: lag, Now: func() time.Time { return now }, ReplicaID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for kind, from := range map[string]int64{"order": orderFrom, "refund": refundFrom} {
		if _, err := r.kv.Put(ctx, cursorKey("shop1", kind), []byte(strconv.FormatInt(from, 10))); err != nil {
			t.Fatal(err)
		}
	}
	st, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inRange := func(times []int64, b int64) (n int) {
		for _, u := range times {
			if u >= b && u < end {
				n++
			}
		}
		return n
	}
	want := inRange(p.orders, begin) + inRange(p.refunds, rBegin)
	if st.Shops != 1 || st.Seen != want || st.Published != want || st.Covered != 0 {
		t.Fatalf("stats %+v, want %d seen and published once each", st, want)
	}
	for kind := range map[string]bool{"order": true, "refund": true} {
		e, err := r.kv.Get(ctx, cursorKey("shop1", kind))
		if err != nil || string(e.Value()) != strconv.FormatInt(end, 10) {
			t.Fatalf("%s cursor %s, %v; want %d", kind, e.Value(), err, end)
		}
	}
	lastBegin := map[string]int64{}
	for i, c := range p.calls {
		m := p.methods[i]
		b, e := int64(c["beginTime"].(float64)), int64(c["endTime"].(float64))
		window := 7 * day
		if m == "open.seller.order.refund.pcursor.list" {
			window = day
		}
		if c["sort"].(float64) != 2 || c["queryType"].(float64) != 2 || e-b > window || b < lastBegin[m] {
			t.Fatalf("call %d %s %v: want oldest first by update time, windows of at most %d ms in order", i, m, c, window)
		}
		lastBegin[m] = b
	}
	// The synthesized messages carry the change's own id and time, in the
	// form of a push of that change.
	for _, id := range []string{
		fmt.Sprintf("rc_order_1_30_%d", p.orders[0]),
		fmt.Sprintf("rc_refund_%d_10_%d", len(p.refunds), p.refunds[len(p.refunds)-1]),
	} {
		if _, err := l.Get(ctx, id); err != nil {
			t.Errorf("message %s: %v", id, err)
		}
	}
	at := p.orders[0]
	m, err := l.Get(ctx, fmt.Sprintf("rc_order_1_30_%d", at))
	if err != nil {
		t.Fatal(err)
	}
	paid, ok := m.Payload.(*message.OrderStatus)
	if !m.Reconciled || m.Event != message.EventOrderPaid || m.BizID != 1 || m.UserID != 77 || m.OpenID != "shop1" ||
		m.AppKey != "ks1" || m.CreateTime.UnixMilli() != at || !ok || paid.Oid != 1 || paid.Status != 30 ||
		m.Info != fmt.Sprintf(`{"oid":1,"sellerId":77,"status":30,"updateTime":%d}`, at) {
		t.Fatalf("synthesized order message %+v %+v", m, m.Payload)
	}
}

// shopPlatform answers open.order.cursor.list with one paid order per
// shop: order n of the n-th shop of its list, updated at at.
type shopPlatform struct {
	shops []string
	at    int64
}

func (p *shopPlatform) Shop(context.Context, string) (platform.TokenSource, error) {
	return platform.TokenSourceFunc(func(context.Context) (string, error) { return "token", nil }), nil
}

func (p *shopPlatform) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	data := `{"cursor":"nomore","orderList":[]}`
	if i := slices.Index(p.shops, r.OpenID); i >= 0 {
		data = fmt.Sprintf(`{"cursor":"nomore","orderList":[{"orderBaseInfo":{"oid":%d,"status":30,"updateTime":%d,"payTime":%d,"sellerId":77}}]}`, i+1, p.at, p.at)
	}
	return &platform.Response{Data: json.RawMessage(data), RequestID: "r"}, nil
}

type shopList []store.Authorization

func (s shopList) ListMetadata(context.Context) ([]store.Authorization, error) { return s, nil }

// With several apps, a synthesized message carries the app of its shop's
// authorization (a record without one: Config.AppKey), so consumers and
// webhooks route it as they route the app's pushes; a shop of an app the
// gateway no longer serves is not polled.
func TestReconciler_MessagesCarryTheShopsApp(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	ctx := msgtest.Ctx(t)
	now := time.UnixMilli(100 * 24 * int64(time.Hour/time.Millisecond))
	shops := shopList{
		{OpenID: "shopA", AppKey: "ksA", Status: store.StatusActive, Scopes: []string{"merchant_order"}},
		{OpenID: "shopB", AppKey: "ksB", Status: store.StatusRefreshFailed, Scopes: []string{"merchant_order"}},
		{OpenID: "shopOld", Status: store.StatusActive, Scopes: []string{"merchant_order"}},
		{OpenID: "shopGone", AppKey: "ksGone", Status: store.StatusActive, Scopes: []string{"merchant_order"}},
	}
	p := &shopPlatform{shops: []string{"shopA", "shopB", "shopOld", "shopGone"}, at: now.Add(-time.Hour).UnixMilli()}
	r, err := New(ctx, Config{Log: l, Shops: shops, Tokens: p, Caller: p, AppKey: "ksA", Apps: []string{"ksA", "ksB"},
		Now: func() time.Time { return now }, ReplicaID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shops {
		if _, err := r.kv.Put(ctx, cursorKey(s.OpenID, "order"), []byte(strconv.FormatInt(now.Add(-2*time.Hour).UnixMilli(), 10))); err != nil {
			t.Fatal(err)
		}
	}
	st, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Shops != 3 || st.Published != 3 {
		t.Fatalf("stats %+v: want the three shops of served apps polled, one message each", st)
	}
	for i, want := range []string{"ksA", "ksB", "ksA", ""} {
		id := fmt.Sprintf("rc_order_%d_30_%d", i+1, p.at)
		m, err := l.Get(ctx, id)
		if want == "" {
			if err == nil {
				t.Fatalf("%s: a shop of an app the gateway does not serve was polled: %+v", id, m)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if m.OpenID != p.shops[i] || m.AppKey != want {
			t.Fatalf("%s: open_id %q app %q, want %q %q", id, m.OpenID, m.AppKey, p.shops[i], want)
		}
	}
}
