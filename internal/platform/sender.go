package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/internal/wire"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// Sender sends upstream calls: the one attempt loop under Client.Do, also
// used by the OAuth token endpoints (package oauth). It is safe for
// concurrent use.
//
// Every attempt, retries included, is admitted by the gate (if any), runs
// in its own client span, gets a fresh access token, timestamp and
// signature (signed API calls only), is sent once and checked, and is
// reported to Observe (if set). Failures are *Error, except a ctx that
// ended, a gate's refusal and a TokenSource failure, which are returned
// wrapped.
type Sender struct {
	hc      *http.Client
	tracer  trace.Tracer
	maxBody int64
	retries int              // after the first attempt
	backoff [2]time.Duration // base, cap

	// Set by New for the signed API; nil on a Sender of NewSender.
	signer  *signer
	gate    Gate
	observe func(CallInfo)
}

// SenderConfig configures a Sender of unsigned endpoints.
type SenderConfig struct {
	HTTPClient       *http.Client         // its Transport and Timeout are used; default: a tuned client
	MaxResponseBytes int64                // default 8 MiB
	Tracer           trace.TracerProvider // default otel.GetTracerProvider()
}

// NewSender returns a Sender for endpoints that take plain parameters (the
// OAuth token endpoints): no access token, no signature, no gate.
func NewSender(cfg SenderConfig) *Sender {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = wire.DefaultHTTPClient()
	}
	tp := cfg.Tracer
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	maxBody := cfg.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}
	return &Sender{
		hc: &http.Client{
			Transport:     wire.BaseTransport(hc),
			Timeout:       hc.Timeout,
			CheckRedirect: wire.NoRedirect,
		},
		tracer:  tp.Tracer(wire.TracerName),
		maxBody: maxBody,
		retries: wire.MaxRetries,
		backoff: [2]time.Duration{wire.BackoffBase, wire.BackoffCap},
	}
}

// Outgoing is one upstream call as a Sender sends it: built once, sent once
// per attempt.
type Outgoing struct {
	Name       string   // API or endpoint name, for errors, spans, Observe and the gate
	HTTPMethod string   // GET sends the parameters in the query, POST as a form body
	URL        *url.URL // without a query
	Params     string   // the URL-encoded parameters common to every attempt
	// Idempotent calls cannot act twice: they are retried after an HTTP 5xx
	// or a transport failure, and their failures never MayHaveApplied.
	Idempotent bool
	// Once calls are never retried, whatever the failure (single-use
	// credentials such as an authorization code or a refresh token).
	Once       bool
	Attributes []attribute.KeyValue // extra span attributes; never a secret

	openID string      // the merchant, for spans, Observe and the gate
	token  TokenSource // asked once per attempt; nil sends no access_token
	signed *signed     // the signed parameters of an API call; nil: unsigned
	upload *upload     // the files of an upload (a multipart POST); nil: none
	sent   string      // the access token of the latest attempt
}

// Check decodes an answer (any HTTP status, the body read within the cap) of
// the call named name. It returns an *Error for every failure, with the
// decoded Response when there is one; CheckResponse is the Check of API
// calls.
type Check func(status int, body []byte, name string) (*Response, error)

// Do sends out until an attempt succeeds, fails for good, or the retries
// are spent. Retries (at most two, jittered back-off of 50 ms doubling up
// to 1 s that never outlives ctx's deadline) are made only when the
// platform cannot have acted or the call is idempotent: a rate limit on any
// call; an HTTP 5xx, a transport error or an unreadable body on an
// idempotent call; a dial failure (nothing sent) on any call. Calls marked
// Once are never retried.
func (s *Sender) Do(ctx context.Context, out *Outgoing, check Check) (*Response, error) {
	for n := 0; ; n++ {
		resp, retry, err := s.attempt(ctx, out, n, check)
		if err == nil || !retry || out.Once || n >= s.retries {
			return resp, err
		}
		if !wire.Sleep(ctx, wire.Backoff(n, s.backoff[0], s.backoff[1])) {
			return resp, err
		}
	}
}

