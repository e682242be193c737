package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

func TestGateway_SignMethodsAndTransports(t *testing.T) {
	t.Parallel()
	_, c := setup(t, Config{Seed: 7})
	tok := c.authorize(1).AccessToken
	for _, post := range []bool{false, true} {
		for _, m := range []sign.Method{sign.MD5, sign.HMACSHA256} {
			name := string(m) + map[bool]string{false: "_get", true: "_post"}[post]
			t.Run(name, func(t *testing.T) {
				c2 := *c
				c2.t, c2.post, c2.signMethod = t, post, m
				var info shopInfo
				r := c2.mustCall(tok, "open.shop.info.get", nil, &info)
				if r.RequestID == "" || info.ShopName == "" {
					t.Fatalf("got %+v / %+v", r, info)
				}
				if _, ok := r.Raw["error_msg"]; !ok {
					t.Error("success envelope lacks error_msg")
				}
			})
		}
	}
	t.Run("md5_uppercase_and_no_signMethod", func(t *testing.T) {
		c2 := *c
		c2.t, c2.signMethod = t, sign.MD5
		m := c2.params(tok, "open.user.seller.get", nil)
		m[sign.KeySign] = strings.ToUpper(m[sign.KeySign])
		if r := c2.send("open.user.seller.get", m); r.Result != 1 {
			t.Fatalf("uppercase MD5: %+v", r)
		}
		delete(m, sign.KeySignMethod)
		delete(m, sign.KeySign)
		sig, _ := sign.Sign(sign.MD5, sign.MapLookup(m), c2.signSecret) // string without signMethod
		m[sign.KeySign] = sig
		if r := c2.send("open.user.seller.get", m); r.Result != 1 {
			t.Fatalf("absent signMethod (MD5 default): %+v", r)
		}
	})
}

func TestGateway_Rejections(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Seed: 3, Scopes: []string{"merchant_item", "merchant_order", "merchant_user"}})
	tok := c.authorize(1).AccessToken
	itemOnly := c.authorize(1, "merchant_item").AccessToken
	app := c.oauth("/oauth2/access_token", false, url.Values{
		"app_id": {c.appKey}, "app_secret": {c.appSecret}, "grant_type": {"client_credentials"},
	}).AccessToken
	const m = "open.shop.info.get"
	cases := []struct {
		name   string
		mutate func(p map[string]string) // applied before sending; re-signs unless it sets sign itself
		method string
		code   int64
		msg    string
	}{
		{"wrong_sign", func(p map[string]string) { p[sign.KeySign] = "AAAA" + p[sign.KeySign][4:] }, m, platform.ResultSignInvalid, "sign check failed"},
		{"wrong_secret", func(p map[string]string) {
			sig, _ := sign.Sign(sign.HMACSHA256, sign.MapLookup(p), "not-the-secret")
			p[sign.KeySign] = sig
		}, m, platform.ResultSignInvalid, "sign check failed"},
		{"missing_sign", func(p map[string]string) { delete(p, sign.KeySign) }, m, platform.ResultSignInvalid, "sign missing"},
		{"stale_timestamp", func(p map[string]string) {
			p[sign.KeyTimestamp] = strconv.FormatInt(s.Now().Add(-11*time.Minute).UnixMilli(), 10)
			c.resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"future_timestamp", func(p map[string]string) {
			p[sign.KeyTimestamp] = strconv.FormatInt(s.Now().Add(11*time.Minute).UnixMilli(), 10)
			c.resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"seconds_timestamp", func(p map[string]string) {
			p[sign.KeyTimestamp] = strconv.FormatInt(s.Now().Unix(), 10)
			c.resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"missing_timestamp", func(p map[string]string) { delete(p, sign.KeyTimestamp); c.resign(p) }, m, platform.ResultSignInvalid, "timestamp missing"},
		{"bad_timestamp", func(p map[string]string) { p[sign.KeyTimestamp] = "yesterday"; c.resign(p) }, m, platform.ResultSignInvalid, "timestamp invalid"},
		{"bad_signMethod", func(p map[string]string) { p[sign.KeySignMethod] = "SHA1" }, m, platform.ResultSignInvalid, "signMethod"},
		{"unknown_appkey", func(p map[string]string) { p[sign.KeyAppKey] = "ks000000000000000000"; c.resign(p) }, m, platform.ResultAppKeyInvalid, "appkey"},
		{"missing_appkey", func(p map[string]string) { delete(p, sign.KeyAppKey) }, m, platform.ResultAppKeyInvalid, "appkey missing"},
		{"method_mismatch", func(p map[string]string) { p[sign.KeyMethod] = "open.user.seller.get"; c.resign(p) }, m, platform.ResultParamInvalid, "does not match"},
		{"unknown_token", func(p map[string]string) { p[sign.KeyAccessToken] = "ChFvYXV0aC5hY2Nlc3NUb2tlbhnope"; c.resign(p) }, m, platform.ResultTokenInvalid, "access_token invalid"},
		{"missing_token", func(p map[string]string) { delete(p, sign.KeyAccessToken); c.resign(p) }, m, platform.ResultTokenInvalid, "access_token missing"},
		{"scope_missing", func(p map[string]string) { p[sign.KeyAccessToken] = itemOnly; c.resign(p) }, "open.order.cursor.list", platform.ResultNoPermission, "merchant_order"},
		{"app_token_on_shop_api", func(p map[string]string) { p[sign.KeyAccessToken] = app; c.resign(p) }, m, platform.ResultNoPermission, "client_credentials"},
		{"param_not_object", func(p map[string]string) { p[sign.KeyParam] = `[1,2]`; c.resign(p) }, m, platform.ResultParamInvalid, "JSON object"},
		{"param_trailing", func(p map[string]string) { p[sign.KeyParam] = `{}{}`; c.resign(p) }, m, platform.ResultParamInvalid, "JSON object"},
		{"bad_version", func(p map[string]string) { p[sign.KeyVersion] = "2"; c.resign(p) }, m, platform.ResultParamInvalid, "version"},
		{"unknown_api", func(p map[string]string) {}, "open.nothing.here", platform.ResultAPINotFound, "api not exist"},
		{"not_emulated", func(p map[string]string) {}, "open.item.delete", platform.ResultNotEmulated, "does not emulate"},
	}
	seen := map[string]bool{}
	var mu sync.Mutex
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c2 := *c
			c2.t = t
			p := c2.params(tok, tc.method, nil)
			tc.mutate(p)
			r := c2.send(tc.method, p)
			if r.Result != tc.code || !strings.Contains(r.ErrorMsg, tc.msg) {
				t.Fatalf("got %d %q, want %d containing %q", r.Result, r.ErrorMsg, tc.code, tc.msg)
			}
			if _, ok := r.Raw["data"]; ok {
				t.Error("error envelope has data")
			}
			mu.Lock()
			defer mu.Unlock()
			if r.RequestID == "" || seen[r.RequestID] {
				t.Errorf("requestId %q empty or reused", r.RequestID)
			}
			seen[r.RequestID] = true
		})
	}
}

