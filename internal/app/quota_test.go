package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
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
		q.TestUsers[0].Daily.Limit != "2000" || q.TestUsers[0].Daily.Used != "2" {
		t.Fatalf("test users: %+v", q.TestUsers)
	}
	if q.AppDaily.Limit != "1100000" || q.AppDaily.Used != "2" {
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

// mainAccountPlatform fronts the sandbox over real sockets and names the
// main account in the token answers of sub (the member the gateway reads,
// main_open_id).
func mainAccountPlatform(t *testing.T, sb *sandbox.Sandbox, sub map[string]string) *httptest.Server {
	t.Helper()
	h := sb.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/access_token" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var body map[string]any
		out := rec.Body.Bytes()
		if json.Unmarshal(out, &body) == nil {
			if id, _ := body["open_id"].(string); sub[id] != "" {
				body["main_open_id"] = sub[id]
				out, _ = json.Marshal(body)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(bytes.Clone(out))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A test app's cap counts a main account and its sub-accounts as one test
// user: the sub-account's calls count against the main account's cap (30;
// reads stop at 95 %: 28), the next call of either is refused, another test
// user keeps its own cap, and the quota view shows the main account with
// its sub-account.
func TestQuota_TestUserCapPerMainAccount(t *testing.T) {
	spec := newAppSpec("ksTest03", config.AppTest, config.AppSelfUse)
	spec.testUserCap = 30
	sb, _ := appsSandbox(t, spec)
	view, _ := sb.App(spec.key)
	users := view.TestUsers()
	subUser, err := view.AddSubAccount(users[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := mainAccountPlatform(t, sb, map[string]string{subUser.OpenID: users[0].OpenID})
	g := appsGateway(t, srv.URL, nil, spec)
	main := consoleAuthorize(t, g, sb, spec.key, users[0].ID)
	sub := consoleAuthorize(t, g, sb, spec.key, subUser.ID)
	other := consoleAuthorize(t, g, sb, spec.key, users[1].ID)
	if sub.GetMainOpenId() != main.GetOpenId() || main.GetMainOpenId() != "" || sub.GetOpenId() == main.GetOpenId() {
		t.Fatalf("main %v, sub %v", main, sub)
	}

	plat := gatewayv1.NewPlatformServiceClient(g.conn)
	call := func(openID string) error {
		_, err := plat.Call(withKey(appsKeyOps), &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"})
		return err
	}
	for i := range 28 {
		id := main.GetOpenId()
		if i%3 == 0 {
			id = sub.GetOpenId()
		}
		if err := call(id); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	for _, id := range []string{sub.GetOpenId(), main.GetOpenId()} {
		err := call(id)
		info := errorInfo(status.Convert(err))
		if status.Code(err) != codes.ResourceExhausted || info.GetReason() != gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED.String() {
			t.Fatalf("call 29 for %s: %v", id, err)
		}
	}
	if err := call(other.GetOpenId()); err != nil {
		t.Fatalf("another test user: %v", err)
	}

	q := getQuota(t, g, "")
	if len(q.TestUsers) != 2 {
		t.Fatalf("test users: %+v", q.TestUsers)
	}
	for _, u := range q.TestUsers {
		switch u.OpenID {
		case main.GetOpenId():
			if len(u.SubOpenIDs) != 1 || u.SubOpenIDs[0] != sub.GetOpenId() || u.Daily.Used != "28" || u.Daily.Limit != "30" {
				t.Fatalf("the main account's row: %+v", u)
			}
		case other.GetOpenId():
			if u.Daily.Used != "1" || len(u.SubOpenIDs) != 0 {
				t.Fatalf("the other test user's row: %+v", u)
			}
		default:
			t.Fatalf("a row of %s (a sub-account has none of its own)", u.OpenID)
		}
	}
}
