// Package gateway provides the platform's signed API gateway: it checks
// every call in the order package rules promises (fault, appkey, method,
// signature, timestamp, token, authorization, limits, scope, version,
// param), runs the business API a Resolver names and answers in the
// platform's JSON envelope.
package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// Resolver names the handler of an API (the sandbox's names every
// catalogued API: the rule-emulated one, else its schema-shaped answers); a
// catalogued API without one answers 804005, an unknown name 804004.
type Resolver func(method string) (api.Handler, bool)

// App is one app's share of the platform: a call whose appkey names the
// app is checked against its credentials, tokens and limits and answered
// from its shops.
type App struct {
	App    *app.App
	Tokens *oauth.Server
	Limits *limits.Limiter
	Shops  *shop.Shops
}

// Parts are what the gateway is built from.
type Parts struct {
	// Apps finds an app by its appkey.
	Apps     func(appKey string) (App, bool)
	Clock    *clock.Clock
	Log      *slog.Logger
	Counters *counters.Set
	Faults   *faults.Injector
	Resolve  Resolver
	// TimestampWindow is the allowed |wall clock - timestamp| of a call.
	TimestampWindow time.Duration
}

// Gateway is the signed API gateway, an http.Handler; it is safe for
// concurrent use and keeps no state of its own (counters, tokens, limits
// and shops keep theirs).
type Gateway struct {
	apps     func(appKey string) (App, bool)
	clock    *clock.Clock
	log      *slog.Logger
	counters *counters.Set
	faults   *faults.Injector
	resolve  Resolver
	window   time.Duration
}

// New returns the gateway over p.
func New(p Parts) *Gateway {
	return &Gateway{
		apps: p.Apps, clock: p.Clock, log: p.Log, counters: p.Counters, faults: p.Faults,
		resolve: p.Resolve, window: p.TimestampWindow,
	}
}

// envelope is the platform's response body [K1006] [TS]: requestId in
// camelCase (error_msg is not), data only when the API returns some.
type envelope struct {
	Result    int64  `json:"result"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"requestId"`
	Data      any    `json:"data,omitempty"`
}

// ServeHTTP answers one signed API call: the path is "/" + the method name
// with "." replaced by "/".
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := ids.Hex(rules.RequestIDBytes)
	method := strings.ReplaceAll(strings.Trim(r.URL.Path, "/"), "/", ".")
	g.counters.Call(method)
	if g.faults.Intercept(w, r, method, false, reqID, writeFaultResult(reqID)) {
		return
	}

	var body []byte
	var result int64
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		body, result = encodeEnvelope(reqID, api.Err(rules.CodeParam, "http method %s not supported, use GET or POST", r.Method), nil), rules.CodeParam
		wire.WriteJSONBytes(w, http.StatusMethodNotAllowed, body)
		g.log.Debug("sandbox api", "method", method, "http_method", r.Method, "result", result, "request_id", reqID)
		return
	}
	var params url.Values
	var files map[string][]byte
	var err error
	if isMultipart(r) {
		params, files, err = readMultipart(w, r)
	} else {
		params, err = wire.Params(w, r)
	}
	if err != nil {
		body, result = encodeEnvelope(reqID, api.BadParam("%v", err), nil), rules.CodeParam
	} else {
		body, result = g.dispatch(method, params, files, reqID)
	}
	wire.WriteJSONBytes(w, http.StatusOK, body)
	g.log.Debug("sandbox api", "method", method, "http_method", r.Method, "result", result, "request_id", reqID)
}

func encodeEnvelope(reqID string, e *api.Error, data any) []byte {
	env := envelope{Result: platform.ResultSuccess, RequestID: reqID, Data: data}
	if tl, ok := data.(api.TopLevel); ok && e == nil {
		m := map[string]any{"result": platform.ResultSuccess, "error_msg": "", "requestId": reqID}
		for k, v := range tl {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			panic("sandbox: encoding response: " + err.Error())
		}
		return b
	}
	if e != nil {
		env = envelope{Result: e.Code, ErrorMsg: e.Msg, RequestID: reqID}
		if env.ErrorMsg == "" {
			env.ErrorMsg = platform.CodeMessage(e.Code)
		}
	}
	b, err := json.Marshal(env)
	if err != nil { // handlers return plain structs and maps: cannot happen
		panic("sandbox: encoding response: " + err.Error())
	}
	return b
}

