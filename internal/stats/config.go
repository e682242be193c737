package stats

import (
	"errors"
	"time"
)

// Settings are the operator's settings of the call statistics
// (docs/observability.md), parsed: internal/config fills them from the
// environment, flags or YAML (the env tag names the variable, the flag is
// its kebab-case name) and checks them with Validate. The daily quotas the
// quota view reports against are the limits' (internal/limit Settings).
type Settings struct {
	FlushInterval time.Duration `env:"KWAISHOP_STATS_FLUSH_INTERVAL" usage:"how often a replica writes its call statistics to the store"`
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{FlushInterval: DefaultFlushInterval}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	if s.FlushInterval <= 0 {
		return errors.New("KWAISHOP_STATS_FLUSH_INTERVAL: must be positive")
	}
	return nil
}
