package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Caller sends one platform API call (implemented by *platform.Client).
type Caller interface {
	Do(ctx context.Context, r *platform.Request) (*platform.Response, error)
}

// Tokens hands out token sources (implemented by *token.Manager).
type Tokens interface {
	// Shop returns the token source of an authorized shop, or an error
	// wrapping store.ErrNotFound.
	Shop(ctx context.Context, openID string) (platform.TokenSource, error)
	// App returns the app-level (client_credentials) token source.
	App() platform.TokenSource
}

// Platform implements gatewayv1.PlatformServiceServer.
type Platform struct {
	gatewayv1.UnimplementedPlatformServiceServer
	caller Caller
	tokens Tokens
	log    *slog.Logger
}

var _ gatewayv1.PlatformServiceServer = (*Platform)(nil)

// NewPlatform builds the PlatformService.
func NewPlatform(c Caller, t Tokens, log *slog.Logger) *Platform {
	return &Platform{caller: c, tokens: t, log: log}
}

// Call sends one signed platform call.
func (s *Platform) Call(ctx context.Context, req *gatewayv1.CallRequest) (*gatewayv1.CallResponse, error) {
	param, err := ParamsJSON("params", req.GetParams())
	if err != nil {
		return nil, err
	}
	var src platform.TokenSource
	if req.GetOpenId() == "" {
		src = s.tokens.App()
	} else if src, err = s.tokens.Shop(ctx, req.GetOpenId()); err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	resp, err := s.caller.Do(ctx, &platform.Request{
		Method:  req.GetMethod(),
		Version: int(req.GetVersion()),
		Param:   param,
		OpenID:  req.GetOpenId(),
		Token:   src,
	})
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	data, err := DataValue(resp.Data)
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.CallResponse{Result: int32(resp.Result), Data: data, RequestId: resp.RequestID}, nil
}

// ListApis lists the catalog.
func (s *Platform) ListApis(_ context.Context, req *gatewayv1.ListApisRequest) (*gatewayv1.ListApisResponse, error) {
	out := &gatewayv1.ListApisResponse{}
	for _, a := range platform.Catalog() {
		if strings.HasPrefix(a.Name, req.GetPrefix()) {
			out.Apis = append(out.Apis, &gatewayv1.Api{Name: a.Name, HttpMethod: a.HTTPMethod})
		}
	}
	return out, nil
}

// ParamsJSON turns a params Value into the platform's `param` JSON object.
// Absent or null means {}; anything but an object is a field violation, and
// so is a NaN or infinite number (JSON has none). Object keys are sorted.
// Numbers keep their value exactly: an integral double below 1e21 is written
// with all its digits (1e16 as 10000000000000000, 2^63 as
// 9223372036854775808), any other number in encoding/json's shortest form
// that reads back as the same double.
func ParamsJSON(field string, v *structpb.Value) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	switch v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return json.RawMessage("{}"), nil
	case *structpb.Value_StructValue:
		b, bad := appendValue(nil, v, field)
		if bad != "" {
			return nil, InvalidArgument(FieldViolation{Field: bad, Description: "must be a finite number"})
		}
		return b, nil
	}
	return nil, InvalidArgument(FieldViolation{Field: field, Description: "must be a JSON object"})
}

// appendValue appends v as JSON; on a non-finite number it returns that
// number's path instead.
func appendValue(b []byte, v *structpb.Value, path string) ([]byte, string) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return nil, path
		}
		return appendNumber(b, k.NumberValue), ""
	case *structpb.Value_StringValue:
		return appendString(b, k.StringValue), ""
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(b, k.BoolValue), ""
	case *structpb.Value_StructValue:
		fields := k.StructValue.GetFields()
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		slices.Sort(names)
		b = append(b, '{')
		for i, name := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, name), ':')
			var bad string
			if b, bad = appendValue(b, fields[name], path+"."+name); bad != "" {
				return nil, bad
			}
		}
		return append(b, '}'), ""
	case *structpb.Value_ListValue:
		b = append(b, '[')
		for i, e := range k.ListValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			var bad string
			if b, bad = appendValue(b, e, path+"["+strconv.Itoa(i)+"]"); bad != "" {
				return nil, bad
			}
		}
		return append(b, ']'), ""
	}
	return append(b, "null"...), "" // null, or no kind set
}

// appendString writes s as encoding/json does (invalid UTF-8 becomes
// U+FFFD; <, > and & are escaped).
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendNumber writes a finite params number (see ParamsJSON).
func appendNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', 0, 64) // every digit of the double, exactly
	}
	q, _ := json.Marshal(f) // finite: never fails
	return append(b, q...)
}

// SentNumber reads a JSON number literal of params as the platform will
// receive it: params numbers are doubles, so 9007199254740993 is sent as
// 9007199254740992 (not exact), while 1e2, 100.0 and 0.1 are sent as 100,
// 100 and 0.1 (exact: the same values). sent is "" for a number beyond the
// range of a double.
func SentNumber(lit string) (sent string, exact bool) {
	if n := strings.TrimPrefix(lit, "-"); len(n) <= 15 && strings.IndexFunc(n, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return lit, true // an integer of at most 15 digits: always exact
	}
	f, err := strconv.ParseFloat(lit, 64) // underflow is 0 (and not exact), overflow an error
	if err != nil {
		return "", false
	}
	sent = string(appendNumber(nil, f))
	want, ok := canonicalDecimal(lit)
	if !ok {
		return sent, false
	}
	got, ok := canonicalDecimal(sent)
	return sent, ok && got == want
}

// canonicalDecimal writes a JSON number as sign, significant digits and a
// power of ten ("-15e-1" for -1.50), a form equal for equal values; ok is
// false for an exponent too large to hold.
func canonicalDecimal(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expPart, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", true
	}
	exp := 0
	if expPart != "" {
		e, err := strconv.Atoi(expPart)
		if err != nil || e > 1<<30 || e < -(1<<30) {
			return "", false
		}
		exp = e
	}
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + trimmed + "e" + strconv.Itoa(exp), true
}

// DataValue converts the platform's data JSON into a Value (nil when absent).
func DataValue(raw json.RawMessage) (*structpb.Value, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return nil, err
	}
	return structpb.NewValue(x)
}
