package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

func TestOAuth_ConsentPage(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2})
	hc := c.NoRedirect()
	q := url.Values{
		"app_id": {c.AppKey}, "redirect_uri": {"https://isv.example/cb?x=1"}, "scope": {"merchant_order,merchant_item"},
		"response_type": {"code"}, "state": {"st<&>1"},
	}

	t.Run("get_renders", func(t *testing.T) {
		resp, err := hc.Get(c.Base + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, u := range s.TestUsers() {
			if !strings.Contains(string(body), `name="test_user" value="`+string(rune('0'+u.ID))+`"`) {
				t.Errorf("no radio for test user %d", u.ID)
			}
		}
		for _, want := range []string{`value="merchant_order"`, `value="merchant_item"`, `st&lt;&amp;&gt;1`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("page lacks %s", want)
			}
		}
		if strings.Contains(string(body), `value="merchant_refund"`) {
			t.Error("page offers a scope that was not requested")
		}
	})

	t.Run("post_redirects_with_code_and_state", func(t *testing.T) {
		form := url.Values{
			"app_id": {c.AppKey}, "redirect_uri": {"https://isv.example/cb?x=1"}, "response_type": {"code"},
			"state": {"st<&>1"}, "scope": {"merchant_order"}, "test_user": {"2"},
		}
		resp, err := hc.PostForm(c.Base+"/oauth/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Host != "isv.example" || loc.Path != "/cb" || loc.Query().Get("x") != "1" || loc.Query().Get("state") != "st<&>1" {
			t.Fatalf("Location %s", loc)
		}
		code := loc.Query().Get("code")
		if !regexp.MustCompile(`^[0-9a-f]{72}$`).MatchString(code) {
			t.Fatalf("code %q", code)
		}
		tr := c.Exchange(code)
		if tr.Result != 1 || tr.OpenID != s.TestUsers()[1].OpenID || !slices.Equal(tr.Scopes, []string{"merchant_order"}) {
			t.Fatalf("exchange: %+v", tr)
		}
	})

	errCases := []struct {
		name string
		post bool
		edit func(v url.Values)
		want string
	}{
		{"unknown_app", false, func(v url.Values) { v.Set("app_id", "ks111111111111111111") }, "100200101"},
		{"response_type", false, func(v url.Values) { v.Set("response_type", "token") }, "100200103"},
		{"missing_redirect", false, func(v url.Values) { v.Del("redirect_uri") }, "100200100"},
		{"missing_scope", false, func(v url.Values) { v.Del("scope") }, "100200100"},
		{"relative_redirect", false, func(v url.Values) { v.Set("redirect_uri", "/cb") }, "100200100"},
		{"scope_not_held", false, func(v url.Values) { v.Set("scope", "merchant_order,merchant_funds") }, "100200106"},
		{"post_no_scope", true, func(v url.Values) { v.Del("scope"); v.Set("test_user", "1") }, "100200106"},
		{"post_unknown_user", true, func(v url.Values) { v.Set("test_user", "5") }, "不属于此应用的授权用户或测试用户"},
		{"post_no_user", true, func(v url.Values) {}, "不属于此应用的授权用户或测试用户"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, x := range q {
				v[k] = slices.Clone(x)
			}
			tc.edit(v)
			var resp *http.Response
			var err error
			if tc.post {
				resp, err = hc.PostForm(c.Base+"/oauth/authorize", v)
			} else {
				resp, err = hc.Get(c.Base + "/oauth/authorize?" + v.Encode())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
				t.Fatalf("HTTP %d, body lacks %q:\n%s", resp.StatusCode, tc.want, body)
			}
		})
	}
}

