package commerce

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Tolerant JSON scalars. The platform's schemas say "number" for ids, money
// and times, but SDKs and the platform's own examples also show them as
// strings ("expressCode":"9999"). These types accept a JSON number or a
// decimal string, read integers from the raw bytes (never through float64,
// so 64-bit ids keep every digit), and turn anything else (null, bool,
// object) into the zero value instead of failing: a surprising field must
// never make a whole page undecodable; the raw JSON keeps the original.

// i64 is an integer sent as a number or a string.
type i64 int64

func (n *i64) UnmarshalJSON(b []byte) error {
	*n = i64(parseInt(b))
	return nil
}

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
	*o = opt64{V: parseInt(b), Set: true}
	return nil
}

func parseInt(b []byte) int64 {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	s := string(b)
	if b[0] == '"' {
		var str string
		if json.Unmarshal(b, &str) != nil {
			return 0
		}
		s = strings.TrimSpace(str)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	// "12.0" or 1.2e3: accept integral values that a float holds exactly.
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return 0
}

// str is a string sent as a string or as a number.
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if json.Unmarshal(b, &v) != nil {
			*s = ""
			return nil
		}
		*s = str(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = str(b)
	default:
		*s = ""
	}
	return nil
}

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

// decode reads a JSON object into v. Unknown members are ignored; a body
// that is not valid JSON is an error.
func decode(b json.RawMessage, v any) error {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return json.Unmarshal(b, v)
}

// rawString is the compact text of a platform JSON value, for the `raw`
// fields (numbers are copied as written, so no precision is lost).
func rawString(b json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// msTime converts a platform millisecond time; 0 (unset) gives nil.
func msTime(ms i64) *timestamppb.Timestamp {
	if ms <= 0 {
		return nil
	}
	return timestamppb.New(time.UnixMilli(int64(ms)))
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
