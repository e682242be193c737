// Package token keeps every shop's OAuth tokens usable: a cached token source
// per shop, proactive refresh ahead of expiry, a reactive refresh when the
// platform rejects a token, and rotation-safe refresh across replicas.
//
// A refresh token is single use (a refresh returns a new one and voids it), so at most
// one refresh per shop may be in flight across all replicas: an in-process
// single-flight first, then a lease written with compare-and-swap on the
// shop's KV entry. The lease holder refreshes and writes the new pair with
// CAS; other replicas watch the entry and reuse the result. A crashed holder's
// lease expires and another replica takes over. On refreshToken.discarded the
// store is re-read before anything else; a refresh is never retried blindly.
package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/singleflight"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// OAuth is the part of the platform's OAuth endpoints the manager uses
// (implemented by *oauth.Client).
type OAuth interface {
	Exchange(ctx context.Context, code string) (*oauth.Token, error)
	Refresh(ctx context.Context, refreshToken string) (*oauth.Token, error)
	ClientCredentials(ctx context.Context) (*oauth.Token, error)
}

// Config configures a Manager.
type Config struct {
	AppKey        string
	Store         *store.TokenStore
	OAuth         OAuth
	ReplicaID     string           // lease owner name; random when empty
	Now           func() time.Time // default time.Now
	RefreshBefore time.Duration    // refresh when the access token expires within this; default 30m
	LeaseTTL      time.Duration    // how long a refresh lease is held at most; default 30s
	Log           *slog.Logger

	// Conn publishes lifecycle events on NATS (EventSubject); nil = in-process only.
	Conn *nats.Conn
	// States issues and consumes OAuth states (Start/Complete).
	States *store.StateStore
	// AuthorizeURL is the platform's consent page; RedirectURI our callback.
	AuthorizeURL, RedirectURI string
	// ReturnHosts are the hosts (host or host:port; a host alone allows any
	// port) a Start's return URL may point at; none = RedirectURI's host.
	// A return URL elsewhere is refused: the callback's redirect carries the
	// shop's open_id and must not go to a site the caller picked.
	ReturnHosts []string
	// TestApp: the app is in test state, so every shop is a test user.
	TestApp bool
	// ReauthorizeURL builds the URL a merchant visits to authorize again,
	// put in errors about revoked or expired authorizations. Optional.
	ReauthorizeURL func(openID string, scopes []string) string
	// ExpiryWarning: warn this long before a refresh token expires; default 7 days.
	ExpiryWarning time.Duration
	// TestUserCutoff is the platform's test-user authorization lifetime
	// (10 days) and TestUserWarning how long before it to warn (1 day).
	TestUserCutoff, TestUserWarning time.Duration
	// ScanInterval: how often the background loop looks for tokens to
	// refresh and warnings to give; default 1 minute.
	ScanInterval time.Duration
	// StateTTL is how long an OAuth state is valid; default 10 minutes.
	StateTTL time.Duration
}

