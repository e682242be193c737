package config

import (
	"io"
	"strings"
	"testing"
)

// Start-up reports each refused API key secret once, and a repeated secret
// only when both parsed.
func TestLoad_APIKeySecretErrors(t *testing.T) {
	t.Parallel()
	const good = "a-perfectly-good-secret-123"
	tests := []struct {
		name, keys string
		want       []string
		same       bool // "same secret" expected
	}{
		{"two_short_distinct", "a:short-one,b:short-two", []string{"KWAISHOP_API_KEYS", "key 1 (a): secret must be 16 to 512", "key 2 (b): secret must be 16 to 512"}, false},
		{"two_equal_valid", "a:" + good + ",b:" + good, []string{"KWAISHOP_API_KEYS", "key 2 (b): same secret as key a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(nil, env(map[string]string{"KWAISHOP_API_KEYS": tt.keys}), io.Discard)
			if err == nil {
				t.Fatal("start accepted the keys")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if got := strings.Contains(err.Error(), "same secret"); got != tt.same {
				t.Errorf("\"same secret\" reported = %v, want %v:\n%v", got, tt.same, err)
			}
			for _, s := range []string{good, "short-one", "short-two"} {
				if strings.Contains(err.Error(), s) {
					t.Fatal("the error shows a secret")
				}
			}
		})
	}
}
