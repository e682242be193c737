package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

func staticToken(tok string) TokenSource {
	return TokenSourceFunc(func(context.Context) (string, error) { return tok, nil })
}

// TestClient_Do_Vectors sends the protocol's signature vectors (the inputs
// of sign/testdata/platform-vectors.json)
// through the whole chain and checks the wire format the fake platform saw.
func TestClient_Do_Vectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		param      string
		signMethod sign.Method
		now        int64
		wantVerb   string
		wantPath   string
		wantParam  string
		wantSign   string
	}{
		{
			name:   "v1_hmac_get",
			method: "open.order.cursor.list", signMethod: sign.HMACSHA256, now: 1700000000000,
			param:    `{"orderViewStatus":1,"pageSize":50,"beginTime":1699900000000,"endTime":1700000000000,"cursor":""}`,
			wantVerb: http.MethodGet, wantPath: "/open/order/cursor/list",
			wantSign: "W0sOjVWf4YFFZ+bc6qMP7YpQFEwgNeDn85i2aJbO7ro=",
		},
		{
			name:   "v2_md5_get",
			method: "open.order.cursor.list", signMethod: sign.MD5, now: 1700000000000,
			param:    `{"orderViewStatus":1,"pageSize":50,"beginTime":1699900000000,"endTime":1700000000000,"cursor":""}`,
			wantVerb: http.MethodGet, wantPath: "/open/order/cursor/list",
			wantSign: "dc81d8ff88c1f79457c86685f07fa971",
		},
		{
			name:   "v3_hmac_post_utf8",
			method: "open.seller.order.goods.deliver", signMethod: sign.HMACSHA256, now: 1700000123456,
			param:    `{"orderId":2617801683312294,"expressNo":"SF1234567890","expressCode":4,"remark":"短袖 测试"}`,
			wantVerb: http.MethodPost, wantPath: "/open/seller/order/goods/deliver",
			wantSign: "Lz1souuhO7XWWlOxa7dCtMl22kMsoj4/GQrFwcTtzx4=",
		},
		{
			name:   "v4_md5_empty_param_defaults_to_object",
			method: "open.shop.info.get", signMethod: sign.MD5, now: 1700000200000,
			param:    "",
			wantVerb: http.MethodGet, wantPath: "/open/shop/info/get", wantParam: "{}",
			wantSign: "c2440d590a9a6e483c8d965a760c2b59",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t, okJSON(`{"result":1,"data":{"ok":true},"requestId":"r-1"}`))
			c := newTestClient(t, up.URL, func(cfg *Config) {
				cfg.SignMethod = tt.signMethod
				cfg.Now = func() time.Time { return time.UnixMilli(tt.now) }
			})
			var param json.RawMessage
			if tt.param != "" {
				param = json.RawMessage(tt.param)
			}
			resp, err := c.Do(context.Background(), &Request{Method: tt.method, Param: param, Token: staticToken(testToken)})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Data) != `{"ok":true}` || resp.RequestID != "r-1" || resp.Result != 1 || resp.HTTPStatus != 200 {
				t.Errorf("response = %+v", resp)
			}
			hits := up.Hits()
			if len(hits) != 1 {
				t.Fatalf("%d requests, want 1", len(hits))
			}
			h := hits[0]
			if h.Method != tt.wantVerb || h.Path != tt.wantPath {
				t.Errorf("request %s %s, want %s %s", h.Method, h.Path, tt.wantVerb, tt.wantPath)
			}
			if tt.wantVerb == http.MethodPost {
				if len(h.Query) != 0 {
					t.Errorf("POST query = %v, want none", h.Query)
				}
				if !strings.HasPrefix(h.ContentType, "application/x-www-form-urlencoded") {
					t.Errorf("Content-Type = %q", h.ContentType)
				}
			}
			wantParam := tt.wantParam
			if wantParam == "" {
				wantParam = tt.param
			}
			want := map[string]string{
				"appkey": testAppKey, "method": tt.method, "version": "1", "param": wantParam,
				"access_token": testToken, "timestamp": fmt.Sprint(tt.now), "signMethod": string(tt.signMethod),
				"sign": tt.wantSign,
			}
			if len(h.Params) != len(want) {
				t.Errorf("params %v, want exactly %v", h.Params, want)
			}
			for k, v := range want {
				if got := h.Params.Get(k); got != v {
					t.Errorf("param %s = %q, want %q", k, got, v)
				}
			}
			if !h.SignOK {
				t.Error("signature does not verify")
			}
		})
	}
}

