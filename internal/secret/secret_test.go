package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestString_NeverPrinted(t *testing.T) {
	t.Parallel()
	const v = "super-secret-value"
	s := New(v)
	holder := struct{ S String }{s}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "s", s, "h", holder)
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, holder, holder, s, s), buf.String(), string(j)}
	for _, o := range outs {
		if strings.Contains(o, v) {
			t.Fatalf("secret leaked in %q", o)
		}
	}
	if s.Reveal() != v || s.Empty() || !New("").Empty() {
		t.Fatal("Reveal/Empty wrong")
	}
}

func TestMask(t *testing.T) {
	if got := Mask(""); got != `""` {
		t.Errorf(`Mask("") = %s, want ""`, got)
	}
	if got := Mask("s3cret-value"); got != "[REDACTED]" || strings.Contains(got, "s3cret") {
		t.Errorf("Mask(secret) = %q", got)
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:pw@collector.example:4317/v1/traces?token=abc#frag", "https://collector.example:4317/v1/traces"},
		{"https://openapi.example/open/order/list?access_token=AT&sign=S&appSecret=X", "https://openapi.example/open/order/list"},
		{"collector:4317", "collector:4317"},
		{"user:pw@collector:4317", "collector:4317"},
		{"%zz://user:pw@host/x?access_token=AT", "host/x"},
		{"", ""},
	} {
		got := URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, leak := range []string{"pw", "token", "AT", "frag", "sign"} {
			if strings.Contains(got, leak) && !strings.Contains(tc.want, leak) {
				t.Errorf("URL(%q) leaks %q: %q", tc.in, leak, got)
			}
		}
	}
}
