package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

const (
	testAppKey    = "ks123456789012345678"
	testAppSecret = "APPSECRET-0123456789"
	testCode      = "CODE-abcdef"
	testRefresh   = "REFRESH-old"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type hit struct {
	Method, Path, ContentType string
	Query, Form               url.Values
}

type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func (s *server) Hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

// setup starts a fake token endpoint answering with respond and returns a
// client for it that records spans.
func setup(t *testing.T, respond func(w http.ResponseWriter, n int, h hit)) (*Client, *server, *tracetest.SpanRecorder) {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := hit{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Query: r.URL.Query()}
		b, _ := io.ReadAll(r.Body)
		h.Form, _ = url.ParseQuery(string(b))
		s.mu.Lock()
		n := len(s.hits)
		s.hits = append(s.hits, h)
		s.mu.Unlock()
		respond(w, n, h)
	}))
	t.Cleanup(s.Close)
	sr := tracetest.NewSpanRecorder()
	c := newClient(t, s.URL, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)))
	return c, s, sr
}

func newClient(t *testing.T, base string, tp *sdktrace.TracerProvider) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: base, AppKey: testAppKey, AppSecret: testAppSecret, Tracer: tp,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func respondJSON(status int, body string) func(http.ResponseWriter, int, hit) {
	return func(w http.ResponseWriter, _ int, _ hit) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func wantParams(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("params %v, want exactly %v", got, want)
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("param %s = %q, want %q", k, got.Get(k), v)
		}
	}
}

// noSecrets fails if any recorded span or the error text carries a secret.
func noSecrets(t *testing.T, sr *tracetest.SpanRecorder, err error, secrets ...string) {
	t.Helper()
	secrets = append(secrets, testAppSecret, testCode, testRefresh, "?", "app_secret")
	var texts []string
	if err != nil {
		texts = append(texts, err.Error())
	}
	for _, s := range sr.Ended() {
		texts = append(texts, s.Name(), s.Status().Description)
		for _, kv := range s.Attributes() {
			texts = append(texts, kv.Value.Emit())
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.Emit())
			}
		}
	}
	for _, txt := range texts {
		for _, sec := range secrets {
			if strings.Contains(txt, sec) {
				t.Errorf("%q leaks %q", txt, sec)
			}
		}
	}
}

func TestClient_Exchange(t *testing.T) {
	t.Parallel()
	c, s, sr := setup(t, respondJSON(200, `{"result":1,"access_token":"AT-1","refresh_token":"RT-1","open_id":"open-1",
		"expires_in":172800,"refresh_token_expires_in":15552000,"scopes":["merchant_order","merchant_item"]}`))
	tok, err := c.Exchange(context.Background(), testCode)
	if err != nil {
		t.Fatal(err)
	}
	want := &Token{AccessToken: "AT-1", RefreshToken: "RT-1", OpenID: "open-1", Scopes: []string{"merchant_order", "merchant_item"},
		Expiry: testNow.Add(48 * time.Hour), RefreshExpiry: testNow.Add(180 * 24 * time.Hour)}
	if !reflect.DeepEqual(tok, want) {
		t.Errorf("token %#v\nwant %#v", *tok, *want)
	}
	h := s.Hits()[0]
	if h.Method != http.MethodGet || h.Path != "/oauth2/access_token" {
		t.Errorf("%s %s", h.Method, h.Path)
	}
	wantParams(t, h.Query, map[string]string{"app_id": testAppKey, "app_secret": testAppSecret, "grant_type": "code", "code": testCode})
	spans := sr.Ended()
	if len(spans) != 1 || spans[0].Name() != "kwaishop oauth2.access_token" {
		t.Fatalf("spans %v", spans)
	}
	noSecrets(t, sr, nil, "AT-1", "RT-1")
}

