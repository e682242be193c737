package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1" // registers the protos
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// The OpenAPI document served at /openapi.json, checked against the
// protos and against what the gateway answers over real HTTP. The
// document's validity as OpenAPI 3 is checked where it is generated
// (kin-openapi, in tools/protoc-gen-openapi3) and in CI by
// scripts/openapi-check.sh (redocly lint, openapi-typescript, tsc).

// apiDoc is the part of an OpenAPI 3 document these tests read.
type apiDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths      map[string]map[string]*apiOperation `json:"paths"`
	Components struct {
		Schemas         map[string]*apiSchema   `json:"schemas"`
		Responses       map[string]*apiResponse `json:"responses"`
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type apiOperation struct {
	Security   *[]map[string][]string `json:"security"`
	Parameters []struct {
		Name     string     `json:"name"`
		In       string     `json:"in"`
		Required bool       `json:"required"`
		Schema   *apiSchema `json:"schema"`
	} `json:"parameters"`
	RequestBody *struct {
		Required bool `json:"required"`
		Content  map[string]struct {
			Schema *apiSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]*apiResponse `json:"responses"`
}

type apiResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema *apiSchema `json:"schema"`
	} `json:"content"`
}

type apiSchema struct {
	Ref                  string                `json:"$ref"`
	Type                 string                `json:"type"`
	Format               string                `json:"format"`
	Description          string                `json:"description"`
	Enum                 []any                 `json:"enum"`
	Properties           map[string]*apiSchema `json:"properties"`
	AdditionalProperties *apiSchema            `json:"additionalProperties"`
	Required             []string              `json:"required"`
	Items                *apiSchema            `json:"items"`
	AllOf                []*apiSchema          `json:"allOf"`
	AnyOf                []*apiSchema          `json:"anyOf"`
}

func fetchAPIDoc(t *testing.T, g *gateway) *apiDoc {
	t.Helper()
	code, raw, h := g.restCall(t, http.MethodGet, "/openapi.json", nil, nil)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("/openapi.json: %d %s", code, h.Get("Content-Type"))
	}
	var doc apiDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

func (d *apiDoc) schema(s *apiSchema) *apiSchema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// response is the JSON schema of an operation's answer with status code.
func (d *apiDoc) response(op *apiOperation, code string) *apiSchema {
	r := op.Responses[code]
	if r != nil && r.Ref != "" {
		r = d.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	}
	if r == nil {
		return nil
	}
	return r.Content["application/json"].Schema
}

// restRoute is one google.api.http binding of a gateway RPC.
type restRoute struct {
	method    protoreflect.MethodDescriptor
	verb      string // lower case, as OpenAPI keys operations
	path      string
	body      string
	pathField map[string]bool
}

var pathFieldPattern = regexp.MustCompile(`{([^}=]+)}`)

func restRoutes(t *testing.T) []restRoute {
	t.Helper()
	var routes []restRoute
	protoregistry.GlobalFiles.RangeFilesByPackage("kwaishop.gateway.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			ms := fd.Services().Get(i).Methods()
			for j := range ms.Len() {
				m := ms.Get(j)
				rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil || rule.GetPattern() == nil {
					continue
				}
				r := restRoute{method: m, body: rule.GetBody(), pathField: map[string]bool{}}
				switch p := rule.GetPattern().(type) {
				case *annotations.HttpRule_Get:
					r.verb, r.path = "get", p.Get
				case *annotations.HttpRule_Post:
					r.verb, r.path = "post", p.Post
				case *annotations.HttpRule_Delete:
					r.verb, r.path = "delete", p.Delete
				case *annotations.HttpRule_Put:
					r.verb, r.path = "put", p.Put
				case *annotations.HttpRule_Patch:
					r.verb, r.path = "patch", p.Patch
				}
				for _, f := range pathFieldPattern.FindAllStringSubmatch(r.path, -1) {
					r.pathField[f[1]] = true
				}
				routes = append(routes, r)
			}
		}
		return true
	})
	if len(routes) < 40 {
		t.Fatalf("only %d REST routes in the registry", len(routes))
	}
	return routes
}

