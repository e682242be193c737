package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// httpEdge holds the HTTP listener's defences against browsers and
// malformed requests (docs/security.md) and the REST conventions (rest.go,
// docs/rest.md), and gives every refusal the REST API's one error body
// (internal/rest): {code, message, details} with an ErrorInfo and, for
// InvalidArgument, BadRequest field violations.
//
//   - Without API keys, a Host that is not a name of this gateway is
//     refused 403: a DNS-rebinding page would otherwise read answers.
//   - A state-changing request a browser sends from another origin is
//     refused 403 (http.CrossOriginProtection: Sec-Fetch-Site, else Origin
//     against Host), unless the origin is trusted (KWAISHOP_ALLOWED_ORIGINS).
//   - REST request bodies must be JSON: any other declared Content-Type is
//     415 (text/plain, forms and multipart are what a page can send without
//     a CORS preflight). A body without Content-Type is taken as JSON: no
//     browser sends one without an Origin header, which the check above
//     judges.
//   - Path and query values must be UTF-8, headers forwarded to gRPC
//     printable ASCII, a body exactly one JSON value, params numbers exact
//     and params at most service.MaxParamsDepth deep: 400, never 500.
//     CallRequest's params are taken from the body's JSON text, exactly
//     (exactParams); numbers in other Value fields must fit a double.
//   - A body is at most MaxRequestBytes, files aside: the routes of
//     requests that carry files (uploads) take up to maxUploadBodyBytes,
//     of which at most MaxRequestBytes are not file members.
//   - A known path with another verb is 405 with Allow, not 501.
type httpEdge struct {
	log       *slog.Logger
	hosts     *auth.Hosts // nil with API keys: any Host
	csrf      *http.CrossOriginProtection
	marshaler *edgeMarshaler
}

func newHTTPEdge(cfg config.Config, keys bool, log *slog.Logger) (*httpEdge, error) {
	e := &httpEdge{log: log, csrf: http.NewCrossOriginProtection(), marshaler: newEdgeMarshaler()}
	if !keys {
		hosts := cfg.Auth.AllowedHosts.Clone()
		hosts.Add(cfg.HTTPAddr) // the bound address
		// Where the platform sends merchants back: every app's callback
		// (docs/apps.md), and the single-app setting's.
		redirects := []string{cfg.EffectiveRedirectURI()}
		for _, a := range cfg.AppList() {
			redirects = append(redirects, a.RedirectURI)
		}
		for _, r := range redirects {
			if u, err := url.Parse(r); err == nil && u.Host != "" {
				hosts.Add(u.Host)
			}
		}
		e.hosts = hosts
	}
	for _, o := range cfg.Auth.AllowedOrigins {
		if err := e.csrf.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	// The platform's pushes are authenticated by the message key, not by
	// where they come from.
	e.csrf.AddInsecureBypassPattern("POST " + PushPath)
	e.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.log.InfoContext(r.Context(), "http request refused", "path", r.URL.Path, "reason", "cross-origin", "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "peer", r.RemoteAddr)
		e.writeError(w, http.StatusForbidden, refusal(codes.PermissionDenied, gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED,
			"cross-origin request refused: a page from another origin may not change state here (KWAISHOP_ALLOWED_ORIGINS trusts an origin)"))
	}))
	return e, nil
}

// wrap gives every request its request id and puts the Host and
// cross-origin checks in front of every route; once the request is served
// it labels the request's duration with the route (rest.go). The probes,
// the OAuth pages and the push (certFreePaths) answer under any Host:
// merchants' browsers and the platform reach them through proxies and
// tunnels, and they are protected by other means.
func (e *httpEdge) wrap(h http.Handler) http.Handler {
	checked := e.csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, r := beginRequest(w, r)
		defer endRequest(r.Context(), in, r)
		if e.hosts != nil && !certFree(r.URL.Path) && !e.hosts.Allows(r.Host) {
			e.log.InfoContext(r.Context(), "http request refused", "path", r.URL.Path, "reason", "host not allowed", "host", r.Host, "peer", r.RemoteAddr)
			e.writeError(w, http.StatusForbidden, refusal(codes.PermissionDenied, gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED,
				"host not allowed: without API keys the gateway answers only its own names (localhost, its address, KWAISHOP_ALLOWED_HOSTS)"))
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// muxOptions are the REST gateway's ServeMux options for the edge.
func (e *httpEdge) muxOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, e.marshaler),
		runtime.WithMiddlewares(e.middleware),
		runtime.WithErrorHandler(e.errorHandler),
		runtime.WithRoutingErrorHandler(e.routingErrorHandler),
		// Response headers: only those meant for callers, under their own
		// names; no gRPC trailers.
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithOutgoingTrailerMatcher(noTrailer),
		runtime.WithMetadata(requestIDMetadataFor),
		// A form POST to a GET route would be served as that GET, and
		// X-HTTP-Method-Override would turn a POST into any verb.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
	}
}

