package securitylog

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Settings are the operator's settings of the security access logs
// (docs/security-logs.md), parsed: internal/config fills them from the
// environment, flags or YAML and checks them with Validate.
type Settings struct {
	Enabled       bool          `env:"KWAISHOP_SECURITY_LOG" usage:"report every access to order data to the platform's open.security.log.* APIs (docs/security-logs.md)"`
	Apps          AppKeys       `env:"KWAISHOP_SECURITY_LOG_APPS" usage:"comma-separated app keys whose shops' accesses are reported (empty = every app)"`
	FlushInterval time.Duration `env:"KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL" usage:"how often the sender batches stored entries and sends them"`
	Retention     time.Duration `env:"KWAISHOP_SECURITY_LOG_RETENTION" usage:"how long an unsent entry is kept and retried"`
	MaxBytes      int64         `env:"KWAISHOP_SECURITY_LOG_MAX_BYTES" usage:"cap of the stored unsent entries, in bytes; beyond it new entries are refused and counted as failed"`
	DefaultIP     string        `env:"KWAISHOP_SECURITY_LOG_DEFAULT_IP" usage:"user IP reported when a caller names none in x-kwaishop-user-ip"`
}

// Defaults of the settings.
const (
	DefaultFlushInterval = 2 * time.Second
	DefaultRetention     = 7 * 24 * time.Hour
	DefaultMaxBytes      = 1 << 30
	DefaultUserIP        = "127.0.0.1"
)

// OffWarning is what the gateway logs at start when it runs with real
// credentials and the security logs are off (the default).
const OffWarning = "security logs are off: accesses to order data through the gateway are not reported to the platform's " +
	"open.security.log.* APIs, which its security rules ask of integrators; set KWAISHOP_SECURITY_LOG=true (docs/security-logs.md)"

// DefaultSettings are the documented defaults: off.
func DefaultSettings() Settings {
	return Settings{FlushInterval: DefaultFlushInterval, Retention: DefaultRetention, MaxBytes: DefaultMaxBytes, DefaultIP: DefaultUserIP}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if s.FlushInterval < 10*time.Millisecond || s.FlushInterval > 24*time.Hour {
		bad("KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL", "want 10ms to 24h, got %s", s.FlushInterval)
	}
	if s.Retention < time.Hour {
		bad("KWAISHOP_SECURITY_LOG_RETENTION", "want at least 1h, got %s", s.Retention)
	}
	if s.MaxBytes < 1<<20 {
		bad("KWAISHOP_SECURITY_LOG_MAX_BYTES", "want at least 1048576, got %d", s.MaxBytes)
	}
	if _, err := parseIP(s.DefaultIP); err != nil {
		bad("KWAISHOP_SECURITY_LOG_DEFAULT_IP", "%v", err)
	}
	return errors.Join(errs...)
}

// Reports says whether accesses of appKey's shops are reported.
func (s Settings) Reports(appKey string) bool {
	if !s.Enabled {
		return false
	}
	if len(s.Apps) == 0 {
		return true
	}
	for _, k := range s.Apps {
		if k == appKey {
			return true
		}
	}
	return false
}

// AppKeys is a list of app keys ("a,b,c").
type AppKeys []string

// UnmarshalText parses a comma-separated list of app keys.
func (k *AppKeys) UnmarshalText(text []byte) error {
	var out AppKeys
	for p := range strings.SplitSeq(string(text), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if len(p) > 64 {
			return errors.New("want app keys of at most 64 characters")
		}
		out = append(out, p)
	}
	if len(out) > 100 {
		return errors.New("want at most 100 app keys")
	}
	*k = out
	return nil
}

// parseIP parses a user IP: an IPv4 or IPv6 address without zone.
func parseIP(s string) (netip.Addr, error) {
	if len(s) > maxIPLen {
		return netip.Addr{}, fmt.Errorf("want an IP address of at most %d characters", maxIPLen)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errors.New("want an IPv4 or IPv6 address")
	}
	return a.Unmap(), nil
}
