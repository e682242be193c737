// Package oauth provides the platform's authorization: the merchant consent
// page, the service market (orders, "use service"), console codes,
// authorization codes, the token endpoints (code exchange,
// client_credentials, refresh-token rotation) and the authorizations
// (grants) the API gateway checks tokens against and the pusher checks
// messages against. A Server holds one app's; Register serves every app's,
// picking the app by app_id.
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
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
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

// Server holds the codes, tokens, grants and service-market orders of one
// app. It is safe for concurrent use; it takes the users', the app's, the
// counters' and the injector's locks only outside its own or as leaves, so
// an Emitter running under the shops' lock may call Live.
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
	orders  map[int]time.Time // service-market orders: main account id → end
}

// New returns a server of app a without codes, tokens, grants or orders.
func New(a *app.App, users Users, clk *clock.Clock, log *slog.Logger, c *counters.Set, f *faults.Injector, o Options) *Server {
	return &Server{
		app: a, users: users, clock: clk, log: log, counters: c, faults: f,
		refreshGrace: o.RefreshGrace, testAuthTTL: o.TestAuthorizationTTL,
		codes: map[string]*authCode{}, access: map[string]*accessToken{}, refresh: map[string]*refreshToken{},
		orders: map[int]time.Time{},
	}
}

var (
	// ErrInvalidScope is returned for scopes the app does not hold.
	ErrInvalidScope = errors.New("sandbox: invalid scope")
	// ErrConsoleCodes is returned when the console issues no codes for
	// the app (rules.ConsoleCodes).
	ErrConsoleCodes = errors.New("sandbox: the console issues codes only for self-use apps and apps in test state")
	// ErrNotThirdParty is returned for service-market actions on a
	// self-use app.
	ErrNotThirdParty = errors.New("sandbox: only third-party apps are in the service market")
	// ErrNotOrdered is returned by UseService without a live order.
	ErrNotOrdered = errors.New("sandbox: the merchant has no live order of the service (服务未订购)")
	// ErrNoCallback is returned by UseService for an app without a
	// callback URL.
	ErrNoCallback = errors.New("sandbox: the app has no callback URL")
)

// IssueCode is the developer console's "refresh code / copy code": it
// authorizes the app for a test user without the consent page or any
// redirect and returns the authorization code (valid 2 minutes, single
// use). Empty scopes means every scope the app holds. Only self-use apps
// and apps in test state get console codes (ErrConsoleCodes); a
// third-party app's code is still exchanged only with a live order.
func (s *Server) IssueCode(testUser int, scopes []string) (string, error) {
	if !rules.ConsoleCodes(s.app.Type, s.app.State()) {
		return "", ErrConsoleCodes
	}
	return s.issueCode(testUser, scopes)
}

// issueCode authorizes the app for a test user (consent page, console,
// service market).
func (s *Server) issueCode(testUser int, scopes []string) (string, error) {
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
	// client_credentials token); MainID its main account (itself unless
	// it is a sub-account; 0 with UserID 0).
	UserID, MainID int
	// Scopes are the permission groups the token holds (read only).
	Scopes []string
	// Expiry is when the token stops working.
	Expiry time.Time
	// Revoked: the authorization behind the token was cancelled at the
	// time asked (revocation or the test-authorization expiry).
	Revoked bool
	// Unsubscribed: the app needs a service-market order and the main
	// account's has ended at the time asked.
	Unsubscribed bool
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
	if g := at.grant; g != nil {
		t.UserID, t.MainID, t.Revoked = g.userID, g.mainID, g.revokedAt(now)
		t.Unsubscribed = !s.subscribedLocked(g.mainID, now)
	}
	return t, true
}

// Live reports whether the main account mainID's shop has an authorization
// that is not revoked at now, holds scope and (third-party apps) is covered
// by a live order: only then does the platform push the shop's messages of
// that scope [K4001]. It returns the open_id the message is for: the main
// account's when it holds such an authorization, else the sub-account's
// that does (the sandbox's choice).
func (s *Server) Live(mainID int, scope string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subscribedLocked(mainID, now) {
		return "", false
	}
	var sub string
	for _, g := range s.grants {
		if g.mainID != mainID || g.revokedAt(now) || !slices.Contains(g.scopes, scope) {
			continue
		}
		if g.userID == mainID {
			return g.openID, true
		}
		if sub == "" {
			sub = g.openID
		}
	}
	return sub, sub != ""
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
