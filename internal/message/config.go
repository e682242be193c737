package message

import (
	"errors"
	"fmt"
	"time"
)

// Settings are the operator's settings of pushed messages
// (docs/messages.md), parsed: internal/config fills them from the
// environment, flags or YAML (the env tag names the variable, the flag is
// its kebab-case name) and checks them with Validate.
type Settings struct {
	// Key is this app's message key, not yet bound to an app (KeysFor binds
	// it); the zero Key is none.
	Key Key `env:"KWAISHOP_MESSAGE_KEY" usage:"base64 AES key for pushed messages"`
	// Keys are further apps' keys.
	Keys Keys `env:"KWAISHOP_MESSAGE_KEYS" usage:"message keys of further apps, appKey:base64key,... (KWAISHOP_MESSAGE_KEY is this app's)"`

	DedupeWindow      time.Duration `env:"KWAISHOP_MESSAGE_DEDUPE_WINDOW" usage:"how long a pushed event is remembered for de-duplication (at least 2h5m, the platform's retry horizon)"`
	Retention         time.Duration `env:"KWAISHOP_MESSAGE_RETENTION" usage:"how long messages and dead letters are kept (at least the dedupe window)"`
	ReconcileInterval time.Duration `env:"KWAISHOP_RECONCILE_INTERVAL" usage:"how often active shops' orders and refunds are polled for changes no push covered; 0 = off"`
	ReconcileLag      time.Duration `env:"KWAISHOP_RECONCILE_LAG" usage:"how far behind now a reconciliation poll stops, so pushes of the newest changes arrive first"`
}

// DefaultSettings are the documented defaults: no keys.
func DefaultSettings() Settings {
	return Settings{
		DedupeWindow: DefaultDedupeWindow, Retention: DefaultRetention,
		ReconcileInterval: DefaultReconcileInterval, ReconcileLag: DefaultReconcileLag,
	}
}

// Validate reports every violation, each naming its variable.
func (s Settings) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if s.DedupeWindow < MinDedupeWindow {
		bad("KWAISHOP_MESSAGE_DEDUPE_WINDOW", "must be at least %s (the platform retries for 125 minutes), got %s", MinDedupeWindow, s.DedupeWindow)
	}
	if s.Retention < s.DedupeWindow {
		bad("KWAISHOP_MESSAGE_RETENTION", "must be at least the dedupe window (%s), got %s", s.DedupeWindow, s.Retention)
	}
	if s.ReconcileInterval != 0 && s.ReconcileInterval < time.Second {
		bad("KWAISHOP_RECONCILE_INTERVAL", "must be 0 (off) or at least 1s, got %s", s.ReconcileInterval)
	}
	if s.ReconcileLag < 0 {
		bad("KWAISHOP_RECONCILE_LAG", "must not be negative")
	}
	return errors.Join(errs...)
}

// KeysFor is every key the intake decrypts with: Key bound to appKey (this
// app's), then Keys.
func (s Settings) KeysFor(appKey string) []Key {
	var out []Key
	if !s.Key.IsZero() {
		k := s.Key
		k.AppKey = appKey
		out = append(out, k)
	}
	return append(out, s.Keys...)
}

// IsZero reports whether k holds no key.
func (k Key) IsZero() bool { return k.block == nil }

// UnmarshalText parses a base64 AES key (NewKey) not bound to an app.
func (k *Key) UnmarshalText(text []byte) error {
	parsed, err := NewKey("", string(text))
	if err != nil {
		return fmt.Errorf("want base64 of a 16, 24 or 32 byte AES key: %w", err)
	}
	*k = parsed
	return nil
}

// Keys are message keys of several apps.
type Keys []Key

// UnmarshalText parses "appKey:base64key,..." (ParseKeys).
func (ks *Keys) UnmarshalText(text []byte) error {
	parsed, err := ParseKeys(string(text))
	if err != nil {
		return fmt.Errorf("want appKey:base64key,...: %w", err)
	}
	*ks = parsed
	return nil
}
