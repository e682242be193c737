package schema

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Bounds of one answer.
const (
	// maxEntries is the most entries of an array (at least 1, at most the
	// schema's maxItems).
	maxEntries = 3
	// deepEntries is the most entries of an array nested deeper than
	// shallowDepth, so wide schemas stay small.
	deepEntries  = 1
	shallowDepth = 3
	// refRepeats is how often one shared object may occur on the path from
	// the answer's root: a recursive tree (districts, categories) has this
	// many levels, the deepest with empty child lists.
	refRepeats = 2
	// maxDepth bounds the nesting of any answer.
	maxDepth = 24
	// maxValues bounds the values of one answer; past it arrays are empty.
	maxValues = 5000
)

// Values of the answers.
var (
	// idBase is the least id drawn: ids are above 2^53, where a double is no
	// longer exact.
	idBase int64 = 1<<53 + 1
	// timeBase and timeSpan place drawn times (ms) in 2025.
	timeBase = time.Date(2025, 1, 1, 0, 0, 0, 0, rules.QuotaZone).UnixMilli()
	timeSpan = int64(365 * 24 * time.Hour / time.Millisecond)
)

// URLBase prefixes the URLs of the answers (the .invalid top-level domain
// resolves nowhere).
const URLBase = "https://sandbox.kwaishop.invalid/"

// gen draws the values of one answer.
type gen struct {
	api    string
	write  bool
	rnd    *rand.Rand
	values int
	refs   map[string]int // shared objects on the current path
	// fileURL is the uploaded image's URL, answered by every URL member.
	fileURL string
}

// newGen seeds an answer from the API name, the caller (the shop's seller,
// or the app on an app-level call) and the params as the handler read them.
func newGen(a *catalog.API, c *api.Call, params []byte) *gen {
	h := sha256.New()
	h.Write([]byte(a.Name))
	h.Write([]byte{0})
	if c.Shop != nil {
		h.Write([]byte("shop:" + strconv.FormatInt(c.Shop.User.SellerID, 10) + ":" + c.Shop.User.OpenID))
	} else {
		h.Write([]byte("app:" + c.AppKey))
	}
	h.Write([]byte{0})
	h.Write(params)
	sum := h.Sum(nil)
	return &gen{
		api:   a.Name,
		write: isWrite(a.Name),
		rnd:   rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16]))),
		refs:  map[string]int{},
	}
}

// value draws one value of s; name is the member's name (an array's for
// its entries), depth the nesting.
func (g *gen) value(s *catalog.Schema, name string, depth int) any {
	g.values++
	if s.Ref != "" {
		g.refs[s.Ref]++
		defer func() { g.refs[s.Ref]-- }()
	}
	switch s.Type {
	case catalog.TypeObject:
		return g.object(s, depth)
	case catalog.TypeArray:
		return g.array(s, name, depth)
	case catalog.TypeInteger:
		return g.integer(s, name)
	case catalog.TypeNumber:
		if errorish(name) {
			return json.Number("0")
		}
		return json.Number(strconv.FormatFloat(float64(g.rnd.IntN(1_000_000))/100, 'f', -1, 64))
	case catalog.TypeBoolean:
		if errorish(name) {
			return false
		}
		return g.write || g.rnd.IntN(2) == 1
	}
	return g.str(s, name)
}

func (g *gen) object(s *catalog.Schema, depth int) any {
	out := map[string]any{}
	if s.AdditionalProperties { // a free-form map
		out["key"+strconv.Itoa(1+g.rnd.IntN(9))] = "value-" + g.hex(8)
		return out
	}
	if depth >= maxDepth {
		return out
	}
	for _, n := range slices.Sorted(maps.Keys(s.Properties)) {
		out[n] = g.value(s.Properties[n], n, depth+1)
	}
	return out
}

