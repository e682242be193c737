// Package platform is the client of the Kuaishou e-commerce open platform
// API (platform-protocol.md sections 1 and 4): the API catalog, the result
// code table, the typed error, and a client that signs, sends, traces and
// checks calls.
//
// A call goes Do → (span → token → sign → base transport) → CheckResponse.
// Every attempt, retries included, passes the whole chain, so each carries a
// fresh token, timestamp and signature.
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
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/internal/wire"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
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
		c.BaseURL, c.AppKey, redacted(c.SignSecret), c.SignMethod, c.MaxResponseBytes)
}

// GoString is String, so %#v does not print the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("app_key", c.AppKey),
		slog.String("sign_secret", redacted(c.SignSecret)),
		slog.String("sign_method", string(c.SignMethod)),
	)
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
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
	callTimeout time.Duration
	gate        Gate
	base        *url.URL
	appKey      string
	hc          *http.Client
	tracer      trace.Tracer
	observe     func(CallInfo)
	maxBody     int64
	maxRetries  int
	backoff     [2]time.Duration // base, cap
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
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = wire.DefaultHTTPClient()
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Tracer == nil {
		cfg.Tracer = otel.GetTracerProvider()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	chain := &tokenTransport{Base: &signTransport{
		Base:   wire.BaseTransport(cfg.HTTPClient),
		Secret: cfg.SignSecret,
		Method: cfg.SignMethod,
		Now:    cfg.Now,
	}}
	return &Client{
		base:   base,
		appKey: cfg.AppKey,
		hc: &http.Client{
			Transport:     chain,
			Timeout:       cfg.HTTPClient.Timeout,
			CheckRedirect: wire.NoRedirect,
		},
		tracer:      cfg.Tracer.Tracer(wire.TracerName),
		observe:     cfg.Observe,
		maxBody:     cfg.MaxResponseBytes,
		maxRetries:  wire.MaxRetries,
		callTimeout: cfg.CallTimeout,
		backoff:     [2]time.Duration{wire.BackoffBase, wire.BackoffCap},
		gate:        cfg.Gate,
	}, nil
}

// call is a validated Request, encoded once and sent per attempt.
type call struct {
	method  string // API name
	verb    string
	openID  string
	url     *url.URL // without query
	encoded string   // appkey, method, param, version; query (GET) or body (POST)
}

func (c *Client) newCall(r *Request) (*call, error) {
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
	case http.MethodGet, http.MethodPost:
	default:
		return nil, bad("http method %q: want GET or POST", truncate(r.HTTPMethod, 16))
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
	v := url.Values{
		sign.KeyAppKey:  {c.appKey},
		sign.KeyMethod:  {r.Method},
		sign.KeyParam:   {string(param)},
		sign.KeyVersion: {strconv.Itoa(version)},
	}
	return &call{method: r.Method, verb: verb, openID: r.OpenID, url: &u, encoded: v.Encode()}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Do sends r and decodes the response.
//
// It returns a *Response and nil on result 1. On result != 1 it returns the
// decoded *Response together with an *Error classified by Classify. Upstream
// failures (transport errors, HTTP 5xx, a body that is not a JSON object or
// exceeds MaxResponseBytes) are *Error with ClassUpstream and Result 0. A
// TokenSource failure is returned wrapped (errors.As finds the source's own
// error); an ended ctx returns ctx.Err() wrapped.
//
// Retries (design decision 6): at most two, with jittered back-off (50 ms
// doubling, 1 s cap) that never outlives ctx's deadline, and only when the
// platform cannot have acted or the call is a read: ClassRateLimit on any
// verb; an HTTP 5xx or a transport error on GET; a dial failure (nothing
// sent) on POST. Every retry passes the whole chain again.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	cl, err := c.newCall(r)
	if err != nil {
		return nil, err
	}
	if c.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	var used *recordingSource
	if r.Token != nil {
		used = &recordingSource{src: r.Token}
		ctx = withTokenSource(ctx, used)
	}
	resp, err := c.attempts(ctx, cl)
	// Reactive refresh: the platform rejected the access token (it acted on
	// nothing), so replace the token once and send the call once more.
	if inv, ok := r.Token.(Invalidator); ok && err != nil && TokenRejected(err) {
		if ierr := inv.Invalidate(ctx, used.last()); ierr != nil {
			// The refresh failed (revoked, refresh token rejected, caller's
			// deadline): that is the more useful error.
			return resp, fmt.Errorf("platform: %s: access token rejected and not replaced: %w", cl.method, ierr)
		}
		resp, err = c.attempts(ctx, cl)
	}
	if rr, ok := r.Token.(RevocationReporter); ok && err != nil && IsClass(err, ClassRevoked) {
		rr.Revoked(ctx)
	}
	return resp, err
}

// RevocationReporter is implemented by token sources that want to know when
// the platform answers that the merchant's authorization is revoked.
type RevocationReporter interface {
	Revoked(ctx context.Context)
}

// Invalidator is implemented by token sources that can replace a token the
// platform rejected (expired or unknown access token).
type Invalidator interface {
	Invalidate(ctx context.Context, rejected string) error
}

// TokenRejected reports whether err is the platform rejecting the access
// token itself (not the app, not a scope, not a revoked authorization).
func TokenRejected(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Result == ResultTokenInvalid
}

