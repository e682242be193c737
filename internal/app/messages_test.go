package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// startMessageGateway runs a sandbox-mode gateway with message settings
// changed by edit.
func startMessageGateway(t *testing.T, edit func(*config.Config)) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	cfg.Message.ReconcileInterval = 0
	if edit != nil {
		edit(&cfg)
	}
	return startGatewayWith(t, cfg, Options{})
}

// grpcSub is one Subscribe stream.
type grpcSub struct {
	name   string
	stream grpc.BidiStreamingClient[gatewayv1.SubscribeRequest, gatewayv1.SubscribeResponse]
	ch     chan *gatewayv1.Delivery
	mu     sync.Mutex // serializes Send
}

func subscribeGRPC(t *testing.T, g *gateway, name, group string, opts *gatewayv1.ConsumerGroupOptions, maxInFlight int32) *grpcSub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := gatewayv1.NewMessageServiceClient(g.conn).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Open{Open: &gatewayv1.SubscribeOpen{Group: group, GroupOptions: opts, MaxInFlight: maxInFlight}}}); err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetSubscribed().GetGroup() != group {
		t.Fatalf("subscribe %s: %v %v", name, first, err)
	}
	s := &grpcSub{name: name, stream: stream, ch: make(chan *gatewayv1.Delivery, 100000)}
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				close(s.ch)
				return
			}
			if d := r.GetDelivery(); d != nil {
				s.ch <- d
			}
		}
	}()
	return s
}

func (s *grpcSub) ack(t *testing.T, kind gatewayv1.AckKind, ids ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Ack{Ack: &gatewayv1.Acknowledgement{DeliveryIds: ids, Kind: kind}}}); err != nil {
		t.Fatal(err)
	}
}

func (s *grpcSub) next(t *testing.T, within time.Duration) *gatewayv1.Delivery {
	t.Helper()
	select {
	case d, ok := <-s.ch:
		if !ok {
			t.Fatalf("%s: stream ended", s.name)
		}
		return d
	case <-time.After(within):
		t.Fatalf("%s: no delivery within %s", s.name, within)
		return nil
	}
}

// sandboxPost calls the sandbox admin API.
func sandboxPost(t *testing.T, g *gateway, path string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(g.info.SandboxURL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("sandbox %s: %d %s", path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("sandbox %s: %v: %s", path, err, b)
		}
	}
}

type createdOrder struct {
	Base struct {
		Oid        int64 `json:"oid"`
		CreateTime int64 `json:"createTime"`
	} `json:"orderBaseInfo"`
}

func createOrders(t *testing.T, g *gateway, n, status int) []createdOrder {
	t.Helper()
	out := make([]createdOrder, n)
	for i := range out {
		sandboxPost(t, g, "/sandbox/v1/orders", map[string]any{"openId": g.info.SandboxOpenID, "status": status}, &out[i])
	}
	return out
}

func settle(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sb.WaitPushes(ctx); err != nil {
		t.Fatal(err)
	}
}