func TestClient_Do_HTTPMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, override, want string
	}{
		{"catalog_get", "open.order.detail", "", http.MethodGet},
		{"catalog_post", "open.item.sku.stock.update", "", http.MethodPost},
		{"catalog_irregular_get", "open.address.seller.create", "", http.MethodGet},
		{"unknown_write_name", "open.widget.thing.update", "", http.MethodPost},
		{"unknown_camel_write", "open.widget.thing.batchCreate", "", http.MethodPost},
		{"unknown_read_name", "open.widget.thing.list", "", http.MethodGet},
		{"unknown_address_is_not_add", "open.widget.address", "", http.MethodGet},
		{"override_post", "open.order.detail", "post", http.MethodPost},
		{"override_get", "open.item.sku.stock.update", "GET", http.MethodGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t, okJSON(`{"result":1}`))
			c := newTestClient(t, up.URL)
			if _, err := c.Do(context.Background(), &Request{Method: tt.method, HTTPMethod: tt.override, Param: json.RawMessage(`{"a":1}`), Token: staticToken("t")}); err != nil {
				t.Fatal(err)
			}
			h := up.Hits()[0]
			if h.Method != tt.want {
				t.Fatalf("verb %s, want %s", h.Method, tt.want)
			}
			if h.Path != "/"+strings.ReplaceAll(tt.method, ".", "/") {
				t.Errorf("path %s", h.Path)
			}
			if h.Params.Get("param") != `{"a":1}` || h.Params.Get("access_token") != "t" || !h.SignOK {
				t.Errorf("params %v sign ok %v", h.Params, h.SignOK)
			}
		})
	}
}

func TestClient_Do_NoTokenSource(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":1}`))
	c := newTestClient(t, up.URL)
	if _, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Version: 2}); err != nil {
		t.Fatal(err)
	}
	h := up.Hits()[0]
	if _, ok := h.Params["access_token"]; ok {
		t.Error("access_token sent without a TokenSource")
	}
	if h.Params.Get("version") != "2" || !h.SignOK {
		t.Errorf("params %v, sign ok %v", h.Params, h.SignOK)
	}
}

