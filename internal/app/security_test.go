package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Test API keys (at least 16 characters).
const (
	keyAdmin = "admin-secret-0123456789"      // rpc=*, every shop
	keyShop  = "shop-secret-0123456789"       // the sandbox shop, platform only
	keyOther = "other-shop-secret-0123456789" // another shop
	keyWrong = "not-a-configured-key-0123456789"
)

// sandboxAPI wraps the sandbox's handler and counts what the platform saw:
// calls per API and per second, and QPS and quota refusals.
type sandboxAPI struct {
	mu        sync.Mutex
	calls     map[string]int           // by API path
	perSecond map[string]map[int64]int // by API path and Unix second
	qpsErrors int
	quotaErrs int
	inner     http.Handler
	sb        *sandbox.Sandbox
}

func (s *sandboxAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/open/") {
		s.inner.ServeHTTP(w, r)
		return
	}
	sec := time.Now().Unix()
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	var env struct {
		Result int64 `json:"result"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &env)
	s.mu.Lock()
	s.calls[r.URL.Path]++
	if s.perSecond[r.URL.Path] == nil {
		s.perSecond[r.URL.Path] = map[int64]int{}
	}
	s.perSecond[r.URL.Path][sec]++
	switch env.Result {
	case platform.ResultQPSExceeded:
		s.qpsErrors++
	case platform.ResultQuotaExceeded:
		s.quotaErrs++
	}
	s.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *sandboxAPI) snapshot(path string) (calls int, perSecond map[int64]int, qpsErrs, quotaErrs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := map[int64]int{}
	for k, v := range s.perSecond[path] {
		ps[k] = v
	}
	return s.calls[path], ps, s.qpsErrors, s.quotaErrs
}

// securedReplicas starts one standalone sandbox (counted) and n gateway
// replicas in real-credentials mode sharing one NATS server, each with cfg
// changed by mutate; it authorizes the sandbox's test user 1 through
// replica 0 with keyAdmin when keys are configured.
func securedReplicas(t *testing.T, n int, sbCfg sandbox.Config, mutate func(*config.Config)) (*sandboxAPI, []*gateway, string) {
	t.Helper()
	sb, err := sandbox.New(sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	api := &sandboxAPI{calls: map[string]int{}, perSecond: map[string]map[int64]int{}, inner: sb.Handler(), sb: sb}
	srv := httptest.NewServer(api)
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
		cfg.Message.ReconcileInterval = 0 // no background polling: the sandbox sees only the test's calls
		if i == 0 {
			cfg.Store.NATSListen = "127.0.0.1:0"
		} else {
			cfg.Store.NATSURL = gws[0].info.NATSURL
		}
		if mutate != nil {
			mutate(&cfg)
		}
		gws = append(gws, startGatewayWith(t, cfg, Options{}))
	}
	ctx := bearer(context.Background(), keyAdmin)
	az := gatewayv1.NewAuthorizationServiceClient(gws[0].conn)
	st, err := az.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order", "merchant_user"}})
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.IssueCode(1, []string{"merchant_order", "merchant_user"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := az.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: code, State: st.GetState()})
	if err != nil {
		t.Fatal(err)
	}
	return api, gws, done.GetAuthorization().GetOpenId()
}

func bearer(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// restWith sends a REST request with the given headers.
func restWith(t *testing.T, g *gateway, method, path, body string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

func reasonOf(st *status.Status) string {
	if i := errorInfo(st); i != nil {
		return i.GetReason()
	}
	return ""
}

func retryDelay(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

func TestSecurity_CallerAuthentication(t *testing.T) {
	sbCfg := sandbox.Config{Seed: 5}
	var shopID string
	{
		// The shop's open_id is known before the gateway starts.
		sb, err := sandbox.New(sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		sbCfg.AppKey, sbCfg.AppSecret, sbCfg.SignSecret = sb.Config().AppKey, sb.Config().AppSecret, sb.Config().SignSecret
		shopID = sb.TestUsers()[0].OpenID
	}
	keys := strings.Join([]string{
		"admin:" + keyAdmin + ":rpc=*",
		"shop:" + keyShop + ":shop=" + shopID + ":rpc=platform",
		"other:" + keyOther + ":shop=someone-else",
	}, ",")
	_, gws, openID := securedReplicas(t, 1, sbCfg, func(c *config.Config) { mustSet(c, "KWAISHOP_API_KEYS", keys) })
	g := gws[0]
	if openID != shopID {
		t.Fatalf("authorized %s, want %s", openID, shopID)
	}
	call := &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"}
	callBody := `{"open_id":"` + openID + `","method":"open.shop.info.get"}`
	platformClient := gatewayv1.NewPlatformServiceClient(g.conn)

	tests := []struct {
		name   string
		key    string // "" = no header
		header string // raw Authorization value (overrides key)
		code   codes.Code
		http   int
		reason gatewayv1.ErrorReason
	}{
		{"no_key", "", "", codes.Unauthenticated, 401, gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED},
		{"wrong_key", keyWrong, "", codes.Unauthenticated, 401, gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED},
		{"not_bearer", "", "Basic " + keyAdmin, codes.Unauthenticated, 401, gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED},
		{"key_outside_its_shops", keyOther, "", codes.PermissionDenied, 403, gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED},
		{"key_for_the_shop", keyShop, "", codes.OK, 200, 0},
		{"admin_key", keyAdmin, "", codes.OK, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := tt.header
			if tt.key != "" {
				auth = "Bearer " + tt.key
			}
			ctx := context.Background()
			if auth != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
			}
			_, err := platformClient.Call(ctx, call)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("gRPC: %s (%s), want %s", st.Code(), st.Message(), tt.code)
			}
			if tt.code != codes.OK && reasonOf(st) != tt.reason.String() {
				t.Fatalf("gRPC reason %q, want %s", reasonOf(st), tt.reason)
			}
			hdr := map[string]string{}
			if auth != "" {
				hdr["Authorization"] = auth
			}
			code, body, _ := restWith(t, g, http.MethodPost, "/v1/call", callBody, hdr)
			if code != tt.http {
				t.Fatalf("REST: %d %v, want %d", code, body, tt.http)
			}
			if tt.code != codes.OK && !strings.Contains(fmt.Sprint(body["details"]), tt.reason.String()) {
				t.Fatalf("REST details %v lack %s", body["details"], tt.reason)
			}
		})
	}

	t.Run("group_and_span_refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			do   func(ctx context.Context) error
		}{
			{"shop_key_other_group", func(ctx context.Context) error {
				_, err := gatewayv1.NewShopServiceClient(g.conn).GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: openID})
				return err
			}},
			{"shop_key_all_shops_rpc", func(ctx context.Context) error {
				_, err := platformClient.Call(ctx, &gatewayv1.CallRequest{Method: "open.shop.info.get"}) // app-level: spans shops
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if st := status.Convert(tc.do(bearer(context.Background(), keyShop))); st.Code() != codes.PermissionDenied {
					t.Fatalf("%s (%s), want PermissionDenied", st.Code(), st.Message())
				}
			})
		}
		code, _, _ := restWith(t, g, http.MethodGet, "/v1/authorizations", "", map[string]string{"Authorization": "Bearer " + keyShop})
		if code != http.StatusForbidden {
			t.Fatalf("shop key listing every authorization: %d, want 403", code)
		}
		code, _, _ = restWith(t, g, http.MethodPost, "/v1/authorizations:rotateKeys", "{}", map[string]string{"Authorization": "Bearer " + keyOther})
		if code != http.StatusForbidden {
			t.Fatalf("key without admin rotating token keys: %d, want 403", code)
		}
	})

	t.Run("open_routes", func(t *testing.T) {
		for path, want := range map[string]int{
			"/healthz": 200, "/readyz": 200, "/openapi.json": 200,
			"/oauth/callback": 400, // reachable: refused for the missing code and state, not for a key
		} {
			if code, _, _ := restWith(t, g, http.MethodGet, path, "", nil); code != want {
				t.Errorf("%s without a key = %d, want %d", path, code, want)
			}
		}
		if _, err := healthpb.NewHealthClient(g.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("gRPC health without a key: %v", err)
		}
	})

	t.Run("metrics_need_a_stats_key", func(t *testing.T) {
		code, _, h := restWith(t, g, http.MethodGet, "/metrics", "", nil)
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("no key: %d %q", code, h.Get("WWW-Authenticate"))
		}
		if code, _, _ := restWith(t, g, http.MethodGet, "/metrics", "", map[string]string{"Authorization": "Bearer " + keyShop}); code != http.StatusForbidden {
			t.Fatalf("shop key: %d, want 403", code)
		}
		if code, _, _ := restWith(t, g, http.MethodGet, "/metrics", "", map[string]string{"Authorization": "Bearer " + keyAdmin}); code != http.StatusOK {
			t.Fatalf("admin key: %d, want 200", code)
		}
	})

	t.Run("secrets_not_logged", func(t *testing.T) {
		logs := g.logs.String()
		for _, k := range []string{keyAdmin, keyShop, keyOther, keyWrong} {
			if strings.Contains(logs, k) {
				t.Fatalf("the log holds an API key secret")
			}
		}
		if !strings.Contains(logs, "call refused") {
			t.Fatal("refusals are not logged")
		}
	})
}

func TestSecurity_RefusesNonLoopbackWithoutKeys(t *testing.T) {
	base := config.Defaults()
	base.Store.DataDir = t.TempDir()
	tests := []struct {
		name    string
		mutate  func(*config.Config)
		refused bool
	}{
		{"wildcard_no_keys", func(c *config.Config) { c.GRPCAddr = "0.0.0.0:0" }, true},
		{"empty_host_no_keys", func(c *config.Config) { c.HTTPAddr = ":0" }, true},
		{"ipv6_wildcard_no_keys", func(c *config.Config) { c.GRPCAddr = "[::]:0" }, true},
		{"loopback_no_keys", func(c *config.Config) {}, false},
		{"wildcard_anonymous_allowed", func(c *config.Config) { c.GRPCAddr, c.AllowAnonymous = "0.0.0.0:0", true }, false},
		{"wildcard_with_keys", func(c *config.Config) { c.GRPCAddr = "0.0.0.0:0"; mustSet(c, "KWAISHOP_API_KEYS", "a:"+keyAdmin) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.refused != (err != nil) {
				t.Fatalf("Validate = %v, refused want %v", err, tt.refused)
			}
			if tt.refused && !strings.Contains(err.Error(), "KWAISHOP_ALLOW_ANONYMOUS") {
				t.Fatalf("error does not say how to fix it: %v", err)
			}
			if !tt.refused {
				return
			}
			// Run refuses too, before listening, even when validation was skipped.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = Run(ctx, cfg, Options{LogOutput: io.Discard, Getenv: func(string) string { return "" }})
			if err == nil || !strings.Contains(err.Error(), "without API keys") {
				t.Fatalf("Run = %v, want a refusal", err)
			}
		})
	}
}

func TestLimits_QPSShapedAcrossReplicas(t *testing.T) {
	// The platform (sandbox) allows 20 QPS per API; so does each gateway
	// replica's configuration. Three replicas under three times that load
	// together send at most 20 a second: the sandbox never refuses one.
	const qps, seconds = 20, 3
	api, gws, openID := securedReplicas(t, 3, sandbox.Config{Seed: 6, Limits: sandbox.Limits{APIQPS: qps}},
		func(c *config.Config) { c.Limit.QPS = qps })
	const path = "/open/shop/info/get"
	before, _, _, _ := api.snapshot(path)

	var ok, exhausted, other atomic.Int32
	perReplica := make([]atomic.Int32, len(gws))
	stop := time.Now().Add(seconds * time.Second)
	var wg sync.WaitGroup
	for i, g := range gws {
		client := gatewayv1.NewPlatformServiceClient(g.conn)
		for range 6 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-wait", "true"), 10*time.Second)
					_, err := client.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"})
					cancel()
					switch status.Code(err) {
					case codes.OK:
						ok.Add(1)
						perReplica[i].Add(1)
					case codes.ResourceExhausted:
						exhausted.Add(1)
					default:
						other.Add(1)
						t.Errorf("call: %v", err)
					}
				}
			})
		}
	}
	wg.Wait()
	calls, perSecond, qpsErrs, _ := api.snapshot(path)
	calls -= before
	t.Logf("%d calls answered, %d refused by the gateway; the sandbox saw %d calls, per second %v", ok.Load(), exhausted.Load(), calls, perSecond)
	if qpsErrs != 0 {
		t.Fatalf("the sandbox refused %d calls for QPS", qpsErrs)
	}
	// The sandbox counts calls in its own one-second windows and refuses
	// what goes over its limit: that no call was refused for QPS is the
	// behaviour. How evenly the calls were spread in wall-clock time is a
	// rate, measured by the benchmarks, not asserted here (it depends on
	// how busy the machine is).
	for i := range perReplica {
		if perReplica[i].Load() == 0 {
			t.Fatalf("replica %d served no call", i)
		}
	}
	if int(ok.Load()) != calls {
		t.Fatalf("%d calls answered but the sandbox saw %d", ok.Load(), calls)
	}
}

func TestLimits_DailyQuotaNeverExceeded(t *testing.T) {
	// The sandbox's test user may make 25 calls a day and the app 40; the
	// gateways are configured the same. Two replicas send far more.
	const userDaily, appDaily = 25, 40
	api, gws, openID := securedReplicas(t, 2, sandbox.Config{Seed: 7, Limits: sandbox.Limits{TestUserDailyCalls: userDaily, AppDailyCallsTest: appDaily}},
		func(c *config.Config) { c.Limit.DailyQuota, c.Limit.TestUserDailyQuota = appDaily, userDaily })
	send := func(openID string, n int) (ok int, quota int) {
		var wg sync.WaitGroup
		var okN, quotaN atomic.Int32
		for i := range n {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-wait", "true"), 10*time.Second)
				defer cancel()
				_, err := gatewayv1.NewPlatformServiceClient(gws[i%2].conn).Call(ctx,
					&gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: nil, SkipValidation: true}) // the platform's refusal counts too
				st := status.Convert(err)
				switch {
				case st.Code() == codes.ResourceExhausted && reasonOf(st) == gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED.String():
					if errorInfo(st).GetDomain() != "kwaishop-gateway" || retryDelay(st) <= 0 {
						t.Errorf("quota refusal: %v", st.Details())
					}
					quotaN.Add(1)
				case st.Code() == codes.OK, st.Code() == codes.FailedPrecondition, st.Code() == codes.InvalidArgument, st.Code() == codes.PermissionDenied:
					okN.Add(1) // the platform answered (business errors included)
				default:
					t.Errorf("call: %v", err)
				}
			})
		}
		wg.Wait()
		return int(okN.Load()), int(quotaN.Load())
	}
	shopOK, shopRefused := send(openID, 60)
	appOK, appRefused := send("", 60) // app-level calls (refused by the platform for want of a shop, but counted): the app quota only
	usage := api.sb.Usage()
	_, _, _, quotaErrs := api.snapshot("")
	t.Logf("shop: %d answered, %d refused; app: %d answered, %d refused; sandbox usage %+v", shopOK, shopRefused, appOK, appRefused, usage)
	if quotaErrs != 0 {
		t.Fatalf("the sandbox refused %d calls for quota", quotaErrs)
	}
	if usage.AppCallsToday > appDaily {
		t.Fatalf("the app made %d calls today, quota %d", usage.AppCallsToday, appDaily)
	}
	for id, n := range usage.TestUserCalls {
		if n > userDaily {
			t.Fatalf("test user %d made %d calls, quota %d", id, n, userDaily)
		}
	}
	if shopRefused == 0 || appRefused == 0 || shopOK == 0 {
		t.Fatal("the quotas refused nothing: the test did not exceed them")
	}
}

func TestResilience_BreakerOpensOnUpstreamFailures(t *testing.T) {
	api, gws, openID := securedReplicas(t, 1, sandbox.Config{Seed: 8}, func(c *config.Config) {
		c.BreakerFailures, c.BreakerCooldown = 3, time.Minute
	})
	if _, err := api.sb.InjectFault(sandbox.Fault{Method: "open.order.detail", Kind: sandbox.FaultHTTP5xx, HTTPStatus: 502}); err != nil {
		t.Fatal(err)
	}
	client := gatewayv1.NewPlatformServiceClient(gws[0].conn)
	var last error
	for range 5 {
		_, last = client.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", SkipValidation: true})
	}
	st := status.Convert(last)
	if st.Code() != codes.Unavailable || reasonOf(st) != gatewayv1.ErrorReason_ERROR_REASON_CIRCUIT_OPEN.String() || retryDelay(st) <= 0 {
		t.Fatalf("after repeated 502s: %s %s %v, want Unavailable CIRCUIT_OPEN with RetryInfo", st.Code(), st.Message(), st.Details())
	}
	if hits := api.sb.Faults()[0].Hits; hits != 3 {
		t.Fatalf("the failing API was called %d times, want 3 (then the breaker fails fast)", hits)
	}
	// Other APIs are unaffected.
	if _, err := client.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get"}); err != nil {
		t.Fatal(err)
	}
}

// runCancelable runs one gateway whose Run the test stops itself.
func runCancelable(t *testing.T, cfg config.Config) (g *gateway, stop func() error) {
	t.Helper()
	g = &gateway{dataDir: cfg.Store.DataDir, logs: &syncBuffer{}, http: &http.Client{Timeout: 20 * time.Second}}
	ready := make(chan Info, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{LogOutput: g.logs, Getenv: func(string) string { return "" }, Ready: func(i Info) { ready <- i }})
	}()
	select {
	case g.info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("gateway stopped before ready: %v\n%s", err, g.logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("gateway not ready\n%s", g.logs)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	conn, err := grpc.NewClient(g.info.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	g.conn = conn
	return g, stop
}

func TestResilience_ShutdownDrainsInFlightCall(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Message.ReconcileInterval = 0
	g, stop := runCancelable(t, cfg)
	sb := g.info.Sandbox
	if _, err := sb.InjectFault(sandbox.Fault{Method: "open.shop.info.get", Kind: sandbox.FaultDelay, DelayMs: 1500, Count: 1}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		resp *gatewayv1.CallResponse
		err  error
	}
	res := make(chan result, 1)
	go func() {
		r, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(context.Background(), &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get"})
		res <- result{r, err}
	}()
	// Shut down once the slow call reached the platform.
	deadline := time.Now().Add(10 * time.Second)
	for sb.Counters().Faults == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the sandbox")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	r := <-res
	if r.err != nil || r.resp.GetResult() != 1 {
		t.Fatalf("in-flight call during shutdown: %v %v, want it answered", r.resp, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// And new calls are no longer accepted.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get"}); err == nil {
		t.Fatal("a call succeeded after shutdown")
	}
}

func TestResilience_NotReadyWhileStoreDown(t *testing.T) {
	nats, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nats.Close()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSURL = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), nats.ClientURL()
	cfg.Message.ReconcileInterval = 0
	g, _ := runCancelable(t, cfg)
	ready := func() int {
		resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("/readyz = %d with the store up", code)
	}
	_ = nats.Close() // stops the NATS server
	deadline := time.Now().Add(15 * time.Second)
	for ready() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 200 with the store down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if live, err := g.http.Get("http://" + g.info.HTTPAddr + "/healthz"); err != nil || live.StatusCode != http.StatusOK {
		t.Fatalf("/healthz (liveness) must stay 200: %v", err)
	} else {
		live.Body.Close()
	}
	// Calls needing the shared limits fail fast and retryably.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get"})
	if c := status.Code(err); c != codes.Unavailable {
		t.Fatalf("call with the store down: %v, want Unavailable", err)
	}
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate signed by the CA, plus a self-signed client certificate, as
// PEM files in dir.
type testPKI struct {
	caFile, serverCert, serverKey string
	caPool                        *x509.CertPool
	client, rogue                 tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(0)
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	keyPEM := func(k *ecdsa.PrivateKey) []byte {
		der, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := newKey()
	ca, caPEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil, caKey)
	srvKey := newKey()
	_, srvPEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "gateway"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, srvKey)
	cliKey := newKey()
	_, cliPEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "billing"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, cliKey)
	rogueKey := newKey()
	_, roguePEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "rogue"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, nil, nil, rogueKey)
	p := testPKI{caFile: write("ca.pem", caPEM), serverCert: write("server.pem", srvPEM), serverKey: write("server-key.pem", keyPEM(srvKey)), caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	var err error
	if p.client, err = tls.X509KeyPair(cliPEM, keyPEM(cliKey)); err != nil {
		t.Fatal(err)
	}
	if p.rogue, err = tls.X509KeyPair(roguePEM, keyPEM(rogueKey)); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecurity_MutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	sb, err := sandbox.New(sandbox.Config{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	sc := sb.Config()
	key, _ := store.GenerateKey("k1")
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
	cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	cfg.Message.ReconcileInterval = 0
	mustSet(&cfg, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*")
	cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = pki.serverCert, pki.serverKey, pki.caFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, _ := runCancelable(t, cfg)

	grpcCall := func(cert *tls.Certificate) error {
		tc := &tls.Config{RootCAs: pki.caPool}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		conn, err := grpc.NewClient(g.info.GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(bearer(context.Background(), keyAdmin), 5*time.Second)
		defer cancel()
		_, err = gatewayv1.NewPlatformServiceClient(conn).ListApis(ctx, &gatewayv1.ListApisRequest{Prefix: "open.order"})
		return err
	}
	https := func(cert *tls.Certificate, path string) (int, error) {
		tc := &tls.Config{RootCAs: pki.caPool}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
		req, _ := http.NewRequest(http.MethodGet, "https://"+g.info.HTTPAddr+path, nil)
		req.Header.Set("Authorization", "Bearer "+keyAdmin)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	if err := grpcCall(&pki.client); err != nil {
		t.Fatalf("gRPC with the client certificate: %v", err)
	}
	for name, cert := range map[string]*tls.Certificate{"none": nil, "rogue": &pki.rogue} {
		if err := grpcCall(cert); status.Code(err) != codes.Unavailable {
			t.Fatalf("gRPC with %s client certificate: %v, want the handshake refused", name, err)
		}
	}
	if code, err := https(&pki.client, "/v1/apis?prefix=open.order"); err != nil || code != http.StatusOK {
		t.Fatalf("REST with the client certificate (gateway hop): %d %v", code, err)
	}
	if code, err := https(nil, "/v1/apis"); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("REST without a client certificate: %d %v, want 401", code, err)
	}
	// (Go's client offers no certificate the server's CAs did not issue.)
	if code, err := https(&pki.rogue, "/v1/apis"); err == nil && code != http.StatusUnauthorized {
		t.Fatalf("REST with a rogue client certificate: %d, want refused", code)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, err := https(nil, p); err != nil || code != http.StatusOK {
			t.Fatalf("%s without a client certificate: %d %v (probes stay open)", p, code, err)
		}
	}
	if code, err := https(nil, "/oauth/callback"); err != nil || code != http.StatusBadRequest {
		t.Fatalf("/oauth/callback without a client certificate: %d %v (the platform has none)", code, err)
	}
	// A plaintext request to the TLS listener is not served.
	if resp, err := http.Get("http://" + g.info.HTTPAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plaintext HTTP served")
		}
	}
}

func TestGatewayHeaders(t *testing.T) {
	for in, want := range map[string]string{
		"X-Kwaishop-Wait":     "x-kwaishop-wait",
		"x-kwaishop-priority": "x-kwaishop-priority",
		"Grpc-Metadata-Foo":   "Foo", // grpc-gateway's default
		"X-Something-Else":    "",
		"Authorization":       "grpcgateway-Authorization", // also passed through unprefixed by grpc-gateway
	} {
		got, ok := gatewayHeaders(in)
		if (want != "") != ok || got != want {
			t.Errorf("gatewayHeaders(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
