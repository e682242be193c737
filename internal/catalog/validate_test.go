package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// cursorList is a valid open.order.cursor.list params object.
const cursorList = `{"orderViewStatus":1,"pageSize":50,"sort":1,"queryType":1,` +
	`"beginTime":1718000000000,"endTime":1718600000000,"cpsType":0,"cursor":""}`

type want struct {
	field      string
	kind       Kind
	suggestion string
}

func check(t *testing.T, name, params string, opts Options, wants ...want) []Violation {
	t.Helper()
	got := Validate(name, []byte(params), opts)
	var g []want
	for _, v := range got {
		g = append(g, want{v.Field, v.Kind, v.Suggestion})
		if v.Description == "" {
			t.Errorf("%s: violation without description: %+v", name, v)
		}
	}
	if !slices.Equal(g, wants) {
		t.Errorf("Validate(%s, %.80s)\n got %+v\nwant %+v\n(%v)", name, params, g, wants, got)
	}
	return got
}

func TestValidate_Valid(t *testing.T) {
	t.Parallel()
	check(t, "open.order.cursor.list", cursorList, Options{})
	check(t, "open.order.cursor.list", " \n"+cursorList+"\n ", Options{})
	// Optional members may be absent or null.
	check(t, "open.order.cursor.list", `{"orderViewStatus":1,"pageSize":50,"beginTime":1,"endTime":2,"cursor":"","sort":null}`, Options{})
	check(t, "open.order.decrypt.batch", `{"batchDecryptList":[{"bizId":"1","encryptedData":"x"},{"bizId":"2","encryptedData":"y"}]}`, Options{})
	// An API without params.
	check(t, "open.item.category", `{}`, Options{})
	check(t, "open.item.category", ``, Options{})
	check(t, "open.item.category", `null`, Options{})
}

func TestValidate_Uncatalogued(t *testing.T) {
	t.Parallel()
	for _, p := range []string{`{"anything":[1,2]}`, `not json`, `[]`} {
		if v := Validate("open.not.catalogued", []byte(p), Options{}); v != nil {
			t.Errorf("uncatalogued %s: %v", p, v)
		}
	}
}

// TestValidate_Misspelt: three misspelt params, three violations, each with
// the documented name as its suggestion; the right names then count as
// missing.
func TestValidate_Misspelt(t *testing.T) {
	t.Parallel()
	v := check(t, "open.order.cursor.list",
		`{"orderViewStatus":1,"pagesize":50,"begintime":1718000000000,"endTim":1718600000000,"cursor":""}`, Options{},
		want{"pagesize", KindUnknownField, "pageSize"},
		want{"begintime", KindUnknownField, "beginTime"},
		want{"endTim", KindUnknownField, "endTime"},
		want{"beginTime", KindMissing, ""},
		want{"endTime", KindMissing, ""},
		want{"pageSize", KindMissing, ""},
	)
	if len(v) > 0 && v[0].Description != `unknown field "pagesize"; did you mean "pageSize"?` {
		t.Errorf("description = %q", v[0].Description)
	}
	// Nothing close: no suggestion.
	check(t, "open.order.detail", `{"oid":1,"somethingElse":2}`, Options{},
		want{"somethingElse", KindUnknownField, ""})
	// Short names tolerate one edit only.
	check(t, "open.order.detail", `{"oid":1,"o":2}`, Options{}, want{"o", KindUnknownField, ""})
	check(t, "open.order.detail", `{"oix":1}`, Options{},
		want{"oix", KindUnknownField, "oid"}, want{"oid", KindMissing, ""})
	// AllowUnknown: fields newer than the catalog pass, the rest is checked.
	check(t, "open.order.cursor.list", strings.Replace(cursorList, `"sort":1`, `"sort":1,"newField":true`, 1), Options{AllowUnknown: true})
	check(t, "open.order.detail", `{"newField":true}`, Options{AllowUnknown: true}, want{"oid", KindMissing, ""})
}

