package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// useService is the platform's redirect after a merchant presses "use
// service" in the service market: the gateway's callback with a code the
// gateway never asked for, and no state.
func useService(t *testing.T, g *gateway, testUser int, scopes ...string) (int, string) {
	t.Helper()
	code, err := g.info.Sandbox.IssueCode(testUser, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return getStatus(t, "http://"+g.info.HTTPAddr+"/oauth/callback?"+url.Values{"code": {code}}.Encode())
}

func getAuthorization(t *testing.T, g *gateway, openID string) *gatewayv1.Authorization {
	t.Helper()
	r, err := gatewayv1.NewAuthorizationServiceClient(g.conn).GetAuthorization(context.Background(), &gatewayv1.GetAuthorizationRequest{OpenId: openID})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetAuthorization()
}

func TestAuthorization_ServiceMarketArrival(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	mustSet(&cfg, "KWAISHOP_OAUTH_START_BURST", "100") // many callbacks from one address (TestHostileOAuth_CallbackFloods covers the limit)
	g := startGatewayWith(t, cfg, Options{})
	sb := g.info.Sandbox
	user, err := sb.AddTestUser("market shop")
	if err != nil {
		t.Fatal(err)
	}
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	ctx := context.Background()

	t.Run("code_without_state_authorizes", func(t *testing.T) {
		st, body := useService(t, g, user.ID, "merchant_order")
		if st != http.StatusOK || !strings.Contains(body, user.OpenID) {
			t.Fatalf("use service: %d %s", st, body)
		}
		a := getAuthorization(t, g, user.OpenID)
		if a.GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_SERVICE_MARKET ||
			a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE || strings.Join(a.GetScopes(), ",") != "merchant_order" {
			t.Fatalf("authorization %v", a)
		}
		// REST shows the source too.
		if code, r := g.rest(t, http.MethodGet, "/v1/authorizations/"+user.OpenID, ""); code != http.StatusOK ||
			r["authorization"].(map[string]any)["source"] != "AUTHORIZATION_SOURCE_SERVICE_MARKET" {
			t.Fatalf("REST: %d %v", code, r)
		}
	})

	t.Run("present_but_forged_state_refused_before_exchange", func(t *testing.T) {
		code, _ := sb.IssueCode(user.ID, []string{"merchant_order"})
		before := sb.Counters().CodeExchanges
		st, body := getStatus(t, "http://"+g.info.HTTPAddr+"/oauth/callback?"+url.Values{"code": {code}, "state": {"forged"}}.Encode())
		if st != http.StatusBadRequest || !strings.Contains(body, "unknown or was already used") || strings.Contains(body, code) {
			t.Fatalf("forged state: %d %s", st, body)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a forged state reached the code exchange")
		}
	})

	t.Run("expired_state_with_code_refused_before_exchange", func(t *testing.T) {
		start, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
		if err != nil {
			t.Fatal(err)
		}
		cb := consent(t, start.GetUrl(), user.ID)
		// The state is consumed by a first use; the same link again is a used state.
		if st, _ := getStatus(t, cb.String()); st != http.StatusOK {
			t.Fatalf("first use: %d", st)
		}
		before := sb.Counters().CodeExchanges
		if st, _ := getStatus(t, cb.String()); st != http.StatusBadRequest {
			t.Fatalf("used state: %d", st)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a used state reached the code exchange")
		}
	})

	t.Run("code_reuse_and_bad_codes_refused", func(t *testing.T) {
		code, _ := sb.IssueCode(user.ID, []string{"merchant_order"})
		cb := "http://" + g.info.HTTPAddr + "/oauth/callback?" + url.Values{"code": {code}}.Encode()
		if st, _ := getStatus(t, cb); st != http.StatusOK {
			t.Fatalf("first use: %d", st)
		}
		if st, body := getStatus(t, cb); st != http.StatusBadRequest || !strings.Contains(body, "once only") {
			t.Fatalf("reused code: %d %s", st, body)
		}
		if a := getAuthorization(t, g, user.OpenID); a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE {
			t.Fatalf("a refused reuse changed the shop: %v", a)
		}
		before := sb.Counters().CodeExchanges
		for _, q := range []string{
			url.Values{"code": {strings.Repeat("c", 600)}}.Encode(),                  // huge
			url.Values{"code": {"abc\x00def"}}.Encode(),                              // not a code
			"code=" + code + "&code=other",                                           // which one?
			"state=" + url.QueryEscape(strings.Repeat("s", 300)),                     // no code
			url.Values{"code": {"x"}, "state": {strings.Repeat("s", 5000)}}.Encode(), // huge state: unknown
		} {
			st, body := getStatus(t, "http://"+g.info.HTTPAddr+"/oauth/callback?"+q)
			if st != http.StatusBadRequest || strings.Contains(body, "ccccc") {
				t.Fatalf("%.60s: %d %s", q, st, body)
			}
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a malformed callback reached the code exchange")
		}
	})

	t.Run("console_code_via_complete_without_state", func(t *testing.T) {
		code, _ := sb.IssueCode(user.ID, []string{"merchant_order", "merchant_item"})
		// Authentication is off in this gateway (no keys, loopback): every
		// caller may, as every caller may call admin RPCs.
		r, err := authz.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: code})
		if err != nil || r.GetAuthorization().GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_CONSOLE || len(r.GetAuthorization().GetScopes()) != 2 {
			t.Fatalf("complete without state: %v %v", r, err)
		}
		if _, err := authz.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: strings.Repeat("c", 513)}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("huge code: %v", err)
		}
		if _, err := authz.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: "a\nb"}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("control character in code: %v", err)
		}
	})
}