// refusal builds a status with the gateway's ErrorInfo.
func refusal(c codes.Code, reason gatewayv1.ErrorReason, msg string) error {
	return withErrorInfo(status.New(c, msg), reason)
}

// withErrorInfo adds the gateway's ErrorInfo (and more details) to a status.
func withErrorInfo(st *status.Status, reason gatewayv1.ErrorReason, more ...proto.Message) error {
	p := st.Proto()
	for _, d := range append([]proto.Message{&errdetails.ErrorInfo{Reason: reason.String(), Domain: service.DomainGateway}}, more...) {
		a, err := anypb.New(d)
		if err != nil {
			return st.Err()
		}
		p.Details = append(p.Details, a)
	}
	return status.FromProto(p).Err()
}

// errClientCertRequired is clientCertGuard's refusal (security.go).
var errClientCertRequired = refusal(codes.Unauthenticated, gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED, "a client certificate is required (mTLS)")

// invalid is an InvalidArgument refusal with no one field at fault: its
// BadRequest has one violation with an empty field.
func invalid(msg string) error {
	return withErrorInfo(status.New(codes.InvalidArgument, msg), gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST,
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Description: msg}}})
}

// normalize gives a status from the gateway (grpc-gateway's own errors that
// explainParseError left as they were) the gateway's ErrorInfo when it has
// none.
func normalize(err error) error {
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		return &runtime.HTTPStatusError{HTTPStatus: hs.HTTPStatus, Err: normalize(hs.Err)}
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return err
		}
	}
	reason := gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.Unimplemented, codes.OutOfRange:
	case codes.Unauthenticated:
		reason = gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED
	case codes.PermissionDenied:
		reason = gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED
	default:
		return err
	}
	return withErrorInfo(st, reason)
}

// writeError writes a refusal made before the REST gateway's handler runs,
// in the same shape as the gateway's errors.
func (e *httpEdge) writeError(w http.ResponseWriter, httpStatus int, err error) {
	writeRESTError(context.Background(), w, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: err})
}

// errorHandler: every REST error passes here. A body the edge refused
// carries the refusal or the fields at fault (the generated code keeps only
// the decoder's text); a value the gateway could not parse gets its field
// violations.
func (e *httpEdge) errorHandler(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if isAllowProbe(ctx) {
		return
	}
	if b, ok := r.Body.(*edgeBody); ok {
		switch {
		case b.refused != nil:
			err = b.refused
		case b.fault != nil:
			err = b.fault.status(ctx)
		}
	}
	writeRESTError(ctx, w, explainParseError(ctx, r, err))
}

// routingErrorHandler answers a request no route takes: 405 with Allow
// when the path has routes for other verbs, 404 or 400 otherwise.
func (e *httpEdge) routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	if isAllowProbe(ctx) {
		return
	}
	var err error
	switch code {
	case http.StatusMethodNotAllowed:
		allow := strings.Join(allowedMethods(ctx, mux, r), ", ")
		w.Header().Set("Allow", allow)
		err = refusal(codes.Unimplemented, gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST, "method "+r.Method+" not allowed on this path (allowed: "+allow+")")
	case http.StatusNotFound:
		err = refusal(codes.NotFound, gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST, "not found: no REST route matches the path")
	default:
		code = http.StatusBadRequest
		err = invalid("malformed request path")
	}
	e.errorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: code, Err: err})
}

type allowProbeKey struct{}

