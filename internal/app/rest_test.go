package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// These tests hold the REST contract of docs/rest.md, over real HTTP
// against a running gateway: one error body shape, Retry-After, request
// ids, no gRPC plumbing in headers, empty lists as [], 405 with Allow, and
// 404 for an order or refund the platform does not have.

// restFailure is a decoded REST error body.
type restFailure struct {
	code    string
	message string
	info    *errdetails.ErrorInfo
	bad     *errdetails.BadRequest
	retry   *errdetails.RetryInfo
}

// wantFailure asserts the one error body shape: JSON with exactly the
// members code (a google.rpc.Code name), message and details (an array of
// typed details, one of them an ErrorInfo), the HTTP status and the code.
func wantFailure(t *testing.T, status int, raw []byte, hdr http.Header, wantHTTP int, wantCode string) restFailure {
	t.Helper()
	if status != wantHTTP {
		t.Fatalf("HTTP %d, want %d: %s", status, wantHTTP, raw)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q: %s", ct, raw)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatalf("error body not a JSON object: %s", raw)
	}
	if len(members) != 3 || members["code"] == nil || members["message"] == nil || members["details"] == nil {
		t.Fatalf("error body members are not exactly code, message, details: %s", raw)
	}
	var f restFailure
	if err := json.Unmarshal(members["code"], &f.code); err != nil || f.code != wantCode {
		t.Fatalf("code %s, want %q: %s", members["code"], wantCode, raw)
	}
	if err := json.Unmarshal(members["message"], &f.message); err != nil || f.message == "" {
		t.Fatalf("no message: %s", raw)
	}
	var details []json.RawMessage
	if err := json.Unmarshal(members["details"], &details); err != nil {
		t.Fatalf("details is not an array: %s", raw)
	}
	for _, d := range details {
		var a anypb.Any
		if err := protojson.Unmarshal(d, &a); err != nil {
			t.Fatalf("detail %s: %v", d, err)
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *errdetails.ErrorInfo:
			f.info = m
		case *errdetails.BadRequest:
			f.bad = m
		case *errdetails.RetryInfo:
			f.retry = m
		}
	}
	if f.info == nil || f.info.GetReason() == "" || f.info.GetDomain() == "" {
		t.Fatalf("no ErrorInfo: %s", raw)
	}
	return f
}

func (f restFailure) violation(field string) bool { return violates(f.bad, field) }

// noGRPCHeaders fails on any response header that is gRPC plumbing.
func noGRPCHeaders(t *testing.T, hdr http.Header) {
	t.Helper()
	for k := range hdr {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "grpc-") || lk == "trailer" {
			t.Errorf("response header %s: %v", k, hdr[k])
		}
	}
}

// serverSpanWith finds the HTTP server span carrying the request id.
func (g *gateway) serverSpanWith(id string) bool {
	for _, s := range g.spans.Ended() {
		if s.SpanKind() != trace.SpanKindServer {
			continue
		}
		for _, a := range s.Attributes() {
			if a.Key == requestIDAttr && a.Value.AsString() == id {
				return true
			}
		}
	}
	return false
}