// TestOpenAPI_Document: /openapi.json is an OpenAPI 3 document with a real
// title and version; it documents every REST route of the protos, each
// /v1 operation behind the bearer scheme with every error status and the
// error body, the health routes open; enums are named schemas whose
// description documents every value, and 64-bit integers are strings.
func TestOpenAPI_Document(t *testing.T) {
	g := startGateway(t)
	doc := fetchAPIDoc(t, g)

	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	if doc.Info.Title != "kwaishop-gateway" || !regexp.MustCompile(`^1\.\d+\.\d+$`).MatchString(doc.Info.Version) {
		t.Errorf("info = %+v, want title kwaishop-gateway and version 1.x.y (package v1)", doc.Info)
	}
	var bearerScheme string
	for name, s := range doc.Components.SecuritySchemes {
		if s.Type == "http" && strings.EqualFold(s.Scheme, "bearer") {
			bearerScheme = name
		}
	}
	if bearerScheme == "" {
		t.Fatalf("no http bearer security scheme: %+v", doc.Components.SecuritySchemes)
	}
	status := doc.Components.Schemas["Status"]
	if status == nil || status.Properties["code"] == nil || status.Properties["message"] == nil || status.Properties["details"] == nil {
		t.Fatalf("no Status error body schema {code, message, details}: %+v", status)
	}

	operations := 0
	for _, r := range restRoutes(t) {
		op := doc.Paths[r.path][r.verb]
		if op == nil {
			t.Errorf("%s: %s %s not documented", r.method.FullName(), strings.ToUpper(r.verb), r.path)
			continue
		}
		operations++
		if op.Security == nil || !slices.ContainsFunc(*op.Security, func(req map[string][]string) bool { _, ok := req[bearerScheme]; return ok }) {
			t.Errorf("%s %s: security %v, want %s", r.verb, r.path, op.Security, bearerScheme)
		}
		codes := []string{"400", "401", "403", "404", "429", "500", "503"}
		if r.method.Input().Fields().ByName("request_id") != nil {
			codes = append(codes, "409")
		}
		for _, c := range codes {
			if s := doc.response(op, c); s == nil || doc.schema(s) != status {
				t.Errorf("%s %s: response %s is not the Status error body", r.verb, r.path, c)
			}
		}
		if ok := doc.response(op, "200"); ok == nil {
			t.Errorf("%s %s: no 200 response", r.verb, r.path)
		}
		if r.method.IsStreamingServer() {
			line := doc.schema(doc.response(op, "200"))
			if line == nil || line.Properties["result"] == nil || doc.schema(line.Properties["error"]) != status {
				t.Errorf("%s %s: a server stream's lines are {result, error}: %+v", r.verb, r.path, line)
			}
		}
	}
	if operations == 0 {
		t.Fatal("no operations")
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		op := doc.Paths[p]["get"]
		if op == nil || op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s: want an operation open to every caller (security: []), got %+v", p, op)
		}
	}

	// Messages: every field of every documented message, by its descriptor.
	checked := map[string]bool{}
	protoregistry.GlobalFiles.RangeFilesByPackage("kwaishop.gateway.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Messages().Len() {
			md := fd.Messages().Get(i)
			s := doc.Components.Schemas[string(md.Name())]
			if s == nil {
				continue
			}
			for j := range md.Fields().Len() {
				f := md.Fields().Get(j)
				prop := s.Properties[string(f.Name())]
				if prop == nil {
					continue // a request's path field, not in the body
				}
				if f.IsList() {
					prop = prop.Items
				}
				checkFieldSchema(t, doc, string(md.Name())+"."+string(f.Name()), f, prop, checked)
			}
		}
		return true
	})
	if !checked["int64"] || !checked["enum"] {
		t.Fatalf("no int64 or enum field checked: %v", checked)
	}
	if e := doc.schema(&apiSchema{Ref: "#/components/schemas/RefundStatus"}); e == nil || !strings.Contains(e.Description, "退款成功") {
		t.Errorf("RefundStatus values not documented: %+v", e)
	}
	if e := doc.schema(&apiSchema{Ref: "#/components/schemas/ErrorReason"}); e == nil || !slices.Contains(e.Enum, any("ERROR_REASON_RATE_LIMITED")) {
		t.Errorf("ErrorReason (ErrorInfo.reason) not documented: %+v", e)
	}
}

