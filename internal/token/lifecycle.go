package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Run keeps every authorization alive until ctx ends: it follows store
// changes made by any replica (so caches never serve a replaced or revoked
// token), refreshes access tokens ahead of expiry (keep-alive, one replica
// per shop thanks to the lease), marks expired refresh tokens, and warns
// before a refresh token expires or a test user's authorization is cut off.
func (m *Manager) Run(ctx context.Context) error {
	w, err := m.cfg.Store.KeyValue().Watch(ctx, store.ShopPrefix+"*", jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("token: watch store: %w", err)
	}
	defer func() { _ = w.Stop() }()
	tick := time.NewTicker(m.cfg.ScanInterval)
	defer tick.Stop()
	m.Scan(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			m.follow(e)
		case <-tick.C:
			m.Scan(ctx)
		}
	}
}

// follow applies a store change to the cache.
func (m *Manager) follow(e jetstream.KeyValueEntry) {
	if e == nil {
		return
	}
	openID := e.Key()[len(store.ShopPrefix):]
	if e.Operation() != jetstream.KeyValuePut {
		m.mu.Lock()
		delete(m.cache, openID)
		m.mu.Unlock()
		return
	}
	a, err := m.cfg.Store.Decode(e)
	if err != nil {
		m.cfg.Log.Warn("token: decode store change", "open_id", openID, "err", err)
		return
	}
	m.remember(a, e.Revision())
}

// Scan does one pass of the background work over every stored shop.
func (m *Manager) Scan(ctx context.Context) {
	all, err := m.cfg.Store.ListMetadata(ctx)
	if err != nil {
		m.cfg.Log.Warn("token: scan", "err", err)
		return
	}
	now := m.cfg.Now()
	for _, a := range all {
		if _, err := m.appOf(a); blocked(a.Status) || err != nil {
			continue // nothing to do, or an app this gateway does not serve
		}
		if !a.RefreshExpiry.IsZero() && !now.Before(a.RefreshExpiry) {
			m.markDead(ctx, a.OpenID, store.StatusExpired, EventExpired, "the refresh token expired")
			continue
		}
		if !now.Add(m.cfg.RefreshBefore).Before(a.AccessExpiry) && a.Status == store.StatusActive {
			if _, err := m.refresh(ctx, a.OpenID, "", false); err != nil {
				m.cfg.Log.Warn("token: proactive refresh", "open_id", a.OpenID, "err", err)
			}
		}
		if !a.RefreshExpiry.IsZero() && now.Add(m.cfg.ExpiryWarning).After(a.RefreshExpiry) {
			m.warnOnce(EventExpiringSoon, a, fmt.Sprintf("the refresh token expires at %s; the merchant must authorize again", a.RefreshExpiry.UTC().Format(time.RFC3339)))
		}
		if a.TestUser {
			cutoff := a.CreatedAt.Add(m.cfg.TestUserCutoff)
			if now.Add(m.cfg.TestUserWarning).After(cutoff) {
				m.warnOnce(EventTestUserCutoff, a, fmt.Sprintf("the platform cancels this test user's authorization at %s", cutoff.UTC().Format(time.RFC3339)))
			}
		}
	}
}

// warnOnce publishes a warning at most once a day per shop and kind (per
// replica: warnings are advisory, transitions are exactly-once).
func (m *Manager) warnOnce(t EventType, a store.Authorization, msg string) {
	key := string(t) + "\x00" + a.OpenID
	now := m.cfg.Now()
	m.mu.Lock()
	last, ok := m.warned[key]
	if ok && now.Sub(last) < 24*time.Hour {
		m.mu.Unlock()
		return
	}
	m.warned[key] = now
	m.mu.Unlock()
	m.cfg.Log.Warn("token: "+string(t), "open_id", a.OpenID, "message", msg)
	m.events.publish(Event{Type: t, OpenID: a.OpenID, Time: now, Authorization: &a, Message: msg})
}

// Delete forgets a shop's authorization.
func (m *Manager) Delete(ctx context.Context, openID string) error {
	if _, _, err := m.cfg.Store.Get(ctx, openID); err != nil {
		return err
	}
	if err := m.cfg.Store.Delete(ctx, openID); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.cache, openID)
	m.mu.Unlock()
	m.events.publish(Event{Type: EventDeleted, OpenID: openID, Time: m.cfg.Now()})
	return nil
}

// Errors of the authorization flow.
var (
	ErrStateInvalid = errors.New("token: the authorization link is unknown or was already used; start again")
	ErrStateExpired = errors.New("token: the authorization link expired (10 minutes); start again")
	errNoFlow       = errors.New("token: the OAuth flow is not configured")
)

// Started is a consent URL to send a merchant to.
type Started struct {
	URL, State string
	Expiry     time.Time
}

// Start issues a single-use state bound to scopes and returnURL and builds
// the platform consent URL around it. The input is checked first (scope
// names and count, the return URL's scheme and host, the open_id): a refused
// start is an *InvalidError and stores nothing. A full state store answers
// store.ErrStateStoreFull. The consent is for the only app (StartApp
// names one).
func (m *Manager) Start(ctx context.Context, scopes []string, returnURL, openID string) (Started, error) {
	return m.StartApp(ctx, "", scopes, returnURL, openID)
}

