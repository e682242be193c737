// Package oauth is the client of the platform's OAuth endpoints: code
// exchange, refresh and client_credentials, plus the merchant consent URL.
// The token endpoints are sent through the same platform.Sender as API
// calls (one attempt loop, span per attempt, capped reads, one error
// mapping), with plain parameters instead of a signature.
//
// Errors are *platform.Error, classified by the same code table as API
// calls. Neither Exchange (single-use code) nor Refresh (single-use refresh
// token: every refresh issues a new one and discards the old) is ever
// retried; ClientCredentials is retried like a platform GET.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/internal/wire"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// DefaultAuthorizeURL is the merchant consent page.
const DefaultAuthorizeURL = "https://open.kwaixiaodian.com/oauth/authorize"

// Endpoint names, as recorded in errors (Error.Method) and span names.
const (
	MethodAccessToken  = "oauth2.access_token"
	MethodRefreshToken = "oauth2.refresh_token"
)

// Grant types.
const (
	GrantCode              = "code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Config configures a Client.
type Config struct {
	BaseURL          string               // API gateway, e.g. https://openapi.kwaixiaodian.com (required)
	AppKey           string               // app_id (required)
	AppSecret        string               // app_secret (required); never logged
	HTTPClient       *http.Client         // its Transport and Timeout are used; default: a tuned client
	MaxResponseBytes int64                // default 8 MiB
	Tracer           trace.TracerProvider // default otel.GetTracerProvider()
	Now              func() time.Time     // clock for Expiry; default time.Now
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("oauth: BaseURL is required"))
	} else if _, err := parseHTTPURL("BaseURL", c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.AppKey == "" {
		errs = append(errs, errors.New("oauth: AppKey is required"))
	}
	if c.AppSecret == "" {
		errs = append(errs, errors.New("oauth: AppSecret is required"))
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("oauth: MaxResponseBytes must not be negative"))
	}
	return errors.Join(errs...)
}

// String describes c without its secret.
func (c Config) String() string {
	return fmt.Sprintf("oauth.Config{BaseURL:%q AppKey:%q AppSecret:%s}", c.BaseURL, c.AppKey, secret.Mask(c.AppSecret))
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("app_key", c.AppKey),
		slog.String("app_secret", secret.Mask(c.AppSecret)))
}

func parseHTTPURL(field, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", field, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oauth: %s %q: want http(s)://host", field, s)
	}
	return u, nil
}

// Token is an OAuth token set. Its String, GoString and LogValue never show
// the access or refresh token.
type Token struct {
	AccessToken   string
	RefreshToken  string // empty for client_credentials
	OpenID        string // the merchant; empty for client_credentials
	Scopes        []string
	TokenType     string
	Expiry        time.Time // receipt time + expires_in; zero if not sent
	RefreshExpiry time.Time // receipt time + refresh_token_expires_in; zero if not sent
}

// String describes t without its tokens.
func (t Token) String() string {
	return fmt.Sprintf("oauth.Token{OpenID:%q Scopes:%q TokenType:%q Expiry:%s RefreshExpiry:%s AccessToken:%s RefreshToken:%s}",
		t.OpenID, t.Scopes, t.TokenType, fmtTime(t.Expiry), fmtTime(t.RefreshExpiry),
		secret.Mask(t.AccessToken), secret.Mask(t.RefreshToken))
}

// GoString is String, so %#v does not print the tokens either.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the tokens.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("open_id", t.OpenID),
		slog.Any("scopes", t.Scopes),
		slog.String("token_type", t.TokenType),
		slog.Time("expiry", t.Expiry),
		slog.Time("refresh_expiry", t.RefreshExpiry),
		slog.String("access_token", secret.Mask(t.AccessToken)),
		slog.String("refresh_token", secret.Mask(t.RefreshToken)),
	)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Client calls the OAuth token endpoints. It is safe for concurrent use.
