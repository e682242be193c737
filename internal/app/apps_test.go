package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

const (
	appsKeyOps    = "ops-0123456789abcdef-apps"
	appsKeyBrandA = "brand-a-0123456789abcdef"
)

// appSpec is one app of a test: its sandbox side and its gateway side.
type appSpec struct {
	key, secret, sign, msgKey string
	state, typ                string // the gateway's view (config.AppTest, …)
	testUserCap               int64  // 0: the table's
}

func newAppSpec(key, state, typ string) appSpec {
	raw := make([]byte, 16)
	for i := range raw {
		raw[i] = byte(len(key)*7 + i*13)
	}
	copy(raw, key)
	return appSpec{key: key, secret: key + "-app-secret-0123", sign: key + "-sign-secret-0123",
		msgKey: base64.StdEncoding.EncodeToString(raw), state: state, typ: typ}
}

// appsJSON is the KWAISHOP_APPS of specs.
func appsJSON(specs ...appSpec) string {
	var list []map[string]any
	for _, s := range specs {
		m := map[string]any{"app_key": s.key, "app_secret": s.secret, "sign_secret": s.sign, "message_key": s.msgKey, "state": s.state, "type": s.typ}
		if s.testUserCap > 0 {
			m["test_user_daily_quota"] = s.testUserCap
		}
		list = append(list, m)
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// appsSandbox is one sandbox serving every app of specs (each in test
// state on the platform's side, self-use: any test user may consent).
func appsSandbox(t *testing.T, specs ...appSpec) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	var apps []sandbox.AppConfig
	for _, s := range specs {
		apps = append(apps, sandbox.AppConfig{AppKey: s.key, AppSecret: s.secret, SignSecret: s.sign, MessageKey: s.msgKey})
	}
	sb, err := sandbox.New(sandbox.Config{Apps: apps, Seed: 11, TestUsers: 2, Limits: sandbox.Limits{APIQPS: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return sb, srv
}

// appsGateway runs a gateway of several apps against base (the sandbox's
// URL), with an all-access key and a key limited to the first app.
func appsGateway(t *testing.T, base string, edit func(*config.Config), specs ...appSpec) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.APIBaseURL, cfg.AuthorizeURL = base, base+"/oauth/authorize"
	mustSet(&cfg, "KWAISHOP_APPS", appsJSON(specs...))
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	mustSet(&cfg, "KWAISHOP_API_KEYS", "ops:"+appsKeyOps+":rpc=*,brand-a:"+appsKeyBrandA+":app="+specs[0].key)
	cfg.Message.ReconcileInterval = 0
	if edit != nil {
		edit(&cfg)
	}
	return startGatewayWith(t, cfg, Options{})
}

func withKey(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key, "x-kwaishop-wait", "true")
}

// authorizeApp runs the consent flow of app for the sandbox's test user 1
// over real sockets: StartAuthorization names the app, the consent page
// redirects to the app's own callback on the gateway.
func authorizeApp(t *testing.T, g *gateway, app string) string {
	t.Helper()
	st, err := gatewayv1.NewAuthorizationServiceClient(g.conn).StartAuthorization(withKey(appsKeyOps),
		&gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order", "merchant_user", "merchant_item"}, AppKey: app})
	if err != nil {
		t.Fatal(err)
	}
	cb := consent(t, st.GetUrl(), 1)
	if want := "/oauth/callback/" + app; cb.Path != want {
		t.Fatalf("the platform redirected to %s, want the app's callback %s", cb.Path, want)
	}
	if code, body := getStatus(t, cb.String()); code != http.StatusOK || !strings.Contains(body, "Shop authorized") {
		t.Fatalf("callback: %d %s", code, body)
	}
	list, err := gatewayv1.NewAuthorizationServiceClient(g.conn).ListAuthorizations(withKey(appsKeyOps), &gatewayv1.ListAuthorizationsRequest{AppKey: app})
	if err != nil || len(list.GetAuthorizations()) != 1 || list.GetAuthorizations()[0].GetAppKey() != app {
		t.Fatalf("authorizations of %s: %v %v", app, list, err)
	}
	return list.GetAuthorizations()[0].GetOpenId()
}

// Two apps on one gateway: the shops of each authorize through their
// app's callback, call with their app's credentials, receive their app's
// pushes, and show separately in the statistics (gRPC and the dashboard's
// REST data); a key limited to app A cannot touch app B's shops, not even
// to learn that they exist.
func TestApps_TwoAppsOneGateway(t *testing.T) {
	a, b := newAppSpec("ksAppA01", config.AppOnline, config.AppThirdParty), newAppSpec("ksAppB02", config.AppTest, config.AppSelfUse)
	sb, srv := appsSandbox(t, a, b)
	g := appsGateway(t, srv.URL, nil, a, b)

	shopA, shopB := authorizeApp(t, g, a.key), authorizeApp(t, g, b.key)
	if shopA == shopB {
		t.Fatalf("both apps' test user 1 has open_id %s", shopA)
	}
	ctx := withKey(appsKeyOps)
	plat := gatewayv1.NewPlatformServiceClient(g.conn)
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	for _, c := range []struct {
		openID string
		n      int
	}{{shopA, 3}, {shopB, 2}} {
		for range c.n {
			if _, err := plat.Call(ctx, &gatewayv1.CallRequest{OpenId: c.openID, Method: "open.shop.info.get"}); err != nil {
				t.Fatalf("call for %s: %v", c.openID, err)
			}
		}
	}
	// An app-level call names its app; without a name it is ambiguous.
	if _, err := plat.Call(ctx, &gatewayv1.CallRequest{Method: "open.shop.info.get"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("app-level call naming no app of two: %v", err)
	}
	// A shop's call naming another app is refused.
	if _, err := plat.Call(ctx, &gatewayv1.CallRequest{OpenId: shopA, AppKey: b.key, Method: "open.shop.info.get"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("shop A's call as app B: %v", err)
	}
	// Each app's calls reached the platform as that app's (its appkey and
	// signature: the sandbox counts them per app). App B is in test state:
	// its shop's authorization also asked open.user.seller.get (docs/apps.md).
	for _, c := range []struct {
		key string
		n   int
	}{{a.key, 3}, {b.key, 3}} {
		view, _ := sb.App(c.key)
		if u := view.Usage(); u.AppCallsToday != c.n {
			t.Fatalf("the sandbox counted %d calls for %s, want %d (%+v)", u.AppCallsToday, c.key, c.n, u)
		}
	}

	// Statistics: the app filter and the per-app rows.
	stats := gatewayv1.NewStatsServiceClient(g.conn)
	all, err := stats.GetApiStats(ctx, &gatewayv1.GetApiStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, r := range all.GetApps() {
		rows[r.GetAppKey()] = r.GetTotal().GetCalls()
	}
	if all.GetTotal().GetCalls() != 6 || len(rows) != 2 || rows[a.key] != 3 || rows[b.key] != 3 {
		t.Fatalf("all apps: total %d, rows %v", all.GetTotal().GetCalls(), rows)
	}
	onlyB, err := stats.GetApiStats(ctx, &gatewayv1.GetApiStatsRequest{AppKey: b.key})
	if err != nil || onlyB.GetTotal().GetCalls() != 3 || onlyB.GetAppKey() != b.key || len(onlyB.GetApps()) != 1 {
		t.Fatalf("app B's stats: %v %v", onlyB, err)
	}
	if _, err := stats.GetApiStats(ctx, &gatewayv1.GetApiStatsRequest{AppKey: "ksNobody"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("stats of an unknown app: %v", err)
	}
	// The dashboard reads the same over REST.
	code, body := appsREST(t, g, appsKeyOps, "/v1/stats/apis?app_key="+a.key)
	var rest struct {
		AppKey string `json:"app_key"`
		Total  struct {
			Calls json.Number `json:"calls"`
		} `json:"total"`
		Apps []struct {
			AppKey string `json:"app_key"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(body, &rest); code != http.StatusOK || err != nil || rest.AppKey != a.key || rest.Total.Calls != "3" || len(rest.Apps) != 1 {
		t.Fatalf("dashboard data of app A: %d %s", code, body)
	}

	// Pushes: each app's pusher encrypts with its own key; the shared push
	// path and the app's own path both take them.
	for _, c := range []struct {
		spec appSpec
		path string
	}{{a, PushPath}, {b, PushPath + "/" + b.key}} {
		view, _ := sb.App(c.spec.key)
		u := "http://" + g.info.HTTPAddr + c.path
		if _, err := view.SetPusher(sandbox.PusherUpdate{URL: &u}); err != nil {
			t.Fatal(err)
		}
		if _, err := view.CreateOrder(sandbox.OrderSpec{TestUser: 1}); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.WaitPushes(wctx); err != nil {
		t.Fatal(err)
	}
	msgs := gatewayv1.NewMessageServiceClient(g.conn)
	for _, c := range []struct{ openID, app string }{{shopA, a.key}, {shopB, b.key}} {
		var got *gatewayv1.ListMessagesResponse
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err = msgs.ListMessages(ctx, &gatewayv1.ListMessagesRequest{OpenIds: []string{c.openID}})
			if err == nil && len(got.GetMessages()) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || len(got.GetMessages()) == 0 {
			view, _ := sb.App(c.app)
			t.Fatalf("no push stored for %s of %s: %v (the sandbox's pushes: %+v)", c.openID, c.app, err, view.Pushes())
		}
		for _, m := range got.GetMessages() {
			if m.GetOpenId() != c.openID || m.GetAppKey() != c.app {
				t.Fatalf("a message of %s: %v", c.openID, m)
			}
		}
	}

	// Hostile pushes: A's key claiming B's appKey; B's path given A's push;
	// the path of an app without a key here.
	keyA, _ := message.NewKey("", a.msgKey)
	forged := keyA.Encrypt(hmPlainFor(b.key, "forged-1", shopB, "forged", time.Now()))
	genuineA := keyA.Encrypt(hmPlainFor(a.key, "genuine-1", shopA, "fine", time.Now()))
	for _, c := range []struct {
		path, body string
		code       int
		reason     string
	}{
		{PushPath, forged, http.StatusBadRequest, message.ReasonWrongKey},
		{PushPath + "/" + b.key, forged, http.StatusBadRequest, message.ReasonUndecryptable},
		{PushPath + "/" + b.key, genuineA, http.StatusBadRequest, message.ReasonUndecryptable},
		{PushPath + "/ksNobody", genuineA, http.StatusNotFound, "unknown_app"},
		{PushPath + "/" + a.key, genuineA, http.StatusOK, ""},
	} {
		resp, err := http.Post("http://"+g.info.HTTPAddr+c.path, "text/plain", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.reason) {
			t.Fatalf("push to %s: %d %s, want %d %s", c.path, resp.StatusCode, b, c.code, c.reason)
		}
	}
	if got, _ := msgs.ListMessages(ctx, &gatewayv1.ListMessagesRequest{OpenIds: []string{shopB}}); strings.Contains(fmt.Sprint(got), "forged") {
		t.Fatal("a forged push was stored")
	}

	// The key limited to app A: A's shops and A's statistics, nothing of B;
	// B's shop answers exactly as a shop that does not exist.
	brand := withKey(appsKeyBrandA)
	if _, err := plat.Call(brand, &gatewayv1.CallRequest{OpenId: shopA, Method: "open.shop.info.get"}); err != nil {
		t.Fatalf("brand A calling its shop: %v", err)
	}
	// Its app-level call passes the gateway and reaches the platform (which
	// wants a merchant's token for this API: its refusal, not ours).
	_, err = plat.Call(brand, &gatewayv1.CallRequest{AppKey: a.key, Method: "open.shop.info.get"})
	if info := errorInfo(status.Convert(err)); err != nil && info.GetDomain() != service.DomainPlatform {
		t.Fatalf("brand A's app-level call: %v", err)
	}
	_, errB := authz.GetAuthorization(brand, &gatewayv1.GetAuthorizationRequest{OpenId: shopB})
	_, errNone := authz.GetAuthorization(brand, &gatewayv1.GetAuthorizationRequest{OpenId: "no-such-shop"})
	_, errCall := plat.Call(brand, &gatewayv1.CallRequest{OpenId: shopB, Method: "open.shop.info.get"})
	sB, sNone, sCall := status.Convert(errB), status.Convert(errNone), status.Convert(errCall)
	if sB.Code() != codes.NotFound || sB.Message() != sNone.Message() || sCall.Code() != codes.NotFound || sCall.Message() != sNone.Message() ||
		fmt.Sprint(sB.Details()) != fmt.Sprint(sNone.Details()) {
		t.Fatalf("app B's shop for brand A: %v / call %v; an unknown shop: %v", sB, sCall, sNone)
	}
	for name, err := range map[string]error{
		"stats_of_B": func() error {
			_, err := stats.GetApiStats(brand, &gatewayv1.GetApiStatsRequest{AppKey: b.key})
			return err
		}(),
		"stats_of_all": func() error { _, err := stats.GetApiStats(brand, &gatewayv1.GetApiStatsRequest{}); return err }(),
		"start_for_B": func() error {
			_, err := authz.StartAuthorization(brand, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}, AppKey: b.key})
			return err
		}(),
		"app_level_call_of_B": func() error {
			_, err := plat.Call(brand, &gatewayv1.CallRequest{AppKey: b.key, Method: "open.shop.info.get"})
			return err
		}(),
	} {
		if status.Code(err) != codes.PermissionDenied || errorInfo(status.Convert(err)).GetDomain() != service.DomainGateway {
			t.Errorf("brand A %s: %v", name, err)
		}
	}
	if st, err := stats.GetApiStats(brand, &gatewayv1.GetApiStatsRequest{AppKey: a.key}); err != nil || st.GetTotal().GetCalls() < 3 {
		t.Fatalf("brand A's own statistics: %v %v", st, err)
	}
	if code, body := appsREST(t, g, appsKeyBrandA, "/v1/authorizations?app_key="+b.key); code != http.StatusForbidden {
		t.Fatalf("brand A listing app B's shops over REST: %d %s", code, body)
	}
	if code, body := appsREST(t, g, appsKeyBrandA, "/v1/authorizations?app_key="+a.key); code != http.StatusOK || !strings.Contains(string(body), shopA) || strings.Contains(string(body), shopB) {
		t.Fatalf("brand A listing its shops over REST: %d %s", code, body)
	}
}

// appsREST is a GET of the REST API with key.
func appsREST(t *testing.T, g *gateway, key, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The OAuth routes of several apps: /oauth/start names the app (or the
// known shop's), a stateless code at the shared callback names no app, the
// app's own callback follows its type's rule, and an unknown app's
// callback is not found.
func TestApps_OAuthRoutes(t *testing.T) {
	a, b := newAppSpec("ksAppA01", config.AppOnline, config.AppThirdParty), newAppSpec("ksAppB02", config.AppTest, config.AppSelfUse)
	sb, srv := appsSandbox(t, a, b)
	g := appsGateway(t, srv.URL, nil, a, b)
	base := "http://" + g.info.HTTPAddr

	code, body := getStatus(t, base+"/oauth/start?scope=merchant_order")
	if code != http.StatusBadRequest || !strings.Contains(body, "name the app") {
		t.Fatalf("/oauth/start naming no app of two: %d %s", code, body)
	}
	resp, err := noRedirect.Get(base + "/oauth/start?scope=merchant_order&app_key=" + b.key)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "app_id="+b.key) {
		t.Fatalf("/oauth/start for B: %d %s", resp.StatusCode, loc)
	}
	// Console codes (a code without a state) for each app's callback.
	codeFor := func(app string) string {
		view, _ := sb.App(app)
		c, err := view.IssueCode(2, []string{"merchant_order"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if code, _ := getStatus(t, base+"/oauth/callback?code="+codeFor(a.key)); code != http.StatusBadRequest {
		t.Fatalf("a stateless code at the shared callback of two apps: %d", code)
	}
	// App A is third-party: the service market's stateless code is taken.
	if code, body := getStatus(t, base+"/oauth/callback/"+a.key+"?code="+codeFor(a.key)); code != http.StatusOK {
		t.Fatalf("a stateless code at third-party app A's callback: %d %s", code, body)
	}
	// App B is self-use: its state is mandatory by default.
	if code, _ := getStatus(t, base+"/oauth/callback/"+b.key+"?code="+codeFor(b.key)); code != http.StatusBadRequest {
		t.Fatalf("a stateless code at self-use app B's callback: %d", code)
	}
	if code, _ := getStatus(t, base+"/oauth/callback/ksNobody?code=x&state=y"); code != http.StatusNotFound {
		t.Fatalf("an unknown app's callback: %d", code)
	}
	list, err := gatewayv1.NewAuthorizationServiceClient(g.conn).ListAuthorizations(withKey(appsKeyOps), &gatewayv1.ListAuthorizationsRequest{})
	if err != nil || len(list.GetAuthorizations()) != 1 || list.GetAuthorizations()[0].GetAppKey() != a.key ||
		list.GetAuthorizations()[0].GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_SERVICE_MARKET {
		t.Fatalf("authorizations: %v %v", list, err)
	}
}

// The per-app OAuth callback and push routes stay reachable without a
// client certificate (mTLS) and under any Host, like the shared ones; no
// other path under them does.
func TestApps_CertFreeRoutes(t *testing.T) {
	for path, want := range map[string]bool{
		"/oauth/callback": true, "/oauth/callback/ks1": true, PushPath: true, PushPath + "/ks1": true,
		"/oauth/callback/": false, "/oauth/callback/ks1/x": false, PushPath + "/": false, PushPath + "/ks1/x": false,
		"/v1/authorizations": false, "/oauth/callbackX": false,
	} {
		if got := certFree(path); got != want {
			t.Errorf("certFree(%q) = %v, want %v", path, got, want)
		}
	}
}
