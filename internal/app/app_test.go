package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type gateway struct {
	info    Info
	dataDir string
	logs    *syncBuffer
	spans   *tracetest.SpanRecorder
	conn    *grpc.ClientConn
	http    *http.Client
	stop    func() // stops the gateway (also done at test cleanup)
}

// startGateway runs the whole gateway in sandbox mode on free loopback ports,
// with the embedded NATS listening on TCP so the test can read the store.
func startGateway(t testing.TB) *gateway {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", dir, "127.0.0.1:0"
	return startGatewayWith(t, cfg, Options{})
}

// mustSet sets one setting of cfg from its text (KWAISHOP_API_KEYS, say),
// parsed as the environment's value would be; a test's own value that does
// not parse is a bug in the test.
func mustSet(cfg *config.Config, env, value string) {
	if err := cfg.Set(env, value); err != nil {
		panic(err)
	}
}

// Run's stops run in reverse order when Run returns, including those added
// after the deferred run was set up.
func TestCleanups_ReverseOrderWhenDeferred(t *testing.T) {
	var order []int
	func() {
		var c cleanups
		defer c.run()
		c.add(func() { order = append(order, 1) })
		c.add(nil) // nothing to stop
		c.add(func() { order = append(order, 2) })
	}()
	if len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Fatalf("stops ran as %v, want [2 1]", order)
	}
}