// attempt is attempt number n (0 for the first): admitted by the gate,
// inside its own span, reported to Observe.
func (s *Sender) attempt(ctx context.Context, out *Outgoing, n int, check Check) (resp *Response, retry bool, err error) {
	sent := false
	if s.gate != nil {
		done, gerr := s.gate.Admit(ctx, Attempt{Method: out.Name, OpenID: out.openID, Write: out.HTTPMethod != http.MethodGet, N: n})
		if gerr != nil {
			return nil, false, fmt.Errorf("platform: %s: %w", out.Name, gerr)
		}
		admitted := time.Now()
		defer func() {
			o := Outcome{Err: err}
			if sent {
				o.Duration = max(time.Since(admitted), 1)
			}
			done(o)
		}()
	}
	start := time.Now()
	h := make(http.Header, 4)
	ctx, span := wire.StartSpan(ctx, s.tracer, out.Name, out.HTTPMethod, out.URL, n, h, out.Attributes...)
	status := 0
	tok, err := token(ctx, out)
	tokenFailed := err != nil
	if err == nil {
		sent = true
		resp, status, retry, err = s.send(ctx, out, s.params(out, tok), h, check)
	}
	s.record(span, out, start, resp, status, err, tokenFailed)
	return resp, retry, err
}

// token asks the call's TokenSource for the attempt's access token ("" for
// a call without one) and remembers it for the reactive refresh.
func token(ctx context.Context, out *Outgoing) (string, error) {
	if out.token == nil {
		return "", nil
	}
	tok, err := out.token.Token(ctx)
	if err == nil && tok == "" {
		err = errEmptyToken
	}
	if err != nil {
		return "", fmt.Errorf("platform: %s: token source: %w", out.Name, err)
	}
	out.sent = tok
	return tok, nil
}

// params returns the attempt's parameters, encoded once: the common ones,
// then, on a signed API call, the access token, timestamp, sign method and
// signature, computed over this attempt's own copy of the signed values.
func (s *Sender) params(out *Outgoing, accessToken string) string {
	if out.signed == nil {
		return out.Params
	}
	p := *out.signed
	p.accessToken = accessToken
	return s.signer.signParams(out.Params, &p)
}

const formContentType = "application/x-www-form-urlencoded;charset=UTF-8"

// send puts one attempt on the wire and checks the answer. retry says
// whether the failure allows another attempt.
func (s *Sender) send(ctx context.Context, out *Outgoing, query string, h http.Header, check Check) (resp *Response, status int, retry bool, err error) {
	var req *http.Request
	switch {
	case out.HTTPMethod == http.MethodGet:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, out.URL.String(), nil)
		if err == nil {
			req.URL.RawQuery = query
		}
	case out.upload != nil:
		body, n, berr := out.upload.body(query)
		if req, err = http.NewRequestWithContext(ctx, out.HTTPMethod, out.URL.String(), body); berr != nil {
			err = berr
		}
		if err == nil {
			req.ContentLength = n
		}
		h.Set("Content-Type", out.upload.contentType())
	default:
		req, err = http.NewRequestWithContext(ctx, out.HTTPMethod, out.URL.String(), strings.NewReader(query))
		h.Set("Content-Type", formContentType)
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("platform: %s: %w", out.Name, err)
	}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "kwaishop-gateway")
	req.Header = h
	hr, err := s.hc.Do(req)
	if err != nil {
		retry, err = transportError(ctx, out, err)
		return nil, 0, retry, err
	}
	body, err := s.readBody(out, hr)
	if err != nil {
		return nil, hr.StatusCode, out.Idempotent && !errors.Is(err, ErrResponseTooLarge), err
	}
	resp, err = check(hr.StatusCode, body, out.Name)
	var e *Error
	if !errors.As(err, &e) {
		return resp, hr.StatusCode, false, err
	}
	if e.Class == ClassUpstream && !out.Idempotent {
		e.MayHaveApplied = true
	}
	return resp, hr.StatusCode, e.Class == ClassRateLimit || (out.Idempotent && hr.StatusCode >= 500), e
}

// transportError turns an error of http.Client.Do into the error Do
// returns and says whether a retry is allowed: the caller's ended ctx as it
// is; otherwise an upstream *Error without the URL's query, retried on an
// idempotent call or when nothing was sent.
func transportError(ctx context.Context, out *Outgoing, err error) (retry bool, _ error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, fmt.Errorf("platform: %s: %w", out.Name, ctxErr)
	}
	notSent := wire.NotSent(err)
	return out.Idempotent || notSent, &Error{
		Method:         out.Name,
		Class:          ClassUpstream,
		Err:            wire.RedactError(err), // the GET query holds the token, signature or app secret
		MayHaveApplied: !out.Idempotent && !notSent,
	}
}