// StartApp is Start for the app appKey: "" is the app of the known shop
// openID names (a re-authorization), else the only app; with several apps
// and none of those, the start is refused (*InvalidError on app_key). The
// state remembers the app, and the consent URL carries its key and
// callback.
func (m *Manager) StartApp(ctx context.Context, appKey string, scopes []string, returnURL, openID string) (Started, error) {
	if m.cfg.States == nil || m.cfg.AuthorizeURL == "" {
		return Started{}, errNoFlow
	}
	returnURL, err := m.checkStart(scopes, returnURL, openID)
	if err != nil {
		return Started{}, err
	}
	if openID != "" && len(m.apps) > 1 {
		if c, err := m.lookup(ctx, openID); err == nil {
			if appKey != "" && appKey != c.app {
				return Started{}, &InvalidError{Violations: []Violation{{"app_key", "the shop open_id names authorized another app"}}}
			}
			appKey = c.app
		}
	}
	app, err := m.app(appKey)
	if err != nil {
		return Started{}, err
	}
	exp := m.cfg.Now().Add(m.cfg.StateTTL)
	state, err := m.cfg.States.Issue(ctx, store.OAuthState{Scopes: scopes, ReturnURL: returnURL, OpenID: openID, AppKey: app.Key, Expiry: exp})
	if err != nil {
		return Started{}, err
	}
	u, err := oauth.AuthorizeURL(m.cfg.AuthorizeURL, app.Key, app.RedirectURI, scopes, state)
	if err != nil {
		return Started{}, err
	}
	return Started{URL: u, State: state, Expiry: exp}, nil
}

// Complete consumes the state (refusing forged, replayed and expired ones
// before any code exchange), then exchanges the code and stores the shop
// with source store.SourceOAuthFlow. It returns the state's return URL too,
// if it is still one the merchant may be sent to (a state stored by an older
// version or before the allowed hosts changed is checked again; ""
// otherwise). A code that is not one (CheckCode) is an *InvalidError and
// leaves the state unused. When the exchange answers 100200101 (service not
// ordered) for a state issued to re-authorize a known shop, that shop moves
// to store.StatusSubscriptionExpired. The code is exchanged with the app
// the state was issued for.
func (m *Manager) Complete(ctx context.Context, code, state string) (store.Authorization, string, error) {
	return m.CompleteApp(ctx, "", code, state)
}

// CompleteApp is Complete where the code came back for the app appKey (its
// own callback, or a caller that names it; "" = not named): a state issued
// for another app is refused as invalid (ErrStateInvalid) before any
// exchange.
func (m *Manager) CompleteApp(ctx context.Context, appKey, code, state string) (store.Authorization, string, error) {
	if m.cfg.States == nil {
		return store.Authorization{}, "", errNoFlow
	}
	if vs := CheckCode(code); len(vs) > 0 {
		return store.Authorization{}, "", &InvalidError{Violations: vs}
	}
	s, err := m.cfg.States.Consume(ctx, state, m.cfg.Now())
	if s.ReturnURL != "" {
		ret, vs := m.checkReturnURL(s.ReturnURL)
		if len(vs) > 0 {
			m.cfg.Log.WarnContext(ctx, "token: stored return URL no longer allowed; showing the result page instead", "reason", vs[0].Reason)
		}
		s.ReturnURL = ret
	}
	switch {
	case errors.Is(err, store.ErrStateExpired):
		return store.Authorization{}, s.ReturnURL, ErrStateExpired
	case errors.Is(err, store.ErrStateUnknown):
		return store.Authorization{}, "", ErrStateInvalid
	case err != nil:
		return store.Authorization{}, "", err
	}
	stateApp := s.AppKey
	switch {
	case stateApp == "": // a state stored before states named their app
		stateApp = appKey
	case appKey != "" && appKey != stateApp:
		m.cfg.Log.InfoContext(ctx, "token: a state of another app came back; refused", "app_key", appKey, "state_app_key", stateApp)
		return store.Authorization{}, "", ErrStateInvalid
	}
	a, err := m.AuthorizeApp(ctx, stateApp, code, store.SourceOAuthFlow, false)
	if err != nil && s.OpenID != "" && platform.IsClass(err, platform.ClassSubscription) {
		m.subscriptionEnded(ctx, s.OpenID)
	}
	return a, s.ReturnURL, err
}

// Accept exchanges a code the platform issued without a gateway state and
// stores the shop: source is store.SourceServiceMarket (the service market's
// "use service" redirect reached the callback) or store.SourceConsole (an
// admin completes a code the developer console issued). Who may do that is
// the caller's decision (the callback's RequireState, the admin group of
// CompleteAuthorization). A code that is not one (CheckCode) is an
// *InvalidError and reaches no platform endpoint. The code is the only
// app's (AcceptApp names one).
func (m *Manager) Accept(ctx context.Context, code, source string) (store.Authorization, error) {
	return m.AcceptApp(ctx, "", code, source)
}

// AcceptApp is Accept for a code the platform issued to the app appKey
// ("" = the only app).
func (m *Manager) AcceptApp(ctx context.Context, appKey, code, source string) (store.Authorization, error) {
	if source != store.SourceServiceMarket && source != store.SourceConsole {
		return store.Authorization{}, fmt.Errorf("token: accept: source %q is not a platform-issued code's", source)
	}
	if vs := CheckCode(code); len(vs) > 0 {
		return store.Authorization{}, &InvalidError{Violations: vs}
	}
	return m.AuthorizeApp(ctx, appKey, code, source, false)
}

// subscriptionEnded moves a known shop to store.StatusSubscriptionExpired
// (once, with an event) after a code exchange for it answered 100200101.
func (m *Manager) subscriptionEnded(ctx context.Context, openID string) {
	if _, _, err := m.cfg.Store.Get(ctx, openID); err != nil {
		return // not a shop the gateway knows: nothing to record
	}
	m.markDead(ctx, openID, store.StatusSubscriptionExpired, EventSubscriptionExpired,
		"the code exchange answered 100200101 (service not ordered): "+SubscriptionAction)
}
