package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// AppConfig is one app of a sandbox with several (Config.Apps). Empty
// credentials are generated as in Config; the JSON names are those of
// cmd/sandbox's app list.
type AppConfig struct {
	// AppKey, AppSecret and SignSecret are the app's credentials.
	AppKey     string `json:"appKey"`
	AppSecret  string `json:"appSecret"`
	SignSecret string `json:"signSecret"`
	// SignMethod is "MD5" or "HMAC_SHA256" when the app accepts only that
	// sign method; empty accepts either (the call's signMethod decides).
	SignMethod string `json:"signMethod"`
	// MessageKey is the base64 AES key of the app's pushed messages.
	MessageKey string `json:"messageKey"`
	// AppType is AppTypeSelfUse (default) or AppTypeThirdParty.
	AppType string `json:"type"`
	// AppState is AppStateTest (default) or AppStateOnline.
	AppState string `json:"state"`
	// CallbackURL is the app's registered callback: consent redirects must
	// be on its origin, and the service market's "use service" goes to it.
	CallbackURL string `json:"callbackUrl"`
	// PushURL receives the app's pushed messages (empty: none yet).
	PushURL string `json:"pushUrl"`
	// Scopes are the permission groups the app holds (empty: all).
	Scopes []string `json:"scopes"`
}

