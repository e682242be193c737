package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	grpcstats "google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// TestMetrics_InboundServerDurations: after REST and gRPC calls with known
// outcomes, /metrics (scraped with a stats key) has the OpenTelemetry server
// durations — http.server.request.duration by route template, verb and
// status, rpc.server.call.duration by method and status — with unknown gRPC
// methods folded into _OTHER, and no label holding the open_id, a key or a
// secret.
func TestMetrics_InboundServerDurations(t *testing.T) {
	const key = "inbound-metrics-key-0123456789"
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	mustSet(&cfg, "KWAISHOP_API_KEYS", "ops:"+key+":rpc=*")
	g := startGatewayWith(t, cfg, Options{})
	openID := g.info.SandboxOpenID
	auth := map[string]string{"Authorization": "Bearer " + key}

	for _, tc := range []struct {
		path string
		want int
	}{
		{shopPath(openID, ""), http.StatusOK},
		{shopPath(openID, ""), http.StatusOK},
		{"/v1/authorizations/no-such-shop", http.StatusNotFound},
		{"/v1/no-such-route/" + openID, http.StatusNotFound},
		{shopPath(openID, "/orders?page_size=many"), http.StatusBadRequest},
	} {
		if code, raw, _ := edgeProbe(t, g, http.MethodGet, tc.path, "", auth, ""); code != tc.want {
			t.Fatalf("GET %s = %d, want %d: %s", tc.path, code, tc.want, raw)
		}
	}
	// The Host header is the caller's: it must not become server.address
	// or server.port (65123 is outside Linux's ephemeral port range).
	if code, raw, _ := edgeProbe(t, g, http.MethodGet, shopPath(openID, ""), "", auth, "attacker.example:65123"); code != http.StatusOK {
		t.Fatalf("GET with another Host = %d: %s", code, raw)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	if _, err := gatewayv1.NewShopServiceClient(g.conn).GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: openID}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"/kwaishop.gateway.v1.ShopService/NoSuchMethod", "/no.such.Service/" + openID} {
		if err := g.conn.Invoke(ctx, m, &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
			t.Fatalf("%s: %v", m, err)
		}
	}
	if _, err := gatewayv1.NewShopServiceClient(g.conn).GetShop(context.Background(), &gatewayv1.GetShopRequest{OpenId: openID}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a key: %v", err)
	}

	// /metrics without a key is refused in the REST error shape.
	code, raw, hdr := edgeProbe(t, g, http.MethodGet, "/metrics", "", nil, "")
	wantFailure(t, code, raw, hdr, http.StatusUnauthorized, "UNAUTHENTICATED")
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the stats key: %d", resp.StatusCode)
	}
	exp := string(body)

	for _, tc := range []struct {
		metric string
		labels map[string]string
		min    float64
	}{
		{"http_server_request_duration_seconds_count", map[string]string{"http_route": "/v1/shops/{open_id}", "http_request_method": "GET", "http_response_status_code": "200"}, 3},
		{"http_server_request_duration_seconds_count", map[string]string{"http_route": "/v1/authorizations/{open_id}", "http_response_status_code": "404"}, 1},
		{"http_server_request_duration_seconds_count", map[string]string{"http_route": "/v1/shops/{open_id}/orders", "http_response_status_code": "400"}, 1},
		{"http_server_request_duration_seconds_count", map[string]string{"http_route": "", "http_response_status_code": "404"}, 1},
		{"http_server_request_duration_seconds_bucket", map[string]string{"http_route": "/v1/shops/{open_id}", "le": "+Inf"}, 3},
		// Each REST call also reaches the gRPC server: 3 + 1 gRPC.
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "kwaishop.gateway.v1.ShopService/GetShop", "rpc_response_status_code": "OK", "rpc_system_name": "grpc"}, 4},
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "kwaishop.gateway.v1.ShopService/GetShop", "rpc_response_status_code": "UNAUTHENTICATED"}, 1},
		{"rpc_server_call_duration_seconds_count", map[string]string{"rpc_method": "kwaishop.gateway.v1.AuthorizationService/GetAuthorization", "rpc_response_status_code": "NOT_FOUND"}, 1},
	} {
		if got := metricSum(exp, tc.metric, tc.labels); got < tc.min {
			t.Errorf("%s%v = %v, want ≥ %v", tc.metric, tc.labels, got, tc.min)
		}
	}
	// gRPC answers a method it does not serve before any duration is
	// recorded; whatever a caller names never becomes a label.
	for _, v := range labelValues(exp) {
		if strings.Contains(v, "NoSuchMethod") || strings.Contains(v, "no.such") {
			t.Errorf("label value %q is a method name a caller chose", v)
		}
	}
	for _, name := range []string{"http_server_request_body_size", "http_server_response_body_size", "rpc_client_", "rpc_server_duration"} {
		if strings.Contains(exp, name) {
			t.Errorf("/metrics exports %s*: only the server durations are meant", name)
		}
	}
	forbidden := append(g.secrets(t), openID, key, "attacker.example", "65123")
	for _, v := range labelValues(exp) {
		for _, s := range forbidden {
			if strings.Contains(v, s) {
				t.Fatalf("label value %q holds a secret, a key or the open_id", v)
			}
		}
	}
}

// TestInboundGRPC_UnknownMethodIsOther: should an RPC the server does not
// declare ever be recorded (an unknown-service handler), its rpc.method
// label is _OTHER, never the name the caller sent; a declared method keeps
// its name.
func TestInboundGRPC_UnknownMethodIsOther(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	h := inboundGRPC(tracenoop.NewTracerProvider(), sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	for _, m := range []string{gatewayv1.ShopService_GetShop_FullMethodName, "/no.such.Service/secret-open-id", "/kwaishop.gateway.v1.ShopService/Nope", "garbage"} {
		ctx := h.TagRPC(context.Background(), &grpcstats.RPCTagInfo{FullMethodName: m})
		h.HandleRPC(ctx, &grpcstats.End{BeginTime: time.Now(), EndTime: time.Now(), Error: status.Error(codes.Unimplemented, "x")})
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	methods := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "rpc.server.call.duration" {
				t.Errorf("instrument %s recorded: only rpc.server.call.duration is meant", m.Name)
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				v, _ := dp.Attributes.Value("rpc.method")
				methods[v.AsString()] += dp.Count
			}
		}
	}
	want := map[string]uint64{"kwaishop.gateway.v1.ShopService/GetShop": 1, "_OTHER": 3}
	if len(methods) != len(want) || methods["_OTHER"] != 3 || methods["kwaishop.gateway.v1.ShopService/GetShop"] != 1 {
		t.Fatalf("rpc.method counts %v, want %v", methods, want)
	}
}