// readBody reads the body within the cap and closes it.
func (s *Sender) readBody(out *Outgoing, hr *http.Response) ([]byte, error) {
	body, err := wire.ReadCapped(hr.Body, hr.ContentLength, s.maxBody)
	hr.Body.Close()
	if err == nil {
		return body, nil
	}
	e := &Error{Method: out.Name, Class: ClassUpstream, HTTPStatus: hr.StatusCode, MayHaveApplied: !out.Idempotent}
	if errors.Is(err, wire.ErrTooLarge) {
		e.Msg = "response body exceeds " + strconv.FormatInt(s.maxBody, 10) + " bytes"
		e.Err = ErrResponseTooLarge
	} else {
		e.Msg, e.Err = "reading response body", wire.RedactError(err)
	}
	return nil, e
}

// record ends the attempt's span and reports the attempt to Observe.
func (s *Sender) record(span trace.Span, out *Outgoing, start time.Time, resp *Response, status int, err error, tokenFailed bool) {
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
		switch {
		case tokenFailed:
			className, desc = "token", "token source failed"
		case errors.As(err, &pe):
			class, className, desc = pe.Class, pe.Class.String(), pe.Error()
			result = pe.Result
			if requestID == "" {
				requestID = pe.RequestID
			}
		default:
			className, desc = "canceled", err.Error()
		}
	}
	wire.EndSpan(span, status, result, className, requestID, err != nil, desc)
	if s.observe != nil {
		s.observe(CallInfo{Method: out.Name, OpenID: out.openID, Duration: time.Since(start),
			Result: result, Class: class, HTTPStatus: status, Err: err})
	}
}

// signer signs API calls with the app's signSecret.
type signer struct {
	sign *sign.Signer
	now  func() time.Time
}

// signed holds the values of the signed parameters of one API call.
type signed struct {
	accessToken, appKey, method, param, signMethod, timestamp, version string
}

// lookup is a sign.Lookup over p; an empty access token is absent.
func (p *signed) lookup(k string) (string, bool) {
	switch k {
	case sign.KeyAccessToken:
		return p.accessToken, p.accessToken != ""
	case sign.KeyAppKey:
		return p.appKey, true
	case sign.KeyMethod:
		return p.method, true
	case sign.KeyParam:
		return p.param, true
	case sign.KeySignMethod:
		return p.signMethod, true
	case sign.KeyTimestamp:
		return p.timestamp, true
	case sign.KeyVersion:
		return p.version, true
	}
	return "", false
}

// signParams stamps p with the time and the sign method, signs it and
// returns the common parameters followed by the attempt's own, URL-encoded.
func (sg *signer) signParams(common string, p *signed) string {
	p.timestamp = strconv.FormatInt(sg.now().UnixMilli(), 10)
	p.signMethod = string(sg.sign.Method())
	sig := sg.sign.Sign(p.lookup)
	var b strings.Builder
	b.Grow(len(common) + len(p.accessToken) + len(sig) + 96)
	b.WriteString(common)
	if p.accessToken != "" {
		b.WriteString("&" + sign.KeyAccessToken + "=")
		b.WriteString(url.QueryEscape(p.accessToken))
	}
	b.WriteString("&" + sign.KeyTimestamp + "=")
	b.WriteString(p.timestamp)
	b.WriteString("&" + sign.KeySignMethod + "=")
	b.WriteString(url.QueryEscape(p.signMethod))
	b.WriteString("&" + sign.KeySign + "=")
	b.WriteString(url.QueryEscape(sig))
	return b.String()
}

// encodeCommon URL-encodes the parameters every attempt of p's call sends
// unchanged: appkey, method, param and version.
func (p *signed) encodeCommon() string {
	var b strings.Builder
	b.Grow(len(p.appKey) + len(p.method) + 3*len(p.param)/2 + 48)
	b.WriteString(sign.KeyAppKey + "=")
	b.WriteString(url.QueryEscape(p.appKey))
	b.WriteString("&" + sign.KeyMethod + "=")
	b.WriteString(url.QueryEscape(p.method))
	b.WriteString("&" + sign.KeyParam + "=")
	b.WriteString(url.QueryEscape(p.param))
	b.WriteString("&" + sign.KeyVersion + "=")
	b.WriteString(p.version)
	return b.String()
}