type Client struct {
	sender     *platform.Sender
	accessURL  *url.URL
	refreshURL *url.URL
	appKey     string
	appSecret  string
	now        func() time.Time
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := parseHTTPURL("BaseURL", strings.TrimRight(cfg.BaseURL, "/"))
	base.RawQuery, base.Fragment = "", ""
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	endpoint := func(p string) *url.URL { u := *base; u.Path = base.Path + p; return &u }
	return &Client{
		sender:     platform.NewSender(platform.SenderConfig{HTTPClient: cfg.HTTPClient, MaxResponseBytes: cfg.MaxResponseBytes, Tracer: cfg.Tracer}),
		accessURL:  endpoint("/oauth2/access_token"),
		refreshURL: endpoint("/oauth2/refresh_token"),
		appKey:     cfg.AppKey,
		appSecret:  cfg.AppSecret,
		now:        cfg.Now,
	}, nil
}

// grant is one token request.
type grant struct {
	name   string // MethodAccessToken or MethodRefreshToken
	grant  string
	verb   string
	url    *url.URL
	params url.Values
	retry  bool // idempotent: may be retried
}

// Exchange trades an authorization code for the merchant's tokens
// (GET /oauth2/access_token, grant_type=code). The code is single-use, so
// Exchange is never retried.
func (c *Client) Exchange(ctx context.Context, code string) (*Token, error) {
	if code == "" {
		return nil, invalid(MethodAccessToken, "empty authorization code")
	}
	return c.do(ctx, &grant{name: MethodAccessToken, grant: GrantCode, verb: http.MethodGet, url: c.accessURL,
		params: url.Values{"app_id": {c.appKey}, "app_secret": {c.appSecret}, "grant_type": {GrantCode}, "code": {code}}})
}

// Refresh trades a refresh token for a new token pair (POST
// /oauth2/refresh_token). The refresh token is single-use: Refresh is never
// retried, and a failure with MayHaveApplied set means the old refresh token
// may already be spent (see IsDiscarded).
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, invalid(MethodRefreshToken, "empty refresh token")
	}
	return c.do(ctx, &grant{name: MethodRefreshToken, grant: GrantRefreshToken, verb: http.MethodPost, url: c.refreshURL,
		params: url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {refreshToken}, "app_id": {c.appKey}, "app_secret": {c.appSecret}}})
}

// ClientCredentials obtains an app-level token (GET /oauth2/access_token,
// grant_type=client_credentials). It is retried like a platform GET.
func (c *Client) ClientCredentials(ctx context.Context) (*Token, error) {
	return c.do(ctx, &grant{name: MethodAccessToken, grant: GrantClientCredentials, verb: http.MethodGet, url: c.accessURL,
		params: url.Values{"app_id": {c.appKey}, "app_secret": {c.appSecret}, "grant_type": {GrantClientCredentials}}, retry: true})
}

func invalid(method, msg string) error {
	return &platform.Error{Method: method, Class: platform.ClassInvalidArgument, Msg: msg, Err: platform.ErrInvalidRequest}
}

// do sends g through the platform's Sender (the same attempt loop, spans,
// transport-error mapping and capped reads as API calls) and decodes the
// token of the successful attempt.
func (c *Client) do(ctx context.Context, g *grant) (*Token, error) {
	var tok *Token
	_, err := c.sender.Do(ctx, &platform.Outgoing{
		Name:       g.name,
		HTTPMethod: g.verb,
		URL:        g.url,
		Params:     g.params.Encode(),
		Idempotent: g.retry,
		Once:       !g.retry,
		Attributes: []attribute.KeyValue{wire.AttrGrantType.String(g.grant)},
	}, func(status int, body []byte, name string) (*platform.Response, error) {
		t, resp, err := c.checkToken(status, body, name)
		tok = t
		return resp, err
	})
	if err != nil {
		// No merchant takes part in client_credentials: unauthorized_client
		// (100200101) there is the app's own credentials or status, not a
		// merchant's service-market order.
		var pe *platform.Error
		if g.grant == GrantClientCredentials && errors.As(err, &pe) && pe.Class == platform.ClassSubscription {
			pe.Class = platform.ClassAuth
		}
		return nil, err
	}
	return tok, nil
}