func TestValidate_Integers(t *testing.T) {
	t.Parallel()
	// Exact: 1234567890123456789 is not a float64, and it is accepted.
	check(t, "open.order.detail", `{"oid":1234567890123456789}`, Options{})
	check(t, "open.order.detail", `{"oid":9223372036854775807}`, Options{})
	check(t, "open.order.detail", `{"oid":-9223372036854775808}`, Options{})
	check(t, "open.order.detail", `{"oid":0}`, Options{})
	check(t, "open.order.detail", `{"oid":"1234567890123456789"}`, Options{}) // ids as decimal strings stay exact
	check(t, "open.order.detail", `{"oid":"-5"}`, Options{})
	for _, bad := range []string{`1.5`, `1.0`, `1e3`, `12E-1`, `9223372036854775808`, `-9223372036854775809`, `"12a"`, `"1.5"`, `""`, `"-"`, `"9223372036854775808"`, `" 1"`, `true`, `[1]`, `{"a":1}`} {
		v := check(t, "open.order.detail", `{"oid":`+bad+`}`, Options{}, want{"oid", KindType, ""})
		if len(v) == 1 && !strings.HasPrefix(v[0].Description, "want integer, got ") {
			t.Errorf("%s: description %q", bad, v[0].Description)
		}
	}
	// A number field takes fractions; an array of integers checks each entry.
	check(t, "open.order.cursor.list", strings.Replace(cursorList, `"pageSize":50`, `"pageSize":50.5`, 1), Options{},
		want{"pageSize", KindType, ""})
}

func TestValidate_Types(t *testing.T) {
	t.Parallel()
	check(t, "open.order.cursor.list", strings.Replace(cursorList, `"cursor":""`, `"cursor":0`, 1), Options{},
		want{"cursor", KindType, ""})
	check(t, "open.order.decrypt.batch", `{"batchDecryptList":{"bizId":"1"}}`, Options{},
		want{"batchDecryptList", KindType, ""})
	// Nested: paths name the entry and the member.
	check(t, "open.order.decrypt.batch", `{"batchDecryptList":[{"bizId":"1","encryptedData":"x"},{"bizId":2,"encryptdData":"y"},null,"s"]}`, Options{},
		want{"batchDecryptList[1].bizId", KindType, ""},
		want{"batchDecryptList[1].encryptdData", KindUnknownField, "encryptedData"},
		want{"batchDecryptList[1].encryptedData", KindMissing, ""},
		want{"batchDecryptList[2]", KindType, ""},
		want{"batchDecryptList[3]", KindType, ""},
	)
	// Required and null; a duplicate member.
	check(t, "open.order.detail", `{"oid":null}`, Options{}, want{"oid", KindMissing, ""})
	check(t, "open.order.detail", `{"oid":1,"oid":2}`, Options{}, want{"oid", KindDuplicate, ""})
}

func TestValidate_MaxItems(t *testing.T) {
	t.Parallel()
	entries := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`{"bizId":"%d","encryptedData":"x"}`, i)
		}
		return `{"batchDecryptList":[` + strings.Join(s, ",") + `]}`
	}
	check(t, "open.order.decrypt.batch", entries(100), Options{})
	v := check(t, "open.order.decrypt.batch", entries(101), Options{}, want{"batchDecryptList", KindTooMany, ""})
	if len(v) == 1 && v[0].Description != "at most 100 entries" {
		t.Errorf("description %q", v[0].Description)
	}
	// Entries past the limit are not walked.
	check(t, "open.order.decrypt.batch", strings.Replace(entries(101), `"bizId":"100"`, `"bizId":100`, 1), Options{},
		want{"batchDecryptList", KindTooMany, ""})
}

