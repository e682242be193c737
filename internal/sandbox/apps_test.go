package sandbox_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// inbox is an app's push endpoint: it keeps every body and acknowledges.
type inbox struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newInbox(t *testing.T) *inbox {
	in := &inbox{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		in.mu.Lock()
		in.bodies = append(in.bodies, string(b))
		in.mu.Unlock()
		_, _ = w.Write([]byte(`{"result":1}`))
	}))
	t.Cleanup(in.srv.Close)
	return in
}

// messages decrypts every body with key (AES-CBC, zero IV, PKCS#7, as the
// platform documents it) and returns the non-heartbeat messages; a body
// that does not decrypt with key fails the test.
func (in *inbox) messages(t *testing.T, key string) []map[string]any {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	k, _ := base64.StdEncoding.DecodeString(key)
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, b := range in.bodies {
		ct, err := base64.StdEncoding.DecodeString(b)
		if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
			t.Fatalf("body is not base64 whole blocks: %.40s", b)
		}
		cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(ct, ct)
		pad := int(ct[len(ct)-1])
		var m map[string]any
		if pad < 1 || pad > aes.BlockSize || json.Unmarshal(ct[:len(ct)-pad], &m) != nil {
			t.Fatalf("a body does not decrypt with this app's message key")
		}
		if m["test"] != true {
			out = append(out, m)
		}
	}
	return out
}

// sdkFor is an SDK of app key of the sandbox c talks to.
func sdkFor(t *testing.T, c *sandboxtest.SDK, s *sandbox.Sandbox, key string) *sandboxtest.SDK {
	v, ok := s.App(key)
	if !ok {
		t.Fatalf("no app %s", key)
	}
	cfg := v.Config()
	d := *c.For(t)
	d.AppKey, d.AppSecret, d.SignSecret = cfg.AppKey, cfg.AppSecret, cfg.SignSecret
	return &d
}

