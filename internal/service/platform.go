package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
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

// AppTokens are Tokens of several apps (implemented by *token.Manager).
type AppTokens interface {
	// AppSource returns the app-level token source of the app ("" = the
	// only app), or a *token.InvalidError on app_key.
	AppSource(appKey string) (platform.TokenSource, error)
	// ShopApp names the app a shop authorized.
	ShopApp(ctx context.Context, openID string) (string, error)
}

// Platform implements gatewayv1.PlatformServiceServer.
type Platform struct {
	gatewayv1.UnimplementedPlatformServiceServer
	caller       Caller
	tokens       Tokens
	log          *slog.Logger
	maxFileBytes int64     // the client's cap, for descriptions (the client enforces it)
	accessLog    AccessLog // security logs of order reads (security_log.go); nil: none
}

var _ gatewayv1.PlatformServiceServer = (*Platform)(nil)

// PlatformOption sets an optional setting of the PlatformService.
type PlatformOption func(*Platform)

// WithMaxFileBytes tells the service the platform client's cap on the
// bytes of files per call (platform.Config.MaxFileBytes), which GetApi and
// ListApis describe; default platform.DefaultMaxFileBytes.
func WithMaxFileBytes(n int64) PlatformOption {
	return func(p *Platform) {
		if n > 0 {
			p.maxFileBytes = n
		}
	}
}

// NewPlatform builds the PlatformService.
func NewPlatform(c Caller, t Tokens, log *slog.Logger, opts ...PlatformOption) *Platform {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Platform{caller: c, tokens: t, log: log, maxFileBytes: platform.DefaultMaxFileBytes}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Call sends one signed platform call: params in their exact form (see
// callParams), checked against the catalog unless skip_validation is set,
// files as a multipart upload; the answer keeps everything the platform
// returned (callResponse).
func (s *Platform) Call(ctx context.Context, req *gatewayv1.CallRequest) (*gatewayv1.CallResponse, error) {
	if err := callGroup(ctx, req.GetMethod()); err != nil {
		return nil, err
	}
	param, err := callParams(req)
	if err != nil {
		return nil, err
	}
	src, err := s.source(ctx, req.GetOpenId(), req.GetAppKey())
	if err != nil {
		return nil, ToStatus(ctx, s.log, err) // an unknown shop first: no params fit it
	}
	files := callFiles(req.GetFiles())
	if !req.GetSkipValidation() {
		if err := checkCatalog(req.GetMethod(), param, files); err != nil {
			return nil, err
		}
	}
	resp, err := s.caller.Do(ctx, &platform.Request{
		Method:  req.GetMethod(),
		Version: int(req.GetVersion()),
		Param:   param,
		OpenID:  req.GetOpenId(),
		Token:   src,
		Files:   files,
	})
	if err != nil {
		return nil, fileStatus(ctx, s.log, err, func(name string) string { return "files[" + strconv.Quote(name) + "]" })
	}
	out, err := callResponse(resp)
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	if err := logCall(ctx, s.accessLog, req.GetOpenId(), req.GetMethod(), param, resp.Data); err != nil {
		return nil, err
	}
	return out, nil
}

// callGroup refuses a Call of an API whose typed RPC needs a group the
// caller's key lacks (nil with authentication off): the receiver-data APIs
// behind SecurityService need the decrypt group through Call too
// (docs/security-service.md), or any key of the platform group would read
// receivers' plaintext.
func callGroup(ctx context.Context, method string) error {
	k := auth.KeyFrom(ctx)
	if k == nil || !commerce.ReceiverDataAPI(method) || k.AllowsGroup(auth.GroupDecrypt) {
		return nil
	}
	return authStatus(&auth.Error{Code: codes.PermissionDenied, Key: k.Name,
		Msg: fmt.Sprintf("API key %q may not call %s through Call (group %s)", k.Name, method, auth.GroupDecrypt)})
}

// source is the token source of a call: the shop's, or the app-level one
// of app_key ("" = the only app). With both, app_key must name the shop's
// app.
func (s *Platform) source(ctx context.Context, openID, appKey string) (platform.TokenSource, error) {
	apps, multi := s.tokens.(AppTokens)
	if openID == "" {
		if multi {
			return apps.AppSource(appKey)
		}
		return s.tokens.App(), nil
	}
	src, err := s.tokens.Shop(ctx, openID)
	if err != nil || appKey == "" || !multi {
		return src, err
	}
	if shopApp, err := apps.ShopApp(ctx, openID); err != nil {
		return nil, err
	} else if shopApp != appKey {
		return nil, InvalidArgument(FieldViolation{Field: "app_key", Description: "the shop open_id names authorized another app"})
	}
	return src, nil
}

// callParams is the platform's `param` of a call: params_json as written
// (ExactParams), or the params Value (ParamsJSON); at most one of them, and
// at most MaxParamsBytes.
func callParams(req *gatewayv1.CallRequest) (json.RawMessage, error) {
	value := req.GetParams()
	if _, null := value.GetKind().(*structpb.Value_NullValue); null {
		value = nil
	}
	if req.GetParamsJson() != "" {
		if value != nil {
			return nil, InvalidArgument(FieldViolation{Field: "params_json", Description: "set at most one of params and params_json"})
		}
		param, bad := ExactParams("params_json", []byte(req.GetParamsJson()))
		if bad != nil {
			return nil, InvalidArgument(*bad)
		}
		return param, nil
	}
	param, err := ParamsJSON("params", value)
	if err == nil && len(param) > MaxParamsBytes {
		return nil, InvalidArgument(FieldViolation{Field: "params", Description: "longer than " + strconv.Itoa(MaxParamsBytes) + " bytes as JSON"})
	}
	return param, err
}

// callFiles lists a call's files by field name.
func callFiles(m map[string][]byte) []platform.File {
	if len(m) == 0 {
		return nil
	}
	out := make([]platform.File, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, platform.File{Field: name, Content: m[name]})
	}
	return out
}

// checkCatalog checks a call's param and file fields against the catalog
// (nothing for an API it does not know): each violation is one field
// violation, under params. or files[...].
func checkCatalog(method string, param json.RawMessage, files []platform.File) error {
	api, ok := catalog.Lookup(method)
	if !ok {
		return nil
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Field)
	}
	vs := api.Validate(param, catalog.Options{Files: names})
	if len(vs) == 0 {
		return nil
	}
	fileFields := api.FileFields()
	out := make([]FieldViolation, 0, len(vs))
	for _, v := range vs {
		field := "params"
		isFile := slices.Contains(fileFields, v.Field)
		switch {
		// A missing file field, or a file part the API does not take, is
		// about files; a file field inside params is about params.
		case v.Kind == catalog.KindMissing && isFile, v.Kind == catalog.KindFile && !isFile:
			field = "files[" + strconv.Quote(v.Field) + "]"
		case v.Field != "" && strings.HasPrefix(v.Field, "["):
			field += v.Field
		case v.Field != "":
			field += "." + v.Field
		}
		out = append(out, FieldViolation{Field: field, Description: v.Description})
	}
	return InvalidArgument(out...)
}

