package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// getProto GETs a REST path and decodes the JSON answer into msg.
func (g *gateway) getProto(t *testing.T, path string, msg proto.Message) {
	t.Helper()
	resp, err := g.http.Get("http://" + g.info.HTTPAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	if err := protojson.Unmarshal(raw, msg); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

func (g *gateway) scrape(t *testing.T) string {
	t.Helper()
	resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(raw)
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// metricSum adds the values of every sample of name whose labels include want.
func metricSum(exposition, name string, want map[string]string) float64 {
	var sum float64
	for _, line := range strings.Split(exposition, "\n") {
		m := sampleRE.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		labels := map[string]string{}
		for _, l := range labelRE.FindAllStringSubmatch(m[3], -1) {
			labels[l[1]] = l[2]
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if match {
			v, _ := strconv.ParseFloat(m[4], 64)
			sum += v
		}
	}
	return sum
}

// labelValues lists every label value in an exposition.
func labelValues(exposition string) []string {
	var out []string
	for _, line := range strings.Split(exposition, "\n") {
		if m := sampleRE.FindStringSubmatch(line); m != nil {
			for _, l := range labelRE.FindAllStringSubmatch(m[3], -1) {
				out = append(out, l[2])
			}
		}
	}
	return out
}

// mixCall is one step of the scripted mix.
type mixCall struct {
	replica int
	openID  string // "" = app-level; "shop" = the authorized shop
	method  string
	params  map[string]any
	times   int
}

// wantAPI is what /v1/stats/apis must report for one API.
type wantAPI struct {
	calls, failures int64
	classes         map[string]int64
	results         map[int64]int64
}

// TestObservability_ScriptedMixAcrossReplicas runs a mix of calls with known
// outcomes (deterministic sandbox rejections and injected faults) spread over
// two replicas sharing NATS, and checks that /v1/stats/apis reports exactly
// those counts and rates on either replica, that /metrics carries the
// documented counters without secrets or open_ids, and that the quota view
// counts the test user. The browser test of /dashboard runs on the same mix.
func TestObservability_ScriptedMixAcrossReplicas(t *testing.T) {
	sb, gws, openID := replicas(t, 2, sandbox.Config{Seed: 5})
	ctx := context.Background()

	browser := startBrowser(t) // nil without Chromium: the browser subtests skip
	t.Run("dashboard_without_data", func(t *testing.T) { browser.checkEmpty(t, gws[0]) })

	now := time.Now()
	const (
		orders = "open.order.cursor.list"
		detail = "open.order.detail"
		shop   = "open.shop.info.get"
	)
	week, month := orderParams(now, 7), orderParams(now, 30)
	unknownOrder := map[string]any{"oid": 1}
	mix := []mixCall{
		{0, "shop", orders, week, 5},         // 5 ok
		{0, "shop", orders, month, 2},        // 2 × 804001 (window over 7 days)
		{0, "shop", detail, unknownOrder, 3}, // 3 × 21 (not the shop's order)
		{0, "", shop, nil, 1},                // 1 × 22 (app token on a shop API)
		{1, "shop", shop, nil, 4},            // 4 ok
		{1, "shop", detail, unknownOrder, 1}, // 1 × 21
	}
	run := func(c mixCall) error {
		id := c.openID
		if id == "shop" {
			id = openID
		}
		var params *structpb.Value
		if c.params != nil {
			params, _ = structpb.NewValue(c.params)
		}
		_, err := gatewayv1.NewPlatformServiceClient(gws[c.replica].conn).Call(ctx, &gatewayv1.CallRequest{OpenId: id, Method: c.method, Params: params})
		return err
	}
	for _, c := range mix {
		for range c.times {
			_ = run(c) // outcomes are checked through the statistics
		}
	}
	// Injected faults on replica 1: two QPS rejections (1016) are retried,
	// so one Call makes 3 attempts; one HTTP 503 on a GET is retried, so one
	// Call makes 2 attempts.
	if _, err := sb.InjectFault(sandbox.Fault{Method: shop, Count: 2, Kind: sandbox.FaultResult, Result: platform.ResultQPSExceeded}); err != nil {
		t.Fatal(err)
	}
	if err := run(mixCall{1, "shop", shop, nil, 1}); err != nil {
		t.Fatalf("call after two 1016 answers: %v", err)
	}
	if _, err := sb.InjectFault(sandbox.Fault{Method: orders, Count: 1, Kind: sandbox.FaultHTTP5xx, HTTPStatus: 503}); err != nil {
		t.Fatal(err)
	}
	if err := run(mixCall{1, "shop", orders, week, 1}); err != nil {
		t.Fatalf("call after one 503: %v", err)
	}

	const sellerGet = "open.user.seller.get"
	want := map[string]wantAPI{
		orders: {calls: 5 + 2 + 2, failures: 2 + 1,
			classes: map[string]int64{"invalid_argument": 2, "upstream": 1}, results: map[int64]int64{804001: 2, 0: 1}},
		detail: {calls: 4, failures: 4, classes: map[string]int64{"permission": 4}, results: map[int64]int64{21: 4}},
		shop: {calls: 1 + 4 + 3, failures: 1 + 2,
			classes: map[string]int64{"permission": 1, "rate_limit": 2}, results: map[int64]int64{22: 1, 1016: 2}},
		// The shop is a test user of a test app: once authorized, the gateway
		// asks the platform for its seller id (the test-user cap counts per
		// main account; docs/apps.md) — a real call, counted like any other.
		sellerGet: {calls: 1, classes: map[string]int64{}, results: map[int64]int64{}},
	}
	var wantCalls, wantFailures int64
	for _, w := range want {
		wantCalls += w.calls
		wantFailures += w.failures
	}

	// Replica 1's read flushes replica 1; replica 0's read then sees both.
	var first gatewayv1.GetApiStatsResponse
	gws[1].getProto(t, "/v1/stats/apis", &first)

	check := func(t *testing.T, st *gatewayv1.GetApiStatsResponse, want map[string]wantAPI, wantCalls, wantFailures int64) {
		t.Helper()
		if got := st.GetTotal(); got.GetCalls() != wantCalls || got.GetFailures() != wantFailures ||
			got.GetSuccessRate() != float64(wantCalls-wantFailures)/float64(wantCalls) {
			t.Fatalf("total = %d calls, %d failures, rate %v; want %d, %d", got.GetCalls(), got.GetFailures(), got.GetSuccessRate(), wantCalls, wantFailures)
		}
		if len(st.GetReplicas()) != 2 {
			t.Fatalf("replicas = %v, want both", st.GetReplicas())
		}
		if len(st.GetApis()) != len(want) {
			t.Fatalf("%d APIs reported, want %d", len(st.GetApis()), len(want))
		}
		for _, a := range st.GetApis() {
			w, ok := want[a.GetMethod()]
			if !ok {
				t.Fatalf("unexpected API %s", a.GetMethod())
			}
			if a.GetCalls() != w.calls || a.GetFailures() != w.failures || a.GetSuccesses() != w.calls-w.failures ||
				a.GetSuccessRate() != float64(w.calls-w.failures)/float64(w.calls) {
				t.Errorf("%s: calls %d failures %d rate %v; want %d, %d", a.GetMethod(), a.GetCalls(), a.GetFailures(), a.GetSuccessRate(), w.calls, w.failures)
			}
			classes := map[string]int64{}
			for _, c := range a.GetErrorsByClass() {
				classes[c.GetClass()] = c.GetCount()
			}
			results := map[int64]int64{}
			for _, r := range a.GetErrorsByResult() {
				results[r.GetResult()] = r.GetCount()
			}
			if fmt.Sprint(classes) != fmt.Sprint(w.classes) || fmt.Sprint(results) != fmt.Sprint(w.results) {
				t.Errorf("%s: classes %v results %v; want %v %v", a.GetMethod(), classes, results, w.classes, w.results)
			}
			var line int64
			for _, p := range a.GetTimeline() {
				line += p.GetCalls()
			}
			if line != w.calls {
				t.Errorf("%s: timeline sums to %d calls", a.GetMethod(), line)
			}
			if a.GetLatencyP50Ms() <= 0 || a.GetLatencyP50Ms() > a.GetLatencyP95Ms() || a.GetLatencyP95Ms() > a.GetLatencyP99Ms() || a.GetLatencyP99Ms() > a.GetLatencyMaxMs() {
				t.Errorf("%s: latency p50 %v p95 %v p99 %v max %v", a.GetMethod(), a.GetLatencyP50Ms(), a.GetLatencyP95Ms(), a.GetLatencyP99Ms(), a.GetLatencyMaxMs())
			}
		}
	}

	t.Run("apis_on_both_replicas", func(t *testing.T) {
		for _, path := range []string{"/v1/stats/apis", "/v1/stats/apis?window=24h", "/v1/stats/apis?window=7d"} {
			for i, g := range gws {
				var st gatewayv1.GetApiStatsResponse
				g.getProto(t, path, &st)
				t.Run(fmt.Sprintf("replica%d%s", i, strings.TrimPrefix(path, "/v1/stats/apis")), func(t *testing.T) {
					check(t, &st, want, wantCalls, wantFailures)
				})
			}
		}
	})

	t.Run("shop_filter", func(t *testing.T) {
		var st gatewayv1.GetApiStatsResponse
		gws[0].getProto(t, "/v1/stats/apis?open_id="+openID, &st)
		shopOnly := map[string]wantAPI{orders: want[orders], detail: want[detail], sellerGet: want[sellerGet],
			shop: {calls: 7, failures: 2, classes: map[string]int64{"rate_limit": 2}, results: map[int64]int64{1016: 2}}}
		check(t, &st, shopOnly, wantCalls-1, wantFailures-1)
	})

	t.Run("bad_window", func(t *testing.T) {
		code, body := gws[0].rest(t, http.MethodGet, "/v1/stats/apis?window=2h", "")
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["details"]), "window") {
			t.Fatalf("window=2h: %d %v", code, body)
		}
	})

	t.Run("quota", func(t *testing.T) {
		var q gatewayv1.GetQuotaResponse
		gws[0].getProto(t, "/v1/stats/quota", &q)
		if q.GetDayStartTime().AsTime().After(now) {
			t.Skip("the platform day (UTC+8) changed during the test")
		}
		// Every attempt got an HTTP answer, so all count against the quota.
		if q.GetAppDaily().GetUsed() != wantCalls || q.GetAppDaily().GetLimit() != 100000 {
			t.Fatalf("app daily = %v", q.GetAppDaily())
		}
		if len(q.GetTestUsers()) != 1 || q.GetTestUsers()[0].GetOpenId() != openID ||
			q.GetTestUsers()[0].GetDaily().GetUsed() != wantCalls-1 || q.GetTestUsers()[0].GetDaily().GetLimit() != 2000 {
			t.Fatalf("test users = %v", q.GetTestUsers())
		}
		limits := map[string]int64{}
		for _, a := range q.GetApis() {
			limits[a.GetMethod()] = a.GetLimitQps()
			if a.GetPeakQps() < 1 || a.GetPeakTime() == nil {
				t.Errorf("%s: peak %d", a.GetMethod(), a.GetPeakQps())
			}
		}
		if limits[orders] != 300 || limits[detail] != 100 || limits[shop] != 100 {
			t.Fatalf("QPS limits = %v", limits)
		}
		if len(q.GetWarnings()) != 0 {
			t.Fatalf("warnings = %v", q.GetWarnings())
		}
	})

	t.Run("metrics", func(t *testing.T) {
		scrapes := []string{gws[0].scrape(t), gws[1].scrape(t)}
		sum := func(name string, labels map[string]string) float64 {
			return metricSum(scrapes[0], name, labels) + metricSum(scrapes[1], name, labels)
		}
		if got := sum("kwaishop_upstream_calls_total", nil); got != float64(wantCalls) {
			t.Errorf("kwaishop_upstream_calls_total = %v, want %d", got, wantCalls)
		}
		for method, w := range want {
			for class, n := range w.classes {
				if got := sum("kwaishop_upstream_calls_total", map[string]string{"kwaishop_method": method, "kwaishop_error_class": class}); got != float64(n) {
					t.Errorf("calls %s %s = %v, want %d", method, class, got, n)
				}
			}
			if got := sum("kwaishop_upstream_duration_seconds_count", map[string]string{"kwaishop_method": method}); got != float64(w.calls) {
				t.Errorf("duration count %s = %v, want %d", method, got, w.calls)
			}
		}
		if got := sum("kwaishop_upstream_calls_total", map[string]string{"kwaishop_method": detail, "kwaishop_result": "21"}); got != 4 {
			t.Errorf("result 21 = %v", got)
		}
		if got := sum("kwaishop_token_refreshes_total", map[string]string{"kwaishop_oauth_grant_type": "client_credentials", "kwaishop_outcome": "success"}); got != 1 {
			t.Errorf("client_credentials = %v, want 1 (the app-level call)", got)
		}
		if got := metricSum(scrapes[0], "kwaishop_authorizations", map[string]string{"kwaishop_authorization_status": "active", "kwaishop_test_user": "true"}); got != 1 {
			t.Errorf("kwaishop_authorizations active test user = %v", got)
		}
		sc := sb.Config()
		for i, s := range scrapes {
			for _, v := range labelValues(s) {
				for _, bad := range []string{sc.AppSecret, sc.SignSecret, sc.MessageKey, openID} {
					if strings.Contains(v, bad) {
						t.Errorf("replica %d: a label value holds a secret or the open_id: %q", i, v)
					}
				}
			}
		}
	})

	t.Run("dashboard_matches_stats", func(t *testing.T) {
		var st gatewayv1.GetApiStatsResponse
		gws[0].getProto(t, "/v1/stats/apis", &st)
		browser.checkNumbers(t, gws[0], &st)
	})
}

// TestObservability_RefreshTrace: one REST call whose access token the
// platform rejects (expired on the platform's clock) produces one trace:
// HTTP server → gRPC server → upstream attempt (28) → token refresh →
// upstream attempt (ok), every span under the gRPC server span.
func TestObservability_RefreshTrace(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	if code, _ := g.rest(t, http.MethodPost, "/v1/call", callBody(t, openID, "open.shop.info.get", map[string]any{})); code != http.StatusOK {
		t.Fatalf("warm-up call: %d", code)
	}
	g.info.Sandbox.Advance(49 * time.Hour) // the access token expired on the platform's clock
	before := len(g.spans.Ended())
	code, body := g.rest(t, http.MethodPost, "/v1/call", callBody(t, openID, "open.shop.info.get", map[string]any{}))
	if code != http.StatusOK {
		t.Fatalf("call after expiry: %d %v", code, body)
	}

	waitGRPCServerSpan(t, g, before)
	spans := g.spans.Ended()[before:]
	var httpSpan sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "POST /v1/call" && s.SpanKind() == trace.SpanKindServer {
			httpSpan = s
		}
	}
	if httpSpan == nil {
		t.Fatal("no HTTP server span")
	}
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range g.spans.Ended() {
		if s.SpanContext().TraceID() == httpSpan.SpanContext().TraceID() {
			byID[s.SpanContext().SpanID()] = s
		}
	}
	var grpcSpan, refresh sdktrace.ReadOnlySpan
	var upstream []sdktrace.ReadOnlySpan
	for _, s := range byID {
		switch {
		case s.Name() == "kwaishop.gateway.v1.PlatformService/Call" && s.SpanKind() == trace.SpanKindServer:
			grpcSpan = s
		case s.Name() == "kwaishop oauth2.refresh_token" && s.SpanKind() == trace.SpanKindClient:
			refresh = s
		case s.Name() == "kwaishop open.shop.info.get" && s.SpanKind() == trace.SpanKindClient:
			upstream = append(upstream, s)
		}
	}
	if grpcSpan == nil || refresh == nil || len(upstream) != 2 {
		t.Fatalf("trace has gRPC span %v, refresh span %v, %d upstream spans; spans: %v", grpcSpan != nil, refresh != nil, len(upstream), names(byID))
	}
	slices.SortFunc(upstream, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	if !descends(grpcSpan, httpSpan, byID) {
		t.Error("gRPC server span is not under the HTTP server span")
	}
	for _, s := range append([]sdktrace.ReadOnlySpan{refresh}, upstream...) {
		if !descends(s, grpcSpan, byID) {
			t.Errorf("%s is not under the gRPC server span", s.Name())
		}
	}
	if attr(upstream[0], "kwaishop.result") != "28" || attr(upstream[1], "kwaishop.result") != "1" {
		t.Errorf("upstream results: %q then %q, want 28 then success", attr(upstream[0], "kwaishop.result"), attr(upstream[1], "kwaishop.result"))
	}
	if refresh.StartTime().Before(upstream[0].EndTime()) || upstream[1].StartTime().Before(refresh.EndTime()) {
		t.Error("spans out of order: want rejected attempt, refresh, resend")
	}

	t.Run("client_credentials_under_the_call", func(t *testing.T) {
		before := len(g.spans.Ended())
		// An app-level call: the app token is fetched inside the call's
		// upstream attempt (the platform then refuses the shop API: 22).
		if code, _ := g.rest(t, http.MethodPost, "/v1/call", callBody(t, "", "open.shop.info.get", map[string]any{})); code != http.StatusForbidden {
			t.Fatalf("app-level call: %d", code)
		}
		waitGRPCServerSpan(t, g, before)
		spans := g.spans.Ended()[before:]
		byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
		var cc, grpcSpan sdktrace.ReadOnlySpan
		for _, s := range spans {
			byID[s.SpanContext().SpanID()] = s
			switch s.Name() {
			case "kwaishop oauth2.access_token":
				cc = s
			case "kwaishop.gateway.v1.PlatformService/Call":
				if s.SpanKind() == trace.SpanKindServer {
					grpcSpan = s
				}
			}
		}
		if cc == nil || grpcSpan == nil || attr(cc, "kwaishop.oauth.grant_type") != "client_credentials" {
			t.Fatalf("spans: %v", names(byID))
		}
		if !descends(cc, grpcSpan, byID) {
			t.Fatal("the client_credentials span is not under the call's gRPC server span")
		}
	})

	t.Run("metrics_and_stats_count_it", func(t *testing.T) {
		m := g.scrape(t)
		if got := metricSum(m, "kwaishop_token_refreshes_total", map[string]string{"kwaishop_oauth_grant_type": "refresh_token", "kwaishop_outcome": "success"}); got != 1 {
			t.Errorf("refreshes = %v, want 1", got)
		}
		if got := metricSum(m, "kwaishop_upstream_calls_total", map[string]string{"kwaishop_result": "28", "kwaishop_error_class": "auth"}); got != 1 {
			t.Errorf("rejected attempts = %v, want 1", got)
		}
		secrets := g.secrets(t)
		for _, v := range labelValues(m) {
			for _, s := range append(secrets, openID) {
				if strings.Contains(v, s) {
					t.Errorf("a label value holds a secret or the open_id: %q", v)
				}
			}
		}
		var st gatewayv1.GetApiStatsResponse
		g.getProto(t, "/v1/stats/apis", &st)
		// warm-up, rejected attempt, resend, app-level call (22)
		if st.GetTotal().GetCalls() != 4 || st.GetTotal().GetFailures() != 2 || len(st.GetTotal().GetErrorsByResult()) != 2 {
			t.Errorf("stats total = %v", st.GetTotal())
		}
	})
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// TestObservability_QuotaWarning: crossing 90 % of the daily quota raises
// one warning event, one log line and one metric increment.
func TestObservability_QuotaWarning(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	cfg.Limit.DailyQuota = 10
	g := startGatewayWith(t, cfg, Options{})
	start := time.Now()
	for range 9 {
		if code, _ := g.rest(t, http.MethodPost, "/v1/call", callBody(t, g.info.SandboxOpenID, "open.shop.info.get", map[string]any{})); code != http.StatusOK {
			t.Fatalf("call: %d", code)
		}
	}
	for range 2 { // the second read must not raise it again
		var q gatewayv1.GetQuotaResponse
		g.getProto(t, "/v1/stats/quota", &q)
		if q.GetDayStartTime().AsTime().After(start) {
			t.Skip("the platform day (UTC+8) changed during the test")
		}
		if q.GetAppDaily().GetUsed() != 9 || q.GetAppDaily().GetRatio() != 0.9 || len(q.GetWarnings()) != 1 ||
			q.GetWarnings()[0].GetKind() != gatewayv1.QuotaKind_QUOTA_KIND_APP_DAILY || q.GetWarnings()[0].GetUsed() != 9 {
			t.Fatalf("quota = %v", &q)
		}
	}
	if n := strings.Count(g.logs.String(), "quota use crossed the warning threshold"); n != 1 {
		t.Fatalf("%d warning log lines, want 1", n)
	}
	m := g.scrape(t)
	if got := metricSum(m, "kwaishop_quota_warnings_total", map[string]string{"kwaishop_quota_kind": "app_daily"}); got != 1 {
		t.Fatalf("kwaishop_quota_warnings_total = %v", got)
	}
	if got := metricSum(m, "kwaishop_quota_utilization_ratio", map[string]string{"kwaishop_quota_kind": "app_daily"}); got != 0.9 {
		t.Log(m)
		t.Fatalf("kwaishop_quota_utilization = %v", got)
	}
}

// waitGRPCServerSpan waits until a PlatformService/Call server span ended
// after the first before spans: the gRPC server's stats handler ends it when
// the RPC finishes, which may be just after the REST answer was written.
func waitGRPCServerSpan(t *testing.T, g *gateway, before int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range g.spans.Ended()[before:] {
			if s.Name() == "kwaishop.gateway.v1.PlatformService/Call" && s.SpanKind() == trace.SpanKindServer {
				return
			}
		}
	}
}