// tokenBody is a token endpoint response. Error bodies carry result,
// error and error_msg instead.
type tokenBody struct {
	Result                wire.Int64 `json:"result"`
	AccessToken           string     `json:"access_token"`
	RefreshToken          string     `json:"refresh_token"`
	OpenID                string     `json:"open_id"`
	OpenIDCamel           string     `json:"openId"`
	ExpiresIn             wire.Int64 `json:"expires_in"`
	RefreshTokenExpiresIn wire.Int64 `json:"refresh_token_expires_in"`
	Scopes                scopeList  `json:"scopes"`
	TokenType             string     `json:"token_type"`
}

// scopeList accepts a JSON array of strings or one comma-separated string.
type scopeList []string

func (s *scopeList) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = nil
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				*s = append(*s, p)
			}
		}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = v
	return nil
}

// checkToken decodes a token endpoint answer: the token, with a Response
// of result 1 for the span, or the *platform.Error of CheckResponse (a body
// without an access token is an upstream failure).
func (c *Client) checkToken(status int, body []byte, name string) (*Token, *platform.Response, error) {
	received := c.now()
	var tb tokenBody
	if status < 500 && json.Unmarshal(body, &tb) == nil &&
		(!tb.Result.Set || tb.Result.V == platform.ResultSuccess) && tb.AccessToken != "" {
		t := &Token{
			AccessToken:  tb.AccessToken,
			RefreshToken: tb.RefreshToken,
			OpenID:       tb.OpenID,
			Scopes:       []string(tb.Scopes),
			TokenType:    tb.TokenType,
		}
		if t.OpenID == "" {
			t.OpenID = tb.OpenIDCamel
		}
		if tb.ExpiresIn.V > 0 {
			t.Expiry = received.Add(time.Duration(tb.ExpiresIn.V) * time.Second)
		}
		if tb.RefreshTokenExpiresIn.V > 0 {
			t.RefreshExpiry = received.Add(time.Duration(tb.RefreshTokenExpiresIn.V) * time.Second)
		}
		return t, &platform.Response{Result: platform.ResultSuccess, HTTPStatus: status}, nil
	}
	resp, err := platform.CheckResponse(status, body, name)
	if err == nil {
		err = &platform.Error{Method: name, Class: platform.ClassUpstream, HTTPStatus: status,
			Msg: "token response has no access_token"}
	}
	return nil, resp, err
}

// IsDiscarded reports whether err says the refresh token was already used
// (access_denied, refreshToken.discarded): another refresh won the race,
// so re-read the stored token pair instead of failing the merchant.
func IsDiscarded(err error) bool {
	var e *platform.Error
	return errors.As(err, &e) && e.Result == platform.ResultOAuthDenied &&
		strings.Contains(e.Msg, platform.MsgRefreshDiscarded)
}

// IsRevoked reports whether err says the merchant's authorization is gone:
// access_denied with refreshToken.revokedAuthorization on refresh, or
// result 24 AUTHORIZATION_REVOKED on an API call (both ClassRevoked).
func IsRevoked(err error) bool { return platform.IsClass(err, platform.ClassRevoked) }

// AuthorizeURL builds the merchant consent URL: base (e.g.
// DefaultAuthorizeURL) with app_id, redirect_uri, scope (comma-joined),
// response_type=code and state (when not empty), all query-encoded. Query
// parameters already on base are kept unless overridden.
func AuthorizeURL(base, appKey, redirectURI string, scopes []string, state string) (string, error) {
	var errs []error
	u, err := parseHTTPURL("authorize URL", base)
	if err != nil {
		errs = append(errs, err)
	}
	if appKey == "" {
		errs = append(errs, errors.New("oauth: app key is required"))
	}
	if _, err := parseHTTPURL("redirect URI", redirectURI); err != nil {
		errs = append(errs, err)
	}
	if len(scopes) == 0 {
		errs = append(errs, errors.New("oauth: at least one scope is required"))
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, ", ") {
			errs = append(errs, fmt.Errorf("oauth: invalid scope %q", s))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("app_id", appKey)
	q.Set("redirect_uri", redirectURI)
	q.Set("scope", strings.Join(scopes, ","))
	q.Set("response_type", "code")
	if state != "" {
		q.Set("state", state)
	} else {
		q.Del("state")
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}
