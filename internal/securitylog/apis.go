package securitylog

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// source says where a platform API's accessed order ids are: in its
// answer's data (every "oid" member, at any depth), or in its request (the
// bizId of each element of a list parameter), or nowhere (the access is
// logged with a description and no ids).
type source struct {
	response bool
	list     string // request: the list parameter whose elements carry bizId
	noIDs    bool
}

// orderReads is the one table of the platform APIs that read order data
// (their answers or requests carry order ids in the catalog,
// internal/catalog/catalog.json); a generic Call of one of them is an
// order access. Writes (ship, close, note, ...) are not reads of order
// data and are not logged.
var orderReads = map[string]source{
	"open.order.cursor.list":                {response: true},
	"open.order.detail":                     {response: true},
	"open.order.buyer.order.list":           {response: true},
	"open.order.tag.flag":                   {response: true},
	"open.seller.order.cps.detail":          {response: true},
	"open.seller.order.cps.list":            {response: true},
	"open.seller.order.fee.detail":          {response: true},
	"open.seller.order.refund.detail":       {response: true},
	"open.seller.order.refund.pcursor.list": {response: true},
	"open.order.decrypt.batch":              {list: "batchDecryptList"},
	"open.order.desensitise.batch":          {list: "batchDesensitiseList"},
	"open.order.search.index.batch":         {noIDs: true},
}

// OrderRead reports whether a generic call of method reads order data.
func OrderRead(method string) bool {
	_, ok := orderReads[method]
	return ok
}

// CallOrderIDs are the order ids a successful call of method accessed,
// from its params (JSON object) and its answer's data; ok is false when
// method does not read order data. Malformed JSON yields no ids.
func CallOrderIDs(method string, params, data json.RawMessage) (ids []int64, ok bool) {
	src, ok := orderReads[method]
	switch {
	case !ok:
		return nil, false
	case src.noIDs:
		return nil, true
	case src.response:
		return collectOIDs(data), true
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, true
	}
	var list []struct {
		BizID json.RawMessage `json:"bizId"`
	}
	if err := json.Unmarshal(p[src.list], &list); err != nil {
		return nil, true
	}
	for _, e := range list {
		s := strings.Trim(string(e.BizID), `" `)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			ids = append(ids, n)
		}
	}
	return ids, true
}

// collectOIDs walks data for every integer member named "oid" (exact:
// numbers are read as text).
func collectOIDs(data json.RawMessage) []int64 {
	if len(data) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var out []int64
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 32 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if k == "oid" {
					var s string
					switch n := x.(type) {
					case json.Number:
						s = n.String()
					case string:
						s = n
					}
					if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
						out = append(out, id)
					}
					continue
				}
				walk(x, depth+1)
			}
		case []any:
			for _, x := range t {
				walk(x, depth+1)
			}
		}
	}
	walk(v, 0)
	return dedupe(out)
}

// dedupe keeps the first of each id, in order.
func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
