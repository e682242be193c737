package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// The signed API gateway: every path that is not
// OAuth or admin is "/" + method name with "." replaced by "/".

// emulated is the registry of API emulations. Catalogued names missing here
// answer ResultNotEmulated after all auth checks pass.
var emulated = map[string]apiHandler{
	"open.order.cursor.list":                       orderCursorList,
	"open.order.detail":                            orderDetail,
	"open.order.decrypt.batch":                     orderDecryptBatch,
	"open.seller.order.goods.deliver":              orderDeliver,
	"open.seller.order.logistics.update":           orderLogisticsUpdate,
	"open.seller.order.close":                      orderClose,
	"open.seller.order.note.add":                   orderNoteAdd,
	"open.item.list.get":                           itemList,
	"open.item.get":                                itemGet,
	"open.item.new":                                itemNew,
	"open.item.edit":                               itemEdit,
	"open.item.sku.stock.update":                   itemSkuStockUpdate,
	"open.item.sku.price.update":                   itemSkuPriceUpdate,
	"open.item.shelf.status.update":                itemShelfStatusUpdate,
	"open.seller.order.refund.pcursor.list":        refundList,
	"open.seller.order.refund.detail":              refundDetail,
	"open.seller.order.refund.approve":             refundApprove,
	"open.seller.order.refund.returngoods.approve": refundReturnGoodsApprove,
	"open.seller.order.refund.confirm.receipt":     refundConfirmReceipt,
	"open.refund.reject":                           refundReject,
	"open.refund.reject.reason":                    refundRejectReason,
	"open.express.ebill.get":                       ebillGet,
	"open.express.ebill.cancel":                    ebillCancel,
	"open.logistics.express.template.list":         expressTemplateList,
	"open.address.seller.list":                     sellerAddressList,
	"open.shop.info.get":                           shopInfoGet,
	"open.user.seller.get":                         sellerGet,
}

// EmulatedAPIs lists the API names the sandbox emulates, sorted.
func EmulatedAPIs() []string {
	out := make([]string, 0, len(emulated))
	for k := range emulated {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// apiHandler runs with the sandbox lock held. It returns the "data" value
// (nil: the response has no data field; a topLevel map: fields beside
// result instead of data) or a business error.
type apiHandler func(c *call) (any, *apiError)

type apiError struct {
	code int64
	msg  string
}

func apiErr(code int64, format string, a ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, a...)}
}

func badParam(format string, a ...any) *apiError { return apiErr(codeParam, format, a...) }

// topLevel is an answer whose fields sit beside result, not under data
// (open.order.decrypt.batch → batchDecryptResultList [TS]).
type topLevel map[string]any

// call is one authenticated API call.
type call struct {
	sb     *Sandbox
	method string
	param  map[string]any // numbers as json.Number
	shop   *shop
	now    time.Time
}

// emit pushes a message about the calling shop.
func (c *call) emit(event string, bizID int64, info any) {
	c.sb.emitLocked(c.shop, event, bizID, info, c.now)
}

// envelope is the platform's response body [K1006] [TS]: requestId in
// camelCase (error_msg is not), data only when the API returns some.
type envelope struct {
	Result    int64  `json:"result"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"requestId"`
	Data      any    `json:"data,omitempty"`
}

func (s *Sandbox) handleAPI(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	method := strings.ReplaceAll(strings.Trim(r.URL.Path, "/"), "/", ".")
	s.mu.Lock()
	s.counters.Calls[method]++
	s.mu.Unlock()
	if s.fault(w, r, method, false, reqID) {
		return
	}

	var body []byte
	var result int64
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		body, result = encodeEnvelope(reqID, apiErr(codeParam, "http method %s not supported, use GET or POST", r.Method), nil), codeParam
		writeJSONBytes(w, http.StatusMethodNotAllowed, body)
		s.log.Debug("sandbox api", "method", method, "http_method", r.Method, "result", result, "request_id", reqID)
		return
	}
	params, err := requestParams(w, r)
	if err != nil {
		body, result = encodeEnvelope(reqID, badParam("%v", err), nil), codeParam
	} else {
		body, result = s.dispatch(method, params, reqID)
	}
	writeJSONBytes(w, http.StatusOK, body)
	s.log.Debug("sandbox api", "method", method, "http_method", r.Method, "result", result, "request_id", reqID)
}

