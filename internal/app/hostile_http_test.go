package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/rest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// These tests replay the probes of the HTTP edge (docs/security.md): a
// browser page on another site, a DNS-rebinding page, malformed requests and
// numbers a double cannot hold, against a running gateway.

// edgeProbe sends one request as a hostile client would: any method, path,
// body, headers and Host. It returns the status, the raw body and the
// response headers.
func edgeProbe(t *testing.T, g *gateway, method, path, body string, header map[string]string, host string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

// edgeRaw sends one HTTP/1.1 request written byte for byte (what Go's
// client refuses to send: bad escapes, control bytes in headers).
func edgeRaw(t *testing.T, g *gateway, method, target string, header map[string]string) (int, []byte, http.Header) {
	t.Helper()
	c, err := net.DialTimeout("tcp", g.info.HTTPAddr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + g.info.HTTPAddr + "\r\nConnection: close\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

// edgeWantError asserts the REST API's one error shape: the HTTP status,
// a JSON body with the gRPC code's name, a message and an ErrorInfo of the
// gateway's domain; it returns the BadRequest detail (nil if none).
func edgeWantError(t *testing.T, code int, raw []byte, hdr http.Header, wantHTTP int, wantCode codes.Code) *errdetails.BadRequest {
	t.Helper()
	if code != wantHTTP {
		t.Fatalf("HTTP %d, want %d: %s", code, wantHTTP, raw)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q: %s", ct, raw)
	}
	e, info, br := parseRESTError(t, raw)
	if e.Code != rest.CodeName(wantCode) || e.Message == "" {
		t.Fatalf("body code %q message %q, want code %s: %s", e.Code, e.Message, rest.CodeName(wantCode), raw)
	}
	if info == nil || info.GetDomain() != service.DomainGateway || info.GetReason() == "" {
		t.Fatalf("no gateway ErrorInfo in %s", raw)
	}
	return br
}

func edgeOrderStatus(t *testing.T, g *gateway, id int64) gatewayv1.OrderStatus {
	t.Helper()
	o, err := gatewayv1.NewOrderServiceClient(g.conn).GetOrder(context.Background(), &gatewayv1.GetOrderRequest{OpenId: g.info.SandboxOpenID, OrderId: id})
	if err != nil {
		t.Fatal(err)
	}
	return o.GetOrder().GetStatus()
}

// edgeGateway is a keyless sandbox gateway with one allowed extra host and
// one trusted origin.
func edgeGateway(t *testing.T) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	mustSet(&cfg, "KWAISHOP_ALLOWED_HOSTS", "gw.example.com,tunnel.example.net:8443")
	mustSet(&cfg, "KWAISHOP_ALLOWED_ORIGINS", "https://console.example.com")
	return startGatewayWith(t, cfg, Options{})
}

// Finding 3: a page on another site posts text/plain (no preflight) and a
// DNS-rebinding page reads answers under its own host name.
func TestHostileHTTP_BrowserOrigin(t *testing.T) {
	g := edgeGateway(t)
	openID := g.info.SandboxOpenID
	closePath := func(id int64) string { return shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":close") }
	body := func() string { return `{"request_id":"` + rid(t) + `"}` }
	self := "http://" + g.info.HTTPAddr

	t.Run("cross_site_text_plain_post_refused", func(t *testing.T) {
		id := g.newOrder(t, 10)
		for _, h := range []map[string]string{
			{"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"},
			{"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Content-Type": "application/json", "Origin": "https://evil.example"}, // even with JSON (CORS would preflight it)
			{"Content-Type": "text/plain", "Origin": "null"},                       // a sandboxed frame
			{"Content-Type": "text/plain", "Sec-Fetch-Site": "same-site"},          // a sibling subdomain
		} {
			code, raw, hdr := edgeProbe(t, g, http.MethodPost, closePath(id), body(), h, "")
			edgeWantError(t, code, raw, hdr, http.StatusForbidden, codes.PermissionDenied)
		}
		if s := edgeOrderStatus(t, g, id); s == gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
			t.Fatal("a cross-site request closed the order")
		}
	})

	t.Run("non_json_body_refused", func(t *testing.T) {
		id := g.newOrder(t, 10)
		for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"} {
			// Same origin (or no browser at all): the content type alone is refused.
			code, raw, hdr := edgeProbe(t, g, http.MethodPost, closePath(id), body(), map[string]string{"Content-Type": ct, "Origin": self}, "")
			edgeWantError(t, code, raw, hdr, http.StatusUnsupportedMediaType, codes.InvalidArgument)
			code, raw, hdr = edgeProbe(t, g, http.MethodPost, closePath(id), body(), map[string]string{"Content-Type": ct}, "")
			edgeWantError(t, code, raw, hdr, http.StatusUnsupportedMediaType, codes.InvalidArgument)
		}
		if s := edgeOrderStatus(t, g, id); s == gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
			t.Fatal("a non-JSON request closed the order")
		}
	})

	t.Run("json_same_origin_and_trusted_origin_served", func(t *testing.T) {
		for _, h := range []map[string]string{
			{"Content-Type": "application/json; charset=utf-8", "Origin": self, "Sec-Fetch-Site": "same-origin"},
			{"Content-Type": "application/merge-patch+json", "Origin": "https://console.example.com", "Sec-Fetch-Site": "cross-site"},
			{"Content-Type": "Application/JSON"},
			{}, // no content type: not a browser form (a browser's bodies always come with an Origin)
		} {
			id := g.newOrder(t, 10)
			code, raw, _ := edgeProbe(t, g, http.MethodPost, closePath(id), body(), h, "")
			if code != http.StatusOK {
				t.Fatalf("%v: HTTP %d: %s", h, code, raw)
			}
			if s := edgeOrderStatus(t, g, id); s != gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
				t.Fatalf("%v: order status %s after close", h, s)
			}
		}
		// Reads from anywhere stay possible (the browser does not let the page read them).
		if code, raw, _ := edgeProbe(t, g, http.MethodGet, "/v1/authorizations", "", map[string]string{"Origin": "https://evil.example"}, ""); code != http.StatusOK {
			t.Fatalf("GET with a foreign Origin: %d %s", code, raw)
		}
	})

	t.Run("rebinding_host_refused", func(t *testing.T) {
		_, port, _ := strings.Cut(g.info.HTTPAddr, ":")
		for _, host := range []string{"attacker.example", "attacker.example:" + port, "localhost.attacker.example:" + port, "gw.example.com.evil.example", "tunnel.example.net:9999", "127.0.0.1.nip.io:" + port} {
			code, raw, hdr := edgeProbe(t, g, http.MethodGet, "/v1/authorizations", "", nil, host)
			edgeWantError(t, code, raw, hdr, http.StatusForbidden, codes.PermissionDenied)
			if bytes.Contains(raw, []byte(openID)) {
				t.Fatalf("Host %s: the refusal holds data: %s", host, raw)
			}
			code, raw, hdr = edgeProbe(t, g, http.MethodGet, "/dashboard/", "", nil, host)
			edgeWantError(t, code, raw, hdr, http.StatusForbidden, codes.PermissionDenied)
			id := g.newOrder(t, 10)
			code, raw, hdr = edgeProbe(t, g, http.MethodPost, closePath(id), body(), map[string]string{"Content-Type": "application/json"}, host)
			edgeWantError(t, code, raw, hdr, http.StatusForbidden, codes.PermissionDenied)
			if s := edgeOrderStatus(t, g, id); s == gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
				t.Fatalf("Host %s closed the order", host)
			}
		}
		for _, host := range []string{g.info.HTTPAddr, "127.0.0.1", "localhost", "LocalHost:" + port, "localhost.:" + port, "[::1]:" + port, "[::1]", "gw.example.com", "GW.example.com:443", "tunnel.example.net:8443"} {
			if code, raw, _ := edgeProbe(t, g, http.MethodGet, "/v1/authorizations", "", nil, host); code != http.StatusOK {
				t.Fatalf("Host %s: %d %s", host, code, raw)
			}
		}
	})

	t.Run("real_browser", func(t *testing.T) {
		b := startBrowser(t)
		if b == nil {
			t.Skip(noBrowser)
		}
		// The dashboard (same-origin fetches of /v1/stats/...) still draws.
		b.load(t, g)
		if errs := b.jsErrors(); len(errs) > 0 {
			t.Fatalf("dashboard JavaScript errors: %v", errs)
		}
		// A page on another site tries what a browser sends without a
		// preflight: a text/plain fetch, a fetch of an untyped Blob (no
		// Content-Type at all) and a text/plain form whose body is JSON.
		id := g.newOrder(t, 10)
		target := "http://" + g.info.HTTPAddr + closePath(id)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><body><iframe name="sink"></iframe>
<form id="f" method="POST" action="%[1]s" enctype="text/plain" target="sink"><input name='{"request_id":"evil-form","x":"' value='"}'></form>
<script>
Promise.allSettled([
  fetch(%[1]q, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"request_id":"evil-fetch"}'}),
  fetch(%[1]q, {method: "POST", mode: "no-cors", body: new Blob(['{"request_id":"evil-blob"}'])}),
]).then(() => {
  document.querySelector("iframe").onload = () => { document.body.dataset.done = "true"; };
  document.getElementById("f").submit();
});
</script>`, target)
		}))
		t.Cleanup(evil.Close)
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)), // another site
			chromedp.WaitVisible(chromedp.CSS(`body[data-done="true"]`)),
		); err != nil {
			t.Fatalf("attacking page: %v", err)
		}
		if s := edgeOrderStatus(t, g, id); s == gatewayv1.OrderStatus_ORDER_STATUS_CLOSED {
			t.Fatal("a page on another site closed the order")
		}
		// The three requests reached the gateway and were refused there
		// (not merely blocked by the browser).
		if n := strings.Count(g.logs.String(), `"reason":"cross-origin","origin":"http://localhost:`); n < 3 {
			t.Fatalf("%d cross-origin refusals logged, want 3:\n%s", n, g.logs)
		}
	})

	t.Run("platform_browser_and_probe_routes_keep_any_host", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, raw, _ := edgeProbe(t, g, http.MethodGet, p, "", nil, "gateway.internal:8080"); code != http.StatusOK {
				t.Fatalf("%s: %d %s", p, code, raw)
			}
		}
		// The platform pushes text/plain (through a tunnel, under its host
		// name): the intake answers it, neither the host nor the content-type
		// check does.
		code, raw, _ := edgeProbe(t, g, http.MethodPost, PushPath, "not-a-push", map[string]string{"Content-Type": "text/plain;charset=utf-8"}, "push.tunnel.example")
		if code == http.StatusForbidden || code == http.StatusUnsupportedMediaType || code >= 500 {
			t.Fatalf("push: %d %s", code, raw)
		}
		if code, raw, _ := edgeProbe(t, g, http.MethodGet, "/oauth/callback?code=x&state=y", "", nil, "merchant.tunnel.example"); code == http.StatusForbidden || code >= 500 {
			t.Fatalf("oauth callback: %d %s", code, raw)
		}
	})
}

