package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// seclogKey is what the acceptance compares: who (shop, user IP) did what
// (operation); the value is the set of order ids.
type seclogKey struct {
	openID, ip string
	operation  int64
}

func startSecLogGateway(t *testing.T, flush string) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	mustSet(&cfg, "KWAISHOP_SECURITY_LOG", "true")
	mustSet(&cfg, "KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL", flush)
	return startGatewayWith(t, cfg, Options{})
}

// seclogOrder is one sandbox order of the script: its id and, when the
// order has a receiver, its phone ciphertext (for typed decrypts).
type seclogOrder struct {
	id     int64
	mobile string
}

// seclogOrders lists the sandbox shop's orders of the last 30 days (that
// list is itself an access, attributed to ip).
func seclogOrders(t *testing.T, c commerceClients, openID, ip string, want map[seclogKey]map[int64]bool) []seclogOrder {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-user-ip", ip, "x-kwaishop-operation", "7")
	now := time.Now()
	resp, err := c.order.ListOrders(ctx, &gatewayv1.ListOrdersRequest{OpenId: openID, StartTime: timestamppb.New(now.Add(-30 * 24 * time.Hour)),
		EndTime: timestamppb.New(now), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var orders []seclogOrder
	ciphered := 0
	for _, o := range resp.GetOrders() {
		orders = append(orders, seclogOrder{id: o.GetOrderId(), mobile: o.GetAddress().GetEncryptedMobile()})
		if o.GetAddress().GetEncryptedMobile() != "" {
			ciphered++
		}
		addWant(want, seclogKey{openID, ip, 7}, o.GetOrderId())
	}
	if len(orders) < 20 || ciphered < 5 {
		t.Fatalf("the sandbox shop has %d orders, %d with a receiver; the test needs 20 and 5", len(orders), ciphered)
	}
	return orders
}

func addWant(want map[seclogKey]map[int64]bool, k seclogKey, ids ...int64) {
	if want[k] == nil {
		want[k] = map[int64]bool{}
	}
	for _, id := range ids {
		want[k][id] = true
	}
}

// receivedSecLogs folds the sandbox's order entries into the compared
// shape; every entry must hold 1 to 100 order ids.
func receivedSecLogs(t *testing.T, entries []sandbox.SecurityLogEntry) (map[seclogKey]map[int64]bool, int) {
	t.Helper()
	got := map[seclogKey]map[int64]bool{}
	ids := 0
	for _, e := range entries {
		if e.Method != "order" {
			continue
		}
		if len(e.OrderIDs) == 0 || len(e.OrderIDs) > 100 {
			t.Fatalf("an entry with %d order ids", len(e.OrderIDs))
		}
		ids += len(e.OrderIDs)
		addWant(got, seclogKey{e.OpenID, e.UserIP, e.Operation}, e.OrderIDs...)
	}
	return got, ids
}

func equalSecLogs(a, b map[seclogKey]map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, s := range a {
		o := b[k]
		if len(o) != len(s) {
			return false
		}
		for id := range s {
			if !o[id] {
				return false
			}
		}
	}
	return true
}

// seclogScript runs 50 order reads (typed get and list, generic detail)
// and 10 decrypts of 5 orders each (even ones typed, through
// SecurityService.DecryptReceivers; odd ones generic,
// open.order.decrypt.batch), each attributed to an end user, and returns
// what the platform must receive.
func seclogScript(t *testing.T, c commerceClients, openID string, orders []seclogOrder, want map[seclogKey]map[int64]bool, from, to int) {
	t.Helper()
	var ciphered []seclogOrder
	for _, o := range orders {
		if o.mobile != "" {
			ciphered = append(ciphered, o)
		}
	}
	for i := from; i < to; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i%7+1)
		op := int64(i%3 + 1)
		ctx := metadata.AppendToOutgoingContext(context.Background(),
			"x-kwaishop-user-ip", ip, "x-kwaishop-user-url", "https://erp.example/orders?page="+fmt.Sprint(i), "x-kwaishop-operation", fmt.Sprint(op))
		id := orders[i%len(orders)].id
		switch {
		case i < 30: // typed reads
			resp, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: id})
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			addWant(want, seclogKey{openID, ip, op}, resp.GetOrder().GetOrderId())
		case i < 50: // generic reads
			p, _ := structpb.NewValue(map[string]any{"oid": fmt.Sprint(id)})
			if _, err := c.platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: p}); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			addWant(want, seclogKey{openID, ip, op}, id)
		case i%2 == 0: // typed decrypts of 5 orders' phones
			var entries []*gatewayv1.ReceiverCiphertext
			var batch []int64
			for j := range 5 {
				o := ciphered[(i*5+j)%len(ciphered)]
				batch = append(batch, o.id)
				entries = append(entries, &gatewayv1.ReceiverCiphertext{OrderId: o.id, Ciphertext: o.mobile, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE})
			}
			resp, err := c.security.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: entries})
			if err != nil {
				t.Fatalf("decrypt %d: %v", i, err)
			}
			for k, r := range resp.GetResults() {
				if r.GetError() != nil || r.GetValue().GetPhone() == "" {
					t.Fatalf("decrypt %d: entry %d not decrypted: %v", i, k, r.GetError())
				}
			}
			addWant(want, seclogKey{openID, ip, op}, batch...)
		default: // generic decrypts of 5 orders each
			var list []any
			var batch []int64
			for j := range 5 {
				oid := orders[(i*5+j)%len(orders)].id
				batch = append(batch, oid)
				list = append(list, map[string]any{"bizId": fmt.Sprint(oid), "encryptedData": "#cipher#"})
			}
			p, _ := structpb.NewValue(map[string]any{"batchDecryptList": list})
			if _, err := c.platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.decrypt.batch", Params: p}); err != nil {
				t.Fatalf("decrypt %d: %v", i, err)
			}
			addWant(want, seclogKey{openID, ip, op}, batch...)
		}
	}
}