func TestValidate_Files(t *testing.T) {
	t.Parallel()
	const up = "open.item.image.upload"
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{Files: []string{"imgBytes"}})
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{}, want{"imgBytes", KindMissing, ""})
	check(t, up, `{"imgUrl":"u","uploadType":1,"imgBytes":"AAAA"}`, Options{Files: []string{"imgBytes"}},
		want{"imgBytes", KindFile, ""})
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{Files: []string{"imgBytes", "imgbytes"}},
		want{"imgbytes", KindFile, "imgBytes"})
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{Files: []string{"imgBytes", "imgBytes"}},
		want{"imgBytes", KindDuplicate, ""})
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{Files: []string{"uploadType", "imgBytes"}},
		want{"uploadType", KindFile, ""})
	check(t, "open.order.detail", `{"oid":1}`, Options{Files: []string{"imgBytes"}}, want{"imgBytes", KindFile, ""})
	many := make([]string, 17)
	for i := range many {
		many[i] = fmt.Sprint("f", i)
	}
	check(t, up, `{"imgUrl":"u","uploadType":1}`, Options{Files: many}, want{"", KindMalformed, ""})
}

// TestValidate_Hostile: every hostile input gets a clean, bounded answer.
func TestValidate_Hostile(t *testing.T) {
	t.Parallel()
	const cl = "open.order.cursor.list"
	for name, p := range map[string]string{
		"not json":       `{"orderViewStatus":`,
		"garbage":        `}{`,
		"array":          `[1,2]`,
		"string":         `"x"`,
		"number":         `12`,
		"trailing":       cursorList + `{}`,
		"trailing junk":  cursorList + ` x`,
		"deep object":    `{"x":` + strings.Repeat(`{"a":`, 100_000),
		"deep array":     `{"orderViewStatus":` + strings.Repeat(`[`, 100_000),
		"deep unknown":   `{"x":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`,
		"huge array":     `{"x":[` + strings.Repeat(`1,`, MaxValues) + `1]}`,
		"huge object":    `{` + strings.Repeat(`"a":1,`, MaxValues) + `"b":1}`,
		"unterminated":   `{"cursor":"abc`,
		"bad escape":     `{"cursor":"\x"}`,
		"control in key": "{\"a\nb\":1}",
	} {
		v := Validate(cl, []byte(p), Options{AllowUnknown: true})
		if len(v) == 0 || v[len(v)-1].Kind != KindMalformed {
			t.Errorf("%s: %v, want a malformed violation last", name, v)
		}
		if len(v) > DefaultMaxViolations {
			t.Errorf("%s: %d violations", name, len(v))
		}
	}
	// Many unknown members: at most MaxViolations violations.
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 1000 {
		fmt.Fprintf(&b, `"u%d":1,`, i)
	}
	b.WriteString(`"z":1}`)
	if v := Validate(cl, []byte(b.String()), Options{}); len(v) != DefaultMaxViolations {
		t.Errorf("%d violations, want %d", len(v), DefaultMaxViolations)
	}
	if v := Validate(cl, []byte(b.String()), Options{MaxViolations: 3}); len(v) != 3 {
		t.Errorf("%d violations, want 3", len(v))
	}
	// A long or odd member name is cut and cleaned in the path.
	long := strings.Repeat("é", 1000)
	v := Validate(cl, []byte(`{"`+long+`":1,"a\u0000b":2}`), Options{MaxViolations: 2})
	if len(v) != 2 {
		t.Fatalf("%v", v)
	}
	for _, x := range v {
		if len(x.Field) > maxShownName+len("…")+2 || !utf8.ValidString(x.Field) || strings.ContainsRune(x.Field, 0) {
			t.Errorf("field %q", x.Field)
		}
	}
	// Nesting at the bound of the catalog's deepest request is fine; values
	// are never echoed.
	v = Validate("open.order.detail", []byte(`{"oid":"secret-token-value"}`), Options{})
	if len(v) != 1 || strings.Contains(v[0].Description, "secret") {
		t.Errorf("%v", v)
	}
}

