package platform

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	cat := Catalog()
	if len(cat) != 278 {
		t.Fatalf("%d APIs, want 278", len(cat))
	}
	if !slices.IsSortedFunc(cat, func(a, b API) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("not sorted")
	}
	cat[0].Name = "changed"
	if Catalog()[0].Name == "changed" {
		t.Error("Catalog returns shared storage")
	}
	agree := 0
	for _, a := range Catalog() {
		if got, ok := LookupAPI(a.Name); !ok || got != a {
			t.Errorf("LookupAPI(%q) = %v, %v", a.Name, got, ok)
		}
		if !ValidMethodName(a.Name) || (a.HTTPMethod != http.MethodGet && a.HTTPMethod != http.MethodPost) {
			t.Errorf("catalog entry %q %q", a.Name, a.HTTPMethod)
		}
		if HTTPMethodFor(a.Name) != a.HTTPMethod {
			t.Errorf("HTTPMethodFor(%q) disagrees with catalog", a.Name)
		}
		if guessVerb(a.Name) == a.HTTPMethod {
			agree++
		}
	}
	t.Logf("name heuristic agrees with %d/%d catalog verbs", agree, len(cat))
	if _, ok := LookupAPI("open.nope.nope"); ok {
		t.Error("LookupAPI found an unknown name")
	}
	for name, verb := range map[string]string{
		"open.order.cursor.list":          http.MethodGet,
		"open.seller.order.goods.deliver": http.MethodPost,
		"open.express.ebill.get":          http.MethodPost, // [CONFLICT] in the protocol notes; the catalog decides
	} {
		if a, _ := LookupAPI(name); a.HTTPMethod != verb {
			t.Errorf("%s: %s, want %s", name, a.HTTPMethod, verb)
		}
	}
}

// guessVerb is HTTPMethodFor without the catalog.
func guessVerb(name string) string {
	last := name[strings.LastIndexByte(name, '.')+1:]
	for w := range camelWords(last) {
		if slices.Contains(writeWords, w) {
			return http.MethodPost
		}
	}
	return http.MethodGet
}

func TestHTTPMethodFor_Unknown(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"open.widget.create":          http.MethodPost,
		"open.widget.batchUpdate":     http.MethodPost,
		"open.widget.sku.delete":      http.MethodPost,
		"open.widget.flag":            http.MethodPost,
		"open.widget.send":            http.MethodPost,
		"open.widget.new":             http.MethodPost,
		"open.widget.list":            http.MethodGet,
		"open.widget.detail":          http.MethodGet,
		"open.widget.address":         http.MethodGet, // "add" is a word, not a substring
		"open.widget.asset.get":       http.MethodGet,
		"open.widget.newsletter":      http.MethodGet,
		"open.widget.create.list":     http.MethodGet, // only the last segment counts
		"open.widget.settings":        http.MethodGet,
		"open.widget.setStatus":       http.MethodPost,
		"open.widget.UPDATE":          http.MethodPost,
		"open.widget.HTTPSetup":       http.MethodGet,
		"open.widget.HTTPSet":         http.MethodPost,
		"open.widget.queryRejectInfo": http.MethodPost,
	}
	for name, want := range tests {
		if got := HTTPMethodFor(name); got != want {
			t.Errorf("HTTPMethodFor(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestValidMethodName(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"open.order.detail": true,
		"open.distribution.investment.activity.queryExclusivePromoterInfo": true,
		"open.a.b":              true,
		"open.a1.b2":            true,
		"open.detail":           false,
		"open..detail":          false,
		"open.order.":           false,
		"order.detail.get":      false,
		"Open.order.detail":     false,
		"open.order-x.detail":   false,
		"open.order.detail?x=1": false,
		"open.order/detail.x":   false,
		"open.order.detail ":    false,
		"open.订单.detail":        false,
		"":                      false,
		"open." + strings.Repeat("a", 121) + ".b": true, // 128 chars
		"open." + strings.Repeat("a", 122) + ".b": false,
	}
	for name, want := range tests {
		if got := ValidMethodName(name); got != want {
			t.Errorf("ValidMethodName(%q) = %v, want %v", name, got, want)
		}
	}
}