// recordingSource remembers the last token it handed out, so a rejected
// token can be named to the Invalidator.
type recordingSource struct {
	src TokenSource
	mu  sync.Mutex
	tok string
}

func (r *recordingSource) Token(ctx context.Context) (string, error) {
	t, err := r.src.Token(ctx)
	if err == nil {
		r.mu.Lock()
		r.tok = t
		r.mu.Unlock()
	}
	return t, err
}

func (r *recordingSource) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok
}

// attempts runs the attempt loop with the retry policy.
func (c *Client) attempts(ctx context.Context, cl *call) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, retry, err := c.attempt(ctx, cl, attempt)
		if err == nil || !retry || attempt >= c.maxRetries {
			return resp, err
		}
		if !wire.Sleep(ctx, wire.Backoff(attempt, c.backoff[0], c.backoff[1])) {
			return resp, err
		}
	}
}

// attempt sends one attempt inside its own client span.
func (c *Client) attempt(ctx context.Context, cl *call, attempt int) (resp *Response, retry bool, err error) {
	if c.gate != nil {
		done, gerr := c.gate.Admit(ctx, Attempt{Method: cl.method, OpenID: cl.openID, Write: cl.verb != http.MethodGet, N: attempt})
		if gerr != nil {
			return nil, false, fmt.Errorf("platform: %s: %w", cl.method, gerr)
		}
		sent := time.Now()
		defer func() { done(Outcome{Err: err, Duration: max(time.Since(sent), 1)}) }()
	}
	start := time.Now()
	h := make(http.Header, 4)
	var extra []attribute.KeyValue
	if cl.openID != "" {
		extra = append(extra, attribute.String("kwaishop.open_id", cl.openID))
	}
	ctx, span := wire.StartSpan(ctx, c.tracer, cl.method, cl.verb, cl.url, attempt, h, extra...)

	var req *http.Request
	if cl.verb == http.MethodGet {
		u := *cl.url
		u.RawQuery = cl.encoded
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, cl.verb, cl.url.String(), strings.NewReader(cl.encoded))
		h.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	}
	status := 0
	if err == nil {
		h.Set("Accept", "application/json")
		h.Set("User-Agent", "kwaishop-gateway")
		req.Header = h
		var hr *http.Response
		hr, err = c.hc.Do(req)
		if err != nil {
			retry, err = c.transportError(ctx, cl, err)
		} else {
			status = hr.StatusCode
			resp, retry, err = c.readResponse(cl, hr)
		}
	}

	var (
		result    int64
		class     Class
		requestID string
		className string
		desc      string
	)
	if resp != nil {
		result, requestID = resp.Result, resp.RequestID
	}
	if err != nil {
		var pe *Error
		var te *tokenError
		switch {
		case errors.As(err, &pe):
			class, className, desc = pe.Class, pe.Class.String(), pe.Error()
			if requestID == "" {
				requestID = pe.RequestID
			}
		case errors.As(err, &te):
			className, desc = "token", "token source failed"
		default:
			className, desc = "canceled", err.Error()
		}
	}
	wire.EndSpan(span, status, result, className, requestID, err != nil, desc)
	if c.observe != nil {
		c.observe(CallInfo{Method: cl.method, OpenID: cl.openID, Duration: time.Since(start),
			Result: result, Class: class, HTTPStatus: status, Err: err})
	}
	return resp, retry, err
}

// transportError turns an error of http.Client.Do into the error Do returns
// and says whether a retry is allowed.
func (c *Client) transportError(ctx context.Context, cl *call, err error) (retry bool, _ error) {
	var te *tokenError
	if errors.As(err, &te) {
		return false, fmt.Errorf("platform: %s: %w", cl.method, te)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, fmt.Errorf("platform: %s: %w", cl.method, ctxErr)
	}
	notSent := wire.NotSent(err)
	isGet := cl.verb == http.MethodGet
	return isGet || notSent, &Error{
		Method:         cl.method,
		Class:          ClassUpstream,
		Err:            wire.RedactError(err),
		MayHaveApplied: !isGet && !notSent,
	}
}

// readResponse reads the capped body, closes it and checks it.
func (c *Client) readResponse(cl *call, hr *http.Response) (*Response, bool, error) {
	body, err := wire.ReadCapped(hr.Body, hr.ContentLength, c.maxBody)
	hr.Body.Close()
	isGet := cl.verb == http.MethodGet
	if err != nil {
		e := &Error{Method: cl.method, Class: ClassUpstream, HTTPStatus: hr.StatusCode, MayHaveApplied: !isGet}
		if errors.Is(err, wire.ErrTooLarge) {
			e.Msg = "response body exceeds " + strconv.FormatInt(c.maxBody, 10) + " bytes"
			e.Err = ErrResponseTooLarge
			return nil, false, e
		}
		e.Msg = "reading response body"
		e.Err = wire.RedactError(err)
		return nil, isGet, e
	}
	resp, err := CheckResponse(hr.StatusCode, body, cl.method)
	if err == nil {
		return resp, false, nil
	}
	e := err.(*Error)
	if e.Class == ClassUpstream && !isGet {
		e.MayHaveApplied = true
	}
	retry := e.Class == ClassRateLimit || (isGet && hr.StatusCode >= 500)
	return resp, retry, e
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
