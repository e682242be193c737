// Package platform is the client of the Kuaishou e-commerce open platform
// API: the API catalog, the result code table, the typed error, and a
// client that signs, sends, traces and checks calls.
//
// One call, in the order the code runs it:
//
//	Client.Do → newRequest (validate, encode the common parameters once)
//	  → Sender.Do (the attempt loop and retry policy)
//	    → attempt (gate, span, Observe)
//	      → token → params (token, timestamp, signature; encoded once)
//	      → send (one HTTP request) → CheckResponse
//
// Every attempt, retries included, carries a fresh token, timestamp and
// signature. The token source is part of the Request, never of the
// context. The OAuth token endpoints (package oauth) go through the same
// Sender.Do with plain parameters.
package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/internal/wire"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// DefaultBaseURL is the production API gateway.
const DefaultBaseURL = "https://openapi.kwaixiaodian.com"

// DefaultMaxResponseBytes caps a response body unless configured otherwise.
const DefaultMaxResponseBytes = wire.DefaultMaxResponseBytes

// Config configures a Client. The zero values of the optional fields select
// the documented defaults.
type Config struct {
	BaseURL          string               // e.g. https://openapi.kwaixiaodian.com (required)
	AppKey           string               // required
	SignSecret       string               // required; never logged
	SignMethod       sign.Method          // default HMAC_SHA256
	HTTPClient       *http.Client         // its Transport and Timeout are used; default: a tuned client (256 idle conns per host)
	MaxResponseBytes int64                // default 8 MiB
	Tracer           trace.TracerProvider // default otel.GetTracerProvider()
	Now              func() time.Time     // clock for the timestamp parameter; default time.Now
	Observe          func(CallInfo)       // optional; called after every upstream attempt
	CallTimeout      time.Duration        // deadline of one Do (all attempts) unless ctx has an earlier one; default 10s
	Gate             Gate                 // optional; admits every attempt (limits, breakers), see gate.go
	MaxFileBytes     int64                // the most bytes of files one call may carry (uploads); default DefaultMaxFileBytes
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("platform: BaseURL is required"))
	} else if _, err := parseBaseURL(c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.AppKey == "" {
		errs = append(errs, errors.New("platform: AppKey is required"))
	}
	if c.SignSecret == "" {
		errs = append(errs, errors.New("platform: SignSecret is required"))
	}
	if c.SignMethod != "" {
		if _, err := sign.ParseMethod(string(c.SignMethod)); err != nil {
			errs = append(errs, fmt.Errorf("platform: SignMethod: %w", err))
		}
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("platform: MaxResponseBytes must not be negative"))
	}
	if c.MaxFileBytes < 0 {
		errs = append(errs, errors.New("platform: MaxFileBytes must not be negative"))
	}
	return errors.Join(errs...)
}

func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("platform: BaseURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("platform: BaseURL %q: want http(s)://host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("platform: BaseURL %q: must not have a query, fragment or user info", s)
	}
	return u, nil
}

// String describes c without its secret.
func (c Config) String() string {
	return fmt.Sprintf("platform.Config{BaseURL:%q AppKey:%q SignSecret:%s SignMethod:%s MaxResponseBytes:%d}",
		c.BaseURL, c.AppKey, secret.Mask(c.SignSecret), c.SignMethod, c.MaxResponseBytes)
}

// GoString is String, so %#v does not print the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("app_key", c.AppKey),
		slog.String("sign_secret", secret.Mask(c.SignSecret)),
		slog.String("sign_method", string(c.SignMethod)),
	)
}

// CallInfo describes one upstream attempt, for metrics and statistics.
type CallInfo struct {
	Method     string // platform API name
	OpenID     string // Request.OpenID
	Duration   time.Duration
	Result     int64 // platform result; 0 if none
	Class      Class // ClassUnknown on success
	HTTPStatus int   // 0 if no response
	Err        error // nil on success
}

// Request is one platform API call.
type Request struct {
	Method     string          // API name, e.g. open.order.detail (required)
	Version    int             // default 1
	Param      json.RawMessage // business parameters, a JSON object; nil or empty → {}
	HTTPMethod string          // GET or POST; default HTTPMethodFor(Method)
	OpenID     string          // the merchant, for tracing and Observe only
	Token      TokenSource     // nil sends no access_token (tests, token-less calls)
	// Files make the call an upload: a multipart/form-data POST with the
	// parameters as form fields and each file as a part (upload.go). They
	// must pass CheckFiles.
	Files []File
}

