package app

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// otlpReceiver is an in-test OTLP/gRPC trace receiver (what a collector or
// Jaeger would be in production).
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// TestOTLP_TypedRESTCallWithRefreshIsOneTrace exports over real OTLP/gRPC (the
// gateway builds its own tracer provider from the standard OTEL_* variables)
// and checks that one REST call to a typed RPC that needs a token refresh is
// one trace: HTTP server → gRPC server → refresh and upstream client spans.
func TestOTLP_TypedRESTCallWithRefreshIsOneTrace(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{}
	gs := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(gs, rcv)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+lis.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")

	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Info, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- Run(ctx, cfg, Options{LogOutput: logs, Ready: func(i Info) { ready <- i }}) }()
	var info Info
	select {
	case info = <-ready:
	case err := <-done:
		t.Fatalf("stopped: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready")
	}
	info.Sandbox.Advance(49 * time.Hour) // the shop's access token expired on the platform

	resp, err := http.Get("http://" + info.HTTPAddr + "/v1/shops/" + info.SandboxOpenID)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GetShop: %d", resp.StatusCode)
	}
	cancel() // shutdown flushes the batch exporter
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var root *tracepb.Span
	for _, s := range rcv.spans {
		if s.GetKind() == tracepb.Span_SPAN_KIND_SERVER && s.GetName() == "GET /v1/shops/"+info.SandboxOpenID {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no HTTP server span among %d exported spans", len(rcv.spans))
	}
	byID := map[string]*tracepb.Span{}
	for _, s := range rcv.spans {
		if string(s.GetTraceId()) == string(root.GetTraceId()) {
			byID[hex.EncodeToString(s.GetSpanId())] = s
		}
	}
	under := func(s, ancestor *tracepb.Span) bool {
		for p := s; p != nil; p = byID[hex.EncodeToString(p.GetParentSpanId())] {
			if string(p.GetParentSpanId()) == string(ancestor.GetSpanId()) {
				return true
			}
		}
		return false
	}
	var grpcServer, refresh *tracepb.Span
	var upstream []*tracepb.Span
	for _, s := range byID {
		switch {
		case s.GetKind() == tracepb.Span_SPAN_KIND_SERVER && s.GetName() == "kwaishop.gateway.v1.ShopService/GetShop":
			grpcServer = s
		case s.GetKind() == tracepb.Span_SPAN_KIND_CLIENT && s.GetName() == "kwaishop oauth2.refresh_token":
			refresh = s
		case s.GetKind() == tracepb.Span_SPAN_KIND_CLIENT && (s.GetName() == "kwaishop open.shop.info.get" || s.GetName() == "kwaishop open.user.seller.get"):
			upstream = append(upstream, s)
		}
	}
	if grpcServer == nil || refresh == nil || len(upstream) < 2 {
		var names []string
		for _, s := range byID {
			names = append(names, s.GetName())
		}
		t.Fatalf("trace lacks spans (gRPC server %v, refresh %v, %d upstream): %v", grpcServer != nil, refresh != nil, len(upstream), names)
	}
	if !under(grpcServer, root) || !under(refresh, grpcServer) {
		t.Fatal("spans are not parented HTTP → gRPC server → refresh")
	}
	for _, u := range upstream {
		if !under(u, grpcServer) {
			t.Fatalf("upstream span %s is not under the gRPC server span", u.GetName())
		}
	}
}
