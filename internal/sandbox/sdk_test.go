package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// A tiny outside SDK: it knows only the wire protocol (signed calls and
// OAuth) and talks to the sandbox over real HTTP.

var testEpoch = time.Date(2025, 6, 1, 4, 0, 0, 0, time.UTC) // 12:00 Beijing

type sdk struct {
	t          testing.TB
	base       string
	appKey     string
	appSecret  string
	signSecret string
	signMethod sign.Method
	post       bool
	now        func() time.Time // the SDK's clock = the sandbox's base clock: outside SDKs do not follow Advance
	hc         *http.Client
}

type apiResp struct {
	Result    int64           `json:"result"`
	ErrorMsg  string          `json:"error_msg"`
	RequestID string          `json:"requestId"`
	Data      json.RawMessage `json:"data"`
	Raw       map[string]json.RawMessage
}

type tokenResp struct {
	Result                int64    `json:"result"`
	Error                 string   `json:"error"`
	ErrorMsg              string   `json:"error_msg"`
	AccessToken           string   `json:"access_token"`
	RefreshToken          string   `json:"refresh_token"`
	OpenID                string   `json:"open_id"`
	ExpiresIn             int64    `json:"expires_in"`
	RefreshTokenExpiresIn int64    `json:"refresh_token_expires_in"`
	Scopes                []string `json:"scopes"`
	TokenType             string   `json:"token_type"`
}

// setup starts a sandbox on an httptest server with a frozen base clock.
func setup(t testing.TB, cfg Config) (*Sandbox, *sdk) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testEpoch }
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // runs first: stops the pusher before the server
	c := s.Config()
	return s, &sdk{
		t: t, base: ts.URL, appKey: c.AppKey, appSecret: c.AppSecret, signSecret: c.SignSecret,
		signMethod: sign.HMACSHA256, now: cfg.Now, hc: ts.Client(),
	}
}

// params builds the signed public parameters of a call.
func (c *sdk) params(token, method string, param any) map[string]string {
	c.t.Helper()
	var ps string
	switch p := param.(type) {
	case nil:
		ps = "{}"
	case string:
		ps = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			c.t.Fatal(err)
		}
		ps = string(b)
	}
	m := map[string]string{
		sign.KeyAppKey: c.appKey, sign.KeyMethod: method, sign.KeyVersion: "1", sign.KeyParam: ps,
		sign.KeySignMethod: string(c.signMethod), sign.KeyTimestamp: strconv.FormatInt(c.now().UnixMilli(), 10),
	}
	if token != "" {
		m[sign.KeyAccessToken] = token
	}
	c.resign(m)
	return m
}

func (c *sdk) resign(m map[string]string) {
	c.t.Helper()
	delete(m, sign.KeySign)
	sig, err := sign.Sign(sign.Method(m[sign.KeySignMethod]), sign.MapLookup(m), c.signSecret)
	if err != nil {
		c.t.Fatal(err)
	}
	m[sign.KeySign] = sig
}

func (c *sdk) call(token, method string, param any) apiResp {
	c.t.Helper()
	return c.send(method, c.params(token, method, param))
}

// send posts (form body) or gets (query string) the parameters to the
// method's path.
func (c *sdk) send(method string, m map[string]string) apiResp {
	c.t.Helper()
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	u := c.base + "/" + strings.ReplaceAll(method, ".", "/")
	var resp *http.Response
	var err error
	if c.post {
		resp, err = c.hc.PostForm(u, v)
	} else {
		resp, err = c.hc.Get(u + "?" + v.Encode())
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d: %s", method, resp.StatusCode, body)
	}
	var r apiResp
	if err := json.Unmarshal(body, &r); err != nil {
		c.t.Fatalf("%s: %v: %s", method, err, body)
	}
	_ = json.Unmarshal(body, &r.Raw)
	return r
}

// mustCall fails the test unless the call succeeds, and decodes data into out.
func (c *sdk) mustCall(token, method string, param, out any) apiResp {
	c.t.Helper()
	r := c.call(token, method, param)
	if r.Result != 1 {
		c.t.Fatalf("%s: result %d %q", method, r.Result, r.ErrorMsg)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.t.Fatalf("%s: data: %v: %s", method, err, r.Data)
		}
	}
	return r
}

// oauth calls a token endpoint with GET query parameters (or POST form).
func (c *sdk) oauth(path string, post bool, v url.Values) tokenResp {
	c.t.Helper()
	var resp *http.Response
	var err error
	if post {
		resp, err = c.hc.PostForm(c.base+path, v)
	} else {
		resp, err = c.hc.Get(c.base + path + "?" + v.Encode())
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r tokenResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *sdk) exchange(code string) tokenResp {
	c.t.Helper()
	return c.oauth("/oauth2/access_token", false, url.Values{
		"app_id": {c.appKey}, "app_secret": {c.appSecret}, "grant_type": {"code"}, "code": {code},
	})
}

func (c *sdk) refresh(rt string) tokenResp {
	c.t.Helper()
	return c.oauth("/oauth2/refresh_token", true, url.Values{
		"app_id": {c.appKey}, "app_secret": {c.appSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt},
	})
}

// admin sends a JSON admin request and decodes the answer into out.
func (c *sdk) admin(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// authorize runs the browserless code flow for a test user.
func (c *sdk) authorize(user int, scopes ...string) tokenResp {
	c.t.Helper()
	var out struct {
		Code string `json:"code"`
	}
	if st := c.admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": user, "scopes": scopes}, &out); st != 200 {
		c.t.Fatalf("codes: HTTP %d", st)
	}
	tr := c.exchange(out.Code)
	if tr.Result != 1 {
		c.t.Fatalf("exchange: %+v", tr)
	}
	return tr
}