// TestValidate_EveryAPI: params built from each API's request schema pass,
// and dropping one required member gives exactly one missing-field
// violation naming it.
func TestValidate_EveryAPI(t *testing.T) {
	t.Parallel()
	for _, a := range All() {
		params := sample(a.Request, 0).(map[string]any)
		raw, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Files: a.FileFields()}
		if v := a.Validate(raw, opts); len(v) != 0 {
			t.Errorf("%s: %s: %v", a.Name, raw, v)
			continue
		}
		for _, r := range a.Request.Required {
			if a.Request.Properties[r].File {
				continue
			}
			less := map[string]any{}
			for k, v := range params {
				if k != r {
					less[k] = v
				}
			}
			raw, _ := json.Marshal(less)
			v := a.Validate(raw, opts)
			if len(v) != 1 || v[0].Field != r || v[0].Kind != KindMissing {
				t.Errorf("%s without %s: %v", a.Name, r, v)
			}
		}
	}
}

// sample builds a value of s with every required member.
func sample(s *Schema, depth int) any {
	switch s.Type {
	case TypeObject:
		m := map[string]any{}
		if depth > 8 {
			return m
		}
		for _, r := range s.Required {
			if p := s.Properties[r]; !p.File {
				m[r] = sample(p, depth+1)
			}
		}
		return m
	case TypeArray:
		return []any{sample(s.Items, depth+1)}
	case TypeInteger:
		return json.Number("1234567890123456789")
	case TypeNumber:
		return 1.5
	case TypeBoolean:
		return true
	}
	return "x"
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"beginTime", "cursor", "endTime", "oid", "pageSize"}
	for in, want := range map[string]string{
		"BEGINTIME":                          "beginTime",
		"beginTim":                           "beginTime",
		"bgeinTime":                          "beginTime", // a transposition is two edits
		"curser":                             "cursor",
		"pageSizes":                          "pageSize",
		"oi":                                 "oid",
		"xyz":                                "",
		"o":                                  "",
		"":                                   "",
		"totally":                            "",
		strings.Repeat("a", maxSuggestLen+1): "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	names := []string{"open.order.cursor.list", "open.order.decrypt.batch", "open.item.image.upload", "open.order.detail", "open.item.category"}
	f.Add(uint8(0), []byte(cursorList))
	f.Add(uint8(1), []byte(`{"batchDecryptList":[{"bizId":"1","encryptedData":"x"}]}`))
	f.Add(uint8(2), []byte(`{"imgBytes":"x","uploadType":1.5}`))
	f.Add(uint8(3), []byte(`{"oid":[[[{}]]],"oid":null}`))
	f.Add(uint8(4), []byte(`null`))
	f.Fuzz(func(t *testing.T, which uint8, params []byte) {
		name := names[int(which)%len(names)]
		v := Validate(name, params, Options{})
		if len(v) > DefaultMaxViolations {
			t.Fatalf("%d violations", len(v))
		}
		for _, x := range v {
			if !utf8.ValidString(x.Field) || x.Description == "" || x.Kind == "" {
				t.Fatalf("violation %+v", x)
			}
		}
		if len(v) == 0 && len(bytes.TrimSpace(params)) > 0 {
			// Accepted params are one JSON object (or null).
			var m map[string]json.RawMessage
			if err := json.Unmarshal(params, &m); err != nil {
				t.Fatalf("accepted %q: %v", params, err)
			}
		}
	})
}

// BenchmarkValidate: a typical open.order.cursor.list call.
func BenchmarkValidate(b *testing.B) {
	params := []byte(cursorList)
	a, _ := Lookup("open.order.cursor.list")
	b.ReportAllocs()
	for b.Loop() {
		if v := a.Validate(params, Options{}); v != nil {
			b.Fatal(v)
		}
	}
}

// BenchmarkValidate_Batch: 100 entries of open.order.decrypt.batch.
func BenchmarkValidate_Batch(b *testing.B) {
	s := make([]string, 100)
	for i := range s {
		s[i] = fmt.Sprintf(`{"bizId":"%d","encryptedData":"#abc#def#%d"}`, i, i)
	}
	params := []byte(`{"batchDecryptList":[` + strings.Join(s, ",") + `]}`)
	a, _ := Lookup("open.order.decrypt.batch")
	b.ReportAllocs()
	for b.Loop() {
		if v := a.Validate(params, Options{}); v != nil {
			b.Fatal(v)
		}
	}
}