func TestClient_Refresh(t *testing.T) {
	t.Parallel()
	c, s, sr := setup(t, respondJSON(200, `{"result":"1","access_token":"AT-2","refresh_token":"RT-2","open_id":"open-1",
		"expires_in":"172800","refresh_token_expires_in":86400,"scopes":"merchant_order, merchant_refund"}`))
	tok, err := c.Refresh(context.Background(), testRefresh)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "AT-2" || tok.RefreshToken != "RT-2" || !tok.Expiry.Equal(testNow.Add(48*time.Hour)) ||
		!tok.RefreshExpiry.Equal(testNow.Add(24*time.Hour)) || !reflect.DeepEqual(tok.Scopes, []string{"merchant_order", "merchant_refund"}) {
		t.Errorf("token %#v", tok)
	}
	h := s.Hits()[0]
	if h.Method != http.MethodPost || h.Path != "/oauth2/refresh_token" || !strings.HasPrefix(h.ContentType, "application/x-www-form-urlencoded") || len(h.Query) != 0 {
		t.Errorf("%s %s %q query %v", h.Method, h.Path, h.ContentType, h.Query)
	}
	wantParams(t, h.Form, map[string]string{"grant_type": "refresh_token", "refresh_token": testRefresh, "app_id": testAppKey, "app_secret": testAppSecret})
	if spans := sr.Ended(); len(spans) != 1 || spans[0].Name() != "kwaishop oauth2.refresh_token" {
		t.Fatalf("spans %v", spans)
	}
	noSecrets(t, sr, nil, "AT-2", "RT-2")
}

func TestClient_ClientCredentials(t *testing.T) {
	t.Parallel()
	c, s, sr := setup(t, func(w http.ResponseWriter, n int, h hit) {
		if n == 0 {
			respondJSON(503, "unavailable")(w, n, h)
			return
		}
		respondJSON(200, `{"result":1,"access_token":"AT-app","token_type":"bearer","expires_in":3600}`)(w, n, h)
	})
	tok, err := c.ClientCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "AT-app" || tok.TokenType != "bearer" || tok.RefreshToken != "" || !tok.Expiry.Equal(testNow.Add(time.Hour)) || !tok.RefreshExpiry.IsZero() {
		t.Errorf("token %#v", tok)
	}
	hits := s.Hits()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2 (one retry after 503)", len(hits))
	}
	wantParams(t, hits[1].Query, map[string]string{"app_id": testAppKey, "app_secret": testAppSecret, "grant_type": "client_credentials"})
	if n := len(sr.Ended()); n != 2 {
		t.Errorf("%d spans, want one per attempt", n)
	}
	noSecrets(t, sr, nil, "AT-app")
}

