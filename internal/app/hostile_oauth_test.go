package app

import (
	"context"
	"encoding/base64"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Replays of the hostile probe against the OAuth routes (issue 12, findings
// 2, 5 and the page_token part of 6); docs/security.md lists the defences.

// stateBucket opens the gateway's OAuth state bucket over its NATS port.
func stateBucket(t *testing.T, g *gateway) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(g.info.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), store.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// pendingStates counts the live (issued, not consumed) states.
func pendingStates(t *testing.T, kv jetstream.KeyValue) int {
	t.Helper()
	keys, err := kv.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range keys.Keys() {
		n++
	}
	return n
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostileGateway is a sandbox gateway whose NATS port the test can read.
func hostileGateway(t *testing.T, mutate func(*config.Config)) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	if mutate != nil {
		mutate(&cfg)
	}
	return startGatewayWith(t, cfg, Options{})
}

// oauthStartFrom sends GET /oauth/start?rawQuery from the loopback address ip.
func oauthStartFrom(t *testing.T, g *gateway, ip, rawQuery string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
			DisableKeepAlives: true},
	}
	resp, err := c.Get("http://" + g.info.HTTPAddr + "/oauth/start?" + rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func noErrorLogs(t *testing.T, g *gateway) {
	t.Helper()
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Fatalf("a client mistake was logged at ERROR: %s", line)
		}
	}
}

// restViolation reports whether a REST error body carries a BadRequest
// field violation on field.
func restViolation(body map[string]any, field string) bool {
	details, _ := body["details"].([]any)
	for _, d := range details {
		m, _ := d.(map[string]any)
		vs, _ := m["field_violations"].([]any)
		if vs == nil {
			vs, _ = m["fieldViolations"].([]any)
		}
		for _, v := range vs {
			if fv, _ := v.(map[string]any); fv["field"] == field {
				return true
			}
		}
	}
	return false
}

func TestHostileOAuth_StartStoresNothingForBadInput(t *testing.T) {
	g := hostileGateway(t, func(c *config.Config) {
		c.OAuthStartRate, c.OAuthStartBurst = 100000, 10000 // the flood must meet the validation, not the rate limit
	})
	kv := stateBucket(t, g)
	pending, size := pendingStates(t, kv), dirSize(t, g.dataDir)

	t.Run("oversized_scopes_flood", func(t *testing.T) {
		scopes := make([]string, 32)
		for i := range scopes {
			scopes[i] = strings.Repeat(string(rune('a'+i%26)), 28000)
		}
		q := "scope=" + strings.Join(scopes, ",")
		for i := range 200 {
			resp, _ := oauthStartFrom(t, g, "127.0.0.1", q)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("request %d: %d, want 4xx", i, resp.StatusCode)
			}
		}
		if n := pendingStates(t, kv); n != pending {
			t.Fatalf("%d states stored by refused requests", n-pending)
		}
		if grown := dirSize(t, g.dataDir) - size; grown > 1<<20 {
			t.Fatalf("data dir grew by %d bytes", grown)
		}
	})

	for name, q := range map[string]string{
		"space_in_scope":    "scope=a%20b",
		"upper_case":        "scope=Merchant_Order",
		"too_long":          "scope=" + strings.Repeat("a", 65),
		"too_many":          "scope=" + strings.TrimSuffix(strings.Repeat("merchant_order,", 33), ","),
		"duplicate":         "scope=merchant_order,merchant_order",
		"control_character": "scope=merchant%0aorder",
		"none":              "scope=",
		"open_id_markup":    "scope=merchant_order&open_id=%3Cscript%3E",
		"open_id_too_long":  "scope=merchant_order&open_id=" + strings.Repeat("x", 65),
	} {
		t.Run(name, func(t *testing.T) {
			before := pendingStates(t, kv)
			resp, body := oauthStartFrom(t, g, "127.0.0.1", q)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
			}
			if n := pendingStates(t, kv); n != before {
				t.Fatalf("%s stored a state", q)
			}
		})
	}
	t.Run("json_error_body_names_the_field", func(t *testing.T) {
		code, body, _ := restWith(t, g, http.MethodGet, "/oauth/start?scope=a%20b", "", map[string]string{"Accept": "application/json"})
		if code != http.StatusBadRequest || !restViolation(body, "scope[0]") {
			t.Fatalf("%d %v", code, body)
		}
	})
	noErrorLogs(t, g)

	t.Run("valid_scopes_still_start", func(t *testing.T) {
		pending := pendingStates(t, kv)
		resp, body := oauthStartFrom(t, g, "127.0.0.1", "scope=merchant_order,merchant_item&open_id="+g.info.SandboxOpenID)
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.Query().Get("state") == "" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if n := pendingStates(t, kv); n != pending+1 {
			t.Fatalf("pending states %d, want %d", n, pending+1)
		}
	})
}

