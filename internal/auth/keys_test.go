package auth

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

// A rejected secret has no hash, so it must not be compared with the
// others: two distinct secrets that are both refused once read as "same
// secret" because both hashes stayed zero.
func TestParse_RejectedSecretsAreNotDuplicates(t *testing.T) {
	t.Parallel()
	const good = "a-perfectly-good-secret-123"
	tests := []struct {
		name    string
		in      string
		want    []string // every one must appear
		wantN   int      // errors reported
		dupWant bool     // "same secret as key" expected
	}{
		{"two_short_distinct", "a:short1,b:short2", []string{"key 1 (a): secret must be 16 to 512", "key 2 (b): secret must be 16 to 512"}, 2, false},
		{"two_short_equal", "a:short,b:short", []string{"key 1 (a): secret must be 16", "key 2 (b): secret must be 16"}, 2, false},
		{"short_and_bad_hash", "a:short,b:sha256=zz", []string{"key 1 (a): secret must be 16", "key 2 (b): a hashed secret must be"}, 2, false},
		{"two_unprintable", "a:with space in the secret 1,b:with space in the secret 2", []string{"key 1 (a): secret must be printable", "key 2 (b): secret must be printable"}, 2, false},
		{"short_then_valid", "a:short,b:" + good, []string{"key 1 (a): secret must be 16"}, 1, false},
		{"two_equal_valid", "a:" + good + ",b:" + good, []string{"key 2 (b): same secret as key a"}, 1, true},
		{"plain_and_its_hash", "a:" + good + ",b:sha256=" + hashOf(good), []string{"key 2 (b): same secret as key a"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) accepted", tt.in)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != tt.wantN {
				t.Errorf("%d errors, want %d:\n%v", n, tt.wantN, err)
			}
			if got := strings.Contains(err.Error(), "same secret"); got != tt.dupWant {
				t.Errorf("\"same secret\" reported = %v, want %v:\n%v", got, tt.dupWant, err)
			}
			for _, s := range []string{good, "short1", "short2", "with space"} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

// A bearer token longer than any key could be is refused without hashing
// it (the transport's header cap bounds it first).
func TestAuthenticate_OverlongSecret(t *testing.T) {
	t.Parallel()
	a := New(Config{Keys: testKeys(t), Log: quiet()})
	for _, sec := range []string{strings.Repeat("x", maxSecretLen+1), secAll + strings.Repeat("x", maxSecretLen)} {
		k, err := a.fromHeader([]string{"Bearer " + sec})
		var e *Error
		if k != nil || !errors.As(err, &e) || e.Code != codes.Unauthenticated || e.Msg != msgUnknown {
			t.Fatalf("%d-byte secret: key %v, err %v; want unknown API key", len(sec), k, err)
		}
	}
	if k, err := a.fromHeader([]string{"Bearer " + secAll}); err != nil || k == nil {
		t.Fatalf("a configured key: %v", err)
	}
}