// Two apps in one sandbox are two worlds: credentials, sign methods,
// tokens, codes, open_ids, limits by state and pushes with their own keys.
func TestApps_Isolated(t *testing.T) {
	t.Parallel()
	inA, inB := newInbox(t), newInbox(t)
	s, c := sandboxtest.Setup(t, sandbox.Config{
		Apps: []sandbox.AppConfig{
			{AppKey: "ks100000000000000001", SignMethod: "HMAC_SHA256", PushURL: inA.srv.URL, AppState: sandbox.AppStateTest},
			{AppKey: "ks100000000000000002", PushURL: inB.srv.URL, AppState: sandbox.AppStateOnline},
		},
		HeartbeatInterval: -1,
		Limits:            sandbox.Limits{AppDailyCallsTest: 6, AppDailyCallsOnline: 8},
	})
	a, b := sdkFor(t, c, s, "ks100000000000000001"), sdkFor(t, c, s, "ks100000000000000002")
	if a.AppSecret == b.AppSecret || a.SignSecret == b.SignSecret || s.Config().AppKey != a.AppKey {
		t.Fatalf("credentials: %+v %+v", a, b)
	}
	va, _ := s.App(a.AppKey)
	vb, _ := s.App(b.AppKey)
	if va.TestUsers()[0].OpenID == vb.TestUsers()[0].OpenID {
		t.Fatal("open_ids are per app")
	}
	if _, ok := s.App("ks999"); ok {
		t.Fatal("App found an unknown key")
	}

	authorize := func(c *sandboxtest.SDK, v *sandbox.Sandbox) sandboxtest.TokenResp {
		code, err := v.IssueCode(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := c.Exchange(code)
		if tr.Result != 1 {
			t.Fatalf("exchange at %s: %+v", c.AppKey, tr)
		}
		return tr
	}
	ta, tb := authorize(a, va), authorize(b, vb)
	if ta.OpenID != va.TestUsers()[0].OpenID || tb.OpenID != vb.TestUsers()[0].OpenID {
		t.Fatalf("open_ids: %s %s", ta.OpenID, tb.OpenID)
	}
	a.MustCall(ta.AccessToken, "open.shop.info.get", nil, nil)
	b.MustCall(tb.AccessToken, "open.shop.info.get", nil, nil)

	// A token, a code, a secret or a signature of one app means nothing to
	// the other.
	if r := b.Call(ta.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultTokenInvalid {
		t.Fatalf("app A's token with app B's appkey: %+v", r)
	}
	if r := a.Call(tb.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultTokenInvalid {
		t.Fatalf("app B's token with app A's appkey: %+v", r)
	}
	p := a.Params(ta.AccessToken, "open.shop.info.get", nil)
	p[sign.KeyAppKey] = b.AppKey // signed with A's secret
	if r := a.Send("open.shop.info.get", p); r.Result != platform.ResultSignInvalid || r.ErrorMsg != "sign check failed" {
		t.Fatalf("A-signed call with B's appkey: %+v", r)
	}
	code, _ := va.IssueCode(1, nil)
	if tr := b.Exchange(code); tr.Result != platform.ResultOAuthInvalidCode {
		t.Fatalf("app A's code at app B: %+v", tr)
	}
	mixed := b.OAuth("/oauth2/access_token", false, url.Values{"app_id": {b.AppKey}, "app_secret": {a.AppSecret}, "grant_type": {"code"}, "code": {code}})
	if mixed.Result != platform.ResultOAuthBadClient || mixed.ErrorMsg != "app_secret invalid" {
		t.Fatalf("app A's secret with app B's id: %+v", mixed)
	}
	if tr := a.Exchange(code); tr.Result != 1 {
		t.Fatalf("the code at its own app: %+v", tr)
	}

	// Sign methods: A accepts only HMAC_SHA256, B either.
	a.SignMethod, b.SignMethod = sign.MD5, sign.MD5
	if r := a.Call(ta.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultSignInvalid || !strings.Contains(r.ErrorMsg, "HMAC_SHA256") {
		t.Fatalf("MD5 call to an HMAC_SHA256 app: %+v", r)
	}
	b.MustCall(tb.AccessToken, "open.shop.info.get", nil, nil)
	a.SignMethod = sign.HMACSHA256

	// Daily quotas by each app's state, counted per app: A (test) 6, B
	// (online) 8. A has made 1 counted call, B 2 (refused calls do not
	// count).
	for range 5 {
		a.MustCall(ta.AccessToken, "open.shop.info.get", nil, nil)
	}
	if r := a.Call(ta.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || !strings.Contains(r.ErrorMsg, a.AppKey) {
		t.Fatalf("A's 7th call: %+v", r)
	}
	for range 6 {
		b.MustCall(tb.AccessToken, "open.shop.info.get", nil, nil)
	}
	if r := b.Call(tb.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || !strings.Contains(r.ErrorMsg, b.AppKey) {
		t.Fatalf("B's 9th call: %+v", r)
	}
	if va.Usage().AppCallsToday != 6 || vb.Usage().AppCallsToday != 8 {
		t.Fatalf("usage: %+v %+v", va.Usage(), vb.Usage())
	}

	// Pushes: each app's shop changes reach only its own push URL, encrypted
	// with its own message key and naming its own appKey.
	if st := c.Admin("POST", "/sandbox/v1/orders?app="+b.AppKey, map[string]any{"testUser": 1, "status": 30}, nil); st != http.StatusCreated {
		t.Fatalf("order at app B: HTTP %d", st)
	}
	if _, err := va.CreateOrder(sandbox.OrderSpec{TestUser: 1, Status: 10}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPushes(ctx); err != nil {
		t.Fatal(err)
	}
	gotA, gotB := inA.messages(t, va.Config().MessageKey), inB.messages(t, vb.Config().MessageKey)
	if len(gotA) != 1 || gotA[0]["appKey"] != a.AppKey || gotA[0]["openId"] != ta.OpenID || gotA[0]["event"] != sandbox.EventOrderAdd {
		t.Fatalf("app A's pushes: %v", gotA)
	}
	events := map[any]bool{}
	for _, m := range gotB {
		if m["appKey"] != b.AppKey || m["openId"] != tb.OpenID {
			t.Fatalf("app B's push: %v", m)
		}
		events[m["event"]] = true
	}
	if len(gotB) != 2 || !events[sandbox.EventOrderAdd] || !events[sandbox.EventOrderPaid] { // delivered concurrently
		t.Fatalf("app B's pushes: %v", gotB)
	}
	if len(va.Pushes()) != 1 || len(vb.Pushes()) != 2 {
		t.Fatalf("push logs: %d %d", len(va.Pushes()), len(vb.Pushes()))
	}
}

// The admin API names the app with ?app=; without it, the first app.
func TestApps_Admin(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Apps: []sandbox.AppConfig{
		{}, {AppType: sandbox.AppTypeThirdParty, CallbackURL: "https://isv.example/cb"},
	}})
	keys := s.AppKeys()
	var apps struct {
		Apps []map[string]any `json:"apps"`
	}
	if st := c.Admin("GET", "/sandbox/v1/apps", nil, &apps); st != http.StatusOK || len(apps.Apps) != 2 ||
		apps.Apps[0]["appKey"] != keys[0] || apps.Apps[1]["type"] != "third_party" || apps.Apps[1]["callbackUrl"] != "https://isv.example/cb" {
		t.Fatalf("apps: %d %v", st, apps)
	}
	for _, v := range apps.Apps {
		for k, x := range v {
			for _, cfg := range s.Config().Apps {
				if x == cfg.AppSecret || x == cfg.SignSecret || x == cfg.MessageKey {
					t.Fatalf("the apps view leaks a secret in %s", k)
				}
			}
		}
	}
	var u sandbox.TestUser
	if st := c.Admin("POST", "/sandbox/v1/test-users?app="+keys[1], map[string]any{"name": "second app's"}, &u); st != http.StatusCreated || u.ID != 2 {
		t.Fatalf("add to the second app: %d %+v", st, u)
	}
	v1, _ := s.App(keys[1])
	if len(s.TestUsers()) != 1 || len(v1.TestUsers()) != 2 {
		t.Fatalf("test users: %d %d", len(s.TestUsers()), len(v1.TestUsers()))
	}
	if st := c.Admin("POST", "/sandbox/v1/app?app="+keys[1], map[string]any{"state": "online"}, nil); st != http.StatusOK ||
		v1.AppState() != sandbox.AppStateOnline || s.AppState() != sandbox.AppStateTest {
		t.Fatalf("state: %d %s %s", st, v1.AppState(), s.AppState())
	}
	if st := c.Admin("GET", "/sandbox/v1/app?app=ks000", nil, nil); st != http.StatusNotFound {
		t.Fatalf("unknown app: %d", st)
	}
	if st := c.Admin("GET", "/sandbox/v1/app?app="+keys[0]+"&app="+keys[1], nil, nil); st != http.StatusBadRequest {
		t.Fatalf("two apps: %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/market/orders?app="+keys[1], map[string]any{"testUser": 2}, nil); st != http.StatusOK || len(v1.ServiceOrders()) != 1 {
		t.Fatalf("order at the second app: %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/market/orders", map[string]any{"testUser": 1}, nil); st != http.StatusConflict {
		t.Fatalf("order at the first (self-use) app: %d", st)
	}
}

func TestConfig_Apps(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  sandbox.Config
		want []string
	}{
		"both":      {sandbox.Config{AppKey: "ks1", Apps: []sandbox.AppConfig{{AppKey: "ks2"}}}, []string{"either"}},
		"duplicate": {sandbox.Config{Apps: []sandbox.AppConfig{{AppKey: "ks1"}, {AppKey: "ks1"}}}, []string{"Apps[1].AppKey", "listed twice"}},
		"fields": {sandbox.Config{Apps: []sandbox.AppConfig{{AppType: "isv", AppState: "beta", SignMethod: "SHA1", CallbackURL: "ftp://x", MessageKey: "AAEC"}}},
			[]string{"Apps[0].AppType", "Apps[0].AppState", "Apps[0].SignMethod", "Apps[0].CallbackURL", "Apps[0].MessageKey"}},
		"too_many": {sandbox.Config{Apps: make([]sandbox.AppConfig, 17)}, []string{"at most 16"}},
	} {
		err := tc.cfg.Validate()
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v lacks %q", name, err, w)
			}
		}
	}
	s, err := sandbox.New(sandbox.Config{Apps: make([]sandbox.AppConfig, 3)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Config()
	if len(got.Apps) != 3 || got.AppKey != got.Apps[0].AppKey || got.Apps[2].AppType != sandbox.AppTypeSelfUse || got.Apps[1].AppKey == got.Apps[2].AppKey {
		t.Fatalf("defaults: %+v", got.Apps)
	}
	// What Config returns is a valid Config again.
	if err := got.Validate(); err != nil {
		t.Fatalf("Config() does not validate: %v", err)
	}
}

// Messages of a shop go to the main account's open_id, or to a
// sub-account's when only it authorized; a third-party app's merchant
// whose order ended gets none.
func TestPushes_SubAccountsAndOrders(t *testing.T) {
	t.Parallel()
	in := newInbox(t)
	s, c := sandboxtest.Setup(t, sandbox.Config{AppType: sandbox.AppTypeThirdParty, PushURL: in.srv.URL, HeartbeatInterval: -1})
	sub, err := s.AddSubAccount(1, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OrderService(1, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	authorize := func(id int) {
		code, err := s.IssueCode(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr := c.Exchange(code); tr.Result != 1 {
			t.Fatalf("exchange: %+v", tr)
		}
	}
	newOrder := func() string {
		t.Helper()
		n := len(s.Pushes())
		if _, err := s.CreateOrder(sandbox.OrderSpec{TestUser: 1}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.WaitPushes(ctx); err != nil {
			t.Fatal(err)
		}
		p := s.Pushes()
		if len(p) == n {
			return ""
		}
		return p[len(p)-1].OpenID
	}
	authorize(sub.ID)
	if got := newOrder(); got != sub.OpenID {
		t.Fatalf("only the sub-account authorized: message for %q, want %q", got, sub.OpenID)
	}
	authorize(1)
	main := s.TestUsers()[0]
	if got := newOrder(); got != main.OpenID {
		t.Fatalf("the main account authorized too: message for %q, want %q", got, main.OpenID)
	}
	s.Advance(24 * time.Hour)
	if got := newOrder(); got != "" {
		t.Fatalf("a message after the order ended, for %q", got)
	}
	if msgs := in.messages(t, s.Config().MessageKey); len(msgs) != 2 {
		t.Fatalf("%d messages delivered, want 2", len(msgs))
	}
}