// dispatch runs the checks in the order the sandbox promises (package
// rules) and then the API. The body is encoded under the shops' lock so
// handlers may return live records. files are the call's file parts.
func (g *Gateway) dispatch(method string, p url.Values, files map[string][]byte, reqID string) ([]byte, int64) {
	fail := func(e *api.Error) ([]byte, int64) { return encodeEnvelope(reqID, e, nil), e.Code }
	get := func(k string) (string, bool) { return wire.First(p, k) }

	key, ok := get(sign.KeyAppKey)
	if !ok || key == "" {
		return fail(api.Err(rules.CodeAppKey, "appkey missing"))
	}
	a, ok := g.apps(key)
	if !ok {
		return fail(api.Err(rules.CodeAppKey, "appkey invalid: app not found"))
	}
	if v, ok := get(sign.KeyMethod); !ok || v == "" {
		return fail(api.Err(rules.CodeMethod, "method missing"))
	} else if v != method {
		return fail(api.Err(rules.CodeMethod, "method %q does not match the request path (%q)", v, method))
	}
	sm, ok := get(sign.KeySignMethod)
	if !ok {
		sm = rules.DefaultSignMethod
	}
	signMethod, err := sign.ParseMethod(sm)
	if err != nil {
		return fail(api.Err(rules.CodeSignMethod, "signMethod invalid: want MD5 or HMAC_SHA256"))
	}
	if a.App.SignMethod != "" && string(signMethod) != a.App.SignMethod {
		return fail(api.Err(rules.CodeSignMethod, "signMethod invalid: this app signs with %s", a.App.SignMethod))
	}
	now := g.clock.Now()
	if e := g.checkTimestamp(get); e != nil {
		return fail(e)
	}
	if v, ok := get(sign.KeySign); !ok || v == "" {
		return fail(api.Err(rules.CodeSign, "sign missing"))
	} else if !sign.Verify(signMethod, get, a.App.SignSecret, v) {
		return fail(api.Err(rules.CodeSign, "sign check failed"))
	}
	tok, ok := get(sign.KeyAccessToken)
	if !ok || tok == "" {
		return fail(api.Err(rules.CodeToken, "access_token missing"))
	}

	at, ok := a.Tokens.Token(tok, now)
	switch {
	case !ok:
		return fail(api.Err(rules.CodeToken, "access_token invalid"))
	case !now.Before(at.Expiry):
		return fail(api.Err(rules.CodeToken, "access_token expired"))
	case at.Revoked:
		return fail(api.Err(rules.CodeRevoked, platform.MsgRevoked))
	case at.Unsubscribed:
		return fail(api.Err(rules.CodeOrderEndedAPI, rules.MsgOrderEndedAPI))
	}
	var user shop.TestUser // the authorizing account (a main account or a sub-account)
	if at.UserID != 0 {
		user, _ = a.Shops.TestUser(at.UserID)
	}
	// The test-user cap and per-user QPS count the main account.
	if ex := a.Limits.Check(method, at.MainID, user.SellerID, now); ex != nil {
		return fail(&api.Error{Code: ex.Code, Msg: ex.Msg})
	}
	if need := catalog.Scope(method); need != "" {
		if at.UserID == 0 {
			return fail(api.Err(rules.CodeScope, "%s needs a merchant's authorization: an app-level (client_credentials) access_token cannot call it", method))
		}
		if !slices.Contains(at.Scopes, need) {
			return fail(api.Err(rules.CodeScope, "token中无scope权限: %s needs scope %s", method, need))
		}
	}
	if v, ok := get(sign.KeyVersion); ok && v != rules.APIVersion {
		return fail(api.BadParam("version %q not supported, want %s", v, rules.APIVersion))
	}
	param, e := parseParam(get)
	if e != nil {
		return fail(e)
	}
	h, ok := g.resolve(method)
	if !ok {
		if _, catalogued := platform.LookupAPI(method); catalogued {
			return fail(api.Err(rules.CodeNotEmulated, "%s is a platform API the sandbox does not emulate", method))
		}
		return fail(api.Err(rules.CodeUnknownAPI, "api not exist: %s", method))
	}
	var body []byte
	var result int64
	run := func(sh *shop.Shop) {
		data, e := h(&api.Call{Method: method, Param: param, Shop: sh, Now: now, AppKey: a.App.Key, Files: files, User: user})
		if e != nil {
			body, result = fail(e)
			return
		}
		body, result = encodeEnvelope(reqID, nil, data), platform.ResultSuccess
	}
	if at.UserID == 0 {
		// An app-level call: the scope check let through only APIs that
		// need no scope, none of them rule-emulated; no shop.
		run(nil)
	} else {
		a.Shops.Do(at.UserID, run)
	}
	return body, result
}

func (g *Gateway) checkTimestamp(get func(string) (string, bool)) *api.Error {
	v, ok := get(sign.KeyTimestamp)
	if !ok || v == "" {
		return api.Err(rules.CodeTimestamp, "timestamp missing")
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return api.Err(rules.CodeTimestamp, "timestamp invalid: want milliseconds since the epoch")
	}
	// The window is judged on the wall clock (the base clock), not on the
	// adjustable sandbox clock: callers' clocks do not move when a test
	// advances the sandbox's, yet their requests must still be accepted.
	if d := g.clock.Base().Sub(time.UnixMilli(ts)); d > g.window || d < -g.window {
		return api.Err(rules.CodeTimestamp, "timestamp expired: more than %v away from server time", g.window)
	}
	return nil
}

// parseParam decodes param: one JSON object; absent or empty means {}.
func parseParam(get func(string) (string, bool)) (map[string]any, *api.Error) {
	raw, _ := get(sign.KeyParam)
	if strings.TrimSpace(raw) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, api.BadParam("param must be a JSON object string")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, api.BadParam("param must be a JSON object string (trailing data)")
	}
	return m, nil
}

// writeFaultResult answers an injected "result" fault in the envelope of
// the call reqID.
func writeFaultResult(reqID string) faults.ResultWriter {
	return func(w http.ResponseWriter, code int64, msg string) {
		wire.WriteJSONBytes(w, http.StatusOK, encodeEnvelope(reqID, &api.Error{Code: code, Msg: msg}, nil))
	}
}