func isAllowProbe(ctx context.Context) bool { return ctx.Value(allowProbeKey{}) != nil }

// allowedMethods asks the mux which verbs route r's path: a copy of r for
// each verb runs through the routing, and the edge middleware marks a match
// and stops it before any handler.
func allowedMethods(ctx context.Context, mux *runtime.ServeMux, r *http.Request) []string {
	var allow []string
	for _, method := range []string{http.MethodDelete, http.MethodGet, http.MethodPatch, http.MethodPost, http.MethodPut} {
		hit := new(bool)
		p := r.Clone(context.WithValue(ctx, allowProbeKey{}, hit))
		p.Method, p.Body, p.ContentLength = method, http.NoBody, 0
		mux.ServeHTTP(discardWriter{}, p)
		if *hit {
			allow = append(allow, method)
		}
	}
	return allow
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// forwardedHeaders reach gRPC metadata unchecked by grpc-gateway: a value
// gRPC refuses would fail the gateway's own call with Internal.
var forwardedHeaders = []string{"Authorization", "X-Forwarded-For", "X-Forwarded-Host"}

// scrubHeaders drops the other headers the gateway would forward but gRPC
// cannot carry (a UTF-8 cookie another local app set, an odd
// Grpc-Metadata- name). grpc-gateway skips them too, but writes a line to
// stderr for each, for any client to fill.
func scrubHeaders(h http.Header) {
	for k, vs := range h {
		name, ok := gatewayHeaders(k)
		if !ok || slices.Contains(forwardedHeaders, k) {
			continue
		}
		if !metadataKey(name) {
			delete(h, k)
			continue
		}
		if strings.HasSuffix(strings.ToLower(k), "-bin") {
			continue // base64, checked by the gateway
		}
		kept := slices.DeleteFunc(slices.Clone(vs), func(v string) bool { return !printableASCII(v) })
		if len(kept) == 0 {
			delete(h, k)
		} else {
			h[k] = kept
		}
	}
}

// metadataKey: the characters gRPC allows in a metadata name (any case:
// the client lowers it).
func metadataKey(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// middleware checks a request the REST gateway routed, before its handler.
func (e *httpEdge) middleware(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if hit, ok := r.Context().Value(allowProbeKey{}).(*bool); ok {
			*hit = true
			return
		}
		if in := inboundOf(r.Context()); in != nil {
			in.route, in.params = routeTemplate(r.Context()), params
		}
		for _, h := range forwardedHeaders {
			for _, v := range r.Header.Values(h) {
				if !printableASCII(v) {
					e.writeError(w, http.StatusBadRequest, invalid("header "+h+": only printable ASCII characters are allowed"))
					return
				}
			}
		}
		if err := checkAttributionHeaders(r.Header); err != nil {
			e.writeError(w, http.StatusBadRequest, err)
			return
		}
		scrubHeaders(r.Header)
		if vs := utf8Violations(params, r.URL.RawQuery); len(vs) > 0 {
			e.writeError(w, http.StatusBadRequest, service.InvalidArgument(vs...))
			return
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			if !jsonContentType(r.Header.Values("Content-Type")) {
				w.Header().Set("Accept-Post", "application/json")
				e.writeError(w, http.StatusUnsupportedMediaType, invalid("unsupported Content-Type: send the body as application/json"))
				return
			}
			r2 := *r
			body := r.Body
			if !uploadRoutes[routeTemplate(r.Context())] {
				body = http.MaxBytesReader(w, body, MaxRequestBytes) // the server's cap is the uploads' one
			}
			r2.Body = &edgeBody{ReadCloser: body}
			r = &r2
		}
		next(w, r, params)
	}
}

func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// jsonContentType: none, or one application/json or application/*+json
// (with any parameters).
func jsonContentType(values []string) bool {
	switch len(values) {
	case 0:
		return true
	case 1:
	default:
		return false
	}
	mt, _, err := mime.ParseMediaType(values[0])
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// utf8Violations names the path parameters and query parameters whose
// values (or names) are not UTF-8: protobuf strings must be.
func utf8Violations(params map[string]string, rawQuery string) []service.FieldViolation {
	var vs []service.FieldViolation
	add := func(field string) {
		vs = append(vs, service.FieldViolation{Field: strings.ToValidUTF8(field, "\uFFFD"), Description: "must be UTF-8 (percent-encode UTF-8 bytes)"})
	}
	for k, v := range params {
		if !utf8.ValidString(v) {
			add(k)
		}
	}
	q, _ := url.ParseQuery(rawQuery) // a malformed pair is the gateway's to refuse
	for k, values := range q {
		if !utf8.ValidString(k) {
			add(k)
			continue
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				add(k)
				break
			}
		}
	}
	slices.SortFunc(vs, func(a, b service.FieldViolation) int { return strings.Compare(a.Field, b.Field) })
	return vs
}

// edgeBody is a REST request body on its way to the decoder; the decoder
// leaves its refusal (or what it found wrong, relative to the message it
// decoded) here for errorHandler.
type edgeBody struct {
	io.ReadCloser
	refused error
	fault   *bodyFault
}

// edgeMarshaler is the REST gateway's JSON marshaler with a stricter
// decoder: a body is exactly one JSON value, and the JSON numbers and
// nesting of google.protobuf.Value fields (CallRequest params) are checked
// before protojson turns the numbers into doubles.
type edgeMarshaler struct{ runtime.Marshaler }

func (m *edgeMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		raw, err := io.ReadAll(r)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if b, ok := r.(*edgeBody); ok && errors.As(err, &tooLarge) {
				b.refused = &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge,
					Err: invalid("the body is larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes")}
			}
			return err
		}
		if len(bytes.Trim(raw, " \t\r\n")) == 0 {
			return io.EOF // no body: an empty request
		}
		msg, _ := v.(proto.Message)
		var md protoreflect.MessageDescriptor
		if msg != nil {
			md = msg.ProtoReflect().Descriptor()
		}
		if md != nil && len(raw) > MaxRequestBytes && nonFileBytes(raw, md) > MaxRequestBytes {
			err := invalid("the body is larger than " + strconv.Itoa(MaxRequestBytes) + " bytes, files aside")
			if b, ok := r.(*edgeBody); ok {
				b.refused = &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: err}
			}
			return err
		}
		var params []byte // CallRequest's params member, taken out of raw
		var vs []service.FieldViolation
		if md != nil && md.FullName() == callRequestName && json.Valid(raw) {
			raw, params, vs = takeParams(raw)
		}
		if len(vs) == 0 {
			vs = checkJSONBody(raw, md)
		}
		if len(vs) > 0 {
			err = service.InvalidArgument(vs...)
		} else if err = m.Unmarshal(raw, v); err != nil && md != nil {
			vs = bodyViolations(raw, md, err)
		} else if params != nil {
			vs, err = exactParams(msg, params)
		}
		if b, ok := r.(*edgeBody); ok && len(vs) > 0 {
			if md != nil {
				b.fault = &bodyFault{msg: md.FullName(), vs: vs}
			} else {
				b.refused = err // a body of a scalar field: no message to name fields in
			}
		}
		return err
	})
}

