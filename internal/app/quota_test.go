package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// consoleAuthorize completes a console code of the sandbox's test user id
// for app (CompleteAuthorization without a state, by the admin key).
func consoleAuthorize(t *testing.T, g *gateway, sb *sandbox.Sandbox, app string, id int) *gatewayv1.Authorization {
	t.Helper()
	view, ok := sb.App(app)
	if !ok {
		t.Fatalf("no sandbox app %s", app)
	}
	code, err := view.IssueCode(id, []string{"merchant_order", "merchant_user"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := gatewayv1.NewAuthorizationServiceClient(g.conn).CompleteAuthorization(withKey(appsKeyOps),
		&gatewayv1.CompleteAuthorizationRequest{Code: code, AppKey: app})
	if err != nil {
		t.Fatal(err)
	}
	if a := done.GetAuthorization(); a.GetAppKey() != app {
		t.Fatalf("authorization of %s: %v", app, a)
	}
	return done.GetAuthorization()
}

// restQuota is the quota view the dashboard reads (GET /v1/stats/quota).
type restQuota struct {
	AppKey   string `json:"app_key"`
	AppDaily struct {
		Used  json.Number `json:"used"`
		Limit json.Number `json:"limit"`
	} `json:"app_daily"`
	Apps []struct {
		AppKey string `json:"app_key"`
		Daily  struct {
			Used  json.Number `json:"used"`
			Limit json.Number `json:"limit"`
		} `json:"daily"`
		TestUserDailyLimit json.Number `json:"test_user_daily_limit"`
	} `json:"apps"`
	TestUsers []struct {
		OpenID     string   `json:"open_id"`
		AppKey     string   `json:"app_key"`
		SubOpenIDs []string `json:"sub_open_ids"`
		Daily      struct {
			Used  json.Number `json:"used"`
			Limit json.Number `json:"limit"`
		} `json:"daily"`
	} `json:"test_users"`
}

func getQuota(t *testing.T, g *gateway, query string) restQuota {
	t.Helper()
	code, body := appsREST(t, g, appsKeyOps, "/v1/stats/quota"+query)
	var q restQuota
	if err := json.Unmarshal(body, &q); code != http.StatusOK || err != nil {
		t.Fatalf("quota%s: %d %s", query, code, body)
	}
	return q
}

// A launched app's quota is the platform's 1 000 000 calls a day, a test
// app's 100 000 with 2 000 per test user: the table's numbers, each app
// against its own.
func TestQuota_LaunchedAndTestApps(t *testing.T) {
	live, test := newAppSpec("ksLive01", config.AppOnline, config.AppThirdParty), newAppSpec("ksTest02", config.AppTest, config.AppSelfUse)
	sb, srv := appsSandbox(t, live, test)
	g := appsGateway(t, srv.URL, nil, live, test)
	tu := consoleAuthorize(t, g, sb, test.key, 1)
	consoleAuthorize(t, g, sb, live.key, 1)
	if !tu.GetTestUser() {
		t.Fatalf("a test app's shop is not a test user: %v", tu)
	}
	for range 2 {
		if _, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(withKey(appsKeyOps), &gatewayv1.CallRequest{OpenId: tu.GetOpenId(), Method: "open.shop.info.get"}); err != nil {
			t.Fatal(err)
		}
	}

	q := getQuota(t, g, "")
	limits := map[string][2]string{}
	for _, a := range q.Apps {
		limits[a.AppKey] = [2]string{a.Daily.Limit.String(), a.TestUserDailyLimit.String()}
	}
	if limits[live.key] != [2]string{"1000000", ""} && limits[live.key] != [2]string{"1000000", "0"} {
		t.Fatalf("the launched app's quota: %v", limits[live.key])
	}
	if limits[test.key] != [2]string{"100000", "2000"} {
		t.Fatalf("the test app's quota: %v", limits[test.key])
	}
	if len(q.TestUsers) != 1 || q.TestUsers[0].OpenID != tu.GetOpenId() || q.TestUsers[0].AppKey != test.key ||
		q.TestUsers[0].Daily.Limit != "2000" || q.TestUsers[0].Daily.Used != "3" { // and the test user's open.user.seller.get
		t.Fatalf("test users: %+v", q.TestUsers)
	}
	if q.AppDaily.Limit != "1100000" || q.AppDaily.Used != "3" {
		t.Fatalf("all apps together: %+v", q.AppDaily)
	}
	one := getQuota(t, g, "?app_key="+live.key)
	if one.AppKey != live.key || one.AppDaily.Limit != "1000000" || len(one.Apps) != 1 || len(one.TestUsers) != 0 {
		t.Fatalf("the launched app alone: %+v", one)
	}
	if code, body := appsREST(t, g, appsKeyOps, "/v1/stats/quota?app_key=ksNobody"); code != http.StatusBadRequest {
		t.Fatalf("quota of an unknown app: %d %s", code, body)
	}
}

// A test app's cap counts a main account and its sub-accounts as one test
// user, end to end against the sandbox over real sockets: the gateway learns
// each shop's seller id from open.user.seller.get when it authorizes (the
// sub-account's answer names the main account's seller, with staffInfo), so
// the main account's and the sub-account's calls share the platform's 2 000:
// reads stop at 95 % (1 900), writes may use the rest, and the 2 001st call
// of either is refused; another test user keeps its own cap, and the quota
// view shows the main account with its sub-account. The sandbox's own cap
// is raised so that the gateway's is the one tested.
func TestQuota_TestUserCapPerMainAccount(t *testing.T) {
	spec := newAppSpec("ksTest03", config.AppTest, config.AppSelfUse)
	sb, err := sandbox.New(sandbox.Config{Seed: 11, TestUsers: 2, Limits: sandbox.Limits{APIQPS: 100000, TestUserDailyCalls: 10000},
		Apps: []sandbox.AppConfig{{AppKey: spec.key, AppSecret: spec.secret, SignSecret: spec.sign, MessageKey: spec.msgKey}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	view, _ := sb.App(spec.key)
	users := view.TestUsers()
	subUser, err := view.AddSubAccount(users[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	g := appsGateway(t, srv.URL, func(c *config.Config) { c.Limit.QPS = 0 }, spec)
	authorize := func(id int) *gatewayv1.Authorization {
		t.Helper()
		code, err := view.IssueCode(id, []string{"merchant_user", "merchant_logistics"})
		if err != nil {
			t.Fatal(err)
		}
		done, err := gatewayv1.NewAuthorizationServiceClient(g.conn).CompleteAuthorization(withKey(appsKeyOps),
			&gatewayv1.CompleteAuthorizationRequest{Code: code, AppKey: spec.key})
		if err != nil {
			t.Fatal(err)
		}
		return done.GetAuthorization()
	}
	main, sub, other := authorize(users[0].ID), authorize(subUser.ID), authorize(users[1].ID)
	if main.GetSellerId() == 0 || sub.GetSellerId() != main.GetSellerId() || other.GetSellerId() == main.GetSellerId() ||
		sub.GetMainOpenId() != main.GetOpenId() || main.GetMainOpenId() != "" || sub.GetOpenId() == main.GetOpenId() {
		t.Fatalf("main %v, sub %v, other %v", main, sub, other)
	}
	if !sub.GetTestUser() || sub.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE {
		t.Fatalf("sub %v", sub)
	}

	plat := gatewayv1.NewPlatformServiceClient(g.conn)
	call := func(openID, method string) error {
		_, err := plat.Call(withKey(appsKeyOps), &gatewayv1.CallRequest{OpenId: openID, Method: method})
		return err
	}
	const read, write = "open.shop.info.get", "open.express.subscribe.query" // a POST: a write's priority
	refused := func(err error) bool {
		info := errorInfo(status.Convert(err))
		return status.Code(err) == codes.ResourceExhausted && info.GetReason() == gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED.String()
	}
	shopOf := func(i int) string {
		if i%3 == 0 {
			return sub.GetOpenId()
		}
		return main.GetOpenId()
	}
	for i := range 1900 {
		if err := call(shopOf(i), read); err != nil {
			t.Fatalf("read %d: %v", i+1, err)
		}
	}
	for _, id := range []string{sub.GetOpenId(), main.GetOpenId()} {
		if err := call(id, read); !refused(err) {
			t.Fatalf("read 1 901 for %s: %v", id, err)
		}
	}
	for i := range 100 {
		if err := call(shopOf(i), write); err != nil {
			t.Fatalf("write %d (call %d): %v", i+1, 1901+i, err)
		}
	}
	for _, id := range []string{sub.GetOpenId(), main.GetOpenId()} {
		if err := call(id, write); !refused(err) {
			t.Fatalf("call 2 001 for %s: %v", id, err)
		}
	}
	if err := call(other.GetOpenId(), read); err != nil {
		t.Fatalf("another test user: %v", err)
	}

	q := getQuota(t, g, "")
	if len(q.TestUsers) != 2 {
		t.Fatalf("test users: %+v", q.TestUsers)
	}
	for _, u := range q.TestUsers {
		switch u.OpenID {
		case main.GetOpenId():
			// 2 000 calls and each shop's open.user.seller.get.
			if len(u.SubOpenIDs) != 1 || u.SubOpenIDs[0] != sub.GetOpenId() || u.Daily.Used != "2002" || u.Daily.Limit != "2000" {
				t.Fatalf("the main account's row: %+v", u)
			}
		case other.GetOpenId():
			if u.Daily.Used != "2" || len(u.SubOpenIDs) != 0 {
				t.Fatalf("the other test user's row: %+v", u)
			}
		default:
			t.Fatalf("a row of %s (a sub-account has none of its own)", u.OpenID)
		}
	}
}
