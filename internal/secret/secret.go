// Package secret holds values that must never be printed: credentials and
// tokens. A String formats as "[REDACTED]" with fmt, slog and encoding/json;
// the value is reachable only through Reveal.
package secret

import (
	"log/slog"
	"net/url"
	"strings"
)

// String is a secret string value.
type String struct{ v string }

// New wraps a secret value.
func New(v string) String { return String{v: v} }

// Reveal returns the secret value. Call it only where the value is sent.
func (s String) Reveal() string { return s.v }

// Empty reports whether no secret is set.
func (s String) Empty() bool { return s.v == "" }

const redacted = "[REDACTED]"

func (s String) String() string               { return redacted }
func (s String) GoString() string             { return redacted }
func (s String) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s String) MarshalText() ([]byte, error) { return []byte(redacted), nil }

var (
	_ slog.LogValuer = String{}
)

// Mask is how a secret held as a plain string is printed: `""` when it is
// unset (so an operator can see it is missing) and "[REDACTED]" otherwise.
func Mask(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// URL returns raw without what may carry a credential: user information,
// query and fragment. A URL that does not parse, or a bare host:port, keeps
// only what precedes '?' or '#' and follows the last '@'.
func URL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
		return r.String()
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, '@'); i >= 0 {
		raw = raw[i+1:]
	}
	return raw
}
