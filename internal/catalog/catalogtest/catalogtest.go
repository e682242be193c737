// Package catalogtest helps tests walk the schema catalog: it generates the
// params of a call from an API's request schema, a file for each file
// field, and checks an answer against the API's response schema.
package catalogtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
)

// ExactID is the value of every id member of generated params: 2^53+1, the
// least integer a double cannot hold.
const ExactID = "9007199254740993"

// maxDepth bounds the nesting of generated params (request schemas may
// refer to themselves).
const maxDepth = 12

// Options tune Params.
type Options struct {
	// Optional fills the optional members too (top level and nested); by
	// default only the required ones.
	Optional bool
	// Set replaces top-level members (and adds them): values of any JSON
	// encodable type; use json.Number for exact integers.
	Set map[string]any
	// Omit leaves out these top-level members.
	Omit []string
}

// Params returns params for a call of a as JSON text: each member a value
// of its schema's type within its documented limits (an integer one of the
// codes its description lists, when it lists some; an id ExactID; arrays of
// one entry). File fields are not params (Files).
func Params(a *catalog.API, opts Options) json.RawMessage {
	g := paramGen{optional: opts.Optional}
	m := g.object(a.Request, 0)
	for k, v := range opts.Set {
		m[k] = v
	}
	for _, k := range opts.Omit {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // maps of JSON values
	}
	return b
}

// RequiredParam returns a's first required top-level param (not a file
// field) in sorted order, or "" when it has none.
func RequiredParam(a *catalog.API) string {
	for _, n := range a.Request.Required {
		if !a.Request.Properties[n].File {
			return n
		}
	}
	return ""
}

// PNG is a 1×1 PNG image.
var PNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// Files returns a file for each of a's file fields (PNG), or nil.
func Files(a *catalog.API) map[string][]byte {
	var out map[string][]byte
	for _, n := range a.FileFields() {
		if out == nil {
			out = map[string][]byte{}
		}
		out[n] = PNG
	}
	return out
}

type paramGen struct{ optional bool }

func (g paramGen) value(s *catalog.Schema, name string, depth int) any {
	switch s.Type {
	case catalog.TypeObject:
		return g.object(s, depth+1)
	case catalog.TypeArray:
		n := 1
		if depth >= maxDepth {
			n = 0
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(s.Items, name, depth+1)
		}
		return out
	case catalog.TypeInteger:
		return g.integer(s, name)
	case catalog.TypeNumber:
		return json.Number("1.5")
	case catalog.TypeBoolean:
		return true
	}
	v := name + "-x"
	if s.MaxLength > 0 && len(v) > s.MaxLength {
		v = v[:s.MaxLength]
	}
	return v
}

func (g paramGen) object(s *catalog.Schema, depth int) map[string]any {
	out := map[string]any{}
	if s.AdditionalProperties || depth >= maxDepth {
		return out
	}
	for _, n := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[n]
		if p.File || !g.optional && !slices.Contains(s.Required, n) {
			continue
		}
		out[n] = g.value(p, n, depth)
	}
	return out
}

// code matches a code a description lists: "1-增加", "2：减少", "0立即上架",
// "（1-待分配）", "[1:按…]".
var code = regexp.MustCompile(`(?:^|[^0-9.])([0-9]{1,3})\s*(?:-|:|：|\p{Han})`)

func (g paramGen) integer(s *catalog.Schema, name string) any {
	v := int64(1)
	id := name == "id" || name == "oid" || strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "Ids")
	switch {
	case id:
		v, _ = strconv.ParseInt(ExactID, 10, 64)
	default:
		for _, m := range code.FindAllStringSubmatch(s.Description, -1) {
			if n, _ := strconv.ParseInt(m[1], 10, 64); n != 0 {
				v = n
				break
			}
		}
	}
	if s.Maximum != nil && v > *s.Maximum {
		v = *s.Maximum
	}
	if s.Minimum != nil && v < *s.Minimum {
		v = *s.Minimum
	}
	return json.Number(strconv.FormatInt(v, 10))
}

// CheckOptions tune CheckAnswer.
type CheckOptions struct {
	// Closed refuses object members the schema does not list (answers are
	// open by default: the platform adds fields).
	Closed bool
}

// CheckAnswer checks a platform answer (the whole JSON body) against a's
// response schema: a success envelope (result 1), every top-level member
// the schema lists present and no other besides the envelope and
// requestId, and each value of its schema's type: integers without a
// fraction or an exponent within int64, every required member present,
// nothing null. It returns every problem found, joined.
func CheckAnswer(a *catalog.API, body []byte, opts CheckOptions) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s: the answer is not a JSON object: %w", a.Name, err)
	}
	c := checker{closed: opts.Closed}
	if r, _ := m["result"].(json.Number); r != "1" {
		c.add("result", "is %v, want 1 (%v)", m["result"], m["error_msg"])
	}
	for _, t := range a.TopLevel {
		if _, ok := m[t]; !ok {
			c.add(t, "top-level member missing")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch {
		case slices.Contains(a.TopLevel, k):
			c.value(a.Response.Properties[k], m[k], k, 0)
		case k == "requestId" || slices.Contains(catalog.Envelope, k):
		default:
			c.add(k, "top-level member the schema does not list")
		}
	}
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", a.Name, errors.Join(c.problems...))
}

type checker struct {
	closed   bool
	problems []error
}

func (c *checker) add(path, format string, args ...any) {
	if len(c.problems) < 20 {
		c.problems = append(c.problems, fmt.Errorf("%s: "+format, append([]any{path}, args...)...))
	}
}

func (c *checker) value(s *catalog.Schema, v any, path string, depth int) {
	if depth > 64 {
		c.add(path, "nested deeper than 64")
		return
	}
	if v == nil {
		c.add(path, "null, want %s", s.Type)
		return
	}
	switch s.Type {
	case catalog.TypeObject:
		o, ok := v.(map[string]any)
		if !ok {
			c.add(path, "want object, got %T", v)
			return
		}
		if s.AdditionalProperties {
			return
		}
		for _, r := range s.Required {
			if _, ok := o[r]; !ok {
				c.add(path+"."+r, "required member missing")
			}
		}
		for _, k := range slices.Sorted(maps.Keys(o)) {
			p, ok := s.Properties[k]
			if !ok {
				if c.closed {
					c.add(path+"."+k, "member the schema does not list")
				}
				continue
			}
			c.value(p, o[k], path+"."+k, depth+1)
		}
	case catalog.TypeArray:
		arr, ok := v.([]any)
		if !ok {
			c.add(path, "want array, got %T", v)
			return
		}
		for i, e := range arr {
			c.value(s.Items, e, path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case catalog.TypeInteger:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "want integer, got %T", v)
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			c.add(path, "want an int64 integer, got %s", n)
		}
	case catalog.TypeNumber:
		if _, ok := v.(json.Number); !ok {
			c.add(path, "want number, got %T", v)
		}
	case catalog.TypeBoolean:
		if _, ok := v.(bool); !ok {
			c.add(path, "want boolean, got %T", v)
		}
	case catalog.TypeString:
		if _, ok := v.(string); !ok {
			c.add(path, "want string, got %T", v)
		}
	}
}