func TestHostileOAuth_StartRateLimitedPerClient(t *testing.T) {
	g := hostileGateway(t, nil) // default limit
	kv := stateBucket(t, g)
	var limited *http.Response
	started := 0
	for range 1000 {
		resp, body := oauthStartFrom(t, g, "127.0.0.1", "scope=merchant_order")
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp
			break
		}
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("start: %d %s", resp.StatusCode, body)
		}
		started++
	}
	if limited == nil {
		t.Fatal("1000 starts from one client, none refused")
	}
	if s, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After = %q", limited.Header.Get("Retry-After"))
	}
	if n := pendingStates(t, kv); n != started {
		t.Fatalf("pending states %d, want %d (a refused start stored one)", n, started)
	}
	// Another client is not held back by the first one's budget.
	if resp, body := oauthStartFrom(t, g, "127.0.0.2", "scope=merchant_order"); resp.StatusCode != http.StatusFound {
		t.Fatalf("second client: %d %s", resp.StatusCode, body)
	}
	noErrorLogs(t, g)
}

func TestHostileOAuth_ReturnURLAllowlist(t *testing.T) {
	g := hostileGateway(t, nil)
	kv := stateBucket(t, g)
	pending := pendingStates(t, kv)
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(g.info.HTTPAddr)

	for _, bad := range []string{
		"https://evil.example",
		"https://evil.example/done",
		"javascript:alert(1)",
		"//evil.example",
		"ftp://127.0.0.1/done",
		"http://127.0.0.1.evil.example/done",
		"https://user@evil.example/",
		"data:text/html,hi",
	} {
		t.Run("grpc_"+bad, func(t *testing.T) {
			_, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}, ReturnUrl: bad})
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !hasViolation(st, "return_url") {
				t.Fatalf("%s: %v", bad, err)
			}
		})
		t.Run("rest_"+bad, func(t *testing.T) {
			code, body, _ := restWith(t, g, http.MethodPost, "/v1/authorizations:start",
				`{"scopes":["merchant_order"],"return_url":`+strconv.Quote(bad)+`}`, map[string]string{"Content-Type": "application/json"})
			if code != http.StatusBadRequest || !restViolation(body, "return_url") {
				t.Fatalf("%s: %d %v", bad, code, body)
			}
		})
	}
	for name, scopes := range map[string][]string{
		"oversized":  {strings.Repeat("a", 28000)},
		"space":      {"a b"},
		"too_many":   strings.Split(strings.TrimSuffix(strings.Repeat("merchant_order,", 33), ","), ","),
		"duplicates": {"merchant_order", "merchant_order"},
	} {
		t.Run("grpc_scopes_"+name, func(t *testing.T) {
			_, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: scopes})
			if st := status.Convert(err); st.Code() != codes.InvalidArgument {
				t.Fatalf("%v", err)
			}
		})
	}
	if n := pendingStates(t, kv); n != pending {
		t.Fatalf("refused starts stored %d states", n-pending)
	}

	t.Run("allowed_return_url_gets_the_redirect", func(t *testing.T) {
		target := "http://127.0.0.1:" + port + "/done?from=test"
		code, start, _ := restWith(t, g, http.MethodPost, "/v1/authorizations:start",
			`{"scopes":["merchant_order"],"return_url":`+strconv.Quote(target)+`}`, map[string]string{"Content-Type": "application/json"})
		if code != http.StatusOK {
			t.Fatalf("start: %d %v", code, start)
		}
		user, err := g.info.Sandbox.AddTestUser("return url shop")
		if err != nil {
			t.Fatal(err)
		}
		callback := consent(t, start["url"].(string), user.ID)
		resp, err := noRedirect.Get(callback.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("callback: %d %v", resp.StatusCode, err)
		}
		if loc.Host != "127.0.0.1:"+port || loc.Path != "/done" || loc.Query().Get("from") != "test" || loc.Query().Get("open_id") != user.OpenID {
			t.Fatalf("callback redirected to %s", loc)
		}
	})

	// States stored before the allowlist (or by an older version) are
	// checked again when used: no redirect to them, no echo of them.
	for _, stored := range []string{"javascript:alert(1)", "https://evil.example/steal"} {
		t.Run("stored_"+stored, func(t *testing.T) {
			ss, err := store.NewStateStore(ctx, jetstreamOf(t, g), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			state, err := ss.Issue(ctx, store.OAuthState{Scopes: []string{"merchant_order"}, ReturnURL: stored, Expiry: time.Now().Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirect.Get("http://" + g.info.HTTPAddr + "/oauth/callback?" + url.Values{"code": {"made-up"}, "state": {state}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusFound || resp.Header.Get("Location") != "" {
				t.Fatalf("redirected to %q", resp.Header.Get("Location"))
			}
			if strings.Contains(string(b), "javascript:") || strings.Contains(string(b), "evil.example") {
				t.Fatalf("stored return URL echoed: %s", b)
			}
		})
	}
}

// authorizeShop runs the consent flow for a new sandbox test user.
func authorizeShop(t *testing.T, g *gateway, name string) string {
	t.Helper()
	user, err := g.info.Sandbox.AddTestUser(name)
	if err != nil {
		t.Fatal(err)
	}
	start, err := gatewayv1.NewAuthorizationServiceClient(g.conn).StartAuthorization(context.Background(),
		&gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, body := getStatus(t, consent(t, start.GetUrl(), user.ID).String()); st != http.StatusOK {
		t.Fatalf("callback: %d %s", st, body)
	}
	return user.OpenID
}

func jetstreamOf(t *testing.T, g *gateway) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(g.info.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestHostileOAuth_ReturnHostsSetting(t *testing.T) {
	g := hostileGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_OAUTH_RETURN_HOSTS", "app.example.com, shop.example.com:8443")
	})
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	ctx := context.Background()
	for u, ok := range map[string]bool{
		"https://app.example.com/done":       true,
		"https://APP.example.com./done":      true,
		"http://app.example.com:9000/done":   true,
		"https://shop.example.com:8443/done": true,
		"https://shop.example.com/done":      false,
		"http://" + g.info.HTTPAddr + "/x":   false, // the setting replaces the default
		"https://evil.example/done":          false,
	} {
		_, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}, ReturnUrl: u})
		if got := err == nil; got != ok {
			t.Errorf("%s: accepted=%v, want %v (%v)", u, got, ok, err)
		}
	}
}

func TestHostileOAuth_PageTokenChecked(t *testing.T) {
	g := hostileGateway(t, nil)
	authorizeShop(t, g, "second shop")
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	ctx := context.Background()
	first, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	real := first.GetNextPageToken()
	if real == "" {
		t.Fatal("no next_page_token with two shops and page_size 1")
	}
	garbage := []string{
		"garbage",
		"AAAA",
		base64.RawURLEncoding.EncodeToString([]byte(g.info.SandboxOpenID)), // the old, unchecked form
		base64.RawURLEncoding.EncodeToString([]byte("zzzzzzzz")),
		real + "x",
		real[:len(real)-1],
		"!!!",
	}
	for _, tok := range garbage {
		t.Run("grpc_"+tok, func(t *testing.T) {
			_, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageToken: tok})
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !hasViolation(st, "page_token") {
				t.Fatalf("%q: %v", tok, err)
			}
		})
		t.Run("rest_"+tok, func(t *testing.T) {
			code, body, _ := restWith(t, g, http.MethodGet, "/v1/authorizations?page_token="+url.QueryEscape(tok), "", nil)
			if code != http.StatusBadRequest || !restViolation(body, "page_token") {
				t.Fatalf("%q: %d %v", tok, code, body)
			}
		})
	}
	t.Run("rest_percent_ff", func(t *testing.T) {
		code, body, _ := restWith(t, g, http.MethodGet, "/v1/authorizations?page_token=%ff", "", nil)
		if code != http.StatusBadRequest {
			t.Fatalf("%d %v", code, body)
		}
	})
	t.Run("token_bound_to_its_filter", func(t *testing.T) {
		_, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageToken: real, Status: gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REVOKED})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !hasViolation(st, "page_token") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("real_token_pages_on", func(t *testing.T) {
		next, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageSize: 1, PageToken: real})
		if err != nil || len(next.GetAuthorizations()) != 1 || next.GetAuthorizations()[0].GetOpenId() <= first.GetAuthorizations()[0].GetOpenId() {
			t.Fatalf("%v %v", next, err)
		}
	})
}