// fileStatus is ToStatus, except that a file the platform client refused
// (platform.CheckFiles) is InvalidArgument on the request field holding it:
// fieldOf names that field for a file's form field name; a fault of the
// files together is on fieldOf("")'s container.
func fileStatus(ctx context.Context, log *slog.Logger, err error, fieldOf func(name string) string) error {
	var fe *platform.FileError
	if !errors.As(err, &fe) {
		return ToStatus(ctx, log, err)
	}
	field := fieldOf(fe.Field)
	if fe.Field == "" {
		field, _, _ = strings.Cut(field, "[")
	}
	return InvalidArgument(FieldViolation{Field: field, Description: fe.Reason})
}

// envelopeMembers are the members of every answer that CallResponse carries
// in its own fields (or that only frame the answer): the catalog's Envelope,
// the request id and data; the others, data aside, are CallResponse.members.
var envelopeMembers = append(slices.Clone(catalog.Envelope), "requestId", "request_id", "data")

// callResponse converts a successful answer: data as a Value, the members
// beside the envelope as a Struct, the body verbatim.
func callResponse(resp *platform.Response) (*gatewayv1.CallResponse, error) {
	data, err := DataValue(resp.Data)
	if err != nil {
		return nil, err
	}
	_, members, err := splitAnswer(resp.Raw, false)
	if err != nil {
		return nil, err
	}
	st := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(members))}
	for _, m := range members {
		if st.Fields[m.Name], err = DataValue(m.Value); err != nil {
			return nil, err
		}
		if st.Fields[m.Name] == nil {
			st.Fields[m.Name] = structpb.NewNullValue()
		}
	}
	return &gatewayv1.CallResponse{
		Result:    int32(resp.Result),
		Data:      data,
		RequestId: resp.RequestID,
		BodyJson:  strings.ToValidUTF8(string(resp.Raw), "\uFFFD"),
		Members:   st,
	}, nil
}

// Member is one top-level member of a platform answer, its value raw.
type Member struct {
	Name  string
	Value json.RawMessage
}

