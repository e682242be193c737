package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// The service market of a third-party app, console codes and the callback
// rule (docs/sandbox.md, Several apps and the service market), as a
// merchant's browser and an outside SDK see them.

const isvCallback = "https://isv.example/cb?x=1"

// get fetches u without following redirects.
func get(t *testing.T, c *sandboxtest.SDK, u string) (int, string, *url.URL) {
	t.Helper()
	resp, err := c.NoRedirect().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc, _ := resp.Location()
	return resp.StatusCode, string(body), loc
}

// order orders (or renews) the service for testUser through the admin API.
func order(t *testing.T, c *sandboxtest.SDK, testUser, days int) sandbox.ServiceOrder {
	t.Helper()
	var o sandbox.ServiceOrder
	if st := c.Admin("POST", "/sandbox/v1/market/orders", map[string]any{"testUser": testUser, "days": days}, &o); st != http.StatusOK {
		t.Fatalf("order: HTTP %d", st)
	}
	return o
}

// useService presses "use service" and returns the code of the redirect,
// checking it is the app's callback with a code and no state.
func useService(t *testing.T, c *sandboxtest.SDK, testUser int) string {
	t.Helper()
	st, body, loc := get(t, c, c.Base+"/market/use?"+url.Values{"app_id": {c.AppKey}, "test_user": {strconv.Itoa(testUser)}}.Encode())
	if st != http.StatusFound || loc == nil {
		t.Fatalf("use service: HTTP %d %s", st, body)
	}
	q := loc.Query()
	if loc.Scheme != "https" || loc.Host != "isv.example" || loc.Path != "/cb" || q.Get("x") != "1" || q.Has("state") ||
		!regexp.MustCompile(`^[0-9a-f]{72}$`).MatchString(q.Get("code")) {
		t.Fatalf("use service redirected to %s", loc)
	}
	return q.Get("code")
}

// notOrdered asserts a token endpoint's 100200101 for a missing or ended
// order, which the gateway must read as a subscription (not as its own
// credentials).
func notOrdered(t *testing.T, tr sandboxtest.TokenResp, msg string) {
	t.Helper()
	if tr.Result != platform.ResultOAuthBadClient || tr.Error != "unauthorized_client" || tr.ErrorMsg != msg || tr.AccessToken != "" {
		t.Fatalf("want 100200101 %q, got %+v", msg, tr)
	}
	if cl := platform.Classify(tr.Result, tr.ErrorMsg); cl != platform.ClassSubscription {
		t.Fatalf("the gateway classes %q as %v, want subscription", tr.ErrorMsg, cl)
	}
}

func TestMarket_OrderUseServiceExchange(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{AppType: sandbox.AppTypeThirdParty, CallbackURL: isvCallback, TestUsers: 2})
	users := s.TestUsers()
	useURL := c.Base + "/market/use?" + url.Values{"app_id": {c.AppKey}, "test_user": {"1"}}.Encode()

	// No order: "use service" is refused with the platform's 100200101.
	if st, body, _ := get(t, c, useURL); st != http.StatusForbidden || !strings.Contains(body, "100200101") || !strings.Contains(body, rules.MsgNotOrdered) {
		t.Fatalf("use service without an order: HTTP %d %s", st, body)
	}
	o := order(t, c, 1, 0)
	if o.TestUser != 1 || o.OpenID != users[0].OpenID || !o.Active || o.ExpiresAt != s.Now().Add(sandbox.DefaultServicePeriod).UnixMilli() {
		t.Fatalf("order: %+v", o)
	}
	// The market page offers "use service" to the ordering merchant only.
	st, page, _ := get(t, c, c.Base+"/market?"+url.Values{"app_id": {c.AppKey}}.Encode())
	if st != http.StatusOK || !strings.Contains(page, "test_user=1\"") || strings.Contains(page, "test_user=2\"") || !strings.Contains(page, "未订购") {
		t.Fatalf("market page: HTTP %d\n%s", st, page)
	}

	code := useService(t, c, 1)
	tr := c.Exchange(code)
	if tr.Result != 1 || tr.OpenID != users[0].OpenID || len(tr.Scopes) != len(s.Config().Scopes) {
		t.Fatalf("exchange of the market's code: %+v", tr)
	}
	c.MustCall(tr.AccessToken, "open.shop.info.get", nil, nil)
	if again := c.Exchange(code); again.Result != platform.ResultOAuthInvalidCode {
		t.Fatalf("the market's code twice: %+v", again)
	}

	// The normal consent flow of a merchant without an order: a code, but
	// the exchange answers 100200101; ordering within the code's 2 minutes
	// lets the same code through.
	form := url.Values{"app_id": {c.AppKey}, "redirect_uri": {"https://isv.example/other"}, "response_type": {"code"},
		"scope": {"merchant_order"}, "test_user": {"2"}, "state": {"s1"}}
	resp, err := c.NoRedirect().PostForm(c.Base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("state") != "s1" {
		t.Fatalf("consent: HTTP %d %v", resp.StatusCode, loc)
	}
	code2 := loc.Query().Get("code")
	notOrdered(t, c.Exchange(code2), rules.MsgNotOrdered)
	order(t, c, 2, 1)
	if tr := c.Exchange(code2); tr.Result != 1 || tr.OpenID != users[1].OpenID {
		t.Fatalf("after ordering: %+v", tr)
	}

	// A sub-account uses its main account's order, with its own open_id.
	sub, err := s.AddSubAccount(1, "客服")
	if err != nil {
		t.Fatal(err)
	}
	if tr := c.Exchange(useService(t, c, sub.ID)); tr.Result != 1 || tr.OpenID != sub.OpenID || sub.OpenID == users[0].OpenID {
		t.Fatalf("sub-account's use service: %+v", tr)
	}
	if l := s.ServiceOrders(); len(l) != 2 || l[0].TestUser != 1 || l[1].TestUser != 2 {
		t.Fatalf("orders: %+v", l)
	}
}