func TestClientLimiter(t *testing.T) {
	t.Parallel()
	now := time.Now()
	l := newClientLimiter(60, 2) // one a second after a burst of two
	for i, want := range []bool{true, true, false} {
		if _, ok := l.allow("192.0.2.1:1000", now); ok != want {
			t.Fatalf("request %d: allowed=%v", i, ok)
		}
	}
	if wait, ok := l.allow("192.0.2.1:1001", now); ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over budget: wait %v, ok %v", wait, ok)
	}
	if _, ok := l.allow("192.0.2.1:1002", now.Add(time.Second)); !ok {
		t.Fatal("budget not refilled after a second")
	}
	if _, ok := l.allow("192.0.2.2:1000", now); !ok {
		t.Fatal("another client held back")
	}
	// One IPv6 /64 is one client, whatever its interface identifiers.
	l.allow("[2001:db8:1:2::1]:1", now)
	l.allow("[2001:db8:1:2::2]:1", now)
	if _, ok := l.allow("[2001:db8:1:2:ffff::3]:1", now); ok {
		t.Fatal("a /64 rotated addresses around its budget")
	}
	if _, ok := l.allow("[2001:db8:1:3::1]:1", now); !ok {
		t.Fatal("the next /64 held back")
	}
	// The table stays bounded however many clients there are.
	for i := range 3 * maxStartClients {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()+":1", now)
	}
	if n := l.clients.Len(); n > maxStartClients {
		t.Fatalf("%d clients remembered", n)
	}
	if newClientLimiter(0, 10) != nil {
		t.Fatal("rate 0 must mean no limit")
	}
	var off *clientLimiter
	if _, ok := off.allow("192.0.2.1:1", now); !ok {
		t.Fatal("no limiter refused")
	}
}