func TestREST_Contract(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	jsonCT := map[string]string{"Content-Type": "application/json"}

	t.Run("request_id_echoed_logged_and_traced", func(t *testing.T) {
		id := "contract-" + rid(t)
		code, raw, hdr := edgeProbe(t, g, http.MethodGet, "/v1/authorizations/"+openID, "", map[string]string{"X-Request-Id": id}, "")
		if code != http.StatusOK || hdr.Get("X-Request-Id") != id {
			t.Fatalf("%d X-Request-Id %q, want %q: %s", code, hdr.Get("X-Request-Id"), id, raw)
		}
		if !strings.Contains(g.logs.String(), `"request_id":"`+id+`"`) {
			t.Fatalf("no log line carries request_id %s", id)
		}
		if !g.serverSpanWith(id) {
			t.Fatalf("no server span has %s=%s", requestIDAttr, id)
		}
		// A refusal of the edge, before any route, carries it too.
		code, _, hdr = edgeProbe(t, g, http.MethodPost, "/v1/call", "x", map[string]string{"X-Request-Id": id + "-2", "Content-Type": "text/plain"}, "")
		if code != http.StatusUnsupportedMediaType || hdr.Get("X-Request-Id") != id+"-2" {
			t.Fatalf("refusal: %d X-Request-Id %q", code, hdr.Get("X-Request-Id"))
		}
	})

	t.Run("request_id_generated", func(t *testing.T) {
		seen := map[string]bool{}
		for _, tc := range []struct {
			name, path, sent string
		}{
			{"none", "/v1/authorizations", ""},
			{"too_long", "/v1/authorizations", strings.Repeat("a", 129)},
			{"not_ascii", "/v1/authorizations", "caf\xc3\xa9"},
			{"not_found_route", "/v1/nothing-here", ""},
			{"probe", "/healthz", ""},
			{"push", PushPath, ""},
		} {
			hdrs := map[string]string{}
			if tc.sent != "" {
				hdrs["X-Request-Id"] = tc.sent
			}
			_, _, hdr := edgeProbe(t, g, http.MethodGet, tc.path, "", hdrs, "")
			got := hdr.Get("X-Request-Id")
			if !saneRequestID(got) || got == tc.sent || seen[got] {
				t.Fatalf("%s: X-Request-Id %q (sent %q, seen before: %v)", tc.name, got, tc.sent, seen[got])
			}
			seen[got] = true
		}
		// 128 printable characters are the caller's own.
		long := strings.Repeat("b", 127) + "~"
		if _, _, hdr := edgeProbe(t, g, http.MethodGet, "/v1/authorizations", "", map[string]string{"X-Request-Id": long}, ""); hdr.Get("X-Request-Id") != long {
			t.Fatalf("128 characters not kept: %q", hdr.Get("X-Request-Id"))
		}
	})

	t.Run("no_grpc_metadata_headers", func(t *testing.T) {
		for _, tc := range []struct{ method, path, body string }{
			{http.MethodGet, "/v1/authorizations", ""},
			{http.MethodGet, "/v1/authorizations/no-such-shop", ""},
			{http.MethodPost, "/v1/call", callBody(t, openID, "open.shop.info.get", nil)},
			{http.MethodPost, "/v1/call", `{}`},
		} {
			_, _, hdr := edgeProbe(t, g, tc.method, tc.path, tc.body, jsonCT, "")
			noGRPCHeaders(t, hdr)
		}
		// The one header the services mean for callers keeps its name.
		id := g.newOrder(t, 30)
		path := shopPath(openID, "/orders/"+strconv.FormatInt(id, 10)+":ship")
		body := `{"express_code":9,"express_no":"ZTO3000000001","request_id":"` + rid(t) + `"}`
		for i, want := range []string{"", "true"} {
			code, raw, hdr := edgeProbe(t, g, http.MethodPost, path, body, jsonCT, "")
			if code != http.StatusOK || hdr.Get("X-Kwaishop-Idempotent-Replay") != want {
				t.Fatalf("ship %d: %d replay header %q, want %q: %s", i, code, hdr.Get("X-Kwaishop-Idempotent-Replay"), want, raw)
			}
			noGRPCHeaders(t, hdr)
		}
	})

	t.Run("empty_lists_are_arrays", func(t *testing.T) {
		code, raw, _ := edgeProbe(t, g, http.MethodGet, "/v1/authorizations?status=AUTHORIZATION_STATUS_REVOKED", "", nil, "")
		if code != http.StatusOK || string(bytes.TrimSpace(raw)) != `{"authorizations":[]}` {
			t.Fatalf("empty list: %d %s", code, raw)
		}
		// Zero scalars stay out; lists inside messages are arrays too.
		code, raw, _ = edgeProbe(t, g, http.MethodGet, "/v1/stats/messages?window=1h", "", nil, "")
		if code != http.StatusOK {
			t.Fatalf("stats: %d %s", code, raw)
		}
		checkArrays(t, raw, (&gatewayv1.GetMessageStatsResponse{}).ProtoReflect().Descriptor())
	})

	t.Run("one_error_shape", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body string
			header                   map[string]string
			http                     int
			code, field              string
		}{
			{"unknown_route", http.MethodGet, "/v1/no-such-thing", "", nil, 404, "NOT_FOUND", ""},
			{"wrong_verb", http.MethodDelete, "/v1/call", "", nil, 405, "UNIMPLEMENTED", ""},
			{"form_body", http.MethodPost, "/v1/call", "a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "INVALID_ARGUMENT", ""},
			{"unknown_shop", http.MethodGet, "/v1/authorizations/no-such-shop", "", nil, 404, "NOT_FOUND", ""},
			{"validator", http.MethodPost, "/v1/call", `{}`, jsonCT, 400, "INVALID_ARGUMENT", "method"},
			{"bad_timestamp_query", http.MethodGet, shopPath(openID, "/orders?start_time=yesterday"), "", nil, 400, "INVALID_ARGUMENT", "start_time"},
			{"bad_timestamp_query_json_name", http.MethodGet, shopPath(openID, "/orders?page_size=10&endTime=soon"), "", nil, 400, "INVALID_ARGUMENT", "end_time"},
			{"bad_int_query", http.MethodGet, shopPath(openID, "/orders?page_size=many"), "", nil, 400, "INVALID_ARGUMENT", "page_size"},
			{"bad_enum_query", http.MethodGet, "/v1/authorizations?status=GONE", "", nil, 400, "INVALID_ARGUMENT", "status"},
			{"repeated_scalar_query", http.MethodGet, "/v1/authorizations?page_token=a&page_token=b", "", nil, 400, "INVALID_ARGUMENT", "page_token"},
			{"bad_escape_query", http.MethodGet, "/v1/authorizations?page_token=%zz", "", nil, 400, "INVALID_ARGUMENT", "page_token"},
			{"bad_path_param", http.MethodGet, shopPath(openID, "/orders/twelve"), "", nil, 400, "INVALID_ARGUMENT", "order_id"},
			{"wrong_type_in_body", http.MethodPost, "/v1/call", `{"open_id":5,"method":"open.shop.info.get"}`, jsonCT, 400, "INVALID_ARGUMENT", "open_id"},
			{"unknown_field_in_body", http.MethodPost, "/v1/call", `{"method":"open.shop.info.get","bogus":1}`, jsonCT, 400, "INVALID_ARGUMENT", "bogus"},
			{"bad_nested_field_in_body", http.MethodPost, "/v1/messages:pull", `{"group":"g","group_options":{"start_position":"SOMETIME"}}`, jsonCT, 400, "INVALID_ARGUMENT", "group_options.start_position"},
			{"bad_body_with_path_params", http.MethodPost, shopPath(openID, "/orders/1:ship"), `{"express_code":"nine"}`, jsonCT, 400, "INVALID_ARGUMENT", "express_code"},
			{"malformed_json", http.MethodPost, "/v1/call", `{"method":`, jsonCT, 400, "INVALID_ARGUMENT", ""},
			{"body_not_an_object", http.MethodPost, "/v1/call", `[1]`, jsonCT, 400, "INVALID_ARGUMENT", ""},
			{"too_large", http.MethodPost, "/v1/call", `{"open_id":"` + strings.Repeat("a", MaxRequestBytes) + `"}`, jsonCT, 413, "INVALID_ARGUMENT", ""},
			{"order_not_found", http.MethodGet, shopPath(openID, "/orders/1"), "", nil, 404, "NOT_FOUND", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, raw, hdr := edgeProbe(t, g, tc.method, tc.path, tc.body, tc.header, "")
				f := wantFailure(t, code, raw, hdr, tc.http, tc.code)
				noGRPCHeaders(t, hdr)
				if tc.code == "INVALID_ARGUMENT" && (f.bad == nil || len(f.bad.GetFieldViolations()) == 0) {
					t.Fatalf("no BadRequest: %s", raw)
				}
				if tc.field != "" && !f.violation(tc.field) {
					t.Fatalf("no violation of %s: %s", tc.field, raw)
				}
			})
		}
	})

	t.Run("405_names_the_verbs", func(t *testing.T) {
		code, raw, hdr := edgeProbe(t, g, http.MethodPut, "/v1/authorizations/"+openID, "", nil, "")
		wantFailure(t, code, raw, hdr, http.StatusMethodNotAllowed, "UNIMPLEMENTED")
		if hdr.Get("Allow") != "DELETE, GET" {
			t.Fatalf("Allow %q", hdr.Get("Allow"))
		}
	})

	t.Run("retry_after_from_retry_info", func(t *testing.T) {
		// More QPS rejections than the client retries: the call fails with
		// the platform's rate limit (UNAVAILABLE, RetryInfo 1 s).
		if _, err := g.info.Sandbox.InjectFault(sandbox.Fault{Method: "open.shop.info.get", Kind: sandbox.FaultResult, Result: platform.ResultQPSExceeded}); err != nil {
			t.Fatal(err)
		}
		defer g.info.Sandbox.ClearFaults()
		code, raw, hdr := edgeProbe(t, g, http.MethodGet, shopPath(openID, ""), "", nil, "")
		f := wantFailure(t, code, raw, hdr, http.StatusServiceUnavailable, "UNAVAILABLE")
		if f.retry == nil || hdr.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q, RetryInfo %v: %s", hdr.Get("Retry-After"), f.retry, raw)
		}
		// Without RetryInfo, no Retry-After.
		code, raw, hdr = edgeProbe(t, g, http.MethodGet, "/v1/authorizations/no-such-shop", "", nil, "")
		if wantFailure(t, code, raw, hdr, http.StatusNotFound, "NOT_FOUND"); hdr.Get("Retry-After") != "" {
			t.Fatalf("Retry-After on a 404: %q", hdr.Get("Retry-After"))
		}
	})

	t.Run("missing_order_and_refund_are_404", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			result string
		}{
			{shopPath(openID, "/orders/1"), strconv.FormatInt(platform.ResultOperationReject, 10)},
			{shopPath(openID, "/refunds/1"), strconv.FormatInt(platform.ResultRefundNotFound, 10)},
		} {
			code, raw, hdr := edgeProbe(t, g, http.MethodGet, tc.path, "", nil, "")
			f := wantFailure(t, code, raw, hdr, http.StatusNotFound, "NOT_FOUND")
			if f.info.GetDomain() != service.DomainPlatform || f.info.GetMetadata()["result"] != tc.result {
				t.Fatalf("%s: ErrorInfo %v", tc.path, f.info)
			}
		}
		c := newCommerceClients(g)
		_, err := c.order.GetOrder(context.Background(), &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: 1})
		statusOf(t, err, codes.NotFound)
		// Elsewhere result 21 keeps its meaning: a write on an order that is
		// not the shop's, and the raw relay of the same platform call.
		_, err = c.order.CloseOrder(context.Background(), &gatewayv1.CloseOrderRequest{OpenId: openID, OrderId: 1, RequestId: rid(t)})
		statusOf(t, err, codes.PermissionDenied)
		params, _ := structpb.NewValue(map[string]any{"oid": 1})
		_, err = c.platform.Call(context.Background(), &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: params})
		statusOf(t, err, codes.PermissionDenied)
	})
}