func TestClient_Do_InvalidRequest(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":1}`))
	c := newTestClient(t, up.URL)
	tests := map[string]*Request{
		"bad_name":        {Method: "order.detail"},
		"two_segments":    {Method: "open.detail"},
		"param_array":     {Method: "open.order.detail", Param: json.RawMessage(`[1]`)},
		"param_invalid":   {Method: "open.order.detail", Param: json.RawMessage(`{"a":`)},
		"verb":            {Method: "open.order.detail", HTTPMethod: "PUT"},
		"version":         {Method: "open.order.detail", Version: -1},
		"name_with_slash": {Method: "open.order/../detail"},
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.Do(context.Background(), r)
			if !errors.Is(err, ErrInvalidRequest) || !IsClass(err, ClassInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidRequest/invalid_argument", err)
			}
		})
	}
	if n := len(up.Hits()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

// TestClient_Do_Retry checks when Do retries, and that each attempt passes
// the whole chain again (new token, timestamp and signature).
func TestClient_Do_Retry(t *testing.T) {
	t.Parallel()
	rateLimited := `{"result":1016,"error_msg":"Exceed qps limit, KEY [apiId:x;appkey:ks1], MAX_QPS [300.0]"}`
	tests := []struct {
		name      string
		method    string // API name; catalog decides the verb
		responses []string
		status    []int
		wantHits  int
		wantClass Class // ClassUnknown = success
		wantRetry bool  // Error.Retryable
	}{
		{name: "rate_limit_get", method: "open.order.detail", responses: []string{rateLimited, rateLimited, `{"result":1}`}, wantHits: 3},
		{name: "rate_limit_post", method: "open.seller.order.close", responses: []string{rateLimited, `{"result":1}`}, wantHits: 2},
		{name: "rate_limit_exhausted", method: "open.seller.order.close", responses: []string{rateLimited, rateLimited, rateLimited, `{"result":1}`}, wantHits: 3, wantClass: ClassRateLimit, wantRetry: true},
		{name: "5xx_get", method: "open.order.detail", status: []int{502, 503}, responses: []string{"", "", `{"result":1}`}, wantHits: 3},
		{name: "5xx_get_exhausted", method: "open.order.detail", status: []int{500, 500, 500, 500}, wantHits: 3, wantClass: ClassUpstream, wantRetry: true},
		{name: "5xx_post_not_retried", method: "open.seller.order.close", status: []int{502}, responses: []string{"", `{"result":1}`}, wantHits: 1, wantClass: ClassUpstream},
		{name: "non_json_post_not_retried", method: "open.seller.order.close", responses: []string{"<html>", `{"result":1}`}, wantHits: 1, wantClass: ClassUpstream},
		{name: "business_get_not_retried", method: "open.order.detail", responses: []string{`{"result":300011,"error_msg":"refund not found"}`, `{"result":1}`}, wantHits: 1, wantClass: ClassBusiness},
		{name: "auth_get_not_retried", method: "open.order.detail", responses: []string{`{"result":28}`, `{"result":1}`}, wantHits: 1, wantClass: ClassAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t, func(w http.ResponseWriter, n int, _ hit) {
				status := 200
				if n < len(tt.status) {
					status = tt.status[n]
				}
				body := ""
				if n < len(tt.responses) {
					body = tt.responses[n]
				}
				writeJSON(w, status, body)
			})
			c := newTestClient(t, up.URL)
			ts := &countingToken{}
			_, err := c.Do(context.Background(), &Request{Method: tt.method, Token: ts})
			hits := up.Hits()
			if len(hits) != tt.wantHits {
				t.Fatalf("%d requests, want %d (err %v)", len(hits), tt.wantHits, err)
			}
			if tt.wantClass == ClassUnknown {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				var pe *Error
				if !errors.As(err, &pe) || pe.Class != tt.wantClass {
					t.Fatalf("err = %v, want class %v", err, tt.wantClass)
				}
				if pe.Retryable() != tt.wantRetry {
					t.Errorf("Retryable() = %v, want %v", pe.Retryable(), tt.wantRetry)
				}
			}
			seen := map[string]bool{}
			for i, h := range hits {
				if !h.SignOK {
					t.Errorf("attempt %d: bad signature", i)
				}
				if want := fmt.Sprintf("tok-%d", i+1); h.Params.Get("access_token") != want {
					t.Errorf("attempt %d: token %q, want fresh %q", i, h.Params.Get("access_token"), want)
				}
				for _, k := range []string{"timestamp", "sign"} {
					v := k + "=" + h.Params.Get(k)
					if seen[v] {
						t.Errorf("attempt %d reuses %s", i, v)
					}
					seen[v] = true
				}
			}
		})
	}
}

