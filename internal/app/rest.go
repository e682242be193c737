package app

// The REST conventions (docs/rest.md) that the generated REST gateway does
// not keep on its own: a request id on every answer, the route template for
// the http.route metric label, response headers without gRPC plumbing,
// empty lists written as [], and field violations for the values the
// gateway itself could not parse (a query parameter, a path segment, a
// body field). The error body and Retry-After are internal/rest's.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/api/httpbody"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/rest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// Request ids. A caller's X-Request-Id is kept when it is sane (printable
// ASCII, at most maxRequestIDLen characters, one header); otherwise the
// gateway makes one. The id is in the answer's X-Request-Id, in every log
// record written for the request (request_id; the REST gateway passes it
// to the gRPC server as x-request-id metadata), and on the HTTP server span
// (requestIDAttr).
const (
	requestIDHeader   = "X-Request-Id"
	requestIDMetadata = "x-request-id"
	requestIDAttr     = "kwaishop.http.request_id"
	maxRequestIDLen   = 128
)

func saneRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// inbound is what the HTTP edge knows of one request while it is served.
type inbound struct {
	id     string
	route  string            // the REST route template, set once the REST gateway routed the request
	params map[string]string // its path parameters
}

type inboundKey struct{}

func inboundOf(ctx context.Context) *inbound {
	in, _ := ctx.Value(inboundKey{}).(*inbound)
	return in
}

// beginRequest gives r its request id (answer header, span attribute) and
// returns the request to serve, whose context carries it. The returned
// request is a copy: the ServeMux below sets Pattern on the copy, not on
// the request otelhttp holds, so otelhttp takes http.route from the
// labeler only (endRequest).
func beginRequest(w http.ResponseWriter, r *http.Request) (*inbound, *http.Request) {
	in := &inbound{}
	if vs := r.Header.Values(requestIDHeader); len(vs) == 1 && saneRequestID(vs[0]) {
		in.id = vs[0]
	} else {
		in.id = rand.Text()
	}
	// Only the gateway says which request id reaches the gRPC server.
	r.Header.Del(runtime.MetadataHeaderPrefix + requestIDHeader)
	w.Header().Set(requestIDHeader, in.id)
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String(requestIDAttr, in.id))
	return in, r.WithContext(context.WithValue(r.Context(), inboundKey{}, in))
}

// endRequest labels the request's duration with its route template: the
// REST route (from the REST gateway's middleware) or the ServeMux pattern
// that served it. A request no route took has no http.route.
func endRequest(ctx context.Context, in *inbound, served *http.Request) {
	route := in.route
	if route == "" {
		if _, path, ok := strings.Cut(served.Pattern, "/"); ok && path != "" {
			route = "/" + path // "GET /healthz" → /healthz; the catch-all "/" is no route
		}
	}
	if l, ok := otelhttp.LabelerFromContext(ctx); ok && route != "" {
		l.Add(semconv.HTTPRoute(route))
	}
}

// requestIDOf is the request id of the request ctx serves: the HTTP
// edge's, or on the gRPC server the x-request-id metadata (sent by the
// REST gateway, or by a gRPC caller) when it is sane; "" otherwise.
func requestIDOf(ctx context.Context) string {
	if in := inboundOf(ctx); in != nil {
		return in.id
	}
	if vs := metadata.ValueFromIncomingContext(ctx, requestIDMetadata); len(vs) > 0 && saneRequestID(vs[0]) {
		return vs[0]
	}
	return ""
}

// requestIDMetadataFor is the REST gateway's metadata annotator: the
// request id, to the gRPC server.
func requestIDMetadataFor(_ context.Context, r *http.Request) metadata.MD {
	if id := requestIDOf(r.Context()); id != "" {
		return metadata.Pairs(requestIDMetadata, id)
	}
	return nil
}

// routeTemplate is a REST route as the protos write it: grpc-gateway's
// pattern string without its "=*" captures.
func routeTemplate(ctx context.Context) string {
	p, ok := runtime.HTTPPattern(ctx)
	if !ok {
		return ""
	}
	return strings.ReplaceAll(p.String(), "=*}", "}")
}