func encodeEnvelope(reqID string, e *apiError, data any) []byte {
	env := envelope{Result: platform.ResultSuccess, RequestID: reqID, Data: data}
	if tl, ok := data.(topLevel); ok && e == nil {
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
		env = envelope{Result: e.code, ErrorMsg: e.msg, RequestID: reqID}
		if env.ErrorMsg == "" {
			env.ErrorMsg = platform.CodeMessage(e.code)
		}
	}
	b, err := json.Marshal(env)
	if err != nil { // handlers return plain structs and maps: cannot happen
		panic("sandbox: encoding response: " + err.Error())
	}
	return b
}

// dispatch runs the checks in the order the sandbox promises (rules.go) and
// then the API. The body is encoded under the lock so handlers may return
// live data.
func (s *Sandbox) dispatch(method string, p url.Values, reqID string) ([]byte, int64) {
	fail := func(e *apiError) ([]byte, int64) { return encodeEnvelope(reqID, e, nil), e.code }
	get := func(k string) (string, bool) { return first(p, k) }

	if v, ok := get(sign.KeyAppKey); !ok || v == "" {
		return fail(apiErr(codeAppKey, "appkey missing"))
	} else if v != s.cfg.AppKey {
		return fail(apiErr(codeAppKey, "appkey invalid: app not found"))
	}
	if v, ok := get(sign.KeyMethod); !ok || v == "" {
		return fail(apiErr(codeMethod, "method missing"))
	} else if v != method {
		return fail(apiErr(codeMethod, "method %q does not match the request path (%q)", v, method))
	}
	sm, ok := get(sign.KeySignMethod)
	if !ok {
		sm = defaultSignMethod
	}
	signMethod, err := sign.ParseMethod(sm)
	if err != nil {
		return fail(apiErr(codeSignMethod, "signMethod invalid: want MD5 or HMAC_SHA256"))
	}
	now := s.clock.Now()
	if e := s.checkTimestamp(get, now); e != nil {
		return fail(e)
	}
	if v, ok := get(sign.KeySign); !ok || v == "" {
		return fail(apiErr(codeSign, "sign missing"))
	} else if !sign.Verify(signMethod, get, s.cfg.SignSecret, v) {
		return fail(apiErr(codeSign, "sign check failed"))
	}
	tok, ok := get(sign.KeyAccessToken)
	if !ok || tok == "" {
		return fail(apiErr(codeToken, "access_token missing"))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[tok]
	switch {
	case !ok:
		return fail(apiErr(codeToken, "access_token invalid"))
	case !now.Before(at.expiry):
		return fail(apiErr(codeToken, "access_token expired"))
	case at.grant != nil && at.grant.revokedAt(now):
		return fail(apiErr(codeRevoked, platform.MsgRevoked))
	}
	if e := s.checkLimitsLocked(method, at.grant, now); e != nil {
		return fail(e)
	}
	if need := requiredScopes(method); need != nil {
		if at.grant == nil {
			return fail(apiErr(codeScope, "%s needs a merchant's authorization: an app-level (client_credentials) access_token cannot call it", method))
		}
		if !slices.ContainsFunc(need, func(sc string) bool { return slices.Contains(at.scopes, sc) }) {
			return fail(apiErr(codeScope, "token中无scope权限: %s needs scope %s", method, strings.Join(need, " or ")))
		}
	}
	if v, ok := get(sign.KeyVersion); ok && v != apiVersion {
		return fail(badParam("version %q not supported, want %s", v, apiVersion))
	}
	param, e := parseParam(get)
	if e != nil {
		return fail(e)
	}
	h, ok := emulated[method]
	if !ok {
		if _, catalogued := platform.LookupAPI(method); catalogued {
			return fail(apiErr(codeNotEmulated, "%s is a platform API the sandbox does not emulate", method))
		}
		return fail(apiErr(codeUnknownAPI, "api not exist: %s", method))
	}
	if at.grant == nil { // unreachable while every emulated API needs a scope
		return fail(apiErr(codeScope, "%s needs a merchant's authorization", method))
	}
	data, e := h(&call{sb: s, method: method, param: param, shop: s.shops[at.grant.userID], now: now})
	if e != nil {
		return fail(e)
	}
	return encodeEnvelope(reqID, nil, data), platform.ResultSuccess
}

func (s *Sandbox) checkTimestamp(get func(string) (string, bool), now time.Time) *apiError {
	v, ok := get(sign.KeyTimestamp)
	if !ok || v == "" {
		return apiErr(codeTimestamp, "timestamp missing")
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return apiErr(codeTimestamp, "timestamp invalid: want milliseconds since the epoch")
	}
	// The window is judged on the wall clock (the base clock), not on the
	// adjustable sandbox clock: callers' clocks do not move when a test
	// advances the sandbox's, yet their requests must still be accepted.
	_ = now
	if d := s.clock.base().Sub(time.UnixMilli(ts)); d > s.cfg.TimestampWindow || d < -s.cfg.TimestampWindow {
		return apiErr(codeTimestamp, "timestamp expired: more than %v away from server time", s.cfg.TimestampWindow)
	}
	return nil
}

// parseParam decodes param: one JSON object; absent or empty means {}.
func parseParam(get func(string) (string, bool)) (map[string]any, *apiError) {
	raw, _ := get(sign.KeyParam)
	if strings.TrimSpace(raw) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badParam("param must be a JSON object string")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badParam("param must be a JSON object string (trailing data)")
	}
	return m, nil
}

