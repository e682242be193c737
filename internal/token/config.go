package token

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Settings are the operator's settings of the token manager and the OAuth
// flow (docs/security.md), parsed: internal/config fills them from the
// environment, flags or YAML (the env tag names the variable, the flag is
// its kebab-case name) and checks them with Validate.
type Settings struct {
	LeaseTTL    time.Duration `env:"KWAISHOP_REFRESH_LEASE_TTL" usage:"how long a replica may hold a shop's refresh lease before another takes over"`
	ReturnHosts ReturnHosts   `env:"KWAISHOP_OAUTH_RETURN_HOSTS" usage:"hosts (host or host:port, comma-separated) a StartAuthorization return_url may point at (default: the host of the redirect URI)"`
	// RequireState makes /oauth/callback refuse codes without a gateway
	// state (the service market's "use service" redirect). Unset: the app
	// type decides (self_use: required; third_party: not), docs/apps.md.
	RequireState Optional `env:"KWAISHOP_OAUTH_REQUIRE_STATE" usage:"true: /oauth/callback refuses codes without a state (the service market's redirect); default: true for a self_use app, false for a third_party one"`
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{LeaseTTL: 30 * time.Second}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	var errs []error
	if s.LeaseTTL <= 0 {
		errs = append(errs, errors.New("KWAISHOP_REFRESH_LEASE_TTL: must be positive"))
	}
	return errors.Join(errs...)
}

// ReturnHosts are the hosts a Start's return URL may point at
// (Config.ReturnHosts), as ParseReturnHosts returns them.
type ReturnHosts []string

// UnmarshalText parses a comma-separated list of hosts (ParseReturnHosts).
func (h *ReturnHosts) UnmarshalText(text []byte) error {
	parsed, err := ParseReturnHosts(string(text))
	if err != nil {
		return err
	}
	*h = parsed
	return nil
}

// Optional is a true/false setting that may be left unset, so that a
// default decided elsewhere applies. The zero value is unset.
type Optional struct{ set, value bool }

// OptionalOf is a set Optional.
func OptionalOf(v bool) Optional { return Optional{set: true, value: v} }

// IsSet reports whether a value was given.
func (o Optional) IsSet() bool { return o.set }

// Value is the value given (false when unset).
func (o Optional) Value() bool { return o.value }

// Or is the value given, or def when unset.
func (o Optional) Or(def bool) bool {
	if o.set {
		return o.value
	}
	return def
}

// UnmarshalText parses true or false (strconv.ParseBool); empty text is
// unset.
func (o *Optional) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == "" {
		*o = Optional{}
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	*o = OptionalOf(b)
	return nil
}