func TestMarket_OrderExpiryAndRenewal(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{AppType: sandbox.AppTypeThirdParty, CallbackURL: isvCallback})
	start := s.Now()
	order(t, c, 1, 1)
	if o := order(t, c, 1, 2); o.ExpiresAt != start.Add(72*time.Hour).UnixMilli() { // a renewal adds to the order's end
		t.Fatalf("renewal before the end: %+v", o)
	}
	tr := c.Exchange(useService(t, c, 1))
	if tr.Result != 1 {
		t.Fatalf("exchange: %+v", tr)
	}
	c.MustCall(tr.AccessToken, "open.shop.info.get", nil, nil)

	s.Advance(72*time.Hour - time.Millisecond) // the last moment of the order
	rt := c.Refresh(tr.RefreshToken)
	if rt.Result != 1 {
		t.Fatalf("refresh within the order: %+v", rt)
	}
	s.Advance(time.Millisecond) // the order has ended
	notOrdered(t, c.Refresh(rt.RefreshToken), rules.MsgOrderExpired)
	// Calls with a token that has not expired answer 24, as the gateway's
	// code table expects; the token itself is not revoked.
	if r := c.Call(rt.AccessToken, "open.shop.info.get", nil); r.Result != rules.CodeOrderEndedAPI || r.ErrorMsg != rules.MsgOrderEndedAPI {
		t.Fatalf("call after the order ended: %+v", r)
	}
	if st, body, _ := get(t, c, c.Base+"/market/use?"+url.Values{"app_id": {c.AppKey}, "test_user": {"1"}}.Encode()); st != http.StatusForbidden {
		t.Fatalf("use service after the order ended: HTTP %d %s", st, body)
	}

	// Renewal on the market page (the form): the same tokens work again.
	resp, err := c.NoRedirect().PostForm(c.Base+"/market/order", url.Values{"app_id": {c.AppKey}, "test_user": {"1"}, "days": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/market" {
		t.Fatalf("renewal form: HTTP %d", resp.StatusCode)
	}
	if l := s.ServiceOrders(); len(l) != 1 || !l[0].Active || l[0].ExpiresAt != s.Now().Add(24*time.Hour).UnixMilli() {
		t.Fatalf("renewal after the end counts from now: %+v", l)
	}
	c.MustCall(rt.AccessToken, "open.shop.info.get", nil, nil)
	if again := c.Refresh(rt.RefreshToken); again.Result != 1 {
		t.Fatalf("refresh after renewal: %+v", again)
	}
}