// Sandbox pusher → gateway → two subscribers of one group, with 20% of the
// pushes duplicated: every pushed event reaches exactly one subscriber,
// once; another group gets its own copy.
func TestMessages_PusherToOneGroupExactlyOnce(t *testing.T) {
	g := startMessageGateway(t, nil)
	sb := g.info.Sandbox
	opts := &gatewayv1.ConsumerGroupOptions{OpenIds: []string{g.info.SandboxOpenID}}
	a := subscribeGRPC(t, g, "a", "fulfilment", opts, 20)
	b := subscribeGRPC(t, g, "b", "fulfilment", opts, 20)
	audit := subscribeGRPC(t, g, "audit", "audit", &gatewayv1.ConsumerGroupOptions{EventTypes: []string{message.EventOrderPaid}}, 1000)
	dup := 0.2
	if _, err := sb.SetPusher(sandbox.PusherUpdate{DuplicateRate: &dup}); err != nil {
		t.Fatal(err)
	}
	before := len(sb.Pushes())
	createOrders(t, g, 100, 30) // addOrder + paySuccess each
	settle(t, sb)

	want := map[string]string{} // eventId → event
	duplicated := 0
	for _, p := range sb.Pushes()[before:] {
		if p.Status != sandbox.PushDelivered {
			t.Fatalf("push %s not delivered: %+v", p.EventID, p)
		}
		want[p.EventID] = p.Event
		if p.Duplicate {
			duplicated++
			if n := len(p.Attempts); n != 2 || !p.Attempts[1].OK {
				t.Fatalf("duplicate of %s not acknowledged: %+v", p.EventID, p.Attempts)
			}
		}
	}
	if len(want) != 200 || duplicated == 0 {
		t.Fatalf("sandbox pushed %d events, %d duplicated; want 200 with some duplicated", len(want), duplicated)
	}
	t.Logf("sandbox pushed %d events, %d of them twice", len(want), duplicated)

	got := map[string]string{}
	per := map[string]int{}
	deadline := time.After(60 * time.Second)
	for len(got) < len(want) {
		var d *gatewayv1.Delivery
		var s *grpcSub
		select {
		case d = <-a.ch:
			s = a
		case d = <-b.ch:
			s = b
		case <-deadline:
			t.Fatalf("only %d of %d events delivered", len(got), len(want))
		}
		id := d.GetMessage().GetEventId()
		if _, ok := want[id]; !ok {
			t.Fatalf("delivered an event the sandbox did not push: %s", id)
		}
		if prev, ok := got[id]; ok {
			t.Fatalf("event %s delivered twice in one group (%s, then %s)", id, prev, s.name)
		}
		got[id], per[s.name] = s.name, per[s.name]+1
		s.ack(t, gatewayv1.AckKind_ACK_KIND_ACK, d.GetDeliveryId())
	}
	if per["a"] == 0 || per["b"] == 0 {
		t.Fatalf("one subscriber got everything: %v", per)
	}
	t.Logf("group split: %v", per)
	// Nothing more arrives (no duplicate slipped through later).
	select {
	case d := <-a.ch:
		t.Fatalf("extra delivery %s", d.GetMessage().GetEventId())
	case d := <-b.ch:
		t.Fatalf("extra delivery %s", d.GetMessage().GetEventId())
	case <-time.After(500 * time.Millisecond):
	}
	// The other group received every paid event once too.
	paid := map[string]bool{}
	for len(paid) < 100 {
		d := audit.next(t, 30*time.Second)
		if paid[d.GetMessage().GetEventId()] || d.GetMessage().GetEvent() != message.EventOrderPaid {
			t.Fatalf("audit: %v", d.GetMessage())
		}
		paid[d.GetMessage().GetEventId()] = true
		if d.GetMessage().GetOrderStatus().GetStatus() != 30 {
			t.Fatalf("typed payload: %v", d.GetMessage())
		}
	}
	if st := sb.Pusher(); st.HeartbeatsOK == 0 {
		t.Fatalf("no heartbeat acknowledged: %+v", st)
	}
}

