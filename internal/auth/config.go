package auth

import (
	"errors"
	"fmt"
	"maps"
)

// Settings are the operator's settings of caller authentication and the
// HTTP edge's browser checks (docs/security.md), parsed: internal/config
// fills them from the environment, flags or YAML (the env tag names the
// variable, the flag is its kebab-case name) and checks them with Validate.
type Settings struct {
	Keys             *Keys   `env:"KWAISHOP_API_KEYS" usage:"caller API keys name:secret[:scope...],..."`
	AllowedHosts     *Hosts  `env:"KWAISHOP_ALLOWED_HOSTS" usage:"without API keys, host names (host or host:port, comma-separated) the HTTP listener answers besides localhost, IP addresses, the listen address and the redirect URI's host; other Host headers are refused 403 (DNS rebinding)"`
	AllowedOrigins   Origins `env:"KWAISHOP_ALLOWED_ORIGINS" usage:"browser origins (scheme://host[:port], comma-separated) besides the gateway's own that may send state-changing REST requests; other cross-origin ones are refused 403"`
	MaxStreamsPerKey int64   `env:"KWAISHOP_MAX_STREAMS_PER_KEY" usage:"streaming calls (WatchAuthorizationEvents, Subscribe, health Watch) one API key may hold open at once, over all its connections; calls without a key count per client IP"`
}

// DefaultSettings are the documented defaults: no keys, no further hosts
// or origins.
func DefaultSettings() Settings {
	return Settings{MaxStreamsPerKey: 100}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	var errs []error
	if s.MaxStreamsPerKey < 1 || s.MaxStreamsPerKey > 1<<20 {
		errs = append(errs, fmt.Errorf("KWAISHOP_MAX_STREAMS_PER_KEY: want 1 to 1048576 streams, got %d", s.MaxStreamsPerKey))
	}
	return errors.Join(errs...)
}

// UnmarshalText parses KWAISHOP_API_KEYS (Parse) into ks.
func (ks *Keys) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*ks = *parsed
	return nil
}

// UnmarshalText parses KWAISHOP_ALLOWED_HOSTS (ParseHosts) into h.
func (h *Hosts) UnmarshalText(text []byte) error {
	parsed, err := ParseHosts(string(text))
	if err != nil {
		return err
	}
	*h = *parsed
	return nil
}

// Clone returns a copy of h that Add may extend without changing h; a nil
// h gives the set of an empty list (localhost only).
func (h *Hosts) Clone() *Hosts {
	out := &Hosts{anyPort: map[string]bool{"localhost": true}, exact: map[string]bool{}}
	if h != nil {
		maps.Copy(out.anyPort, h.anyPort)
		maps.Copy(out.exact, h.exact)
	}
	return out
}

// Origins are the browser origins trusted to send state-changing requests
// from another origin (KWAISHOP_ALLOWED_ORIGINS), as ParseOrigins returns
// them.
type Origins []string

// UnmarshalText parses a comma-separated list of origins (ParseOrigins).
func (o *Origins) UnmarshalText(text []byte) error {
	parsed, err := ParseOrigins(string(text))
	if err != nil {
		return err
	}
	*o = parsed
	return nil
}