// With API keys, a rebinding page has no key to send: the Host check is
// off, the Origin check stays on.
func TestHostileHTTP_BrowserOriginWithKeys(t *testing.T) {
	_, gws, openID := securedReplicas(t, 1, sandbox.Config{Seed: 21}, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*")
	})
	g := gws[0]
	auth := map[string]string{"Authorization": "Bearer " + keyAdmin}
	if code, raw, _ := edgeProbe(t, g, http.MethodGet, "/v1/authorizations/"+openID, "", auth, "gateway.svc.cluster.local:8080"); code != http.StatusOK {
		t.Fatalf("keyed, any Host: %d %s", code, raw)
	}
	code, raw, hdr := edgeProbe(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"open.shop.info.get"}`,
		map[string]string{"Authorization": "Bearer " + keyAdmin, "Content-Type": "text/plain", "Origin": "https://evil.example"}, "")
	edgeWantError(t, code, raw, hdr, http.StatusForbidden, codes.PermissionDenied)
}

// Finding 6 over REST: client mistakes are 4xx in the API's error shape,
// never 5xx.
func TestHostileHTTP_ClientErrors(t *testing.T) {
	g := edgeGateway(t)
	openID := g.info.SandboxOpenID
	jsonCT := map[string]string{"Content-Type": "application/json"}

	t.Run("invalid_utf8_in_path_and_query", func(t *testing.T) {
		for _, tc := range []struct{ path, field string }{
			{"/v1/authorizations/%ff", "open_id"},
			{"/v1/authorizations/%C3%28", "open_id"},
			{"/v1/shops/%ff/orders", "open_id"},
			{"/v1/shops/" + openID + "/orders?page_token=%ff", "page_token"},
			{"/v1/shops/" + openID + "/orders/1?x=1&open_id=%fe", "open_id"},
		} {
			code, raw, hdr := edgeProbe(t, g, http.MethodGet, tc.path, "", nil, "")
			br := edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument)
			if !violates(br, tc.field) {
				t.Fatalf("%s: no violation on %s: %s", tc.path, tc.field, raw)
			}
		}
		code, raw, hdr := edgeProbe(t, g, http.MethodPost, "/v1/authorizations/%ff:refresh", "{}", jsonCT, "")
		if br := edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument); !violates(br, "open_id") {
			t.Fatalf("refresh: %s", raw)
		}
		// net/http itself answers a request line it cannot parse: 400, in its
		// own plain-text form (there is no hook for the body).
		if code, raw, _ = edgeRaw(t, g, http.MethodGet, "/v1/authorizations/%zz", nil); code != http.StatusBadRequest {
			t.Fatalf("bad escape: %d %s", code, raw)
		}
		code, raw, hdr = edgeRaw(t, g, http.MethodGet, "/v1/shops/"+openID+"/orders?page_token=%zz", nil)
		edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument)
	})

	t.Run("non_printable_forwarded_headers", func(t *testing.T) {
		for _, h := range []map[string]string{
			{"Authorization": "Bearer a\tb"},
			{"Authorization": "Bearer caf\xc3\xa9"},
			{"Authorization": "Bearer x\ty"},
			{"X-Forwarded-Host": "a\tb"},
			{"X-Forwarded-For": "1.2.3.4,\xff"},
		} {
			code, raw, hdr := edgeRaw(t, g, http.MethodGet, "/v1/authorizations", h)
			edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument)
			if bytes.Contains(raw, []byte("Bearer")) {
				t.Fatalf("the Authorization value is echoed: %s", raw)
			}
		}
	})

	t.Run("wrong_verb_is_405_with_allow", func(t *testing.T) {
		for _, tc := range []struct{ method, path, allow string }{
			{http.MethodPut, "/v1/call", "POST"},
			{http.MethodGet, "/v1/call", "POST"},
			{http.MethodDelete, "/v1/authorizations", "GET"},
			{http.MethodPatch, "/v1/authorizations/" + openID, "DELETE, GET"},
			{http.MethodDelete, "/v1/call", "POST"},
			{http.MethodPut, shopPath(openID, "/orders/1:close"), "GET, POST"}, // GET reads order "1:close"
			{http.MethodOptions, "/v1/call", "POST"},
		} {
			code, raw, hdr := edgeProbe(t, g, tc.method, tc.path, "", nil, "")
			edgeWantError(t, code, raw, hdr, http.StatusMethodNotAllowed, codes.Unimplemented)
			if got := hdr.Get("Allow"); got != tc.allow {
				t.Fatalf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
			}
		}
		code, raw, hdr := edgeProbe(t, g, http.MethodGet, "/v1/no-such-thing", "", nil, "")
		edgeWantError(t, code, raw, hdr, http.StatusNotFound, codes.NotFound)
	})

	t.Run("one_json_value_per_body", func(t *testing.T) {
		before := g.calls(t, "open.shop.info.get")
		good := `{"open_id":"` + openID + `","method":"open.shop.info.get"}`
		for _, b := range []string{good + "xyz", good + `{"open_id":"x"}`, good + " 1", good + "]", "{" + good} {
			code, raw, hdr := edgeProbe(t, g, http.MethodPost, "/v1/call", b, jsonCT, "")
			edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument)
		}
		if after := g.calls(t, "open.shop.info.get"); after != before {
			t.Fatalf("malformed bodies reached the platform: %d calls", after-before)
		}
		if code, raw, _ := edgeProbe(t, g, http.MethodPost, "/v1/call", " \n"+good+"\r\n\t ", jsonCT, ""); code != http.StatusOK {
			t.Fatalf("whitespace around the body: %d %s", code, raw)
		}
		// Past the 1 MiB cap: 413, same shape.
		code, raw, hdr := edgeProbe(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+strings.Repeat("a", MaxRequestBytes)+`"}`, jsonCT, "")
		edgeWantError(t, code, raw, hdr, http.StatusRequestEntityTooLarge, codes.InvalidArgument)
		// An empty body is an empty request (and validated as such).
		code, raw, hdr = edgeProbe(t, g, http.MethodPost, "/v1/call", "", jsonCT, "")
		if br := edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument); !violates(br, "method") {
			t.Fatalf("empty body: %s", raw)
		}
	})

	t.Run("params_nesting_limit", func(t *testing.T) {
		before := g.calls(t, "open.shop.info.get")
		for _, depth := range []int{service.MaxParamsDepth + 1, 6000} {
			body := `{"open_id":"` + openID + `","method":"open.shop.info.get","params":` + edgeNestedJSON(depth) + `}`
			code, raw, hdr := edgeProbe(t, g, http.MethodPost, "/v1/call", body, jsonCT, "")
			if br := edgeWantError(t, code, raw, hdr, http.StatusBadRequest, codes.InvalidArgument); !violates(br, "params") {
				t.Fatalf("depth %d: no violation on params: %.300s", depth, raw)
			}
		}
		if after := g.calls(t, "open.shop.info.get"); after != before {
			t.Fatalf("too deep params reached the platform: %d calls", after-before)
		}
		body := `{"open_id":"` + openID + `","method":"open.shop.info.get","skip_validation":true,"params":` + edgeNestedJSON(service.MaxParamsDepth) + `}`
		if code, raw, _ := edgeProbe(t, g, http.MethodPost, "/v1/call", body, jsonCT, ""); code != http.StatusOK {
			t.Fatalf("depth %d: %d %s", service.MaxParamsDepth, code, raw)
		}
	})
}

