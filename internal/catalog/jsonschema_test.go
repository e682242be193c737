package catalog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestJSONSchema_CursorList(t *testing.T) {
	t.Parallel()
	req, resp, ok := JSONSchema("open.order.cursor.list")
	if !ok {
		t.Fatal("not catalogued")
	}
	var r struct {
		Schema     string `json:"$schema"`
		Title      string `json:"title"`
		Type       string `json:"type"`
		Required   []string
		Additional *bool `json:"additionalProperties"`
		Properties map[string]struct {
			Type        string
			Description string
			Maximum     *int64
		}
	}
	if err := json.Unmarshal(req, &r); err != nil {
		t.Fatal(err)
	}
	if r.Schema != JSONSchemaDialect || r.Title != "open.order.cursor.list request" || r.Type != "object" {
		t.Errorf("header: %+v", r)
	}
	if !slices.Equal(r.Required, []string{"beginTime", "cursor", "endTime", "orderViewStatus", "pageSize"}) {
		t.Errorf("required = %v", r.Required)
	}
	if r.Additional == nil || *r.Additional {
		t.Error("request objects must close with additionalProperties: false")
	}
	if p := r.Properties["beginTime"]; p.Type != "integer" || p.Description == "" {
		t.Errorf("beginTime = %+v", p)
	}
	if p := r.Properties["pageSize"]; p.Maximum == nil || *p.Maximum != 50 {
		t.Errorf("pageSize = %+v", p)
	}
	if strings.Contains(string(req), `\u003c`) {
		t.Error("HTML-escaped text")
	}

	var s map[string]any
	if err := json.Unmarshal(resp, &s); err != nil {
		t.Fatal(err)
	}
	props := s["properties"].(map[string]any)
	if ref := props["data"].(map[string]any)["$ref"]; ref != "#/$defs/OrderListData_10683" {
		t.Errorf("data $ref = %v", ref)
	}
	if _, ok := s["additionalProperties"]; ok {
		t.Error("answers must stay open")
	}
	if tl := s["x-kwaishop-top-level"]; tl == nil || tl.([]any)[0] != "data" {
		t.Errorf("top-level = %v", tl)
	}
	if _, _, ok := JSONSchema("open.not.catalogued"); ok {
		t.Error("uncatalogued name described")
	}
}

func TestJSONSchema_FileField(t *testing.T) {
	t.Parallel()
	req, _, _ := JSONSchema("open.item.image.upload")
	var s struct {
		Required   []string
		Properties map[string]map[string]any
	}
	if err := json.Unmarshal(req, &s); err != nil {
		t.Fatal(err)
	}
	if f := s.Properties["imgBytes"]; f["x-kwaishop-file"] != true || f["type"] != "string" {
		t.Errorf("imgBytes = %v", f)
	}
	if slices.Contains(s.Required, "imgBytes") || !slices.Contains(s.Required, "uploadType") {
		t.Errorf("required = %v", s.Required)
	}
}

// TestJSONSchema_All: every document is JSON, every $ref resolves in its
// $defs, every def is used, and recursive objects terminate.
func TestJSONSchema_All(t *testing.T) {
	t.Parallel()
	for _, a := range All() {
		req, resp, ok := JSONSchema(a.Name)
		if !ok {
			t.Fatalf("%s: not described", a.Name)
		}
		for _, doc := range [][]byte{req, resp} {
			var s map[string]any
			if err := json.Unmarshal(doc, &s); err != nil {
				t.Fatalf("%s: %v", a.Name, err)
			}
			defs, _ := s["$defs"].(map[string]any)
			used := map[string]bool{}
			var walk func(v any)
			walk = func(v any) {
				switch x := v.(type) {
				case map[string]any:
					if ref, ok := x["$ref"].(string); ok {
						name := strings.TrimPrefix(ref, "#/$defs/")
						if defs[name] == nil {
							t.Errorf("%s: dangling %s", a.Name, ref)
						}
						used[name] = true
					}
					for _, c := range x {
						walk(c)
					}
				case []any:
					for _, c := range x {
						walk(c)
					}
				}
			}
			walk(s)
			for name := range defs {
				if !used[name] {
					t.Errorf("%s: unused def %s", a.Name, name)
				}
			}
		}
	}
}
