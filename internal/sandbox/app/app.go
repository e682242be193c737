// Package app provides an app registered on the emulated platform: its
// credentials, sign method, type (self-use or third-party), the permission
// groups (scopes) it holds, its test or online state and its callback URL.
package app

import (
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Spec describes an app (validated by the caller, defaults filled in).
type Spec struct {
	// Key is the appKey (= app_id); Secret the appSecret of the token
	// endpoints; SignSecret the signSecret of API signatures.
	Key, Secret, SignSecret string
	// SignMethod is "MD5" or "HMAC_SHA256" when the app signs with only
	// that method; empty accepts either.
	SignMethod string
	// Type is rules.AppTypeSelfUse or rules.AppTypeThirdParty.
	Type string
	// State is rules.AppStateTest or rules.AppStateOnline.
	State string
	// CallbackURL is the app's registered callback (empty: none).
	CallbackURL string
	// Scopes are the permission groups the app holds.
	Scopes []string
}

// App is one app of the platform. Its credentials, type and scopes are
// fixed; its state and callback URL may change. It is safe for concurrent
// use and never takes another lock while holding its own.
type App struct {
	// Key is the appKey (= app_id); Secret the appSecret of the token
	// endpoints; SignSecret the signSecret of API signatures.
	Key, Secret, SignSecret string
	// SignMethod is the one sign method the app accepts ("" = MD5 or
	// HMAC_SHA256, as the call says).
	SignMethod string
	// Type is rules.AppTypeSelfUse or rules.AppTypeThirdParty.
	Type string
	// Scopes are the permission groups the app holds; authorizations are
	// limited to them. Read only.
	Scopes []string

	mu       sync.Mutex
	state    string
	callback string
}

// New returns the app of s.
func New(s Spec) *App {
	return &App{
		Key: s.Key, Secret: s.Secret, SignSecret: s.SignSecret, SignMethod: s.SignMethod, Type: s.Type,
		Scopes: slices.Clone(s.Scopes), state: s.State, callback: s.CallbackURL,
	}
}

// State is rules.AppStateTest or rules.AppStateOnline.
func (a *App) State() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// SetState switches the app between rules.AppStateTest and
// rules.AppStateOnline.
func (a *App) SetState(state string) error {
	if state != rules.AppStateTest && state != rules.AppStateOnline {
		return fmt.Errorf("%w: app state %q, want %q or %q", rules.ErrInvalidConfig, state, rules.AppStateTest, rules.AppStateOnline)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state = state
	return nil
}

// CallbackURL is the app's registered callback ("" = none).
func (a *App) CallbackURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.callback
}

// SetCallbackURL registers the app's callback: an absolute http(s) URL
// without a fragment, or "" for none.
func (a *App) SetCallbackURL(u string) error {
	if err := CheckCallbackURL(u); err != nil {
		return fmt.Errorf("%w: callback URL: %v", rules.ErrInvalidConfig, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.callback = u
	return nil
}

// CheckCallbackURL reports why u cannot be a callback URL ("" is none and
// valid).
func CheckCallbackURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	switch {
	case err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "":
		return fmt.Errorf("want an absolute http(s) URL")
	case p.Fragment != "" || p.User != nil:
		return fmt.Errorf("want a URL without a fragment or user info")
	case len(u) > 2048:
		return fmt.Errorf("longer than 2048 characters")
	}
	return nil
}

// HoldsScopes reports whether scopes is a non-empty subset of the app's.
func (a *App) HoldsScopes(scopes []string) bool {
	if len(scopes) == 0 {
		return false
	}
	for _, sc := range scopes {
		if !slices.Contains(a.Scopes, sc) {
			return false
		}
	}
	return true
}

// NeedsServiceOrder reports whether the app's authorizations need a live
// service-market order of the merchant (third-party apps).
func (a *App) NeedsServiceOrder() bool { return rules.NeedsServiceOrder(a.Type) }