func TestGateway_ExpiredToken(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	tok := c.authorize(1).AccessToken
	c.mustCall(tok, "open.user.seller.get", nil, nil)
	s.Advance(47 * time.Hour)
	c.mustCall(tok, "open.user.seller.get", nil, nil)
	s.Advance(2 * time.Hour) // 49 h
	r := c.call(tok, "open.user.seller.get", nil)
	if r.Result != platform.ResultTokenInvalid || r.ErrorMsg != "access_token expired" || r.RequestID == "" {
		t.Fatalf("got %+v", r)
	}
}

func TestGateway_RevocationAndTestAuthorizationExpiry(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 2})
	one, two := c.authorize(1), c.authorize(2)
	var out struct {
		Revoked int `json:"revoked"`
	}
	if st := c.admin("POST", "/sandbox/v1/authorizations:revoke", map[string]any{"openId": one.OpenID}, &out); st != 200 || out.Revoked != 1 {
		t.Fatalf("revoke: %d %+v", st, out)
	}
	r := c.call(one.AccessToken, "open.shop.info.get", nil)
	if r.Result != platform.ResultRevoked || r.ErrorMsg != "AUTHORIZATION_REVOKED" {
		t.Fatalf("revoked call: %+v", r)
	}
	if tr := c.refresh(one.RefreshToken); tr.Result != platform.ResultOAuthDenied || tr.ErrorMsg != platform.MsgRefreshRevoked || tr.Error != "access_denied" {
		t.Fatalf("revoked refresh: %+v", tr)
	}
	c.mustCall(two.AccessToken, "open.shop.info.get", nil, nil) // other user unaffected
	// Re-authorizing gives working tokens again.
	c.mustCall(c.authorize(1).AccessToken, "open.shop.info.get", nil, nil)

	// The 10-day test authorization expiry revokes too (refresh keeps the
	// access token fresh, the authorization still ends).
	s.Advance(9 * 24 * time.Hour)
	tr := c.refresh(two.RefreshToken)
	if tr.Result != 1 {
		t.Fatalf("refresh on day 9: %+v", tr)
	}
	s.Advance(25 * time.Hour)
	if r := c.call(tr.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultRevoked {
		t.Fatalf("day 10: %+v", r)
	}
	if tr := c.refresh(tr.RefreshToken); tr.ErrorMsg != platform.MsgRefreshRevoked {
		t.Fatalf("day 10 refresh: %+v", tr)
	}
	if st := c.admin("POST", "/sandbox/v1/authorizations:revoke", map[string]any{"testUser": 9}, nil); st != http.StatusNotFound {
		t.Fatalf("unknown user revoke: %d", st)
	}
}