// edgeNestedJSON is an object holding arrays, depth levels in all.
func edgeNestedJSON(depth int) string {
	return `{"x":` + strings.Repeat("[", depth-1) + "1" + strings.Repeat("]", depth-1) + `}`
}

// edgeNestedValue is edgeNestedJSON as a Value.
func edgeNestedValue(depth int) *structpb.Value {
	v := structpb.NewNumberValue(1)
	for range depth - 1 {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"x": v}})
}

// Finding 6 over gRPC: params nested past the documented depth are
// InvalidArgument on params, however deep (the proto decoder's own limit
// used to answer Internal).
func TestHostileGRPC_ParamsNesting(t *testing.T) {
	g := startGateway(t)
	c := gatewayv1.NewPlatformServiceClient(g.conn)
	ctx := context.Background()
	before := g.calls(t, "open.shop.info.get")
	// 120000 levels: about the deepest a 1 MiB request can nest.
	for _, depth := range []int{service.MaxParamsDepth + 1, 6000, 120000} {
		_, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get", Params: edgeNestedValue(depth)})
		if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "params") {
			t.Fatalf("depth %d: %v", depth, err)
		}
	}
	if after := g.calls(t, "open.shop.info.get"); after != before {
		t.Fatalf("too deep params reached the platform: %d calls", after-before)
	}
	if _, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get", Params: edgeNestedValue(service.MaxParamsDepth), SkipValidation: true}); err != nil {
		t.Fatalf("depth %d: %v", service.MaxParamsDepth, err)
	}
}