var callRequestName = (&gatewayv1.CallRequest{}).ProtoReflect().Descriptor().FullName()

// uploadRoutes are the REST routes (templates) of the RPCs whose requests
// carry files (service.MaxMessageBytes); TestUpload_Routes keeps the two in
// step.
var uploadRoutes = map[string]bool{
	"/v1/call":                          true,
	"/v1/shops/{open_id}/images:upload": true,
}

// maxUploadBodyBytes caps the body of a route whose request carries files:
// MaxRequestBytes and the files of service.MaxUploadBytes in base64, with
// room for their names.
const maxUploadBodyBytes = MaxRequestBytes + (service.MaxUploadBytes-MaxRequestBytes+2)/3*4 + 1024

// takeParams takes the params member out of the JSON object of a
// CallRequest (valid JSON), so that protojson never reads it as a Value of
// doubles: it returns the body without it and the member's text (nil when
// absent). A body naming params twice is refused.
func takeParams(raw []byte) (rest, params []byte, vs []service.FieldViolation) {
	rest = make([]byte, 1, len(raw))
	rest[0] = '{'
	twice := false
	ok := eachMember(raw, func(key, val []byte) bool {
		var k string
		if json.Unmarshal(key, &k) == nil && k == "params" {
			twice = params != nil
			params = val
			return !twice
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(append(append(rest, key...), ':'), val...)
		return true
	})
	switch {
	case twice:
		return raw, nil, []service.FieldViolation{{Field: "params", Description: "given twice"}}
	case !ok:
		return raw, nil, nil // not an object: protojson says so
	}
	return append(rest, '}'), params, nil
}

// exactParams puts params, the text of a REST CallRequest's params member,
// into msg as params_json: exactly, every number's digits as written.
func exactParams(msg proto.Message, params []byte) ([]service.FieldViolation, error) {
	req, ok := msg.(*gatewayv1.CallRequest)
	if !ok {
		return nil, nil
	}
	if req.GetParamsJson() != "" {
		vs := []service.FieldViolation{{Field: "params", Description: "set at most one of params and params_json"}}
		return vs, service.InvalidArgument(vs...)
	}
	exact, bad := service.ExactParams("params", params)
	if bad != nil {
		return []service.FieldViolation{*bad}, service.InvalidArgument(*bad)
	}
	req.ParamsJson = string(exact)
	return nil, nil
}

// nonFileBytes is the size of a JSON body without the values of its
// top-level bytes members (files in base64); len(raw) when the body is no
// JSON object or its type has no such members.
func nonFileBytes(raw []byte, md protoreflect.MessageDescriptor) int {
	fields := fieldsByName(md)
	fileBytes := 0
	ok := eachMember(raw, func(key, val []byte) bool {
		var k string
		if json.Unmarshal(key, &k) == nil {
			fd := fields[k]
			if fd != nil && (fd.Kind() == protoreflect.BytesKind || fd.IsMap() && fd.MapValue().Kind() == protoreflect.BytesKind) {
				fileBytes += len(val)
			}
		}
		return true
	})
	if !ok {
		return len(raw)
	}
	return len(raw) - fileBytes
}

// checkJSONBody finds what is wrong with a body that is not exactly one
// JSON value, and with params (any Value, Struct or ListValue field of
// messages of type md) nested deeper than service.MaxParamsDepth or holding
// a number a double cannot carry exactly.
func checkJSONBody(raw []byte, md protoreflect.MessageDescriptor) []service.FieldViolation {
	if !json.Valid(raw) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		var first json.RawMessage
		if err := dec.Decode(&first); err != nil {
			return []service.FieldViolation{{Description: "the body is not valid JSON: " + err.Error()}}
		}
		return []service.FieldViolation{{Description: "unexpected data after the JSON body (at byte " + strconv.FormatInt(dec.InputOffset(), 10) + ")"}}
	}
	if md == nil || !holdsValues(md) {
		return nil
	}
	return walkJSON(raw, md)
}

