package commerce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/jsonx"
)

// Tolerant JSON scalars (internal/jsonx): the platform's schemas say
// "number" for ids, money and times, but SDKs and the platform's own
// examples also show them as strings ("expressCode":"9999"). A surprising
// field must never make a whole page undecodable; the raw JSON keeps the
// original.

// i64 is an integer sent as a number or a string.
type i64 = jsonx.Int

// opt64 is an i64 that remembers whether the member was present and not
// null (0 and absent mean different things for shelfStatus).
type opt64 struct {
	V   int64
	Set bool
}

func (o *opt64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*o = opt64{}
		return nil
	}
	*o = opt64{V: jsonx.ParseInt(b), Set: true}
	return nil
}

// str is a string sent as a string or as a number.
type str = jsonx.String

// flag is a boolean sent as true/false, 0/1 or "true"/"1".
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch strings.Trim(string(b), `"`) {
	case "true", "1":
		*f = true
	default:
		*f = false
	}
	return nil
}

// strList is a list of strings; anything but an array of strings gives the
// strings it can find.
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var raw []str
	if json.Unmarshal(b, &raw) != nil {
		*l = nil
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, s := range raw {
		out = append(out, string(s))
	}
	*l = out
	return nil
}

// rawElements returns the compact text of each of the n records of the
// array member name of the JSON object data, which has just been decoded
// (so it is valid JSON). Decoding a list answer once into a struct and
// cutting the records' text out of the same bytes costs one pass of the
// JSON decoder, where decoding a list of raw messages and then each
// message costs three.
func rawElements(data []byte, name string, n int) ([]string, error) {
	elems, ok := members(data, name)
	if !ok || len(elems) != n {
		// Not the plain shape (the decoder matched another spelling of the
		// name, say): ask the decoder itself.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, err
		}
		v, found := obj[name]
		for k, kv := range obj {
			if !found && strings.EqualFold(k, name) {
				v, found = kv, true
			}
		}
		var list []json.RawMessage
		if err := decode(v, &list); err != nil {
			return nil, err
		}
		if len(list) != n {
			return nil, fmt.Errorf("commerce: %d records in %s, %d decoded", len(list), name, n)
		}
		elems = make([][]byte, n)
		for i, e := range list {
			elems[i] = e
		}
	}
	out := make([]string, n)
	for i, e := range elems {
		out[i] = rawString(e)
	}
	return out, nil
}

// members finds the array member name of the JSON object data and returns
// its elements' text. data must be valid JSON. ok is false unless data is
// an object whose member spelled exactly name is an array, and no other
// member's name matches name but for case or escapes (encoding/json would
// decode that one).
func members(data []byte, name string) (elems [][]byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	for i++; ; {
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case '}':
			return elems, ok
		case ',':
			i++
			continue
		}
		kEnd := valueEnd(data, i)
		if kEnd <= i+1 || data[i] != '"' {
			return nil, false
		}
		key := data[i+1 : kEnd-1]
		i = skipSpace(data, kEnd)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		switch {
		case string(key) == name:
			if i >= len(data) || data[i] != '[' {
				return nil, false
			}
			elems, i = arrayElements(data, i)
			ok = true
			continue
		case bytes.EqualFold(key, []byte(name)) || bytes.IndexByte(key, '\\') >= 0:
			return nil, false
		}
		i = valueEnd(data, i)
	}
}

// arrayElements splits the JSON array that starts at b[i] (valid JSON)
// into its elements' text and returns them with the index past the array.
func arrayElements(b []byte, i int) (elems [][]byte, end int) {
	for i++; i < len(b); {
		i = skipSpace(b, i)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case ']':
			return elems, i + 1
		case ',':
			i++
			continue
		}
		end := valueEnd(b, i)
		elems = append(elems, b[i:end])
		i = end
	}
	return elems, i
}

// stringEnd is the index just past the JSON string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		i += q
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
		i++
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd is the index just past the JSON value of valid JSON text b that
// starts at i.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			case '"':
				i = stringEnd(b, i) - 1
			}
		}
		return i
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
		i++
	}
	return i
}

// decode reads a JSON object into v. Unknown members are ignored; a body
// that is not valid JSON is an error.
func decode(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return json.Unmarshal(b, v)
}

// rawString is the compact text of a platform JSON value, for the `raw`
// fields (numbers are copied as written, so no precision is lost). The
// platform sends compact JSON: that is copied as it is.
func rawString(b []byte) string {
	if compact(b) {
		return string(b)
	}
	var buf bytes.Buffer
	buf.Grow(len(b))
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// compact reports whether the JSON text b has no whitespace outside its
// strings.
func compact(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return true
}

// msTime converts a platform millisecond time; 0 (unset) gives the zero
// time.
func msTime(ms i64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

// list finds the records of a list answer: data itself when it is an
// array, else the first of names that holds an array.
func list(data json.RawMessage, names ...string) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var out []json.RawMessage
	if data[0] == '[' {
		return out, json.Unmarshal(data, &out)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	for _, n := range names {
		if v, ok := obj[n]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
			return out, json.Unmarshal(v, &out)
		}
	}
	return nil, nil
}