// With the sandbox dropping 5% of pushes, reconciliation publishes the
// missing changes (reconciled=true) and nothing twice.
func TestMessages_ReconciliationRecoversDroppedPushes(t *testing.T) {
	g := startMessageGateway(t, func(c *config.Config) {
		c.Message.ReconcileInterval = time.Second
		c.Message.ReconcileLag = 2 * time.Second
	})
	sb := g.info.Sandbox
	sub := subscribeGRPC(t, g, "recon", "recon", &gatewayv1.ConsumerGroupOptions{EventTypes: []string{message.EventOrderCreated}, OpenIds: []string{g.info.SandboxOpenID}}, 1000)
	// The reconciler's first pass for a shop only starts its cursor; wait
	// for it, so the orders below are within its view.
	waitReconcileCursor(t, g, "cursor."+g.info.SandboxOpenID+".order")
	drop := 0.05
	if _, err := sb.SetPusher(sandbox.PusherUpdate{DropRate: &drop}); err != nil {
		t.Fatal(err)
	}
	before := len(sb.Pushes())
	started := time.Now()
	orders := createOrders(t, g, 100, 10) // one addOrder each
	settle(t, sb)
	dropped := map[int64]bool{}
	for _, p := range sb.Pushes()[before:] {
		if p.Status == sandbox.PushDropped {
			dropped[p.BizID] = true
		}
	}
	if len(dropped) == 0 {
		t.Fatal("the sandbox dropped nothing; the test proves nothing")
	}
	created := map[int64]int64{}
	for _, o := range orders {
		created[o.Base.Oid] = o.Base.CreateTime
	}
	got := map[int64]*gatewayv1.Message{}
	var lastReconciled time.Duration
	for len(got) < len(orders) {
		d := sub.next(t, 60*time.Second)
		m := d.GetMessage()
		oid := m.GetOrderCreated().GetOid()
		if _, ok := created[oid]; !ok {
			t.Fatalf("unexpected order %d", oid)
		}
		if got[oid] != nil {
			t.Fatalf("order %d delivered twice (%s, %s)", oid, got[oid].GetEventId(), m.GetEventId())
		}
		got[oid] = m
		if m.GetReconciled() {
			lastReconciled = time.Since(started)
			want := fmt.Sprintf("rc_order_%d_10_%d", oid, created[oid])
			if m.GetEventId() != want || m.GetOrderCreated().GetCreateTime().AsTime().UnixMilli() != created[oid] {
				t.Fatalf("reconciled message %v, want event id %s", m, want)
			}
		}
		sub.ack(t, gatewayv1.AckKind_ACK_KIND_ACK, d.GetDeliveryId())
	}
	for oid := range dropped {
		if !got[oid].GetReconciled() {
			t.Fatalf("dropped push of order %d arrived but not as reconciled: %v", oid, got[oid])
		}
	}
	t.Logf("%d of %d pushes dropped, all recovered by reconciliation (last %s after the orders were created; interval 1s, lag 2s)",
		len(dropped), len(orders), lastReconciled.Round(time.Millisecond))

	t.Run("refund_never_pushed", func(t *testing.T) {
		refunds := subscribeGRPC(t, g, "refunds", "recon-refunds", &gatewayv1.ConsumerGroupOptions{
			EventTypes: []string{message.EventRefundCreated, message.EventRefundUpdated}}, 100)
		all := 1.0
		if _, err := sb.SetPusher(sandbox.PusherUpdate{DropRate: &all}); err != nil {
			t.Fatal(err)
		}
		paid := createOrders(t, g, 1, 30)[0]
		var rf struct {
			RefundID   int64 `json:"refundId"`
			CreateTime int64 `json:"createTime"`
			Status     int32 `json:"status"`
		}
		sandboxPost(t, g, "/sandbox/v1/refunds", map[string]any{"orderId": paid.Base.Oid}, &rf)
		d := refunds.next(t, 60*time.Second)
		m := d.GetMessage()
		if !m.GetReconciled() || m.GetEvent() != message.EventRefundCreated || m.GetRefund().GetRefundId() != rf.RefundID ||
			m.GetRefund().GetOrderId() != paid.Base.Oid || m.GetRefund().GetStatus() != rf.Status ||
			m.GetEventId() != fmt.Sprintf("rc_refund_%d_%d_%d", rf.RefundID, rf.Status, rf.CreateTime) {
			t.Fatalf("reconciled refund %v, want refund %+v", m, rf)
		}
	})
}

