// Package jsonx reads tolerant JSON scalars. The platform's schemas say
// "number" for ids, money and times, but its pushes, its SDKs and its own
// examples also send them as strings ("expressCode":"9999"). Int and String
// accept either form; integers are read from the text itself, never through
// float64, so 64-bit ids keep every digit. Anything else (null, a boolean,
// an object, an array, text that is no number) reads as the zero value
// instead of failing: a surprising field must never make a whole page or
// message undecodable (the raw JSON, kept beside the typed fields, still
// holds the original).
package jsonx

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Int is an integer sent as a JSON number or as a string holding one (see
// ParseInt). It encodes as a JSON number.
type Int int64

// UnmarshalJSON never fails: a value that is no integer reads as 0.
func (n *Int) UnmarshalJSON(b []byte) error {
	*n = Int(ParseInt(b))
	return nil
}

// maxFloatExact bounds the integers accepted in fraction or exponent
// notation: 2^53, below which a float64 holds every integer exactly.
const maxFloatExact = 1 << 53

// ParseInt returns the integer of the JSON value b:
//
//   - a number, or a string holding one (spaces around it and a leading +
//     or - allowed): its value when it is written as a plain integer that
//     fits in int64 ("123", "-5", "9223372036854775807");
//   - a number written with a fraction or an exponent ("12.0", "1.2e3"):
//     its value when that is an integer of magnitude below 2^53. Whoever
//     wrote a larger one that way held it as a float64, so its last digits
//     may already be lost: it is not taken as an id;
//   - anything else (null, true, an object, "abc", 1.5, an integer beyond
//     int64): 0.
//
// The value is computed from the decimal digits alone; no float64 is ever
// involved.
func ParseInt(b []byte) int64 {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		s, ok := unquote(b)
		if !ok {
			return 0
		}
		b = bytes.TrimSpace(s)
	}
	if v, ok := atoi(b); ok {
		return v
	}
	return parseDecimal(b)
}

// atoi is the common case without allocating: an optional minus and at
// most 18 digits (no overflow possible).
func atoi(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDecimal reads [+-]digits[.digits][(e|E)[+-]digits] (at least one
// digit before the exponent) as ParseInt describes, else 0.
func parseDecimal(s []byte) int64 {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	whole := s[start:i]
	var frac []byte
	plain := true
	if i < len(s) && s[i] == '.' {
		plain = false
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
	}
	if len(whole)+len(frac) == 0 {
		return 0
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		plain = false
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for ; i < len(s) && isDigit(s[i]); i++ {
			if exp < 1_000_000 { // saturates: far beyond any digit count
				exp = exp*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return 0
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0
	}
	if plain {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0
		}
		return v
	}
	return exactFloat(neg, whole, frac, exp)
}

// exactFloat is the value whole.frac × 10^exp when it is an integer of
// magnitude below 2^53, else 0.
func exactFloat(neg bool, whole, frac []byte, exp int) int64 {
	n := len(whole) + len(frac)
	digit := func(k int) byte {
		if k < len(whole) {
			return whole[k]
		}
		return frac[k-len(whole)]
	}
	first := 0 // the first significant digit
	for first < n && digit(first) == '0' {
		first++
	}
	if first == n {
		return 0 // zero, however written
	}
	end, shift := n, exp-len(frac) // value = digits[first:end] × 10^shift
	if shift < 0 {
		if -shift > end-first {
			return 0 // a significant digit is in the fraction
		}
		for k := end + shift; k < end; k++ {
			if digit(k) != '0' {
				return 0 // not an integer
			}
		}
		end, shift = end+shift, 0
	}
	if end-first+shift > 16 { // at least 10^16, beyond 2^53
		return 0
	}
	var v int64
	for k := first; k < end; k++ {
		v = v*10 + int64(digit(k)-'0')
	}
	for range shift {
		v *= 10
	}
	if v >= maxFloatExact {
		return 0
	}
	if neg {
		v = -v
	}
	return v
}

// unquote decodes a JSON string literal. Most platform strings hold no
// escapes: those are taken as they are, without a second pass of the JSON
// decoder.
func unquote(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	in := b[1 : len(b)-1]
	plain := true
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain && utf8.Valid(in) {
		return in, true
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// String is text sent as a JSON string, or as a number (kept as written,
// every digit). Anything else (null, a boolean, an object, an array) reads
// as "".
type String string

// UnmarshalJSON never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*s = ""
	case b[0] == '"':
		v, _ := unquote(b)
		*s = String(v)
	case b[0] == '-' || isDigit(b[0]):
		*s = String(b)
	default:
		*s = ""
	}
	return nil
}
