package gateway_test

import (
	"bytes"
	"encoding/json"
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
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

func TestGateway_SignMethodsAndTransports(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 7})
	tok := c.Authorize(1).AccessToken
	for _, post := range []bool{false, true} {
		for _, m := range []sign.Method{sign.MD5, sign.HMACSHA256} {
			name := string(m) + map[bool]string{false: "_get", true: "_post"}[post]
			t.Run(name, func(t *testing.T) {
				c2 := c.For(t)
				c2.Post, c2.SignMethod = post, m
				var info shop.ShopInfo
				r := c2.MustCall(tok, "open.shop.info.get", nil, &info)
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
		c2 := c.For(t)
		c2.SignMethod = sign.MD5
		m := c2.Params(tok, "open.user.seller.get", nil)
		m[sign.KeySign] = strings.ToUpper(m[sign.KeySign])
		if r := c2.Send("open.user.seller.get", m); r.Result != 1 {
			t.Fatalf("uppercase MD5: %+v", r)
		}
		delete(m, sign.KeySignMethod)
		delete(m, sign.KeySign)
		sig, _ := sign.Sign(sign.MD5, sign.MapLookup(m), c2.SignSecret) // string without signMethod
		m[sign.KeySign] = sig
		if r := c2.Send("open.user.seller.get", m); r.Result != 1 {
			t.Fatalf("absent signMethod (MD5 default): %+v", r)
		}
	})
}

func TestGateway_Rejections(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 3, Scopes: []string{"merchant_item", "merchant_order", "merchant_user"}})
	tok := c.Authorize(1).AccessToken
	itemOnly := c.Authorize(1, "merchant_item").AccessToken
	app := c.OAuth("/oauth2/access_token", false, url.Values{
		"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"client_credentials"},
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
			c.Resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"future_timestamp", func(p map[string]string) {
			p[sign.KeyTimestamp] = strconv.FormatInt(s.Now().Add(11*time.Minute).UnixMilli(), 10)
			c.Resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"seconds_timestamp", func(p map[string]string) {
			p[sign.KeyTimestamp] = strconv.FormatInt(s.Now().Unix(), 10)
			c.Resign(p)
		}, m, platform.ResultSignInvalid, "timestamp expired"},
		{"missing_timestamp", func(p map[string]string) { delete(p, sign.KeyTimestamp); c.Resign(p) }, m, platform.ResultSignInvalid, "timestamp missing"},
		{"bad_timestamp", func(p map[string]string) { p[sign.KeyTimestamp] = "yesterday"; c.Resign(p) }, m, platform.ResultSignInvalid, "timestamp invalid"},
		{"bad_signMethod", func(p map[string]string) { p[sign.KeySignMethod] = "SHA1" }, m, platform.ResultSignInvalid, "signMethod"},
		{"unknown_appkey", func(p map[string]string) { p[sign.KeyAppKey] = "ks000000000000000000"; c.Resign(p) }, m, platform.ResultAppKeyInvalid, "appkey"},
		{"missing_appkey", func(p map[string]string) { delete(p, sign.KeyAppKey) }, m, platform.ResultAppKeyInvalid, "appkey missing"},
		{"method_mismatch", func(p map[string]string) { p[sign.KeyMethod] = "open.user.seller.get"; c.Resign(p) }, m, platform.ResultParamInvalid, "does not match"},
		{"unknown_token", func(p map[string]string) { p[sign.KeyAccessToken] = "ChFvYXV0aC5hY2Nlc3NUb2tlbhnope"; c.Resign(p) }, m, platform.ResultTokenInvalid, "access_token invalid"},
		{"missing_token", func(p map[string]string) { delete(p, sign.KeyAccessToken); c.Resign(p) }, m, platform.ResultTokenInvalid, "access_token missing"},
		{"scope_missing", func(p map[string]string) { p[sign.KeyAccessToken] = itemOnly; c.Resign(p) }, "open.order.cursor.list", platform.ResultNoPermission, "merchant_order"},
		{"app_token_on_shop_api", func(p map[string]string) { p[sign.KeyAccessToken] = app; c.Resign(p) }, m, platform.ResultNoPermission, "client_credentials"},
		{"param_not_object", func(p map[string]string) { p[sign.KeyParam] = `[1,2]`; c.Resign(p) }, m, platform.ResultParamInvalid, "JSON object"},
		{"param_trailing", func(p map[string]string) { p[sign.KeyParam] = `{}{}`; c.Resign(p) }, m, platform.ResultParamInvalid, "JSON object"},
		{"bad_version", func(p map[string]string) { p[sign.KeyVersion] = "2"; c.Resign(p) }, m, platform.ResultParamInvalid, "version"},
		{"unknown_api", func(p map[string]string) {}, "open.nothing.here", platform.ResultAPINotFound, "api not exist"},
		{"schema_param", func(p map[string]string) {}, "open.item.delete", platform.ResultParamInvalid, "param.kwaiItemId: required field is missing"},
	}
	seen := map[string]bool{}
	var mu sync.Mutex
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c2 := c.For(t)
			p := c2.Params(tok, tc.method, nil)
			tc.mutate(p)
			r := c2.Send(tc.method, p)
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
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	tok := c.Authorize(1).AccessToken
	c.MustCall(tok, "open.user.seller.get", nil, nil)
	s.Advance(47 * time.Hour)
	c.MustCall(tok, "open.user.seller.get", nil, nil)
	s.Advance(2 * time.Hour) // 49 h
	r := c.Call(tok, "open.user.seller.get", nil)
	if r.Result != platform.ResultTokenInvalid || r.ErrorMsg != "access_token expired" || r.RequestID == "" {
		t.Fatalf("got %+v", r)
	}
}