// TestREST_RetryAfterOn429: a client-side daily quota answers 429 with
// RetryInfo, and the Retry-After header says the same in seconds.
func TestREST_RetryAfterOn429(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	cfg.Limit.DailyQuota = 2
	g := startGatewayWith(t, cfg, Options{})
	var last struct {
		code int
		raw  []byte
		hdr  http.Header
	}
	for range 10 {
		last.code, last.raw, last.hdr = edgeProbe(t, g, http.MethodGet, shopPath(g.info.SandboxOpenID, ""), "", nil, "")
		if last.code != http.StatusOK {
			break
		}
	}
	f := wantFailure(t, last.code, last.raw, last.hdr, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED")
	if f.retry == nil {
		t.Fatalf("no RetryInfo: %s", last.raw)
	}
	secs, err := strconv.Atoi(last.hdr.Get("Retry-After"))
	want := int(f.retry.GetRetryDelay().AsDuration().Round(time.Second) / time.Second)
	if err != nil || secs < want || secs > want+1 {
		t.Fatalf("Retry-After %q, RetryInfo %v", last.hdr.Get("Retry-After"), f.retry.GetRetryDelay().AsDuration())
	}
}

// checkArrays asserts that raw, a JSON answer of message type md, has an
// array for every list field of every message in it (empty ones included),
// an object for every map field, and no zero scalar.
func checkArrays(t *testing.T, raw []byte, md protoreflect.MessageDescriptor) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(obj map[string]any, md protoreflect.MessageDescriptor, at string)
	walk = func(obj map[string]any, md protoreflect.MessageDescriptor, at string) {
		if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
			return
		}
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			x, present := obj[string(fd.Name())]
			switch {
			case fd.IsList():
				list, ok := x.([]any)
				if !ok {
					t.Errorf("%s.%s = %v, want an array", at, fd.Name(), x)
				}
				for j, e := range list {
					if o, ok := e.(map[string]any); ok && fd.Message() != nil {
						walk(o, fd.Message(), at+"."+string(fd.Name())+"["+strconv.Itoa(j)+"]")
					}
				}
			case fd.IsMap():
				if _, ok := x.(map[string]any); !ok {
					t.Errorf("%s.%s = %v, want an object", at, fd.Name(), x)
				}
			case !present:
			case fd.Message() != nil:
				if o, ok := x.(map[string]any); ok {
					walk(o, fd.Message(), at+"."+string(fd.Name()))
				}
			case x == nil || x == "" || x == "0" || x == float64(0) || x == false:
				t.Errorf("%s.%s is a zero scalar %v", at, fd.Name(), x)
			}
		}
	}
	walk(v, md, "$")
}

