package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Config configures a Sandbox. The zero value is valid: credentials are
// generated and every duration takes its default from package rules.
type Config struct {
	// AppKey, AppSecret and SignSecret are the app's credentials. Empty ones
	// are generated: appkey "ks" + 18 digits, secrets 32 lowercase hex.
	AppKey, AppSecret, SignSecret string
	// MessageKey is the base64 AES key of pushed messages (16 bytes: AES-128
	// as on the platform; 24 or 32 accepted). Generated if empty.
	MessageKey string
	// PushURL receives the pushed messages (and a heartbeat at start).
	// Empty = no message channel: state changes produce no messages until a
	// URL is set through SetPusher or POST /sandbox/v1/pusher.
	PushURL string
	// PushDuplicateRate and PushDropRate are the fractions (0-1) of
	// messages pushed twice and never pushed; the choice is deterministic
	// given Seed and the order of the state changes.
	PushDuplicateRate, PushDropRate float64
	// HeartbeatInterval is the real-time period of {"test":true} heartbeats
	// (0 = DefaultHeartbeatInterval, 60 s; negative = none).
	HeartbeatInterval time.Duration
	// AppState is AppStateTest (default) or AppStateOnline; it chooses the
	// daily quota and whether test-user rules apply (package rules).
	AppState string
	// Limits are the call limits (zero value = the platform's numbers).
	Limits Limits
	// Seed makes the shop data deterministic: the same Seed, AppKey and start
	// time give the same users, items, orders and refunds.
	Seed int64
	// TestUsers is the number of pre-seeded test users (0 = 1; at most 5).
	TestUsers int
	// Scopes are the permission groups the app holds (empty = all confirmed
	// groups, see package rules). Authorizations are limited to them.
	Scopes []string
	// TimestampWindow is the allowed |sandbox now - timestamp| of a signed
	// call (0 = DefaultTimestampWindow, 10 min; see package rules for why).
	TimestampWindow time.Duration
	// RefreshGrace is how long a rotated refresh token keeps working
	// (0 = DefaultRefreshGrace, 5 min; negative, e.g. NoRefreshGrace = none).
	RefreshGrace time.Duration
	// TestAuthorizationTTL is when a test user's authorization is cancelled
	// by the platform (0 = DefaultTestAuthorizationTTL, 10 days; negative =
	// never, e.g. to age refresh tokens to their 180-day expiry).
	TestAuthorizationTTL time.Duration
	// Now is the base clock (nil = time.Now); the sandbox adds an adjustable
	// offset on top (Advance).
	Now func() time.Time
	// Logger receives one debug record per request (never tokens, secrets or
	// query strings). Nil discards.
	Logger *slog.Logger
}

var credentialRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)

// Validate reports every violation, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	}
	for _, f := range []struct{ name, v string }{{"AppKey", c.AppKey}, {"AppSecret", c.AppSecret}, {"SignSecret", c.SignSecret}} {
		if f.v != "" && !credentialRE.MatchString(f.v) {
			bad("%s must be 1-128 printable ASCII characters without spaces", f.name)
		}
	}
	if c.MessageKey != "" {
		k, err := base64.StdEncoding.DecodeString(c.MessageKey)
		if err != nil {
			bad("MessageKey is not standard base64")
		} else if n := len(k); n != 16 && n != 24 && n != 32 {
			bad("MessageKey decodes to %d bytes, want 16 (AES-128), 24 or 32", n)
		}
	}
	if c.PushURL != "" {
		u, err := url.Parse(c.PushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PushURL must be an absolute http(s) URL")
		}
	}
	if c.TestUsers < 0 || c.TestUsers > rules.MaxTestUsers {
		bad("TestUsers is %d, want 0 (default 1) to %d", c.TestUsers, rules.MaxTestUsers)
	}
	seen := map[string]bool{}
	for _, s := range c.Scopes {
		if !rules.IsKnownScope(s) {
			bad("Scopes: unknown permission group %q", s)
		}
		if seen[s] {
			bad("Scopes: %q listed twice", s)
		}
		seen[s] = true
	}
	if c.TimestampWindow < 0 {
		bad("TimestampWindow is negative")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"PushDuplicateRate", c.PushDuplicateRate}, {"PushDropRate", c.PushDropRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			bad("%s is %v, want 0 to 1", r.name, r.v)
		}
	}
	if c.AppState != "" && c.AppState != AppStateTest && c.AppState != AppStateOnline {
		bad("AppState is %q, want %q or %q", c.AppState, AppStateTest, AppStateOnline)
	}
	errs = append(errs, c.Limits.Validate())
	return errors.Join(errs...)
}

// withDefaults returns c with generated credentials and default durations.
func (c Config) withDefaults() Config {
	if c.AppKey == "" {
		c.AppKey = "ks" + ids.Digits(18)
	}
	if c.AppSecret == "" {
		c.AppSecret = ids.Hex(16)
	}
	if c.SignSecret == "" {
		c.SignSecret = ids.Hex(16)
	}
	if c.MessageKey == "" {
		c.MessageKey = base64.StdEncoding.EncodeToString(ids.Bytes(16))
	}
	if c.TestUsers == 0 {
		c.TestUsers = 1
	}
	if len(c.Scopes) == 0 {
		c.Scopes = rules.DefaultAppScopes()
	} else {
		c.Scopes = append([]string(nil), c.Scopes...)
	}
	if c.TimestampWindow == 0 {
		c.TimestampWindow = DefaultTimestampWindow
	}
	if c.RefreshGrace == 0 {
		c.RefreshGrace = DefaultRefreshGrace
	}
	if c.TestAuthorizationTTL == 0 {
		c.TestAuthorizationTTL = DefaultTestAuthorizationTTL
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.AppState == "" {
		c.AppState = AppStateTest
	}
	c.Limits = c.Limits.WithDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
