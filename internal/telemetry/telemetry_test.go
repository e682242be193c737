package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

func newMetrics(t *testing.T) (*Metrics, *Provider) {
	t.Helper()
	p, err := NewProvider(context.Background(), ProviderConfig{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	m, err := New(p.MeterProvider(), "ks123")
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

func scrape(t *testing.T, p *Provider) string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// oauthStub answers token requests from fixed results.
type oauthStub struct{ refreshErr error }

func (oauthStub) Exchange(context.Context, string) (*oauth.Token, error) { return &oauth.Token{}, nil }
func (s oauthStub) Refresh(context.Context, string) (*oauth.Token, error) {
	return &oauth.Token{}, s.refreshErr
}
func (oauthStub) ClientCredentials(context.Context) (*oauth.Token, error) { return &oauth.Token{}, nil }

func TestMetrics_PrometheusNamesAndLabels(t *testing.T) {
	m, p := newMetrics(t)
	secret := "ChFvYXV0aC5hY2Nlc3NUb2tlbi1TRUNSRVQ"
	m.ObserveCall("", platform.CallInfo{Method: "open.order.cursor.list", OpenID: "shop1", Duration: 42 * time.Millisecond, Result: 1, HTTPStatus: 200})
	m.ObserveCall("ks123", platform.CallInfo{Method: "open.order.detail", OpenID: "shop1", Duration: 3 * time.Millisecond, Result: 21, HTTPStatus: 200,
		Class: platform.ClassPermission, Err: &platform.Error{Result: 21, Class: platform.ClassPermission, Msg: secret}})
	m.ObserveCall("ks123", platform.CallInfo{Method: "open.not.in.catalog", Err: errors.New("token source: " + secret)})

	o := m.WrapOAuth("ks123", oauthStub{})
	if _, err := o.Refresh(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	_, _ = m.WrapOAuth("ks123", oauthStub{refreshErr: &platform.Error{Result: platform.ResultOAuthDenied, Class: platform.ClassAuth}}).Refresh(context.Background(), secret)
	_, _ = o.ClientCredentials(context.Background())

	list := func(context.Context) ([]store.Authorization, error) {
		return []store.Authorization{
			{OpenID: "a", Status: store.StatusActive, TestUser: true, AccessToken: secret},
			{OpenID: "b", Status: store.StatusActive},
			{OpenID: "c", Status: store.StatusRevoked},
			{OpenID: "", AppKey: "ks123", Status: store.StatusActive}, // the app record is not a shop
		}, nil
	}
	if err := m.ObserveAuthorizations(list, time.Minute); err != nil {
		t.Fatal(err)
	}
	msgs := m.Messages()
	msgs.Received(context.Background(), "ks123", "kwaishop_order_paySuccess")
	msgs.Received(context.Background(), "ks123", "evil label\"{}")
	msgs.Duplicated(context.Background(), "", "kwaishop_order_paySuccess")
	msgs.Delivered(context.Background(), "ks123", "kwaishop_order_paySuccess", "erp")
	msgs.DeadLettered(context.Background(), "ks123", "kwaishop_order_paySuccess", "erp")
	msgs.Lag("erp", 12)

	out := scrape(t, p)
	for _, want := range []string{
		`kwaishop_upstream_calls_total{kwaishop_app_key="ks123",kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",kwaishop_result="1"} 1`,
		`kwaishop_upstream_calls_total{kwaishop_app_key="ks123",kwaishop_error_class="permission",kwaishop_method="open.order.detail",kwaishop_result="21"} 1`,
		`kwaishop_upstream_calls_total{kwaishop_app_key="ks123",kwaishop_error_class="token",kwaishop_method="uncatalogued",kwaishop_result="0"} 1`,
		`kwaishop_upstream_duration_seconds_bucket{kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",le="0.05"} 1`,
		`kwaishop_upstream_duration_seconds_bucket{kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",le="0.03"} 0`,
		`kwaishop_token_refreshes_total{kwaishop_app_key="ks123",kwaishop_error_class="none",kwaishop_oauth_grant_type="refresh_token",kwaishop_outcome="success"} 1`,
		`kwaishop_token_refreshes_total{kwaishop_app_key="ks123",kwaishop_error_class="auth",kwaishop_oauth_grant_type="refresh_token",kwaishop_outcome="failure"} 1`,
		`kwaishop_token_refreshes_total{kwaishop_app_key="ks123",kwaishop_error_class="none",kwaishop_oauth_grant_type="client_credentials",kwaishop_outcome="success"} 1`,
		`kwaishop_authorizations{kwaishop_authorization_status="active",kwaishop_test_user="true"} 1`,
		`kwaishop_authorizations{kwaishop_authorization_status="active",kwaishop_test_user="false"} 1`,
		`kwaishop_authorizations{kwaishop_authorization_status="revoked",kwaishop_test_user="false"} 1`,
		`kwaishop_authorizations{kwaishop_authorization_status="expired",kwaishop_test_user="false"} 0`,
		`kwaishop_authorizations{kwaishop_authorization_status="subscription_expired",kwaishop_test_user="false"} 0`,
		`kwaishop_messages_received_total{kwaishop_app_key="ks123",kwaishop_event="kwaishop_order_paySuccess"} 1`,
		`kwaishop_messages_received_total{kwaishop_app_key="ks123",kwaishop_event="other"} 1`,
		`kwaishop_messages_duplicated_total{kwaishop_app_key="ks123",kwaishop_event="kwaishop_order_paySuccess"} 1`,
		`kwaishop_messages_delivered_total{kwaishop_app_key="ks123",kwaishop_consumer="erp",kwaishop_event="kwaishop_order_paySuccess"} 1`,
		`kwaishop_messages_dead_lettered_total{kwaishop_app_key="ks123",kwaishop_consumer="erp",kwaishop_event="kwaishop_order_paySuccess"} 1`,
		`kwaishop_messages_consumer_lag{kwaishop_consumer="erp"} 12`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "shop1") {
		t.Errorf("scrape holds a token or an open_id:\n%s", out)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", out)
	}
}

// sink records what Messages forwards.
type sink struct {
	mu    sync.Mutex
	kinds []string
	lag   map[string]int64
}

func (s *sink) RecordMessage(app, kind string) {
	s.mu.Lock()
	s.kinds = append(s.kinds, app+":"+kind)
	s.mu.Unlock()
}

func (s *sink) RecordLag(c string, n int64) {
	s.mu.Lock()
	s.lag[c] = n
	s.mu.Unlock()
}

func TestMessages_ForwardsToSinkAndNilIsNoop(t *testing.T) {
	m, _ := newMetrics(t)
	s := &sink{lag: map[string]int64{}}
	m.Messages().SetSink(s)
	ctx := context.Background()
	m.Messages().Received(ctx, "ks123", "e")
	m.Messages().Duplicated(ctx, "", "e") // one app: a message naming none is the app's
	m.Messages().Delivered(ctx, "ksOther", "e", "g")
	m.Messages().DeadLettered(ctx, "ks123", "e", "g")
	m.Messages().Lag("g", 3)
	if got := strings.Join(s.kinds, ","); got != "ks123:received,ks123:duplicated,:delivered,ks123:dead_lettered" || s.lag["g"] != 3 {
		t.Fatalf("sink got %s %v", got, s.lag)
	}

	var nilMetrics *Metrics
	nilMetrics.ObserveCall("", platform.CallInfo{})
	nilMetrics.Messages().Received(ctx, "", "e")
	nilMetrics.Messages().Lag("g", 1)
	if o := nilMetrics.WrapOAuth("", oauthStub{}); o == nil {
		t.Fatal("nil Metrics dropped the OAuth client")
	}
}

func TestWantOTLP(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"unset", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, true},
		{"metrics_endpoint", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4317"}, true},
		{"disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_METRICS_EXPORTER": "none"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wantOTLP(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Fatalf("wantOTLP = %v", got)
			}
		})
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"": "none", "kwaishop_order_addOrder": "kwaishop_order_addOrder", "erp-sync.v2": "erp-sync.v2",
		"a b": "other", strings.Repeat("x", 65): "other", "中文": "other",
	} {
		if got := labelName(in); got != want {
			t.Errorf("labelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkMetrics_ObserveCall(b *testing.B) {
	p, err := NewProvider(context.Background(), ProviderConfig{Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(p.MeterProvider(), "ks123")
	if err != nil {
		b.Fatal(err)
	}
	ci := platform.CallInfo{Method: "open.order.cursor.list", OpenID: "shop1", Duration: 42 * time.Millisecond, Result: 1, HTTPStatus: 200}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveCall("ks123", ci)
		}
	})
}

// With several apps every upstream call, token request and message is
// labelled with its own app; an app key the gateway does not serve (a
// pushed message's, from outside) is "other" and no app "none", so the
// label stays the configured set.
func TestMetrics_AppLabelPerCall(t *testing.T) {
	p, err := NewProvider(context.Background(), ProviderConfig{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	m, err := New(p.MeterProvider(), "ksA", "ksB")
	if err != nil {
		t.Fatal(err)
	}
	ok := platform.CallInfo{Method: "open.order.cursor.list", Result: 1, HTTPStatus: 200}
	m.ObserveCall("ksA", ok)
	m.ObserveCall("ksB", ok)
	m.ObserveCall("ksB", ok)
	m.ObserveCall("ksEvil", ok)
	m.ObserveCall("", ok)
	_, _ = m.WrapOAuth("ksB", oauthStub{}).ClientCredentials(context.Background())
	m.Messages().Received(context.Background(), "ksA", "kwaishop_order_paySuccess")
	m.Messages().Received(context.Background(), "attacker-chosen", "kwaishop_order_paySuccess")
	out := scrape(t, p)
	for _, want := range []string{
		`kwaishop_upstream_calls_total{kwaishop_app_key="ksA",kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",kwaishop_result="1"} 1`,
		`kwaishop_upstream_calls_total{kwaishop_app_key="ksB",kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",kwaishop_result="1"} 2`,
		`kwaishop_upstream_calls_total{kwaishop_app_key="other",kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",kwaishop_result="1"} 1`,
		`kwaishop_upstream_calls_total{kwaishop_app_key="none",kwaishop_error_class="none",kwaishop_method="open.order.cursor.list",kwaishop_result="1"} 1`,
		`kwaishop_token_refreshes_total{kwaishop_app_key="ksB",kwaishop_error_class="none",kwaishop_oauth_grant_type="client_credentials",kwaishop_outcome="success"} 1`,
		`kwaishop_messages_received_total{kwaishop_app_key="ksA",kwaishop_event="kwaishop_order_paySuccess"} 1`,
		`kwaishop_messages_received_total{kwaishop_app_key="other",kwaishop_event="kwaishop_order_paySuccess"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(out, "ksEvil") || strings.Contains(out, "attacker-chosen") {
		t.Errorf("an unserved app key became a label value:\n%s", out)
	}
}
