package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Bounds of one Validate call: the work is at most MaxValues JSON values
// read, MaxDepth nested objects and arrays, and at most Options.MaxViolations
// violations, whatever the params are.
const (
	DefaultMaxViolations = 20
	MaxDepth             = 64
	MaxValues            = 100_000
	// maxShownName bounds the bytes of one member name shown in a path or a
	// description.
	maxShownName = 64
	// maxSuggestLen bounds the length of a member name a suggestion is
	// searched for.
	maxSuggestLen = 128
	// maxFileParts bounds Options.Files.
	maxFileParts = 16
)

// Kind says what is wrong.
type Kind string

// The kinds of violation.
const (
	KindUnknownField Kind = "unknown_field"    // a member the API does not document
	KindMissing      Kind = "missing_field"    // a required member absent or null
	KindType         Kind = "wrong_type"       // a value of the wrong JSON type, or an integer outside int64
	KindTooMany      Kind = "too_many_entries" // an array longer than its documented maximum
	KindDuplicate    Kind = "duplicate_field"  // a member given twice
	KindFile         Kind = "file_field"       // a file part inside the params, or a file that is not a file field
	KindMalformed    Kind = "malformed"        // not JSON, not an object, too deep or too large
)

// Violation is one thing wrong with a call's params.
type Violation struct {
	// Field is the path of the offending value within the params object:
	// "beginTime", "batchDecryptList[3].encryptedData"; "" for the params as
	// a whole. Long member names are cut.
	Field string
	Kind  Kind
	// Description says what is wrong, in English; it names types and limits,
	// never a value.
	Description string
	// Suggestion is, for an unknown field, the closest documented name, or "".
	Suggestion string
}

// Options tune one Validate call; the zero value is the strict default.
type Options struct {
	// AllowUnknown accepts members the catalog does not know (fields newer
	// than the catalog); every other check stays.
	AllowUnknown bool
	// Files names the file parts sent beside the params (multipart): each
	// must be a file field of the API, and every required file field must be
	// among them.
	Files []string
	// MaxViolations bounds the violations returned; 0 means
	// DefaultMaxViolations.
	MaxViolations int
}

// Validate checks a call's params (the JSON object sent as the platform's
// param) against the catalogued request schema of the API name. An
// uncatalogued name has no violations. Empty params and null are taken as
// the empty object.
//
// Integers are checked on the JSON text: an integer field takes only digits
// (no fraction, no exponent) within the int64 range. Documented array limits
// (maxItems) are enforced; maxLength, maximum and minimum are described, not
// enforced.
func Validate(name string, params []byte, opts Options) []Violation {
	a, ok := Lookup(name)
	if !ok {
		return nil
	}
	return a.Validate(params, opts)
}

// Validate checks params against the API's request schema; see the function
// Validate.
func (a *API) Validate(params []byte, opts Options) []Violation {
	w := walker{max: opts.MaxViolations, allowUnknown: opts.AllowUnknown}
	if w.max <= 0 {
		w.max = DefaultMaxViolations
	}
	w.checkParams(a.Request, params)
	if !w.stop {
		w.checkFiles(a.Request, opts.Files)
	}
	return w.out
}

type walker struct {
	dec          *jsontext.Decoder
	max          int
	allowUnknown bool
	values       int
	path         []byte
	name         []byte // scratch for an unquoted member name
	out          []Violation
	stop         bool // a bound was reached or the input is not JSON: read no further
}

// reader is a pooled decoder and the reader it reads params from.
type reader struct {
	dec jsontext.Decoder
	r   bytes.Reader
}

var readers = sync.Pool{New: func() any { return new(reader) }}

// noInput lets a pooled decoder drop its reference to the params.
type noInput struct{}

func (noInput) Read([]byte) (int, error) { return 0, io.EOF }

func (w *walker) add(kind Kind, desc, suggestion string) {
	if w.stop {
		return
	}
	w.out = append(w.out, Violation{Field: string(w.path), Kind: kind, Description: desc, Suggestion: suggestion})
	if len(w.out) >= w.max {
		w.stop = true
	}
}

// fatal records a violation about the whole params and stops.
func (w *walker) fatal(desc string) {
	if w.stop {
		return
	}
	w.out = append(w.out, Violation{Field: string(w.path), Kind: KindMalformed, Description: desc})
	w.stop = true
}