// Response is a decoded platform response envelope.
type Response struct {
	Result     int64
	ErrorMsg   string
	Code       string
	Msg        string
	SubCode    string
	SubMsg     string
	RequestID  string
	Data       json.RawMessage // the data member, raw (numbers keep full precision)
	Raw        json.RawMessage // the whole body
	HTTPStatus int
}

// Client calls the platform API. It is safe for concurrent use.
type Client struct {
	sender      *Sender
	base        *url.URL
	appKey      string
	callTimeout time.Duration
	maxFiles    int64 // bytes of files per call
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := parseBaseURL(cfg.BaseURL)
	if cfg.SignMethod == "" {
		cfg.SignMethod = sign.HMACSHA256
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sg, err := sign.NewSigner(cfg.SignMethod, cfg.SignSecret)
	if err != nil {
		return nil, err // validated above
	}
	s := NewSender(SenderConfig{HTTPClient: cfg.HTTPClient, MaxResponseBytes: cfg.MaxResponseBytes, Tracer: cfg.Tracer})
	s.signer = &signer{sign: sg, now: cfg.Now}
	s.gate, s.observe = cfg.Gate, cfg.Observe
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	return &Client{sender: s, base: base, appKey: cfg.AppKey, callTimeout: cfg.CallTimeout, maxFiles: cfg.MaxFileBytes}, nil
}

// Do sends r and decodes the response: newRequest builds the call once,
// the Sender sends it (Sender.Do: token, signature, retries) and
// CheckResponse decodes each answer.
//
// It returns a *Response and nil on result 1. On result != 1 it returns the
// decoded *Response together with an *Error classified by Classify. Upstream
// failures (transport errors, HTTP 5xx, a body that is not a JSON object or
// exceeds MaxResponseBytes) are *Error with ClassUpstream and Result 0. A
// TokenSource failure is returned wrapped (errors.As finds the source's own
// error); an ended ctx returns ctx.Err() wrapped. GET calls are idempotent
// for the retry policy of Sender.Do; POST calls are not.
//
// When the platform rejects the access token and r.Token is an
// Invalidator, the token is replaced once and the call sent once more; when
// it answers that the authorization is revoked and r.Token is a
// RevocationReporter, the source is told; when it answers that the token
// lacks the API's scope and r.Token is a PermissionExplainer, the error
// returned is the source's (wrapping the platform's).
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	out, err := c.newRequest(r)
	if err != nil {
		return nil, err
	}
	if c.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	resp, err := c.sender.Do(ctx, out, CheckResponse)
	// Reactive refresh: the platform rejected the access token (it acted on
	// nothing), so replace the token once and send the call once more.
	if inv, ok := r.Token.(Invalidator); ok && err != nil && TokenRejected(err) {
		if ierr := inv.Invalidate(ctx, out.sent); ierr != nil {
			// The refresh failed (revoked, refresh token rejected, caller's
			// deadline): that is the more useful error.
			return resp, fmt.Errorf("platform: %s: access token rejected and not replaced: %w", out.Name, ierr)
		}
		resp, err = c.sender.Do(ctx, out, CheckResponse)
	}
	if rr, ok := r.Token.(RevocationReporter); ok && err != nil && IsClass(err, ClassRevoked) {
		rr.Revoked(ctx)
	}
	var pe *Error
	if px, ok := r.Token.(PermissionExplainer); ok && errors.As(err, &pe) && pe.Result == ResultNoPermission {
		err = px.ExplainPermission(ctx, pe)
	}
	return resp, err
}

