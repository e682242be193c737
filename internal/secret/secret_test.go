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
