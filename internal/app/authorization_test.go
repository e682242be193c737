package app

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

var noRedirect = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consent submits the sandbox consent page for consentURL as testUser and
// returns the platform's redirect target (our callback with code and state).
func consent(t *testing.T, consentURL string, testUser int) *url.URL {
	t.Helper()
	page, err := noRedirect.Get(consentURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "<form") {
		t.Fatalf("consent page: %d %s", page.StatusCode, body)
	}
	u, _ := url.Parse(consentURL)
	form := u.Query()
	form.Set("test_user", strconv.Itoa(testUser))
	u.RawQuery = ""
	resp, err := noRedirect.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("consent submit: %d", resp.StatusCode)
	}
	return loc
}

func getStatus(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuthorization_ConsentFlowAndStates(t *testing.T) {
	var clock atomic.Int64 // gateway clock offset
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	g := startGatewayWith(t, cfg, Options{Now: func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }})
	sb := g.info.Sandbox
	user, err := sb.AddTestUser("second shop")
	if err != nil {
		t.Fatal(err)
	}
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	ctx := context.Background()
	events, err := authz.WatchAuthorizationEvents(ctx, &gatewayv1.WatchAuthorizationEventsRequest{OpenId: user.OpenID})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the watch subscribe before the event

	code, start := g.rest(t, http.MethodPost, "/v1/authorizations:start", `{"scopes":["merchant_order","merchant_item"]}`)
	if code != http.StatusOK || start["url"] == nil || start["state"] == nil || start["expire_time"] == nil {
		t.Fatalf("start: %d %v", code, start)
	}
	callback := consent(t, start["url"].(string), user.ID)
	if callback.Query().Get("state") != start["state"] {
		t.Fatal("consent redirect lost the state")
	}

	t.Run("forged_state_refused_before_exchange", func(t *testing.T) {
		before := sb.Counters().CodeExchanges
		forged := *callback
		q := forged.Query()
		q.Set("state", "forged")
		forged.RawQuery = q.Encode()
		if st, body := getStatus(t, forged.String()); st != http.StatusBadRequest || !strings.Contains(body, "unknown or was already used") {
			t.Fatalf("forged: %d %s", st, body)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a forged state reached the code exchange")
		}
	})

	t.Run("callback_authorizes_the_shop", func(t *testing.T) {
		st, body := getStatus(t, callback.String())
		if st != http.StatusOK || !strings.Contains(body, user.OpenID) {
			t.Fatalf("callback: %d %s", st, body)
		}
		code, a := g.rest(t, http.MethodGet, "/v1/authorizations/"+user.OpenID, "")
		if code != http.StatusOK || a["authorization"].(map[string]any)["status"] != "AUTHORIZATION_STATUS_ACTIVE" {
			t.Fatalf("get: %d %v", code, a)
		}
		ev, err := events.Recv()
		if err != nil || ev.GetEvent().GetType() != gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_AUTHORIZED {
			t.Fatalf("event = %v, %v", ev, err)
		}
	})

	t.Run("replayed_state_refused", func(t *testing.T) {
		before := sb.Counters().CodeExchanges
		if st, _ := getStatus(t, callback.String()); st != http.StatusBadRequest {
			t.Fatalf("replay: %d", st)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("a replayed state reached the code exchange")
		}
	})

	t.Run("expired_state_refused", func(t *testing.T) {
		resp, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
		if err != nil {
			t.Fatal(err)
		}
		cb := consent(t, resp.GetUrl(), user.ID)
		clock.Add(int64(11 * time.Minute))
		defer clock.Store(0)
		before := sb.Counters().CodeExchanges
		if st, body := getStatus(t, cb.String()); st != http.StatusBadRequest || !strings.Contains(body, "expired") {
			t.Fatalf("expired: %d %s", st, body)
		}
		if sb.Counters().CodeExchanges != before {
			t.Fatal("an expired state reached the code exchange")
		}
		// Over gRPC the same refusal is an InvalidArgument on "state".
		resp2, _ := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
		_, err = authz.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: "whatever", State: resp2.GetState() + "x"})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !hasViolation(st, "state") {
			t.Fatalf("complete with bad state: %v", err)
		}
	})

	t.Run("list_paging_and_filter", func(t *testing.T) {
		r1, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageSize: 1})
		if err != nil || len(r1.GetAuthorizations()) != 1 || r1.GetNextPageToken() == "" {
			t.Fatalf("page 1: %v %v", r1, err)
		}
		r2, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageSize: 1, PageToken: r1.GetNextPageToken()})
		if err != nil || len(r2.GetAuthorizations()) != 1 || r2.GetAuthorizations()[0].GetOpenId() == r1.GetAuthorizations()[0].GetOpenId() {
			t.Fatalf("page 2: %v %v", r2, err)
		}
		r3, _ := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{Status: gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REVOKED})
		if len(r3.GetAuthorizations()) != 0 {
			t.Fatalf("revoked filter: %v", r3)
		}
		if _, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageSize: 5000}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("page_size over limit: %v", err)
		}
	})

	t.Run("revocation_fails_fast", func(t *testing.T) {
		if _, err := sb.Revoke(user.ID, ""); err != nil {
			t.Fatal(err)
		}
		p := gatewayv1.NewPlatformServiceClient(g.conn)
		call := func() error {
			_, err := p.Call(ctx, &gatewayv1.CallRequest{OpenId: user.OpenID, Method: "open.shop.info.get"})
			return err
		}
		st := status.Convert(call())
		if st.Code() != codes.FailedPrecondition || errorInfo(st).GetReason() != "ERROR_REASON_AUTHORIZATION_REVOKED" {
			t.Fatalf("first call after revocation: %v", st)
		}
		ev, err := events.Recv()
		if err != nil || ev.GetEvent().GetType() != gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_REVOKED {
			t.Fatalf("event = %v, %v", ev, err)
		}
		before := sb.Counters().Calls["open.shop.info.get"]
		st = status.Convert(call())
		info := errorInfo(st)
		if st.Code() != codes.FailedPrecondition || info.GetReason() != "ERROR_REASON_AUTHORIZATION_REVOKED" || !strings.Contains(info.GetMetadata()["reauthorize_url"], "/oauth/start?") {
			t.Fatalf("fail-fast call: %v %v", st, info)
		}
		if sb.Counters().Calls["open.shop.info.get"] != before {
			t.Fatal("a call for a revoked shop reached the platform")
		}
		code, a := g.rest(t, http.MethodGet, "/v1/authorizations/"+user.OpenID, "")
		if code != http.StatusOK || a["authorization"].(map[string]any)["status"] != "AUTHORIZATION_STATUS_REVOKED" {
			t.Fatalf("status after revocation: %v", a)
		}
		// The re-authorization URL leads to the consent page with a fresh state.
		resp, err := noRedirect.Get(info.GetMetadata()["reauthorize_url"])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.Query().Get("state") == "" {
			t.Fatalf("reauthorize: %d", resp.StatusCode)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if _, err := authz.DeleteAuthorization(ctx, &gatewayv1.DeleteAuthorizationRequest{OpenId: user.OpenID}); err != nil {
			t.Fatal(err)
		}
		if _, err := authz.GetAuthorization(ctx, &gatewayv1.GetAuthorizationRequest{OpenId: user.OpenID}); status.Code(err) != codes.NotFound {
			t.Fatalf("after delete: %v", err)
		}
	})
}