func TestGateway_Concurrent(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 2})
	toks := []string{c.authorize(1).AccessToken, c.authorize(2).AccessToken}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			c2 := *c
			c2.post = i%2 == 0
			c2.call(toks[i%2], "open.item.list.get", nil)
			c2.call(toks[i%2], "open.shop.info.get", nil)
			_ = s.Counters()
		})
	}
	wg.Wait()
	if got := s.Counters().Calls["open.item.list.get"]; got != 16 {
		t.Fatalf("calls = %d", got)
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	bad := Config{AppKey: "has space", MessageKey: "AAEC", TestUsers: 6, TimestampWindow: -1, Scopes: []string{"merchant_funds", "merchant_item", "merchant_item"}, PushURL: "ftp://x",
		PushDropRate: 1.5, AppState: "beta", Limits: Limits{UserQPSByMethod: map[string]int{"no such api": 1}}}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"AppKey", "MessageKey", "TestUsers", "TimestampWindow", "merchant_funds", "listed twice", "PushURL", "PushDropRate", "AppState", "UserQPSByMethod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := New(bad); err == nil {
		t.Fatal("New accepted an invalid config")
	}
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if len(got.AppKey) != 20 || !strings.HasPrefix(got.AppKey, "ks") || len(got.AppSecret) != 32 || len(got.SignSecret) != 32 ||
		got.MessageKey == "" || got.TestUsers != 1 || got.TimestampWindow != DefaultTimestampWindow || got.RefreshGrace != DefaultRefreshGrace ||
		got.AppState != AppStateTest || got.Limits.TestUserDailyCalls != DefaultTestUserDailyCalls || got.HeartbeatInterval != DefaultHeartbeatInterval || got.PushURL != "" {
		t.Fatalf("defaults: %+v", got)
	}
	if err := (&Config{RefreshGrace: NoRefreshGrace, TestAuthorizationTTL: -1, MessageKey: "AAECAwQFBgcICQoLDA0ODw=="}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestGateway_QueryBodyMergeAndMultipart(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	tok := c.authorize(1).AccessToken
	p := c.params(tok, "open.user.seller.get", nil)
	u := c.base + "/open/user/seller/get"

	t.Run("public_params_in_query_rest_in_body", func(t *testing.T) { // the [DEMO] style
		q, form := url.Values{}, url.Values{}
		for k, v := range p {
			if k == sign.KeyParam || k == sign.KeySign {
				form.Set(k, v)
			} else {
				q.Set(k, v)
			}
		}
		q.Set(sign.KeySign, "stale-query-sign") // the body wins
		resp, err := c.hc.PostForm(u+"?"+q.Encode(), form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r apiResp
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Result != 1 {
			t.Fatalf("%v %+v", err, r)
		}
	})

	t.Run("multipart", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range p {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("imgBytes", "a.jpg")
		_, _ = fw.Write([]byte{0xff, 0xd8, 0xff})
		_ = mw.Close()
		resp, err := c.hc.Post(u, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r apiResp
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Result != 1 {
			t.Fatalf("%v %+v", err, r)
		}
	})

	t.Run("other_http_method", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, u, nil)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
	})
	if n := s.Counters().Calls["open.user.seller.get"]; n != 3 {
		t.Fatalf("calls %d", n)
	}
}

// BenchmarkGateway_SignedCall measures one signed call over HTTP (signature
// check, token, limits, scope, handler, JSON) with the limits lifted.
func BenchmarkGateway_SignedCall(b *testing.B) {
	for _, m := range []string{"open.shop.info.get", "open.order.cursor.list"} {
		b.Run(m, func(b *testing.B) {
			s, c := setup(b, Config{Seed: 1, Limits: Limits{APIQPS: -1, APIQPSByMethod: map[string]int{m: -1}, UserQPSByMethod: map[string]int{m: -1}, TestUserDailyCalls: -1, AppDailyCallsTest: -1}})
			tok := c.authorize(1).AccessToken
			p := map[string]any{"beginTime": s.Now().Add(-7 * 24 * time.Hour).UnixMilli(), "endTime": s.Now().UnixMilli(), "pageSize": 50}
			for b.Loop() {
				if r := c.call(tok, m, p); r.Result != 1 {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}
