// Package secret holds values that must never be printed: credentials and
// tokens. A String formats as "[REDACTED]" with fmt, slog and encoding/json;
// the value is reachable only through Reveal.
package secret

import "log/slog"

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
