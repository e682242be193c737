package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// BenchmarkListOrdersPage compares one page of 20 orders fetched through
// the typed OrderService.ListOrders with the same platform page fetched
// through the generic PlatformService.Call (one open.order.cursor.list call
// each; the typed path adds the page token, tolerant decoding and the
// conversion to Order messages with their raw JSON). Run:
//
//	go test -run '^$' -bench BenchmarkListOrdersPage -benchmem ./internal/app/
func BenchmarkListOrdersPage(b *testing.B) {
	// The benchmark makes far more calls than the platform allows a test
	// user: lift the gateway's client-side limits and the sandbox's.
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", b.TempDir(), "127.0.0.1:0"
	cfg.Limit.QPS = 0
	mustSet(&cfg, "KWAISHOP_API_QPS_OVERRIDES", "open.order.cursor.list=1000000/1000000")
	cfg.Limit.DailyQuota, cfg.Limit.TestUserDailyQuota = 1_000_000_000, 1_000_000_000
	g := startGatewayWith(b, cfg, Options{})
	openID := g.info.SandboxOpenID
	unlimited := 1_000_000_000
	g.sandboxAdmin(b, http.MethodPost, "/sandbox/v1/limits", map[string]any{
		"testUserDailyCalls": unlimited, "appDailyCallsTest": unlimited, "appDailyCallsOnline": unlimited, "apiQps": unlimited,
		"apiQpsByMethod":  map[string]int{"open.order.cursor.list": unlimited},
		"userQpsByMethod": map[string]int{"open.order.cursor.list": unlimited},
	}, nil)
	ctx := context.Background()
	end := time.Now()
	start := end.Add(-7 * 24 * time.Hour)
	orders := gatewayv1.NewOrderServiceClient(g.conn)
	platform := gatewayv1.NewPlatformServiceClient(g.conn)

	typed := &gatewayv1.ListOrdersRequest{OpenId: openID, StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), PageSize: 20}
	params, err := structpb.NewValue(map[string]any{
		"orderViewStatus": 1, "pageSize": 20, "sort": 1, "queryType": 1, "cursor": "",
		"beginTime": start.UnixMilli(), "endTime": end.UnixMilli(),
	})
	if err != nil {
		b.Fatal(err)
	}
	generic := &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.cursor.list", Params: params}

	// Both must return the same 20 orders.
	tr, err := orders.ListOrders(ctx, typed)
	if err != nil {
		b.Fatal(err)
	}
	gr, err := platform.Call(ctx, generic)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(gr.GetData().GetStructValue().GetFields()["orderList"].GetListValue().GetValues()); n != len(tr.GetOrders()) || n != 20 {
		b.Fatalf("typed page has %d orders, generic page %d; want 20 each", len(tr.GetOrders()), n)
	}

	b.Run("grpc/typed_ListOrders", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := orders.ListOrders(ctx, typed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc/generic_Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := platform.Call(ctx, generic); err != nil {
				b.Fatal(err)
			}
		}
	})

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	q := url.Values{"start_time": {start.UTC().Format(time.RFC3339Nano)}, "end_time": {end.UTC().Format(time.RFC3339Nano)}, "page_size": {"20"}}
	typedURL := "http://" + g.info.HTTPAddr + "/v1/shops/" + openID + "/orders?" + q.Encode()
	genericBody := callBodyTB(b, openID, "open.order.cursor.list", params.AsInterface())
	b.Run("rest/typed_ListOrders", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := hc.Get(typedURL)
			if err != nil {
				b.Fatal(err)
			}
			drain(b, resp)
		}
	})
	b.Run("rest/generic_Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := hc.Post("http://"+g.info.HTTPAddr+"/v1/call", "application/json", strings.NewReader(genericBody))
			if err != nil {
				b.Fatal(err)
			}
			drain(b, resp)
		}
	})
}

func drain(b *testing.B, resp *http.Response) {
	b.Helper()
	var buf [32 << 10]byte
	for {
		if _, err := resp.Body.Read(buf[:]); err != nil {
			break
		}
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
}

func callBodyTB(tb testing.TB, openID, method string, params any) string {
	tb.Helper()
	v, err := structpb.NewValue(params)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := protojson.Marshal(&gatewayv1.CallRequest{OpenId: openID, Method: method, Params: v})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