// outgoingHeaders are the gRPC response headers a REST answer carries, by
// the name it carries them under; grpc-gateway's default would send every
// header the gRPC server wrote (content-type included) as Grpc-Metadata-*.
// No trailer is forwarded.
var outgoingHeaders = map[string]string{service.ReplayHeader: "X-Kwaishop-Idempotent-Replay"}

func outgoingHeader(key string) (string, bool) {
	h, ok := outgoingHeaders[strings.ToLower(key)]
	return h, ok
}

func noTrailer(string) (string, bool) { return "", false }

// writeRESTError answers err in the REST error shape (internal/rest): the
// HTTP status of an *runtime.HTTPStatusError, else the one grpc-gateway
// maps the code to; the allowed gRPC response headers (a replayed write's
// stored error); a Bearer challenge on 401.
func writeRESTError(ctx context.Context, w http.ResponseWriter, err error) {
	httpStatus := 0
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		httpStatus, err = hs.HTTPStatus, hs.Err
	}
	st := status.Convert(normalize(err))
	if httpStatus == 0 {
		httpStatus = runtime.HTTPStatusFromCode(st.Code())
	}
	h := w.Header()
	h.Del("Trailer")
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		for k, vs := range md.HeaderMD {
			if name, ok := outgoingHeader(k); ok {
				for _, v := range vs {
					h.Add(name, v)
				}
			}
		}
	}
	if st.Code() == codes.Unauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="kwaishop-gateway"`)
	}
	rest.WriteError(w, httpStatus, st)
}

// rpcInput is the request message type of the RPC a REST route calls
// (nil before the route is known).
func rpcInput(ctx context.Context) protoreflect.MessageType {
	full, ok := runtime.RPCMethod(ctx)
	if !ok {
		return nil
	}
	svc, method, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil
	}
	return mt
}

// explainParseError turns a value the REST gateway could not put into the
// request (its own InvalidArgument, without details: a query parameter of
// the wrong type, a path segment that is not a number, a malformed query
// string) into an InvalidArgument with a field violation per value at
// fault, found by parsing each value again on its own.
func explainParseError(ctx context.Context, r *http.Request, err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument || len(st.Proto().GetDetails()) > 0 {
		return err
	}
	var vs []service.FieldViolation
	if mt := rpcInput(ctx); mt != nil {
		if in := inboundOf(ctx); in != nil {
			vs = append(vs, pathViolations(mt, in.params)...)
		}
		vs = append(vs, queryViolations(mt, r.URL.RawQuery)...)
	}
	if len(vs) == 0 {
		vs = append(vs, service.FieldViolation{Description: st.Message()})
	}
	return service.InvalidArgument(vs...)
}

func pathViolations(mt protoreflect.MessageType, params map[string]string) []service.FieldViolation {
	var vs []service.FieldViolation
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if err := runtime.PopulateFieldFromPath(mt.New().Interface(), k, params[k]); err != nil {
			vs = append(vs, service.FieldViolation{Field: fieldPath(mt.Descriptor(), k), Description: describe(err)})
		}
	}
	return vs
}

var noFilter = utilities.NewDoubleArray(nil)

// queryViolations parses the query parameters one name at a time, as the
// REST gateway does.
func queryViolations(mt protoreflect.MessageType, rawQuery string) []service.FieldViolation {
	var vs []service.FieldViolation
	values := url.Values{}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(k)
		_, verr := url.QueryUnescape(v)
		if kerr != nil || verr != nil || strings.Contains(pair, ";") {
			name := key
			if kerr != nil {
				name = k
			}
			vs = append(vs, service.FieldViolation{Field: strings.ToValidUTF8(fieldPath(mt.Descriptor(), name), "\uFFFD"),
				Description: "malformed query parameter: percent-encode reserved characters and separate parameters with &"})
			continue
		}
		val, _ := url.QueryUnescape(v)
		values[key] = append(values[key], val)
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if err := runtime.PopulateQueryParameters(mt.New().Interface(), url.Values{k: values[k]}, noFilter); err != nil {
			vs = append(vs, service.FieldViolation{Field: fieldPath(mt.Descriptor(), k), Description: describe(err)})
		}
	}
	return vs
}

// fieldPath is a dotted parameter name (proto or JSON field names) as the
// proto field path; a name that names no field is returned as it is.
func fieldPath(md protoreflect.MessageDescriptor, name string) string {
	var out []string
	for seg := range strings.SplitSeq(name, ".") {
		if md == nil {
			return name
		}
		fd := md.Fields().ByName(protoreflect.Name(seg))
		if fd == nil {
			fd = md.Fields().ByJSONName(seg)
		}
		if fd == nil {
			return name
		}
		out = append(out, string(fd.Name()))
		md = fd.Message()
	}
	return strings.Join(out, ".")
}

// describe is a parse error without the parser's prefixes.
func describe(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "proto:") {
		if i := strings.Index(s, "): "); i >= 0 {
			s = s[i+3:]
		}
		s = strings.TrimPrefix(s, "proto: ")
	}
	if strings.HasPrefix(s, "parsing field ") || strings.HasPrefix(s, "parsing list ") {
		if i := strings.Index(s, ": "); i >= 0 {
			s = s[i+2:]
		}
	}
	return s
}

// bodyFault is what was wrong with a request body, relative to the message
// it was decoded into (the request, or the field a route's body names).
type bodyFault struct {
	msg protoreflect.FullName
	vs  []service.FieldViolation
}

// status is the fault as an InvalidArgument whose field paths start at the
// request message.
func (f *bodyFault) status(ctx context.Context) error {
	prefix := ""
	if mt := rpcInput(ctx); mt != nil && mt.Descriptor().FullName() != f.msg {
		fields := mt.Descriptor().Fields()
		for i := range fields.Len() {
			if fd := fields.Get(i); fd.Message() != nil && fd.Message().FullName() == f.msg && !fd.IsList() && !fd.IsMap() {
				prefix = string(fd.Name())
				break
			}
		}
	}
	vs := make([]service.FieldViolation, 0, len(f.vs))
	for _, v := range f.vs {
		switch {
		case prefix == "":
		case v.Field == "":
			v.Field = prefix
		case strings.HasPrefix(v.Field, "["):
			v.Field = prefix + v.Field
		default:
			v.Field = prefix + "." + v.Field
		}
		vs = append(vs, v)
	}
	return service.InvalidArgument(vs...)
}

// bodyViolations finds the members of a JSON body that protojson refused
// (unmarshalErr) by decoding them one at a time, descending into message
// fields and lists of messages.
func bodyViolations(raw []byte, md protoreflect.MessageDescriptor, unmarshalErr error) []service.FieldViolation {
	members, ok := jsonMembers(raw)
	if !ok {
		return []service.FieldViolation{{Description: "the body must be a JSON object: " + describe(unmarshalErr)}}
	}
	var vs []service.FieldViolation
	for _, mem := range members {
		fd := md.Fields().ByName(protoreflect.Name(mem.key))
		if fd == nil {
			fd = md.Fields().ByJSONName(mem.key)
		}
		if fd == nil {
			vs = append(vs, service.FieldViolation{Field: strings.ToValidUTF8(mem.key, "\uFFFD"), Description: "unknown field"})
			continue
		}
		err := decodeMember(md, mem.key, mem.val)
		if err == nil {
			continue
		}
		name := string(fd.Name())
		sub := fd.Message()
		switch {
		case sub != nil && !isWellKnown(sub) && !fd.IsMap() && !fd.IsList():
			for _, v := range bodyViolations(mem.val, sub, err) {
				vs = append(vs, service.FieldViolation{Field: joinField(name, v.Field), Description: v.Description})
			}
		case sub != nil && !isWellKnown(sub) && fd.IsList():
			var elems []json.RawMessage
			if json.Unmarshal(mem.val, &elems) != nil {
				vs = append(vs, service.FieldViolation{Field: name, Description: describe(err)})
				continue
			}
			for i, el := range elems {
				if eerr := protojson.Unmarshal(el, dynamicpb.NewMessage(sub)); eerr != nil {
					for _, v := range bodyViolations(el, sub, eerr) {
						vs = append(vs, service.FieldViolation{Field: joinField(name+"["+strconv.Itoa(i)+"]", v.Field), Description: v.Description})
					}
				}
			}
		default:
			vs = append(vs, service.FieldViolation{Field: name, Description: describe(err)})
		}
	}
	if len(vs) == 0 {
		vs = append(vs, service.FieldViolation{Description: describe(unmarshalErr)})
	}
	return vs
}

func joinField(parent, child string) string {
	if child == "" {
		return parent
	}
	return parent + "." + child
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return strings.HasPrefix(string(md.FullName()), "google.protobuf.")
}

// decodeMember decodes one member of a body on its own.
func decodeMember(md protoreflect.MessageDescriptor, key string, val json.RawMessage) error {
	k, _ := json.Marshal(key)
	doc := make([]byte, 0, len(k)+len(val)+3)
	doc = append(append(append(append(doc, '{'), k...), ':'), val...)
	return protojson.Unmarshal(append(doc, '}'), dynamicpb.NewMessage(md))
}

type jsonMember struct {
	key string
	val json.RawMessage
}

// jsonMembers splits a JSON object into its members, in order.
func jsonMembers(raw []byte) ([]jsonMember, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []jsonMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		out = append(out, jsonMember{key, val})
	}
	return out, true
}

// newEdgeMarshaler is the REST gateway's JSON marshaler: proto field names,
// unknown fields refused, the decoder of edgeMarshaler.
func newEdgeMarshaler() *edgeMarshaler {
	return &edgeMarshaler{Marshaler: &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}}
}

// Marshal writes answers with every empty list as [] and every empty map as
// {} (protojson leaves them out, and its EmitDefaultValues would also write
// every zero number, "" and false), and errors, streamed ones included, in
// the REST error shape.
func (m *edgeMarshaler) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case *spb.Status:
		return rest.ErrorBody(status.FromProto(v)), nil
	case map[string]proto.Message: // a stream's error: {"error": status}
		if st, ok := v["error"].(*spb.Status); ok && len(v) == 1 {
			return wrapMember("error", rest.ErrorBody(status.FromProto(st))), nil
		}
	case map[string]any: // a stream's message: {"result": message}
		if msg, ok := v["result"].(proto.Message); ok && len(v) == 1 {
			raw, err := m.marshalMessage(msg)
			if err != nil {
				return nil, err
			}
			return wrapMember("result", raw), nil
		}
	case *httpbody.HttpBody:
	case proto.Message:
		return m.marshalMessage(v)
	}
	return m.Marshaler.Marshal(v)
}

func wrapMember(key string, raw []byte) []byte {
	return append(append([]byte(`{"`+key+`":`), raw...), '}')
}

func (m *edgeMarshaler) marshalMessage(msg proto.Message) ([]byte, error) {
	raw, err := m.Marshaler.Marshal(msg)
	if err == nil {
		if r, ok := msg.(*gatewayv1.CallResponse); ok {
			return exactAnswer(raw, r.GetBodyJson())
		}
	}
	if err != nil || !holdsCollections(msg.ProtoReflect().Descriptor()) {
		return raw, err
	}
	var buf bytes.Buffer
	if err := appendWithCollections(&buf, raw, msg.ProtoReflect()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lacksCollection reports whether m or a message inside it has an empty
// list or map field (which protojson left out).
func lacksCollection(m protoreflect.Message) bool {
	md := m.Descriptor()
	if isWellKnown(md) || !holdsCollections(md) {
		return false
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			if l.Len() == 0 {
				return true
			}
			if fd.Message() != nil {
				for j := range l.Len() {
					if lacksCollection(l.Get(j).Message()) {
						return true
					}
				}
			}
		case fd.IsMap():
			mp := m.Get(fd).Map()
			if mp.Len() == 0 {
				return true
			}
			if fd.MapValue().Message() != nil {
				found := false
				mp.Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
					found = lacksCollection(v.Message())
					return !found
				})
				if found {
					return true
				}
			}
		case fd.Message() != nil && m.Has(fd):
			if lacksCollection(m.Get(fd).Message()) {
				return true
			}
		}
	}
	return false
}

// Memos are keyed by the descriptor itself, not its name: two descriptors
// may share a full name (a test building one twice), and a field
// descriptor of one must never be used on a message of the other.
var fieldsByNameMemo sync.Map // protoreflect.MessageDescriptor → map[string]protoreflect.FieldDescriptor

// fieldsByName indexes md's fields by proto and JSON name (a map lookup
// by string(bytes) does not allocate).
func fieldsByName(md protoreflect.MessageDescriptor) map[string]protoreflect.FieldDescriptor {
	if v, ok := fieldsByNameMemo.Load(md); ok {
		return v.(map[string]protoreflect.FieldDescriptor)
	}
	fields := md.Fields()
	byName := make(map[string]protoreflect.FieldDescriptor, 2*fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		byName[fd.JSONName()] = fd
		byName[string(fd.Name())] = fd
	}
	fieldsByNameMemo.Store(md, byName)
	return byName
}

var holdsCollectionsMemo sync.Map // protoreflect.MessageDescriptor → bool

// holdsCollections reports whether messages of type md have a list or map
// field at any depth (well-known types aside: they have JSON forms of their
// own).
func holdsCollections(md protoreflect.MessageDescriptor) bool {
	return deepHolds(&holdsCollectionsMemo, md,
		func(md protoreflect.MessageDescriptor) (bool, bool) { return false, isWellKnown(md) },
		func(fd protoreflect.FieldDescriptor) bool { return fd.IsList() || fd.IsMap() })
}

// deepHolds reports, memoized in memo, whether md holds what is sought at
// any depth: stop tells of a message type on its own (holds, and whether
// that answer is final), field of a field; otherwise the walk goes on into
// the message of each field (the value of a map's). A type met again on
// the way counts as not holding it.
func deepHolds(memo *sync.Map, md protoreflect.MessageDescriptor,
	stop func(protoreflect.MessageDescriptor) (holds, final bool), field func(protoreflect.FieldDescriptor) bool) bool {
	if v, ok := memo.Load(md); ok {
		return v.(bool)
	}
	seen := map[protoreflect.FullName]bool{}
	var holds func(md protoreflect.MessageDescriptor) bool
	holds = func(md protoreflect.MessageDescriptor) bool {
		if h, final := stop(md); final {
			return h
		}
		if seen[md.FullName()] {
			return false
		}
		seen[md.FullName()] = true
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if field(fd) {
				return true
			}
			if fd.IsMap() {
				fd = fd.MapValue()
			}
			if fd.Message() != nil && holds(fd.Message()) {
				return true
			}
		}
		return false
	}
	h := holds(md)
	memo.Store(md, h)
	return h
}

var errNotJSONObject = errors.New("app: a message's JSON is not what protojson writes")

// exactAnswer writes raw, the protojson of a CallResponse, with its data
// and members written from body, the platform's answer (body_json), as
// the platform wrote them: protojson would write their numbers as doubles.
// Any other member is copied as it is.
func exactAnswer(raw []byte, body string) ([]byte, error) {
	if body == "" {
		return raw, nil
	}
	data, members, err := service.SplitAnswer([]byte(body))
	if err != nil {
		return raw, nil // body_json is no JSON object: the lossy forms stay
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(body))
	buf.WriteByte('{')
	n := 0
	ok := eachMember(raw, func(key, val []byte) bool {
		if n++; n > 1 {
			buf.WriteByte(',')
		}
		buf.Write(key)
		buf.WriteByte(':')
		switch string(key) {
		case `"data"`:
			buf.Write(bytes.TrimSpace(data))
		case `"members"`:
			buf.WriteByte('{')
			for j, mem := range members {
				if j > 0 {
					buf.WriteByte(',')
				}
				k, _ := json.Marshal(mem.Name)
				buf.Write(k)
				buf.WriteByte(':')
				buf.Write(bytes.TrimSpace(mem.Value))
			}
			buf.WriteByte('}')
		default:
			buf.Write(val)
		}
		return true
	})
	if !ok {
		return nil, errNotJSONObject
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// appendWithCollections writes raw, the protojson of m, with the empty
// list and map fields of m and of the messages inside it added. It scans
// raw once per level it changes (skipValue and friends below), copying
// every value it does not change as it is.
func appendWithCollections(buf *bytes.Buffer, raw []byte, m protoreflect.Message) error {
	md := m.Descriptor()
	if isWellKnown(md) || !lacksCollection(m) {
		buf.Write(raw)
		return nil
	}
	fields := md.Fields()
	buf.Grow(len(raw) + 64)
	var written [8]protoreflect.FieldNumber
	done := written[:0]
	buf.WriteByte('{')
	n := 0
	var err error
	ok := eachMember(raw, func(key, val []byte) bool {
		if n++; n > 1 {
			buf.WriteByte(',')
		}
		buf.Write(key)
		buf.WriteByte(':')
		// Field names hold no escapes; an extension's is no field name, and
		// its value stays as protojson wrote it.
		fd := fieldsByName(md)[string(key[1:len(key)-1])]
		if fd == nil {
			buf.Write(val)
			return true
		}
		done = append(done, fd.Number())
		err = appendFieldValue(buf, val, m, fd)
		return err == nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return errNotJSONObject
	}
	for j := range fields.Len() {
		fd := fields.Get(j)
		if !(fd.IsList() || fd.IsMap()) || slices.Contains(done, fd.Number()) {
			continue
		}
		if buf.Bytes()[buf.Len()-1] != '{' {
			buf.WriteByte(',')
		}
		buf.WriteString(`"` + string(fd.Name()) + `":`)
		if fd.IsList() {
			buf.WriteString("[]")
		} else {
			buf.WriteString("{}")
		}
	}
	buf.WriteByte('}')
	return nil
}

// appendFieldValue writes val, the JSON value of field fd of m.
func appendFieldValue(buf *bytes.Buffer, val []byte, m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	switch {
	case fd.IsList() && fd.Message() != nil && holdsCollections(fd.Message()):
		l := m.Get(fd).List()
		if len(val) == 0 || val[0] != '[' {
			return errNotJSONObject
		}
		buf.WriteByte('[')
		i := skipSpace(val, 1)
		for n := 0; i < len(val) && val[i] != ']'; n++ {
			end := skipValue(val, i)
			if end < 0 || n >= l.Len() {
				return errNotJSONObject
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			if err := appendWithCollections(buf, val[i:end], l.Get(n).Message()); err != nil {
				return err
			}
			i = skipSpace(val, end)
			if i < len(val) && val[i] == ',' {
				i = skipSpace(val, i+1)
			}
		}
		buf.WriteByte(']')
	case fd.IsMap() && fd.MapValue().Message() != nil && holdsCollections(fd.MapValue().Message()):
		entries, ok := jsonMembers(val)
		if !ok {
			return errNotJSONObject
		}
		mp := m.Get(fd).Map()
		buf.WriteByte('{')
		for i, e := range entries {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(e.key)
			buf.Write(k)
			buf.WriteByte(':')
			mk, err := mapKey(fd.MapKey(), e.key)
			if err != nil {
				return err
			}
			if err := appendWithCollections(buf, e.val, mp.Get(mk).Message()); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
		return appendWithCollections(buf, val, m.Get(fd).Message())
	default:
		buf.Write(val)
	}
	return nil
}

// eachMember calls fn with every member of the JSON object raw, in order:
// the key's JSON text (quotes included) and the value's text. It reports
// false when raw is not a JSON object (as protojson writes it, or a caller's
// body) or fn returned false. The one walk over an object's top-level
// members on the REST edge.
func eachMember(raw []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	if i = skipSpace(raw, i+1); i < len(raw) && raw[i] == '}' {
		return true
	}
	for {
		ks, ke := i, skipString(raw, i)
		if ke < 0 {
			return false
		}
		if i = skipSpace(raw, ke); i >= len(raw) || raw[i] != ':' {
			return false
		}
		vs := skipSpace(raw, i+1)
		ve := skipValue(raw, vs)
		if ve < 0 || !fn(raw[ks:ke], raw[vs:ve]) {
			return false
		}
		switch i = skipSpace(raw, ve); {
		case i < len(raw) && raw[i] == '}':
			return true
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		default:
			return false
		}
	}
}

// skipSpace is the index of the first byte at or after i that is not JSON
// white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString is the index just past the JSON string starting at b[i]; -1
// if there is none.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue is the index just past the JSON value starting at b[i] (valid
// JSON, as protojson writes it); -1 if it ends early.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
		i++
	}
	return i
}

// mapKey is a map key as protojson writes it (a JSON object key) back as a
// protobuf map key.
func mapKey(fd protoreflect.FieldDescriptor, s string) (protoreflect.MapKey, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		return protoreflect.ValueOfBool(b).MapKey(), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)).MapKey(), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		return protoreflect.ValueOfInt64(n).MapKey(), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)).MapKey(), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		return protoreflect.ValueOfUint64(n).MapKey(), err
	}
	return protoreflect.MapKey{}, errNotJSONObject
}