func TestMarket_Refusals(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{AppType: sandbox.AppTypeThirdParty})
	use := func(q url.Values) int {
		st, _, _ := get(t, c, c.Base+"/market/use?"+q.Encode())
		return st
	}
	order(t, c, 1, 0)
	for name, tc := range map[string]struct {
		q    url.Values
		want int
	}{
		"no_app":        {url.Values{"test_user": {"1"}}, http.StatusBadRequest},
		"unknown_app":   {url.Values{"app_id": {"ks0"}, "test_user": {"1"}}, http.StatusNotFound},
		"bad_user":      {url.Values{"app_id": {c.AppKey}, "test_user": {"x"}}, http.StatusBadRequest},
		"unknown_user":  {url.Values{"app_id": {c.AppKey}, "test_user": {"9"}}, http.StatusNotFound},
		"no_callback":   {url.Values{"app_id": {c.AppKey}, "test_user": {"1"}}, http.StatusConflict},
		"negative_user": {url.Values{"app_id": {c.AppKey}, "test_user": {"-1"}}, http.StatusBadRequest},
	} {
		if got := use(tc.q); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", name, got, tc.want)
		}
	}
	var e struct {
		Error string `json:"error"`
	}
	for _, body := range []map[string]any{{"testUser": 1, "days": -1}, {"testUser": 1, "days": 5000}, {}, {"testUser": 1, "months": 1}} {
		if st := c.Admin("POST", "/sandbox/v1/market/orders", body, &e); st != http.StatusBadRequest || e.Error == "" {
			t.Errorf("order %v: HTTP %d", body, st)
		}
	}
	if st := c.Admin("POST", "/sandbox/v1/market/orders", map[string]any{"openId": "nobody"}, nil); st != http.StatusNotFound {
		t.Errorf("order for an unknown merchant: HTTP %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/market:use", map[string]any{"testUser": 1}, &e); st != http.StatusConflict {
		t.Errorf("admin use service without a callback: HTTP %d", st)
	}
	if err := s.SetCallbackURL("javascript:alert(1)"); err == nil {
		t.Error("a non-http callback was accepted")
	}
	if st := c.Admin("POST", "/sandbox/v1/app", map[string]any{"callbackUrl": isvCallback}, nil); st != http.StatusOK {
		t.Fatalf("set callback: HTTP %d", st)
	}
	var loc struct {
		Location string `json:"location"`
	}
	if st := c.Admin("POST", "/sandbox/v1/market:use", map[string]any{"testUser": 1}, &loc); st != http.StatusOK || !strings.HasPrefix(loc.Location, "https://isv.example/cb?") {
		t.Errorf("admin use service: HTTP %d %+v", st, loc)
	}

	// A self-use app is not in the market.
	_, self := sandboxtest.Setup(t, sandbox.Config{})
	if st, _, _ := get(t, self, self.Base+"/market?app_id="+self.AppKey); st != http.StatusConflict {
		t.Errorf("self-use market page: HTTP %d", st)
	}
	if st := self.Admin("POST", "/sandbox/v1/market/orders", map[string]any{"testUser": 1}, nil); st != http.StatusConflict {
		t.Errorf("self-use order: HTTP %d", st)
	}
}

// The callback rule: with a registered callback the consent page accepts
// only redirect_uris on its origin.
func TestMarket_CallbackOrigin(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{CallbackURL: isvCallback})
	for redirect, want := range map[string]int{
		"https://isv.example/elsewhere?y=2": http.StatusOK,
		"https://ISV.example/cb":            http.StatusOK,
		"http://isv.example/cb":             http.StatusBadRequest,
		"https://isv.example:8443/cb":       http.StatusBadRequest,
		"https://evil.example/cb":           http.StatusBadRequest,
	} {
		q := url.Values{"app_id": {c.AppKey}, "redirect_uri": {redirect}, "scope": {"merchant_order"}, "response_type": {"code"}}
		if st, body, _ := get(t, c, c.Base+"/oauth/authorize?"+q.Encode()); st != want || (want != http.StatusOK && !strings.Contains(body, "100200100")) {
			t.Errorf("%s: HTTP %d, want %d", redirect, st, want)
		}
	}
}

// The console's code: no redirect, once, within 2 minutes; for self-use
// apps and apps in test state.
func TestConsole_Code(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	var out struct {
		Code      string `json:"code"`
		ExpiresIn int64  `json:"expiresIn"`
	}
	if st := c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1}, &out); st != http.StatusOK || out.ExpiresIn != 120 {
		t.Fatalf("console code: HTTP %d %+v", st, out)
	}
	if tr := c.Exchange(out.Code); tr.Result != 1 || tr.OpenID != s.TestUsers()[0].OpenID {
		t.Fatalf("first use: %+v", tr)
	}
	if tr := c.Exchange(out.Code); tr.Result != platform.ResultOAuthInvalidCode || tr.ErrorMsg != "code already used" {
		t.Fatalf("second use: %+v", tr)
	}
	c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1}, &out)
	s.Advance(rules.CodeLifetime)
	if tr := c.Exchange(out.Code); tr.Result != platform.ResultOAuthInvalidCode || tr.ErrorMsg != "code expired" {
		t.Fatalf("after 2 minutes: %+v", tr)
	}
	// Online, a self-use app still gets console codes.
	if err := s.SetAppState(sandbox.AppStateOnline); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueCode(1, nil); err != nil {
		t.Fatalf("online self-use app: %v", err)
	}

	// A third-party app: codes in test state (exchanged only with an
	// order), none once online.
	tp, tc := sandboxtest.Setup(t, sandbox.Config{AppType: sandbox.AppTypeThirdParty})
	code, err := tp.IssueCode(1, []string{"merchant_order"})
	if err != nil {
		t.Fatal(err)
	}
	notOrdered(t, tc.Exchange(code), rules.MsgNotOrdered)
	if err := tp.SetAppState(sandbox.AppStateOnline); err != nil {
		t.Fatal(err)
	}
	if st := tc.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1}, nil); st != http.StatusConflict {
		t.Fatalf("console code of an online third-party app: HTTP %d", st)
	}
}