// TestEdgeMarshaler_EmptyLists: every empty repeated field of the answer
// and of the messages inside it is written [], every empty map {}, while
// zero scalars stay out and well-known types keep their own JSON.
func TestEdgeMarshaler_EmptyLists(t *testing.T) {
	t.Parallel()
	m := newEdgeMarshaler()
	params, _ := structpb.NewStruct(map[string]any{"list": []any{}, "obj": map[string]any{}})
	for _, tc := range []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"top_level", &gatewayv1.ListOrdersResponse{}, `{"orders":[]}`},
		{"nested", &gatewayv1.ListOrdersResponse{Orders: []*gatewayv1.Order{{OrderId: 7}}, NextPageToken: "n"},
			`{"orders":[{"order_id":"7","logistics":[],"refunds":[],"notes":[]}],"next_page_token":"n"}`},
		{"value_keeps_its_json", &gatewayv1.CallRequest{Method: "m", Params: structpb.NewStructValue(params)},
			`{"method":"m","params":{"list":[],"obj":{}},"files":{}}`}, // every collection is present, maps too
		{"timestamp", &gatewayv1.ListOrdersRequest{StartTime: timestamppb.New(time.Unix(0, 0).UTC())},
			`{"start_time":"1970-01-01T00:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw, err := m.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, raw, []byte(tc.want)) {
				t.Fatalf("got %s\nwant %s", raw, tc.want)
			}
			// The answer still decodes to the same message.
			back := tc.msg.ProtoReflect().New().Interface()
			if err := protojson.Unmarshal(raw, back); err != nil || !proto.Equal(back, tc.msg) {
				t.Fatalf("round trip: %v %v", err, back)
			}
		})
	}
}

// TestEdgeMarshaler_Maps: an empty map is {}, and the messages a map holds
// get their empty lists too (no gateway message has a map today; the
// marshaler must not depend on that).
func TestEdgeMarshaler_Maps(t *testing.T) {
	t.Parallel()
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("maptest.proto"), Package: proto.String("maptest"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Inner"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("tags"), JsonName: proto.String("tags"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
				{Name: proto.String("n"), JsonName: proto.String("n"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()},
			}},
			{Name: proto.String("Outer"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("by_id"), JsonName: proto.String("byId"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(),
					Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".maptest.Outer.ByIdEntry")},
				{Name: proto.String("labels"), JsonName: proto.String("labels"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(),
					Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".maptest.Outer.LabelsEntry")},
			}, NestedType: []*descriptorpb.DescriptorProto{
				{Name: proto.String("ByIdEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}, Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), JsonName: proto.String("key"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
					{Name: proto.String("value"), JsonName: proto.String("value"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".maptest.Inner")},
				}},
				{Name: proto.String("LabelsEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}, Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), JsonName: proto.String("key"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
					{Name: proto.String("value"), JsonName: proto.String("value"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
				}},
			}},
		},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	outer := dynamicpb.NewMessage(fd.Messages().ByName("Outer"))
	inner := dynamicpb.NewMessage(fd.Messages().ByName("Inner"))
	inner.Set(inner.Descriptor().Fields().ByName("n"), protoreflect.ValueOfInt32(3))
	outer.Mutable(outer.Descriptor().Fields().ByName("by_id")).Map().Set(protoreflect.ValueOfInt64(-7).MapKey(), protoreflect.ValueOfMessage(inner))
	raw, err := newEdgeMarshaler().Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"by_id":{"-7":{"n":3,"tags":[]}},"labels":{}}`; !jsonEqual(t, raw, []byte(want)) {
		t.Fatalf("got %s, want %s", raw, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// benchOrders is a page of 100 orders as the sandbox answers them: every
// order with its item and address, half with a logistics record, none with
// notes (an empty list in each).
func benchOrders() *gatewayv1.ListOrdersResponse {
	resp := &gatewayv1.ListOrdersResponse{NextPageToken: strings.Repeat("t", 64)}
	for i := range 100 {
		o := &gatewayv1.Order{
			OrderId: 2613658979946016 + int64(i), Status: gatewayv1.OrderStatus(3), CreateTime: timestamppb.Now(), UpdateTime: timestamppb.Now(),
			PayTime: timestamppb.Now(), TotalFen: 12900, ExpressFeeFen: 800, BuyerOpenId: strings.Repeat("b", 32), BuyerNick: "买家",
			Item:    &gatewayv1.OrderItem{ItemId: 1000 + int64(i), SkuId: 2000 + int64(i), Title: "商品标题 title", SkuDesc: "红色; XL", Quantity: 1, PriceFen: 12900},
			Address: &gatewayv1.OrderAddress{}, Raw: `{"orderBaseInfo":{"oid":1}}`,
		}
		if i%2 == 0 {
			o.Logistics = []*gatewayv1.OrderLogistics{{LogisticsId: 1, ExpressCode: 9, ExpressNo: "ZTO1"}}
		}
		resp.Orders = append(resp.Orders, o)
	}
	return resp
}

// BenchmarkEdgeMarshaler_ListOrdersPage: the cost of writing empty lists,
// against the plain protojson marshaler the REST gateway used before.
func BenchmarkEdgeMarshaler_ListOrdersPage(b *testing.B) {
	resp := benchOrders()
	plain := newEdgeMarshaler().Marshaler
	edge := newEdgeMarshaler()
	for _, bc := range []struct {
		name string
		m    interface{ Marshal(any) ([]byte, error) }
	}{{"protojson", plain}, {"with_empty_lists", edge}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw, err := bc.m.Marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(raw)))
			}
		})
	}
}

