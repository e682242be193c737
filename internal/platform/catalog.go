package platform

import (
	"iter"
	"net/http"
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
)

// API is one catalogued platform API: its name (the method parameter) and
// the HTTP verb its documentation prescribes. The schema catalog
// (internal/catalog) has the rest: request and response schemas, file
// fields, limits.
type API struct {
	Name       string
	HTTPMethod string
}

// Catalog returns every catalogued API, sorted by name. The slice is the
// caller's.
func Catalog() []API {
	all := catalog.All() // sorted by name
	out := make([]API, len(all))
	for i, a := range all {
		out[i] = API{Name: a.Name, HTTPMethod: a.Verb}
	}
	return out
}

// LookupAPI returns the catalogued API with this exact name.
func LookupAPI(name string) (API, bool) {
	a, ok := catalog.Lookup(name)
	if !ok {
		return API{}, false
	}
	return API{Name: a.Name, HTTPMethod: a.Verb}, true
}

// writeWords are the words that make an uncatalogued API name default to POST.
var writeWords = []string{
	"create", "update", "delete", "add", "approve", "reject", "close", "deliver",
	"cancel", "edit", "new", "confirm", "submit", "set", "upload", "bind", "save",
	"apply", "audit", "send", "flag",
}

// HTTPMethodFor returns the HTTP verb for an API name: the catalog's verb
// when the name is catalogued, otherwise a guess from the name.
//
// The guess splits the last dot-separated segment into words (lower-case
// runs and camelCase humps, so "returnInfo" is "return", "info") and answers
// POST when any word is one of create, update, delete, add, approve, reject,
// close, deliver, cancel, edit, new, confirm, submit, set, upload, bind,
// save, apply, audit, send or flag; GET otherwise. Whole words are compared,
// not substrings, so "address" is not "add" and "asset" is not "set". Only
// the last segment counts because earlier segments name the resource
// ("open.distribution.item.shelf.add.url" is a GET). Measured against the
// catalog itself the guess matches 207 of 278 verbs (the platform's own
// verbs are irregular: "open.address.seller.create" is a GET), which is why
// the catalog always wins and callers may override the verb per request.
func HTTPMethodFor(name string) string {
	if a, ok := catalog.Lookup(name); ok {
		return a.Verb
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	for w := range camelWords(last) {
		if slices.Contains(writeWords, w) {
			return http.MethodPost
		}
	}
	return http.MethodGet
}

// camelWords yields the lower-cased words of a camelCase identifier. A word
// starts at an upper-case letter that follows a lower-case letter or digit,
// or that ends a run of capitals ("queryHTTPStatus" is query, http, status).
func camelWords(s string) iter.Seq[string] {
	isUpper := func(b byte) bool { return 'A' <= b && b <= 'Z' }
	return func(yield func(string) bool) {
		start := 0
		for i := 1; i <= len(s); i++ {
			boundary := i == len(s)
			if !boundary && isUpper(s[i]) {
				prevUpper := isUpper(s[i-1])
				nextLower := i+1 < len(s) && !isUpper(s[i+1])
				boundary = !prevUpper || nextLower
			}
			if boundary {
				if !yield(strings.ToLower(s[start:i])) {
					return
				}
				start = i
			}
		}
	}
}

// MaxMethodNameLen bounds an API name.
const MaxMethodNameLen = 128

// ValidMethodName reports whether name is a well-formed API name: at most
// 128 characters of ASCII letters, digits and dots, starting with "open.",
// with at least three dot-separated segments, none empty.
func ValidMethodName(name string) bool {
	if len(name) > MaxMethodNameLen || !strings.HasPrefix(name, "open.") {
		return false
	}
	segs, segLen := 1, 0
	for i := 0; i < len(name); i++ {
		switch b := name[i]; {
		case b == '.':
			if segLen == 0 {
				return false
			}
			segs++
			segLen = 0
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
			segLen++
		default:
			return false
		}
	}
	return segLen > 0 && segs >= 3
}