func TestHostileOAuth_StateStoreCapped(t *testing.T) {
	const capBytes = 64 << 10
	g := hostileGateway(t, func(c *config.Config) {
		c.Store.OAuthStateMaxBytes = capBytes
		c.OAuthStartRate, c.OAuthStartBurst = 100000, 10000
	})
	kv := stateBucket(t, g)
	scopes := make([]string, 32) // the largest valid start
	for i := range scopes {
		scopes[i] = strings.Repeat(string(rune('a'+i%26)), 63) + string(rune('a'+i/26))
	}
	q := "scope=" + strings.Join(scopes, ",")
	var full *http.Response
	for i := 0; full == nil; i++ {
		resp, body := oauthStartFrom(t, g, "127.0.0.1", q)
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable:
			full = resp
		case resp.StatusCode != http.StatusFound:
			t.Fatalf("start %d: %d %s", i, resp.StatusCode, body)
		case i > capBytes/1000:
			t.Fatalf("%d starts of over 1 KB each stored under a %d-byte cap", i, capBytes)
		}
	}
	if s, err := strconv.Atoi(full.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After = %q", full.Header.Get("Retry-After"))
	}
	if st, err := kv.Status(context.Background()); err != nil || st.Bytes() > capBytes {
		t.Fatalf("bucket: %v, %v", st, err)
	}
	// The same refusal over gRPC and REST; a few more refusals log nothing
	// at ERROR.
	_, err := gatewayv1.NewAuthorizationServiceClient(g.conn).StartAuthorization(context.Background(),
		&gatewayv1.StartAuthorizationRequest{Scopes: scopes})
	if st := status.Convert(err); st.Code() != codes.Unavailable || retryDelay(st) <= 0 {
		t.Fatalf("gRPC start at the cap: %v", err)
	}
	code, body, _ := restWith(t, g, http.MethodPost, "/v1/authorizations:start", `{"scopes":["`+strings.Join(scopes, `","`)+`"]}`,
		map[string]string{"Content-Type": "application/json"})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("REST start at the cap: %d %v", code, body)
	}
	for range 20 {
		if resp, _ := oauthStartFrom(t, g, "127.0.0.1", q); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("start at the cap: %d", resp.StatusCode)
		}
	}
	noErrorLogs(t, g)
	if n := strings.Count(g.logs.String(), "OAuth state store is at its cap"); n != 1 {
		t.Fatalf("cap warning logged %d times, want once a minute", n)
	}
}
