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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
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

// Config configures a Manager: of one app (AppKey, OAuth, RedirectURI,
// TestApp) or of several (Apps).
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
	// Caller is the upstream client the Manager asks open.user.seller.get
	// with a test user's token after it authorizes, to learn its seller id
	// (a main account and its sub-accounts share it: one test user,
	// TestUser). nil: never asked, every shop is its own test user.
	Caller Caller
	// Apps are the apps whose shops the Manager keeps, when there are
	// several (then AppKey, OAuth, RedirectURI and TestApp are unused). An
	// authorization belongs to the app it was granted to; its refreshes use
	// that app's OAuth endpoints.
	Apps []App
}

// Validate reports every violation.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range c.apps() {
		if a.Key == "" {
			errs = append(errs, fmt.Errorf("token: app %d: AppKey is required", i+1))
		}
		if a.OAuth == nil {
			errs = append(errs, fmt.Errorf("token: app %d: OAuth is required", i+1))
		}
		if seen[a.Key] {
			errs = append(errs, fmt.Errorf("token: app %s listed twice", a.Key))
		}
		seen[a.Key] = true
	}
	if c.Store == nil {
		errs = append(errs, errors.New("token: Store is required"))
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
	apps        []App // the first is the app of records without an app key
	flight      singleflight.Group
	returnHosts []hostRule // where a return URL may point

	events *events

	mu        sync.Mutex
	cache     map[string]cached    // openID → last known access token and status
	appTokens map[string]cached    // app key → app-level token
	appBad    map[string]string    // app key → app token the platform rejected
	warned    map[string]time.Time // warning key → when given (once per day)
	// sellerBusy and sellerNext: a seller-id lookup of the shop is
	// running; the next lookup after a failure waits until then.
	sellerBusy map[string]bool
	sellerNext map[string]time.Time
}

type cached struct {
	access string
	expiry time.Time
	status string
	scopes []string
	app    string // the app key ("" for a record stored before apps were told apart)
	seller int64  // the seller id, 0 = not learnt yet
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
	apps := cfg.apps()
	redirects := make([]string, 0, len(apps))
	for _, a := range apps {
		redirects = append(redirects, a.RedirectURI)
	}
	hosts, err := returnHostRules(cfg.ReturnHosts, redirects)
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, apps: apps, returnHosts: hosts, cache: map[string]cached{}, appTokens: map[string]cached{}, appBad: map[string]string{},
		events: &events{nc: cfg.Conn, log: cfg.Log}, warned: map[string]time.Time{}, sellerBusy: map[string]bool{}, sellerNext: map[string]time.Time{}}, nil
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

// SubscriptionError is returned for a shop whose service-market order of the
// app is missing or ended (the platform answered 100200101 to a refresh or
// code exchange): calls fail fast, without reaching the platform, until the
// merchant renews the order and authorizes again (the service market's
// "use service" redirect does it; ReauthorizeURL too, once renewed).
type SubscriptionError struct {
	OpenID         string
	ReauthorizeURL string // "" without Config.ReauthorizeURL
}

// SubscriptionAction tells a merchant what to do about an ended order.
const SubscriptionAction = "renew the app's order in the Kuaishou service market (服务市场), then press 使用服务 (use service) to authorize the app again"

func (e *SubscriptionError) Error() string {
	return "token: shop " + e.OpenID + " has no active service-market order of the app (platform result 100200101); the merchant must " + SubscriptionAction
}

// blocked reports whether calls for a shop in this status fail fast.
func blocked(status string) bool {
	return status == store.StatusRevoked || status == store.StatusExpired || status == store.StatusSubscriptionExpired
}

// blockedError is the fail-fast error of a shop in a blocked status.
func (m *Manager) blockedError(a store.Authorization) error {
	var url string
	if m.cfg.ReauthorizeURL != nil {
		url = m.cfg.ReauthorizeURL(a.OpenID, a.Scopes)
	}
	if a.Status == store.StatusSubscriptionExpired {
		return &SubscriptionError{OpenID: a.OpenID, ReauthorizeURL: url}
	}
	return &RevokedError{OpenID: a.OpenID, Status: a.Status, ReauthorizeURL: url}
}

// ScopeError is a call the platform refused because the shop's token lacks
// the API's permission group (result 22). Missing names the group when it is
// known (platform.MissingScope) and then ReauthorizeURL asks the merchant for
// the granted groups plus the missing one. It wraps the platform's error.
type ScopeError struct {
	OpenID         string
	Missing        string   // "" if unknown or already granted
	Granted        []string // the groups the shop granted
	ReauthorizeURL string   // "" unless Missing is known and Config.ReauthorizeURL is set
	Err            *platform.Error
}

