// Package app provides the app registered on the emulated platform: its
// credentials, the permission groups (scopes) it holds and its test or
// online state.
package app

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// App is one app of the platform. Its credentials and scopes are fixed; its
// state may change (SetState). It is safe for concurrent use and never takes
// another lock while holding its own.
type App struct {
	// Key is the appKey (= app_id); Secret the appSecret of the token
	// endpoints; SignSecret the signSecret of API signatures.
	Key, Secret, SignSecret string
	// Scopes are the permission groups the app holds; authorizations are
	// limited to them. Read only.
	Scopes []string

	mu    sync.Mutex
	state string
}

// New returns an app in state (rules.AppStateTest or rules.AppStateOnline).
func New(key, secret, signSecret string, scopes []string, state string) *App {
	return &App{Key: key, Secret: secret, SignSecret: signSecret, Scopes: slices.Clone(scopes), state: state}
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
