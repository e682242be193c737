package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
)

//go:embed catalog.json
var catalogJSON []byte

// The JSON types a schema can have.
const (
	TypeObject  = "object"
	TypeArray   = "array"
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
)

// Envelope lists the members of every platform answer that belong to the
// envelope rather than the payload; API.TopLevel lists the others.
var Envelope = []string{"code", "msg", "sub_code", "sub_msg", "result", "error_msg"}

// Schema describes one JSON value of a request or an answer. Schemas are
// shared and may be recursive: never modify one, and walk them with a depth
// bound.
type Schema struct {
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
	// Ref names the shared object (a key of the file's defs) this schema is;
	// Properties, Required and AdditionalProperties are that object's.
	Ref        string             `json:"ref,omitempty"`
	Properties map[string]*Schema `json:"properties,omitempty"`
	// Required lists the required properties, sorted.
	Required []string `json:"required,omitempty"`
	// AdditionalProperties marks a free-form map: any member is allowed.
	AdditionalProperties bool    `json:"additionalProperties,omitempty"`
	Items                *Schema `json:"items,omitempty"`
	// File marks a file part: sent as a multipart part beside the params,
	// never inside the params JSON.
	File bool `json:"file,omitempty"`
	// Documented limits; zero or nil when the documentation states none.
	MaxItems  int    `json:"maxItems,omitempty"`
	MaxLength int    `json:"maxLength,omitempty"`
	Maximum   *int64 `json:"maximum,omitempty"`
	Minimum   *int64 `json:"minimum,omitempty"`

	obj *object // the resolved object (shared by every schema of one ref)
}

// object is the lookup form of an object schema, built once.
type object struct {
	names    []string // sorted property names
	index    map[string]int
	required []bool // by index
}

// API is one catalogued platform API. APIs are shared: never modify one.
type API struct {
	Name        string
	Verb        string // GET or POST
	Description string
	// Permission is the permission package the API belongs to, or "" when
	// the source does not say.
	Permission string
	Request    *Schema
	Response   *Schema
	// TopLevel lists the answer's members besides the Envelope, sorted:
	// usually "data", sometimes a list beside it
	// (open.order.decrypt.batch: batchDecryptResultList).
	TopLevel []string
}

// FileFields returns the names of the request's file parts, sorted.
func (a *API) FileFields() []string {
	var out []string
	for _, n := range a.Request.obj.names {
		if a.Request.Properties[n].File {
			out = append(out, n)
		}
	}
	return out
}

type rawAPI struct {
	Verb        string   `json:"verb"`
	Description string   `json:"description"`
	Permission  string   `json:"permission"`
	Request     *Schema  `json:"request"`
	Response    *Schema  `json:"response"`
	TopLevel    []string `json:"topLevel"`
}

type rawCatalog struct {
	APIs   map[string]*rawAPI `json:"apis"`
	Defs   map[string]*Schema `json:"defs"`
	Source map[string]string  `json:"source"`
}

type loaded struct {
	sorted []*API
	byName map[string]*API
	defs   map[string]*Schema
	source map[string]string
}

var load = sync.OnceValue(func() *loaded {
	c, err := parse(catalogJSON)
	if err != nil {
		panic(err) // the file is embedded and generated; TestCatalog guards it
	}
	return c
})

// parse decodes and resolves a catalog file.
func parse(data []byte) (*loaded, error) {
	var raw rawCatalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	r := resolver{defs: raw.Defs}
	for name, d := range raw.Defs {
		if d == nil || d.Type != TypeObject || d.Ref != "" {
			return nil, fmt.Errorf("catalog: def %s is not an object", name)
		}
		// Every def's lookup form first, so a ref can share it.
		if err := r.index(d); err != nil {
			return nil, fmt.Errorf("catalog: def %s: %w", name, err)
		}
	}
	for name, d := range raw.Defs {
		if err := r.resolve(d); err != nil {
			return nil, fmt.Errorf("catalog: def %s: %w", name, err)
		}
	}
	c := &loaded{byName: make(map[string]*API, len(raw.APIs)), defs: raw.Defs, source: raw.Source}
	for name, ra := range raw.APIs {
		if ra == nil || (ra.Verb != "GET" && ra.Verb != "POST") {
			return nil, fmt.Errorf("catalog: %s: bad verb", name)
		}
		for part, s := range map[string]*Schema{"request": ra.Request, "response": ra.Response} {
			if s == nil || s.Type != TypeObject || s.Ref != "" {
				return nil, fmt.Errorf("catalog: %s: %s is not an object", name, part)
			}
			if err := r.resolve(s); err != nil {
				return nil, fmt.Errorf("catalog: %s %s: %w", name, part, err)
			}
		}
		a := &API{
			Name: name, Verb: ra.Verb, Description: ra.Description, Permission: ra.Permission,
			Request: ra.Request, Response: ra.Response, TopLevel: ra.TopLevel,
		}
		for _, m := range a.TopLevel {
			if _, ok := a.Response.Properties[m]; !ok || slices.Contains(Envelope, m) {
				return nil, fmt.Errorf("catalog: %s: top-level member %q", name, m)
			}
		}
		c.byName[name] = a
		c.sorted = append(c.sorted, a)
	}
	sort.Slice(c.sorted, func(i, j int) bool { return c.sorted[i].Name < c.sorted[j].Name })
	return c, nil
}

type resolver struct {
	defs map[string]*Schema
}

// index builds an object schema's lookup form.
func (r *resolver) index(s *Schema) error {
	o := &object{index: make(map[string]int, len(s.Properties))}
	for n := range s.Properties {
		o.names = append(o.names, n)
	}
	sort.Strings(o.names)
	o.required = make([]bool, len(o.names))
	for i, n := range o.names {
		o.index[n] = i
	}
	for _, n := range s.Required {
		i, ok := o.index[n]
		if !ok {
			return fmt.Errorf("required %q is not a property", n)
		}
		o.required[i] = true
	}
	s.obj = o
	return nil
}

// resolve checks a schema tree and makes every ref point at its def's
// object. It stops at refs, so recursion through defs ends.
func (r *resolver) resolve(s *Schema) error {
	switch {
	case s.Ref != "":
		d, ok := r.defs[s.Ref]
		if !ok {
			return fmt.Errorf("unknown ref %s", s.Ref)
		}
		s.Type, s.Properties, s.Required, s.AdditionalProperties, s.obj = TypeObject, d.Properties, d.Required, d.AdditionalProperties, d.obj
		return nil
	case s.Type == TypeObject:
		if s.obj == nil {
			if err := r.index(s); err != nil {
				return err
			}
		}
		for _, n := range s.obj.names {
			p := s.Properties[n]
			if p == nil {
				return fmt.Errorf("property %s: no schema", n)
			}
			if err := r.resolve(p); err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
		}
	case s.Type == TypeArray:
		if s.Items == nil {
			return fmt.Errorf("array without items")
		}
		return r.resolve(s.Items)
	case s.Type == TypeString, s.Type == TypeInteger, s.Type == TypeNumber, s.Type == TypeBoolean:
	default:
		return fmt.Errorf("unknown type %q", s.Type)
	}
	return nil
}

// Lookup returns the catalogued API with this exact name.
func Lookup(name string) (*API, bool) {
	a, ok := load().byName[name]
	return a, ok
}

// All returns every catalogued API, sorted by name. The slice is the
// caller's; the APIs are shared.
func All() []*API {
	return slices.Clone(load().sorted)
}

// Source names the package version and files the catalog was derived from.
func Source() map[string]string {
	return maps.Clone(load().source)
}
