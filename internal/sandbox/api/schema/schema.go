// Package schema answers every catalogued platform API the sandbox does not
// emulate by rule (package api/emulated keeps priority): it checks the
// call's params and file parts against the catalog (internal/catalog) as
// the gateway does, answering the first violation as the platform's
// parameter error (804001, naming the field), and answers deterministic
// data shaped by the API's response schema.
//
// An answer has the envelope and exactly the top-level members the schema
// lists (data and the members beside it), every property filled with a
// value of its type: integers as int64 (id fields above 2^53, so clients
// must keep them exact), strings, booleans, arrays of 1–3 entries, nested
// and shared objects, recursive trees cut at their second level. The values
// are drawn from a seed of the API name, the caller (the shop, or the app
// on an app-level call) and the params: the same call answers the same
// thing, and another shop draws other ids.
//
// Writes answer success (write.go); the writes of seller addresses change
// the shop's records, so the rule-emulated open.address.seller.list shows
// them. Uploads (file fields, open.item.image.upload's imgBytes) must be
// images and answer a stable URL derived from the bytes (upload.go).
package schema

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
)

// Lookup returns the schema handler of a catalogued API.
func Lookup(method string) (api.Handler, bool) {
	a, ok := catalog.Lookup(method)
	if !ok {
		return nil, false
	}
	return func(c *api.Call) (any, *api.Error) { return answer(a, c) }, true
}

func answer(a *catalog.API, c *api.Call) (any, *api.Error) {
	raw, err := json.Marshal(c.Param) // numbers are json.Number: exact
	if err != nil {
		return nil, api.BadParam("param must be a JSON object string")
	}
	if e := check(a, raw, c.Files); e != nil {
		return nil, e
	}
	g := newGen(a, c, raw)
	if e := g.upload(c.Files); e != nil {
		return nil, e
	}
	top := make(map[string]any, len(a.TopLevel))
	for _, m := range a.TopLevel {
		top[m] = g.value(a.Response.Properties[m], m, 1)
	}
	if c.Shop != nil {
		if e := applyWrite(a.Name, c, top); e != nil {
			return nil, e
		}
	}
	switch {
	case len(a.TopLevel) == 0:
		return nil, nil
	case len(a.TopLevel) == 1 && a.TopLevel[0] == "data":
		return top["data"], nil
	}
	return api.TopLevel(top), nil
}

// check validates the params and the names of the file parts; the first
// violation is the answer: "param.<path>: <what>" for a value of the
// params, "<part>: <what>" for a file part.
func check(a *catalog.API, raw []byte, files map[string][]byte) *api.Error {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	vs := a.Validate(raw, catalog.Options{Files: names, MaxViolations: 1})
	if len(vs) == 0 {
		return nil
	}
	v := vs[0]
	isFile := slices.Contains(a.FileFields(), v.Field)
	switch {
	case v.Kind == catalog.KindMissing && isFile, v.Kind == catalog.KindFile && !isFile:
		return api.BadParam("%s: %s", v.Field, v.Description)
	case v.Field == "":
		return api.BadParam("param: %s", v.Description)
	case strings.HasPrefix(v.Field, "["):
		return api.BadParam("param%s: %s", v.Field, v.Description)
	}
	return api.BadParam("param.%s: %s", v.Field, v.Description)
}