// closedAddr returns the URL of a port nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestClient_Do_TransportErrors(t *testing.T) {
	t.Parallel()
	// hangup accepts the request, then drops the connection without answering.
	var hangups atomic.Int64
	hangup := newUpstream(t, func(w http.ResponseWriter, _ int, _ hit) {
		hangups.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	refused := closedAddr(t)
	tests := []struct {
		name, base, method string
		counter            *atomic.Int64 // server-side count, nil = count Observe calls
		wantAttempts       int64
		wantRetryable      bool
	}{
		{"get_dropped_connection_retried", hangup.URL, "open.order.detail", &hangups, 3, true},
		{"post_dropped_connection_not_retried", hangup.URL, "open.seller.order.close", nil, 1, false},
		{"post_dial_refused_retried", refused, "open.seller.order.close", nil, 3, true},
		{"get_dial_refused_retried", refused, "open.order.detail", nil, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var observed atomic.Int64
			c := newTestClient(t, tt.base, func(cfg *Config) {
				cfg.Observe = func(ci CallInfo) {
					observed.Add(1)
					if ci.Class != ClassUpstream || ci.Err == nil || ci.HTTPStatus != 0 {
						t.Errorf("CallInfo %+v", ci)
					}
				}
			})
			before := hangups.Load()
			_, err := c.Do(context.Background(), &Request{Method: tt.method, Token: staticToken("SECRET-TOKEN")})
			var pe *Error
			if !errors.As(err, &pe) || pe.Class != ClassUpstream {
				t.Fatalf("err = %v, want upstream *Error", err)
			}
			if pe.Retryable() != tt.wantRetryable || pe.MayHaveApplied == tt.wantRetryable {
				t.Errorf("Retryable %v MayHaveApplied %v", pe.Retryable(), pe.MayHaveApplied)
			}
			if got := observed.Load(); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			if tt.counter != nil {
				if got := tt.counter.Load() - before; got != tt.wantAttempts {
					t.Errorf("server saw %d requests, want %d", got, tt.wantAttempts)
				}
			}
			msg := err.Error()
			for _, bad := range []string{"SECRET-TOKEN", "?", "access_token", "sign", testSecret, "param"} {
				if strings.Contains(msg, bad) {
					t.Errorf("error message %q contains %q", msg, bad)
				}
			}
		})
	}
}

func TestClient_Do_TokenSourceError(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":1}`))
	c := newTestClient(t, up.URL)
	srcErr := &Error{Class: ClassRevoked, Result: ResultRevoked, Msg: MsgRevoked}
	var calls atomic.Int64
	ts := TokenSourceFunc(func(context.Context) (string, error) { calls.Add(1); return "", srcErr })
	_, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Token: ts})
	if !errors.Is(err, srcErr) || !IsClass(err, ClassRevoked) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if calls.Load() != 1 || len(up.Hits()) != 0 {
		t.Errorf("token calls %d, requests %d; want 1, 0", calls.Load(), len(up.Hits()))
	}
	empty := TokenSourceFunc(func(context.Context) (string, error) { return "", nil })
	if _, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Token: empty}); !errors.Is(err, errEmptyToken) {
		t.Errorf("empty token: err = %v", err)
	}
}

func TestClient_Do_RetryRespectsDeadline(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":1016}`))
	c := newTestClient(t, up.URL)
	c.sender.backoff = [2]time.Duration{time.Second, time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &Request{Method: "open.order.detail"})
	if !IsClass(err, ClassRateLimit) {
		t.Fatalf("err = %v", err)
	}
	if n := len(up.Hits()); n != 1 {
		t.Errorf("%d requests, want 1 (back-off longer than the deadline)", n)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("Do waited %v for a retry it could not make", d)
	}
}

func TestClient_Do_ContextCanceled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, _ int, _ hit) { <-release; writeJSON(w, 200, `{"result":1}`) })
	defer close(release)
	c := newTestClient(t, up.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, &Request{Method: "open.order.detail"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	var pe *Error
	if errors.As(err, &pe) {
		t.Errorf("caller's deadline reported as platform error %v", pe)
	}
}

func TestClient_Do_ResponseCap(t *testing.T) {
	t.Parallel()
	const max = 64
	exact := `{"result":1,"data":"` + strings.Repeat("x", max-22) + `"}`
	if len(exact) != max {
		t.Fatalf("fixture is %d bytes", len(exact))
	}
	tests := []struct {
		name, body string
		chunked    bool
		wantErr    bool
	}{
		{"exactly_max", exact, false, false},
		{"one_over", exact + " ", false, true},
		{"one_over_chunked", exact + " ", true, true},
		{"huge_chunked", `{"result":1,"data":"` + strings.Repeat("y", 1<<20) + `"}`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t, func(w http.ResponseWriter, _ int, _ hit) {
				if tt.chunked {
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
				}
				io.WriteString(w, tt.body)
			})
			c := newTestClient(t, up.URL, func(cfg *Config) { cfg.MaxResponseBytes = max })
			resp, err := c.Do(context.Background(), &Request{Method: "open.order.detail"})
			if !tt.wantErr {
				if err != nil || string(resp.Raw) != exact {
					t.Fatalf("resp %v err %v", resp, err)
				}
				return
			}
			if !errors.Is(err, ErrResponseTooLarge) || !IsClass(err, ClassUpstream) {
				t.Fatalf("err = %v, want ErrResponseTooLarge (upstream)", err)
			}
			if n := len(up.Hits()); n != 1 {
				t.Errorf("oversized response retried: %d requests", n)
			}
		})
	}
}