func (e *ScopeError) Error() string {
	if e.Missing == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + " (the merchant has not granted " + e.Missing + ")"
}

// Unwrap returns the platform's error.
func (e *ScopeError) Unwrap() error { return e.Err }

// exchangeTimeout bounds one code exchange and the write of its tokens.
const exchangeTimeout = 30 * time.Second

// Authorize exchanges an authorization code and stores the shop's tokens,
// replacing any earlier authorization of the same shop in one write: calls
// use the old tokens until that write and the new ones after it (an
// upgrade of scopes has no gap). source is a store.Source* value.
//
// The exchange runs on its own deadline, detached from ctx: the code is
// single use, so once sent its tokens must be stored even if the caller
// leaves. Concurrent exchanges of the same code (a double click on the
// callback) share one platform call and its result. The code is the only
// app's; AuthorizeApp names the app.
func (m *Manager) Authorize(ctx context.Context, code, source string, testUser bool) (store.Authorization, error) {
	return m.AuthorizeApp(ctx, "", code, source, testUser)
}

// AuthorizeApp is Authorize with a code of the app appKey ("" = the only
// app): the app's OAuth endpoints exchange it and the authorization
// belongs to the app.
func (m *Manager) AuthorizeApp(ctx context.Context, appKey, code, source string, testUser bool) (store.Authorization, error) {
	app, err := m.app(appKey)
	if err != nil {
		return store.Authorization{}, err
	}
	sum := sha256.Sum256([]byte(code))
	ch := m.flight.DoChan("\x01code\x00"+app.Key+"\x00"+string(sum[:]), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
		defer cancel()
		return m.authorize(ctx, app, code, source, testUser)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return store.Authorization{}, res.Err
		}
		return res.Val.(store.Authorization), nil
	case <-ctx.Done():
		return store.Authorization{}, ctx.Err()
	}
}

// ErrOtherApp refuses an authorization whose open_id the store holds for
// another app: one shop record per open_id, and another app's tokens are
// never replaced.
var ErrOtherApp = errors.New("token: this open_id is stored as another app's authorization; delete that one first")

func (m *Manager) authorize(ctx context.Context, app App, code, source string, testUser bool) (store.Authorization, error) {
	tok, err := app.OAuth.Exchange(ctx, code)
	if err != nil {
		return store.Authorization{}, err
	}
	now := m.cfg.Now()
	a := store.Authorization{
		OpenID: tok.OpenID, AppKey: app.Key, Scopes: tok.Scopes, Status: store.StatusActive, Source: source, TestUser: testUser || app.TestApp,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		AccessExpiry: tok.Expiry, RefreshExpiry: tok.RefreshExpiry, CreatedAt: now, UpdatedAt: now,
	}
	if cur, _, err := m.cfg.Store.Get(ctx, tok.OpenID); err == nil {
		owner, err := m.appOf(cur)
		if len(m.apps) > 1 && (err != nil || owner.Key != app.Key) {
			return store.Authorization{}, ErrOtherApp
		}
		// The same open_id is the same merchant: its seller is kept.
		a.SellerID, a.MainOpenID = cur.SellerID, cur.MainOpenID
	}
	rev, err := m.cfg.Store.Put(ctx, a)
	if err != nil {
		return store.Authorization{}, err
	}
	m.remember(a, rev)
	// A test user's main account is learnt from the platform's documented
	// answer (open.user.seller.get's sellerId), never at the cost of the
	// authorization: a failure leaves the shop its own test user until a
	// later use or refresh learns it. Other shops have no cap to share.
	a = m.learnSellerNow(ctx, a)
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
	m.cache[a.OpenID] = m.cachedOf(a, rev)
}

// cachedOf is what the cache keeps of a record read at revision rev.
func (m *Manager) cachedOf(a store.Authorization, rev uint64) cached {
	app := a.AppKey
	if app == "" {
		app = m.apps[0].Key
	}
	return cached{access: a.AccessToken, expiry: a.AccessExpiry, status: a.Status, scopes: a.Scopes, app: app, seller: a.SellerID, rev: rev}
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
		c = m.cachedOf(a, rev)
	}
	if blocked(c.status) {
		return nil, m.blockedError(store.Authorization{OpenID: openID, Status: c.status, Scopes: c.scopes})
	}
	return &shopSource{m: m, openID: openID, app: c.app}, nil
}

func (m *Manager) usable(a store.Authorization) error {
	if blocked(a.Status) {
		return m.blockedError(a)
	}
	return nil
}

type shopSource struct {
	m      *Manager
	openID string
	app    string // the shop's app key
}

// AppKey names the shop's app (the platform client of that app sends its
// calls).
func (s *shopSource) AppKey() string { return s.app }