// count counts one value read against MaxValues.
func (w *walker) count() bool {
	if w.stop {
		return false
	}
	w.values++
	if w.values > MaxValues {
		w.fatal(fmt.Sprintf("params have more than %d values", MaxValues))
		return false
	}
	return true
}

// token reads one token ('{', '[', '}', ']' or a scalar).
func (w *walker) token() bool {
	if !w.count() {
		return false
	}
	if _, err := w.dec.ReadToken(); err != nil {
		w.syntax(err)
		return false
	}
	return true
}

// scalar reads one scalar or member name and returns its JSON text, valid
// until the next read.
func (w *walker) scalar() (jsontext.Value, bool) {
	if !w.count() {
		return nil, false
	}
	v, err := w.dec.ReadValue()
	if err != nil {
		w.syntax(err)
		return nil, false
	}
	return v, true
}

func (w *walker) syntax(err error) {
	desc := "params are not valid JSON"
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		desc += ": they end early"
	case errors.As(err, &se):
		if errors.Is(se.Err, io.ErrUnexpectedEOF) {
			desc += ": they end early"
		} else {
			desc += " (at byte " + strconv.FormatInt(se.ByteOffset, 10) + ")"
		}
	}
	w.fatal(desc)
}

// peek returns the kind of the next token; 0 and a violation on bad input.
func (w *walker) peek() jsontext.Kind {
	if w.stop {
		return 0
	}
	k := w.dec.PeekKind()
	if k == 0 {
		_, err := w.dec.ReadToken() // the error PeekKind saw
		w.syntax(err)
	}
	return k
}

func (w *walker) checkParams(req *Schema, params []byte) {
	params = bytes.TrimSpace(params)
	if len(params) == 0 {
		w.missing(req, 0)
		return
	}
	rd := readers.Get().(*reader)
	defer func() {
		rd.r.Reset(nil)
		rd.dec.Reset(noInput{})
		readers.Put(rd)
	}()
	rd.r.Reset(params)
	// Duplicate names are reported here, for documented members.
	rd.dec.Reset(&rd.r, jsontext.AllowDuplicateNames(true))
	w.dec = &rd.dec
	switch k := w.peek(); k {
	case 0:
		return
	case '{':
		w.token()
		w.object(req, 1)
	case 'n':
		w.scalar()
		w.missing(req, 0)
	default:
		w.fatal("params must be a JSON object, not " + kindName(k, nil))
		return
	}
	if w.stop {
		return
	}
	if _, err := w.dec.ReadToken(); !errors.Is(err, io.EOF) {
		w.fatal("params must be one JSON object: data follows it")
	}
}

// object walks the members of an object whose '{' was read.
func (w *walker) object(s *Schema, depth int) {
	if s.AdditionalProperties {
		w.skipRest(depth)
		return
	}
	o := s.obj
	var seenSmall uint64
	var seenLarge []bool
	if len(o.names) > 64 {
		seenLarge = make([]bool, len(o.names))
	}
	seen := func(i int) bool {
		if seenLarge != nil {
			return seenLarge[i]
		}
		return seenSmall&(1<<uint(i)) != 0
	}
	mark := func(i int) {
		if seenLarge != nil {
			seenLarge[i] = true
		} else {
			seenSmall |= 1 << uint(i)
		}
	}
	base := len(w.path)
	for {
		k := w.peek()
		if k == 0 {
			return
		}
		if k == '}' {
			w.token()
			break
		}
		raw, ok := w.scalar() // the member name
		if !ok {
			return
		}
		name := w.unquote(raw)
		i, known := o.index[string(name)] // no allocation
		switch {
		case !known:
			if w.allowUnknown {
				w.skipValue(depth)
				continue
			}
			key := string(name)
			w.path = appendName(w.path[:base], key)
			desc := "unknown field " + strconv.Quote(shown(key))
			sug := suggest(key, o.names)
			if sug != "" {
				desc += "; did you mean " + strconv.Quote(sug) + "?"
			}
			w.add(KindUnknownField, desc, sug)
			w.skipValue(depth)
		case seen(i):
			w.path = appendName(w.path[:base], o.names[i])
			w.add(KindDuplicate, "field given more than once", "")
			w.skipValue(depth)
		default:
			mark(i)
			n := o.names[i]
			w.path = appendName(w.path[:base], n)
			p := s.Properties[n]
			if p.File {
				w.add(KindFile, "a file field: send it as a file part, not inside the params", "")
				w.skipValue(depth)
				continue
			}
			if isNull := w.value(p, depth); isNull && o.required[i] {
				w.add(KindMissing, "required field is null", "")
			}
		}
		if w.stop {
			return
		}
	}
	for i, n := range o.names {
		if o.required[i] && !seen(i) && !s.Properties[n].File {
			w.path = appendName(w.path[:base], n)
			w.add(KindMissing, "required field is missing", "")
		}
	}
	w.path = w.path[:base]
}