func TestClient_Do_Observe(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, func(w http.ResponseWriter, n int, _ hit) {
		if n == 0 {
			writeJSON(w, 200, `{"result":1016,"requestId":"r0"}`)
			return
		}
		writeJSON(w, 200, `{"result":1,"requestId":"r1"}`)
	})
	var mu sync.Mutex
	var got []CallInfo
	c := newTestClient(t, up.URL, func(cfg *Config) {
		cfg.Observe = func(ci CallInfo) { mu.Lock(); got = append(got, ci); mu.Unlock() }
	})
	if _, err := c.Do(context.Background(), &Request{Method: "open.order.detail", OpenID: "shop-1"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d observations, want 2", len(got))
	}
	if g := got[0]; g.Method != "open.order.detail" || g.OpenID != "shop-1" || g.Result != 1016 || g.Class != ClassRateLimit || g.HTTPStatus != 200 || g.Err == nil || g.Duration <= 0 {
		t.Errorf("first attempt %+v", g)
	}
	if g := got[1]; g.Result != 1 || g.Class != ClassUnknown || g.Err != nil {
		t.Errorf("second attempt %+v", g)
	}
}

func TestClient_Do_TraceContextPropagated(t *testing.T) {
	t.Parallel()
	sr, tp := newRecorder()
	up := newUpstream(t, okJSON(`{"result":1}`))
	c := newTestClient(t, up.URL, func(cfg *Config) { cfg.Tracer = tp })
	if _, err := c.Do(context.Background(), &Request{Method: "open.order.detail"}); err != nil {
		t.Fatal(err)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	tp0 := up.Hits()[0].Header.Get("Traceparent")
	if want := spans[0].SpanContext().TraceID().String(); !strings.Contains(tp0, want) || !strings.Contains(tp0, spans[0].SpanContext().SpanID().String()) {
		t.Errorf("traceparent %q does not name span %v", tp0, spans[0].SpanContext())
	}
}

// TestClient_Do_SpansCarryNoSecrets records every span of successful,
// failing and retried calls and scans every string in them.
func TestClient_Do_SpansCarryNoSecrets(t *testing.T) {
	t.Parallel()
	sr, tp := newRecorder()
	const (
		token      = "TOKEN-c2VjcmV0LXRva2Vu"
		paramValue = "PARAM-VALUE-13800138000"
	)
	var signs sync.Map
	up := newUpstream(t, func(w http.ResponseWriter, n int, h hit) {
		signs.Store(h.Params.Get("sign"), true)
		switch {
		case h.Path == "/open/seller/order/close":
			writeJSON(w, 502, "bad gateway")
		case n == 0:
			writeJSON(w, 200, `{"result":1016,"error_msg":"Exceed qps limit","requestId":"req-a"}`)
		default:
			writeJSON(w, 200, `{"result":1,"data":{},"request_id":"req-b"}`)
		}
	})
	c := newTestClient(t, up.URL, func(cfg *Config) { cfg.Tracer = tp })
	param := json.RawMessage(`{"mobile":"` + paramValue + `"}`)
	if _, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Param: param, Token: staticToken(token), OpenID: "open-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), &Request{Method: "open.seller.order.close", Param: param, Token: staticToken(token)}); !IsClass(err, ClassUpstream) {
		t.Fatalf("err = %v", err)
	}
	forbidden := []string{token, testSecret, paramValue, "?", "access_token", "signMethod", "mobile"}
	signs.Range(func(k, _ any) bool { forbidden = append(forbidden, k.(string)); return true })

	spans := sr.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (one per attempt)", len(spans))
	}
	for _, s := range spans {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, string(kv.Key), kv.Value.Emit())
		}
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.Emit())
			}
		}
		for _, txt := range texts {
			for _, bad := range forbidden {
				if bad != "" && strings.Contains(txt, bad) {
					t.Errorf("span %q carries %q in %q", s.Name(), bad, txt)
				}
			}
		}
	}

	attrs := func(i int) map[string]string {
		m := map[string]string{}
		for _, kv := range spans[i].Attributes() {
			m[string(kv.Key)] = kv.Value.Emit()
		}
		return m
	}
	want := []map[string]string{
		{"kwaishop.method": "open.order.detail", "http.request.method": "GET", "server.address": "127.0.0.1",
			"url.path": "/open/order/detail", "kwaishop.result": "1016", "kwaishop.error_class": "rate_limit",
			"http.response.status_code": "200", "kwaishop.request_id": "req-a", "kwaishop.open_id": "open-1"},
		{"kwaishop.result": "1", "kwaishop.request_id": "req-b", "kwaishop.attempt": "1", "http.response.status_code": "200"},
		{"kwaishop.method": "open.seller.order.close", "http.request.method": "POST", "url.path": "/open/seller/order/close",
			"kwaishop.error_class": "upstream", "http.response.status_code": "502"},
	}
	for i, w := range want {
		got := attrs(i)
		if spans[i].Name() != "kwaishop "+got["kwaishop.method"] || spans[i].SpanKind().String() != "client" {
			t.Errorf("span %d: name %q kind %v", i, spans[i].Name(), spans[i].SpanKind())
		}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("span %d: %s = %q, want %q", i, k, got[k], v)
			}
		}
	}
	if _, ok := attrs(1)["kwaishop.error_class"]; ok || spans[1].Status().Code.String() == "Error" {
		t.Errorf("successful span marked failed: %v", spans[1].Status())
	}
	if spans[0].Status().Code.String() != "Error" || spans[2].Status().Code.String() != "Error" {
		t.Errorf("failed spans not marked Error: %v %v", spans[0].Status(), spans[2].Status())
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	err := Config{SignMethod: "SHA1", MaxResponseBytes: -1}.Validate()
	for _, want := range []string{"BaseURL", "AppKey", "SignSecret", "SignMethod", "MaxResponseBytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a %s violation", err, want)
		}
	}
	for _, base := range []string{"ftp://x", "openapi.kwaixiaodian.com", "https://h/?a=1", "https://"} {
		if err := (Config{BaseURL: base, AppKey: "k", SignSecret: "s"}).Validate(); err == nil {
			t.Errorf("BaseURL %q accepted", base)
		}
	}
	if err := (Config{BaseURL: DefaultBaseURL + "/", AppKey: "k", SignSecret: "s", SignMethod: sign.MD5}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted an empty config")
	}
}

