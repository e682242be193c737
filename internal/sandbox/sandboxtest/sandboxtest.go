// Package sandboxtest is the sandbox's test harness: a sandbox on a real
// HTTP server with a frozen clock, and a tiny outside SDK that knows only
// the platform's wire protocol (signed calls, OAuth, the admin API).
package sandboxtest

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
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Epoch is the frozen base clock of Setup: 12:00 in Beijing.
var Epoch = time.Date(2025, 6, 1, 4, 0, 0, 0, time.UTC)

// SDK talks to one sandbox over real HTTP as an outside SDK would.
type SDK struct {
	Base       string // the sandbox's URL
	AppKey     string
	AppSecret  string
	SignSecret string
	SignMethod sign.Method
	Post       bool             // calls as POST form bodies (default: GET query strings)
	Now        func() time.Time // the SDK's clock = the sandbox's base clock: outside SDKs do not follow Advance
	HC         *http.Client

	t     testing.TB
	seed  int64
	start time.Time
}

// APIResp is the envelope of an API answer.
type APIResp struct {
	Result    int64           `json:"result"`
	ErrorMsg  string          `json:"error_msg"`
	RequestID string          `json:"requestId"`
	Data      json.RawMessage `json:"data"`
	Raw       map[string]json.RawMessage
}

// TokenResp is the answer of a token endpoint.
type TokenResp struct {
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

// Setup starts a sandbox on an httptest server with a frozen base clock
// (Epoch, unless cfg.Now is set) and returns an SDK for its app.
func Setup(t testing.TB, cfg sandbox.Config) (*sandbox.Sandbox, *SDK) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return Epoch }
	}
	s, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // runs first: stops the pusher before the server
	c := s.Config()
	return s, &SDK{
		t: t, Base: ts.URL, AppKey: c.AppKey, AppSecret: c.AppSecret, SignSecret: c.SignSecret,
		SignMethod: sign.HMACSHA256, Now: cfg.Now, HC: ts.Client(),
		seed: c.Seed, start: cfg.Now().Truncate(time.Millisecond),
	}
}

// SeededShop is test user id's shop as the generator made it at Setup (the
// sandbox's own copy may have changed since): the expected data of the read
// APIs. It assumes a frozen base clock.
func (c *SDK) SeededShop(id int) *shop.Shop {
	return shop.New(c.seed, id, c.AppKey, c.start, nil)
}

// Params builds the signed public parameters of a call.
func (c *SDK) Params(token, method string, param any) map[string]string {
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
		sign.KeyAppKey: c.AppKey, sign.KeyMethod: method, sign.KeyVersion: "1", sign.KeyParam: ps,
		sign.KeySignMethod: string(c.SignMethod), sign.KeyTimestamp: strconv.FormatInt(c.Now().UnixMilli(), 10),
	}
	if token != "" {
		m[sign.KeyAccessToken] = token
	}
	c.Resign(m)
	return m
}

// Resign signs m again (after a test changed it).
func (c *SDK) Resign(m map[string]string) {
	c.t.Helper()
	delete(m, sign.KeySign)
	sig, err := sign.Sign(sign.Method(m[sign.KeySignMethod]), sign.MapLookup(m), c.SignSecret)
	if err != nil {
		c.t.Fatal(err)
	}
	m[sign.KeySign] = sig
}

// Call sends a signed call and returns its envelope.
func (c *SDK) Call(token, method string, param any) APIResp {
	c.t.Helper()
	return c.Send(method, c.Params(token, method, param))
}

// Send posts (form body) or gets (query string) the parameters to the
// method's path.
func (c *SDK) Send(method string, m map[string]string) APIResp {
	c.t.Helper()
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	u := c.Base + "/" + strings.ReplaceAll(method, ".", "/")
	var resp *http.Response
	var err error
	if c.Post {
		resp, err = c.HC.PostForm(u, v)
	} else {
		resp, err = c.HC.Get(u + "?" + v.Encode())
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d: %s", method, resp.StatusCode, body)
	}
	var r APIResp
	if err := json.Unmarshal(body, &r); err != nil {
		c.t.Fatalf("%s: %v: %s", method, err, body)
	}
	_ = json.Unmarshal(body, &r.Raw)
	return r
}

// MustCall fails the test unless the call succeeds, and decodes data into out.
func (c *SDK) MustCall(token, method string, param, out any) APIResp {
	c.t.Helper()
	r := c.Call(token, method, param)
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

// OAuth calls a token endpoint with GET query parameters (or POST form).
func (c *SDK) OAuth(path string, post bool, v url.Values) TokenResp {
	c.t.Helper()
	var resp *http.Response
	var err error
	if post {
		resp, err = c.HC.PostForm(c.Base+path, v)
	} else {
		resp, err = c.HC.Get(c.Base + path + "?" + v.Encode())
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r TokenResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

// Exchange trades an authorization code for tokens.
func (c *SDK) Exchange(code string) TokenResp {
	c.t.Helper()
	return c.OAuth("/oauth2/access_token", false, url.Values{
		"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"code"}, "code": {code},
	})
}

// Refresh rotates a refresh token.
func (c *SDK) Refresh(rt string) TokenResp {
	c.t.Helper()
	return c.OAuth("/oauth2/refresh_token", true, url.Values{
		"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt},
	})
}

// Admin sends a JSON admin request and decodes the answer into out.
func (c *SDK) Admin(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.Base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HC.Do(req)
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

// Authorize runs the browserless code flow for a test user.
func (c *SDK) Authorize(user int, scopes ...string) TokenResp {
	c.t.Helper()
	var out struct {
		Code string `json:"code"`
	}
	if st := c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": user, "scopes": scopes}, &out); st != 200 {
		c.t.Fatalf("codes: HTTP %d", st)
	}
	tr := c.Exchange(out.Code)
	if tr.Result != 1 {
		c.t.Fatalf("exchange: %+v", tr)
	}
	return tr
}

// RawCall sends a signed GET and returns the HTTP status, Content-Type and
// body as they came.
func (c *SDK) RawCall(token, method string, param any) (int, string, string, error) {
	c.t.Helper()
	v := url.Values{}
	for k, x := range c.Params(token, method, param) {
		v.Set(k, x)
	}
	resp, err := c.HC.Get(c.Base + "/" + strings.ReplaceAll(method, ".", "/") + "?" + v.Encode())
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b), err
}

// NoRedirect is the SDK's HTTP client without following redirects.
func (c *SDK) NoRedirect() *http.Client {
	hc := *c.HC
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// For returns a copy of the SDK that reports to t (a subtest).
func (c *SDK) For(t testing.TB) *SDK {
	cp := *c
	cp.t = t
	return &cp
}