func TestAuthorization_RefreshAfterSandboxClockPasses48h(t *testing.T) {
	g := startGateway(t)
	sb := g.info.Sandbox
	sb.Advance(49 * time.Hour)
	p := gatewayv1.NewPlatformServiceClient(g.conn)
	for i := range 5 {
		if _, err := p.Call(context.Background(), &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if c := sb.Counters(); c.Refreshes != 1 || c.RejectedRefreshes != 0 {
		t.Fatalf("sandbox saw %d refreshes, %d rejected; want 1 and 0", c.Refreshes, c.RejectedRefreshes)
	}
}

// replicas starts one standalone sandbox and n gateway replicas (real
// credentials mode, pointed at the sandbox) sharing one NATS server, and
// authorizes the sandbox's test user through replica 0.
func replicas(t *testing.T, n int, sbCfg sandbox.Config) (*sandbox.Sandbox, []*gateway, string) {
	t.Helper()
	sb, err := sandbox.New(sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	sc := sb.Config()
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	var gws []*gateway
	for i := range n {
		cfg := config.Defaults()
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
		cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
		cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
		mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
		cfg.ReplicaID = "replica-" + strconv.Itoa(i)
		cfg.Token.LeaseTTL = 3 * time.Second
		if i == 0 {
			cfg.Store.NATSListen = "127.0.0.1:0"
		} else {
			cfg.Store.NATSURL = gws[0].info.NATSURL
		}
		gws = append(gws, startGatewayWith(t, cfg, Options{}))
	}
	st, err := gatewayv1.NewAuthorizationServiceClient(gws[0].conn).StartAuthorization(context.Background(), &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order", "merchant_user"}})
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.IssueCode(1, []string{"merchant_order", "merchant_user"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := gatewayv1.NewAuthorizationServiceClient(gws[1%n].conn).CompleteAuthorization(context.Background(), &gatewayv1.CompleteAuthorizationRequest{Code: code, State: st.GetState()})
	if err != nil {
		t.Fatal(err)
	}
	return sb, gws, done.GetAuthorization().GetOpenId()
}

func TestAuthorization_ThreeReplicasRefreshOnce(t *testing.T) {
	sb, gws, openID := replicas(t, 3, sandbox.Config{Seed: 3, Limits: sandbox.Limits{APIQPS: 100000}}) // about refresh, not QPS
	// The gateway shapes calls to the platform's QPS limit; these callers
	// ask to wait for their slot rather than be refused.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-wait", "true")
	// Every replica serves one call first, so each holds the token in its cache.
	for _, g := range gws {
		if _, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"}); err != nil {
			t.Fatal(err)
		}
	}
	sb.Advance(49 * time.Hour) // the access token just expired (on the platform's clock)

	params, _ := structpb.NewValue(map[string]any{})
	var wg sync.WaitGroup
	var failed atomic.Int32
	errs := make(chan error, 300)
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := gatewayv1.NewPlatformServiceClient(gws[i%3].conn)
			if _, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get", Params: params}); err != nil {
				failed.Add(1)
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call failed: %v", err)
		break
	}
	c := sb.Counters()
	if failed.Load() != 0 || c.Refreshes != 1 || c.RejectedRefreshes != 0 || c.ReplayedRefreshes != 0 {
		t.Fatalf("%d calls failed; sandbox refreshes=%d rejected=%d replayed=%d; want 0, 1, 0, 0", failed.Load(), c.Refreshes, c.RejectedRefreshes, c.ReplayedRefreshes)
	}
	for _, g := range gws {
		if strings.Contains(g.logs.String(), "discarded") {
			t.Fatal("a replica saw refreshToken.discarded")
		}
	}
}

func TestAuthorization_NoPlaintextAtRest(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", dir, "127.0.0.1:0"
	g := startGatewayWith(t, cfg, Options{})
	secrets := g.secrets(t)
	// Nothing secret in the store directory (the sandbox credentials file
	// is the embedded sandbox's own dev credential store and lies outside).
	err := filepath.WalkDir(filepath.Join(dir, "nats"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret in plaintext", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuthorization_KeyRotationKeepsShopsUsable(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	sc := sb.Config()
	dir := t.TempDir()
	k1, _ := store.GenerateKey("k1")
	k2, _ := store.GenerateKey("k2")
	ctx := context.Background()
	start := func(keys string) *gateway {
		cfg := config.Defaults()
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
		cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
		cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
		mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", keys)
		return startGatewayWith(t, cfg, Options{})
	}
	call := func(g *gateway, openID string) error {
		_, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"})
		return err
	}

	// Two shops authorized under k1.
	g := start(k1.Encode())
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	var shops []string
	if _, err := sb.AddTestUser("second"); err != nil {
		t.Fatal(err)
	}
	for _, user := range []int{1, 2} {
		st, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_user"}})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := sb.IssueCode(user, []string{"merchant_user"})
		done, err := authz.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: code, State: st.GetState()})
		if err != nil {
			t.Fatal(err)
		}
		shops = append(shops, done.GetAuthorization().GetOpenId())
	}
	g.stop()

	// k2 becomes primary; k1 still decrypts; re-encrypt online.
	g = start(k2.Encode() + "," + k1.Encode())
	for _, s := range shops {
		if err := call(g, s); err != nil {
			t.Fatalf("before rotation: %v", err)
		}
	}
	rot, err := gatewayv1.NewAuthorizationServiceClient(g.conn).RotateTokenKeys(ctx, &gatewayv1.RotateTokenKeysRequest{})
	if err != nil || rot.GetReencrypted() < 2 || rot.GetKeyId() != "k2" {
		t.Fatalf("rotate: %v %v", rot, err)
	}
	g.stop()

	// k1 retired: every shop still works.
	g = start(k2.Encode())
	for _, s := range shops {
		if err := call(g, s); err != nil {
			t.Fatalf("after retiring k1: %v", err)
		}
	}
}