func TestGateway_RevocationAndTestAuthorizationExpiry(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2})
	one, two := c.Authorize(1), c.Authorize(2)
	var out struct {
		Revoked int `json:"revoked"`
	}
	if st := c.Admin("POST", "/sandbox/v1/authorizations:revoke", map[string]any{"openId": one.OpenID}, &out); st != 200 || out.Revoked != 1 {
		t.Fatalf("revoke: %d %+v", st, out)
	}
	r := c.Call(one.AccessToken, "open.shop.info.get", nil)
	if r.Result != platform.ResultRevoked || r.ErrorMsg != "AUTHORIZATION_REVOKED" {
		t.Fatalf("revoked call: %+v", r)
	}
	if tr := c.Refresh(one.RefreshToken); tr.Result != platform.ResultOAuthDenied || tr.ErrorMsg != platform.MsgRefreshRevoked || tr.Error != "access_denied" {
		t.Fatalf("revoked refresh: %+v", tr)
	}
	c.MustCall(two.AccessToken, "open.shop.info.get", nil, nil) // other user unaffected
	// Re-authorizing gives working tokens again.
	c.MustCall(c.Authorize(1).AccessToken, "open.shop.info.get", nil, nil)

	// The 10-day test authorization expiry revokes too (refresh keeps the
	// access token fresh, the authorization still ends).
	s.Advance(9 * 24 * time.Hour)
	tr := c.Refresh(two.RefreshToken)
	if tr.Result != 1 {
		t.Fatalf("refresh on day 9: %+v", tr)
	}
	s.Advance(25 * time.Hour)
	if r := c.Call(tr.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultRevoked {
		t.Fatalf("day 10: %+v", r)
	}
	if tr := c.Refresh(tr.RefreshToken); tr.ErrorMsg != platform.MsgRefreshRevoked {
		t.Fatalf("day 10 refresh: %+v", tr)
	}
	if st := c.Admin("POST", "/sandbox/v1/authorizations:revoke", map[string]any{"testUser": 9}, nil); st != http.StatusNotFound {
		t.Fatalf("unknown user revoke: %d", st)
	}
}

func TestGateway_Concurrent(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2})
	toks := []string{c.Authorize(1).AccessToken, c.Authorize(2).AccessToken}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			c2 := *c
			c2.Post = i%2 == 0
			c2.Call(toks[i%2], "open.item.list.get", nil)
			c2.Call(toks[i%2], "open.shop.info.get", nil)
			_ = s.Counters()
		})
	}
	wg.Wait()
	if got := s.Counters().Calls["open.item.list.get"]; got != 16 {
		t.Fatalf("calls = %d", got)
	}
}

func TestGateway_QueryBodyMergeAndMultipart(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	tok := c.Authorize(1).AccessToken
	p := c.Params(tok, "open.user.seller.get", nil)
	u := c.Base + "/open/user/seller/get"

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
		resp, err := c.HC.PostForm(u+"?"+q.Encode(), form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r sandboxtest.APIResp
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
		resp, err := c.HC.Post(u, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r sandboxtest.APIResp
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Result != 1 {
			t.Fatalf("%v %+v", err, r)
		}
	})

	t.Run("other_http_method", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, u, nil)
		resp, err := c.HC.Do(req)
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
			s, c := sandboxtest.Setup(b, sandbox.Config{Seed: 1, Limits: sandbox.Limits{APIQPS: -1, APIQPSByMethod: map[string]int{m: -1}, UserQPSByMethod: map[string]int{m: -1}, TestUserDailyCalls: -1, AppDailyCallsTest: -1}})
			tok := c.Authorize(1).AccessToken
			p := map[string]any{"beginTime": s.Now().Add(-7 * 24 * time.Hour).UnixMilli(), "endTime": s.Now().UnixMilli(), "pageSize": 50}
			for b.Loop() {
				if r := c.Call(tok, m, p); r.Result != 1 {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}

func TestRules_Scopes(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Scopes: []string{"merchant_user", "merchant_order", "merchant_item"}})
	// The app does not hold merchant_refund: no code, no consent.
	if st := c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1, "scopes": []string{"merchant_refund"}}, nil); st != http.StatusBadRequest {
		t.Fatalf("code for a scope the app lacks: %d", st)
	}
	full := c.Authorize(1) // every scope the app holds
	if strings.Join(full.Scopes, ",") != "merchant_user,merchant_order,merchant_item" {
		t.Fatalf("granted scopes: %v", full.Scopes)
	}
	r := c.Call(full.AccessToken, "open.seller.order.refund.detail", map[string]any{"refundId": 1})
	if r.Result != platform.ResultNoPermission || !strings.Contains(r.ErrorMsg, "token中无scope权限") || !strings.Contains(r.ErrorMsg, "merchant_refund") {
		t.Fatalf("refund API without merchant_refund: %+v", r)
	}
	// The user confirmed only merchant_item on consent.
	itemOnly := c.Authorize(1, "merchant_item").AccessToken
	for _, m := range []string{"open.order.cursor.list", "open.seller.order.goods.deliver", "open.shop.info.get", "open.address.seller.list"} {
		if r := c.Call(itemOnly, m, nil); r.Result != platform.ResultNoPermission || !strings.HasPrefix(r.ErrorMsg, "token中无scope权限") {
			t.Errorf("%s: %+v", m, r)
		}
	}
	c.MustCall(itemOnly, "open.item.list.get", nil, nil)
}
