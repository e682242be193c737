package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// Direct is the physical limit: the smallest correct client of the platform
// (or the sandbox). It signs each call (HMAC_SHA256, fresh timestamp), sends
// it with a shop's own access token, and reads the envelope's result. No
// token management, no retries, no telemetry.
type Direct struct {
	BaseURL     string // e.g. http://127.0.0.1:8090
	AppKey      string
	SignSecret  string
	AccessToken string
	HTTP        *http.Client
}

// Call sends one GET call of method with the JSON object param and returns
// an error unless the platform answered result 1.
func (d *Direct) Call(ctx context.Context, method string, param []byte) error {
	v := url.Values{
		sign.KeyAppKey:      {d.AppKey},
		sign.KeyMethod:      {method},
		sign.KeyParam:       {string(param)},
		sign.KeyVersion:     {"1"},
		sign.KeyAccessToken: {d.AccessToken},
		sign.KeyTimestamp:   {strconv.FormatInt(time.Now().UnixMilli(), 10)},
		sign.KeySignMethod:  {string(sign.HMACSHA256)},
	}
	s, err := sign.Sign(sign.HMACSHA256, func(k string) (string, bool) {
		vs, ok := v[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}, d.SignSecret)
	if err != nil {
		return err
	}
	v.Set(sign.KeySign, s)
	u := d.BaseURL + "/" + strings.ReplaceAll(method, ".", "/") + "?" + v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("bench: direct %s: %w", method, stripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("bench: direct %s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: direct %s: http %d", method, resp.StatusCode)
	}
	var env struct {
		Result   int64  `json:"result"`
		ErrorMsg string `json:"error_msg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("bench: direct %s: %w", method, err)
	}
	if env.Result != 1 {
		return fmt.Errorf("bench: direct %s: result %d %s", method, env.Result, env.ErrorMsg)
	}
	return nil
}

// stripURL drops the request URL (it carries the access token) from a
// client error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Admin talks to the sandbox's admin API and token endpoint.
type Admin struct {
	BaseURL string
	HTTP    *http.Client
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (a *Admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("bench: sandbox %s %s: %w", method, path, stripURL(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bench: sandbox %s %s: http %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("bench: sandbox %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Unlimited lifts every sandbox limit that a benchmark would hit: the daily
// quotas, the per-API QPS (app and per user) of the benchmarked APIs.
func (a *Admin) Unlimited(ctx context.Context, methods ...string) error {
	byMethod := map[string]int{}
	for _, m := range methods {
		byMethod[m] = -1
	}
	return a.do(ctx, http.MethodPost, "/sandbox/v1/limits", map[string]any{
		"testUserDailyCalls": -1, "appDailyCallsTest": -1, "appDailyCallsOnline": -1, "apiQps": -1,
		"apiQpsByMethod": byMethod, "userQpsByMethod": byMethod,
	}, nil)
}

// Code issues an authorization code for a test user (all the app's scopes).
func (a *Admin) Code(ctx context.Context, testUser int) (string, error) {
	var out struct {
		Code string `json:"code"`
	}
	if err := a.do(ctx, http.MethodPost, "/sandbox/v1/codes", map[string]any{"testUser": testUser}, &out); err != nil {
		return "", err
	}
	if out.Code == "" {
		return "", errors.New("bench: sandbox issued an empty code")
	}
	return out.Code, nil
}

// TestUser is a sandbox test user.
type TestUser struct {
	ID       int    `json:"id"`
	OpenID   string `json:"openId"`
	SellerID int64  `json:"sellerId"`
}

// TestUsers lists the sandbox's test users.
func (a *Admin) TestUsers(ctx context.Context) ([]TestUser, error) {
	var out struct {
		TestUsers []TestUser `json:"testUsers"`
	}
	err := a.do(ctx, http.MethodGet, "/sandbox/v1/test-users", nil, &out)
	return out.TestUsers, err
}

// Scopes are the app's scopes (all of them are granted by Code).
func (a *Admin) Scopes(ctx context.Context) ([]string, error) {
	var out struct {
		Scopes []string `json:"scopes"`
	}
	err := a.do(ctx, http.MethodGet, "/sandbox/v1/app", nil, &out)
	return out.Scopes, err
}

// Now is the sandbox clock.
func (a *Admin) Now(ctx context.Context) (time.Time, error) {
	var out struct {
		Now int64 `json:"now"`
	}
	if err := a.do(ctx, http.MethodGet, "/sandbox/v1/clock", nil, &out); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(out.Now), nil
}

// Counters returns the sandbox's per-API call counters.
func (a *Admin) Counters(ctx context.Context) (map[string]int64, error) {
	var out struct {
		Calls map[string]int64 `json:"calls"`
	}
	err := a.do(ctx, http.MethodGet, "/sandbox/v1/counters", nil, &out)
	return out.Calls, err
}

// AccessToken exchanges a fresh code of testUser for an access token, as a
// direct client of the platform would (/oauth2/access_token, grant_type=code).
func (a *Admin) AccessToken(ctx context.Context, appKey, appSecret string, testUser int) (string, error) {
	code, err := a.Code(ctx, testUser)
	if err != nil {
		return "", err
	}
	q := url.Values{"app_id": {appKey}, "app_secret": {appSecret}, "grant_type": {"code"}, "code": {code}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.BaseURL+"/oauth2/access_token?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: code exchange: %w", stripURL(err))
	}
	defer resp.Body.Close()
	var out struct {
		Result      int64  `json:"result"`
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("bench: code exchange: %w", err)
	}
	if out.Result != 1 || out.AccessToken == "" {
		return "", fmt.Errorf("bench: code exchange: result %d %s", out.Result, out.Error)
	}
	return out.AccessToken, nil
}

// EncryptPush encrypts a push body as the platform does (AES-CBC under the
// app's message key), through the gateway's own message.Key (checked against
// the vectors in internal/message/intake/testdata and the sandbox's pusher).
func EncryptPush(b64Key string, plaintext []byte) (string, error) {
	k, err := message.NewKey("", b64Key)
	if err != nil {
		return "", fmt.Errorf("bench: message key: %w", err)
	}
	return k.Encrypt(plaintext), nil
}