// startGatewayWith runs one gateway (replica) with cfg until the test ends.
func startGatewayWith(t testing.TB, cfg config.Config, opts Options) *gateway {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dataDir: cfg.Store.DataDir, logs: &syncBuffer{}, spans: tracetest.NewSpanRecorder(), http: &http.Client{Timeout: 10 * time.Second}}
	opts.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(g.spans))
	opts.LogOutput = g.logs
	opts.Getenv = func(string) string { return "" }
	ready := make(chan Info, 1)
	opts.Ready = func(i Info) { ready <- i }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, opts) }()
	select {
	case g.info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("gateway stopped before ready: %v\n%s", err, g.logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("gateway not ready in 30s\n%s", g.logs)
	}
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(g.stop)
	conn, err := grpc.NewClient(g.info.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	g.conn = conn
	return g
}

func (g *gateway) rest(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: status %d, body not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func orderParams(now time.Time, days int) map[string]any {
	return map[string]any{
		"orderViewStatus": 1, "pageSize": 50, "sort": 1, "queryType": 1, "cursor": "",
		"beginTime": now.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli(), "endTime": now.UnixMilli(),
	}
}

func callBody(t *testing.T, openID, method string, params any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"open_id": openID, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGateway_SandboxEndToEnd(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	if openID == "" {
		t.Fatal("no sandbox shop authorized at start")
	}

	t.Run("health", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, _ := g.rest(t, http.MethodGet, p, ""); code != http.StatusOK {
				t.Fatalf("%s = %d", p, code)
			}
		}
		code, doc := g.rest(t, http.MethodGet, "/openapi.json", "")
		if code != http.StatusOK || doc["paths"].(map[string]any)["/v1/call"] == nil {
			t.Fatalf("openapi: %d", code)
		}
	})

	t.Run("rest_lists_sandbox_shop", func(t *testing.T) {
		code, body := g.rest(t, http.MethodGet, "/v1/authorizations", "")
		if code != http.StatusOK {
			t.Fatalf("status %d: %v", code, body)
		}
		list, _ := body["authorizations"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["open_id"] != openID {
			t.Fatalf("authorizations = %v", body)
		}
		a := list[0].(map[string]any)
		if a["status"] != "AUTHORIZATION_STATUS_ACTIVE" || a["access_token_expire_time"] == nil || len(a["scopes"].([]any)) == 0 {
			t.Fatalf("authorization fields: %v", a)
		}
	})

	now := time.Now()
	var restOrders []any
	t.Run("rest_call_order_list", func(t *testing.T) {
		code, body := g.rest(t, http.MethodPost, "/v1/call", callBody(t, openID, "open.order.cursor.list", orderParams(now, 7)))
		if code != http.StatusOK {
			t.Fatalf("status %d: %v", code, body)
		}
		if body["result"] != float64(1) || body["request_id"] == "" {
			t.Fatalf("body = %v", body)
		}
		data := body["data"].(map[string]any)
		restOrders, _ = data["orderList"].([]any)
		if len(restOrders) == 0 {
			t.Fatalf("no orders in the last 7 days: %v", data)
		}
	})

	t.Run("grpc_call_same_result", func(t *testing.T) {
		params, err := structpb.NewValue(orderParams(now, 7))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.cursor.list", Params: params})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetResult() != 1 {
			t.Fatalf("result %d", resp.GetResult())
		}
		got := resp.GetData().GetStructValue().GetFields()["orderList"].GetListValue().AsSlice()
		gj, _ := json.Marshal(got)
		rj, _ := json.Marshal(restOrders)
		if !bytes.Equal(gj, rj) {
			t.Fatalf("gRPC and REST orders differ:\n%s\n%s", gj, rj)
		}
	})

	t.Run("bad_input", func(t *testing.T) {
		client := gatewayv1.NewPlatformServiceClient(g.conn)
		for _, tc := range []struct {
			name     string
			req      *gatewayv1.CallRequest
			restBody string
			code     codes.Code
			http     int
			field    string
		}{
			{"no_method", &gatewayv1.CallRequest{OpenId: openID}, `{"open_id":"` + openID + `"}`, codes.InvalidArgument, 400, "method"},
			{"malformed_method", &gatewayv1.CallRequest{OpenId: openID, Method: "order list"}, `{"open_id":"` + openID + `","method":"order list"}`, codes.InvalidArgument, 400, "method"},
			{"params_not_object", &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: structpb.NewListValue(&structpb.ListValue{})}, `{"open_id":"` + openID + `","method":"open.order.detail","params":[1,2]}`, codes.InvalidArgument, 400, "params"},
			{"unknown_open_id", &gatewayv1.CallRequest{OpenId: "nosuchshop", Method: "open.order.detail"}, `{"open_id":"nosuchshop","method":"open.order.detail"}`, codes.NotFound, 404, ""},
			{"bad_open_id", &gatewayv1.CallRequest{OpenId: "../etc", Method: "open.order.detail"}, `{"open_id":"../etc","method":"open.order.detail"}`, codes.InvalidArgument, 400, "open_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := client.Call(context.Background(), tc.req)
				st := status.Convert(err)
				if st.Code() != tc.code {
					t.Fatalf("gRPC code = %s (%s), want %s", st.Code(), st.Message(), tc.code)
				}
				if tc.field != "" && !hasViolation(st, tc.field) {
					t.Fatalf("gRPC: no field violation for %s: %v", tc.field, st.Details())
				}
				code, body := g.rest(t, http.MethodPost, "/v1/call", tc.restBody)
				if code != tc.http {
					t.Fatalf("REST status = %d, want %d: %v", code, tc.http, body)
				}
				if tc.field != "" && !strings.Contains(fmt.Sprint(body["details"]), "field") {
					t.Fatalf("REST details lack the field violation: %v", body)
				}
			})
		}
		t.Run("oversized_body", func(t *testing.T) {
			big := `{"open_id":"` + openID + `","method":"open.order.detail","params":{"x":"` + strings.Repeat("a", MaxRequestBytes) + `"}}`
			code, _ := g.rest(t, http.MethodPost, "/v1/call", big)
			if code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
				t.Fatalf("REST oversized = %d", code)
			}
			params, _ := structpb.NewValue(map[string]any{"x": strings.Repeat("a", MaxRequestBytes)})
			_, err := client.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: params})
			if c := status.Code(err); c != codes.ResourceExhausted && c != codes.InvalidArgument {
				t.Fatalf("gRPC oversized = %s", c)
			}
		})
	})

	t.Run("platform_error_reaches_both_transports", func(t *testing.T) {
		// A 30-day window breaks the platform's 7-day rule: result 804001.
		params, _ := structpb.NewValue(orderParams(now, 30))
		_, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.cursor.list", Params: params})
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Fatalf("code %s: %s", st.Code(), st.Message())
		}
		info := errorInfo(st)
		if info == nil || info.GetReason() != "ERROR_REASON_PLATFORM_INVALID_ARGUMENT" || info.GetDomain() != "kwaixiaodian.com" ||
			info.GetMetadata()["result"] != "804001" || info.GetMetadata()["request_id"] == "" || info.GetMetadata()["error_msg"] == "" {
			t.Fatalf("ErrorInfo = %v", info)
		}
		code, body := g.rest(t, http.MethodPost, "/v1/call", callBody(t, openID, "open.order.cursor.list", orderParams(now, 30)))
		if code != http.StatusBadRequest {
			t.Fatalf("REST status %d", code)
		}
		det := fmt.Sprint(body["details"])
		for _, want := range []string{"ERROR_REASON_PLATFORM_INVALID_ARGUMENT", "804001", "kwaixiaodian.com"} {
			if !strings.Contains(det, want) {
				t.Fatalf("REST details lack %s: %s", want, det)
			}
		}
	})

	t.Run("list_apis", func(t *testing.T) {
		code, body := g.rest(t, http.MethodGet, "/v1/apis?prefix=open.order.cursor", "")
		if code != http.StatusOK || len(body["apis"].([]any)) == 0 {
			t.Fatalf("%d %v", code, body)
		}
	})

	t.Run("one_trace_and_no_secrets", func(t *testing.T) {
		code, _ := g.rest(t, http.MethodPost, "/v1/call", callBody(t, openID, "open.shop.info.get", map[string]any{}))
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		// The gRPC server span ends when the server's stats handler sees
		// the RPC finish, which may be just after the REST answer was
		// written: wait for the trace to be complete.
		var (
			spans                        []sdktrace.ReadOnlySpan
			httpSpan, grpcSpan, upstream sdktrace.ReadOnlySpan
			byID                         map[trace.SpanID]sdktrace.ReadOnlySpan
		)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			spans = g.spans.Ended()
			httpSpan, grpcSpan, upstream = nil, nil, nil
			for _, s := range spans {
				if s.Name() == "POST /v1/call" && s.SpanKind() == trace.SpanKindServer {
					httpSpan = s
				}
			}
			if httpSpan != nil {
				tid := httpSpan.SpanContext().TraceID()
				byID = map[trace.SpanID]sdktrace.ReadOnlySpan{}
				for _, s := range spans {
					if s.SpanContext().TraceID() == tid {
						byID[s.SpanContext().SpanID()] = s
					}
				}
				for _, s := range byID {
					if s.Name() == "kwaishop.gateway.v1.PlatformService/Call" && s.SpanKind() == trace.SpanKindServer {
						grpcSpan = s
					}
					if s.Name() == "kwaishop open.shop.info.get" && s.SpanKind() == trace.SpanKindClient {
						upstream = s
					}
				}
			}
			if (httpSpan != nil && grpcSpan != nil && upstream != nil) || time.Now().After(deadline) {
				break
			}
		}
		if httpSpan == nil {
			t.Fatal("no HTTP server span")
		}
		if grpcSpan == nil || upstream == nil {
			t.Fatalf("trace lacks gRPC server or upstream span; spans: %v", names(byID))
		}
		if !descends(grpcSpan, httpSpan, byID) || !descends(upstream, grpcSpan, byID) {
			t.Fatal("spans are not parented HTTP → gRPC → upstream")
		}

		secrets := g.secrets(t)
		for _, s := range spans {
			check := []string{s.Name()}
			for _, a := range s.Attributes() {
				check = append(check, string(a.Key)+"="+a.Value.Emit())
				if a.Key == attribute.Key("url.full") && strings.Contains(a.Value.Emit(), "?") {
					t.Errorf("span %s records a query string", s.Name())
				}
			}
			for _, e := range s.Events() {
				for _, a := range e.Attributes {
					check = append(check, a.Value.Emit())
				}
			}
			for _, c := range check {
				for _, sec := range secrets {
					if strings.Contains(c, sec) {
						t.Errorf("span %s leaks a secret in %q", s.Name(), c)
					}
				}
				if strings.Contains(c, "sign=") || strings.Contains(c, "access_token=") {
					t.Errorf("span %s carries signed parameters: %q", s.Name(), c)
				}
			}
		}
		logs := g.logs.String()
		for _, sec := range secrets {
			if strings.Contains(logs, sec) {
				t.Error("log output contains a secret")
			}
		}
		if !strings.Contains(logs, "trace_id") {
			t.Error("logs carry no trace_id")
		}
	})
}