// Validate reports every violation.
func (c Config) Validate() error {
	var errs []error
	if c.AppKey == "" {
		errs = append(errs, errors.New("token: AppKey is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("token: Store is required"))
	}
	if c.OAuth == nil {
		errs = append(errs, errors.New("token: OAuth is required"))
	}
	if c.RefreshBefore < 0 || c.LeaseTTL < 0 {
		errs = append(errs, errors.New("token: durations must not be negative"))
	}
	for _, h := range c.ReturnHosts {
		if _, err := parseHostRule(h); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Manager hands out token sources and keeps them fresh.
type Manager struct {
	cfg         Config
	flight      singleflight.Group
	returnHosts []hostRule // where a return URL may point

	events *events

	mu     sync.Mutex
	cache  map[string]cached // openID → last known access token and status
	app    cached
	appBad string               // app token the platform rejected
	warned map[string]time.Time // warning key → when given (once per day)
}

type cached struct {
	access string
	expiry time.Time
	status string
	scopes []string
	rev    uint64 // store revision the entry reflects
}

// New builds a Manager.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = 30 * time.Minute
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ExpiryWarning == 0 {
		cfg.ExpiryWarning = 7 * 24 * time.Hour
	}
	if cfg.TestUserCutoff == 0 {
		cfg.TestUserCutoff = 10 * 24 * time.Hour
	}
	if cfg.TestUserWarning == 0 {
		cfg.TestUserWarning = 24 * time.Hour
	}
	if cfg.ScanInterval == 0 {
		cfg.ScanInterval = time.Minute
	}
	if cfg.StateTTL == 0 {
		cfg.StateTTL = 10 * time.Minute
	}
	if cfg.ReplicaID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		host, _ := os.Hostname()
		if host == "" {
			host = "replica"
		}
		cfg.ReplicaID = host + "-" + hex.EncodeToString(b[:])
	}
	hosts, err := returnHostRules(cfg.ReturnHosts, cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, returnHosts: hosts, cache: map[string]cached{}, events: &events{nc: cfg.Conn, log: cfg.Log}, warned: map[string]time.Time{}}, nil
}

// RevokedError is returned for a shop whose authorization is revoked or
// expired: calls fail fast, without reaching the platform, until the merchant
// authorizes again at ReauthorizeURL.
type RevokedError struct {
	OpenID         string
	Status         string // store.StatusRevoked or store.StatusExpired
	ReauthorizeURL string
}

func (e *RevokedError) Error() string {
	return "token: authorization of shop " + e.OpenID + " is " + e.Status + "; the merchant must authorize again"
}

func (m *Manager) revokedError(a store.Authorization) error {
	e := &RevokedError{OpenID: a.OpenID, Status: a.Status}
	if m.cfg.ReauthorizeURL != nil {
		e.ReauthorizeURL = m.cfg.ReauthorizeURL(a.OpenID, a.Scopes)
	}
	return e
}

// Authorize exchanges an authorization code and stores the shop's tokens,
// replacing any earlier authorization of the same shop.
func (m *Manager) Authorize(ctx context.Context, code string, testUser bool) (store.Authorization, error) {
	tok, err := m.cfg.OAuth.Exchange(ctx, code)
	if err != nil {
		return store.Authorization{}, err
	}
	now := m.cfg.Now()
	a := store.Authorization{
		OpenID: tok.OpenID, AppKey: m.cfg.AppKey, Scopes: tok.Scopes, Status: store.StatusActive, TestUser: testUser || m.cfg.TestApp,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		AccessExpiry: tok.Expiry, RefreshExpiry: tok.RefreshExpiry, CreatedAt: now, UpdatedAt: now,
	}
	rev, err := m.cfg.Store.Put(ctx, a)
	if err != nil {
		return store.Authorization{}, err
	}
	m.remember(a, rev)
	m.events.publish(Event{Type: EventAuthorized, OpenID: a.OpenID, Time: now, Authorization: &a})
	return a, nil
}

// remember caches a record read or written at store revision rev. The cache
// only moves forward: a late store-watch delivery of an older revision never
// replaces a newer token.
func (m *Manager) remember(a store.Authorization, rev uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[a.OpenID]; ok && c.rev > rev {
		return
	}
	m.cache[a.OpenID] = cached{access: a.AccessToken, expiry: a.AccessExpiry, status: a.Status, scopes: a.Scopes, rev: rev}
}

// Shop returns the token source of an authorized shop. It fails with an
// error wrapping store.ErrNotFound for an unknown shop.
func (m *Manager) Shop(ctx context.Context, openID string) (platform.TokenSource, error) {
	m.mu.Lock()
	c, ok := m.cache[openID]
	m.mu.Unlock()
	if !ok {
		a, rev, err := m.cfg.Store.Get(ctx, openID)
		if err != nil {
			return nil, err
		}
		m.remember(a, rev)
		c = cached{status: a.Status, scopes: a.Scopes}
	}
	if dead(c.status) {
		return nil, m.revokedError(store.Authorization{OpenID: openID, Status: c.status, Scopes: c.scopes})
	}
	return &shopSource{m: m, openID: openID}, nil
}

func dead(status string) bool { return status == store.StatusRevoked || status == store.StatusExpired }

func (m *Manager) usable(a store.Authorization) error {
	if dead(a.Status) {
		return m.revokedError(a)
	}
	return nil
}

type shopSource struct {
	m      *Manager
	openID string
}

// Token returns a valid access token, refreshing first when it is about to
// expire.
func (s *shopSource) Token(ctx context.Context) (string, error) {
	m := s.m
	m.mu.Lock()
	c, ok := m.cache[s.openID]
	m.mu.Unlock()
	if ok && dead(c.status) {
		return "", m.revokedError(store.Authorization{OpenID: s.openID, Status: c.status, Scopes: c.scopes})
	}
	if ok && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(c.expiry) {
		return c.access, nil
	}
	a, err := m.refresh(ctx, s.openID, "")
	if err != nil {
		return "", err
	}
	return a.AccessToken, nil
}

// Invalidate reports that the platform rejected token; the next Token call
// returns a refreshed one (refreshing at most once per rejected token).
func (s *shopSource) Invalidate(ctx context.Context, token string) error {
	_, err := s.m.refresh(ctx, s.openID, token)
	return err
}

// Revoked records that the platform answered AUTHORIZATION_REVOKED for the
// shop: the authorization turns revoked (an event) and later calls fail fast.
func (s *shopSource) Revoked(ctx context.Context) {
	s.m.markDead(ctx, s.openID, store.StatusRevoked, EventRevoked, "the platform answered AUTHORIZATION_REVOKED")
}

// markDead moves a shop to revoked or expired (once: only the replica whose
// CAS write makes the transition publishes the event).
func (m *Manager) markDead(ctx context.Context, openID, status string, ev EventType, msg string) {
	for range 5 {
		a, rev, err := m.cfg.Store.Get(ctx, openID)
		if err != nil {
			return
		}
		if a.Status == status {
			m.remember(a, rev)
			return
		}
		a.Status, a.LeaseOwner, a.LeaseExpiry = status, "", time.Time{}
		newRev, err := m.cfg.Store.Update(ctx, a, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			m.cfg.Log.Warn("token: record status", "open_id", openID, "err", err)
			return
		}
		m.remember(a, newRev)
		m.events.publish(Event{Type: ev, OpenID: openID, Time: m.cfg.Now(), Authorization: &a, Message: msg})
		return
	}
}

// Refresh refreshes a shop's tokens now (unless another replica just did).
func (m *Manager) Refresh(ctx context.Context, openID string) (store.Authorization, error) {
	a, _, err := m.cfg.Store.Get(ctx, openID)
	if err != nil {
		return store.Authorization{}, err
	}
	return m.refresh(ctx, openID, a.AccessToken)
}

// refresh makes sure the shop has a fresh access token. With failed set it
// replaces that token; otherwise it refreshes only when the stored token
// expires within RefreshBefore.
func (m *Manager) refresh(ctx context.Context, openID, failed string) (store.Authorization, error) {
	// The refresh runs on its own deadline (it must finish and write the new
	// pair even if the caller that started it leaves); callers wait for it
	// only as long as their own context allows.
	ch := m.flight.DoChan(openID+"\x00"+failed, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.LeaseTTL+15*time.Second)
		defer cancel()
		return m.refreshLocked(ctx, openID, failed)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return store.Authorization{}, ctx.Err()
	}
	if res.Err != nil {
		return store.Authorization{}, res.Err
	}
	v := res.Val.(versioned)
	m.remember(v.a, v.rev)
	return v.a, nil
}

func (m *Manager) needsRefresh(a store.Authorization, failed string) bool {
	if failed != "" {
		return a.AccessToken == failed
	}
	return !m.cfg.Now().Add(m.cfg.RefreshBefore).Before(a.AccessExpiry)
}

// versioned is a record with the store revision it was read or written at.
type versioned struct {
	a   store.Authorization
	rev uint64
}

func (m *Manager) refreshLocked(ctx context.Context, openID, failed string) (versioned, error) {
	log := m.cfg.Log.With("open_id", openID)
	for {
		a, rev, err := m.cfg.Store.Get(ctx, openID)
		if err != nil {
			return versioned{}, err
		}
		if err := m.usable(a); err != nil {
			return versioned{}, err
		}
		if !m.needsRefresh(a, failed) {
			return versioned{a, rev}, nil
		}
		now := m.cfg.Now()
		if a.LeaseOwner != "" && a.LeaseOwner != m.cfg.ReplicaID && now.Before(a.LeaseExpiry) {
			if err := m.waitForChange(ctx, openID, rev, a.LeaseExpiry.Sub(now)); err != nil {
				return versioned{}, err
			}
			continue
		}
		leased := a
		leased.LeaseOwner, leased.LeaseExpiry = m.cfg.ReplicaID, now.Add(m.cfg.LeaseTTL)
		leaseRev, err := m.cfg.Store.Update(ctx, leased, rev)
		if errors.Is(err, store.ErrConflict) {
			continue // someone else changed the entry first; look again
		}
		if err != nil {
			return versioned{}, err
		}
		tok, err := m.cfg.OAuth.Refresh(ctx, a.RefreshToken)
		if err != nil {
			return m.refreshFailed(ctx, log, leased, leaseRev, err)
		}
		fresh := leased
		fresh.AccessToken, fresh.RefreshToken = tok.AccessToken, tok.RefreshToken
		fresh.AccessExpiry = tok.Expiry
		if !tok.RefreshExpiry.IsZero() {
			fresh.RefreshExpiry = tok.RefreshExpiry
		}
		if len(tok.Scopes) > 0 {
			fresh.Scopes = tok.Scopes
		}
		fresh.Status, fresh.LastRefresh, fresh.UpdatedAt = store.StatusActive, m.cfg.Now(), m.cfg.Now()
		fresh.LeaseOwner, fresh.LeaseExpiry = "", time.Time{}
		freshRev, err := m.cfg.Store.Update(ctx, fresh, leaseRev)
		if err != nil {
			// Our lease ran out and the entry changed meanwhile. The pair we
			// hold was just issued by the platform and is the newest one, so
			// it must not be lost: write it unconditionally.
			log.Warn("token: refresh lease lost; writing the new pair unconditionally", "err", err)
			if freshRev, err = m.cfg.Store.Put(ctx, fresh); err != nil {
				return versioned{}, err
			}
		}
		m.events.publish(Event{Type: EventRefreshed, OpenID: openID, Time: m.cfg.Now(), Authorization: &fresh})
		return versioned{fresh, freshRev}, nil
	}
}

// refreshFailed records a failed refresh. It never retries the refresh.
func (m *Manager) refreshFailed(ctx context.Context, log *slog.Logger, a store.Authorization, rev uint64, cause error) (versioned, error) {
	if oauth.IsDiscarded(cause) {
		// Another replica (or a crashed lease holder) may have rotated the
		// token: the store decides.
		cur, curRev, err := m.cfg.Store.Get(ctx, a.OpenID)
		if err == nil && cur.RefreshToken != a.RefreshToken {
			return versioned{cur, curRev}, nil
		}
	}
	a.LeaseOwner, a.LeaseExpiry, a.UpdatedAt = "", time.Time{}, m.cfg.Now()
	var perr *platform.Error
	switch {
	case oauth.IsRevoked(cause):
		a.Status = store.StatusRevoked
	case errors.As(cause, &perr) && perr.Class != platform.ClassUpstream && perr.Class != platform.ClassRateLimit:
		a.Status = store.StatusRefreshFailed
	}
	if newRev, err := m.cfg.Store.Update(ctx, a, rev); err == nil {
		m.remember(a, newRev)
	} else if !errors.Is(err, store.ErrConflict) {
		log.Warn("token: could not record refresh failure", "err", err)
	}
	log.Warn("token: refresh failed", "status", a.Status, "err", cause)
	if a.Status == store.StatusRevoked {
		m.events.publish(Event{Type: EventRevoked, OpenID: a.OpenID, Time: m.cfg.Now(), Authorization: &a, Message: "refresh answered refreshToken.revokedAuthorization"})
		return versioned{}, m.revokedError(a)
	}
	m.events.publish(Event{Type: EventRefreshFailed, OpenID: a.OpenID, Time: m.cfg.Now(), Authorization: &a, Message: failureText(cause)})
	return versioned{}, fmt.Errorf("token: refresh %s: %w", a.OpenID, cause)
}

// waitForChange blocks until the shop's entry changes past rev or d passes.
func (m *Manager) waitForChange(ctx context.Context, openID string, rev uint64, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	w, err := m.cfg.Store.Watch(ctx, openID)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil // lease expired: look again, maybe take over
			}
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e != nil && e.Revision() > rev {
				return nil
			}
		}
	}
}

