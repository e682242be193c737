// Command protoc-gen-openapi3 writes the gateway's OpenAPI 3.0 document
// (openapi.json, openapi.yaml and openapi.go, which embeds the JSON) from
// the protos' google.api.http rules.
//
// gnostic's OpenAPI v3 generator (github.com/google/gnostic/cmd/
// protoc-gen-openapi) does the mapping of paths, parameters, bodies and
// messages, reading google.api.field_behavior for required fields. This
// plugin then adds what that generator cannot express from the protos,
// using the same descriptors (see post.go): the document's title and
// version, the bearer security scheme, the error responses with their body
// schema, enums as named schemas with every value documented, 64-bit
// integers as strings of format int64, request bodies without the fields
// the path carries, server streams and the health routes. The result is
// validated (kin-openapi) before it is written, so an invalid document
// fails `make generate`.
//
// Options: title=<document title>, version=<semver>; the version's major
// must match the proto package's version suffix (v1 ⇒ 1.x.y).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/gnostic/cmd/protoc-gen-openapi/generator"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	var flags flag.FlagSet
	title := flags.String("title", "", "the document's title")
	version := flags.String("version", "", "the document's version (semver)")
	protogen.Options{ParamFunc: flags.Set}.Run(func(p *protogen.Plugin) error {
		p.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
		if *title == "" || *version == "" {
			return fmt.Errorf("protoc-gen-openapi3: the title and version options are required")
		}
		files, err := generate(p, *title, *version)
		if err != nil {
			return fmt.Errorf("protoc-gen-openapi3: %w", err)
		}
		for _, f := range files {
			if _, err := p.NewGeneratedFile(f.name, "").Write(f.content); err != nil {
				return err
			}
		}
		return nil
	})
}

type outFile struct {
	name    string
	content []byte
}

func generate(p *protogen.Plugin, title, version string) ([]outFile, error) {
	if err := checkVersion(p, version); err != nil {
		return nil, err
	}
	base, err := gnosticDocument(p, title, version)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(base)
	if err != nil {
		return nil, fmt.Errorf("reading gnostic's document: %w", err)
	}
	if err := newPost(p, doc).run(); err != nil {
		return nil, err
	}
	js, err := finish(doc)
	if err != nil {
		return nil, err
	}
	// Validate what is shipped: the JSON, read back.
	loader := openapi3.NewLoader()
	back, err := loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("reading the document back: %w", err)
	}
	if err := back.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI 3: %w", err)
	}
	yml, err := toYAML(js)
	if err != nil {
		return nil, err
	}
	return []outFile{
		{"openapi.json", js},
		{"openapi.yaml", append([]byte(yamlHeader), yml...)},
		{"openapi.go", []byte(goFile)},
	}, nil
}

// finish writes the document as indented JSON, without HTML escapes, with
// every description's lines unindented (proto comments are `// text`, so
// each line after the first starts with a space).
func finish(doc *openapi3.T) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "description" {
					x[k] = strings.ReplaceAll(s, "\n ", "\n")
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// gnosticDocument runs gnostic's generator and returns its YAML.
func gnosticDocument(p *protogen.Plugin, title, version string) ([]byte, error) {
	str := func(s string) *string { return &s }
	boolean := func(b bool) *bool { return &b }
	depth := 2
	conf := generator.Configuration{
		Version:         str(version),
		Title:           str(title),
		Description:     str(description),
		Naming:          str("proto"), // the REST gateway marshals with the proto field names
		FQSchemaNaming:  boolean(false),
		EnumType:        str("string"), // and enums as their names
		CircularDepth:   &depth,
		DefaultResponse: boolean(false), // the error responses are added in post.go
		OutputMode:      str("merged"),
	}
	f := p.NewGeneratedFile("gnostic.yaml", "")
	f.Skip()
	if err := generator.NewOpenAPIv3Generator(p, conf, p.Files).Run(f); err != nil {
		return nil, err
	}
	return f.Content()
}

// toYAML turns the JSON document into block-style YAML, keys in the same
// order.
func toYAML(js []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, err
	}
	var block func(*yaml.Node)
	block = func(n *yaml.Node) {
		if n.Kind != yaml.ScalarNode {
			n.Style = 0
		} else if n.Style == yaml.DoubleQuotedStyle {
			n.Style = 0 // yaml quotes again where a plain scalar would change meaning
		}
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&n)
	// The top-level keys in the usual reading order; below them, sorted.
	if len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode {
		top := n.Content[0]
		rank := func(k string) int {
			if i := slices.Index(topOrder, k); i >= 0 {
				return i
			}
			return len(topOrder)
		}
		pairs := make([][2]*yaml.Node, 0, len(top.Content)/2)
		for i := 0; i+1 < len(top.Content); i += 2 {
			pairs = append(pairs, [2]*yaml.Node{top.Content[i], top.Content[i+1]})
		}
		slices.SortStableFunc(pairs, func(a, b [2]*yaml.Node) int { return rank(a[0].Value) - rank(b[0].Value) })
		top.Content = top.Content[:0]
		for _, p := range pairs {
			top.Content = append(top.Content, p[0], p[1])
		}
	}
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(&n); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var topOrder = []string{"openapi", "info", "servers", "tags", "paths", "components"}

const yamlHeader = "# Code generated by protoc-gen-openapi3 from proto/ (make generate). DO NOT EDIT.\n" +
	"# The same document is served at /openapi.json.\n"

const goFile = `// Code generated by protoc-gen-openapi3. DO NOT EDIT.

// Package openapi embeds the gateway's OpenAPI 3.0 document, generated from
// the protos (make generate).
package openapi

import _ "embed"

// JSON is the OpenAPI 3.0 document of the REST API, served at /openapi.json.
//
//go:embed openapi.json
var JSON []byte
`

const description = "The REST face of kwaishop-gateway, an integration gateway for the Kuaishou e-commerce open platform. " +
	"Every operation is also a gRPC method of the same name (the protos in `proto/` are the contract; " +
	"this document is generated from them).\n\n" +
	"**Authentication.** When the gateway has API keys configured, every `/v1` operation needs " +
	"`Authorization: Bearer <key>`; a key may be limited to shops and RPC groups. " +
	"Without keys the gateway listens on loopback only and takes calls without the header.\n\n" +
	"**JSON.** Field names are the proto field names (`open_id`); 64-bit integers are strings; " +
	"enums are their value names; timestamps are RFC 3339 strings; a field with its zero value may be left out (read it as zero); " +
	"a list is always present (`[]` when empty).\n\n" +
	"**Errors.** Every failure answers a `Status` body: `code` (the gRPC status code's name, such as `NOT_FOUND`), " +
	"a `message` and `details`, among them a `google.rpc.ErrorInfo` whose `reason` is an `ErrorReason`, " +
	"`google.rpc.RetryInfo` when a retry may succeed later (429 and 503 then also carry `Retry-After` in seconds) " +
	"and `google.rpc.BadRequest` for invalid fields. Every answer carries an `X-Request-Id` (the caller's, when sane)."
