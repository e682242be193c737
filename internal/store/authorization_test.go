package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestAuthorizationRedaction(t *testing.T) {
	a := testAuth("redact1")
	a.LeaseOwner = "replica-1"
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("auth", "a", a, "ptr", &a)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("auth", "a", a)
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", a),
		"%+v":       fmt.Sprintf("%+v", a),
		"%#v":       fmt.Sprintf("%#v", a),
		"%s":        fmt.Sprintf("%s", a),
		"%q":        fmt.Sprintf("%q", a),
		"%v ptr":    fmt.Sprintf("%v", &a),
		"%+v ptr":   fmt.Sprintf("%+v", &a),
		"%#v ptr":   fmt.Sprintf("%#v", &a),
		"%v slice":  fmt.Sprintf("%v", []Authorization{a}),
		"%#v slice": fmt.Sprintf("%#v", []Authorization{a}),
		"slog json": jsonLog.String(),
		"slog text": textLog.String(),
		"json":      string(raw),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, sec := range []string{a.AccessToken, a.RefreshToken, "PLAINTEXT"} {
				if strings.Contains(out, sec) {
					t.Errorf("output leaks %q: %s", sec, out)
				}
			}
			if name != "json" && !strings.Contains(out, "redact1") {
				t.Errorf("output lacks open id: %s", out)
			}
		})
	}
	for _, want := range []string{"OpenID:redact1", "Status:active", "AccessToken:[REDACTED]", "AccessExpiry:", "LeaseOwner:replica-1"} {
		if !strings.Contains(outputs["%v"], want) {
			t.Errorf("%%v = %s; lacks %q", outputs["%v"], want)
		}
	}
	if !strings.Contains(jsonLog.String(), `"has_access_token":true`) {
		t.Errorf("slog json lacks has_access_token: %s", jsonLog.String())
	}
}