func TestConfig_Redacted(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseURL: DefaultBaseURL, AppKey: "ks1", SignSecret: testSecret}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.LogValue().String()} {
		if strings.Contains(s, testSecret) || !strings.Contains(s, "ks1") {
			t.Errorf("%q", s)
		}
	}
}

// gateFunc adapts a function to Gate.
type gateFunc func(ctx context.Context, a Attempt) (func(Outcome), error)

func (f gateFunc) Admit(ctx context.Context, a Attempt) (func(Outcome), error) { return f(ctx, a) }

// TestClient_Do_GateOutcome checks what the gate is told about each
// attempt: sent with a duration when the request went on the wire, not sent
// when the token source failed before anything was sent (a circuit
// breaker's probe must not count that as an answer of the platform).
func TestClient_Do_GateOutcome(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":1}`))
	failing := errors.New("token store down")
	for _, tt := range []struct {
		name     string
		token    TokenSource
		wantSent bool
		wantHits int
	}{
		{"sent", staticToken("tk"), true, 1},
		{"token_failed", TokenSourceFunc(func(context.Context) (string, error) { return "", failing }), false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []Outcome
			before := len(up.Hits())
			c := newTestClient(t, up.URL, func(cfg *Config) {
				cfg.Gate = gateFunc(func(context.Context, Attempt) (func(Outcome), error) {
					return func(o Outcome) { mu.Lock(); got = append(got, o); mu.Unlock() }, nil
				})
			})
			_, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Token: tt.token})
			if (err == nil) != tt.wantSent {
				t.Fatalf("err = %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("gate told %d outcomes, want 1", len(got))
			}
			if got[0].Sent() != tt.wantSent || (got[0].Err == nil) != tt.wantSent {
				t.Errorf("outcome %+v: Sent() = %v, want %v", got[0], got[0].Sent(), tt.wantSent)
			}
			if n := len(up.Hits()) - before; n != tt.wantHits {
				t.Errorf("%d requests, want %d", n, tt.wantHits)
			}
		})
	}
}

