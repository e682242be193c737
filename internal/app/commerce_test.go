package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// End-to-end tests of the typed commerce services: the whole gateway in
// sandbox mode, every RPC over gRPC and over REST.

type commerceClients struct {
	order     gatewayv1.OrderServiceClient
	item      gatewayv1.ItemServiceClient
	refund    gatewayv1.RefundServiceClient
	logistics gatewayv1.LogisticsServiceClient
	shop      gatewayv1.ShopServiceClient
	platform  gatewayv1.PlatformServiceClient
	security  gatewayv1.SecurityServiceClient
}

func newCommerceClients(g *gateway) commerceClients {
	return commerceClients{
		order:     gatewayv1.NewOrderServiceClient(g.conn),
		item:      gatewayv1.NewItemServiceClient(g.conn),
		refund:    gatewayv1.NewRefundServiceClient(g.conn),
		logistics: gatewayv1.NewLogisticsServiceClient(g.conn),
		shop:      gatewayv1.NewShopServiceClient(g.conn),
		platform:  gatewayv1.NewPlatformServiceClient(g.conn),
		security:  gatewayv1.NewSecurityServiceClient(g.conn),
	}
}

// restCall sends a REST request (body: nil, a string or a value encoded as
// JSON; a proto.Message is encoded with protojson) and decodes a 200 answer
// into out. It returns the status, the raw body and the headers.
func (g *gateway) restCall(t testing.TB, method, path string, body any, out proto.Message) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case proto.Message:
		raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := protojson.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw, resp.Header
}

// restOK is restCall that fails the test on a non-200 answer.
func (g *gateway) restOK(t testing.TB, method, path string, body any, out proto.Message) http.Header {
	t.Helper()
	code, raw, h := g.restCall(t, method, path, body, out)
	if code != http.StatusOK {
		t.Fatalf("%s %s = %d: %s", method, path, code, raw)
	}
	return h
}

// restError is the REST error body (docs/rest.md): code is a google.rpc.Code name.
type restError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