// REST pull/ack, redelivery after the ack timeout, Get/List, the W3C trace
// link from delivery to intake, and refused bodies through the real mux.
func TestMessages_RESTPullAckTraceAndRefusals(t *testing.T) {
	g := startMessageGateway(t, nil)
	sb := g.info.Sandbox
	post := func(t *testing.T, path string, body any) (int, map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		return g.rest(t, http.MethodPost, path, string(raw))
	}
	groupOptions := map[string]any{"open_ids": []string{g.info.SandboxOpenID}, "event_types": []string{message.EventOrderCreated}, "ack_timeout": "1s"}
	if code, body := post(t, "/v1/messages:pull", map[string]any{"group": "rest", "group_options": groupOptions}); code != http.StatusOK || len(anySlice(body["deliveries"])) != 0 {
		t.Fatalf("first pull: %d %v", code, body)
	}
	o := createOrders(t, g, 1, 10)[0]
	settle(t, sb)

	pull := func(t *testing.T) map[string]any {
		t.Helper()
		code, body := post(t, "/v1/messages:pull", map[string]any{"group": "rest", "max_messages": 10, "wait": "10s"})
		ds := anySlice(body["deliveries"])
		if code != http.StatusOK || len(ds) != 1 {
			t.Fatalf("pull: %d %v", code, body)
		}
		return ds[0].(map[string]any)
	}
	d1 := pull(t)
	m1 := d1["message"].(map[string]any)
	eventID := m1["event_id"].(string)
	if d1["delivery_count"] != float64(1) || m1["order_created"].(map[string]any)["oid"] != fmt.Sprint(o.Base.Oid) {
		t.Fatalf("delivery %v", d1)
	}
	// Not acknowledged: delivered again after the 1s ack timeout.
	d2 := pull(t)
	if d2["message"].(map[string]any)["event_id"] != eventID || d2["delivery_count"] != float64(2) {
		t.Fatalf("redelivery %v", d2)
	}
	code, body := post(t, "/v1/messages:ack", map[string]any{"group": "rest", "ack": map[string]any{"delivery_ids": []string{d2["delivery_id"].(string)}}})
	if code != http.StatusOK || body["acknowledged"] != float64(1) {
		t.Fatalf("ack: %d %v", code, body)
	}
	if code, body := post(t, "/v1/messages:pull", map[string]any{"group": "rest", "wait": "1.5s"}); code != http.StatusOK || len(anySlice(body["deliveries"])) != 0 {
		t.Fatalf("pull after ack: %d %v", code, body)
	}

	t.Run("get_and_list", func(t *testing.T) {
		code, body := g.rest(t, http.MethodGet, "/v1/messages/"+eventID, "")
		if code != http.StatusOK || body["message"].(map[string]any)["event"] != message.EventOrderCreated {
			t.Fatalf("get: %d %v", code, body)
		}
		code, body = g.rest(t, http.MethodGet, "/v1/messages?open_ids="+g.info.SandboxOpenID+"&event_types="+message.EventOrderCreated, "")
		if code != http.StatusOK || len(anySlice(body["messages"])) != 1 {
			t.Fatalf("list: %d %v", code, body)
		}
		if code, _ := g.rest(t, http.MethodGet, "/v1/messages/no-such-event", ""); code != http.StatusNotFound {
			t.Fatalf("get unknown: %d", code)
		}
	})
	t.Run("replay_over_rest", func(t *testing.T) {
		from := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
		code, body := post(t, "/v1/messages:replay", map[string]any{"group": "rest", "start_time": from})
		if code != http.StatusOK || body["replayed"] != "1" {
			t.Fatalf("replay: %d %v", code, body)
		}
		d := pull(t)
		if m := d["message"].(map[string]any); m["event_id"] != eventID || m["replayed"] != true {
			t.Fatalf("replayed delivery %v", d)
		}
		if code, _ := post(t, "/v1/messages:ack", map[string]any{"group": "rest", "ack": map[string]any{"delivery_ids": []string{d["delivery_id"].(string)}}}); code != http.StatusOK {
			t.Fatalf("ack replay: %d", code)
		}
		if code, _ := post(t, "/v1/messages:replay", map[string]any{"group": "nobody", "start_time": from}); code != http.StatusNotFound {
			t.Fatalf("replay to unknown group: %d", code)
		}
	})
	t.Run("trace_links_delivery_to_intake", func(t *testing.T) {
		var publish, deliver []spanRef
		for _, s := range g.spans.Ended() {
			switch s.Name() {
			case "kwaishop.msg publish":
				publish = append(publish, spanRef{s.SpanContext().TraceID().String(), s.SpanContext().SpanID().String(), s.Parent().SpanID().String()})
			case "kwaishop.msg deliver":
				for _, l := range s.Links() {
					deliver = append(deliver, spanRef{l.SpanContext.TraceID().String(), l.SpanContext.SpanID().String(), ""})
				}
			}
		}
		intake := map[string]bool{}
		for _, s := range g.spans.Ended() {
			if s.Name() == "POST "+PushPath {
				intake[s.SpanContext().SpanID().String()] = true
			}
		}
		linked := 0
		for _, p := range publish {
			if !intake[p.parent] {
				continue // not a pushed message
			}
			for _, d := range deliver {
				if d.traceID == p.traceID && d.spanID == p.spanID {
					linked++
				}
			}
		}
		if linked == 0 {
			t.Fatalf("no delivery span links to an intake span (publish %d, deliver links %d, intake %d)", len(publish), len(deliver), len(intake))
		}
	})
	t.Run("bad_requests", func(t *testing.T) {
		code, body := post(t, "/v1/messages:pull", map[string]any{"group": "no spaces!"})
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "field:group") {
			t.Fatalf("bad group: %d %v", code, body)
		}
		code, _ = post(t, "/v1/messages:ack", map[string]any{"group": "rest", "ack": map[string]any{"delivery_ids": []string{"Zm9yZ2Vk"}}})
		if code != http.StatusBadRequest {
			t.Fatalf("forged delivery id: %d", code)
		}
		code, _ = post(t, "/v1/messages:pull", map[string]any{"group": "rest", "group_options": map[string]any{"ack_timeout": "5s"}})
		if code != http.StatusBadRequest && code != http.StatusPreconditionFailed {
			t.Fatalf("conflicting group settings: %d", code)
		}
	})
	t.Run("refused_bodies_leave_stream_untouched", func(t *testing.T) {
		count := func() int {
			_, body := g.rest(t, http.MethodGet, "/v1/messages?page_size=500", "")
			return len(anySlice(body["messages"]))
		}
		n := count()
		wrongKey, _ := message.NewKey("", "MDEyMzQ1Njc4OWFiY2RlZg==")
		good, _ := message.NewKey("", sb.Config().MessageKey)
		valid := good.Encrypt([]byte(`{"eventId":"x1","openId":"o","event":"kwaishop_order_addOrder","info":"{}"}`))
		for name, body := range map[string]string{
			"undecryptable": "definitely not a push",
			"truncated":     valid[:len(valid)-8],
			"oversized":     strings.Repeat("QUJD", 300<<10/4), // 300 KiB: over the intake cap, under the REST cap
			"wrong_key":     wrongKey.Encrypt([]byte(`{"eventId":"x2","openId":"o","event":"kwaishop_order_addOrder","info":"{}"}`)),
		} {
			resp, err := http.Post("http://"+g.info.HTTPAddr+PushPath, "text/plain;charset=utf-8", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), `"result":1`) {
				t.Fatalf("%s: %d %s", name, resp.StatusCode, b)
			}
		}
		if m := count(); m != n {
			t.Fatalf("stream changed: %d → %d messages", n, m)
		}
		if strings.Contains(g.logs.String(), "definitely not a push") {
			t.Fatal("a refused body reached the log")
		}
	})
}