// TestAuthorization_ConsoleCodeNeedsAdmin: CompleteAuthorization without a
// state is for keys with the admin group only.
func TestAuthorization_ConsoleCodeNeedsAdmin(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	mustSet(&cfg, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*,ops:"+keyOther+":rpc=authorization")
	g := startGatewayWith(t, cfg, Options{})
	sb := g.info.Sandbox
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	code, _ := sb.IssueCode(1, []string{"merchant_order"})
	before := sb.Counters().CodeExchanges
	_, err := authz.CompleteAuthorization(bearer(context.Background(), keyOther), &gatewayv1.CompleteAuthorizationRequest{Code: code})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || reasonOf(st) != "ERROR_REASON_PERMISSION_DENIED" || !strings.Contains(st.Message(), "admin") {
		t.Fatalf("authorization-group key: %v", err)
	}
	if sb.Counters().CodeExchanges != before {
		t.Fatal("a refused console code reached the code exchange")
	}
	r, err := authz.CompleteAuthorization(bearer(context.Background(), keyAdmin), &gatewayv1.CompleteAuthorizationRequest{Code: code})
	if err != nil || r.GetAuthorization().GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_CONSOLE {
		t.Fatalf("admin key: %v %v", r, err)
	}
	// With a state the authorization group suffices, as before.
	start, err := authz.StartAuthorization(bearer(context.Background(), keyOther), &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
	if err != nil {
		t.Fatal(err)
	}
	code, _ = sb.IssueCode(1, []string{"merchant_order"})
	r, err = authz.CompleteAuthorization(bearer(context.Background(), keyOther), &gatewayv1.CompleteAuthorizationRequest{Code: code, State: start.GetState()})
	if err != nil || r.GetAuthorization().GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_OAUTH_FLOW {
		t.Fatalf("with a state: %v %v", r, err)
	}
}

// TestAuthorization_ScopeUpgradeWithoutGap: a call the shop's scopes do not
// cover answers PERMISSION_DENIED with a reauthorize_url for the granted
// scopes plus the missing one; the merchant follows it while other calls
// for the shop go on, and none of them fails.
func TestAuthorization_ScopeUpgradeWithoutGap(t *testing.T) {
	g := startGateway(t)
	sb := g.info.Sandbox
	user, err := sb.AddTestUser("upgrading shop")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := useService(t, g, user.ID, "merchant_order"); st != http.StatusOK {
		t.Fatalf("use service: %d %s", st, body)
	}
	p := gatewayv1.NewPlatformServiceClient(g.conn)
	ctx := context.Background()
	items := &gatewayv1.CallRequest{OpenId: user.OpenID, Method: "open.item.list.get"}
	_, err = p.Call(ctx, items)
	st := status.Convert(err)
	info := errorInfo(st)
	if st.Code() != codes.PermissionDenied || info.GetReason() != "ERROR_REASON_PLATFORM_PERMISSION" || info.GetMetadata()["result"] != "22" ||
		info.GetMetadata()["missing_scope"] != "merchant_item" {
		t.Fatalf("call without the scope: %v %v", st, info)
	}
	reauth, err := url.Parse(info.GetMetadata()["reauthorize_url"])
	if err != nil || reauth.Query().Get("scope") != "merchant_order,merchant_item" || reauth.Query().Get("open_id") != user.OpenID {
		t.Fatalf("reauthorize_url %q", info.GetMetadata()["reauthorize_url"])
	}

	// Calls the shop may make keep going while the merchant re-authorizes.
	orderParamsValue, _ := structpb.NewValue(orderParams(time.Now(), 1))
	orders := &gatewayv1.CallRequest{OpenId: user.OpenID, Method: "open.order.cursor.list", Params: orderParamsValue}
	stop := make(chan struct{})
	var calls, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := p.Call(ctx, orders); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				calls.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	resp, err := noRedirect.Get(reauth.String()) // /oauth/start: a fresh state, then the consent page
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	consentURL, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || consentURL.Query().Get("scope") != "merchant_order,merchant_item" {
		t.Fatalf("reauthorize: %d %v", resp.StatusCode, consentURL)
	}
	if st, body := getStatus(t, consent(t, consentURL.String(), user.ID).String()); st != http.StatusOK {
		t.Fatalf("callback: %d %s", st, body)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || calls.Load() < 5 {
		t.Fatalf("%d of %d calls failed during the upgrade; first: %v", failures.Load(), calls.Load(), firstErr.Load())
	}
	a := getAuthorization(t, g, user.OpenID)
	if strings.Join(a.GetScopes(), ",") != "merchant_order,merchant_item" || a.GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_OAUTH_FLOW {
		t.Fatalf("after the upgrade: %v", a)
	}
	if _, err := p.Call(ctx, items); err != nil {
		t.Fatalf("the upgraded scope does not work: %v", err)
	}
}

// TestAuthorization_SubscriptionExpired: a refresh answered 100200101 moves
// the shop to its own status with an event; calls fail fast with
// SUBSCRIPTION_EXPIRED; the service market's redirect after renewal makes
// it active again.
func TestAuthorization_SubscriptionExpired(t *testing.T) {
	g := startGateway(t)
	sb := g.info.Sandbox
	user, err := sb.AddTestUser("churned shop")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := useService(t, g, user.ID, "merchant_order", "merchant_user"); st != http.StatusOK {
		t.Fatalf("use service: %d %s", st, body)
	}
	ctx := context.Background()
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	events, err := authz.WatchAuthorizationEvents(ctx, &gatewayv1.WatchAuthorizationEventsRequest{OpenId: user.OpenID})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the watch subscribe before the event

	// The order ended: the platform answers the refresh with 100200101.
	if _, err := sb.InjectFault(sandbox.Fault{Method: oauth.MethodRefreshToken, Kind: sandbox.FaultResult, Result: platform.ResultOAuthBadClient, ErrorMsg: "服务未订购", Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = authz.RefreshAuthorization(ctx, &gatewayv1.RefreshAuthorizationRequest{OpenId: user.OpenID})
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || reasonOf(st) != "ERROR_REASON_SUBSCRIPTION_EXPIRED" {
		t.Fatalf("refresh: %v", err)
	}
	ev, err := events.Recv()
	if err != nil || ev.GetEvent().GetType() != gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_SUBSCRIPTION_EXPIRED {
		t.Fatalf("event = %v, %v", ev, err)
	}
	if a := getAuthorization(t, g, user.OpenID); a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_SUBSCRIPTION_EXPIRED {
		t.Fatalf("status %v", a.GetStatus())
	}
	l, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{Status: gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_SUBSCRIPTION_EXPIRED})
	if err != nil || len(l.GetAuthorizations()) != 1 || l.GetAuthorizations()[0].GetOpenId() != user.OpenID {
		t.Fatalf("list by status: %v %v", l, err)
	}

	p := gatewayv1.NewPlatformServiceClient(g.conn)
	before := sb.Counters().Calls["open.shop.info.get"]
	_, err = p.Call(ctx, &gatewayv1.CallRequest{OpenId: user.OpenID, Method: "open.shop.info.get"})
	st := status.Convert(err)
	info := errorInfo(st)
	if st.Code() != codes.FailedPrecondition || info.GetReason() != "ERROR_REASON_SUBSCRIPTION_EXPIRED" ||
		!strings.Contains(info.GetMetadata()["action"], "服务市场") || info.GetMetadata()["status"] != "subscription_expired" {
		t.Fatalf("call: %v %v", st, info)
	}
	if sb.Counters().Calls["open.shop.info.get"] != before {
		t.Fatal("a call for a shop whose order ended reached the platform")
	}
	// REST: the same refusal as HTTP 400 with the reason.
	if code, body := g.rest(t, http.MethodPost, "/v1/call", callBody(t, user.OpenID, "open.shop.info.get", nil)); code != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(body), "ERROR_REASON_SUBSCRIPTION_EXPIRED") {
		t.Fatalf("REST call: %d %v", code, body)
	}

	// Renewed: the service market redirects with a new code.
	if st, body := useService(t, g, user.ID, "merchant_order", "merchant_user"); st != http.StatusOK {
		t.Fatalf("use service after renewal: %d %s", st, body)
	}
	if a := getAuthorization(t, g, user.OpenID); a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE {
		t.Fatalf("status after renewal %v", a.GetStatus())
	}
	if _, err := p.Call(ctx, &gatewayv1.CallRequest{OpenId: user.OpenID, Method: "open.shop.info.get"}); err != nil {
		t.Fatalf("call after renewal: %v", err)
	}
}

// TestAuthorization_NotOrderedAtCallback: the service market's redirect for
// a merchant without an order (the exchange answers 100200101) shows the
// merchant what to do, and stores nothing.
func TestAuthorization_NotOrderedAtCallback(t *testing.T) {
	g := startGateway(t)
	sb := g.info.Sandbox
	user, _ := sb.AddTestUser("no order")
	if _, err := sb.InjectFault(sandbox.Fault{Method: oauth.MethodAccessToken, Kind: sandbox.FaultResult, Result: platform.ResultOAuthBadClient, ErrorMsg: "服务未订购", Count: 1}); err != nil {
		t.Fatal(err)
	}
	st, body := useService(t, g, user.ID, "merchant_order")
	if st != http.StatusForbidden || !strings.Contains(body, "service market") {
		t.Fatalf("callback: %d %s", st, body)
	}
	if _, err := gatewayv1.NewAuthorizationServiceClient(g.conn).GetAuthorization(context.Background(), &gatewayv1.GetAuthorizationRequest{OpenId: user.OpenID}); status.Code(err) != codes.NotFound {
		t.Fatalf("stored: %v", err)
	}
}

// countingOAuth counts code exchanges; every code authorizes shop "s-<code>".
type countingOAuth struct{ exchanges atomic.Int64 }

func (c *countingOAuth) Exchange(_ context.Context, code string) (*oauth.Token, error) {
	c.exchanges.Add(1)
	if code == "used" {
		return nil, &platform.Error{Method: oauth.MethodAccessToken, Result: platform.ResultOAuthInvalidCode, Msg: "code already used", Class: platform.ClassAuth}
	}
	return &oauth.Token{AccessToken: "at", RefreshToken: "rt", OpenID: "s-" + strconv.Itoa(len(code)), Scopes: []string{"merchant_order"},
		Expiry: time.Now().Add(48 * time.Hour), RefreshExpiry: time.Now().Add(180 * 24 * time.Hour)}, nil
}

func (c *countingOAuth) Refresh(context.Context, string) (*oauth.Token, error) {
	return nil, errors.New("not used")
}

func (c *countingOAuth) ClientCredentials(context.Context) (*oauth.Token, error) {
	return nil, errors.New("not used")
}

// callbackUnderTest is the callback over a real token manager and store,
// with an OAuth endpoint that counts exchanges.
func callbackUnderTest(t *testing.T, rate, burst int64) (*callbackHandler, *countingOAuth, *token.Manager) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	k, _ := store.GenerateKey("k1")
	ring, _ := store.NewKeyring(k)
	tokens, err := st.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	states, err := store.NewStateStore(ctx, st.JetStream(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	fake := &countingOAuth{}
	mgr, err := token.New(token.Config{AppKey: "ks1", Store: tokens, OAuth: fake, States: states,
		AuthorizeURL: "https://open.example/oauth/authorize", RedirectURI: "https://gw.example/oauth/callback"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.OAuthStartRate, cfg.OAuthStartBurst = rate, burst
	return oauthCallback(cfg, mgr, slog.New(slog.DiscardHandler)), fake, mgr
}

func serveCallback(h http.Handler, peer, rawQuery string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/oauth/callback?"+rawQuery, nil)
	r.RemoteAddr = peer
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHostileOAuth_CallbackRequireState(t *testing.T) {
	h, fake, mgr := callbackUnderTest(t, 0, 0)
	h.RequireState = true
	missing := serveCallback(h, "192.0.2.1:1000", "")
	stateless := serveCallback(h, "192.0.2.1:1000", "code=fromthemarket")
	if stateless.Code != http.StatusBadRequest || stateless.Body.String() != missing.Body.String() {
		t.Fatalf("stateless code with the state mandatory: %d %s", stateless.Code, stateless.Body)
	}
	if n := fake.exchanges.Load(); n != 0 {
		t.Fatalf("%d exchanges for a refused stateless code", n)
	}
	// The gateway's own flow still works with the setting.
	s, err := mgr.Start(context.Background(), []string{"merchant_order"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if w := serveCallback(h, "192.0.2.1:1000", url.Values{"code": {"flowcode"}, "state": {s.State}}.Encode()); w.Code != http.StatusOK || fake.exchanges.Load() != 1 {
		t.Fatalf("with a state: %d %s (%d exchanges)", w.Code, w.Body, fake.exchanges.Load())
	}
	h.RequireState = false
	if w := serveCallback(h, "192.0.2.1:1000", "code=fromthemarket"); w.Code != http.StatusOK || fake.exchanges.Load() != 2 {
		t.Fatalf("stateless code by default: %d %s", w.Code, w.Body)
	}
}

func TestHostileOAuth_CallbackFloods(t *testing.T) {
	t.Run("per_client", func(t *testing.T) {
		h, fake, _ := callbackUnderTest(t, 30, 5)
		var limited int
		for i := range 20 {
			w := serveCallback(h, "192.0.2.7:4000", "code=c"+strconv.Itoa(i))
			if w.Code == http.StatusTooManyRequests {
				limited++
				if w.Header().Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			}
		}
		if limited != 15 || fake.exchanges.Load() != 5 {
			t.Fatalf("%d refused, %d exchanged; want 15 and 5 (burst 5)", limited, fake.exchanges.Load())
		}
		// Forged states cost nothing upstream either, and count against the client.
		h2, fake2, _ := callbackUnderTest(t, 30, 5)
		for i := range 10 {
			serveCallback(h2, "192.0.2.8:4000", "code=c&state=forged"+strconv.Itoa(i))
		}
		if fake2.exchanges.Load() != 0 {
			t.Fatal("forged states reached the exchange")
		}
	})
	t.Run("shared_by_all_clients", func(t *testing.T) {
		h, fake, _ := callbackUnderTest(t, 0, 0) // no per-client limit: many addresses
		var limited int
		for i := range statelessBurst + 20 {
			w := serveCallback(h, "198.51.100."+strconv.Itoa(i%250+1)+":5000", "code=c"+strconv.Itoa(i))
			if w.Code == http.StatusTooManyRequests {
				limited++
			}
		}
		if got := fake.exchanges.Load(); got > statelessBurst+1 || limited < 19 {
			t.Fatalf("%d exchanges, %d refused; the shared budget (burst %d) did not hold", got, limited, statelessBurst)
		}
		// A malformed code is refused before it costs the shared budget.
		if w := serveCallback(h, "203.0.113.9:1", "code="+strings.Repeat("z", 1000)); w.Code != http.StatusBadRequest {
			t.Fatalf("huge code: %d", w.Code)
		}
	})
	t.Run("reused_code", func(t *testing.T) {
		h, _, _ := callbackUnderTest(t, 0, 0)
		if w := serveCallback(h, "192.0.2.9:1", "code=used"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "once only") {
			t.Fatalf("reused code: %d %s", w.Code, w.Body)
		}
	})
}
