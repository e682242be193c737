package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
		if dead(a.Status) {
			continue
		}
		if !a.RefreshExpiry.IsZero() && !now.Before(a.RefreshExpiry) {
			m.markDead(ctx, a.OpenID, store.StatusExpired, EventExpired, "the refresh token expired")
			continue
		}
		if !now.Add(m.cfg.RefreshBefore).Before(a.AccessExpiry) && a.Status == store.StatusActive {
			if _, err := m.refresh(ctx, a.OpenID, ""); err != nil {
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
// store.ErrStateStoreFull.
func (m *Manager) Start(ctx context.Context, scopes []string, returnURL, openID string) (Started, error) {
	if m.cfg.States == nil || m.cfg.AuthorizeURL == "" {
		return Started{}, errNoFlow
	}
	returnURL, err := m.checkStart(scopes, returnURL, openID)
	if err != nil {
		return Started{}, err
	}
	exp := m.cfg.Now().Add(m.cfg.StateTTL)
	state, err := m.cfg.States.Issue(ctx, store.OAuthState{Scopes: scopes, ReturnURL: returnURL, OpenID: openID, Expiry: exp})
	if err != nil {
		return Started{}, err
	}
	u, err := oauth.AuthorizeURL(m.cfg.AuthorizeURL, m.cfg.AppKey, m.cfg.RedirectURI, scopes, state)
	if err != nil {
		return Started{}, err
	}
	return Started{URL: u, State: state, Expiry: exp}, nil
}

// Complete consumes the state (refusing forged, replayed and expired ones
// before any code exchange), then exchanges the code and stores the shop.
// It returns the state's return URL too, if it is still one the merchant may
// be sent to (a state stored by an older version or before the allowed
// hosts changed is checked again; "" otherwise).
func (m *Manager) Complete(ctx context.Context, code, state string) (store.Authorization, string, error) {
	if m.cfg.States == nil {
		return store.Authorization{}, "", errNoFlow
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
	a, err := m.Authorize(ctx, code, false)
	return a, s.ReturnURL, err
}
