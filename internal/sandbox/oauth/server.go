// Package oauth provides the platform's authorization: the merchant consent
// page, authorization codes, the token endpoints (code exchange,
// client_credentials, refresh-token rotation) and the authorizations
// (grants) the API gateway checks tokens against and the pusher checks
// messages against.
package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// Users is the directory of test users the server authorizes (shop.Shops).
type Users interface {
	TestUsers() []shop.TestUser
	TestUser(id int) (shop.TestUser, bool)
	Find(id int, openID string) (shop.TestUser, bool)
}

// Options are the server's lifetimes (defaults filled in by the caller).
type Options struct {
	// RefreshGrace is how long a rotated refresh token keeps working
	// (negative: none).
	RefreshGrace time.Duration
	// TestAuthorizationTTL is when an authorization granted in test state is
	// cancelled (negative: never).
	TestAuthorizationTTL time.Duration
}

// Server holds the codes, tokens and grants of one app and serves the
// consent page and the token endpoints. It is safe for concurrent use; it
// takes the users', the app's, the counters' and the injector's locks only
// outside its own or as leaves, so an Emitter running under the shops' lock
// may call Live.
type Server struct {
	app          *app.App
	users        Users
	clock        *clock.Clock
	log          *slog.Logger
	counters     *counters.Set
	faults       *faults.Injector
	refreshGrace time.Duration
	testAuthTTL  time.Duration

	mu      sync.Mutex // guards everything below
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	grants  []*grant
}

// New returns a server of app a without codes, tokens or grants.
func New(a *app.App, users Users, clk *clock.Clock, log *slog.Logger, c *counters.Set, f *faults.Injector, o Options) *Server {
	return &Server{
		app: a, users: users, clock: clk, log: log, counters: c, faults: f,
		refreshGrace: o.RefreshGrace, testAuthTTL: o.TestAuthorizationTTL,
		codes: map[string]*authCode{}, access: map[string]*accessToken{}, refresh: map[string]*refreshToken{},
	}
}

// Register adds the consent page (/oauth/authorize) and the token endpoints
// (/oauth2/access_token, /oauth2/refresh_token) to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth/authorize", s.handleConsentPage)
	mux.HandleFunc("POST /oauth/authorize", s.handleConsentSubmit)
	mux.HandleFunc("/oauth2/access_token", s.handleAccessToken)
	mux.HandleFunc("/oauth2/refresh_token", s.handleRefreshToken)
}

// ErrInvalidScope is returned for scopes the app does not hold.
var ErrInvalidScope = errors.New("sandbox: invalid scope")

// IssueCode authorizes the app for a test user without the consent page and
// returns the authorization code (valid 2 minutes, single use). Empty scopes
// means every scope the app holds.
func (s *Server) IssueCode(testUser int, scopes []string) (string, error) {
	if len(scopes) == 0 {
		scopes = s.app.Scopes
	}
	if !s.app.HoldsScopes(scopes) {
		return "", fmt.Errorf("%w: want a non-empty subset of %v", ErrInvalidScope, s.app.Scopes)
	}
	u, ok := s.users.TestUser(testUser)
	if !ok {
		return "", fmt.Errorf("%w: id %d", shop.ErrUnknownTestUser, testUser)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCodeLocked(u, dedupe(scopes), s.clock.Now()), nil
}

// Revoke cancels every authorization of the test user with this id or open
// id (pass 0 or "" for the other): calls then answer 24
// AUTHORIZATION_REVOKED and refreshes refreshToken.revokedAuthorization.
// It returns the number of authorizations cancelled.
func (s *Server) Revoke(testUser int, openID string) (int, error) {
	u, ok := s.users.Find(testUser, openID)
	if !ok {
		return 0, shop.ErrUnknownTestUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeLocked(u.ID), nil
}

// Token is what an access token authorizes.
type Token struct {
	// UserID is the authorizing test user (0: an app-level
	// client_credentials token).
	UserID int
	// Scopes are the permission groups the token holds (read only).
	Scopes []string
	// Expiry is when the token stops working.
	Expiry time.Time
	// Revoked: the authorization behind the token was cancelled at the
	// time asked (revocation or the test-authorization expiry).
	Revoked bool
}

// Token looks up an access token at now.
func (s *Server) Token(tok string, now time.Time) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[tok]
	if !ok {
		return Token{}, false
	}
	t := Token{Scopes: at.scopes, Expiry: at.expiry}
	if at.grant != nil {
		t.UserID, t.Revoked = at.grant.userID, at.grant.revokedAt(now)
	}
	return t, true
}

// Live reports whether the test user has an authorization that is not
// revoked at now and holds scope: only then does the platform push the
// shop's messages of that scope [K4001].
func (s *Server) Live(userID int, scope string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		if g.userID == userID && !g.revokedAt(now) && slices.Contains(g.scopes, scope) {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// writeFaultResult answers an injected "result" fault in the OAuth error
// shape.
func writeFaultResult(w http.ResponseWriter, code int64, msg string) {
	wire.WriteJSON(w, http.StatusOK, newOAuthError(code, msg))
}