func parseRESTError(t testing.TB, raw []byte) (restError, *errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	var e restError
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error body not JSON: %s", raw)
	}
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range e.Details {
		var typ struct {
			Type string `json:"@type"`
		}
		_ = json.Unmarshal(d, &typ)
		switch {
		case strings.HasSuffix(typ.Type, "google.rpc.ErrorInfo"):
			info = &errdetails.ErrorInfo{}
			if err := protojson.Unmarshal(stripType(d), info); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(typ.Type, "google.rpc.BadRequest"):
			br = &errdetails.BadRequest{}
			if err := protojson.Unmarshal(stripType(d), br); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e, info, br
}

func stripType(d json.RawMessage) []byte {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(d, &m)
	delete(m, "@type")
	b, _ := json.Marshal(m)
	return b
}

func violates(br *errdetails.BadRequest, field string) bool {
	for _, v := range br.GetFieldViolations() {
		if v.GetField() == field {
			return true
		}
	}
	return false
}

// sandboxAdmin calls the embedded sandbox's admin API.
func (g *gateway) sandboxAdmin(t testing.TB, method, path string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, g.info.SandboxURL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("sandbox %s %s = %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// calls returns the sandbox's call count of an API.
func (g *gateway) calls(t testing.TB, method string) int {
	t.Helper()
	var c struct {
		Calls map[string]int `json:"calls"`
	}
	g.sandboxAdmin(t, http.MethodGet, "/sandbox/v1/counters", nil, &c)
	return c.Calls[method]
}

// newOrder creates an order in the sandbox shop (status 10 or 30).
func (g *gateway) newOrder(t testing.TB, status int) int64 {
	t.Helper()
	var o struct {
		Base struct {
			Oid json.Number `json:"oid"`
		} `json:"orderBaseInfo"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/orders", map[string]any{"openId": g.info.SandboxOpenID, "status": status}, &o)
	id, err := o.Base.Oid.Int64()
	if err != nil || id == 0 {
		t.Fatalf("sandbox order id %q: %v", o.Base.Oid, err)
	}
	return id
}

// newRefund opens an after-sale request on an order (way 10 refund only,
// 1 return and refund).
func (g *gateway) newRefund(t testing.TB, orderID int64, way int) int64 {
	t.Helper()
	var r struct {
		RefundID json.Number `json:"refundId"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/refunds", map[string]any{"orderId": orderID, "handlingWay": way}, &r)
	id, err := r.RefundID.Int64()
	if err != nil || id == 0 {
		t.Fatalf("sandbox refund id %q: %v", r.RefundID, err)
	}
	return id
}

var reqSeq struct {
	sync.Mutex
	n int
}

// rid is a fresh request_id.
func rid(t testing.TB) string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return fmt.Sprintf("req-%d-%d", time.Now().UnixNano(), reqSeq.n)
}

func shopPath(openID, rest string) string { return "/v1/shops/" + openID + rest }

// statusOf asserts a gRPC error's code and returns its ErrorInfo and
// BadRequest.
func statusOf(t testing.TB, err error, want codes.Code) (*errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != want {
		t.Fatalf("gRPC code %s (%s), want %s", st.Code(), st.Message(), want)
	}
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		if b, ok := d.(*errdetails.BadRequest); ok {
			br = b
		}
	}
	return errorInfo(st), br
}

func TestCommerce_EndToEnd(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli()) // whole ms: both sides use the same range

	t.Run("list_orders_30_days", func(t *testing.T) {
		start, end := now.Add(-30*24*time.Hour), now
		want := directOrders(t, c.platform, openID, start, end)
		if len(want) <= 20 {
			t.Fatalf("the sandbox shop has %d orders in 30 days; the test needs more than one page", len(want))
		}
		t.Logf("%d orders in the 30 days", len(want))
		for _, size := range []int32{20, 7} {
			var got []int64
			pages, token := 0, ""
			for {
				resp, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{
					OpenId: openID, StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), PageSize: size, PageToken: token,
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.GetOrders()) > int(size) {
					t.Fatalf("page of %d orders, page_size %d", len(resp.GetOrders()), size)
				}
				for _, o := range resp.GetOrders() {
					got = append(got, o.GetOrderId())
				}
				pages++
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("page_size %d: gateway listed %d orders, the platform has %d in the range:\n%v\n%v", size, len(got), len(want), got, want)
			}
			if pages < len(want)/int(size) {
				t.Fatalf("page_size %d: %d pages for %d orders", size, pages, len(want))
			}
		}

		// REST, RFC 3339 query parameters.
		var got []int64
		token := ""
		for {
			q := url.Values{"start_time": {start.UTC().Format(time.RFC3339Nano)}, "end_time": {end.UTC().Format(time.RFC3339Nano)}, "page_size": {"20"}}
			if token != "" {
				q.Set("page_token", token)
			}
			var resp gatewayv1.ListOrdersResponse
			g.restOK(t, http.MethodGet, shopPath(openID, "/orders?"+q.Encode()), nil, &resp)
			for _, o := range resp.GetOrders() {
				got = append(got, o.GetOrderId())
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("REST listed %d orders, want %d", len(got), len(want))
		}
	})

	t.Run("list_orders_status_filter_and_token_binding", func(t *testing.T) {
		start := now.Add(-30 * 24 * time.Hour)
		resp, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{
			OpenId: openID, StartTime: timestamppb.New(start), EndTime: timestamppb.New(now), Status: gatewayv1.OrderStatus_ORDER_STATUS_SUCCEEDED, PageSize: 2,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetOrders()) == 0 || resp.GetNextPageToken() == "" {
			t.Fatalf("want a full first page of succeeded orders: %d, token %q", len(resp.GetOrders()), resp.GetNextPageToken())
		}
		for _, o := range resp.GetOrders() {
			if o.GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_SUCCEEDED {
				t.Fatalf("order %d has status %s", o.GetOrderId(), o.GetStatus())
			}
		}
		// The token is bound to the filters.
		_, err = c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{
			OpenId: openID, StartTime: timestamppb.New(start), EndTime: timestamppb.New(now), PageSize: 2, PageToken: resp.GetNextPageToken(),
		})
		if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "page_token") {
			t.Fatalf("no page_token violation: %v", br)
		}
		q := url.Values{"start_time": {start.UTC().Format(time.RFC3339Nano)}, "end_time": {now.UTC().Format(time.RFC3339Nano)}, "page_token": {resp.GetNextPageToken()}}
		code, raw, _ := g.restCall(t, http.MethodGet, shopPath(openID, "/orders?"+q.Encode()), nil, nil)
		if _, _, br := parseRESTError(t, raw); code != http.StatusBadRequest || !violates(br, "page_token") {
			t.Fatalf("REST reused token = %d %s", code, raw)
		}
	})

	t.Run("list_refunds_3_days", func(t *testing.T) {
		// Find the newest seeded after-sale record with direct one-day calls,
		// then list the 3 days up to it.
		all := directRefunds(t, c.platform, openID, now.Add(-30*24*time.Hour), now)
		if len(all) == 0 {
			t.Fatal("the sandbox shop has no after-sale records")
		}
		newest := slices.MaxFunc(all, func(a, b refundAt) int { return int(a.t - b.t) })
		end := time.UnixMilli(newest.t + 1)
		start := end.Add(-3 * 24 * time.Hour)
		want := directRefunds(t, c.platform, openID, start, end)
		var wantIDs []int64
		for _, r := range want {
			wantIDs = append(wantIDs, r.id)
		}
		t.Logf("%d after-sale records in the 3 days (%d in 30 days)", len(wantIDs), len(all))
		for _, size := range []int32{20, 1} {
			var got []int64
			token := ""
			for {
				resp, err := c.refund.ListRefunds(ctx, &gatewayv1.ListRefundsRequest{
					OpenId: openID, StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), PageSize: size, PageToken: token,
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range resp.GetRefunds() {
					got = append(got, r.GetRefundId())
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if !slices.Equal(got, wantIDs) {
				t.Fatalf("page_size %d: gateway %v, platform %v", size, got, wantIDs)
			}
		}
		var got []int64
		token := ""
		for {
			q := url.Values{"start_time": {start.UTC().Format(time.RFC3339Nano)}, "end_time": {end.UTC().Format(time.RFC3339Nano)}, "page_size": {"1"}}
			if token != "" {
				q.Set("page_token", token)
			}
			var resp gatewayv1.ListRefundsResponse
			g.restOK(t, http.MethodGet, shopPath(openID, "/refunds?"+q.Encode()), nil, &resp)
			for _, r := range resp.GetRefunds() {
				got = append(got, r.GetRefundId())
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(got, wantIDs) {
			t.Fatalf("REST: %v, want %v", got, wantIDs)
		}
	})

	t.Run("get_order", func(t *testing.T) {
		id := g.newOrder(t, 30)
		resp, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
		if err != nil {
			t.Fatal(err)
		}
		o := resp.GetOrder()
		if o.GetOrderId() != id || o.GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_PAID || o.GetPayTime() == nil ||
			o.GetItem().GetItemId() == 0 || o.GetTotalFen() <= 0 || o.GetAddress().GetProvince() == "" {
			t.Fatalf("order = %v", o)
		}
		if !strings.Contains(o.GetRaw(), `"oid":`+strconv.FormatInt(id, 10)) {
			t.Fatalf("raw lacks the exact oid: %s", o.GetRaw())
		}
		var rest gatewayv1.GetOrderResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)), nil, &rest)
		if !proto.Equal(rest.GetOrder(), o) {
			t.Fatalf("REST order differs:\n%v\n%v", rest.GetOrder(), o)
		}
	})

	t.Run("ship_order_idempotent_grpc", func(t *testing.T) {
		id := g.newOrder(t, 30)
		before := g.calls(t, "open.seller.order.goods.deliver")
		req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF100000000001", RequestId: rid(t)}
		first, err := c.order.ShipOrder(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var hdr metadata.MD
		second, err := c.order.ShipOrder(ctx, req, grpc.Header(&hdr))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(first, second) || first.GetPlatformRequestId() == "" {
			t.Fatalf("retry answered %v, first %v", second, first)
		}
		if got := hdr.Get(service.ReplayHeader); len(got) != 1 || got[0] != "true" {
			t.Fatalf("replay header = %v", got)
		}
		if n := g.calls(t, "open.seller.order.goods.deliver") - before; n != 1 {
			t.Fatalf("the sandbox saw %d deliver calls, want 1", n)
		}
		// Same request_id, other arguments: refused, platform not called.
		other := proto.Clone(req).(*gatewayv1.ShipOrderRequest)
		other.ExpressNo = "SF100000000002"
		_, err = c.order.ShipOrder(ctx, other)
		if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "request_id") {
			t.Fatalf("no request_id violation: %v", br)
		}
		if n := g.calls(t, "open.seller.order.goods.deliver") - before; n != 1 {
			t.Fatalf("the sandbox saw %d deliver calls after the refused reuse, want 1", n)
		}
		o, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
		if err != nil {
			t.Fatal(err)
		}
		if o.GetOrder().GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_SHIPPED || len(o.GetOrder().GetLogistics()) != 1 ||
			o.GetOrder().GetLogistics()[0].GetExpressNo() != "SF100000000001" {
			t.Fatalf("after shipping: %v", o.GetOrder())
		}
	})

	t.Run("ship_order_idempotent_rest", func(t *testing.T) {
		id := g.newOrder(t, 30)
		before := g.calls(t, "open.seller.order.goods.deliver")
		body := map[string]any{"express_code": 9, "express_no": "ZTO2000000001", "request_id": rid(t)}
		path := shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":ship")
		var first, second gatewayv1.ShipOrderResponse
		g.restOK(t, http.MethodPost, path, body, &first)
		h := g.restOK(t, http.MethodPost, path, body, &second)
		if !proto.Equal(&first, &second) || first.GetOrderId() != id {
			t.Fatalf("REST retry answered %v, first %v", &second, &first)
		}
		if h.Get("X-Kwaishop-Idempotent-Replay") != "true" {
			t.Fatalf("REST replay header missing: %v", h)
		}
		if n := g.calls(t, "open.seller.order.goods.deliver") - before; n != 1 {
			t.Fatalf("the sandbox saw %d deliver calls, want 1", n)
		}
		body["express_no"] = "ZTO2000000002"
		code, raw, _ := g.restCall(t, http.MethodPost, path, body, nil)
		if _, _, br := parseRESTError(t, raw); code != http.StatusBadRequest || !violates(br, "request_id") {
			t.Fatalf("REST reuse with other arguments = %d %s", code, raw)
		}
	})

	t.Run("concurrent_duplicates_reach_the_platform_once", func(t *testing.T) {
		id := g.newOrder(t, 30)
		before := g.calls(t, "open.seller.order.note.add")
		req := &gatewayv1.AddOrderNoteRequest{OpenId: openID, OrderId: id, Note: "加急", Flag: 2, RequestId: rid(t)}
		const n = 8
		resps := make([]*gatewayv1.AddOrderNoteResponse, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resps[i], errs[i] = c.order.AddOrderNote(ctx, req)
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !proto.Equal(resps[i], resps[0]) {
				t.Fatalf("answers differ: %v vs %v", resps[i], resps[0])
			}
		}
		if got := g.calls(t, "open.seller.order.note.add") - before; got != 1 {
			t.Fatalf("the sandbox saw %d note calls, want 1", got)
		}
	})

	t.Run("write_outcomes_under_faults", func(t *testing.T) {
		fault := func(t *testing.T, f map[string]any) {
			t.Helper()
			g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/faults", f, nil)
			t.Cleanup(func() { g.sandboxAdmin(t, http.MethodDelete, "/sandbox/v1/faults", nil, nil) })
		}
		const deliver = "open.seller.order.goods.deliver"

		t.Run("refused_before_acting_is_released", func(t *testing.T) {
			// A quota refusal (1017) leaves the order untouched: the claim is
			// released and the same request_id ships on the retry.
			id := g.newOrder(t, 30)
			fault(t, map[string]any{"method": deliver, "count": 1, "kind": "result", "result": 1017})
			req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF7", RequestId: rid(t)}
			_, err := c.order.ShipOrder(ctx, req)
			statusOf(t, err, codes.ResourceExhausted)
			before := g.calls(t, deliver)
			if _, err := c.order.ShipOrder(ctx, req); err != nil {
				t.Fatalf("retry after a quota refusal: %v", err)
			}
			if g.calls(t, deliver)-before != 1 {
				t.Fatal("the retry did not reach the platform")
			}
		})

		t.Run("unknown_outcome_is_never_resent", func(t *testing.T) {
			// An HTTP 503 on a write: the platform may have acted. The client
			// does not retry it, and a retry with the same request_id gets the
			// first answer instead of a second delivery.
			id := g.newOrder(t, 30)
			fault(t, map[string]any{"method": deliver, "count": 1, "kind": "http5xx", "httpStatus": 503})
			before := g.calls(t, deliver)
			req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF8", RequestId: rid(t)}
			_, err := c.order.ShipOrder(ctx, req)
			statusOf(t, err, codes.Unavailable)
			_, err2 := c.order.ShipOrder(ctx, req)
			statusOf(t, err2, codes.Unavailable)
			if n := g.calls(t, deliver) - before; n != 1 {
				t.Fatalf("the platform saw %d deliver calls, want 1 (no automatic or replayed retry)", n)
			}
		})

		t.Run("caller_gone_in_flight", func(t *testing.T) {
			id := g.newOrder(t, 30)
			fault(t, map[string]any{"method": deliver, "count": 1, "kind": "delay", "delayMs": 3000})
			req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF9", RequestId: rid(t)}
			// The deadline leaves the gateway's QPS pacing room to send the
			// call (it keeps 250 ms of a deadline for the call itself).
			short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
			defer cancel()
			_, err := c.order.ShipOrder(short, req)
			statusOf(t, err, codes.DeadlineExceeded)
			// The first call's outcome is unknown: a retry is refused, not resent.
			var err2 error
			for range 100 { // the owner records the outcome once the delayed call returns
				if _, err2 = c.order.ShipOrder(ctx, req); status.Code(err2) == codes.Aborted {
					break
				}
			}
			statusOf(t, err2, codes.Aborted)
		})

		t.Run("duplicates_wait_for_the_first", func(t *testing.T) {
			// The first call is held 300 ms in the sandbox, so the duplicates
			// certainly arrive while it is pending and wait for its result.
			id := g.newOrder(t, 30)
			fault(t, map[string]any{"method": deliver, "count": 1, "kind": "delay", "delayMs": 300})
			before := g.calls(t, deliver)
			req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF10", RequestId: rid(t)}
			const n = 4
			resps := make([]*gatewayv1.ShipOrderResponse, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resps[i], errs[i] = c.order.ShipOrder(ctx, req)
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil || !proto.Equal(resps[i], resps[0]) {
					t.Fatalf("answer %d: %v %v (first %v)", i, resps[i], errs[i], resps[0])
				}
			}
			if got := g.calls(t, deliver) - before; got != 1 {
				t.Fatalf("the sandbox saw %d deliver calls, want 1", got)
			}
		})
	})

	t.Run("platform_business_error", func(t *testing.T) {
		id := g.newOrder(t, 10) // unpaid: cannot ship (result 11)
		req := &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF1", RequestId: rid(t)}
		_, err := c.order.ShipOrder(ctx, req)
		info, _ := statusOf(t, err, codes.FailedPrecondition)
		if info.GetDomain() != service.DomainPlatform || info.GetReason() != "ERROR_REASON_PLATFORM_BUSINESS" ||
			info.GetMetadata()["result"] != "11" || info.GetMetadata()["error_msg"] == "" || info.GetMetadata()["request_id"] == "" {
			t.Fatalf("ErrorInfo = %v", info)
		}
		// The first result, an error, is replayed without a platform call.
		before := g.calls(t, "open.seller.order.goods.deliver")
		_, err2 := c.order.ShipOrder(ctx, req)
		if status.Convert(err2).Message() != status.Convert(err).Message() {
			t.Fatalf("replayed error %v, first %v", err2, err)
		}
		if g.calls(t, "open.seller.order.goods.deliver") != before {
			t.Fatal("a replayed error reached the platform")
		}
		code, raw, _ := g.restCall(t, http.MethodPost, shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":ship"),
			map[string]any{"express_code": 4, "express_no": "SF2", "request_id": rid(t)}, nil)
		_, rinfo, _ := parseRESTError(t, raw)
		if code != http.StatusBadRequest || rinfo.GetMetadata()["result"] != "11" || rinfo.GetDomain() != service.DomainPlatform {
			t.Fatalf("REST = %d %s", code, raw)
		}
	})

	t.Run("update_order_logistics", func(t *testing.T) {
		id := g.newOrder(t, 30)
		if _, err := c.order.ShipOrder(ctx, &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: id, ExpressCode: 4, ExpressNo: "SF3", RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		resp, err := c.order.UpdateOrderLogistics(ctx, &gatewayv1.UpdateOrderLogisticsRequest{OpenId: openID, OrderId: id, ExpressCode: 9, ExpressNo: "ZTO4", RequestId: rid(t)})
		if err != nil || resp.GetOrderId() != id {
			t.Fatal(resp, err)
		}
		var rest gatewayv1.UpdateOrderLogisticsResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":updateLogistics"),
			map[string]any{"express_code": 6, "express_no": "YT5", "request_id": rid(t)}, &rest)
		o, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
		if err != nil {
			t.Fatal(err)
		}
		if l := o.GetOrder().GetLogistics(); len(l) != 1 || l[0].GetExpressNo() != "YT5" || l[0].GetExpressCode() != 6 {
			t.Fatalf("logistics = %v", l)
		}
	})

	t.Run("close_order", func(t *testing.T) {
		a, b := g.newOrder(t, 10), g.newOrder(t, 10)
		if _, err := c.order.CloseOrder(ctx, &gatewayv1.CloseOrderRequest{OpenId: openID, OrderId: a, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		var rest gatewayv1.CloseOrderResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders/"+strconv.FormatInt(b, 10)+":close"), map[string]any{"request_id": rid(t)}, &rest)
		for _, id := range []int64{a, b} {
			o, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
			if err != nil || o.GetOrder().GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
				t.Fatalf("order %d after close: %v %v", id, o, err)
			}
		}
	})

	t.Run("add_order_note", func(t *testing.T) {
		id := g.newOrder(t, 30)
		if _, err := c.order.AddOrderNote(ctx, &gatewayv1.AddOrderNoteRequest{OpenId: openID, OrderId: id, Note: "gRPC 备注", Flag: 1, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		var rest gatewayv1.AddOrderNoteResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":addNote"),
			map[string]any{"note": "REST 备注", "flag": 3, "request_id": rid(t)}, &rest)
		o, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
		if err != nil {
			t.Fatal(err)
		}
		if n := o.GetOrder().GetNotes(); len(n) != 2 || n[0].GetNote() != "gRPC 备注" || n[1].GetFlag() != 3 {
			t.Fatalf("notes = %v", n)
		}
	})

	t.Run("items", func(t *testing.T) {
		var all []*gatewayv1.Item
		token := ""
		for {
			resp, err := c.item.ListItems(ctx, &gatewayv1.ListItemsRequest{OpenId: openID, PageSize: 3, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, resp.GetItems()...)
			if token = resp.GetNextPageToken(); token == "" {
				if int64(len(all)) != resp.GetTotalSize() {
					t.Fatalf("listed %d items, total_size %d", len(all), resp.GetTotalSize())
				}
				break
			}
		}
		if len(all) < 4 {
			t.Fatalf("%d items", len(all))
		}
		var rest gatewayv1.ListItemsResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/items?page_size=100"), nil, &rest)
		if len(rest.GetItems()) != len(all) || !proto.Equal(rest.GetItems()[3], all[3]) {
			t.Fatalf("REST items differ: %d vs %d", len(rest.GetItems()), len(all))
		}
		seen := map[int64]bool{}
		for _, it := range all {
			if seen[it.GetItemId()] || len(it.GetSkus()) == 0 || it.GetShelfStatus() == gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED {
				t.Fatalf("item %v (duplicate %v)", it, seen[it.GetItemId()])
			}
			seen[it.GetItemId()] = true
		}

		it := all[0]
		sku := it.GetSkus()[0]
		get := func() *gatewayv1.Item {
			t.Helper()
			resp, err := c.item.GetItem(ctx, &gatewayv1.GetItemRequest{OpenId: openID, ItemId: it.GetItemId()})
			if err != nil {
				t.Fatal(err)
			}
			var rest gatewayv1.GetItemResponse
			g.restOK(t, http.MethodGet, shopPath(openID, "/items/"+strconv.FormatInt(it.GetItemId(), 10)), nil, &rest)
			if !proto.Equal(rest.GetItem(), resp.GetItem()) {
				t.Fatal("GetItem differs between gRPC and REST")
			}
			return resp.GetItem()
		}
		stockOf := func(i *gatewayv1.Item) int64 {
			for _, s := range i.GetSkus() {
				if s.GetSkuId() == sku.GetSkuId() {
					return s.GetStock()
				}
			}
			t.Fatalf("sku %d gone", sku.GetSkuId())
			return 0
		}
		stock := stockOf(get())
		skuPath := shopPath(openID, fmt.Sprintf("/items/%d/skus/%d", it.GetItemId(), sku.GetSkuId()))

		if _, err := c.item.UpdateSkuStock(ctx, &gatewayv1.UpdateSkuStockRequest{OpenId: openID, ItemId: it.GetItemId(), SkuId: sku.GetSkuId(),
			Change: gatewayv1.StockChange_STOCK_CHANGE_ADD, Quantity: 5, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		var stockResp gatewayv1.UpdateSkuStockResponse
		g.restOK(t, http.MethodPost, skuPath+":updateStock", map[string]any{"change": "STOCK_CHANGE_REDUCE", "quantity": 2, "request_id": rid(t)}, &stockResp)
		if got := stockOf(get()); got != stock+3 {
			t.Fatalf("stock %d, want %d", got, stock+3)
		}

		if _, err := c.item.UpdateSkuPrice(ctx, &gatewayv1.UpdateSkuPriceRequest{OpenId: openID, ItemId: it.GetItemId(), SkuId: sku.GetSkuId(), PriceFen: 1234, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		if p := get().GetSkus()[0].GetPriceFen(); p != 1234 {
			t.Fatalf("price %d after gRPC update", p)
		}
		var priceResp gatewayv1.UpdateSkuPriceResponse
		g.restOK(t, http.MethodPost, skuPath+":updatePrice", map[string]any{"price_fen": 4321, "request_id": rid(t)}, &priceResp)
		if p := get().GetSkus()[0].GetPriceFen(); p != 4321 {
			t.Fatalf("price %d after REST update", p)
		}

		if _, err := c.item.SetItemShelfStatus(ctx, &gatewayv1.SetItemShelfStatusRequest{OpenId: openID, ItemId: it.GetItemId(),
			ShelfStatus: gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		if s := get().GetShelfStatus(); s != gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF {
			t.Fatalf("shelf %s after gRPC update", s)
		}
		var shelfResp gatewayv1.SetItemShelfStatusResponse
		g.restOK(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/items/%d:setShelfStatus", it.GetItemId())),
			map[string]any{"shelf_status": "SHELF_STATUS_ON_SHELF", "request_id": rid(t)}, &shelfResp)
		if s := get().GetShelfStatus(); s != gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF {
			t.Fatalf("shelf %s after REST update", s)
		}
	})

	t.Run("refund_reads", func(t *testing.T) {
		oid := g.newOrder(t, 30)
		id := g.newRefund(t, oid, 10)
		resp, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
		if err != nil {
			t.Fatal(err)
		}
		r := resp.GetRefund()
		if r.GetRefundId() != id || r.GetOrderId() != oid || r.GetStatus() != gatewayv1.RefundStatus_REFUND_STATUS_REFUND_REQUESTED ||
			r.GetHandlingWay() != gatewayv1.RefundHandlingWay_REFUND_HANDLING_WAY_REFUND_ONLY || r.GetRefundFen() <= 0 || r.GetVersion() == 0 {
			t.Fatalf("refund = %v", r)
		}
		var rest gatewayv1.GetRefundResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/refunds/"+strconv.FormatInt(id, 10)), nil, &rest)
		if !proto.Equal(rest.GetRefund(), r) {
			t.Fatal("GetRefund differs between gRPC and REST")
		}
		reasons, err := c.refund.ListRefundRejectReasons(ctx, &gatewayv1.ListRefundRejectReasonsRequest{OpenId: openID, RefundId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(reasons.GetReasons()) == 0 || reasons.GetReasons()[0].GetCode() == 0 || reasons.GetReasons()[0].GetDescription() == "" {
			t.Fatalf("reasons = %v", reasons)
		}
		// The typed reasons keep what the platform documents: whether a
		// description or an image must back the rejection, and the tip.
		var rawReasons []struct {
			Code                int64  `json:"code"`
			RequiredRejectDesc  bool   `json:"requiredRejectDesc"`
			RequiredRejectImage bool   `json:"requiredRejectImage"`
			Tip                 string `json:"tip"`
		}
		if err := json.Unmarshal([]byte(reasons.GetRaw()), &rawReasons); err != nil || len(rawReasons) != len(reasons.GetReasons()) {
			t.Fatalf("raw reasons %q: %v", reasons.GetRaw(), err)
		}
		var needDesc, needImage, tip bool
		for i, r := range reasons.GetReasons() {
			w := rawReasons[i]
			if int64(r.GetCode()) != w.Code || r.GetRequiresDescription() != w.RequiredRejectDesc || r.GetRequiresImage() != w.RequiredRejectImage || r.GetTip() != w.Tip {
				t.Fatalf("reason %v, the platform's %+v", r, w)
			}
			needDesc, needImage, tip = needDesc || r.GetRequiresDescription(), needImage || r.GetRequiresImage(), tip || r.GetTip() != ""
		}
		if !needDesc || !needImage || !tip {
			t.Fatalf("no reason requires a description, an image or has a tip: %v", reasons)
		}
		var restReasons gatewayv1.ListRefundRejectReasonsResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/refunds/"+strconv.FormatInt(id, 10)+"/rejectReasons"), nil, &restReasons)
		if !proto.Equal(&restReasons, reasons) {
			t.Fatal("reject reasons differ between gRPC and REST")
		}
		// An unknown refund: NOT_FOUND, 300011 with its platform code.
		_, err = c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: 1})
		if info, _ := statusOf(t, err, codes.NotFound); info.GetMetadata()["result"] != "300011" {
			t.Fatalf("ErrorInfo = %v", info)
		}
	})

	t.Run("approve_and_reject_refunds", func(t *testing.T) {
		refund := func() (int64, *gatewayv1.Refund) {
			id := g.newRefund(t, g.newOrder(t, 30), 10)
			r, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
			if err != nil {
				t.Fatal(err)
			}
			return id, r.GetRefund()
		}
		statusOfRefund := func(id int64) gatewayv1.RefundStatus {
			r, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
			if err != nil {
				t.Fatal(err)
			}
			return r.GetRefund().GetStatus()
		}
		a, ra := refund()
		if _, err := c.refund.ApproveRefund(ctx, &gatewayv1.ApproveRefundRequest{OpenId: openID, RefundId: a, RefundAmountFen: ra.GetRefundFen(), Description: "同意", RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		b, rb := refund()
		var approved gatewayv1.ApproveRefundResponse
		g.restOK(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/refunds/%d:approve", b)),
			map[string]any{"refund_amount_fen": rb.GetRefundFen(), "request_id": rid(t)}, &approved)
		for _, id := range []int64{a, b} {
			if s := statusOfRefund(id); s != gatewayv1.RefundStatus_REFUND_STATUS_SUCCEEDED {
				t.Fatalf("refund %d is %s after approval", id, s)
			}
		}
		// Approving again is a platform refusal (3000xx) with its code.
		_, err := c.refund.ApproveRefund(ctx, &gatewayv1.ApproveRefundRequest{OpenId: openID, RefundId: a, RefundAmountFen: 1, RequestId: rid(t)})
		info, _ := statusOf(t, err, codes.FailedPrecondition)
		if r := info.GetMetadata()["result"]; !strings.HasPrefix(r, "3000") || info.GetMetadata()["error_msg"] == "" || info.GetDomain() != service.DomainPlatform {
			t.Fatalf("ErrorInfo = %v", info)
		}
		code, raw, _ := g.restCall(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/refunds/%d:approve", b)),
			map[string]any{"refund_amount_fen": 1, "request_id": rid(t)}, nil)
		if _, rinfo, _ := parseRESTError(t, raw); code != http.StatusBadRequest || !strings.HasPrefix(rinfo.GetMetadata()["result"], "3000") {
			t.Fatalf("REST = %d %s", code, raw)
		}

		cid, rc := refund()
		if _, err := c.refund.RejectRefund(ctx, &gatewayv1.RejectRefundRequest{OpenId: openID, RefundId: cid, ReasonCode: 4,
			RefundVersion: rc.GetVersion(), Description: "已协商", RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		did, rd := refund()
		var rejected gatewayv1.RejectRefundResponse
		g.restOK(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/refunds/%d:reject", did)),
			map[string]any{"reason_code": 2, "refund_version": strconv.FormatInt(rd.GetVersion(), 10), "image_urls": []string{"https://img.example.com/1.jpg"}, "request_id": rid(t)}, &rejected)
		// Reason 5 requires a description (ListRefundRejectReasons'
		// requires_description): the platform refuses a rejection without it.
		fid, rf := refund()
		_, err = c.refund.RejectRefund(ctx, &gatewayv1.RejectRefundRequest{OpenId: openID, RefundId: fid, ReasonCode: 5, RefundVersion: rf.GetVersion(), RequestId: rid(t)})
		if info, _ := statusOf(t, err, codes.InvalidArgument); !strings.Contains(info.GetMetadata()["error_msg"], "rejectDesc") {
			t.Fatalf("reason 5 without a description: %v", err)
		}
		for _, id := range []int64{cid, did} {
			if s := statusOfRefund(id); s != gatewayv1.RefundStatus_REFUND_STATUS_ARBITRATING_REFUND {
				t.Fatalf("refund %d is %s after rejection", id, s)
			}
		}
		// A stale version: 300014.
		eid, re := refund()
		_, err = c.refund.RejectRefund(ctx, &gatewayv1.RejectRefundRequest{OpenId: openID, RefundId: eid, ReasonCode: 4, RefundVersion: re.GetVersion() - 1, RequestId: rid(t)})
		if info, _ := statusOf(t, err, codes.FailedPrecondition); info.GetMetadata()["result"] != "300014" {
			t.Fatalf("ErrorInfo = %v", info)
		}
	})

	t.Run("returns", func(t *testing.T) {
		// A shipped order with a return request: approve the return, the
		// buyer sends the parcel, the seller confirms receipt.
		returnRequest := func() (int64, int64) {
			oid := g.newOrder(t, 30)
			if _, err := c.order.ShipOrder(ctx, &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: oid, ExpressCode: 4, ExpressNo: "SF9", RequestId: rid(t)}); err != nil {
				t.Fatal(err)
			}
			id := g.newRefund(t, oid, 1)
			r, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
			if err != nil {
				t.Fatal(err)
			}
			return id, r.GetRefund().GetRefundFen()
		}
		addrs, err := c.logistics.ListSellerAddresses(ctx, &gatewayv1.ListSellerAddressesRequest{OpenId: openID, AddressType: gatewayv1.SellerAddressType_SELLER_ADDRESS_TYPE_RETURN})
		if err != nil || len(addrs.GetAddresses()) == 0 {
			t.Fatal(addrs, err)
		}
		a, feeA := returnRequest()
		if _, err := c.refund.ApproveReturn(ctx, &gatewayv1.ApproveReturnRequest{OpenId: openID, RefundId: a, RefundAmountFen: feeA,
			AddressId: addrs.GetAddresses()[0].GetAddressId(), RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		b, feeB := returnRequest()
		var ar gatewayv1.ApproveReturnResponse
		g.restOK(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/refunds/%d:approveReturn", b)),
			map[string]any{"refund_amount_fen": feeB, "request_id": rid(t)}, &ar)
		for _, id := range []int64{a, b} {
			r, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
			if err != nil || r.GetRefund().GetStatus() != gatewayv1.RefundStatus_REFUND_STATUS_AWAITING_RETURN {
				t.Fatalf("refund %d after approving the return: %v %v", id, r, err)
			}
			g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/refunds:return", map[string]any{"refundId": id}, nil)
		}
		if _, err := c.refund.ConfirmReturnReceipt(ctx, &gatewayv1.ConfirmReturnReceiptRequest{OpenId: openID, RefundId: a, RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		var cr gatewayv1.ConfirmReturnReceiptResponse
		g.restOK(t, http.MethodPost, shopPath(openID, fmt.Sprintf("/refunds/%d:confirmReturnReceipt", b)), map[string]any{"request_id": rid(t)}, &cr)
		for _, id := range []int64{a, b} {
			r, err := c.refund.GetRefund(ctx, &gatewayv1.GetRefundRequest{OpenId: openID, RefundId: id})
			if err != nil || r.GetRefund().GetStatus() != gatewayv1.RefundStatus_REFUND_STATUS_SUCCEEDED || r.GetRefund().GetReturnLogistics().GetExpressNo() == "" {
				t.Fatalf("refund %d after confirming receipt: %v %v", id, r, err)
			}
		}
	})

	t.Run("logistics", func(t *testing.T) {
		var all []*gatewayv1.ExpressTemplate
		token := ""
		for {
			resp, err := c.logistics.ListExpressTemplates(ctx, &gatewayv1.ListExpressTemplatesRequest{OpenId: openID, PageSize: 1, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, resp.GetTemplates()...)
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		var rest gatewayv1.ListExpressTemplatesResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/expressTemplates?page_size=100"), nil, &rest)
		if len(all) < 2 || len(rest.GetTemplates()) != len(all) || all[0].GetTemplateId() == 0 || all[0].GetName() == "" ||
			!proto.Equal(rest.GetTemplates()[1], all[1]) {
			t.Fatalf("templates: paged %v, REST %v", all, rest.GetTemplates())
		}

		grpcAddrs, err := c.logistics.ListSellerAddresses(ctx, &gatewayv1.ListSellerAddressesRequest{OpenId: openID, AddressType: gatewayv1.SellerAddressType_SELLER_ADDRESS_TYPE_SHIP_FROM})
		if err != nil {
			t.Fatal(err)
		}
		var restAddrs gatewayv1.ListSellerAddressesResponse
		g.restOK(t, http.MethodGet, shopPath(openID, "/sellerAddresses?address_type=SELLER_ADDRESS_TYPE_SHIP_FROM"), nil, &restAddrs)
		if len(grpcAddrs.GetAddresses()) == 0 || !proto.Equal(grpcAddrs, &restAddrs) {
			t.Fatalf("addresses: %v vs %v", grpcAddrs, &restAddrs)
		}
		from := grpcAddrs.GetAddresses()[0]
		if from.GetAddressType() != gatewayv1.SellerAddressType_SELLER_ADDRESS_TYPE_SHIP_FROM || from.GetAddressId() == 0 || from.GetAddress() == "" {
			t.Fatalf("address = %v", from)
		}

		oid := g.newOrder(t, 30)
		pkg := &gatewayv1.WaybillPackage{
			ExpressCompanyCode: "ZTO", OrderId: oid,
			Sender:          &gatewayv1.WaybillContact{Name: from.GetConsignee(), Mobile: from.GetMobile()},
			SenderAddress:   &gatewayv1.WaybillAddress{Province: from.GetProvince(), City: from.GetCity(), District: from.GetDistrict(), DetailAddress: from.GetAddress()},
			Receiver:        &gatewayv1.WaybillContact{Name: "#enc-name#", Mobile: "#enc-mobile#"},
			ReceiverAddress: &gatewayv1.WaybillAddress{Province: "北京市", City: "北京市", District: "朝阳区", DetailAddress: "#enc-address#"},
			Items:           []*gatewayv1.WaybillItem{{Title: "T恤", Quantity: 1}},
		}
		wb, err := c.logistics.CreateWaybills(ctx, &gatewayv1.CreateWaybillsRequest{OpenId: openID, Packages: []*gatewayv1.WaybillPackage{pkg}, RequestId: rid(t)})
		if err != nil {
			t.Fatal(err)
		}
		if len(wb.GetResults()) != 1 || !wb.GetResults()[0].GetSuccess() || len(wb.GetResults()[0].GetWaybills()) != 1 ||
			!strings.HasPrefix(wb.GetResults()[0].GetWaybills()[0].GetWaybillCode(), "ZTO") {
			t.Fatalf("waybills = %v", wb)
		}
		var restWb gatewayv1.CreateWaybillsResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/waybills:batchCreate"),
			&gatewayv1.CreateWaybillsRequest{Packages: []*gatewayv1.WaybillPackage{pkg, pkg}, RequestId: rid(t)}, &restWb)
		if len(restWb.GetResults()) != 2 || !restWb.GetResults()[1].GetSuccess() {
			t.Fatalf("REST waybills = %v", &restWb)
		}
		// Each waybill keeps what the print component needs (key, version
		// beside print_data and signature), over gRPC and REST alike.
		for _, r := range append(wb.GetResults(), restWb.GetResults()...) {
			var raw struct {
				Data []struct {
					Key, WaybillCode, PrintData, Signature, Version string
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(r.GetRaw()), &raw); err != nil || len(raw.Data) != 1 || len(r.GetWaybills()) != 1 {
				t.Fatalf("raw waybill result %q: %v", r.GetRaw(), err)
			}
			w, p := r.GetWaybills()[0], raw.Data[0]
			if w.GetKey() == "" || w.GetVersion() == "" || w.GetPrintData() == "" || w.GetSignature() == "" ||
				w.GetKey() != p.Key || w.GetVersion() != p.Version || w.GetWaybillCode() != p.WaybillCode || w.GetPrintData() != p.PrintData || w.GetSignature() != p.Signature {
				t.Fatalf("waybill %v, the platform's %+v", w, p)
			}
		}

		code1 := wb.GetResults()[0].GetWaybills()[0].GetWaybillCode()
		if _, err := c.logistics.CancelWaybill(ctx, &gatewayv1.CancelWaybillRequest{OpenId: openID, WaybillCode: code1, ExpressCompanyCode: "ZTO", RequestId: rid(t)}); err != nil {
			t.Fatal(err)
		}
		// Each request_id is new, so each package got its own waybill (the
		// platform answers a requestId it has seen with its first waybill).
		code2 := restWb.GetResults()[0].GetWaybills()[0].GetWaybillCode()
		if code2 == code1 || restWb.GetResults()[1].GetWaybills()[0].GetWaybillCode() == code2 {
			t.Fatalf("waybills repeat: %s, %v", code1, &restWb)
		}
		var cancelled gatewayv1.CancelWaybillResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/waybills/"+code2+":cancel"), map[string]any{"express_company_code": "ZTO", "request_id": rid(t)}, &cancelled)
		if cancelled.GetWaybillCode() != code2 {
			t.Fatalf("cancel answered %v", &cancelled)
		}
		// Cancelling twice is a platform refusal.
		_, err = c.logistics.CancelWaybill(ctx, &gatewayv1.CancelWaybillRequest{OpenId: openID, WaybillCode: code1, ExpressCompanyCode: "ZTO", RequestId: rid(t)})
		if info, _ := statusOf(t, err, status.Code(err)); status.Code(err) == codes.OK || info.GetDomain() != service.DomainPlatform {
			t.Fatalf("second cancel: %v", err)
		}
	})

	t.Run("shop", func(t *testing.T) {
		resp, err := c.shop.GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: openID})
		if err != nil {
			t.Fatal(err)
		}
		s := resp.GetShop()
		if s.GetOpenId() != openID || s.GetName() == "" || s.GetSeller().GetSellerId() == 0 || s.GetSeller().GetName() == "" ||
			!strings.Contains(s.GetRaw(), "shopScoreInfo") || !strings.Contains(s.GetSeller().GetRaw(), strconv.FormatInt(s.GetSeller().GetSellerId(), 10)) {
			t.Fatalf("shop = %v", s)
		}
		var rest gatewayv1.GetShopResponse
		g.restOK(t, http.MethodGet, shopPath(openID, ""), nil, &rest)
		if !proto.Equal(&rest, resp) {
			t.Fatalf("REST shop differs: %v", &rest)
		}
		_, err = c.shop.GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: "nosuchshop"})
		statusOf(t, err, codes.NotFound)
	})

	t.Run("invalid_input", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			call   func() error
			method string
			path   string
			body   any
			field  string

			restMessageOnly bool
		}{
			{
				name: "negative_price",
				call: func() error {
					_, err := c.item.UpdateSkuPrice(ctx, &gatewayv1.UpdateSkuPriceRequest{OpenId: openID, ItemId: 1, SkuId: 2, PriceFen: -100, RequestId: "r1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/items/1/skus/2:updatePrice"), body: `{"price_fen":-100,"request_id":"r1"}`, field: "price_fen",
			},
			{
				name: "page_size_over_limit",
				call: func() error {
					_, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{OpenId: openID, PageSize: 101})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/orders?page_size=101"), field: "page_size",
			},
			{
				name: "missing_order_id",
				call: func() error {
					_, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/orders/0"), field: "order_id",
			},
			{
				name: "missing_refund_id",
				call: func() error {
					_, err := c.refund.ApproveRefund(ctx, &gatewayv1.ApproveRefundRequest{OpenId: openID, RefundAmountFen: 1, RequestId: "r1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/refunds/0:approve"), body: `{"refund_amount_fen":1,"request_id":"r1"}`, field: "refund_id",
			},
			{
				name: "unknown_enum",
				call: func() error {
					_, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{OpenId: openID, Status: 99})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/orders?status=99"), field: "status",
				// grpc-gateway refuses an unknown enum value while parsing the
				// query string, before the request reaches the validator: a 400
				// naming the field, without BadRequest details.
				restMessageOnly: true,
			},
			{
				name: "unknown_stock_change",
				call: func() error {
					_, err := c.item.UpdateSkuStock(ctx, &gatewayv1.UpdateSkuStockRequest{OpenId: openID, ItemId: 1, SkuId: 2, Change: 7, Quantity: 1, RequestId: "r1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/items/1/skus/2:updateStock"), body: `{"change":7,"quantity":1,"request_id":"r1"}`, field: "change",
			},
			{
				name: "missing_request_id",
				call: func() error {
					_, err := c.order.ShipOrder(ctx, &gatewayv1.ShipOrderRequest{OpenId: openID, OrderId: 1, ExpressCode: 4, ExpressNo: "SF1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/orders/1:ship"), body: `{"express_code":4,"express_no":"SF1"}`, field: "request_id",
			},
			{
				name: "end_before_start",
				call: func() error {
					_, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{OpenId: openID, StartTime: timestamppb.New(now), EndTime: timestamppb.New(now.Add(-time.Hour))})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/orders?start_time="+url.QueryEscape(now.UTC().Format(time.RFC3339))+"&end_time="+url.QueryEscape(now.Add(-time.Hour).UTC().Format(time.RFC3339))),
				field: "end_time",
			},
			{
				name: "beyond_lookback",
				call: func() error {
					_, err := c.refund.ListRefunds(ctx, &gatewayv1.ListRefundsRequest{OpenId: openID, StartTime: timestamppb.New(now.Add(-100 * 24 * time.Hour))})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/refunds?start_time="+url.QueryEscape(now.Add(-100*24*time.Hour).UTC().Format(time.RFC3339))),
				field: "start_time",
			},
			{
				name: "garbage_page_token",
				call: func() error {
					_, err := c.refund.ListRefunds(ctx, &gatewayv1.ListRefundsRequest{OpenId: openID, PageToken: "not-a-token"})
					return err
				},
				method: http.MethodGet, path: shopPath(openID, "/refunds?page_token=not-a-token"), field: "page_token",
			},
			{
				name: "freight_amount_missing",
				call: func() error {
					_, err := c.refund.ConfirmReturnReceipt(ctx, &gatewayv1.ConfirmReturnReceiptRequest{OpenId: openID, RefundId: 1,
						ReturnFreightDecision: gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE, RequestId: "r1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/refunds/1:confirmReturnReceipt"),
				body: `{"return_freight_decision":"RETURN_FREIGHT_DECISION_AGREE","request_id":"r1"}`, field: "return_freight_amount_fen",
			},
			{
				name: "no_packages",
				call: func() error {
					_, err := c.logistics.CreateWaybills(ctx, &gatewayv1.CreateWaybillsRequest{OpenId: openID, RequestId: "r1"})
					return err
				},
				method: http.MethodPost, path: shopPath(openID, "/waybills:batchCreate"), body: `{"request_id":"r1"}`, field: "packages",
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, br := statusOf(t, tc.call(), codes.InvalidArgument); !violates(br, tc.field) {
					t.Fatalf("gRPC: no violation of %s: %v", tc.field, br)
				}
				code, raw, _ := g.restCall(t, tc.method, tc.path, tc.body, nil)
				e, _, br := parseRESTError(t, raw)
				if tc.restMessageOnly && code == http.StatusBadRequest && strings.Contains(e.Message, `"`+tc.field+`"`) {
					return
				}
				if code != http.StatusBadRequest || !violates(br, tc.field) {
					t.Fatalf("REST %s %s = %d %s", tc.method, tc.path, code, raw)
				}
			})
		}
	})

	t.Run("openapi_documents_the_services", func(t *testing.T) {
		code, raw, _ := g.restCall(t, http.MethodGet, "/openapi.json", nil, nil)
		if code != http.StatusOK {
			t.Fatal(code)
		}
		var doc struct {
			Paths      map[string]map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]struct {
					Description string                     `json:"description"`
					Properties  map[string]json.RawMessage `json:"properties"`
					Enum        []string                   `json:"enum"`
				} `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for path, verb := range map[string]string{
			"/v1/shops/{open_id}/orders":                                    "get",
			"/v1/shops/{open_id}/orders/{order_id}":                         "get",
			"/v1/shops/{open_id}/orders/{order_id}:ship":                    "post",
			"/v1/shops/{open_id}/orders/{order_id}:updateLogistics":         "post",
			"/v1/shops/{open_id}/orders/{order_id}:close":                   "post",
			"/v1/shops/{open_id}/orders/{order_id}:addNote":                 "post",
			"/v1/shops/{open_id}/items":                                     "get",
			"/v1/shops/{open_id}/items/{item_id}":                           "get",
			"/v1/shops/{open_id}/items/{item_id}/skus/{sku_id}:updateStock": "post",
			"/v1/shops/{open_id}/items/{item_id}/skus/{sku_id}:updatePrice": "post",
			"/v1/shops/{open_id}/items/{item_id}:setShelfStatus":            "post",
			"/v1/shops/{open_id}/refunds":                                   "get",
			"/v1/shops/{open_id}/refunds/{refund_id}":                       "get",
			"/v1/shops/{open_id}/refunds/{refund_id}:approve":               "post",
			"/v1/shops/{open_id}/refunds/{refund_id}:reject":                "post",
			"/v1/shops/{open_id}/refunds/{refund_id}/rejectReasons":         "get",
			"/v1/shops/{open_id}/refunds/{refund_id}:approveReturn":         "post",
			"/v1/shops/{open_id}/refunds/{refund_id}:confirmReturnReceipt":  "post",
			"/v1/shops/{open_id}/expressTemplates":                          "get",
			"/v1/shops/{open_id}/sellerAddresses":                           "get",
			"/v1/shops/{open_id}/waybills:batchCreate":                      "post",
			"/v1/shops/{open_id}/waybills/{waybill_code}:cancel":            "post",
			"/v1/shops/{open_id}":                                           "get",
		} {
			if doc.Paths[path][verb] == nil {
				t.Errorf("openapi lacks %s %s", strings.ToUpper(verb), path)
			}
		}
		if d := doc.Components.Schemas["Order"]; d.Description == "" || d.Properties["total_fen"] == nil || d.Properties["raw"] == nil {
			t.Errorf("Order not documented: %+v", d)
		}
		if e := doc.Components.Schemas["RefundStatus"]; !slices.Contains(e.Enum, "REFUND_STATUS_SUCCEEDED") || !strings.Contains(e.Description, "退款成功") {
			t.Errorf("RefundStatus not documented: %+v", e)
		}
	})
}

type refundAt struct {
	id, t int64
}

// directOrders pages open.order.cursor.list through PlatformService.Call in
// 7-day windows, newest first, as a client without the typed service would.
func directOrders(t testing.TB, c gatewayv1.PlatformServiceClient, openID string, start, end time.Time) []int64 {
	t.Helper()
	var ids []int64
	const week = 7 * 24 * time.Hour
	for we := end.UnixMilli(); we > start.UnixMilli(); {
		wb := max(start.UnixMilli(), we-week.Milliseconds())
		cursor := ""
		for {
			data := call(t, c, openID, "open.order.cursor.list", map[string]any{
				"orderViewStatus": 1, "pageSize": 50, "sort": 1, "queryType": 1, "beginTime": wb, "endTime": we, "cursor": cursor,
			})
			for _, o := range data.GetFields()["orderList"].GetListValue().GetValues() {
				ids = append(ids, int64(o.GetStructValue().GetFields()["orderBaseInfo"].GetStructValue().GetFields()["oid"].GetNumberValue()))
			}
			cursor = data.GetFields()["cursor"].GetStringValue()
			if cursor == "nomore" || cursor == "" {
				break
			}
		}
		we = wb
	}
	return ids
}

// directRefunds pages the refund list through PlatformService.Call in
// 1-day windows, newest first.
func directRefunds(t testing.TB, c gatewayv1.PlatformServiceClient, openID string, start, end time.Time) []refundAt {
	t.Helper()
	var out []refundAt
	for we := end.UnixMilli(); we > start.UnixMilli(); {
		wb := max(start.UnixMilli(), we-(24*time.Hour).Milliseconds())
		cursor := ""
		for {
			data := call(t, c, openID, "open.seller.order.refund.pcursor.list", map[string]any{
				"beginTime": wb, "endTime": we, "type": 9, "pageSize": 100, "sort": 1, "queryType": 1, "pcursor": cursor,
			})
			for _, r := range data.GetFields()["refundOrderInfoList"].GetListValue().GetValues() {
				f := r.GetStructValue().GetFields()
				out = append(out, refundAt{int64(f["refundId"].GetNumberValue()), int64(f["createTime"].GetNumberValue())})
			}
			cursor = data.GetFields()["pcursor"].GetStringValue()
			if cursor == "nomore" || cursor == "" {
				break
			}
		}
		we = wb
	}
	return out
}

func call(t testing.TB, c gatewayv1.PlatformServiceClient, openID, method string, params map[string]any) *structpb.Struct {
	t.Helper()
	p, err := structpb.NewValue(params)
	if err != nil {
		t.Fatal(err)
	}
	// skip_validation: the sandbox's params, which may differ from the
	// documentation's (pcursor.list without currentPage).
	resp, err := c.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: method, Params: p, SkipValidation: true})
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return resp.GetData().GetStructValue()
}