// newRequest validates r and builds the call: URL, verb, and the common
// parameters (appkey, method, param, version) encoded once for all attempts.
func (c *Client) newRequest(r *Request) (*Outgoing, error) {
	bad := func(format string, args ...any) error {
		return &Error{Method: r.Method, Class: ClassInvalidArgument, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidRequest}
	}
	if !ValidMethodName(r.Method) {
		return nil, bad("invalid api name %q", truncate(r.Method, MaxMethodNameLen))
	}
	verb := strings.ToUpper(r.HTTPMethod)
	switch verb {
	case "":
		verb = HTTPMethodFor(r.Method)
		if len(r.Files) > 0 {
			verb = http.MethodPost // an upload is a multipart POST
		}
	case http.MethodGet, http.MethodPost:
	default:
		return nil, bad("http method %q: want GET or POST", truncate(r.HTTPMethod, 16))
	}
	var up *upload
	if len(r.Files) > 0 {
		if verb != http.MethodPost {
			return nil, bad("files are sent with POST, not %s", verb)
		}
		if err := CheckFiles(r.Files, c.maxFiles); err != nil {
			return nil, &Error{Method: r.Method, Class: ClassInvalidArgument, Msg: err.Error(), Err: err}
		}
		up = newUpload(r.Files)
	}
	version := r.Version
	if version == 0 {
		version = 1
	} else if version < 0 {
		return nil, bad("version %d: must be positive", version)
	}
	param := bytes.TrimSpace(r.Param)
	if len(param) == 0 {
		param = []byte("{}")
	} else if param[0] != '{' || !json.Valid(param) {
		return nil, bad("param must be a JSON object")
	}
	u := *c.base
	u.Path = c.base.Path + "/" + strings.ReplaceAll(r.Method, ".", "/")
	p := &signed{appKey: c.appKey, method: r.Method, param: string(param), version: strconv.Itoa(version)}
	out := &Outgoing{
		Name:       r.Method,
		HTTPMethod: verb,
		URL:        &u,
		Params:     p.encodeCommon(),
		Idempotent: verb == http.MethodGet,
		openID:     r.OpenID,
		token:      r.Token,
		signed:     p,
		upload:     up,
	}
	if r.OpenID != "" {
		out.Attributes = []attribute.KeyValue{attribute.String("kwaishop.open_id", r.OpenID)}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// envelope is the platform's response envelope, tolerant of numbers sent as
// strings and codes sent as numbers.
type envelope struct {
	Result         wire.Int64      `json:"result"`
	ErrorMsg       wire.String     `json:"error_msg"`
	Error          wire.String     `json:"error"` // OAuth error name
	Code           wire.String     `json:"code"`
	Msg            wire.String     `json:"msg"`
	SubCode        wire.String     `json:"sub_code"`
	SubMsg         wire.String     `json:"sub_msg"`
	RequestID      wire.String     `json:"requestId"`
	RequestIDSnake wire.String     `json:"request_id"`
	Data           json.RawMessage `json:"data"`
}

// CheckResponse decodes a platform response body. method is the API name
// recorded in errors.
//
//   - HTTP 5xx: *Error, ClassUpstream, Result 0 (and no Response).
//   - A body that is not a JSON object: *Error, ClassUpstream, Result 0.
//   - No result member: *Error, ClassRateLimit on HTTP 429, else ClassUpstream.
//   - result != 1: the Response and an *Error with Classify(result, msg).
//   - result == 1: the Response and nil, whatever the 2xx–4xx status.
//
// result may be a JSON number or a string; requestId is preferred to
// request_id. The body is kept as Raw and data as Data, both unparsed.
func CheckResponse(httpStatus int, body []byte, method string) (*Response, error) {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if jsonErr == nil && (len(body) == 0 || bytes.TrimSpace(body)[0] != '{') {
		jsonErr = errors.New("not an object") // "null"
	}
	requestID := string(env.RequestID)
	if requestID == "" {
		requestID = string(env.RequestIDSnake)
	}
	if httpStatus >= 500 {
		return nil, &Error{Method: method, Class: ClassUpstream, HTTPStatus: httpStatus,
			Msg: http.StatusText(httpStatus), RequestID: requestID}
	}
	if jsonErr != nil {
		return nil, &Error{Method: method, Class: ClassUpstream, HTTPStatus: httpStatus,
			Msg: "response body is not a JSON object"}
	}
	if !env.Result.Set {
		class := ClassUpstream
		if httpStatus == http.StatusTooManyRequests {
			class = ClassRateLimit
		}
		return nil, &Error{Method: method, Class: class, HTTPStatus: httpStatus,
			Msg: "response has no result", RequestID: requestID}
	}
	code := string(env.Code)
	if code == "" {
		code = string(env.Error)
	}
	resp := &Response{
		Result:     env.Result.V,
		ErrorMsg:   string(env.ErrorMsg),
		Code:       code,
		Msg:        string(env.Msg),
		SubCode:    string(env.SubCode),
		SubMsg:     string(env.SubMsg),
		RequestID:  requestID,
		Data:       env.Data,
		Raw:        body,
		HTTPStatus: httpStatus,
	}
	if resp.Result == ResultSuccess {
		return resp, nil
	}
	msg := resp.ErrorMsg
	if msg == "" {
		msg = resp.Msg
	}
	if msg == "" {
		msg = CodeMessage(resp.Result)
	}
	return resp, &Error{
		Result:     resp.Result,
		Msg:        msg,
		Code:       code,
		SubCode:    resp.SubCode,
		SubMsg:     resp.SubMsg,
		RequestID:  requestID,
		Class:      Classify(resp.Result, msg),
		HTTPStatus: httpStatus,
		Method:     method,
	}
}
