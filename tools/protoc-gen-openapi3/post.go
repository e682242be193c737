package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// securityScheme names the bearer scheme every /v1 operation requires.
const securityScheme = "apiKey"

// post completes gnostic's document with what only the descriptors and the
// gateway's behaviour tell.
type post struct {
	p        *protogen.Plugin
	doc      *openapi3.T
	messages map[string]*protogen.Message // by gnostic's schema name
	enums    map[string]*protogen.Enum    // by schema name, as hoisted
}

func newPost(p *protogen.Plugin, doc *openapi3.T) *post {
	s := &post{p: p, doc: doc, messages: map[string]*protogen.Message{}, enums: map[string]*protogen.Enum{}}
	var walk func([]*protogen.Message)
	walk = func(ms []*protogen.Message) {
		for _, m := range ms {
			s.messages[schemaName(m.Desc)] = m
			walk(m.Messages)
		}
	}
	for _, f := range p.Files {
		if f.Generate { // the gateway's own messages; gnostic names well-known types itself
			walk(f.Messages)
		}
	}
	return s
}

// schemaName is gnostic's name for a message or enum schema (naming=proto,
// not fully qualified): the name, prefixed with its parent message's name
// when nested.
func schemaName(d protoreflect.Descriptor) string {
	if parent, ok := d.Parent().(protoreflect.MessageDescriptor); ok {
		return string(parent.Name()) + "_" + string(d.Name())
	}
	return string(d.Name())
}

func ref(name string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name}
}

func (s *post) run() error {
	s.doc.Servers = openapi3.Servers{{
		URL: "http://127.0.0.1:8080",
		Description: "The gateway's default REST address (KWAISHOP_HTTP_ADDR). " +
			"Every gateway serves this document at /openapi.json.",
	}}
	s.doc.Components.SecuritySchemes = openapi3.SecuritySchemes{securityScheme: {Value: &openapi3.SecurityScheme{
		Type:   "http",
		Scheme: "bearer",
		Description: "An API key of the gateway (`KWAISHOP_API_KEYS`), sent as `Authorization: Bearer <key>`. " +
			"Required on every /v1 operation when keys are configured; a gateway without keys listens on loopback only.",
	}}}
	// Messages first: enum fields become references to named enum schemas.
	names := make([]string, 0, len(s.doc.Components.Schemas))
	for name := range s.doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if m := s.messages[name]; m != nil {
			if err := s.fixMessage(s.doc.Components.Schemas[name].Value, m); err != nil {
				return err
			}
		}
	}
	if err := s.addErrorModel(); err != nil {
		return err
	}
	for _, f := range s.p.Files {
		if !f.Generate {
			continue
		}
		for _, svc := range f.Services {
			for _, m := range svc.Methods {
				if err := s.fixOperation(m); err != nil {
					return fmt.Errorf("%s: %w", m.Desc.FullName(), err)
				}
			}
		}
	}
	s.addHealth()
	for name, e := range s.enums {
		if _, clash := s.doc.Components.Schemas[name]; clash {
			return fmt.Errorf("enum schema %s clashes with another schema of that name", name)
		}
		s.doc.Components.Schemas[name] = &openapi3.SchemaRef{Value: enumSchema(e)}
	}
	return nil
}

// fixMessage documents a message schema's enum and 64-bit integer fields.
func (s *post) fixMessage(schema *openapi3.Schema, m *protogen.Message) error {
	for _, f := range m.Fields {
		prop := schema.Properties[string(f.Desc.Name())]
		if prop == nil || prop.Value == nil {
			continue
		}
		if f.Desc.IsMap() {
			if v := f.Desc.MapValue(); prop.Value.AdditionalProperties.Schema != nil {
				s.fixScalar(prop.Value.AdditionalProperties.Schema, v, "")
			}
			continue
		}
		if f.Desc.IsList() {
			if prop.Value.Items != nil {
				s.fixScalar(prop.Value.Items, f.Desc, "")
			}
			continue
		}
		s.fixScalar(prop, f.Desc, prop.Value.Description)
	}
	return nil
}

// fixScalar turns an inline enum schema into a reference to the named
// enum (kept beside its description through allOf, as OpenAPI 3.0 ignores
// a $ref's siblings), and marks a 64-bit integer's string as int64.
func (s *post) fixScalar(sr *openapi3.SchemaRef, fd protoreflect.FieldDescriptor, desc string) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		e := s.enumOf(fd)
		name := schemaName(e.Desc)
		s.enums[name] = e
		if desc == "" {
			*sr = *ref(name)
			return
		}
		*sr = openapi3.SchemaRef{Value: &openapi3.Schema{Description: desc, AllOf: openapi3.SchemaRefs{ref(name)}}}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if sr.Value != nil {
			sr.Value.Format = "int64"
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if sr.Value != nil {
			sr.Value.Format = "uint64"
		}
	}
}

