package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// App is one app whose shops the Manager keeps: its key, its OAuth
// endpoints (which hold its appSecret) and its callback.
type App struct {
	Key   string
	OAuth OAuth
	// RedirectURI is the callback registered with the platform for the app.
	RedirectURI string
	// TestApp: the app is in test state, so every shop is a test user.
	TestApp bool
}

// apps returns the configured apps: Config.Apps, or the one app of
// Config.AppKey, OAuth, RedirectURI and TestApp.
func (c Config) apps() []App {
	if len(c.Apps) > 0 {
		return c.Apps
	}
	return []App{{Key: c.AppKey, OAuth: c.OAuth, RedirectURI: c.RedirectURI, TestApp: c.TestApp}}
}

// Apps lists the keys of the configured apps, in order.
func (m *Manager) Apps() []string {
	out := make([]string, 0, len(m.apps))
	for _, a := range m.apps {
		out = append(out, a.Key)
	}
	return out
}

// app resolves an app key a caller named ("" = the only app): an
// *InvalidError on field app_key when it names no configured app, or
// names none while there are several.
func (m *Manager) app(key string) (App, error) {
	if key == "" {
		if len(m.apps) == 1 {
			return m.apps[0], nil
		}
		return App{}, &InvalidError{Violations: []Violation{{"app_key", fmt.Sprintf("name the app: the gateway serves %d apps", len(m.apps))}}}
	}
	if i := slices.IndexFunc(m.apps, func(a App) bool { return a.Key == key }); i >= 0 {
		return m.apps[i], nil
	}
	return App{}, &InvalidError{Violations: []Violation{{"app_key", "not an app this gateway serves"}}}
}

// ErrAppNotServed is a stored authorization of an app that is no longer
// configured: its tokens cannot be refreshed or used.
var ErrAppNotServed = errors.New("token: the shop's app is not configured on this gateway")

// appOf is the app an authorization belongs to: its AppKey, or the first
// app for a record stored before the gateway told apps apart.
func (m *Manager) appOf(a store.Authorization) (App, error) {
	if a.AppKey == "" {
		return m.apps[0], nil
	}
	if i := slices.IndexFunc(m.apps, func(x App) bool { return x.Key == a.AppKey }); i >= 0 {
		return m.apps[i], nil
	}
	return App{}, fmt.Errorf("%w (shop %s, app %s)", ErrAppNotServed, a.OpenID, a.AppKey)
}

// ShopApp is the key of the app a shop authorized, or an error wrapping
// store.ErrNotFound for a shop the gateway does not know.
func (m *Manager) ShopApp(ctx context.Context, openID string) (string, error) {
	c, err := m.lookup(ctx, openID)
	return c.app, err
}

// lookup returns what the cache knows of a shop, reading the store on a
// miss.
func (m *Manager) lookup(ctx context.Context, openID string) (cached, error) {
	m.mu.Lock()
	c, ok := m.cache[openID]
	m.mu.Unlock()
	if ok {
		return c, nil
	}
	a, rev, err := m.cfg.Store.Get(ctx, openID)
	if err != nil {
		return cached{}, err
	}
	m.remember(a, rev)
	return m.cachedOf(a, rev), nil
}

// App returns the app-level (client_credentials) token source of the only
// app. With several apps its Token fails with an *InvalidError: an
// app-level call names its app (AppSource).
func (m *Manager) App() platform.TokenSource {
	app, err := m.app("")
	if err != nil {
		return platform.TokenSourceFunc(func(context.Context) (string, error) { return "", err })
	}
	return appSource{m: m, app: app}
}

// AppSource returns the app-level token source of the app key ("" = the
// only app).
func (m *Manager) AppSource(key string) (platform.TokenSource, error) {
	app, err := m.app(key)
	if err != nil {
		return nil, err
	}
	return appSource{m: m, app: app}, nil
}

// appRefreshTimeout bounds one refresh of an app-level token (a store read,
// the client_credentials call with its retries, a store write).
const appRefreshTimeout = 30 * time.Second

type appSource struct {
	m   *Manager
	app App
}

// AppKey names the source's app (the platform client of that app sends
// its calls).
func (s appSource) AppKey() string { return s.app.Key }

func (s appSource) Token(ctx context.Context) (string, error) {
	m := s.m
	m.mu.Lock()
	c := m.appTokens[s.app.Key]
	m.mu.Unlock()
	if c.access != "" && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(c.expiry) {
		return c.access, nil
	}
	// As for a shop, the refresh runs on its own deadline, detached from the
	// caller that started it: one caller leaving must not fail the others
	// waiting for the same refresh. Each caller waits only as long as its
	// own context allows.
	ch := m.flight.DoChan("\x00app\x00"+s.app.Key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appRefreshTimeout)
		defer cancel()
		return m.refreshApp(ctx, s.app)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if res.Err != nil {
		return "", res.Err
	}
	c = res.Val.(cached)
	m.mu.Lock()
	m.appTokens[s.app.Key] = c
	m.mu.Unlock()
	return c.access, nil
}

func (s appSource) Invalidate(_ context.Context, rejected string) error {
	m := s.m
	m.mu.Lock()
	if m.appTokens[s.app.Key].access == rejected {
		delete(m.appTokens, s.app.Key)
	}
	m.appBad[s.app.Key] = rejected
	m.mu.Unlock()
	return nil
}

// refreshApp returns the stored app token if it is still good (another
// replica may have refreshed it), or obtains and stores a new one.
func (m *Manager) refreshApp(ctx context.Context, app App) (cached, error) {
	m.mu.Lock()
	bad := m.appBad[app.Key]
	m.mu.Unlock()
	if a, _, err := m.cfg.Store.GetApp(ctx, app.Key); err == nil && a.AccessToken != bad && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(a.AccessExpiry) {
		return cached{access: a.AccessToken, expiry: a.AccessExpiry}, nil
	}
	tok, err := app.OAuth.ClientCredentials(ctx)
	if err != nil {
		return cached{}, err
	}
	now := m.cfg.Now()
	if _, err := m.cfg.Store.PutApp(ctx, store.Authorization{
		OpenID: "", AppKey: app.Key, Status: store.StatusActive, AccessToken: tok.AccessToken,
		AccessExpiry: tok.Expiry, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		return cached{}, err
	}
	return cached{access: tok.AccessToken, expiry: tok.Expiry}, nil
}
