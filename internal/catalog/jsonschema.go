package catalog

import (
	"bytes"
	"encoding/json"
)

// JSONSchemaDialect is the JSON Schema version JSONSchema writes.
const JSONSchemaDialect = "https://json-schema.org/draft/2020-12/schema"

// JSONSchema returns the request and response schemas of a catalogued API
// as JSON Schema (draft 2020-12) documents, shared objects under $defs, for
// describing the API to callers. ok is false for an uncatalogued name.
//
// Request objects close with "additionalProperties": false (what Validate
// calls an unknown field); answers stay open. A file field is described as
// a string with "x-kwaishop-file": true and is not listed as required: it
// travels as a multipart part, not inside the params. Limits appear as
// maxItems, maxLength, maximum and minimum.
func JSONSchema(name string) (request, response []byte, ok bool) {
	a, ok := Lookup(name)
	if !ok {
		return nil, nil, false
	}
	return a.jsonSchema(a.Request, " request", true), a.jsonSchema(a.Response, " response", false), true
}

func (a *API) jsonSchema(s *Schema, what string, request bool) []byte {
	c := converter{request: request, defs: map[string]any{}}
	doc := c.object(s)
	doc["$schema"] = JSONSchemaDialect
	doc["title"] = a.Name + what
	if a.Description != "" {
		doc["description"] = a.Description
	}
	if !request && len(a.TopLevel) > 0 {
		doc["x-kwaishop-top-level"] = a.TopLevel
	}
	// Shared objects reachable from the schema, each converted once
	// (recursive objects refer to themselves through $defs).
	for len(c.pending) > 0 {
		d := c.pending[len(c.pending)-1]
		c.pending = c.pending[:len(c.pending)-1]
		c.defs[d.Ref] = c.object(load().defs[d.Ref])
	}
	if len(c.defs) > 0 {
		doc["$defs"] = c.defs
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		panic(err) // maps of strings, numbers and bools always encode
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

type converter struct {
	request bool
	defs    map[string]any
	pending []*Schema
}

func (c *converter) schema(s *Schema) map[string]any {
	out := map[string]any{}
	if s.Description != "" {
		out["description"] = s.Description
	}
	switch {
	case s.Ref != "":
		out["$ref"] = "#/$defs/" + s.Ref
		if _, done := c.defs[s.Ref]; !done {
			c.defs[s.Ref] = nil // claimed; converted by jsonSchema
			c.pending = append(c.pending, s)
		}
		return out
	case s.Type == TypeObject:
		for k, v := range c.object(s) {
			out[k] = v
		}
		return out
	case s.File:
		out["type"] = TypeString
		out["contentMediaType"] = "application/octet-stream"
		out["x-kwaishop-file"] = true
		return out
	}
	out["type"] = s.Type
	switch s.Type {
	case TypeArray:
		out["items"] = c.schema(s.Items)
		if s.MaxItems > 0 {
			out["maxItems"] = s.MaxItems
		}
	case TypeString:
		if s.MaxLength > 0 {
			out["maxLength"] = s.MaxLength
		}
	case TypeInteger:
		if s.Maximum != nil {
			out["maximum"] = *s.Maximum
		}
		if s.Minimum != nil {
			out["minimum"] = *s.Minimum
		}
	}
	return out
}

// object converts an object schema's own members (not its ref).
func (c *converter) object(s *Schema) map[string]any {
	out := map[string]any{"type": TypeObject}
	if s.Ref == "" && s.Description != "" {
		out["description"] = s.Description
	}
	if s.AdditionalProperties {
		out["additionalProperties"] = true
		return out
	}
	props := make(map[string]any, len(s.Properties))
	var required []string
	for i, n := range s.obj.names {
		p := s.Properties[n]
		props[n] = c.schema(p)
		if s.obj.required[i] && !p.File {
			required = append(required, n)
		}
	}
	out["properties"] = props
	if len(required) > 0 {
		out["required"] = required
	}
	if c.request {
		out["additionalProperties"] = false
	}
	return out
}