// Token returns a valid access token, refreshing first when it is about to
// expire.
func (s *shopSource) Token(ctx context.Context) (string, error) {
	m := s.m
	m.mu.Lock()
	c, ok := m.cache[s.openID]
	m.mu.Unlock()
	if ok && blocked(c.status) {
		return "", m.blockedError(store.Authorization{OpenID: s.openID, Status: c.status, Scopes: c.scopes})
	}
	if ok && m.cfg.Now().Add(m.cfg.RefreshBefore).Before(c.expiry) {
		return c.access, nil
	}
	a, err := m.refresh(ctx, s.openID, "", false)
	if err != nil {
		return "", err
	}
	return a.AccessToken, nil
}

// Invalidate reports that the platform rejected token; the next Token call
// returns a refreshed one (refreshing at most once per rejected token).
func (s *shopSource) Invalidate(ctx context.Context, token string) error {
	_, err := s.m.refresh(ctx, s.openID, token, false)
	return err
}

// Revoked records that the platform answered AUTHORIZATION_REVOKED (24) for
// the shop: the authorization turns revoked (an event) and later calls fail
// fast. 24 is documented as a revoked authorization; one knowledge-base
// article says an ended service-market order answers it too. The refresh
// endpoint's answer is documented for both, so it decides: the shop's tokens
// are refreshed once, and 100200101 there records the subscription status
// (refreshFailed), refreshToken.revokedAuthorization the revoked one. Any
// other outcome, a successful refresh included, leaves 24's meaning.
func (s *shopSource) Revoked(ctx context.Context) {
	m := s.m
	m.mu.Lock()
	c := m.cache[s.openID]
	m.mu.Unlock()
	if c.access != "" && !blocked(c.status) {
		_, err := m.refresh(ctx, s.openID, c.access, false)
		var rerr *RevokedError
		var serr *SubscriptionError
		if errors.As(err, &rerr) || errors.As(err, &serr) {
			return // the refresh recorded the status and its event
		}
	}
	m.markDead(ctx, s.openID, store.StatusRevoked, EventRevoked, "the platform answered AUTHORIZATION_REVOKED")
}

// ExplainPermission turns a result 22 (the token lacks the API's permission
// group) into a *ScopeError naming the missing group and the URL where the
// merchant grants it with the groups already granted.
func (s *shopSource) ExplainPermission(ctx context.Context, perr *platform.Error) error {
	m := s.m
	m.mu.Lock()
	c, ok := m.cache[s.openID]
	m.mu.Unlock()
	granted := c.scopes
	if !ok {
		if a, _, err := m.cfg.Store.Get(ctx, s.openID); err == nil {
			granted = a.Scopes
		}
	}
	e := &ScopeError{OpenID: s.openID, Granted: slices.Clone(granted), Err: perr}
	if e.Missing = platform.MissingScope(perr.Method, perr.Msg+" "+perr.SubMsg, granted); e.Missing != "" && m.cfg.ReauthorizeURL != nil {
		e.ReauthorizeURL = m.cfg.ReauthorizeURL(s.openID, append(slices.Clone(granted), e.Missing))
	}
	return e
}

// markDead moves a shop to a blocked status: revoked, expired or
// subscription_expired (once: only the replica whose CAS write makes the
// transition publishes the event).
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
// A shop in status subscription_expired is asked again: after the merchant
// renewed the order a refresh succeeds and the shop is active again.
func (m *Manager) Refresh(ctx context.Context, openID string) (store.Authorization, error) {
	a, _, err := m.cfg.Store.Get(ctx, openID)
	if err != nil {
		return store.Authorization{}, err
	}
	return m.refresh(ctx, openID, a.AccessToken, a.Status == store.StatusSubscriptionExpired)
}