var holdsValuesMemo sync.Map // protoreflect.MessageDescriptor → bool (keyed like fieldsByNameMemo)

// holdsValues reports whether messages of type md can hold a Value,
// Struct or ListValue field at any depth.
func holdsValues(md protoreflect.MessageDescriptor) bool {
	return deepHolds(&holdsValuesMemo, md,
		func(md protoreflect.MessageDescriptor) (bool, bool) { v := isStructValue(md); return v, v },
		func(protoreflect.FieldDescriptor) bool { return false })
}

func isStructValue(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.ListValue":
		return true
	}
	return false
}

// jsonKind is how the walk treats a JSON value.
type jsonKind int

const (
	kindSkip  jsonKind = iota // a scalar field, an unknown one, a well-known type with its own JSON form
	kindMsg                   // a message: an object of fields
	kindList                  // a repeated field: an array
	kindMap                   // a map field: an object of entries
	kindValue                 // inside a Value, Struct or ListValue
)

type jsonType struct {
	kind jsonKind
	msg  protoreflect.MessageDescriptor // kindMsg
	elem protoreflect.FieldDescriptor   // kindList, kindMap: the field whose values the elements are
}

// singleType is the JSON type of one value of fd (an element, for a list).
func singleType(fd protoreflect.FieldDescriptor) jsonType {
	md := fd.Message()
	switch {
	case md == nil:
		return jsonType{}
	case isStructValue(md):
		return jsonType{kind: kindValue}
	case strings.HasPrefix(string(md.FullName()), "google.protobuf."):
		return jsonType{} // Timestamp, Duration, wrappers...: scalars in JSON
	}
	return jsonType{kind: kindMsg, msg: md}
}