func (g *gen) array(s *catalog.Schema, name string, depth int) any {
	n := 1 + g.rnd.IntN(maxEntries)
	if depth > shallowDepth {
		n = deepEntries
	}
	if s.MaxItems > 0 {
		n = min(n, s.MaxItems)
	}
	if errorish(name) || depth >= maxDepth || g.values >= maxValues ||
		s.Items.Ref != "" && g.refs[s.Items.Ref] >= refRepeats {
		n = 0
	}
	out := make([]any, n)
	for i := range out {
		out[i] = g.value(s.Items, name, depth+1)
	}
	return out
}

func (g *gen) integer(s *catalog.Schema, name string) any {
	lo, hi := int64(0), int64(1000)
	switch {
	case errorish(name):
		hi = 0
	case isID(name):
		lo, hi = idBase, 1<<62
	case isTime(name):
		lo, hi = timeBase, timeBase+timeSpan
	case isEnum(name):
		lo, hi = 1, 5
	}
	if s.Minimum != nil {
		lo = max(lo, *s.Minimum)
		hi = max(hi, lo)
	}
	if s.Maximum != nil {
		hi = min(hi, *s.Maximum)
		lo = min(lo, hi)
	}
	v := lo
	if hi > lo {
		v = lo + g.rnd.Int64N(hi-lo+1)
	}
	return json.Number(strconv.FormatInt(v, 10))
}

func (g *gen) str(s *catalog.Schema, name string) string {
	lower := strings.ToLower(name)
	var v string
	switch {
	case errorish(name):
		v = ""
	case lower == "cursor" || lower == "pcursor":
		v = rules.CursorEnd // one page: paging ends
	case isID(name):
		v = strconv.FormatInt(idBase+g.rnd.Int64N(1<<62), 10)
	case isURL(lower) && g.fileURL != "":
		v = g.fileURL
	case isURL(lower):
		v = URLBase + strings.ReplaceAll(g.api, ".", "/") + "/" + g.hex(16)
	case isTime(name):
		v = time.UnixMilli(timeBase + g.rnd.Int64N(timeSpan)).In(rules.QuotaZone).Format(time.DateTime)
	default:
		v = name + "-" + g.hex(8)
	}
	if s.MaxLength > 0 && len(v) > s.MaxLength {
		v = v[:s.MaxLength] // ASCII: any cut is a rune boundary
	}
	return v
}

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rnd.IntN(16)]
	}
	return string(b)
}

// isID reports whether a member names an id: id, oid, or a camelCase or
// snake_case name ending in Id, ID, _id, Ids or IDs (a list of ids).
func isID(name string) bool {
	switch name {
	case "id", "oid", "Id", "ID":
		return true
	}
	for _, suf := range []string{"Id", "ID", "_id", "Ids", "IDs", "_ids"} {
		if strings.HasSuffix(name, suf) && len(name) > len(suf) {
			return true
		}
	}
	return false
}

// isTime reports whether a member is a point in time (ms, or a date
// string): its name has time, date or at as a word (createTime,
// update_time, endDate), not a count of times.
func isTime(name string) bool {
	lower := strings.ToLower(name)
	return (strings.Contains(lower, "time") && !strings.HasSuffix(lower, "times") && !strings.Contains(lower, "timeout")) ||
		strings.HasSuffix(lower, "date")
}

// isEnum reports whether an integer member is a small code: a status, a
// type, a flag or a level.
func isEnum(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range []string{"status", "type", "flag", "level", "state"} {
		if strings.HasSuffix(lower, w) {
			return true
		}
	}
	return false
}

func isURL(lower string) bool {
	for _, w := range []string{"url", "link", "img", "image", "pic", "avatar", "head"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// errorish reports whether a member reports a failure (errorMsg, err_msg,
// failReason, failList, …): answers are successes, so it is empty.
func errorish(name string) bool {
	lower := strings.ToLower(name)
	return strings.Contains(lower, "err") || strings.Contains(lower, "fail")
}
