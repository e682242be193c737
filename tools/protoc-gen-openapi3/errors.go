package main

import (
	"fmt"
	"regexp"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/compiler/protogen"
)

// errorResponses are the HTTP statuses a REST call can fail with, by the
// gRPC code the REST gateway maps to each (grpc-gateway's
// HTTPStatusFromCode) and the gateway's own HTTP edge refusals.
var errorResponses = map[string]struct{ name, description string }{
	"400": {"BadRequest", "The request is invalid (`INVALID_ARGUMENT`, with `google.rpc.BadRequest` field violations), " +
		"or the platform refused it (`FAILED_PRECONDITION`: a business rule, a revoked or expired authorization, " +
		"the app's credentials); `ErrorInfo.reason` says which."},
	"401": {"Unauthenticated", "No API key, a malformed `Authorization` header or an unknown key (`UNAUTHENTICATED`)."},
	"403": {"PermissionDenied", "The API key may not call this operation or act for this shop, or the platform denied " +
		"the shop's token the permission (`PERMISSION_DENIED`)."},
	"404": {"NotFound", "No authorization is stored for the `open_id`, or the object does not exist (`NOT_FOUND`)."},
	"409": {"Conflict", "An earlier request with the same `request_id` did not finish, or concurrent ones keep failing " +
		"(`ABORTED`): check the object, then retry with a new `request_id`."},
	"413": {"PayloadTooLarge", "The request body is larger than the gateway accepts."},
	"415": {"UnsupportedMediaType", "The request body is not JSON (send `Content-Type: application/json`)."},
	"429": {"TooManyRequests", "A client-side QPS limit, in-flight cap or daily quota was reached (`RESOURCE_EXHAUSTED`); " +
		"`RetryInfo.retry_delay` says when a retry may succeed."},
	"500": {"Internal", "An unexpected gateway failure, or the platform rejected the gateway's own signature (`INTERNAL`)."},
	"503": {"Unavailable", "The platform failed, could not be reached or rate-limited the app, or the gateway's circuit " +
		"breaker for the API is open (`UNAVAILABLE`); retry after `RetryInfo.retry_delay` when present."},
	"504": {"GatewayTimeout", "The call's deadline passed (`DEADLINE_EXCEEDED`)."},
}

