package jsonx

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func decodeInt(t *testing.T, member string) int64 {
	t.Helper()
	var v struct {
		N Int `json:"n"`
	}
	if err := json.Unmarshal([]byte(`{"n":`+member+`}`), &v); err != nil {
		t.Fatalf("decode %s failed: %v", member, err)
	}
	return int64(v.N)
}

// The scalars the commerce decoder and the push parser accepted before
// they shared this package, and what they made of the rest: every case
// both agreed on, through the JSON decoder as the types are used.
func TestInt_AcceptsAndRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
	}{
		// numbers and numeric strings
		{`123`, 123},
		{`"123"`, 123},
		{`" 42 "`, 42},
		{`"\t42\n"`, 42},
		{`"\u00a042"`, 42}, // Unicode space, as strings.TrimSpace
		{`"\u0031\u0032"`, 12},
		{`-5`, -5},
		{`"-5"`, -5},
		{`"+5"`, 5},
		{`"007"`, 7},
		{`0`, 0},
		{`-0`, 0},
		// 64-bit ids keep every digit
		{`9007199254740993`, 9007199254740993}, // 2^53+1: lost by float64
		{`"9007199254740993"`, 9007199254740993},
		{`2617801683312294123`, 2617801683312294123},
		{`9223372036854775807`, math.MaxInt64},
		{`"-9223372036854775808"`, math.MinInt64},
		// integral values in float notation, below 2^53
		{`1.0e3`, 1000},
		{`"1.2e3"`, 1200},
		{`12.0`, 12},
		{`1700000300000.000`, 1700000300000},
		{`1.7e12`, 1700000000000},
		{`100e-2`, 1},
		{`-2.50e1`, -25},
		{`"5."`, 5},
		{`".5e1"`, 5},
		{`9007199254740991.0`, 9007199254740991}, // 2^53-1
		{`0.0e99999`, 0},
		// the zero value for anything else
		{`null`, 0},
		{`true`, 0},
		{`false`, 0},
		{`{"a":1}`, 0},
		{`[1]`, 0},
		{`""`, 0},
		{`"   "`, 0},
		{`"abc"`, 0},
		{`"12abc"`, 0},
		{`"1 2"`, 0},
		{`1.5`, 0},
		{`"0.1"`, 0},
		{`1e-3`, 0},
		{`9223372036854775808`, 0},    // beyond int64
		{`"-9223372036854775809"`, 0}, // beyond int64
		{`9007199254740992.0`, 0},     // 2^53 in float notation
		{`"9007199254740993.0"`, 0},   // may have been rounded by its writer
		{`1e18`, 0},                   // ditto
		{`1e400`, 0},                  // beyond float64
		{`"Inf"`, 0},
		{`"-Infinity"`, 0},
		{`"NaN"`, 0},
		{`"0x10"`, 0},
		{`"0x1p4"`, 0}, // a hexadecimal float is no decimal number
		{`"1_000"`, 0},
		{`"١٢"`, 0}, // other digits than 0-9
		{`"-"`, 0},
		{`"+"`, 0},
		{`"."`, 0},
		{`"e5"`, 0},
		{`"1e"`, 0},
		{`"1e+"`, 0},
		{`"--1"`, 0},
		{`"1.2.3"`, 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := decodeInt(t, tc.in); got != tc.want {
				t.Fatalf("Int(%s) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

// Hostile sizes cost no more than reading them: a megabyte of digits, an
// exponent of a megabyte.
func TestInt_HostileSizes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 1<<20)
	for _, in := range []string{
		long, `"` + long + `"`, "1." + long, "1e" + long, "1e-" + long, "0." + strings.Repeat("0", 1<<20) + "1e" + long,
		`"` + strings.Repeat(" ", 1<<20) + `"`,
	} {
		start := time.Now()
		if got := ParseInt([]byte(in)); got != 0 {
			t.Fatalf("ParseInt(%.20s…) = %d, want 0", in, got)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("ParseInt(%.20s…) took %s", in, d)
		}
	}
	if got := ParseInt([]byte(strings.Repeat("0", 1<<20) + "7")); got != 7 {
		t.Fatalf("leading zeros: %d", got)
	}
}

// Every int64 comes back exact, as a number and as a string.
func TestInt_RoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, -1, 1 << 53, 1<<53 + 1, -(1<<53 + 1), math.MaxInt64, math.MinInt64}
	for range 10000 {
		values = append(values, int64(r.Uint64()), r.Int64N(1<<60)>>r.IntN(60))
	}
	for _, v := range values {
		s := strconv.FormatInt(v, 10)
		if got := ParseInt([]byte(s)); got != v {
			t.Fatalf("ParseInt(%s) = %d", s, got)
		}
		if got := ParseInt([]byte(`"` + s + `"`)); got != v {
			t.Fatalf(`ParseInt("%s") = %d`, s, got)
		}
		b, err := json.Marshal(Int(v))
		if err != nil || string(b) != s {
			t.Fatalf("Marshal(%d) = %s, %v", v, b, err)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`"x"`, "x"},
		{`"晴天"`, "晴天"},
		{`"a\"b\\c\u00e9"`, `a"b\cé`},
		{`12345678901234567890`, "12345678901234567890"}, // every digit
		{`-1.5e3`, "-1.5e3"},
		{`""`, ""},
		{`null`, ""},
		{`true`, ""},
		{`{"a":1}`, ""},
		{`[1]`, ""},
	} {
		var v struct{ S String }
		if err := json.Unmarshal([]byte(`{"S":`+tc.in+`}`), &v); err != nil {
			t.Fatalf("decode %s: %v", tc.in, err)
		}
		if string(v.S) != tc.want {
			t.Errorf("String(%s) = %q, want %q", tc.in, v.S, tc.want)
		}
	}
}

var decimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// FuzzParseInt: ParseInt never panics, and against an exact rational
// oracle: a result other than 0 is exactly the value of the (unquoted,
// trimmed) text, an integer; a plain integer within int64, and an integral
// value below 2^53 in any decimal notation, is always accepted.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"123", `"123"`, "1.0e3", `" -9007199254740993 "`, "9223372036854775808", "1e-400", "0.5", `"0x1p4"`, "null"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := ParseInt([]byte(in))
		text := strings.TrimSpace(in)
		if strings.HasPrefix(text, `"`) {
			var s string
			if json.Unmarshal([]byte(text), &s) != nil {
				if got != 0 {
					t.Fatalf("ParseInt(%q) = %d for an invalid string", in, got)
				}
				return
			}
			text = strings.TrimSpace(s)
		}
		if !decimal.MatchString(text) || len(text) > 400 {
			if got != 0 && !decimal.MatchString(text) {
				t.Fatalf("ParseInt(%q) = %d for no decimal number", in, got)
			}
			return
		}
		want, ok := new(big.Rat).SetString(text)
		if !ok { // an exponent beyond the oracle's range: no integer we accept
			if got != 0 {
				t.Fatalf("ParseInt(%q) = %d", in, got)
			}
			return
		}
		if got != 0 && (!want.IsInt() || want.Num().Cmp(big.NewInt(got)) != 0) {
			t.Fatalf("ParseInt(%q) = %d, value %s", in, got, want.RatString())
		}
		plain := !strings.ContainsAny(text, ".eE")
		if want.IsInt() && want.Num().IsInt64() && want.Sign() != 0 {
			v := want.Num().Int64()
			if (plain || (v < 1<<53 && v > -(1<<53))) && got != v {
				t.Fatalf("ParseInt(%q) = %d, want %d", in, got, v)
			}
		}
	})
}
