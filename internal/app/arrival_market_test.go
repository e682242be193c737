package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// A merchant arriving from the sandbox's service market, end to end over
// real sockets: the sandbox serves a third-party app whose registered
// callback is the gateway's /oauth/callback (docs/oauth.md,
// docs/sandbox.md).

// marketSandbox is a standalone sandbox with one third-party app on its own
// server.
func marketSandbox(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Seed: 41, TestUsers: 3, AppType: sandbox.AppTypeThirdParty, Limits: sandbox.Limits{APIQPS: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return sb, srv.URL
}

// marketGateway starts a gateway with the sandbox app's credentials
// (real-credentials mode) and registers its /oauth/callback as the app's
// callback, as the developer does in the console.
func marketGateway(t *testing.T, sb *sandbox.Sandbox, sbURL string, mutate func(*config.Config)) *gateway {
	t.Helper()
	sc := sb.Config()
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
	cfg.APIBaseURL, cfg.AuthorizeURL = sbURL, sbURL+"/oauth/authorize"
	mustSet(&cfg, "KWAISHOP_APP_STATE", "test")
	mustSet(&cfg, "KWAISHOP_APP_TYPE", "third_party")
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	mustSet(&cfg, "KWAISHOP_OAUTH_START_BURST", "100")
	if mutate != nil {
		mutate(&cfg)
	}
	g := startGatewayWith(t, cfg, Options{})
	if err := sb.SetCallbackURL("http://" + g.info.HTTPAddr + "/oauth/callback"); err != nil {
		t.Fatal(err)
	}
	return g
}

// pressUseService presses "use service" on the sandbox's market page for
// testUser and returns where the platform redirects the browser: the
// gateway's callback with a code and no state.
func pressUseService(t *testing.T, sbURL, appKey string, testUser int) *url.URL {
	t.Helper()
	resp, err := noRedirect.Get(sbURL + "/market/use?" + url.Values{"app_id": {appKey}, "test_user": {strconv.Itoa(testUser)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("use service: HTTP %d", resp.StatusCode)
	}
	if loc.Path != "/oauth/callback" || loc.Query().Get("code") == "" || loc.Query().Has("state") {
		t.Fatalf("use service redirected to %s", loc.Redacted())
	}
	return loc
}

func TestArrivalMarket_UseServiceAuthorizesAShop(t *testing.T) {
	sb, sbURL := marketSandbox(t)
	g := marketGateway(t, sb, sbURL, nil)
	key := sb.Config().AppKey
	users := sb.TestUsers()
	ctx := context.Background()
	platformClient := gatewayv1.NewPlatformServiceClient(g.conn)

	t.Run("no_order_is_not_a_token_error", func(t *testing.T) {
		// Without an order the market offers no "use service"; a code from
		// the consent flow is refused at the exchange with 100200101: the
		// callback shows the service-market page and stores nothing.
		st, err := gatewayv1.NewAuthorizationServiceClient(g.conn).StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
		if err != nil {
			t.Fatal(err)
		}
		code, body := getStatus(t, consent(t, st.GetUrl(), users[2].ID).String())
		if code != http.StatusForbidden || !strings.Contains(body, "service market") {
			t.Fatalf("callback without an order: %d %s", code, body)
		}
		if _, err := gatewayv1.NewAuthorizationServiceClient(g.conn).GetAuthorization(ctx, &gatewayv1.GetAuthorizationRequest{OpenId: users[2].OpenID}); status.Code(err) != codes.NotFound {
			t.Fatalf("stored without an order: %v", err)
		}
	})

	if _, err := sb.OrderService(users[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	t.Run("code_only_redirect_authorizes", func(t *testing.T) {
		cb := pressUseService(t, sbURL, key, users[0].ID)
		if cb.Host != g.info.HTTPAddr {
			t.Fatalf("redirected to %s, not the gateway", cb.Host)
		}
		if st, body := getStatus(t, cb.String()); st != http.StatusOK || !strings.Contains(body, users[0].OpenID) {
			t.Fatalf("callback: %d %s", st, body)
		}
		a := getAuthorization(t, g, users[0].OpenID)
		if a.GetSource() != gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_SERVICE_MARKET || a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE {
			t.Fatalf("authorization: %v", a)
		}
		if _, err := platformClient.Call(ctx, &gatewayv1.CallRequest{OpenId: users[0].OpenID, Method: "open.shop.info.get"}); err != nil {
			t.Fatalf("call: %v", err)
		}
	})

	t.Run("forged_state_refused", func(t *testing.T) {
		cb := pressUseService(t, sbURL, key, users[0].ID)
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		before := sb.Counters().CodeExchanges
		if st, body := getStatus(t, cb.String()); st != http.StatusBadRequest || !strings.Contains(body, "unknown or was already used") {
			t.Fatalf("forged state: %d %s", st, body)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a forged state reached the code exchange")
		}
	})

	t.Run("expired_order_is_a_subscription_status", func(t *testing.T) {
		u := users[1]
		if _, err := sb.OrderService(u.ID, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if st, body := getStatus(t, pressUseService(t, sbURL, key, u.ID).String()); st != http.StatusOK {
			t.Fatalf("callback: %d %s", st, body)
		}
		if _, err := platformClient.Call(ctx, &gatewayv1.CallRequest{OpenId: u.OpenID, Method: "open.shop.info.get"}); err != nil {
			t.Fatalf("call within the order: %v", err)
		}
		sb.Advance(24*time.Hour + time.Second) // the order ends; the access token (48 h) has not expired
		_, err := platformClient.Call(ctx, &gatewayv1.CallRequest{OpenId: u.OpenID, Method: "open.shop.info.get"})
		if err == nil {
			t.Fatal("a call after the order ended succeeded")
		}
		a := getAuthorization(t, g, u.OpenID)
		if a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_SUBSCRIPTION_EXPIRED {
			t.Fatalf("status after the order ended: %v (the call answered %v)", a.GetStatus(), err)
		}
		before := sb.Counters().Calls["open.shop.info.get"]
		_, err = platformClient.Call(ctx, &gatewayv1.CallRequest{OpenId: u.OpenID, Method: "open.shop.info.get"})
		if st := status.Convert(err); st.Code() != codes.FailedPrecondition || reasonOf(st) != "ERROR_REASON_SUBSCRIPTION_EXPIRED" {
			t.Fatalf("call for a shop whose order ended: %v", err)
		}
		if sb.Counters().Calls["open.shop.info.get"] != before {
			t.Fatal("the call reached the platform")
		}

		// Renewed: "use service" again makes the shop active.
		if _, err := sb.OrderService(u.ID, 0); err != nil {
			t.Fatal(err)
		}
		if st, body := getStatus(t, pressUseService(t, sbURL, key, u.ID).String()); st != http.StatusOK {
			t.Fatalf("callback after renewal: %d %s", st, body)
		}
		if a := getAuthorization(t, g, u.OpenID); a.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE {
			t.Fatalf("status after renewal: %v", a.GetStatus())
		}
		if _, err := platformClient.Call(ctx, &gatewayv1.CallRequest{OpenId: u.OpenID, Method: "open.shop.info.get"}); err != nil {
			t.Fatalf("call after renewal: %v", err)
		}
	})
}

// With the state mandatory (KWAISHOP_OAUTH_REQUIRE_STATE), the service
// market's stateless code is refused before any exchange.
func TestArrivalMarket_RequireStateRefusesTheStatelessCode(t *testing.T) {
	sb, sbURL := marketSandbox(t)
	g := marketGateway(t, sb, sbURL, func(c *config.Config) { mustSet(c, "KWAISHOP_OAUTH_REQUIRE_STATE", "true") })
	u := sb.TestUsers()[0]
	if _, err := sb.OrderService(u.ID, 0); err != nil {
		t.Fatal(err)
	}
	before := sb.Counters().CodeExchanges
	if st, body := getStatus(t, pressUseService(t, sbURL, sb.Config().AppKey, u.ID).String()); st != http.StatusBadRequest {
		t.Fatalf("stateless code with the state mandatory: %d %s", st, body)
	}
	if sb.Counters().CodeExchanges != before {
		t.Fatal("a refused stateless code reached the code exchange")
	}
	if _, err := gatewayv1.NewAuthorizationServiceClient(g.conn).GetAuthorization(context.Background(), &gatewayv1.GetAuthorizationRequest{OpenId: u.OpenID}); status.Code(err) != codes.NotFound {
		t.Fatalf("stored: %v", err)
	}
}
