package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// namesAndVerbs is the SHA-256 of the former api-catalog.tsv's entries,
// "name<TAB>verb" lines sorted bytewise, each ending in a newline: the
// schema catalog replaced that file and must name the same 278 APIs with
// the same verbs.
const namesAndVerbs = "91ca1f1849d175219f2714e6d6835420dcf64939c60635716f82d9c41d87d502"

func TestCatalog_All278(t *testing.T) {
	t.Parallel()
	all := All()
	if len(all) != 278 {
		t.Fatalf("%d APIs, want 278", len(all))
	}
	var b strings.Builder
	for i, a := range all {
		if i > 0 && all[i-1].Name >= a.Name {
			t.Fatalf("not sorted at %s", a.Name)
		}
		if got, ok := Lookup(a.Name); !ok || got != a {
			t.Errorf("Lookup(%q) = %v, %v", a.Name, got, ok)
		}
		if a.Verb != "GET" && a.Verb != "POST" {
			t.Errorf("%s: verb %q", a.Name, a.Verb)
		}
		if a.Request == nil || a.Response == nil || a.Request.Type != TypeObject || a.Response.Type != TypeObject {
			t.Errorf("%s: request or response is not an object schema", a.Name)
		}
		b.WriteString(a.Name + "\t" + a.Verb + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	if got := hex.EncodeToString(sum[:]); got != namesAndVerbs {
		t.Errorf("names and verbs differ from the former api-catalog.tsv (sha256 %s)", got)
	}
	all[0] = nil
	if All()[0] == nil {
		t.Error("All returns shared storage")
	}
	if _, ok := Lookup("open.nope.nope"); ok {
		t.Error("Lookup found an unknown name")
	}
	if src := Source(); src["package"] != "kuaishou-merchant-open-api@1.0.1" {
		t.Errorf("source = %v", src)
	}
}

func TestCatalog_Facts(t *testing.T) {
	t.Parallel()
	api := func(name string) *API {
		t.Helper()
		a, ok := Lookup(name)
		if !ok {
			t.Fatalf("%s not catalogued", name)
		}
		return a
	}

	// The payload beside data.
	dec := api("open.order.decrypt.batch")
	if !slices.Equal(dec.TopLevel, []string{"batchDecryptResultList"}) {
		t.Errorf("decrypt.batch top-level = %v", dec.TopLevel)
	}
	list := dec.Response.Properties["batchDecryptResultList"]
	if list == nil || list.Type != TypeArray || list.Items.Type != TypeObject || list.Items.Properties["decryptedData"] == nil {
		t.Errorf("batchDecryptResultList = %+v", list)
	}
	if l := dec.Request.Properties["batchDecryptList"]; l == nil || l.MaxItems != 100 || !slices.Contains(dec.Request.Required, "batchDecryptList") {
		t.Errorf("batchDecryptList = %+v (want maxItems 100, required)", l)
	}
	if cl := api("open.order.cursor.list"); !slices.Equal(cl.TopLevel, []string{"data"}) || cl.Verb != "GET" {
		t.Errorf("cursor.list = %s %v", cl.Verb, cl.TopLevel)
	}

	// A file field.
	up := api("open.item.image.upload")
	img := up.Request.Properties["imgBytes"]
	if img == nil || !img.File || !slices.Contains(up.Request.Required, "imgBytes") {
		t.Fatalf("imgBytes = %+v", img)
	}
	if got := up.FileFields(); !slices.Equal(got, []string{"imgBytes"}) {
		t.Errorf("FileFields = %v", got)
	}
	if got := api("open.order.detail").FileFields(); got != nil {
		t.Errorf("order.detail FileFields = %v", got)
	}
	if up.Request.Properties["uploadType"].Type != TypeInteger {
		t.Error("uploadType is not an integer")
	}

	// Integers and numbers.
	cl := api("open.order.cursor.list").Request
	for _, f := range []string{"beginTime", "endTime", "pageSize", "orderViewStatus", "sort"} {
		if cl.Properties[f].Type != TypeInteger {
			t.Errorf("cursor.list %s: %s, want integer", f, cl.Properties[f].Type)
		}
	}
	if cl.Properties["cursor"].Type != TypeString {
		t.Error("cursor.list cursor is not a string")
	}
	if ps := cl.Properties["pageSize"]; ps.Maximum == nil || *ps.Maximum != 50 {
		t.Errorf("cursor.list pageSize maximum = %v, want 50", ps.Maximum)
	}
	if d := api("open.order.detail").Request.Properties["oid"]; d.Type != TypeInteger {
		t.Errorf("order.detail oid: %s", d.Type)
	}

	// A shared, recursive object resolves to the same properties.
	dl := api("open.address.district.list").Response.Properties["data"]
	if dl.Ref == "" || dl.Type != TypeObject || len(dl.Properties) == 0 {
		t.Errorf("district.list data = %+v", dl)
	}

	// No API documents a permission package in this source.
	for _, a := range All() {
		if a.Permission != "" {
			t.Errorf("%s: permission %q", a.Name, a.Permission)
		}
	}
}

// TestCatalog_Envelope: every answer has the envelope members, and the
// top-level members are exactly the others.
func TestCatalog_Envelope(t *testing.T) {
	t.Parallel()
	for _, a := range All() {
		var others []string
		for _, n := range a.Response.obj.names {
			if !slices.Contains(Envelope, n) {
				others = append(others, n)
			}
		}
		if !slices.Equal(others, a.TopLevel) {
			t.Errorf("%s: top-level %v, want %v", a.Name, a.TopLevel, others)
		}
		if a.Response.Properties["result"] == nil {
			t.Errorf("%s: no result in the answer", a.Name)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not json":          `{`,
		"unknown key":       `{"apis":{},"defs":{},"extra":1}`,
		"bad verb":          `{"apis":{"open.a.b":{"verb":"PUT","request":{"type":"object"},"response":{"type":"object"}}}}`,
		"request not obj":   `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"string"},"response":{"type":"object"}}}}`,
		"unknown ref":       `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object","properties":{"x":{"ref":"Nope"}}},"response":{"type":"object"}}}}`,
		"required unknown":  `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object","required":["x"]},"response":{"type":"object"}}}}`,
		"array no items":    `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object","properties":{"x":{"type":"array"}}},"response":{"type":"object"}}}}`,
		"unknown type":      `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object","properties":{"x":{"type":"date"}}},"response":{"type":"object"}}}}`,
		"top-level missing": `{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object"},"response":{"type":"object"},"topLevel":["data"]}}}`,
		"def not object":    `{"apis":{},"defs":{"D":{"type":"string"}}}`,
	} {
		if _, err := parse([]byte(in)); err == nil {
			t.Errorf("%s: parse accepted %s", name, in)
		}
	}
	c, err := parse([]byte(`{"apis":{"open.a.b":{"verb":"GET","request":{"type":"object","properties":{"t":{"ref":"T"}}},` +
		`"response":{"type":"object","properties":{"data":{"type":"string"}}},"topLevel":["data"]}},` +
		`"defs":{"T":{"type":"object","properties":{"child":{"ref":"T"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tt := c.byName["open.a.b"].Request.Properties["t"]
	if tt.Properties["child"].Properties["child"] == nil {
		t.Error("recursive ref not resolved")
	}
}