// checkFieldSchema: an enum field refers to a schema listing and describing
// every value; a 64-bit integer is a string of format int64.
func checkFieldSchema(t *testing.T, doc *apiDoc, name string, f protoreflect.FieldDescriptor, prop *apiSchema, checked map[string]bool) {
	t.Helper()
	if prop == nil {
		t.Errorf("%s: no item schema", name)
		return
	}
	if len(prop.AllOf) == 1 {
		prop = prop.AllOf[0]
	}
	switch f.Kind() {
	case protoreflect.EnumKind:
		if f.IsMap() {
			return
		}
		checked["enum"] = true
		e := doc.schema(prop)
		if prop.Ref == "" || e == nil {
			t.Errorf("%s: enum %s is not a named schema: %+v", name, f.Enum().FullName(), prop)
			return
		}
		vals := f.Enum().Values()
		if len(e.Enum) != vals.Len() {
			t.Errorf("%s: %d enum values documented, the proto has %d", name, len(e.Enum), vals.Len())
		}
		for i := range vals.Len() {
			v := string(vals.Get(i).Name())
			if !slices.Contains(e.Enum, any(v)) || !strings.Contains(e.Description, "`"+v+"`") {
				t.Errorf("%s: enum value %s not listed and described", name, v)
			}
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		checked["int64"] = true
		if prop.Type != "string" || prop.Format != "int64" {
			t.Errorf("%s: int64 documented as %s/%s, want string/int64", name, prop.Type, prop.Format)
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if prop.Type != "string" || prop.Format != "uint64" {
			t.Errorf("%s: uint64 documented as %s/%s, want string/uint64", name, prop.Type, prop.Format)
		}
	}
}

// TestOpenAPI_RequiredFieldsAreTheValidatedOnes: the fields a request
// cannot leave empty (protovalidate refuses the empty request on them, as
// the gateway's validator does) are exactly the fields the protos mark
// google.api.field_behavior = REQUIRED, and the document marks them
// required: in the body schema, as required query parameters, or as path
// parameters.
func TestOpenAPI_RequiredFieldsAreTheValidatedOnes(t *testing.T) {
	g := startGateway(t)
	doc := fetchAPIDoc(t, g)
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	// Every message a request may hold, requests first.
	var inputs []protoreflect.MessageDescriptor
	seen := map[protoreflect.FullName]bool{}
	var reach func(md protoreflect.MessageDescriptor)
	reach = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || md.ParentFile().Package() != "kwaishop.gateway.v1" {
			return
		}
		seen[md.FullName()] = true
		inputs = append(inputs, md)
		for i := range md.Fields().Len() {
			if f := md.Fields().Get(i); f.Message() != nil {
				reach(f.Message())
			}
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage("kwaishop.gateway.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			ms := fd.Services().Get(i).Methods()
			for j := range ms.Len() {
				reach(ms.Get(j).Input())
			}
		}
		return true
	})
	validated := map[protoreflect.FullName]map[string]bool{}
	for _, md := range inputs {
		validated[md.FullName()] = requiredByValidation(t, v, md)
		marked := map[string]bool{}
		for i := range md.Fields().Len() {
			f := md.Fields().Get(i)
			fb, _ := proto.GetExtension(f.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
			if slices.Contains(fb, annotations.FieldBehavior_REQUIRED) {
				marked[string(f.Name())] = true
			}
		}
		if !mapsEqual(validated[md.FullName()], marked) {
			t.Errorf("%s: validation requires %v, the proto marks REQUIRED %v", md.FullName(), keys(validated[md.FullName()]), keys(marked))
		}
		// A message schema other than a request's body lists them as required.
		if s := doc.Components.Schemas[string(md.Name())]; s != nil && !strings.HasSuffix(string(md.Name()), "Request") {
			documented := map[string]bool{}
			for _, r := range s.Required {
				documented[r] = true
			}
			if !mapsEqual(documented, marked) {
				t.Errorf("schema %s: required %v, want %v", md.Name(), keys(documented), keys(marked))
			}
		}
	}

	for _, r := range restRoutes(t) {
		validated := validated[r.method.Input().FullName()]

		op := doc.Paths[r.path][r.verb]
		if op == nil {
			t.Errorf("%s %s not documented", r.verb, r.path)
			continue
		}
		documented := map[string]bool{}
		for _, p := range op.Parameters {
			if p.Required {
				documented[p.Name] = true
			}
			if p.In == "path" && !p.Required {
				t.Errorf("%s %s: path parameter %s not required", r.verb, r.path, p.Name)
			}
		}
		if r.body != "" && r.body != "*" && op.RequestBody != nil && op.RequestBody.Required {
			documented[r.body] = true // one field is the body
		}
		if r.body == "*" {
			if op.RequestBody == nil {
				t.Errorf("%s %s: no request body", r.verb, r.path)
				continue
			}
			s := doc.schema(op.RequestBody.Content["application/json"].Schema)
			for _, name := range s.Required {
				documented[name] = true
			}
			for f := range r.pathField {
				if s.Properties[f] != nil {
					t.Errorf("%s %s: the body schema repeats path field %s", r.verb, r.path, f)
				}
			}
		}
		want := map[string]bool{}
		for f := range validated {
			want[f] = true
		}
		for f := range r.pathField {
			want[f] = true
		}
		if !mapsEqual(documented, want) {
			t.Errorf("%s %s: documented required %v, want %v", strings.ToUpper(r.verb), r.path, keys(documented), keys(want))
		}
	}
}

// requiredByValidation: the top-level fields on which protovalidate
// refuses the empty message (a oneof that must be set is not a field).
func requiredByValidation(t *testing.T, v protovalidate.Validator, md protoreflect.MessageDescriptor) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := v.Validate(dynamicpb.NewMessage(md))
	var verr *protovalidate.ValidationError
	if err != nil && !errors.As(err, &verr) {
		t.Fatalf("%s: %v", md.FullName(), err)
	}
	if verr != nil {
		for _, viol := range verr.Violations {
			el := viol.Proto.GetField().GetElements()
			if len(el) > 0 && md.Fields().ByName(protoreflect.Name(el[0].GetFieldName())) != nil {
				out[el[0].GetFieldName()] = true // not a required oneof: no field to mark
			}
		}
	}
	return out
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPI_AnswersMatchTheDocument sends real requests, successful and
// failing, with and without API keys, and checks each answer against the
// schema the document gives for its operation and status: no field the
// document does not name, every required one present, types, formats and
// enum values as documented.
func TestOpenAPI_AnswersMatchTheDocument(t *testing.T) {
	const key = "openapi-test-key-0123456789"
	const ordersOnly = "openapi-orders-key-0123456789"
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	mustSet(&cfg, "KWAISHOP_API_KEYS", "ops:"+key+":rpc=*,fulfilment:"+ordersOnly+":rpc=orders")
	g := startGatewayWith(t, cfg, Options{})
	doc := fetchAPIDoc(t, g)
	shop := g.info.SandboxOpenID
	if shop == "" {
		t.Fatal("no sandbox shop")
	}
	call := callBody(t, shop, "open.order.cursor.list", orderParams(time.Now(), 1))
	cases := []struct {
		name, verb, route, path, key, body string
		status                             int
	}{
		{"list_authorizations", "get", "/v1/authorizations", "/v1/authorizations", key, "", 200},
		{"get_authorization", "get", "/v1/authorizations/{open_id}", "/v1/authorizations/" + shop, key, "", 200},
		{"get_shop", "get", "/v1/shops/{open_id}", "/v1/shops/" + shop, key, "", 200},
		{"list_orders", "get", "/v1/shops/{open_id}/orders", "/v1/shops/" + shop + "/orders", key, "", 200},
		{"list_items", "get", "/v1/shops/{open_id}/items", "/v1/shops/" + shop + "/items", key, "", 200},
		{"list_refunds", "get", "/v1/shops/{open_id}/refunds", "/v1/shops/" + shop + "/refunds", key, "", 200},
		{"list_apis", "get", "/v1/apis", "/v1/apis?prefix=open.order.", key, "", 200},
		{"call", "post", "/v1/call", "/v1/call", key, call, 200},
		{"api_stats", "get", "/v1/stats/apis", "/v1/stats/apis", key, "", 200},
		{"quota", "get", "/v1/stats/quota", "/v1/stats/quota", key, "", 200},
		{"healthz", "get", "/healthz", "/healthz", "", "", 200},
		{"readyz", "get", "/readyz", "/readyz", "", "", 200},
		{"no_key", "get", "/v1/authorizations", "/v1/authorizations", "", "", 401},
		{"key_outside_its_rpcs", "get", "/v1/authorizations", "/v1/authorizations", ordersOnly, "", 403},
		{"unknown_shop", "get", "/v1/authorizations/{open_id}", "/v1/authorizations/no-such-shop", key, "", 404},
		{"invalid_query", "get", "/v1/shops/{open_id}/orders", "/v1/shops/" + shop + "/orders?page_size=-1", key, "", 400},
		{"invalid_body", "post", "/v1/call", "/v1/call", key, `{"open_id":"` + shop + `"}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := doc.Paths[tc.route][tc.verb]
			if op == nil {
				t.Fatalf("%s %s not documented", tc.verb, tc.route)
			}
			req, err := http.NewRequest(strings.ToUpper(tc.verb), "http://"+g.info.HTTPAddr+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			resp, err := g.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			s := doc.response(op, strconv.Itoa(tc.status))
			if s == nil {
				t.Fatalf("%s %s documents no %d response", tc.verb, tc.route, tc.status)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("answer is not JSON: %s", raw)
			}
			if err := doc.conforms(s, v, "$"); err != nil {
				t.Errorf("answer %s does not match the document: %v", raw, err)
			}
		})
	}
}

// conforms checks a JSON value against a schema of the document, for the
// constructs the generator emits ($ref, allOf, anyOf, type, format int64,
// enum, properties, required, items, additionalProperties). An object may
// hold only the properties its schema names. (A full OpenAPI validator is
// a library the server module does not otherwise need; the document itself
// is validated where it is generated.)
func (d *apiDoc) conforms(s *apiSchema, v any, at string) error {
	s = d.schema(s)
	if s == nil {
		return fmt.Errorf("%s: dangling $ref", at)
	}
	for _, sub := range s.AllOf {
		if err := d.conforms(sub, v, at); err != nil {
			return err
		}
	}
	if len(s.AnyOf) > 0 {
		var errs []error
		for _, sub := range s.AnyOf {
			err := d.conforms(sub, v, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err)
		}
		if errs != nil {
			return fmt.Errorf("%s: matches none of anyOf: %w", at, errors.Join(errs...))
		}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, s.Enum)
	}
	switch s.Type {
	case "":
		return nil // any value (google.protobuf.Value) or composed above
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %v is not a string", at, v)
		}
		if s.Format == "int64" {
			if _, err := strconv.ParseInt(str, 10, 64); err != nil {
				return fmt.Errorf("%s: %q is not an int64", at, str)
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%s: %v is not a number", at, v)
		}
		if _, err := n.Int64(); s.Type == "integer" && err != nil {
			return fmt.Errorf("%s: %v is not an integer", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %v is not a boolean", at, v)
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %v is not an array", at, v)
		}
		for i, e := range list {
			if err := d.conforms(s.Items, e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %v is not an object", at, v)
		}
		if s.Properties == nil && s.AdditionalProperties == nil {
			return nil // free-form (google.protobuf.Struct)
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: required %q missing", at, r)
			}
		}
		for k, e := range obj {
			ps := s.Properties[k]
			if ps == nil {
				ps = s.AdditionalProperties
			}
			if ps == nil {
				return fmt.Errorf("%s: %q is not in the document", at, k)
			}
			if err := d.conforms(ps, e, at+"."+k); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: unknown type %q", at, s.Type)
	}
	return nil
}

// TestOpenAPI_ConformsCatchesDrift: the answer check above fails on the
// drifts it exists for (a field the document does not name, a missing
// required one, an int64 sent as a number, an undocumented enum value).
func TestOpenAPI_ConformsCatchesDrift(t *testing.T) {
	var doc apiDoc
	if err := json.Unmarshal([]byte(`{"components":{"schemas":{
		"E":{"type":"string","enum":["A","B"]},
		"M":{"type":"object","required":["id"],"properties":{
			"id":{"type":"string","format":"int64"},
			"e":{"allOf":[{"$ref":"#/components/schemas/E"}]}}}}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	m := &apiSchema{Ref: "#/components/schemas/M"}
	decode := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := doc.conforms(m, decode(`{"id":"9007199254740993","e":"B"}`), "$"); err != nil {
		t.Fatalf("a conforming value refused: %v", err)
	}
	for _, bad := range []string{`{"id":"1","x":1}`, `{"e":"A"}`, `{"id":9007199254740993}`, `{"id":"1","e":"C"}`} {
		if err := doc.conforms(m, decode(bad), "$"); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
