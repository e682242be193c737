package limit

import (
	"errors"
	"fmt"
	"time"
)

// Settings are the operator's settings of the client-side limits
// (docs/security.md), parsed: internal/config fills them from the
// environment, flags or YAML (the env tag names the variable, the flag is
// its kebab-case name) and checks them with Validate. Config gives the
// Limiter's configuration.
type Settings struct {
	QPS             int64         `env:"KWAISHOP_API_QPS" usage:"each platform API's QPS for the app, shared by all replicas (0 = no client-side QPS limit)"`
	Rates           Rates         `env:"KWAISHOP_API_QPS_OVERRIDES" usage:"per-API QPS method=app[/user],... on top of the platform's table (item writes 100/50 per user, open.order.cursor.list 300/300, open.order.decrypt.batch 100/100)"`
	HeadroomPercent int64         `env:"KWAISHOP_QPS_HEADROOM" usage:"percent of every QPS limit left unused for jitter between replicas and the platform (0-50)"`
	MaxQueue        time.Duration `env:"KWAISHOP_LIMIT_MAX_QUEUE" usage:"how long a call waits for a QPS slot before RESOURCE_EXHAUSTED, unless the caller sends x-kwaishop-wait: true (then up to its deadline)"`
	MaxInFlight     int64         `env:"KWAISHOP_MAX_IN_FLIGHT" usage:"concurrent upstream calls per replica (bulk reads may use half, reads three quarters; 0 = no cap)"`

	// The daily quotas of the single app of the env vars (also the quota
	// view's, internal/stats); 0 takes the app state's value from the app
	// table (internal/config, docs/apps.md). An app list sets them per app.
	DailyQuota         int64 `env:"KWAISHOP_DAILY_QUOTA" usage:"the app's daily platform call quota, enforced and shown in the quota view with its 90% warning (default from KWAISHOP_APP_STATE: 100000 in test, 1000000 online)"`
	TestUserDailyQuota int64 `env:"KWAISHOP_TEST_USER_DAILY_QUOTA" usage:"daily platform call cap of each test user of a test-state app (a main account and its sub-accounts count as one; default 2000)"`
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{
		QPS: DefaultQPS, HeadroomPercent: 10, MaxQueue: time.Second, MaxInFlight: 256,
	}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if s.QPS < 0 {
		bad("KWAISHOP_API_QPS", "must not be negative (0 = no QPS limit)")
	}
	if s.HeadroomPercent < 0 || s.HeadroomPercent > 50 {
		bad("KWAISHOP_QPS_HEADROOM", "want a percentage from 0 to 50, got %d", s.HeadroomPercent)
	}
	if s.MaxQueue < 0 {
		bad("KWAISHOP_LIMIT_MAX_QUEUE", "must not be negative")
	}
	if s.MaxInFlight < 0 {
		bad("KWAISHOP_MAX_IN_FLIGHT", "must not be negative (0 = no cap)")
	}
	if s.DailyQuota < 0 {
		bad("KWAISHOP_DAILY_QUOTA", "must not be negative (0 = the app state's quota)")
	}
	if s.TestUserDailyQuota < 0 {
		bad("KWAISHOP_TEST_USER_DAILY_QUOTA", "must not be negative (0 = the platform's 2000)")
	}
	return errors.Join(errs...)
}

// Config is the Limiter configuration of s, shared by every app; the caller
// adds the store, clock and logger, and each app's daily quotas with
// Limiter.ForApp. A zero headroom or queue means none, not the Limiter's
// default.
func (s Settings) Config() Config {
	c := Config{
		QPS: float64(s.QPS), Rates: s.Rates, Headroom: float64(s.HeadroomPercent) / 100,
		MaxQueue: s.MaxQueue, MaxInFlight: int(s.MaxInFlight),
	}
	if s.HeadroomPercent == 0 {
		c.Headroom = NoHeadroom
	}
	if s.MaxQueue == 0 {
		c.MaxQueue = NoQueue
	}
	return c
}

// Rates are per-API QPS limits by API name: the platform's table
// (PlatformRates) with KWAISHOP_API_QPS_OVERRIDES on top. Nil means
// PlatformRates.
type Rates map[string]Rate

// UnmarshalText parses "method=app[/user],..." (ParseRates) into r.
func (r *Rates) UnmarshalText(text []byte) error {
	parsed, err := ParseRates(string(text))
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}