// TestClient_Do_CallerTransport checks that the caller's RoundTripper sees
// every attempt complete (token, timestamp, signature) and that the client
// follows no redirect (it would carry the token elsewhere).
func TestClient_Do_CallerTransport(t *testing.T) {
	t.Parallel()
	target := newUpstream(t, okJSON(`{"result":1}`))
	redirect := newUpstream(t, func(w http.ResponseWriter, _ int, _ hit) {
		w.Header().Set("Location", target.URL+"/elsewhere")
		w.WriteHeader(http.StatusFound)
	})
	var seen atomic.Int64
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		if q := r.URL.Query(); q.Get("access_token") != "tk" || q.Get("sign") == "" || q.Get("timestamp") == "" {
			t.Errorf("caller's transport saw %v", q)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c := newTestClient(t, redirect.URL, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: rt} })
	_, err := c.Do(context.Background(), &Request{Method: "open.order.detail", Token: staticToken("tk")})
	if !IsClass(err, ClassUpstream) {
		t.Fatalf("err = %v, want upstream (a redirect is no answer)", err)
	}
	if seen.Load() != 1 || len(target.Hits()) != 0 {
		t.Errorf("transport saw %d requests, redirect target %d; want 1, 0", seen.Load(), len(target.Hits()))
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkClientDo(b *testing.B) {
	const body = `{"result":1,"data":{"orderList":[{"oid":2617801683312294,"status":30}],"cursor":"nomore"},"requestId":"r"}`
	up := newUpstream(b, okJSON(body))
	c := newTestClient(b, up.URL, func(cfg *Config) { cfg.Now = time.Now })
	for _, bc := range []struct{ name, method string }{
		{"GET", "open.order.cursor.list"},
		{"POST", "open.seller.order.goods.deliver"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := &Request{Method: bc.method, Param: json.RawMessage(`{"orderViewStatus":1,"pageSize":50,"cursor":""}`), Token: staticToken(testToken)}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Do(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkClientDo_Canned measures the client's own work per call (build,
// token, sign, encode, span, check) against a transport that answers at
// once from memory: no network, no server.
func BenchmarkClientDo_Canned(b *testing.B) {
	const body = `{"result":1,"data":{"orderList":[{"oid":2617801683312294,"status":30}],"cursor":"nomore"},"requestId":"r"}`
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusOK, ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c := newTestClient(b, "http://platform.invalid", func(cfg *Config) { cfg.Now = time.Now; cfg.HTTPClient = &http.Client{Transport: rt} })
	for _, bc := range []struct{ name, method string }{
		{"GET", "open.order.cursor.list"},
		{"POST", "open.seller.order.goods.deliver"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := &Request{Method: bc.method, Param: json.RawMessage(`{"orderViewStatus":1,"pageSize":50,"cursor":""}`), Token: staticToken(testToken), OpenID: "shop-1"}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Do(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