// unquote returns a member name's text from its JSON string; the result is
// valid until the next read or unquote.
func (w *walker) unquote(raw jsontext.Value) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	w.name, _ = jsontext.AppendUnquote(w.name[:0], raw) // valid: the decoder read it
	return w.name
}

// missing reports every required non-file member of s as missing.
func (w *walker) missing(s *Schema, base int) {
	for i, n := range s.obj.names {
		if s.obj.required[i] && !s.Properties[n].File {
			w.path = appendName(w.path[:base], n)
			w.add(KindMissing, "required field is missing", "")
		}
	}
	w.path = w.path[:base]
}

// value walks one value against s and reports whether it was null.
func (w *walker) value(s *Schema, depth int) (isNull bool) {
	k := w.peek()
	switch k {
	case 0:
		return false
	case '{', '[':
		if depth >= MaxDepth {
			w.fatal(fmt.Sprintf("params nest deeper than %d levels", MaxDepth))
			return false
		}
		if !w.token() {
			return false
		}
		switch {
		case k == '{' && s.Type == TypeObject:
			w.object(s, depth+1)
		case k == '[' && s.Type == TypeArray:
			w.array(s, depth+1)
		default:
			w.wrongType(s, k, nil)
			w.skipRest(depth + 1)
		}
		return false
	}
	v, ok := w.scalar()
	if !ok {
		return false
	}
	switch k {
	case 'n':
		return true
	case '"':
		if s.Type != TypeString && !numericString(s.Type, w.unquote(v)) {
			w.wrongType(s, k, nil)
		}
	case 't', 'f':
		if s.Type != TypeBoolean {
			w.wrongType(s, k, nil)
		}
	case '0':
		switch s.Type {
		case TypeNumber:
		case TypeInteger:
			if bytes.ContainsAny(v, ".eE") {
				w.add(KindType, "want integer, got a number with a fraction or an exponent", "")
			} else if !fitsInt64(v) {
				w.add(KindType, "want integer, got one outside the 64-bit range", "")
			}
		default:
			w.wrongType(s, k, v)
		}
	}
	return false
}

// numericString reports whether a quoted value u is a number the platform
// takes for a field of type t: callers commonly send ids as decimal strings to
// keep them exact, and the platform parses them as numbers. An integer field
// takes an optional minus and digits within int64; a number field also a
// fraction.
func numericString(t string, u []byte) bool {
	digits := bytes.TrimPrefix(u, []byte("-"))
	switch t {
	case TypeInteger:
		return len(digits) > 0 && len(digits) <= 19 && allDigits(digits) && fitsInt64(u)
	case TypeNumber:
		whole, frac, _ := bytes.Cut(digits, []byte("."))
		return len(digits) > 0 && len(digits) <= 40 && len(whole) > 0 && allDigits(whole) && allDigits(frac)
	}
	return false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fitsInt64 reports whether an integer's JSON text (digits, an optional
// minus) is within the int64 range.
func fitsInt64(v []byte) bool {
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	const maxDigits = "9223372036854775807"
	switch {
	case len(digits) < len(maxDigits):
		return true
	case len(digits) > len(maxDigits):
		return false
	}
	limit := maxDigits
	if neg {
		limit = "9223372036854775808"
	}
	return string(digits) <= limit // equal lengths: lexical order is numeric order
}

// array walks the entries of an array whose '[' was read.
func (w *walker) array(s *Schema, depth int) {
	base := len(w.path)
	for n := 0; ; n++ {
		k := w.peek()
		if k == 0 {
			return
		}
		if k == ']' {
			w.token()
			break
		}
		if s.MaxItems > 0 && n == s.MaxItems {
			w.path = w.path[:base]
			w.add(KindTooMany, fmt.Sprintf("at most %d entries", s.MaxItems), "")
			w.skipRest(depth)
			return
		}
		w.path = strconv.AppendInt(append(w.path[:base], '['), int64(n), 10)
		w.path = append(w.path, ']')
		if isNull := w.value(s.Items, depth); isNull {
			w.add(KindType, "want "+s.Items.Type+", got null", "")
		}
		if w.stop {
			return
		}
	}
	w.path = w.path[:base]
}

func (w *walker) wrongType(s *Schema, k jsontext.Kind, num []byte) {
	want := s.Type
	if s.File {
		want = "a file part"
	}
	w.add(KindType, "want "+want+", got "+kindName(k, num), "")
}

// skipValue reads and discards one value.
func (w *walker) skipValue(depth int) {
	switch w.peek() {
	case 0:
	case '{', '[':
		if depth >= MaxDepth {
			w.fatal(fmt.Sprintf("params nest deeper than %d levels", MaxDepth))
			return
		}
		if w.token() {
			w.skipRest(depth + 1)
		}
	default:
		w.scalar()
	}
}

// skipRest reads and discards the rest of an object or array whose opening
// delimiter was read, nested values included.
func (w *walker) skipRest(depth int) {
	for open := 1; open > 0; {
		k := w.peek()
		switch k {
		case 0:
			return
		case '{', '[':
			open++
			if depth+open-1 > MaxDepth {
				w.fatal(fmt.Sprintf("params nest deeper than %d levels", MaxDepth))
				return
			}
		case '}', ']':
			open--
		}
		if !w.token() {
			return
		}
	}
}

// kindName names a JSON value's type; num is a number's text, when known.
func kindName(k jsontext.Kind, num []byte) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		if num != nil && !bytes.ContainsAny(num, ".eE") {
			return "integer"
		}
		return "number"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	return "invalid JSON"
}

