package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// twoAppsWithTraffic runs a gateway of two apps whose shops have called
// (callsA and callsB times) and received one pushed order each.
func twoAppsWithTraffic(t *testing.T, callsA, callsB int) (g *gateway, a, b appSpec, shopA, shopB string) {
	t.Helper()
	a, b = newAppSpec("ksAppA01", config.AppOnline, config.AppThirdParty), newAppSpec("ksAppB02", config.AppTest, config.AppSelfUse)
	sb, srv := appsSandbox(t, a, b)
	g = appsGateway(t, srv.URL, nil, a, b)
	shopA, shopB = authorizeApp(t, g, a.key), authorizeApp(t, g, b.key)
	plat := gatewayv1.NewPlatformServiceClient(g.conn)
	for openID, n := range map[string]int{shopA: callsA, shopB: callsB} {
		for range n {
			if _, err := plat.Call(withKey(appsKeyOps), &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"}); err != nil {
				t.Fatalf("call for %s: %v", openID, err)
			}
		}
	}
	for _, s := range []appSpec{a, b} {
		view, _ := sb.App(s.key)
		u := "http://" + g.info.HTTPAddr + PushPath
		if _, err := view.SetPusher(sandbox.PusherUpdate{URL: &u}); err != nil {
			t.Fatal(err)
		}
		if _, err := view.CreateOrder(sandbox.OrderSpec{TestUser: 1}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.WaitPushes(ctx); err != nil {
		t.Fatal(err)
	}
	return g, a, b, shopA, shopB
}

// messageStats polls GetMessageStats until want(answer) holds (a push is
// counted once the intake stored it).
func messageStats(t *testing.T, ctx context.Context, g *gateway, req *gatewayv1.GetMessageStatsRequest, want func(*gatewayv1.GetMessageStatsResponse) bool) *gatewayv1.GetMessageStatsResponse {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep, err := gatewayv1.NewStatsServiceClient(g.conn).GetMessageStats(ctx, req)
		if err != nil {
			t.Fatalf("GetMessageStats %v: %v", req, err)
		}
		if want(rep) || time.Now().After(deadline) {
			return rep
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two apps: the message statistics have the app dimension of the API
// statistics (the app filter, each app's row, the same refusals), and the
// upstream-call metrics carry each call's own app.
func TestApps_MessageStatsAndMetricsPerApp(t *testing.T) {
	g, a, b, _, _ := twoAppsWithTraffic(t, 3, 2)
	ctx := withKey(appsKeyOps)
	rows := func(r *gatewayv1.GetMessageStatsResponse) map[string]int64 {
		out := map[string]int64{}
		for _, x := range r.GetApps() {
			out[x.GetAppKey()] = x.GetTotal().GetReceived()
		}
		return out
	}
	all := messageStats(t, ctx, g, &gatewayv1.GetMessageStatsRequest{}, func(r *gatewayv1.GetMessageStatsResponse) bool {
		return rows(r)[a.key] >= 1 && rows(r)[b.key] >= 1
	})
	ra, rb := rows(all)[a.key], rows(all)[b.key]
	if len(all.GetApps()) != 2 || all.GetApps()[0].GetAppKey() != a.key || ra < 1 || rb < 1 || all.GetTotal().GetReceived() != ra+rb || all.GetAppKey() != "" {
		t.Fatalf("every app's messages: total %v, rows %v", all.GetTotal(), all.GetApps())
	}
	onlyB := messageStats(t, ctx, g, &gatewayv1.GetMessageStatsRequest{AppKey: b.key, Window: "24h"}, func(*gatewayv1.GetMessageStatsResponse) bool { return true })
	var line int64
	for _, p := range onlyB.GetTimeline() {
		line += p.GetCounts().GetReceived()
	}
	if onlyB.GetAppKey() != b.key || onlyB.GetTotal().GetReceived() != rb || line != rb || len(onlyB.GetApps()) != 1 || onlyB.GetApps()[0].GetAppKey() != b.key {
		t.Fatalf("app B's messages: %v", onlyB)
	}
	// Over REST, as the dashboard reads them.
	code, body := appsREST(t, g, appsKeyOps, "/v1/stats/messages?app_key="+a.key)
	var rest struct {
		AppKey string `json:"app_key"`
		Total  struct {
			Received json.Number `json:"received"`
		} `json:"total"`
	}
	if err := json.Unmarshal(body, &rest); code != http.StatusOK || err != nil || rest.AppKey != a.key || rest.Total.Received.String() == "" || rest.Total.Received.String() == "0" {
		t.Fatalf("REST messages of app A: %d %s", code, body)
	}
	stats := gatewayv1.NewStatsServiceClient(g.conn)
	for name, c := range map[string]struct {
		key  string
		req  *gatewayv1.GetMessageStatsRequest
		code codes.Code
	}{
		"unknown_app":         {appsKeyOps, &gatewayv1.GetMessageStatsRequest{AppKey: "ksNobody"}, codes.InvalidArgument},
		"malformed_app":       {appsKeyOps, &gatewayv1.GetMessageStatsRequest{AppKey: "ks/../x"}, codes.InvalidArgument},
		"brand_A_of_B":        {appsKeyBrandA, &gatewayv1.GetMessageStatsRequest{AppKey: b.key}, codes.PermissionDenied},
		"brand_A_of_all_apps": {appsKeyBrandA, &gatewayv1.GetMessageStatsRequest{}, codes.PermissionDenied},
		"brand_A_of_A":        {appsKeyBrandA, &gatewayv1.GetMessageStatsRequest{AppKey: a.key}, codes.OK},
	} {
		if _, err := stats.GetMessageStats(withKey(c.key), c.req); status.Code(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}

	// The metrics: each app's calls under its own key (app B's test user
	// also asked open.user.seller.get, which is another method).
	code, body = appsREST(t, g, appsKeyOps, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for app, n := range map[string]string{a.key: "3", b.key: "2"} {
		want := `kwaishop_upstream_calls_total{kwaishop_app_key="` + app + `",kwaishop_error_class="none",kwaishop_method="open.shop.info.get",kwaishop_result="1"} ` + n + "\n"
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, app := range []string{a.key, b.key} {
		if !strings.Contains(string(body), `kwaishop_messages_received_total{kwaishop_app_key="`+app+`"`) {
			t.Errorf("/metrics counts no received message of %s", app)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// Without API keys the HTTP edge answers only its own names: with several
// apps, every app's callback host is one of them (the platform sends
// merchants back there), not only the first app's.
func TestApps_HostAllowlistCoversEveryAppsRedirect(t *testing.T) {
	cfg := config.Defaults()
	cfg.HTTPAddr = "127.0.0.1:8080"
	apps := `[{"app_key":"ksA","app_secret":"a-secret-0123456789","sign_secret":"a-sign-0123456789","redirect_uri":"https://a.example.com/oauth/callback/ksA"},` +
		`{"app_key":"ksB","app_secret":"b-secret-0123456789","sign_secret":"b-sign-0123456789","redirect_uri":"https://b.example.net:8443/oauth/callback/ksB"},` +
		`{"app_key":"ksC","app_secret":"c-secret-0123456789","sign_secret":"c-sign-0123456789"}]`
	mustSet(&cfg, "KWAISHOP_APPS", apps)
	e, err := newHTTPEdge(cfg, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := e.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	for host, want := range map[string]int{
		"a.example.com": http.StatusOK, "b.example.net:8443": http.StatusOK, "127.0.0.1:8080": http.StatusOK, "localhost": http.StatusOK,
		"b.example.net:9999": http.StatusForbidden, "evil.example.org": http.StatusForbidden, "c.example.com": http.StatusForbidden,
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/stats/apis", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// The dashboard of a two-app gateway: the app filter is offered, and
// choosing an app shows only that app's rows and numbers (calls, APIs,
// shops, messages), as /v1/stats answers for the app.
func TestDashboard_AppFilter(t *testing.T) {
	br := startBrowser(t)
	if br == nil {
		t.Skip(noBrowser)
	}
	g, a, b, shopA, shopB := twoAppsWithTraffic(t, 3, 2)
	ctx := withKey(appsKeyOps)
	for _, app := range []string{a.key, b.key} {
		messageStats(t, ctx, g, &gatewayv1.GetMessageStatsRequest{AppKey: app}, func(r *gatewayv1.GetMessageStatsResponse) bool { return r.GetTotal().GetReceived() > 0 })
	}
	// The page asks for an API key (this gateway has keys): give it the
	// operator's, as the key form would, and load again.
	page, cancel := context.WithTimeout(br.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(page, chromedp.Navigate("http://"+g.info.HTTPAddr+"/dashboard")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(page, chromedp.Evaluate[bool](`sessionStorage.setItem("kwaishop-api-key", `+jsString(appsKeyOps)+`), true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(page, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="true"]`))); err != nil {
		t.Fatal(err)
	}
	type view struct {
		FilterShown bool     `json:"filterShown"`
		Options     []string `json:"options"`
		Calls       string   `json:"calls"`
		Methods     []string `json:"methods"`
		Shops       []string `json:"shops"`
		AppRows     []string `json:"appRows"`
		Received    string   `json:"received"`
		MsgApp      string   `json:"msgApp"`
	}
	read := `({filterShown: !document.getElementById("app-filter").hidden,
		options: [...document.querySelectorAll("#app option")].map(o => o.value),
		calls: document.getElementById("total-calls").textContent,
		methods: [...document.querySelectorAll("#api-table tbody tr")].map(tr => tr.dataset.method),
		shops: [...document.querySelectorAll("#auth-table tbody tr")].map(tr => tr.dataset.openId),
		appRows: [...document.querySelectorAll("#apps-table tbody tr")].map(tr => tr.dataset.app),
		received: document.getElementById("msg-received").dataset.value || "",
		msgApp: document.getElementById("msg-panel").dataset.app || ""})`
	// waitFor reads the page until ok holds (the page refreshes every 5 s,
	// and at once when the filter changes).
	waitFor := func(what string, ok func(view) bool) view {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			v, err := chromedp.Run(page, chromedp.Evaluate[view](read))
			if err != nil {
				t.Fatal(err)
			}
			if ok(v) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page shows %+v", what, v)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	has := func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	stats := gatewayv1.NewStatsServiceClient(g.conn)
	msgs := func(app string) string {
		r, err := stats.GetMessageStats(ctx, &gatewayv1.GetMessageStatsRequest{AppKey: app})
		if err != nil {
			t.Fatal(err)
		}
		return jsonInt(r.GetTotal().GetReceived())
	}
	calls := func(app string) string {
		r, err := stats.GetApiStats(ctx, &gatewayv1.GetApiStatsRequest{AppKey: app})
		if err != nil {
			t.Fatal(err)
		}
		return jsonInt(r.GetTotal().GetCalls())
	}
	allCalls, allMsgs := calls(""), msgs("")
	waitFor("every app", func(v view) bool {
		return v.FilterShown && has(v.Options, a.key) && has(v.Options, b.key) && v.Calls == allCalls && has(v.Shops, shopA) && has(v.Shops, shopB) &&
			len(v.AppRows) == 2 && v.Received == allMsgs && v.MsgApp == ""
	})
	for _, c := range []struct{ app, shop, other string }{{a.key, shopA, shopB}, {b.key, shopB, shopA}} {
		if err := chromedp.Do(page, chromedp.SetValue(chromedp.ID("app"), c.app)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(page, chromedp.Evaluate[bool](`document.getElementById("app").dispatchEvent(new Event("change"))`)); err != nil {
			t.Fatal(err)
		}
		wantCalls, wantMsgs := calls(c.app), msgs(c.app)
		v := waitFor("app "+c.app, func(v view) bool {
			return v.Calls == wantCalls && len(v.Shops) == 1 && v.Shops[0] == c.shop && v.Received == wantMsgs && v.MsgApp == c.app
		})
		if has(v.Shops, c.other) || len(v.AppRows) > 1 || (len(v.AppRows) == 1 && v.AppRows[0] != c.app) {
			t.Fatalf("app %s: the page shows another app's rows: %+v", c.app, v)
		}
		if c.app == a.key && has(v.Methods, "open.user.seller.get") {
			t.Fatalf("app A shows app B's seller look-up: %+v", v)
		}
	}
	br.screenshot(t, page, "dashboard-app-filter.png")
	if errs := br.jsErrors(); len(errs) > 0 {
		t.Fatalf("JavaScript errors: %v", errs)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