// memberType is the JSON type of field fd's value.
func memberType(fd protoreflect.FieldDescriptor) jsonType {
	switch {
	case fd.IsMap():
		return jsonType{kind: kindMap, elem: fd.MapValue()}
	case fd.IsList():
		return jsonType{kind: kindList, elem: fd}
	}
	return singleType(fd)
}

// inexact describes a params number a double cannot carry.
func inexact(lit, sent string) string {
	if len(lit) > 40 {
		lit = lit[:40] + "…"
	}
	d := "the number " + lit + " cannot be sent exactly: params numbers are doubles, exact for integers only up to 2^53"
	if sent == "" {
		return d + " (this one is beyond a double's range)"
	}
	return d + " (this one would arrive as " + sent + ")"
}

type jsonFrame struct {
	t       jsonType
	obj     bool
	path    string
	wantKey bool
	key     string
	index   int
	root    string // kindValue: the path of the Value field
	level   int    // kindValue: this object's or array's level in it (1 = the field's own)
}

// walkJSON reads a valid JSON body as a message of type md, token by token
// (nesting costs no stack), and returns the violations in its Value
// fields: nesting past service.MaxParamsDepth, numbers a double cannot
// carry exactly (at most 10).
func walkJSON(raw []byte, md protoreflect.MessageDescriptor) []service.FieldViolation {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var vs []service.FieldViolation
	stack := []*jsonFrame{}
	// child returns the type, path and Value context of the next value.
	child := func() (t jsonType, path, root string, level int) {
		if len(stack) == 0 {
			return jsonType{kind: kindMsg, msg: md}, "", "", 0
		}
		f := stack[len(stack)-1]
		switch f.t.kind {
		case kindMsg:
			if !f.obj {
				return jsonType{}, "", "", 0
			}
			fd := f.t.msg.Fields().ByJSONName(f.key)
			if fd == nil {
				fd = f.t.msg.Fields().ByName(protoreflect.Name(f.key))
			}
			if fd == nil {
				return jsonType{}, "", "", 0 // protojson refuses it
			}
			path = string(fd.Name())
			if f.path != "" {
				path = f.path + "." + path
			}
			t = memberType(fd)
			return t, path, path, 0
		case kindList, kindMap:
			if f.obj != (f.t.kind == kindMap) {
				return jsonType{}, "", "", 0
			}
			if f.obj {
				path = f.path + "[" + strconv.Quote(f.key) + "]"
			} else {
				path = f.path + "[" + strconv.Itoa(f.index) + "]"
			}
			return singleType(f.t.elem), path, path, 0
		case kindValue:
			if f.obj {
				path = f.path + "." + f.key
			} else {
				path = f.path + "[" + strconv.Itoa(f.index) + "]"
			}
			return jsonType{kind: kindValue}, path, f.root, f.level
		}
		return jsonType{}, "", "", 0
	}
	done := func() { // a value ended
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; f.obj {
				f.wantKey = true
			} else {
				f.index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return vs // io.EOF (the body is valid JSON)
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; f.obj && f.wantKey {
				if key, ok := tok.(string); ok {
					f.key, f.wantKey = key, false
					continue
				}
			}
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				t, path, root, level := child()
				f := &jsonFrame{t: t, obj: tok == '{', path: path, wantKey: tok == '{', root: root}
				if t.kind == kindValue {
					f.level = level + 1
					if f.level > service.MaxParamsDepth {
						return append(vs, service.FieldViolation{Field: root, Description: service.ParamsTooDeep})
					}
				}
				stack = append(stack, f)
			default: // '}', ']'
				stack = stack[:len(stack)-1]
				done()
			}
		case json.Number:
			if t, path, _, _ := child(); t.kind == kindValue && len(vs) < 10 {
				if sent, exact := service.SentNumber(tok.String()); !exact {
					vs = append(vs, service.FieldViolation{Field: path, Description: inexact(tok.String(), sent)})
				}
			}
			done()
		default:
			done()
		}
	}
}