// Typed access to business parameters. Integers may come as JSON numbers or
// as decimal strings (SDKs differ); null counts as absent.

func (c *call) int(key string) (v int64, present bool, e *apiError) {
	raw, ok := c.param[key]
	if !ok || raw == nil {
		return 0, false, nil
	}
	var s string
	switch t := raw.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
		if s == "" {
			return 0, false, nil
		}
	default:
		return 0, true, badParam("param.%s must be an integer", key)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, badParam("param.%s must be an integer", key)
	}
	return n, true, nil
}

func (c *call) optInt(key string, def int64) (int64, *apiError) {
	v, ok, e := c.int(key)
	if e != nil || !ok {
		return def, e
	}
	return v, nil
}

func (c *call) reqInt(key string) (int64, *apiError) {
	v, ok, e := c.int(key)
	if e == nil && !ok {
		e = badParam("param.%s is required", key)
	}
	return v, e
}

// intIn reads an optional integer that must lie in [lo, hi] (def if absent
// or 0, the zero value most SDKs send for "unset").
func (c *call) intIn(key string, def, lo, hi int64) (int64, *apiError) {
	v, e := c.optInt(key, def)
	if e != nil {
		return 0, e
	}
	if v == 0 {
		v = def
	}
	if v < lo || v > hi {
		return 0, badParam("param.%s must be between %d and %d", key, lo, hi)
	}
	return v, nil
}

func (c *call) str(key string) (string, *apiError) {
	raw, ok := c.param[key]
	if !ok || raw == nil {
		return "", nil
	}
	switch t := raw.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	}
	return "", badParam("param.%s must be a string", key)
}

// timeRange reads and checks beginTime/endTime (ms): both required, begin <
// end, end - begin <= max, begin within the last 90 days.
func (c *call) timeRange(max time.Duration, maxText string) (int64, int64, *apiError) {
	begin, e := c.reqInt("beginTime")
	if e != nil {
		return 0, 0, e
	}
	end, e := c.reqInt("endTime")
	if e != nil {
		return 0, 0, e
	}
	switch {
	case end <= begin:
		return 0, 0, badParam("endTime must be greater than beginTime")
	case end-begin > max.Milliseconds():
		return 0, 0, badParam("the time range between beginTime and endTime must not exceed %s", maxText)
	case begin < ms(c.now.Add(-maxLookback)):
		return 0, 0, badParam("beginTime must be within the last 90 days")
	}
	return begin, end, nil
}

// bool reads an optional boolean (true/false, or 0/1).
func (c *call) bool(key string) (bool, *apiError) {
	switch t := c.param[key].(type) {
	case nil:
		return false, nil
	case bool:
		return t, nil
	case json.Number:
		if t == "0" || t == "1" {
			return t == "1", nil
		}
	case string:
		if b, err := strconv.ParseBool(t); err == nil {
			return b, nil
		}
	}
	return false, badParam("param.%s must be a boolean", key)
}

// objects reads an optional array of JSON objects as calls on each element
// (so the typed helpers work on them).
func (c *call) objects(key string) ([]*call, *apiError) {
	raw, ok := c.param[key]
	if !ok || raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, badParam("param.%s must be an array of objects", key)
	}
	out := make([]*call, len(arr))
	for i, v := range arr {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badParam("param.%s[%d] must be an object", key, i)
		}
		out[i] = &call{sb: c.sb, method: c.method, param: m, shop: c.shop, now: c.now}
	}
	return out, nil
}

// strings reads an optional array of strings.
func (c *call) strings(key string) ([]string, *apiError) {
	raw, ok := c.param[key]
	if !ok || raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, badParam("param.%s must be an array of strings", key)
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		if out[i], ok = v.(string); !ok {
			return nil, badParam("param.%s[%d] must be a string", key, i)
		}
	}
	return out, nil
}