func TestClient_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		call          string // exchange, refresh, cc
		status        int
		body          string
		wantClass     platform.Class
		wantResult    int64
		wantCode      string
		wantDiscarded bool
		wantRevoked   bool
		wantHits      int
		wantMayApply  bool
	}{
		{name: "refresh_discarded", call: "refresh", status: 200,
			body:      `{"result":100200102,"error":"access_denied","error_msg":"refreshToken.discarded"}`,
			wantClass: platform.ClassAuth, wantResult: 100200102, wantCode: "access_denied", wantDiscarded: true, wantHits: 1},
		{name: "refresh_revoked", call: "refresh", status: 200,
			body:      `{"result":100200102,"error":"access_denied","error_msg":"refreshToken.revokedAuthorization"}`,
			wantClass: platform.ClassRevoked, wantResult: 100200102, wantCode: "access_denied", wantRevoked: true, wantHits: 1},
		{name: "refresh_5xx_not_retried", call: "refresh", status: 502, body: "bad gateway",
			wantClass: platform.ClassUpstream, wantHits: 1, wantMayApply: true},
		{name: "refresh_rate_limited_not_retried", call: "refresh", status: 200, body: `{"result":1016}`,
			wantClass: platform.ClassRateLimit, wantResult: 1016, wantHits: 1},
		{name: "exchange_invalid_code", call: "exchange", status: 200,
			body:      `{"result":100200105,"error":"invalid_grant","error_msg":"code invalid"}`,
			wantClass: platform.ClassAuth, wantResult: 100200105, wantCode: "invalid_grant", wantHits: 1},
		{name: "exchange_5xx_not_retried", call: "exchange", status: 500, body: "",
			wantClass: platform.ClassUpstream, wantHits: 1, wantMayApply: true},
		{name: "exchange_no_access_token", call: "exchange", status: 200, body: `{"result":1}`,
			wantClass: platform.ClassUpstream, wantHits: 1, wantMayApply: true},
		{name: "cc_server_error_result_not_retried", call: "cc", status: 200, body: `{"result":100200500,"error":"server_error"}`,
			wantClass: platform.ClassUpstream, wantResult: 100200500, wantCode: "server_error", wantHits: 1},
		{name: "cc_5xx_exhausted", call: "cc", status: 503, body: "",
			wantClass: platform.ClassUpstream, wantHits: 3},
		{name: "cc_bad_client", call: "cc", status: 200, body: `{"result":100200101,"error":"unauthorized_client"}`,
			wantClass: platform.ClassAuth, wantResult: 100200101, wantCode: "unauthorized_client", wantHits: 1},
		// The same answer to a merchant's grant is the merchant's service-market order.
		{name: "refresh_not_ordered", call: "refresh", status: 200, body: `{"result":100200101,"error":"unauthorized_client","error_msg":"服务未订购"}`,
			wantClass: platform.ClassSubscription, wantResult: 100200101, wantCode: "unauthorized_client", wantHits: 1},
		{name: "exchange_not_ordered", call: "exchange", status: 200, body: `{"result":100200101,"error":"unauthorized_client"}`,
			wantClass: platform.ClassSubscription, wantResult: 100200101, wantCode: "unauthorized_client", wantHits: 1},
		{name: "refresh_bad_secret", call: "refresh", status: 200, body: `{"result":100200101,"error":"unauthorized_client","error_msg":"client secret invalid"}`,
			wantClass: platform.ClassAuth, wantResult: 100200101, wantCode: "unauthorized_client", wantHits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, s, sr := setup(t, respondJSON(tt.status, tt.body))
			var err error
			switch tt.call {
			case "exchange":
				_, err = c.Exchange(context.Background(), testCode)
			case "refresh":
				_, err = c.Refresh(context.Background(), testRefresh)
			default:
				_, err = c.ClientCredentials(context.Background())
			}
			var e *platform.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *platform.Error", err)
			}
			if e.Class != tt.wantClass || e.Result != tt.wantResult || e.Code != tt.wantCode || e.MayHaveApplied != tt.wantMayApply {
				t.Errorf("err = %#v", e)
			}
			if IsDiscarded(err) != tt.wantDiscarded || IsRevoked(err) != tt.wantRevoked {
				t.Errorf("IsDiscarded %v IsRevoked %v", IsDiscarded(err), IsRevoked(err))
			}
			if n := len(s.Hits()); n != tt.wantHits {
				t.Errorf("%d requests, want %d", n, tt.wantHits)
			}
			noSecrets(t, sr, err)
		})
	}
}

func TestClient_TransportErrorRedacted(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	l.Close()
	sr := tracetest.NewSpanRecorder()
	c := newClient(t, base, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)))
	_, err = c.Exchange(context.Background(), testCode)
	if !platform.IsClass(err, platform.ClassUpstream) {
		t.Fatalf("err = %v", err)
	}
	if n := len(sr.Ended()); n != 1 {
		t.Errorf("Exchange made %d attempts, want 1", n)
	}
	noSecrets(t, sr, err)
	_, err = c.ClientCredentials(context.Background())
	if n := len(sr.Ended()); n != 4 {
		t.Errorf("ClientCredentials made %d attempts, want 3", n-1)
	}
	noSecrets(t, sr, err)
}

