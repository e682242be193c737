package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
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
// Absent or null means {}; anything but an object is a field violation.
// Numbers are written in plain decimal (encoding/json), never in exponent
// form, so millisecond timestamps and ids up to 2^53 arrive exactly.
func ParamsJSON(field string, v *structpb.Value) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return json.RawMessage("{}"), nil
	case *structpb.Value_StructValue:
		if path, ok := nonFinite(v, field); ok {
			// structpb would send NaN and ±Infinity as strings; JSON has no such numbers.
			return nil, InvalidArgument(FieldViolation{Field: path, Description: "must be a finite number"})
		}
		b, err := json.Marshal(k.StructValue.AsMap())
		if err != nil {
			return nil, InvalidArgument(FieldViolation{Field: field, Description: "must be a JSON object of JSON values"})
		}
		return b, nil
	}
	return nil, InvalidArgument(FieldViolation{Field: field, Description: "must be a JSON object"})
}

// nonFinite finds a NaN or infinite number inside v and names its path.
func nonFinite(v *structpb.Value, path string) (string, bool) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return path, math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0)
	case *structpb.Value_StructValue:
		for name, f := range k.StructValue.GetFields() {
			if p, bad := nonFinite(f, path+"."+name); bad {
				return p, true
			}
		}
	case *structpb.Value_ListValue:
		for i, e := range k.ListValue.GetValues() {
			if p, bad := nonFinite(e, path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	}
	return "", false
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