// refresh makes sure the shop has a fresh access token. With failed set it
// replaces that token; otherwise it refreshes only when the stored token
// expires within RefreshBefore. recheck refreshes a shop whose status is
// subscription_expired (otherwise it fails fast like any blocked status).
func (m *Manager) refresh(ctx context.Context, openID, failed string, recheck bool) (store.Authorization, error) {
	// The refresh runs on its own deadline (it must finish and write the new
	// pair even if the caller that started it leaves); callers wait for it
	// only as long as their own context allows.
	key := openID + "\x00" + failed
	if recheck {
		key += "\x00recheck"
	}
	ch := m.flight.DoChan(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.LeaseTTL+15*time.Second)
		defer cancel()
		return m.refreshLocked(ctx, openID, failed, recheck)
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
	if v.a.TestUser && v.a.SellerID == 0 && v.a.OpenID != "" && !blocked(v.a.Status) {
		m.learnSellerSoon(v.a.OpenID, true) // an earlier try failed: the refresh tries again
	}
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

func (m *Manager) refreshLocked(ctx context.Context, openID, failed string, recheck bool) (versioned, error) {
	log := m.cfg.Log.With("open_id", openID)
	for {
		a, rev, err := m.cfg.Store.Get(ctx, openID)
		if err != nil {
			return versioned{}, err
		}
		rechecking := recheck && a.Status == store.StatusSubscriptionExpired
		if err := m.usable(a); err != nil && !rechecking {
			return versioned{}, err
		}
		if !rechecking && !m.needsRefresh(a, failed) {
			return versioned{a, rev}, nil
		}
		app, err := m.appOf(a)
		if err != nil {
			return versioned{}, err // no app to refresh it with
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
		tok, err := app.OAuth.Refresh(ctx, a.RefreshToken)
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
		if errors.Is(err, store.ErrConflict) {
			// The entry changed while we refreshed: our lease ran out, or the
			// merchant authorized again (a scope upgrade).
			var cur versioned
			cur, freshRev, err = m.keepNewest(ctx, log, fresh, a.RefreshToken)
			if err == nil && cur.rev != 0 {
				return cur, nil // a newer grant is stored: it stays
			}
		}
		if err != nil {
			return versioned{}, err
		}
		m.events.publish(Event{Type: EventRefreshed, OpenID: openID, Time: m.cfg.Now(), Authorization: &fresh})
		return versioned{fresh, freshRev}, nil
	}
}

// keepNewest settles a refresh whose CAS write lost. spent is the refresh
// token the refresh used. If the stored entry still holds it, nobody stored a
// newer pair (another replica only took the lapsed lease, or recorded a
// failure): the pair just issued is the newest and is written, with CAS
// against what is there now, so it is not lost. If the entry holds another
// refresh token, a newer grant is stored (the merchant authorized again, or
// a re-authorization replaced the shop): it is returned as cur and stays.
func (m *Manager) keepNewest(ctx context.Context, log *slog.Logger, fresh store.Authorization, spent string) (cur versioned, rev uint64, err error) {
	for range 5 {
		stored, storedRev, err := m.cfg.Store.Get(ctx, fresh.OpenID)
		if err != nil {
			return versioned{}, 0, err
		}
		if stored.RefreshToken != spent {
			log.Info("token: a newer authorization was stored during the refresh; keeping it")
			return versioned{stored, storedRev}, 0, nil
		}
		log.Warn("token: refresh lease lost; writing the new pair over the entry that still holds the spent token")
		rev, err = m.cfg.Store.Update(ctx, fresh, storedRev)
		if !errors.Is(err, store.ErrConflict) {
			return versioned{}, rev, err
		}
	}
	return versioned{}, 0, fmt.Errorf("token: refresh %s: the entry kept changing; the new pair was not stored", fresh.OpenID)
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
	was := a.Status
	var perr *platform.Error
	switch {
	case oauth.IsRevoked(cause):
		a.Status = store.StatusRevoked
	case platform.IsClass(cause, platform.ClassSubscription):
		a.Status = store.StatusSubscriptionExpired
	case errors.As(cause, &perr) && perr.Class != platform.ClassUpstream && perr.Class != platform.ClassRateLimit:
		a.Status = store.StatusRefreshFailed
	}
	switch newRev, err := m.cfg.Store.Update(ctx, a, rev); {
	case err == nil:
		m.remember(a, newRev)
	case errors.Is(err, store.ErrConflict):
		// The entry changed during the refresh. A newer grant (the
		// merchant authorized again) makes this failure moot.
		if cur, curRev, gerr := m.cfg.Store.Get(ctx, a.OpenID); gerr == nil && cur.RefreshToken != a.RefreshToken && m.usable(cur) == nil {
			return versioned{cur, curRev}, nil
		}
	default:
		log.Warn("token: could not record refresh failure", "err", err)
	}
	log.Warn("token: refresh failed", "status", a.Status, "err", cause)
	switch {
	case a.Status == store.StatusRevoked:
		m.events.publish(Event{Type: EventRevoked, OpenID: a.OpenID, Time: m.cfg.Now(), Authorization: &a, Message: "refresh answered refreshToken.revokedAuthorization"})
		return versioned{}, m.blockedError(a)
	case a.Status == store.StatusSubscriptionExpired && platform.IsClass(cause, platform.ClassSubscription):
		if was != store.StatusSubscriptionExpired { // a recheck that fails again is no new event
			m.events.publish(Event{Type: EventSubscriptionExpired, OpenID: a.OpenID, Time: m.cfg.Now(), Authorization: &a, Message: "refresh answered 100200101 (service not ordered): " + SubscriptionAction})
		}
		return versioned{}, m.blockedError(a)
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