// secrets returns every secret the running gateway holds: app credentials
// from the sandbox credentials file and the shop's tokens from the store.
func (g *gateway) secrets(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(g.dataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f sandboxFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{NATSURL: g.info.NATSURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ring, err := store.ParseKeyring(f.TokenKeys)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := st.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := ts.Get(ctx, g.info.SandboxOpenID)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{f.AppSecret, f.SignSecret, f.MessageKey, a.AccessToken, a.RefreshToken}
	for _, k := range strings.Split(f.TokenKeys, ",") {
		out = append(out, k[strings.Index(k, ":")+1:])
	}
	for _, s := range out {
		if len(s) < 16 {
			t.Fatalf("implausible secret %q", s)
		}
	}
	return out
}

func names(m map[trace.SpanID]sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range m {
		out = append(out, s.Name())
	}
	return out
}

// descends reports whether child has ancestor among its parents in spans.
func descends(child, ancestor sdktrace.ReadOnlySpan, spans map[trace.SpanID]sdktrace.ReadOnlySpan) bool {
	for s := child; s != nil; {
		p := s.Parent().SpanID()
		if p == ancestor.SpanContext().SpanID() {
			return true
		}
		s = spans[p]
	}
	return false
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i
		}
	}
	return nil
}

func hasViolation(st *status.Status, field string) bool {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}