type spanRef struct{ traceID, spanID, parent string }

// waitReconcileCursor waits until the reconciler stored key in its bucket.
func waitReconcileCursor(t *testing.T, g *gateway, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Config{NATSURL: g.info.NATSURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		kv, err := st.JetStream().KeyValue(ctx, "kwaishop_msg_reconcile")
		if err == nil {
			if _, err = kv.Get(ctx, key); err == nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("reconciler cursor %s not set: %v", key, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Dead letters over gRPC: a message NACKed max_deliveries times is listed
// and can be requeued.
func TestMessages_DeadLettersOverGRPC(t *testing.T) {
	g := startMessageGateway(t, nil)
	client := gatewayv1.NewMessageServiceClient(g.conn)
	sub := subscribeGRPC(t, g, "dl", "fragile", &gatewayv1.ConsumerGroupOptions{
		MaxDeliveries: 2, AckTimeout: durationpb.New(time.Minute), OpenIds: []string{g.info.SandboxOpenID},
	}, 10)
	createOrders(t, g, 1, 10)
	settle(t, g.info.Sandbox)
	for want := uint32(1); want <= 2; want++ {
		d := sub.next(t, 20*time.Second)
		if d.GetDeliveryCount() != want {
			t.Fatalf("delivery count %d, want %d", d.GetDeliveryCount(), want)
		}
		sub.ack(t, gatewayv1.AckKind_ACK_KIND_NACK, d.GetDeliveryId())
	}
	var dl *gatewayv1.DeadLetter
	for deadline := time.Now().Add(30 * time.Second); dl == nil; time.Sleep(100 * time.Millisecond) {
		resp, err := client.ListDeadLetters(context.Background(), &gatewayv1.ListDeadLettersRequest{Group: "fragile"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetDeadLetters()) > 0 {
			dl = resp.GetDeadLetters()[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
	}
	if dl.GetDeliveries() != 2 || dl.GetReason() != delivery.DeadMaxDeliveries || dl.GetMessage().GetEvent() != message.EventOrderCreated {
		t.Fatalf("dead letter %v", dl)
	}
	// The same over REST, and the requeue too.
	code, body := g.rest(t, http.MethodGet, "/v1/dead-letters?group=fragile", "")
	if code != http.StatusOK || len(anySlice(body["dead_letters"])) != 1 {
		t.Fatalf("REST dead letters: %d %v", code, body)
	}
	if code, body := g.rest(t, http.MethodPost, fmt.Sprintf("/v1/dead-letters/%d:requeue", dl.GetId()), ""); code != http.StatusOK || body["group"] != "fragile" {
		t.Fatalf("REST requeue: %d %v", code, body)
	}
	d := sub.next(t, 20*time.Second)
	if !d.GetMessage().GetReplayed() || d.GetMessage().GetEventId() != dl.GetMessage().GetEventId() {
		t.Fatalf("requeued delivery %v", d)
	}
	sub.ack(t, gatewayv1.AckKind_ACK_KIND_ACK, d.GetDeliveryId())
}
