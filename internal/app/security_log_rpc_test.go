package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// SecurityLogService end to end: logins and exports reported over gRPC and
// REST reach the sandbox's recorded security logs (docs/security-logs.md).

const (
	slKeyShop  = "sl-shop-key-0123456789abcdef"  // the sandbox shop, security-logs only
	slKeyOther = "sl-other-key-0123456789abcdef" // another shop, security-logs only
	slKeyStats = "sl-stats-key-0123456789abcdef" // every shop, stats only
)

// startSecLogRPCGateway runs a gateway on a sandbox with the security
// logs on and API keys: admin (rpc=*), one limited to the sandbox's shop,
// one to another shop, one for stats. It returns the gateway, the shop and
// the sandbox.
func startSecLogRPCGateway(t *testing.T) (*gateway, string, *sandbox.Sandbox) {
	t.Helper()
	sbCfg := sandbox.Config{Seed: 7}
	var shopID string
	{
		// The shop's open_id is known before the gateway starts.
		sb, err := sandbox.New(sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		sbCfg.AppKey, sbCfg.AppSecret, sbCfg.SignSecret = sb.Config().AppKey, sb.Config().AppSecret, sb.Config().SignSecret
		shopID = sb.TestUsers()[0].OpenID
		sb.Close()
	}
	keys := strings.Join([]string{
		"admin:" + keyAdmin + ":rpc=*",
		"shop:" + slKeyShop + ":shop=" + shopID + ":rpc=security-logs",
		"other:" + slKeyOther + ":shop=another-shop:rpc=security-logs",
		"stats:" + slKeyStats + ":rpc=stats",
	}, ",")
	api, gws, openID := securedReplicas(t, 1, sbCfg, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", keys)
		mustSet(c, "KWAISHOP_SECURITY_LOG", "true")
		mustSet(c, "KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL", "100ms")
	})
	if openID != shopID {
		t.Fatalf("authorized %s, want %s", openID, shopID)
	}
	return gws[0], openID, api.sb
}