// SplitAnswer returns the data member of a platform answer (a JSON object;
// nil when absent) and its other top-level members besides the envelope, in
// the answer's order, every value raw. A member named twice counts once,
// with its last value (as the envelope decoder reads it).
func SplitAnswer(body []byte) (data json.RawMessage, members []Member, err error) {
	return splitAnswer(body, true)
}

// splitAnswer is SplitAnswer; without wantData, data is skipped (nil).
func splitAnswer(body []byte, wantData bool) (data json.RawMessage, members []Member, err error) {
	// A bytes.Buffer is parsed in place, without a copy.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, nil, errors.New("service: the answer is not a JSON object")
	}
	var out []Member
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, nil, err
		}
		name := tok.String()
		if slices.Contains(envelopeMembers, name) && (name != "data" || !wantData) {
			if err := dec.SkipValue(); err != nil {
				return nil, nil, err
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, nil, err
		}
		if name == "data" {
			data = bytes.Clone(v)
			continue
		}
		if i := slices.IndexFunc(out, func(m Member) bool { return m.Name == name }); i >= 0 {
			out[i].Value = bytes.Clone(v)
		} else {
			out = append(out, Member{Name: name, Value: bytes.Clone(v)})
		}
	}
	return data, out, nil
}

// ListApis lists the catalog, filtered: by name prefix, APIs with file
// fields only, a text in the name or description, the HTTP verb. The
// schemas are GetApi's (all of them would be megabytes).
func (s *Platform) ListApis(_ context.Context, req *gatewayv1.ListApisRequest) (*gatewayv1.ListApisResponse, error) {
	out := &gatewayv1.ListApisResponse{Apis: []*gatewayv1.Api{}}
	text := strings.ToLower(req.GetContains())
	for _, a := range catalog.All() {
		if !strings.HasPrefix(a.Name, req.GetPrefix()) ||
			req.GetUploadsOnly() && len(a.FileFields()) == 0 ||
			text != "" && !strings.Contains(strings.ToLower(a.Name), text) && !strings.Contains(strings.ToLower(a.Description), text) ||
			req.GetHttpMethod() != "" && platform.HTTPMethodFor(a.Name) != req.GetHttpMethod() {
			continue
		}
		out.Apis = append(out.Apis, s.apiProto(a))
	}
	return out, nil
}

// GetApi describes one catalogued API, its JSON Schemas included.
func (s *Platform) GetApi(ctx context.Context, req *gatewayv1.GetApiRequest) (*gatewayv1.GetApiResponse, error) {
	a, ok := catalog.Lookup(req.GetName())
	if !ok {
		return nil, gatewayStatus(codes.NotFound, gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST,
			"no catalogued platform API has this name (GET /v1/apis lists them; Call sends uncatalogued ones unchecked)", nil)
	}
	out := s.apiProto(a)
	schemas, err := apiSchemas(a.Name)
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	out.RequestSchema, out.ResponseSchema = schemas.request, schemas.response
	return &gatewayv1.GetApiResponse{Api: out}, nil
}

// apiProto is an API's description without its schemas.
func (s *Platform) apiProto(a *catalog.API) *gatewayv1.Api {
	qps := platform.APIQPS(a.Name)
	out := &gatewayv1.Api{
		Name:            a.Name,
		HttpMethod:      platform.HTTPMethodFor(a.Name),
		Description:     a.Description,
		FileFields:      a.FileFields(),
		ResponseMembers: a.TopLevel,
		Limits:          &gatewayv1.ApiLimits{AppQps: int32(qps.App), ShopQps: int32(qps.User)},
	}
	if len(out.FileFields) > 0 {
		out.Limits.MaxFileBytes = s.maxFileBytes
	}
	return out
}

type schemaPair struct{ request, response *structpb.Struct }

var schemaMemo sync.Map // API name → *schemaPair; the Structs are shared and never modified

// apiSchemas returns an API's JSON Schemas as Structs, converted once.
func apiSchemas(name string) (*schemaPair, error) {
	if v, ok := schemaMemo.Load(name); ok {
		return v.(*schemaPair), nil
	}
	req, resp, ok := catalog.JSONSchema(name)
	if !ok {
		return nil, errors.New("service: " + name + " has no JSON Schema")
	}
	p := &schemaPair{request: &structpb.Struct{}, response: &structpb.Struct{}}
	if err := protojson.Unmarshal(req, p.request); err != nil {
		return nil, err
	}
	if err := protojson.Unmarshal(resp, p.response); err != nil {
		return nil, err
	}
	v, _ := schemaMemo.LoadOrStore(name, p)
	return v.(*schemaPair), nil
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
		b = append(b, '{')
		for i, name := range slices.Sorted(maps.Keys(fields)) {
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
