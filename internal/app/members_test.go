package app

import (
	"strings"
	"testing"
)

func TestEachMember(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string // key=value pairs joined by ';'
		ok   bool
	}{
		{`{}`, "", true},
		{` { } `, "", true},
		{`{"a":1,"b":{"c":[1,"}"]},"d":"x\"y"}`, `"a"=1;"b"={"c":[1,"}"]};"d"="x\"y"`, true},
		{`{"big":1234567890123456789}`, `"big"=1234567890123456789`, true},
		{"{\n\"a\" :\t2 }", `"a"=2`, true},
		{`[1]`, "", false},
		{``, "", false},
		{`{"a"}`, "", false},
		{`{"a":1`, `"a"=1`, false},
		{`{"a":1 "b":2}`, `"a"=1`, false},
		{`{"a":{"b":1}`, `"a"={"b":1}`, false},
		{`{a:1}`, "", false},
	} {
		var got []string
		ok := eachMember([]byte(tc.raw), func(k, v []byte) bool {
			got = append(got, string(k)+"="+string(v))
			return true
		})
		if ok != tc.ok || strings.Join(got, ";") != tc.want {
			t.Errorf("eachMember(%q) = %v %q, want %v %q", tc.raw, ok, strings.Join(got, ";"), tc.ok, tc.want)
		}
	}
	n := 0
	if eachMember([]byte(`{"a":1,"b":2,"c":3}`), func(_, _ []byte) bool { n++; return n < 2 }) || n != 2 {
		t.Errorf("a walk fn stops must stop after 2 members and report false, got %d", n)
	}
}