func (s *post) enumOf(fd protoreflect.FieldDescriptor) *protogen.Enum {
	want := fd.Enum().FullName()
	var find func([]*protogen.Message) *protogen.Enum
	find = func(ms []*protogen.Message) *protogen.Enum {
		for _, m := range ms {
			for _, e := range m.Enums {
				if e.Desc.FullName() == want {
					return e
				}
			}
			if e := find(m.Messages); e != nil {
				return e
			}
		}
		return nil
	}
	for _, f := range s.p.Files {
		for _, e := range f.Enums {
			if e.Desc.FullName() == want {
				return e
			}
		}
		if e := find(f.Messages); e != nil {
			return e
		}
	}
	panic("enum not in the request: " + want)
}

var lintComment = regexp.MustCompile(`\(-- .* --\)`)

func comment(c protogen.Comments) string {
	return strings.TrimSpace(lintComment.ReplaceAllString(string(c), ""))
}

// enumSchema is a named enum with each value and its comment listed in the
// description.
func enumSchema(e *protogen.Enum) *openapi3.Schema {
	var d strings.Builder
	d.WriteString(comment(e.Comments.Leading))
	d.WriteString("\n")
	values := make([]any, 0, len(e.Values))
	for _, v := range e.Values {
		values = append(values, string(v.Desc.Name()))
		fmt.Fprintf(&d, "\n- `%s`: %s", v.Desc.Name(), strings.Join(strings.Fields(comment(v.Comments.Leading)), " "))
	}
	return &openapi3.Schema{Type: &openapi3.Types{"string"}, Description: strings.TrimSpace(d.String()), Enum: values}
}

// fixOperation adds security and error responses to a method's REST
// operations, takes the path's fields out of the request body, marks
// required query parameters, and describes a server stream.
func (s *post) fixOperation(m *protogen.Method) error {
	rule, ok := proto.GetExtension(m.Desc.Options(), annotations.E_Http).(*annotations.HttpRule)
	if !ok || rule == nil {
		return nil // gRPC only
	}
	if m.Desc.IsStreamingClient() {
		return fmt.Errorf("a client-streaming method cannot have an HTTP rule")
	}
	for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		verb, path := httpPattern(r)
		if verb == "" {
			return fmt.Errorf("unsupported HTTP rule %v", r)
		}
		if strings.Contains(path, "=") {
			return fmt.Errorf("path %s: templates with patterns ({x=...}) are not supported here", path)
		}
		item := s.doc.Paths.Value(path)
		if item == nil || item.GetOperation(verb) == nil {
			return fmt.Errorf("gnostic produced no operation %s %s", verb, path)
		}
		op := item.GetOperation(verb)
		op.Summary = summary(comment(m.Comments.Leading))
		pathFields := pathParams.FindAllStringSubmatch(path, -1)
		inPath := map[string]bool{}
		for _, pf := range pathFields {
			inPath[pf[1]] = true
		}
		if err := s.fixParams(op, m.Input); err != nil {
			return err
		}
		switch body := r.GetBody(); body {
		case "":
		case "*":
			if len(inPath) > 0 {
				if err := s.stripPathFields(m.Input, inPath); err != nil {
					return err
				}
			}
		default: // one field is the body; the others are path or query parameters
			fd := m.Input.Desc.Fields().ByName(protoreflect.Name(body))
			if fd == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
				return fmt.Errorf("body field %q: no such field, or no request body", body)
			}
			op.RequestBody.Value.Required = required(fd)
		}
		if m.Desc.IsStreamingServer() {
			streamResponse(op, m)
		}
		op.Security = &openapi3.SecurityRequirements{{securityScheme: []string{}}}
		codes := []string{"400", "401", "403", "404", "429", "500", "503", "504"}
		if m.Input.Desc.Fields().ByName("request_id") != nil {
			codes = append(codes, "409") // a write's request_id (AIP-155)
		}
		if r.GetBody() != "" {
			codes = append(codes, "413", "415")
		}
		for _, c := range codes {
			op.Responses.Set(c, &openapi3.ResponseRef{Ref: "#/components/responses/" + errorResponses[c].name})
		}
	}
	return nil
}

// summary is a method comment's first sentence, on one line.
func summary(c string) string {
	c = strings.Join(strings.Fields(c), " ")
	if i := strings.Index(c, ". "); i >= 0 {
		c = c[:i+1]
	}
	return c
}

var pathParams = regexp.MustCompile(`{([^}=]+)}`)

func httpPattern(r *annotations.HttpRule) (verb, path string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	}
	return "", ""
}

