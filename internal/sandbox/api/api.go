// Package api is the contract between the signed API gateway and the
// business APIs it answers: a Handler gets one authenticated Call (its
// business parameters, the caller's shop, the sandbox time) and returns the
// data of the answer or an Error.
package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Handler answers one API. It runs with the shops' lock held (shop.Shops.Do)
// and returns the "data" value (nil: the response has no data field; a
// TopLevel map: fields beside result instead of data) or a business error.
// The gateway encodes the answer under the same lock, so a handler may
// return live records.
type Handler func(c *Call) (any, *Error)

// Error is a refusal answered in the envelope: the result code and its
// error_msg (empty = the code's text in internal/platform/codes.go).
type Error struct {
	Code int64
	Msg  string
}

// Err builds an Error with a formatted message.
func Err(code int64, format string, a ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// BadParam is an Error of invalid business parameters (rules.CodeParam).
func BadParam(format string, a ...any) *Error { return Err(rules.CodeParam, format, a...) }

// TopLevel is an answer whose fields sit beside result, not under data
// (open.order.decrypt.batch → batchDecryptResultList [TS]).
type TopLevel map[string]any

// Call is one authenticated API call.
type Call struct {
	Method string
	Param  map[string]any // the business parameters; numbers as json.Number
	Shop   *shop.Shop     // the authorizing test user's shop
	Now    time.Time      // the sandbox clock at the call
	// AppKey is the calling app's. Shop is nil on an app-level
	// (client_credentials) call, which reaches only the APIs that need no
	// scope (catalog.Scope); every rule-emulated API needs one.
	AppKey string
	// Files are the file parts of a multipart call by form field name
	// (unsigned, beside the signed fields); nil when it had none.
	Files map[string][]byte
	// User is the authorizing account: the shop's main account, or one of
	// its sub-accounts (User.MainID set); zero on an app-level call.
	User shop.TestUser
}

// Typed access to business parameters. Integers may come as JSON numbers or
// as decimal strings (SDKs differ); null counts as absent.

// Int reads an optional integer and whether it is present.
func (c *Call) Int(key string) (v int64, present bool, e *Error) {
	raw, ok := c.Param[key]
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
		return 0, true, BadParam("param.%s must be an integer", key)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, BadParam("param.%s must be an integer", key)
	}
	return n, true, nil
}

// OptInt reads an optional integer (def if absent).
func (c *Call) OptInt(key string, def int64) (int64, *Error) {
	v, ok, e := c.Int(key)
	if e != nil || !ok {
		return def, e
	}
	return v, nil
}

// ReqInt reads a required integer.
func (c *Call) ReqInt(key string) (int64, *Error) {
	v, ok, e := c.Int(key)
	if e == nil && !ok {
		e = BadParam("param.%s is required", key)
	}
	return v, e
}

// IntIn reads an optional integer that must lie in [lo, hi] (def if absent
// or 0, the zero value most SDKs send for "unset").
func (c *Call) IntIn(key string, def, lo, hi int64) (int64, *Error) {
	v, e := c.OptInt(key, def)
	if e != nil {
		return 0, e
	}
	if v == 0 {
		v = def
	}
	if v < lo || v > hi {
		return 0, BadParam("param.%s must be between %d and %d", key, lo, hi)
	}
	return v, nil
}

// Str reads an optional string (a number is taken as its text; absent is
// "").
func (c *Call) Str(key string) (string, *Error) {
	raw, ok := c.Param[key]
	if !ok || raw == nil {
		return "", nil
	}
	switch t := raw.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	}
	return "", BadParam("param.%s must be a string", key)
}

// TimeRange reads and checks beginTime/endTime (ms): both required, begin <
// end, end - begin <= max, begin within the last 90 days.
func (c *Call) TimeRange(max time.Duration, maxText string) (int64, int64, *Error) {
	begin, e := c.ReqInt("beginTime")
	if e != nil {
		return 0, 0, e
	}
	end, e := c.ReqInt("endTime")
	if e != nil {
		return 0, 0, e
	}
	switch {
	case end <= begin:
		return 0, 0, BadParam("endTime must be greater than beginTime")
	case end-begin > max.Milliseconds():
		return 0, 0, BadParam("the time range between beginTime and endTime must not exceed %s", maxText)
	case begin < clock.Millis(c.Now.Add(-rules.MaxLookback)):
		return 0, 0, BadParam("beginTime must be within the last 90 days")
	}
	return begin, end, nil
}

// Bool reads an optional boolean (true/false, or 0/1).
func (c *Call) Bool(key string) (bool, *Error) {
	switch t := c.Param[key].(type) {
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
	return false, BadParam("param.%s must be a boolean", key)
}

// Objects reads an optional array of JSON objects as calls on each element
// (so the typed helpers work on them).
func (c *Call) Objects(key string) ([]*Call, *Error) {
	raw, ok := c.Param[key]
	if !ok || raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, BadParam("param.%s must be an array of objects", key)
	}
	out := make([]*Call, len(arr))
	for i, v := range arr {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, BadParam("param.%s[%d] must be an object", key, i)
		}
		out[i] = &Call{Method: c.Method, Param: m, Shop: c.Shop, Now: c.Now}
	}
	return out, nil
}

// Strings reads an optional array of strings.
func (c *Call) Strings(key string) ([]string, *Error) {
	raw, ok := c.Param[key]
	if !ok || raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, BadParam("param.%s must be an array of strings", key)
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		if out[i], ok = v.(string); !ok {
			return nil, BadParam("param.%s[%d] must be a string", key, i)
		}
	}
	return out, nil
}