// Config configures a Sandbox. The zero value is valid: credentials are
// generated and every duration takes its default from package rules.
//
// The sandbox serves one app described by the single-app fields (AppKey,
// AppSecret, SignSecret, SignMethod, MessageKey, AppType, AppState,
// CallbackURL, PushURL, Scopes), or several listed in Apps; set one or the
// other (the single-app fields may repeat Apps[0], as Config returns them).
type Config struct {
	// Apps are the apps (at most rules.MaxApps, distinct AppKeys); the
	// first is the one the Sandbox New returns drives (App picks another).
	Apps []AppConfig
	// AppKey, AppSecret and SignSecret are the app's credentials. Empty ones
	// are generated: appkey "ks" + 18 digits, secrets 32 lowercase hex.
	AppKey, AppSecret, SignSecret string
	// SignMethod, AppType and CallbackURL: as in AppConfig.
	SignMethod, AppType, CallbackURL string
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
	// DecryptDailyEntries caps each shop's decrypted entries a day
	// (open.order.decrypt.batch; 0 = rules.DefaultDecryptDailyEntries,
	// 10 000; negative = no cap); past it the call answers the quota result.
	DecryptDailyEntries int
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
	single := c.singleApp()
	if len(c.Apps) == 0 {
		validateApp(single, "", bad)
	} else if !single.isZero() && !single.equal(c.Apps[0]) {
		bad("set either the single-app fields (AppKey, AppSecret, SignSecret, SignMethod, MessageKey, AppType, AppState, CallbackURL, PushURL, Scopes) or Apps, not both")
	}
	if len(c.Apps) > rules.MaxApps {
		bad("Apps lists %d apps, at most %d", len(c.Apps), rules.MaxApps)
	}
	keys := map[string]bool{}
	for i, a := range c.Apps {
		validateApp(a, fmt.Sprintf("Apps[%d].", i), bad)
		if a.AppKey != "" && keys[a.AppKey] {
			bad("Apps[%d].AppKey %q listed twice", i, a.AppKey)
		}
		keys[a.AppKey] = true
	}
	if c.TestUsers < 0 || c.TestUsers > rules.MaxTestUsers {
		bad("TestUsers is %d, want 0 (default 1) to %d", c.TestUsers, rules.MaxTestUsers)
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
	errs = append(errs, c.Limits.Validate())
	return errors.Join(errs...)
}

// validateApp reports a's violations, each field named with prefix.
func validateApp(a AppConfig, prefix string, bad func(string, ...any)) {
	for _, f := range []struct{ name, v string }{{"AppKey", a.AppKey}, {"AppSecret", a.AppSecret}, {"SignSecret", a.SignSecret}} {
		if f.v != "" && !credentialRE.MatchString(f.v) {
			bad("%s%s must be 1-128 printable ASCII characters without spaces", prefix, f.name)
		}
	}
	if a.MessageKey != "" {
		k, err := base64.StdEncoding.DecodeString(a.MessageKey)
		if err != nil {
			bad("%sMessageKey is not standard base64", prefix)
		} else if n := len(k); n != 16 && n != 24 && n != 32 {
			bad("%sMessageKey decodes to %d bytes, want 16 (AES-128), 24 or 32", prefix, n)
		}
	}
	if a.PushURL != "" {
		u, err := url.Parse(a.PushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%sPushURL must be an absolute http(s) URL", prefix)
		}
	}
	if err := app.CheckCallbackURL(a.CallbackURL); err != nil {
		bad("%sCallbackURL: %v", prefix, err)
	}
	if a.SignMethod != "" && a.SignMethod != string(sign.MD5) && a.SignMethod != string(sign.HMACSHA256) {
		bad("%sSignMethod is %q, want empty (either), %q or %q", prefix, a.SignMethod, sign.MD5, sign.HMACSHA256)
	}
	if a.AppType != "" && a.AppType != AppTypeSelfUse && a.AppType != AppTypeThirdParty {
		bad("%sAppType is %q, want %q or %q", prefix, a.AppType, AppTypeSelfUse, AppTypeThirdParty)
	}
	if a.AppState != "" && a.AppState != AppStateTest && a.AppState != AppStateOnline {
		bad("%sAppState is %q, want %q or %q", prefix, a.AppState, AppStateTest, AppStateOnline)
	}
	seen := map[string]bool{}
	for _, s := range a.Scopes {
		if !rules.IsKnownScope(s) {
			bad("%sScopes: unknown permission group %q", prefix, s)
		}
		if seen[s] {
			bad("%sScopes: %q listed twice", prefix, s)
		}
		seen[s] = true
	}
}

// singleApp is the app of the single-app fields.
func (c *Config) singleApp() AppConfig {
	return AppConfig{
		AppKey: c.AppKey, AppSecret: c.AppSecret, SignSecret: c.SignSecret, SignMethod: c.SignMethod, MessageKey: c.MessageKey,
		AppType: c.AppType, AppState: c.AppState, CallbackURL: c.CallbackURL, PushURL: c.PushURL, Scopes: c.Scopes,
	}
}

// setSingleApp copies a into the single-app fields.
func (c *Config) setSingleApp(a AppConfig) {
	c.AppKey, c.AppSecret, c.SignSecret, c.SignMethod, c.MessageKey = a.AppKey, a.AppSecret, a.SignSecret, a.SignMethod, a.MessageKey
	c.AppType, c.AppState, c.CallbackURL, c.PushURL, c.Scopes = a.AppType, a.AppState, a.CallbackURL, a.PushURL, slices.Clone(a.Scopes)
}

func (a AppConfig) isZero() bool { return a.equal(AppConfig{}) }

func (a AppConfig) equal(b AppConfig) bool {
	return a.AppKey == b.AppKey && a.AppSecret == b.AppSecret && a.SignSecret == b.SignSecret && a.SignMethod == b.SignMethod &&
		a.MessageKey == b.MessageKey && a.AppType == b.AppType && a.AppState == b.AppState && a.CallbackURL == b.CallbackURL &&
		a.PushURL == b.PushURL && slices.Equal(a.Scopes, b.Scopes)
}

// withDefaults fills in an app's generated credentials and defaults; taken
// are the keys of the apps before it.
func (a AppConfig) withDefaults(taken map[string]bool) AppConfig {
	for a.AppKey == "" {
		if k := "ks" + ids.Digits(18); !taken[k] {
			a.AppKey = k
		}
	}
	if a.AppSecret == "" {
		a.AppSecret = ids.Hex(16)
	}
	if a.SignSecret == "" {
		a.SignSecret = ids.Hex(16)
	}
	if a.MessageKey == "" {
		a.MessageKey = base64.StdEncoding.EncodeToString(ids.Bytes(16))
	}
	if a.AppType == "" {
		a.AppType = AppTypeSelfUse
	}
	if a.AppState == "" {
		a.AppState = AppStateTest
	}
	if len(a.Scopes) == 0 {
		a.Scopes = rules.DefaultAppScopes()
	} else {
		a.Scopes = slices.Clone(a.Scopes)
	}
	return a
}

// withDefaults returns c with generated credentials and default durations.
func (c Config) withDefaults() Config {
	apps := slices.Clone(c.Apps)
	if len(apps) == 0 {
		apps = []AppConfig{c.singleApp()}
	}
	taken := map[string]bool{}
	for _, a := range apps {
		taken[a.AppKey] = true
	}
	for i, a := range apps {
		apps[i] = a.withDefaults(taken)
		taken[apps[i].AppKey] = true
	}
	c.Apps = apps
	c.setSingleApp(apps[0])
	if c.TestUsers == 0 {
		c.TestUsers = 1
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
	c.Limits = c.Limits.WithDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