// TestREST_ConsumerGroupIsAString holds one field shape for the consumer
// group: every MessageService request and response names it by a string
// `group`; the settings of a group that a pull or subscribe may create
// travel beside it in `group_options`. Over real HTTP, pull, ack, replay
// and the dead-letter list take the same string, and the old object shape
// is refused.
func TestREST_ConsumerGroupIsAString(t *testing.T) {
	sd := gatewayv1.File_kwaishop_gateway_v1_message_proto.Services().ByName("MessageService")
	for i := range sd.Methods().Len() {
		m := sd.Methods().Get(i)
		for _, md := range []protoreflect.MessageDescriptor{m.Input(), m.Output()} {
			walkGroupFields(t, md, map[protoreflect.FullName]bool{})
		}
	}

	g := startMessageGateway(t, nil)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	post := func(t *testing.T, path, body string) (int, []byte, http.Header) {
		t.Helper()
		return edgeProbe(t, g, http.MethodPost, path, body, jsonCT, "")
	}
	from := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	pull := `{"group":"shapes","group_options":{"open_ids":["` + g.info.SandboxOpenID + `"],"start_position":"START_POSITION_BEGINNING"},"max_messages":10,"wait":"10s"}`
	createOrders(t, g, 1, 10)
	settle(t, g.info.Sandbox)
	code, raw, _ := post(t, "/v1/messages:pull", pull)
	var pulled gatewayv1.PullMessagesResponse
	if code != http.StatusOK || protojson.Unmarshal(raw, &pulled) != nil || len(pulled.GetDeliveries()) == 0 {
		t.Fatalf("pull: %d %s", code, raw)
	}
	ack := `{"group":"shapes","ack":{"delivery_ids":["` + pulled.GetDeliveries()[0].GetDeliveryId() + `"]}}`
	if code, raw, _ := post(t, "/v1/messages:ack", ack); code != http.StatusOK {
		t.Fatalf("ack: %d %s", code, raw)
	}
	if code, raw, _ := post(t, "/v1/messages:replay", `{"group":"shapes","start_time":"`+from+`"}`); code != http.StatusOK {
		t.Fatalf("replay: %d %s", code, raw)
	}
	if code, raw, _ := edgeProbe(t, g, http.MethodGet, "/v1/dead-letters?group=shapes", "", nil, ""); code != http.StatusOK {
		t.Fatalf("dead letters: %d %s", code, raw)
	}
	// The object shape of before is not accepted anywhere.
	for _, tc := range []struct{ path, body string }{
		{"/v1/messages:pull", `{"group":{"name":"shapes"}}`},
		{"/v1/messages:ack", `{"group":{"name":"shapes"},"ack":{"delivery_ids":["x"]}}`},
		{"/v1/messages:replay", `{"group":{"name":"shapes"},"start_time":"` + from + `"}`},
	} {
		code, raw, hdr := post(t, tc.path, tc.body)
		if f := wantFailure(t, code, raw, hdr, http.StatusBadRequest, "INVALID_ARGUMENT"); !f.violation("group") {
			t.Fatalf("%s: no violation of group: %s", tc.path, raw)
		}
	}
	// A group name is still checked where the settings are given, and a
	// violation inside the settings names its path under group_options.
	for body, field := range map[string]string{
		`{"group":"no spaces!","group_options":{"start_position":"START_POSITION_BEGINNING"}}`: "group",
		`{"group":"shapes-t","group_options":{"start_position":"START_POSITION_TIME"}}`:        "group_options.start_time",
	} {
		code, raw, hdr := post(t, "/v1/messages:pull", body)
		if f := wantFailure(t, code, raw, hdr, http.StatusBadRequest, "INVALID_ARGUMENT"); !f.violation(field) {
			t.Fatalf("%s: no violation of %s: %s", body, field, raw)
		}
	}
}

// walkGroupFields fails on any field named group (in md or the messages it
// holds) that is not a string.
func walkGroupFields(t *testing.T, md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) {
	t.Helper()
	if seen[md.FullName()] || md.ParentFile().Package() != "kwaishop.gateway.v1" {
		return
	}
	seen[md.FullName()] = true
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		if fd.Name() == "group" && (fd.Kind() != protoreflect.StringKind || fd.IsList()) {
			t.Errorf("%s is %s, want a string name", fd.FullName(), fd.Kind())
		}
		if fd.Message() != nil {
			walkGroupFields(t, fd.Message(), seen)
		}
	}
}