// App returns the app-level (client_credentials) token source.
func (m *Manager) App() platform.TokenSource { return appSource{m} }

type appSource struct{ m *Manager }

func (s appSource) Token(ctx context.Context) (string, error) {
	m := s.m
	m.mu.Lock()
	c := m.app
	m.mu.Unlock()
	if c.access != "" && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(c.expiry) {
		return c.access, nil
	}
	// As for a shop, the refresh runs on its own deadline, detached from the
	// caller that started it: one caller leaving must not fail the others
	// waiting for the same refresh. Each caller waits only as long as its
	// own context allows.
	ch := m.flight.DoChan("\x00app", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appRefreshTimeout)
		defer cancel()
		return m.refreshApp(ctx)
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
	m.app = c
	m.mu.Unlock()
	return c.access, nil
}

// appRefreshTimeout bounds one refresh of the app-level token (a store read,
// the client_credentials call with its retries, a store write).
const appRefreshTimeout = 30 * time.Second

// refreshApp returns the stored app token if it is still good (another
// replica may have refreshed it), or obtains and stores a new one.
func (m *Manager) refreshApp(ctx context.Context) (cached, error) {
	m.mu.Lock()
	bad := m.appBad
	m.mu.Unlock()
	if a, _, err := m.cfg.Store.GetApp(ctx, m.cfg.AppKey); err == nil && a.AccessToken != bad && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(a.AccessExpiry) {
		return cached{access: a.AccessToken, expiry: a.AccessExpiry}, nil
	}
	tok, err := m.cfg.OAuth.ClientCredentials(ctx)
	if err != nil {
		return cached{}, err
	}
	now := m.cfg.Now()
	if _, err := m.cfg.Store.PutApp(ctx, store.Authorization{
		OpenID: "", AppKey: m.cfg.AppKey, Status: store.StatusActive, AccessToken: tok.AccessToken,
		AccessExpiry: tok.Expiry, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		return cached{}, err
	}
	return cached{access: tok.AccessToken, expiry: tok.Expiry}, nil
}

func (s appSource) Invalidate(_ context.Context, rejected string) error {
	s.m.mu.Lock()
	if s.m.app.access == rejected {
		s.m.app = cached{}
	}
	s.m.appBad = rejected
	s.m.mu.Unlock()
	return nil
}

// failureText describes a refresh failure without any token.
func failureText(err error) string {
	var pe *platform.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("refresh failed: result %d %s", pe.Result, pe.Msg)
	}
	return "refresh failed: platform unreachable"
}

// Store returns the token store the manager keeps.
func (m *Manager) Store() *store.TokenStore { return m.cfg.Store }