// appendName appends ".name" (or "name" at the start) to a path, the name
// cut to maxShownName bytes and its control characters replaced.
func appendName(path []byte, name string) []byte {
	if len(path) > 0 {
		path = append(path, '.')
	}
	return append(path, shown(name)...)
}

// shown returns a member name as it may appear in a violation: at most
// maxShownName bytes of valid UTF-8 without control characters, "…" marking
// a cut.
func shown(name string) string {
	clean := len(name) <= maxShownName && utf8.ValidString(name)
	for i := 0; clean && i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f {
			clean = false
		}
	}
	if clean {
		return name // the common case: no allocation
	}
	var b strings.Builder
	for i, r := range name {
		if i >= maxShownName {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// suggest returns the known name closest to an unknown one: equal but for
// case, or within an edit distance of 2 (1 for names of up to 4 characters),
// case ignored; the first in sorted order on a tie; "" when none is close.
func suggest(name string, known []string) string {
	if len(name) == 0 || len(name) > maxSuggestLen {
		return ""
	}
	a := []rune(strings.ToLower(name))
	limit := 2
	if len(a) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, k := range known {
		b := []rune(strings.ToLower(k))
		if d := len(a) - len(b); d > limit || -d > limit {
			continue
		}
		if d := distance(a, b, bestD); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, or any value >= bound
// once it is known to be at least bound.
func distance(a, b []rune, bound int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= bound {
			return bound
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkFiles checks the names of the file parts sent beside the params.
func (w *walker) checkFiles(req *Schema, files []string) {
	o := req.obj
	if len(files) > maxFileParts {
		w.fatal(fmt.Sprintf("more than %d file parts", maxFileParts))
		return
	}
	for i, f := range files {
		if slices.Contains(files[:i], f) {
			w.path = appendName(w.path[:0], f)
			w.add(KindDuplicate, "file part given more than once", "")
			continue
		}
		if j, ok := o.index[f]; ok && req.Properties[o.names[j]].File {
			continue
		}
		w.path = appendName(w.path[:0], f)
		var fileNames []string
		for _, n := range o.names {
			if req.Properties[n].File {
				fileNames = append(fileNames, n)
			}
		}
		if len(fileNames) == 0 {
			w.add(KindFile, "this API takes no file parts", "")
			continue
		}
		sug := suggest(f, fileNames)
		desc := "not a file field of this API"
		if sug != "" {
			desc += "; did you mean " + strconv.Quote(sug) + "?"
		}
		w.add(KindFile, desc, sug)
	}
	for i, n := range o.names {
		if o.required[i] && req.Properties[n].File && !slices.Contains(files, n) {
			w.path = appendName(w.path[:0], n)
			w.add(KindMissing, "required file part is missing", "")
		}
	}
	w.path = w.path[:0]
}