// waitSecLogs waits until the sandbox received want.
func waitSecLogs(t *testing.T, sb *sandbox.Sandbox, openID string, want map[seclogKey]map[int64]bool) (int, int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries := sb.SecurityLogs(openID)
		got, ids := receivedSecLogs(t, entries)
		if equalSecLogs(got, want) {
			return len(entries), ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox received %d groups, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// After a scripted run of 50 order reads and 10 decrypts with
// x-kwaishop-user-ip set, the sandbox has received exactly the matching
// order-access entries.
func TestSecurityLog_ScriptedReadsReachThePlatform(t *testing.T) {
	g := startSecLogGateway(t, "100ms")
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	want := map[seclogKey]map[int64]bool{}
	ids := seclogOrders(t, c, openID, "198.51.100.9", want)
	seclogScript(t, c, openID, ids, want, 0, 60)
	entries, sent := waitSecLogs(t, g.info.Sandbox, openID, want)
	t.Logf("%d accesses arrived as %d platform entries holding %d order ids", 61, entries, sent)

	// Nothing more arrives (exactly: no duplicates in a run without faults).
	time.Sleep(500 * time.Millisecond)
	if n := len(g.info.Sandbox.SecurityLogs(openID)); n != entries {
		t.Fatalf("%d entries after the run settled, %d when it matched", n, entries)
	}
	// The metrics count what was sent.
	resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "kwaishop_security_log_sent") {
		t.Errorf("/metrics has no kwaishop_security_log_sent")
	}
}

// Hostile attributions: an invalid IP, a huge URL, a repeated header, an
// operation out of range are InvalidArgument before any platform call; a
// read without attribution is logged with the gateway's defaults and a
// warning; 10 000 order ids in one call are refused by the catalog.
func TestSecurityLog_HostileAttribution(t *testing.T) {
	g := startSecLogGateway(t, "100ms")
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	before := g.info.Sandbox.Counters()
	for name, md := range map[string][]string{
		"invalid ip":     {"x-kwaishop-user-ip", "999.1.1.1"},
		"ip with zone":   {"x-kwaishop-user-ip", "fe80::1%eth0"},
		"two ips":        {"x-kwaishop-user-ip", "192.0.2.1", "x-kwaishop-user-ip", "192.0.2.2"},
		"huge url":       {"x-kwaishop-user-url", strings.Repeat("u", 3000)},
		"operation zero": {"x-kwaishop-operation", "0"},
		"operation text": {"x-kwaishop-operation", "read"},
	} {
		ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
		_, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: 1})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		} else if strings.Contains(status.Convert(err).Message(), "uuuuuuuu") {
			t.Errorf("%s: the refusal quotes the value", name)
		}
	}
	// A spoofed huge header: gRPC clients cannot send it past the server's
	// advertised cap; over HTTP it is refused 431 before any handler.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-user-url", strings.Repeat("h", 200<<10))
	if _, err := c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: 1}); err == nil {
		t.Error("a 200 KiB header was accepted")
	}
	huge, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/shops/"+openID+"/orders/1", nil)
	huge.Header.Set("X-Kwaishop-User-Url", strings.Repeat("h", 200<<10))
	if resp, err := g.http.Do(huge); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("REST with a 200 KiB header: %d, want 431", resp.StatusCode)
		}
	}
	// Over REST, a URL just over the cap but inside the header limit.
	long, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/shops/"+openID+"/orders/1", nil)
	long.Header.Set("X-Kwaishop-User-Url", strings.Repeat("u", 3000))
	if resp, err := g.http.Do(long); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), "uuuuuuuu") {
			t.Errorf("REST with a 3000-byte X-Kwaishop-User-Url: %d %s", resp.StatusCode, b)
		}
	}
	// REST: the same headers, mapped to the metadata.
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/shops/"+openID+"/orders/1", nil)
	req.Header.Set("X-Kwaishop-User-Ip", "not-an-ip")
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("REST with an invalid X-Kwaishop-User-Ip: %d, want 400", resp.StatusCode)
	}
	// REST: a value gRPC metadata cannot carry (not printable ASCII, UTF-8
	// or not) is a 400 naming the header, not dropped for the default.
	for name, h := range map[string][2]string{
		"url not UTF-8":         {"X-Kwaishop-User-Url", "https://erp.example/\xff"},
		"url UTF-8":             {"X-Kwaishop-User-Url", "https://erp.example/订单"},
		"url with prefix":       {"Grpc-Metadata-X-Kwaishop-User-Url", "https://erp.example/\xff"},
		"ip not UTF-8":          {"X-Kwaishop-User-Ip", "192.0.2.1\xff"},
		"operation not ASCII":   {"X-Kwaishop-Operation", "\xef\xbc\x97"},
		"operation with prefix": {"Grpc-Metadata-X-Kwaishop-Operation", "7\x80"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/shops/"+openID+"/orders/1", nil)
		req.Header[h[0]] = []string{h[1]}
		resp, err := g.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		field := strings.ToLower(strings.TrimPrefix(h[0], "Grpc-Metadata-"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("REST %s: %d %s, want 400 naming %s", name, resp.StatusCode, b, field)
		}
	}
	if d := sumCalls(g.info.Sandbox.Counters()) - sumCalls(before); d != 0 {
		t.Errorf("%d platform calls for refused attributions", d)
	}
	// 10 000 order ids in one generic decrypt: refused by the catalog.
	var list []any
	for i := range 10000 {
		list = append(list, map[string]any{"bizId": fmt.Sprint(i + 1), "encryptedData": "#c#"})
	}
	p, _ := structpb.NewValue(map[string]any{"batchDecryptList": list})
	if _, err := c.platform.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.decrypt.batch", Params: p}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("10 000 decrypts in one call: %v", err)
	}

	// No attribution: the gateway's identity, and one warning.
	want := map[seclogKey]map[int64]bool{}
	orders := seclogOrders(t, c, openID, "192.0.2.10", want)
	for _, o := range orders[:3] {
		if _, err := c.order.GetOrder(context.Background(), &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: o.id}); err != nil {
			t.Fatal(err)
		}
		addWant(want, seclogKey{openID, "127.0.0.1", 1}, o.id)
	}
	waitSecLogs(t, g.info.Sandbox, openID, want)
	for _, e := range g.info.Sandbox.SecurityLogs(openID) {
		if e.UserIP == "127.0.0.1" && !strings.HasPrefix(e.URL, "kwaishop-gateway:OrderService.GetOrder") {
			t.Errorf("default URL %q", e.URL)
		}
	}
	if n := strings.Count(g.logs.String(), "named no end user"); n != 1 {
		t.Errorf("%d warnings for unattributed reads, want 1 (rate-limited)", n)
	}
}

func sumCalls(c sandbox.Counters) int {
	n := 0
	for _, v := range c.Calls {
		n += v
	}
	return n
}