func TestOAuth_CodeExchange(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	issue := func() string {
		code, err := s.IssueCode(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	code := issue()
	tr := c.Exchange(code)
	if tr.Result != 1 || tr.ExpiresIn != 172800 || tr.RefreshTokenExpiresIn != 180*24*3600 || tr.TokenType != "bearer" ||
		!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(tr.OpenID) || len(tr.Scopes) != len(s.Config().Scopes) {
		t.Fatalf("exchange: %+v", tr)
	}
	if len(tr.AccessToken) < 43 || strings.ContainsAny(tr.AccessToken+tr.RefreshToken, "+/=") || tr.AccessToken == tr.RefreshToken {
		t.Fatalf("tokens not opaque base64url: %q %q", tr.AccessToken, tr.RefreshToken)
	}
	if again := c.Exchange(code); again.Result != platform.ResultOAuthInvalidCode || again.Error != "invalid_grant" || again.ErrorMsg != "code already used" {
		t.Fatalf("reuse: %+v", again)
	}
	late := issue()
	s.Advance(2*time.Minute + time.Second)
	if r := c.Exchange(late); r.Result != platform.ResultOAuthInvalidCode || r.ErrorMsg != "code expired" {
		t.Fatalf("expired code: %+v", r)
	}
	fresh := issue()
	s.Advance(119 * time.Second)
	if r := c.Exchange(fresh); r.Result != 1 {
		t.Fatalf("code at 1:59: %+v", r)
	}

	base := url.Values{"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"code"}, "code": {issue()}}
	cases := []struct {
		name string
		edit func(url.Values)
		code int64
	}{
		{"wrong_secret", func(v url.Values) { v.Set("app_secret", "0123") }, platform.ResultOAuthBadClient},
		{"unknown_app", func(v url.Values) { v.Set("app_id", "ks1") }, platform.ResultOAuthBadClient},
		{"bad_code", func(v url.Values) { v.Set("code", "abc") }, platform.ResultOAuthInvalidCode},
		{"missing_code", func(v url.Values) { v.Del("code") }, platform.ResultOAuthInvalidReq},
		{"missing_secret", func(v url.Values) { v.Del("app_secret") }, platform.ResultOAuthInvalidReq},
		{"missing_grant", func(v url.Values) { v.Del("grant_type") }, platform.ResultOAuthInvalidReq},
		{"authorization_code", func(v url.Values) { v.Set("grant_type", "authorization_code") }, platform.ResultOAuthGrantType},
		{"refresh_here", func(v url.Values) { v.Set("grant_type", "refresh_token") }, platform.ResultOAuthGrantType},
	}
	for _, tc := range cases {
		for _, post := range []bool{false, true} {
			v := url.Values{}
			for k, x := range base {
				v[k] = slices.Clone(x)
			}
			tc.edit(v)
			r := c.OAuth("/oauth2/access_token", post, v)
			if r.Result != tc.code || r.Error != platform.OAuthErrorName(tc.code) || r.ErrorMsg == "" || r.AccessToken != "" {
				t.Errorf("%s post=%v: %+v", tc.name, post, r)
			}
		}
	}
	if n := s.Counters().CodeExchanges; n != 2 {
		t.Errorf("CodeExchanges = %d", n)
	}
}

func TestOAuth_RefreshRotation(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	first := c.Authorize(1)
	s.Advance(10 * 24 * time.Hour / 10) // one day later
	second := c.Refresh(first.RefreshToken)
	if second.Result != 1 || second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken ||
		second.ExpiresIn != 172800 || !slices.Equal(second.Scopes, first.Scopes) {
		t.Fatalf("refresh: %+v", second)
	}
	if want := first.RefreshTokenExpiresIn - 24*3600; second.RefreshTokenExpiresIn != want {
		t.Fatalf("new RT expires in %d, want the original expiry (%d)", second.RefreshTokenExpiresIn, want)
	}
	// Inside the grace the old RT replays the same pair.
	s.Advance(4 * time.Minute)
	replay := c.Refresh(first.RefreshToken)
	if replay.Result != 1 || replay.AccessToken != second.AccessToken || replay.RefreshToken != second.RefreshToken {
		t.Fatalf("replay in grace: %+v", replay)
	}
	s.Advance(time.Minute + time.Second) // grace (5 min) over
	if r := c.Refresh(first.RefreshToken); r.Result != platform.ResultOAuthDenied || r.Error != "access_denied" || r.ErrorMsg != platform.MsgRefreshDiscarded {
		t.Fatalf("discarded: %+v", r)
	}
	// Old and new access tokens are independent and both still valid.
	c.MustCall(first.AccessToken, "open.user.seller.get", nil, nil)
	c.MustCall(second.AccessToken, "open.user.seller.get", nil, nil)
	third := c.Refresh(second.RefreshToken)
	if third.Result != 1 || third.RefreshTokenExpiresIn != second.RefreshTokenExpiresIn-5*60-1 {
		t.Fatalf("third: %+v", third)
	}
	cnt := s.Counters()
	if cnt.Refreshes != 2 || cnt.ReplayedRefreshes != 1 || cnt.RejectedRefreshes != 1 {
		t.Fatalf("counters %+v", cnt)
	}
	if r := c.Refresh("nope"); r.Result != platform.ResultOAuthDenied {
		t.Fatalf("unknown RT: %+v", r)
	}
	bad := c.OAuth("/oauth2/refresh_token", false, url.Values{"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"code"}, "refresh_token": {third.RefreshToken}})
	if bad.Result != platform.ResultOAuthGrantType {
		t.Fatalf("grant_type=code on refresh: %+v", bad)
	}
}

func TestOAuth_RefreshNoGraceAndExpiry(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{RefreshGrace: sandbox.NoRefreshGrace, TestAuthorizationTTL: -1})
	first := c.Authorize(1)
	if r := c.Refresh(first.RefreshToken); r.Result != 1 {
		t.Fatal(r)
	}
	if r := c.Refresh(first.RefreshToken); r.ErrorMsg != platform.MsgRefreshDiscarded {
		t.Fatalf("immediate reuse: %+v", r)
	}
	second := c.Authorize(1)
	s.Advance(179 * 24 * time.Hour)
	r := c.Refresh(second.RefreshToken)
	if r.Result != 1 || r.RefreshTokenExpiresIn != 24*3600 {
		t.Fatalf("day 179: %+v", r)
	}
	s.Advance(24 * time.Hour)
	if r := c.Refresh(r.RefreshToken); r.Result != platform.ResultOAuthDenied || r.ErrorMsg != "refresh_token expired" {
		t.Fatalf("day 180: %+v", r)
	}
}

func TestOAuth_ClientCredentials(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	for _, post := range []bool{false, true} {
		r := c.OAuth("/oauth2/access_token", post, url.Values{"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"client_credentials"}})
		if r.Result != 1 || r.AccessToken == "" || r.ExpiresIn != 172800 || r.TokenType != "bearer" || r.RefreshToken != "" || r.OpenID != "" {
			t.Fatalf("post=%v: %+v", post, r)
		}
		// An app token is a valid token: unknown APIs get past auth.
		if resp := c.Call(r.AccessToken, "open.nothing.here", nil); resp.Result != platform.ResultAPINotFound {
			t.Fatalf("app token, unknown api: %+v", resp)
		}
	}
	if n := s.Counters().ClientCredentials; n != 2 {
		t.Fatalf("ClientCredentials = %d", n)
	}
}

func TestRules_TestUsersAndAuthorizations(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 5})
	// A sixth test user is refused.
	var e struct {
		Error string `json:"error"`
	}
	if st := c.Admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "六"}, &e); st != http.StatusConflict || !strings.Contains(e.Error, "at most 5") {
		t.Fatalf("6th test user: %d %+v", st, e)
	}
	if _, err := s.AddTestUser(""); err != sandbox.ErrTestUserLimit {
		t.Fatalf("AddTestUser: %v", err)
	}
	// Only test users may authorize a test-state app.
	form := url.Values{"app_id": {c.AppKey}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"},
		"scope": {"merchant_order"}, "test_user": {"6"}}
	resp, err := c.NoRedirect().PostForm(c.Base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Fatal("a non-test user authorized the app")
	}

	// The 10-day cut-off ends authorizations granted in test state only.
	test := c.Authorize(1)
	s.SetAppState(sandbox.AppStateOnline)
	online := c.Authorize(2)
	s.Advance(9 * 24 * time.Hour)
	test, online = c.Refresh(test.RefreshToken), c.Refresh(online.RefreshToken) // fresh 48 h access tokens
	s.Advance(24*time.Hour + time.Minute)
	if r := c.Call(test.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultRevoked || r.ErrorMsg != platform.MsgRevoked {
		t.Fatalf("test-state grant after 10 days: %+v", r)
	}
	if tr := c.Refresh(test.RefreshToken); tr.ErrorMsg != platform.MsgRefreshRevoked {
		t.Fatalf("test-state refresh after 10 days: %+v", tr)
	}
	c.MustCall(online.AccessToken, "open.shop.info.get", nil, nil)
	tr := c.Refresh(online.RefreshToken)
	if tr.Result != 1 {
		t.Fatalf("online grant refresh after 10 days: %+v", tr)
	}
	c.MustCall(tr.AccessToken, "open.shop.info.get", nil, nil)
}