// addErrorModel adds the error body schema (google.rpc.Status as the REST
// gateway writes it, with the three detail types the gateway sends) and a
// named response per error status.
func (s *post) addErrorModel() error {
	reason := s.findEnum("ErrorReason")
	if reason == nil {
		return fmt.Errorf("no ErrorReason enum in the protos")
	}
	s.enums[schemaName(reason.Desc)] = reason
	str := func(desc string) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Description: desc}}
	}
	typeURL := func(name string) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"type.googleapis.com/" + name}}}
	}
	object := func(desc string, props openapi3.Schemas, req ...string) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"object"}, Description: desc, Properties: props, Required: req}}
	}
	schemas := openapi3.Schemas{
		"Status": object("The body of every error answer: google.rpc.Status as JSON, with the code's name for `code` (docs/rest.md).", openapi3.Schemas{
			"code": {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: grpcCodeNames(),
				Description: "The gRPC status code's name (the google.rpc.Code enum: `INVALID_ARGUMENT`, `NOT_FOUND`, `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, ...)."}},
			"message": str("A description of the error for developers (never a token or secret)."),
			"details": {Value: &openapi3.Schema{Type: &openapi3.Types{"array"},
				Description: "Typed details: an `ErrorInfo` on every gateway error, `RetryInfo` when a retry may succeed later, `BadRequest` for invalid fields.",
				Items:       &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{ref("ErrorInfo"), ref("RetryInfo"), ref("BadRequest"), ref("GoogleProtobufAny")}}},
			}},
		}, "code", "message", "details"),
		"ErrorInfo": object("google.rpc.ErrorInfo: why the call failed.", openapi3.Schemas{
			"@type": typeURL("google.rpc.ErrorInfo"),
			"reason": {Value: &openapi3.Schema{Description: "The cause, one of ErrorReason.",
				AllOf: openapi3.SchemaRefs{ref(schemaName(reason.Desc))}}},
			"domain": {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"kwaixiaodian.com", "kwaishop-gateway"},
				Description: "`kwaixiaodian.com` for errors the platform reported, `kwaishop-gateway` for errors the gateway raised itself."}},
			"metadata": {Value: &openapi3.Schema{Type: &openapi3.Types{"object"},
				Description: "Context: for platform errors `result`, `error_msg`, `sub_code`, `request_id`, `method`, `class`; " +
					"for a revoked authorization `reauthorize_url`; for a refused key `key`.",
				AdditionalProperties: openapi3.AdditionalProperties{Schema: str("")}}},
		}, "@type", "reason", "domain"),
		"RetryInfo": object("google.rpc.RetryInfo: when to retry.", openapi3.Schemas{
			"@type":       typeURL("google.rpc.RetryInfo"),
			"retry_delay": str("How long to wait before retrying, a protobuf Duration in JSON: seconds with an `s` suffix, for example `1.500s`."),
		}, "@type"),
		"BadRequest": object("google.rpc.BadRequest: the fields that are invalid.", openapi3.Schemas{
			"@type": typeURL("google.rpc.BadRequest"),
			"field_violations": {Value: &openapi3.Schema{Type: &openapi3.Types{"array"}, Items: object("One invalid field.", openapi3.Schemas{
				"field":       str("The field's path, for example `params` or `items[0].quantity`."),
				"description": str("Why the value is invalid."),
			})}},
		}, "@type"),
		"GoogleProtobufAny": object("Any other detail: its type URL and its fields.", openapi3.Schemas{
			"@type": str("The type URL, `type.googleapis.com/<full message name>`."),
		}, "@type"),
	}
	for name, sc := range schemas {
		if _, clash := s.doc.Components.Schemas[name]; clash {
			return fmt.Errorf("schema %s is already defined; the error model needs that name", name)
		}
		s.doc.Components.Schemas[name] = sc
	}
	s.doc.Components.Responses = openapi3.ResponseBodies{}
	for _, r := range errorResponses {
		s.doc.Components.Responses[r.name] = &openapi3.ResponseRef{Value: &openapi3.Response{
			Description: ptr(r.description),
			Content:     openapi3.NewContentWithJSONSchemaRef(ref("Status")),
		}}
	}
	return nil
}

// grpcCodeNames are the google.rpc.Code names, in code order: the `code`
// of an error body (internal/rest.CodeName).
func grpcCodeNames() []any {
	return []any{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
		"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
}

func (s *post) findEnum(name string) *protogen.Enum {
	for _, f := range s.p.Files {
		if !f.Generate {
			continue
		}
		for _, e := range f.Enums {
			if string(e.Desc.Name()) == name {
				return e
			}
		}
	}
	return nil
}

var majorVersion = regexp.MustCompile(`^(\d+)\.\d+\.\d+$`)
var packageVersion = regexp.MustCompile(`\.v(\d+)$`)

// checkVersion: the document's version is semver, and its major version
// is the proto package's (kwaishop.gateway.v1 ⇒ 1.x.y), so a new package
// version cannot ship under the old document version.
func checkVersion(p *protogen.Plugin, version string) error {
	m := majorVersion.FindStringSubmatch(version)
	if m == nil {
		return fmt.Errorf("version %q is not MAJOR.MINOR.PATCH", version)
	}
	for _, f := range p.Files {
		if !f.Generate {
			continue
		}
		pv := packageVersion.FindStringSubmatch(string(f.Desc.Package()))
		if pv == nil || pv[1] != m[1] {
			return fmt.Errorf("version %s: its major version must be the proto package's (%s)", version, f.Desc.Package())
		}
	}
	return nil
}
