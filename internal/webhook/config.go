package webhook

import (
	"errors"
	"fmt"
	"time"
)

// Settings are the operator's settings of webhook delivery
// (docs/webhooks.md), parsed: internal/config fills them from the
// environment, flags or YAML (the env tag names the variable, the flag is
// its kebab-case name) and checks them with Validate. Config gives the
// Engine's configuration.
type Settings struct {
	AllowPrivate  bool          `env:"KWAISHOP_WEBHOOK_ALLOW_PRIVATE" usage:"let webhook endpoints point at loopback, private (RFC 1918, ULA), link-local and other special-purpose addresses (refused by default: SSRF)"`
	AllowHTTP     bool          `env:"KWAISHOP_WEBHOOK_ALLOW_HTTP" usage:"let webhook endpoints use http:// URLs (default: https only)"`
	Timeout       time.Duration `env:"KWAISHOP_WEBHOOK_TIMEOUT" usage:"how long one webhook delivery attempt may take, answer included"`
	RetryInitial  time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_INITIAL" usage:"delay before the first webhook retry; it doubles (with jitter) up to KWAISHOP_WEBHOOK_RETRY_MAX_DELAY"`
	RetryMaxDelay time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_MAX_DELAY" usage:"longest delay between two webhook retries"`
	RetryBudget   time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_BUDGET" usage:"how long a webhook event is retried before it becomes a dead letter"`
	// DisableAfter 0 = never.
	DisableAfter time.Duration `env:"KWAISHOP_WEBHOOK_DISABLE_AFTER" usage:"a webhook endpoint whose every attempt failed for this long is disabled (0 = never)"`
	Concurrency  int64         `env:"KWAISHOP_WEBHOOK_CONCURRENCY" usage:"concurrent delivery attempts per webhook endpoint (events of one shop are always sent one at a time, in order)"`
	MaxEndpoints int64         `env:"KWAISHOP_WEBHOOK_MAX_ENDPOINTS" usage:"webhook endpoints the server keeps; creating one more is refused"`
	SecretGrace  time.Duration `env:"KWAISHOP_WEBHOOK_SECRET_GRACE" usage:"how long a rotated webhook secret keeps signing beside the new one, unless the rotation names a grace"`
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{
		Timeout: DefaultTimeout, RetryInitial: DefaultRetryInitial, RetryMaxDelay: DefaultRetryMaxDelay,
		RetryBudget: DefaultRetryBudget, DisableAfter: DefaultDisableAfter, Concurrency: DefaultConcurrency,
		MaxEndpoints: DefaultMaxEndpoints, SecretGrace: DefaultSecretGrace,
	}
}

// Validate reports every violation, each naming its variable. That the
// retry budget fits in the message retention is the caller's check (the
// retention is the message log's setting).
func (s Settings) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if s.Timeout < time.Second || s.Timeout > 2*time.Minute {
		bad("KWAISHOP_WEBHOOK_TIMEOUT", "want 1s to 2m, got %s", s.Timeout)
	}
	if s.RetryInitial <= 0 || s.RetryInitial > s.RetryMaxDelay {
		bad("KWAISHOP_WEBHOOK_RETRY_INITIAL", "want more than 0 and at most KWAISHOP_WEBHOOK_RETRY_MAX_DELAY (%s), got %s", s.RetryMaxDelay, s.RetryInitial)
	}
	if s.RetryMaxDelay <= 0 || s.RetryMaxDelay > 24*time.Hour {
		bad("KWAISHOP_WEBHOOK_RETRY_MAX_DELAY", "want more than 0 and at most 24h, got %s", s.RetryMaxDelay)
	}
	if s.RetryBudget <= 0 {
		bad("KWAISHOP_WEBHOOK_RETRY_BUDGET", "must be positive, got %s", s.RetryBudget)
	}
	if s.DisableAfter < 0 {
		bad("KWAISHOP_WEBHOOK_DISABLE_AFTER", "must not be negative (0 = never disable)")
	}
	if s.Concurrency < 1 || s.Concurrency > 256 {
		bad("KWAISHOP_WEBHOOK_CONCURRENCY", "want 1 to 256 attempts, got %d", s.Concurrency)
	}
	if s.MaxEndpoints < 1 || s.MaxEndpoints > 1000 {
		bad("KWAISHOP_WEBHOOK_MAX_ENDPOINTS", "want 1 to 1000 endpoints, got %d", s.MaxEndpoints)
	}
	if s.SecretGrace < 0 || s.SecretGrace > MaxSecretGrace {
		bad("KWAISHOP_WEBHOOK_SECRET_GRACE", "want 0s to 168h (7 days), got %s", s.SecretGrace)
	}
	return errors.Join(errs...)
}

// Config is the Engine configuration of s; the caller adds the store,
// keyring, retention, names and observers.
func (s Settings) Config() Config {
	c := Config{
		Guard:   Guard{AllowPrivate: s.AllowPrivate, AllowHTTP: s.AllowHTTP},
		Timeout: s.Timeout, RetryInitial: s.RetryInitial, RetryMaxDelay: s.RetryMaxDelay, RetryBudget: s.RetryBudget,
		DisableAfter: s.DisableAfter, Concurrency: int(s.Concurrency), MaxEndpoints: int(s.MaxEndpoints), SecretGrace: s.SecretGrace,
	}
	if s.DisableAfter == 0 {
		c.DisableAfter = neverDisable
	}
	return c
}

// neverDisable is Config.DisableAfter's "never" (its zero selects the
// default).
const neverDisable time.Duration = -1