// edgeParamSink is a platform (the sandbox) that records the `param` of every
// API call it receives.
type edgeParamSink struct {
	inner http.Handler
	mu    sync.Mutex
	got   []string
}

func (p *edgeParamSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/open/") {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		param := r.URL.Query().Get("param")
		if form, err := url.ParseQuery(string(raw)); err == nil && form.Has("param") {
			param = form.Get("param")
		}
		p.mu.Lock()
		p.got = append(p.got, param)
		p.mu.Unlock()
	}
	p.inner.ServeHTTP(w, r)
}

func (p *edgeParamSink) params() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// Finding 7: a number in params reaches the platform with the value the
// caller sent: REST params as written, gRPC doubles with their exact digits.
func TestHostileHTTP_ExactParams(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{Seed: 22})
	if err != nil {
		t.Fatal(err)
	}
	sink := &edgeParamSink{inner: sb.Handler()}
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	sc := sb.Config()
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
	cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	cfg.Message.ReconcileInterval = 0
	g := startGatewayWith(t, cfg, Options{})
	// open_id "" is an app-level call (client_credentials): the platform
	// refuses a shop API with it, after it has received the params.
	const method = "open.seller.order.refund.detail"
	call := func(params string) (int, []byte, http.Header) {
		// skip_validation: these params are not the API's (the catalog check is TestLossless_Validation's).
		return edgeProbe(t, g, http.MethodPost, "/v1/call", `{"method":"`+method+`","skip_validation":true,"params":`+params+`}`, map[string]string{"Content-Type": "application/json"}, "")
	}

	t.Run("rest_numbers_sent_as_written", func(t *testing.T) {
		// REST params are the body's JSON text: sent with every digit as
		// written, whitespace removed (docs/calls.md).
		for _, tc := range []struct{ params, want string }{
			{`{"refundId":9007199254740993}`, `{"refundId":9007199254740993}`},
			{`{"refundId": 1234567890123456789 }`, `{"refundId":1234567890123456789}`},
			{`{"a":{"b":[1,2,{"id":-9223372036854775807}]}}`, `{"a":{"b":[1,2,{"id":-9223372036854775807}]}}`},
			{`{"n":123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
			{`{"t":1.7e12,"big":1e20,"p":19.99,"z":-0.0,"tiny":1e-7,"e":2.5E+3}`, `{"t":1.7e12,"big":1e20,"p":19.99,"z":-0.0,"tiny":1e-7,"e":2.5E+3}`},
			{`{"x":1.000000000000000000000000000000}`, `{"x":1.000000000000000000000000000000}`},
		} {
			n := len(sink.params())
			code, raw, _ := call(tc.params)
			if code == http.StatusBadRequest {
				t.Fatalf("%s refused: %s", tc.params, raw)
			}
			got := sink.params()
			if len(got) != n+1 || got[n] != tc.want {
				t.Fatalf("%s reached the platform as %v, want %s", tc.params, got[n:], tc.want)
			}
		}
	})

	t.Run("grpc_double_sent_with_exact_digits", func(t *testing.T) {
		c := gatewayv1.NewPlatformServiceClient(g.conn)
		for _, tc := range []struct {
			n    float64
			want string
		}{
			{1e16, "10000000000000000"},
			{9007199254740993, "9007199254740992"}, // the caller's double is ...992
			{1234567890123456789, "1234567890123456768"},
			{-9223372036854775808, "-9223372036854775808"},
			{1 << 63, "9223372036854775808"},
			{0.1, "0.1"},
			{1e21, "1e+21"},
		} {
			n := len(sink.params())
			params := structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"refundId": structpb.NewNumberValue(tc.n)}})
			_, _ = c.Call(context.Background(), &gatewayv1.CallRequest{Method: method, Params: params, SkipValidation: true})
			got := sink.params()
			if want := `{"refundId":` + tc.want + `}`; len(got) != n+1 || got[n] != want {
				t.Fatalf("%v reached the platform as %v, want %s", tc.n, got[n:], want)
			}
		}
	})
}

// Headers gRPC metadata cannot carry are dropped before grpc-gateway sees
// them (it would log each to stderr); the ones it forwards unchecked are
// kept for the edge to refuse.
func TestScrubHeaders(t *testing.T) {
	h := http.Header{
		"User-Agent":            {"caf\xc3\xa9", "curl/8"},
		"Cookie":                {"a=\xe2\x9c\x93"},
		"Grpc-Metadata-A!b":     {"x"},
		"Grpc-Metadata-Ok":      {"fine"},
		"Grpc-Metadata-Raw-Bin": {"AAEC"},
		"Authorization":         {"Bearer a\tb"},
		"X-Custom":              {"\xff"}, // not forwarded: untouched
	}
	scrubHeaders(h)
	want := http.Header{
		"User-Agent":            {"curl/8"},
		"Grpc-Metadata-Ok":      {"fine"},
		"Grpc-Metadata-Raw-Bin": {"AAEC"},
		"Authorization":         {"Bearer a\tb"},
		"X-Custom":              {"\xff"},
	}
	if fmt.Sprint(h) != fmt.Sprint(want) {
		t.Fatalf("scrubbed to %q, want %q", h, want)
	}
}

// The edge settings are validated at start with a message naming them.
func TestEdgeSettingsValidated(t *testing.T) {
	for _, tc := range []struct{ hosts, origins, want string }{
		{"http://gw.example.com", "", "KWAISHOP_ALLOWED_HOSTS"},
		{"*.example.com", "", "KWAISHOP_ALLOWED_HOSTS"},
		{"gw.example.com/path", "", "KWAISHOP_ALLOWED_HOSTS"},
		{"gw.example.com:0", "", "KWAISHOP_ALLOWED_HOSTS"},
		{"", "console.example.com", "KWAISHOP_ALLOWED_ORIGINS"},
		{"", "https://console.example.com/app", "KWAISHOP_ALLOWED_ORIGINS"},
		{"", "ftp://console.example.com", "KWAISHOP_ALLOWED_ORIGINS"},
		{"gw.example.com, tunnel.example.net:8443,[::1]:9", "https://console.example.com, http://localhost:3000", ""},
	} {
		cfg := config.Defaults()
		err := errors.Join(cfg.Set("KWAISHOP_ALLOWED_HOSTS", tc.hosts), cfg.Set("KWAISHOP_ALLOWED_ORIGINS", tc.origins), cfg.Validate())
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("hosts %q origins %q: %v, want an error naming %q", tc.hosts, tc.origins, err, tc.want)
		}
	}
	// An origin is compared as a browser writes it.
	got, err := auth.ParseOrigins("HTTPS://Console.Example.com:443,http://[::1]:80,http://localhost:3000")
	if err != nil || strings.Join(got, " ") != "https://console.example.com http://[::1] http://localhost:3000" {
		t.Fatalf("%q %v", got, err)
	}
}