func TestClient_EmptyInput(t *testing.T) {
	t.Parallel()
	c, s, _ := setup(t, respondJSON(200, `{}`))
	if _, err := c.Exchange(context.Background(), ""); !errors.Is(err, platform.ErrInvalidRequest) {
		t.Errorf("Exchange(\"\") = %v", err)
	}
	if _, err := c.Refresh(context.Background(), ""); !errors.Is(err, platform.ErrInvalidRequest) {
		t.Errorf("Refresh(\"\") = %v", err)
	}
	if len(s.Hits()) != 0 {
		t.Error("request sent for empty input")
	}
}

func TestClient_ResponseCap(t *testing.T) {
	t.Parallel()
	big := `{"result":1,"access_token":"` + strings.Repeat("a", 200) + `"}`
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, big) }))
	defer s.Close()
	c, err := New(Config{BaseURL: s.URL, AppKey: "k", AppSecret: "s", MaxResponseBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(context.Background()); !errors.Is(err, platform.ErrResponseTooLarge) {
		t.Errorf("err = %v", err)
	}
}

func TestToken_Redacted(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", OpenID: "open-1", Scopes: []string{"merchant_order"}, Expiry: testNow}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("t", "token", tok, "ptr", &tok)
	outs := []string{
		tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, &tok),
		fmt.Sprintf("%+v", struct{ T Token }{tok}), buf.String(),
	}
	for _, s := range outs {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "open-1") {
			t.Errorf("%q", s)
		}
	}
	cfg := Config{BaseURL: "https://x", AppKey: "k", AppSecret: "APP-SECRET"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%#v", cfg), cfg.LogValue().String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("%q", s)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	err := Config{MaxResponseBytes: -1}.Validate()
	for _, want := range []string{"BaseURL", "AppKey", "AppSecret", "MaxResponseBytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, missing %s", err, want)
		}
	}
	if err := (Config{BaseURL: "openapi.kwaixiaodian.com", AppKey: "k", AppSecret: "s"}).Validate(); err == nil {
		t.Error("scheme-less BaseURL accepted")
	}
}

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	got, err := AuthorizeURL(DefaultAuthorizeURL, "ks1", "https://gw.example.com/oauth/callback?x=1&y=a b",
		[]string{"merchant_order", "merchant_item"}, "st/ate+=&")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://open.kwaixiaodian.com/oauth/authorize?app_id=ks1" +
		"&redirect_uri=https%3A%2F%2Fgw.example.com%2Foauth%2Fcallback%3Fx%3D1%26y%3Da+b" +
		"&response_type=code&scope=merchant_order%2Cmerchant_item&state=st%2Fate%2B%3D%26"
	if got != want {
		t.Errorf("AuthorizeURL =\n %s\nwant\n %s", got, want)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if q.Get("redirect_uri") != "https://gw.example.com/oauth/callback?x=1&y=a b" || q.Get("scope") != "merchant_order,merchant_item" || q.Get("state") != "st/ate+=&" {
		t.Errorf("round trip %v", q)
	}

	got, err = AuthorizeURL("http://127.0.0.1:9/sandbox/authorize?tenant=t1", "ks1", "http://localhost/cb", []string{"user_base"}, "")
	if err != nil || got != "http://127.0.0.1:9/sandbox/authorize?app_id=ks1&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&response_type=code&scope=user_base&tenant=t1" {
		t.Errorf("AuthorizeURL = %s, %v", got, err)
	}

	for name, args := range map[string][4]string{
		"bad_base":     {"open.kwaixiaodian.com/oauth", "ks1", "https://cb", "s"},
		"no_app_key":   {DefaultAuthorizeURL, "", "https://cb", "s"},
		"bad_redirect": {DefaultAuthorizeURL, "ks1", "/cb", "s"},
		"no_scope":     {DefaultAuthorizeURL, "ks1", "https://cb", ""},
		"comma_scope":  {DefaultAuthorizeURL, "ks1", "https://cb", "a,b"},
	} {
		var scopes []string
		if args[3] != "" {
			scopes = []string{args[3]}
		}
		if _, err := AuthorizeURL(args[0], args[1], args[2], scopes, "st"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