// fixParams documents the path and query parameters like message fields
// (enums by name, int64 format) and marks a query parameter required when
// its top-level field is REQUIRED.
func (s *post) fixParams(op *openapi3.Operation, in *protogen.Message) error {
	for _, pr := range op.Parameters {
		param := pr.Value
		fd := fieldAt(in.Desc, strings.Split(param.Name, "."))
		if fd == nil {
			return fmt.Errorf("parameter %s is no field of %s", param.Name, in.Desc.FullName())
		}
		if fd.IsList() && param.Schema.Value != nil && param.Schema.Value.Items != nil {
			s.fixScalar(param.Schema.Value.Items, fd, "")
		} else {
			s.fixScalar(param.Schema, fd, "")
		}
		if param.In == openapi3.ParameterInQuery && !strings.Contains(param.Name, ".") && required(fd) {
			param.Required = true
		}
	}
	return nil
}

func fieldAt(md protoreflect.MessageDescriptor, path []string) protoreflect.FieldDescriptor {
	fd := md.Fields().ByName(protoreflect.Name(path[0]))
	if fd == nil || len(path) == 1 {
		return fd
	}
	if fd.Message() == nil {
		return nil
	}
	return fieldAt(fd.Message(), path[1:])
}

func required(fd protoreflect.FieldDescriptor) bool {
	fb, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return slices.Contains(fb, annotations.FieldBehavior_REQUIRED)
}

// stripPathFields removes the fields a path carries from a request body
// schema (the whole request message, for body "*"): the path sets them,
// so the body need not repeat them and they are not required there. The
// schema is changed in place, which is right only while no other message
// embeds the request message: checked.
func (s *post) stripPathFields(in *protogen.Message, inPath map[string]bool) error {
	for _, f := range s.p.Files {
		var err error
		var walk func([]*protogen.Message)
		walk = func(ms []*protogen.Message) {
			for _, m := range ms {
				for _, fd := range m.Fields {
					if fd.Message != nil && fd.Message.Desc.FullName() == in.Desc.FullName() {
						err = fmt.Errorf("%s embeds request message %s, whose body schema drops its path fields", m.Desc.FullName(), in.Desc.FullName())
					}
				}
				walk(m.Messages)
			}
		}
		walk(f.Messages)
		if err != nil {
			return err
		}
	}
	sr := s.doc.Components.Schemas[schemaName(in.Desc)]
	if sr == nil || sr.Value == nil {
		return fmt.Errorf("no schema for request message %s", in.Desc.FullName())
	}
	for name := range inPath {
		delete(sr.Value.Properties, name)
		sr.Value.Required = slices.DeleteFunc(sr.Value.Required, func(r string) bool { return r == name })
	}
	if len(sr.Value.Required) == 0 {
		sr.Value.Required = nil
	}
	return nil
}

// streamResponse describes a server stream as the REST gateway sends it:
// newline-delimited JSON objects, each holding one message as `result` or
// the error that ended the stream as `error`.
func streamResponse(op *openapi3.Operation, m *protogen.Method) {
	item := &openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "One line of the stream: a message, or the error that ended the stream.",
		Properties: openapi3.Schemas{
			"result": ref(schemaName(m.Output.Desc)),
			"error":  ref("Status"),
		},
	}
	op.Responses.Set("200", &openapi3.ResponseRef{Value: &openapi3.Response{
		Description: ptr("A stream of newline-delimited JSON objects, one per message, until the client disconnects or an error ends it."),
		Content:     openapi3.NewContentWithJSONSchema(item),
	}})
}

func ptr[T any](v T) *T { return &v }

// addHealth documents the two health routes, which need no API key.
func (s *post) addHealth() {
	body := openapi3.NewContentWithJSONSchema(&openapi3.Schema{
		Type:       &openapi3.Types{"object"},
		Properties: openapi3.Schemas{"status": {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}}}},
		Required:   []string{"status"},
	})
	op := func(id, desc string, codes map[string]string) *openapi3.Operation {
		o := &openapi3.Operation{
			OperationID: id,
			Summary:     summary(desc),
			Tags:        []string{"Health"},
			Description: desc,
			Security:    &openapi3.SecurityRequirements{}, // open: no API key
			Responses:   openapi3.NewResponses(),
		}
		o.Responses.Delete("default")
		for c, d := range codes {
			o.Responses.Set(c, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr(d), Content: body}})
		}
		return o
	}
	s.doc.Paths.Set("/healthz", &openapi3.PathItem{Get: op("Health_Live", "Liveness: the process serves HTTP.",
		map[string]string{"200": "`{\"status\":\"ok\"}`"})})
	s.doc.Paths.Set("/readyz", &openapi3.PathItem{Get: op("Health_Ready", "Readiness: started, and the store is reachable.",
		map[string]string{"200": "`{\"status\":\"ready\"}`", "503": "Starting, or the store is unreachable."})})
	s.doc.Tags = append(s.doc.Tags, &openapi3.Tag{Name: "Health", Description: "Liveness and readiness, open to every caller."})
}