func TestSecurityLogRPC_LoginAndExportReachThePlatform(t *testing.T) {
	g, openID, sb := startSecLogRPCGateway(t)
	c := gatewayv1.NewSecurityLogServiceClient(g.conn)
	ctx := bearer(context.Background(), slKeyShop)
	auth := map[string]string{"Authorization": "Bearer " + slKeyShop, "Content-Type": "application/json"}
	loginAt := time.Now().Add(-time.Hour).Truncate(time.Millisecond)

	// A login over gRPC (its own time) and one over REST (now).
	if _, err := c.ReportLogin(ctx, &gatewayv1.ReportLoginRequest{OpenId: openID, UserIp: "198.51.100.20", LoginResult: "success",
		Time: timestamppb.New(loginAt)}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := restWith(t, g, http.MethodPost, "/v1/security-logs:login",
		`{"open_id":"`+openID+`","user_ip":"2001:db8::5","login_result":"failure","login_message":"wrong password"}`, auth); code != 200 {
		t.Fatalf("REST login: %d %v", code, body)
	}
	// An export of 150 orders by id over gRPC (ids beyond 2^53: exact), one
	// by filter over REST.
	ids := make([]int64, 150)
	for i := range ids {
		ids[i] = 1<<60 + int64(i)
	}
	if _, err := c.ReportExport(ctx, &gatewayv1.ReportExportRequest{OpenId: openID, UserIp: "198.51.100.21", Url: "https://erp.example/export",
		Operation: 6, OrderIds: ids, OrderTotal: 150}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := restWith(t, g, http.MethodPost, "/v1/security-logs:export",
		`{"open_id":"`+openID+`","user_ip":"198.51.100.22","url":"https://erp.example/export?all","operation":6,"data":"status=paid","order_total":"42"}`, auth); code != 200 {
		t.Fatalf("REST export: %d %v", code, body)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		var logins []string
		var exported []int64
		var idEntries, filterEntries int
		for _, e := range sb.SecurityLogs(openID) {
			switch {
			case e.Method == "login":
				logins = append(logins, fmt.Sprintf("%s %s %d", e.UserIP, e.Result, e.Time))
			case e.Method == "order" && e.URL == "https://erp.example/export" && e.UserIP == "198.51.100.21" && e.Operation == 6:
				if len(e.OrderIDs) > 100 {
					t.Fatalf("an entry of %d ids", len(e.OrderIDs))
				}
				exported = append(exported, e.OrderIDs...)
				idEntries++
			case e.Method == "order" && e.Data == "status=paid" && e.Total == 42 && len(e.OrderIDs) == 0 && e.UserIP == "198.51.100.22":
				filterEntries++
			}
		}
		slices.Sort(logins)
		wantLogins := []string{fmt.Sprintf("198.51.100.20 success %d", loginAt.UnixMilli())}
		done := len(logins) == 2 && logins[0] == wantLogins[0] && strings.HasPrefix(logins[1], "2001:db8::5 failure ") &&
			slices.Equal(exported, ids) && idEntries == 2 && filterEntries == 1
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox has logins %v, %d exported ids in %d entries, %d filter entries", logins, len(exported), idEntries, filterEntries)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Counted: over gRPC and REST with the stats key (every shop).
	st, err := c.GetSecurityLogStats(bearer(context.Background(), slKeyStats), &gatewayv1.GetSecurityLogStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.GetEnabled() || st.GetSent() < 4 || st.GetDropped() != 0 {
		t.Errorf("stats %v", st)
	}
	code, body, _ := restWith(t, g, http.MethodGet, "/v1/security-logs/stats", "", map[string]string{"Authorization": "Bearer " + slKeyStats})
	if code != 200 || body["enabled"] != true || body["sent"] == nil {
		t.Errorf("REST stats: %d %v", code, body)
	}
	// The dashboard's security-log panel shows them (with the stats key).
	if b := startBrowser(t); b != nil {
		bctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		page := "http://" + g.info.HTTPAddr + "/dashboard"
		if err := chromedp.Do(bctx, chromedp.Navigate(page)); err != nil {
			t.Fatalf("dashboard: %v", err)
		}
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`sessionStorage.setItem("kwaishop-api-key", "`+slKeyStats+`"), true`)); err != nil {
			t.Fatalf("dashboard key: %v", err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#seclog-panel[data-state="on"]`))); err != nil {
			t.Fatalf("dashboard with the stats key: %v", err)
		}
		shown, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("seclog-sent")))
		if err != nil || shown != fmt.Sprint(st.GetSent()) {
			t.Errorf("the dashboard shows %q sent (%v), the stats %d", shown, err, st.GetSent())
		}
	}
	// A key limited to a shop may not read the gateway-wide counts.
	if _, err := c.GetSecurityLogStats(ctx, &gatewayv1.GetSecurityLogStatsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("stats with a shop's key: %v", err)
	}
}

// Who may report, and what: a key limited to another shop is refused, an
// unknown shop is NotFound, every invalid field is a 400 naming it, and
// none of these reaches the platform.
func TestSecurityLogRPC_Refusals(t *testing.T) {
	g, openID, sb := startSecLogRPCGateway(t)
	c := gatewayv1.NewSecurityLogServiceClient(g.conn)
	before := len(sb.SecurityLogs(openID))

	login := &gatewayv1.ReportLoginRequest{OpenId: openID, UserIp: "198.51.100.30", LoginResult: "success"}
	if _, err := c.ReportLogin(bearer(context.Background(), slKeyOther), login); status.Code(err) != codes.PermissionDenied {
		t.Errorf("another shop's key over gRPC: %v", err)
	}
	other := map[string]string{"Authorization": "Bearer " + slKeyOther, "Content-Type": "application/json"}
	if code, body, _ := restWith(t, g, http.MethodPost, "/v1/security-logs:export",
		`{"open_id":"`+openID+`","user_ip":"198.51.100.30","url":"https://x","operation":1,"order_ids":["1"]}`, other); code != 403 {
		t.Errorf("another shop's key over REST: %d %v", code, body)
	}
	// The stats key may not report (its group is stats).
	if _, err := c.ReportLogin(bearer(context.Background(), slKeyStats), login); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the stats key: %v", err)
	}
	// An all-shops key, a shop the gateway has no authorization of.
	unknown := &gatewayv1.ReportLoginRequest{OpenId: "no-such-shop", UserIp: "198.51.100.30", LoginResult: "success"}
	if _, err := c.ReportLogin(bearer(context.Background(), keyAdmin), unknown); status.Code(err) != codes.NotFound {
		t.Errorf("unknown shop: %v", err)
	}

	auth := map[string]string{"Authorization": "Bearer " + slKeyShop, "Content-Type": "application/json"}
	export := func(extra string) string {
		return `{"open_id":"` + openID + `","user_ip":"198.51.100.31","url":"https://erp.example/x","operation":3` + extra + `}`
	}
	many := make([]string, 10001)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	old := time.Now().Add(-40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for name, tc := range map[string]struct{ path, body, field string }{
		"login bad ip":       {":login", `{"open_id":"` + openID + `","user_ip":"999.1.1.1","login_result":"success"}`, "user_ip"},
		"login ip zone":      {":login", `{"open_id":"` + openID + `","user_ip":"fe80::1%eth0","login_result":"success"}`, "user_ip"},
		"login no result":    {":login", `{"open_id":"` + openID + `","user_ip":"192.0.2.1"}`, "login_result"},
		"login long result":  {":login", `{"open_id":"` + openID + `","user_ip":"192.0.2.1","login_result":"` + strings.Repeat("r", 65) + `"}`, "login_result"},
		"login control":      {":login", `{"open_id":"` + openID + `","user_ip":"192.0.2.1","login_result":"ok\u0000"}`, "login_result"},
		"login huge message": {":login", `{"open_id":"` + openID + `","user_ip":"192.0.2.1","login_result":"ok","login_message":"` + strings.Repeat("m", 4097) + `"}`, "login_message"},
		"login old":          {":login", `{"open_id":"` + openID + `","user_ip":"192.0.2.1","login_result":"ok","time":"` + old + `"}`, "time"},
		"export nothing":     {":export", export(``), "order_ids"},
		"export op 0":        {":export", export(`,"operation":0,"data":"x"`), "operation"},
		"export op huge":     {":export", export(`,"operation":10000,"data":"x"`), "operation"},
		"export no url":      {":export", `{"open_id":"` + openID + `","user_ip":"192.0.2.1","operation":3,"data":"x"}`, "url"},
		"export zero id":     {":export", export(`,"order_ids":["0"]`), "order_ids"},
		"export dup ids":     {":export", export(`,"order_ids":["7","7"]`), "order_ids"},
		"export 10001 ids":   {":export", export(`,"order_ids":["` + strings.Join(many, `","`) + `"]`), "order_ids"},
		"export neg total":   {":export", export(`,"data":"x","order_total":"-1"`), "order_total"},
		"export huge data":   {":export", export(`,"data":"` + strings.Repeat("d", 4097) + `"`), "data"},
		"export future":      {":export", export(`,"data":"x","time":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"`), "time"},
	} {
		code, body, _ := restWith(t, g, http.MethodPost, "/v1/security-logs"+tc.path, tc.body, auth)
		if code != 400 || !strings.Contains(fmt.Sprint(body), tc.field) {
			t.Errorf("%s: %d %.300v, want 400 naming %s", name, code, body, tc.field)
		}
	}
	// No shop: a shop's key is refused before validation (it must name its
	// shop); an all-shops key gets the field violation.
	admin := map[string]string{"Authorization": "Bearer " + keyAdmin, "Content-Type": "application/json"}
	if code, body, _ := restWith(t, g, http.MethodPost, "/v1/security-logs:login", `{"user_ip":"192.0.2.1","login_result":"ok"}`, admin); code != 400 ||
		!strings.Contains(fmt.Sprint(body), "open_id") {
		t.Errorf("login naming no shop: %d %v", code, body)
	}
	// The same over gRPC.
	if _, err := c.ReportExport(bearer(context.Background(), slKeyShop), &gatewayv1.ReportExportRequest{OpenId: openID, UserIp: "192.0.2.1",
		Url: "https://x", Operation: 3}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("gRPC export naming no orders: %v", err)
	}

	time.Sleep(500 * time.Millisecond) // two flushes
	if n := len(sb.SecurityLogs(openID)); n != before {
		t.Errorf("%d entries reached the platform from refused reports", n-before)
	}
}
