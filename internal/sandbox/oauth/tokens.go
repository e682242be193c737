package oauth

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// OAuth state. A grant is one authorization of one
// test user: the code exchange creates it, refreshes extend its chain, and
// revocation (admin or the 10-day test-authorization expiry) ends it.

type authCode struct {
	userID int
	mainID int // the main account (userID unless a sub-account)
	openID string
	scopes []string
	expiry time.Time
	used   bool
}

type grant struct {
	userID        int
	mainID        int
	openID        string
	scopes        []string
	authExpiry    time.Time // test authorization auto-cancel; zero = never
	refreshExpiry time.Time // every refresh token of the chain dies here [AUTH]
	revoked       bool
}

func (g *grant) revokedAt(now time.Time) bool {
	return g.revoked || (!g.authExpiry.IsZero() && !now.Before(g.authExpiry))
}

type accessToken struct {
	grant  *grant // nil: client_credentials (app-level) token
	scopes []string
	expiry time.Time
}

type refreshToken struct {
	grant     *grant
	rotatedAt time.Time // zero while it is the chain's current token
	next      tokenPair // the pair its first use produced
}

type tokenPair struct{ access, refresh string }

// opaqueToken makes a token shaped like the platform's:
// base64url of a protobuf-like record {1: kind, 2: 32 random bytes}. Clients
// must treat it as opaque; the shape only keeps length and alphabet real.
func opaqueToken(kind string) string {
	r := ids.Bytes(32)
	b := make([]byte, 0, 4+len(kind)+len(r))
	b = append(b, 0x0a, byte(len(kind)))
	b = append(b, kind...)
	b = append(b, 0x12, byte(len(r)))
	b = append(b, r...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCodeLocked issues an authorization code (72 hex chars, as observed
// [DEMO]).
func (s *Server) newCodeLocked(u shop.TestUser, scopes []string, now time.Time) string {
	for k, c := range s.codes { // forget codes long past use
		if now.Sub(c.expiry) > 24*time.Hour {
			delete(s.codes, k)
		}
	}
	code := ids.Hex(36)
	s.codes[code] = &authCode{userID: u.ID, mainID: u.Main(), openID: u.OpenID, scopes: slices.Clone(scopes), expiry: now.Add(rules.CodeLifetime)}
	return code
}

func (s *Server) newAccessLocked(g *grant, scopes []string, now time.Time) string {
	tok := opaqueToken("oauth.accessToken")
	s.access[tok] = &accessToken{grant: g, scopes: slices.Clone(scopes), expiry: now.Add(rules.AccessTokenLifetime)}
	return tok
}

func (s *Server) newRefreshLocked(g *grant) string {
	tok := opaqueToken("oauth.refreshToken")
	s.refresh[tok] = &refreshToken{grant: g}
	return tok
}

// Responses of the token endpoints [AUTH] [TS accessToken.ts] [GO2].

type oauthError struct {
	Result   int64  `json:"result"`
	Error    string `json:"error"`
	ErrorMsg string `json:"error_msg"`
}

type codeTokenResponse struct {
	Result                int64    `json:"result"`
	AccessToken           string   `json:"access_token"`
	RefreshToken          string   `json:"refresh_token"`
	OpenID                string   `json:"open_id"`
	ExpiresIn             int64    `json:"expires_in"`
	RefreshTokenExpiresIn int64    `json:"refresh_token_expires_in"`
	Scopes                []string `json:"scopes"`
	TokenType             string   `json:"token_type"`
}

type clientTokenResponse struct {
	Result      int64  `json:"result"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// refreshResponse carries exactly the fields [AUTH] lists for a refresh
// (no open_id: keep the one from the code exchange).
type refreshResponse struct {
	Result                int64    `json:"result"`
	AccessToken           string   `json:"access_token"`
	ExpiresIn             int64    `json:"expires_in"`
	RefreshToken          string   `json:"refresh_token"`
	RefreshTokenExpiresIn int64    `json:"refresh_token_expires_in"`
	Scopes                []string `json:"scopes"`
}

func newOAuthError(code int64, msg string) *oauthError {
	return &oauthError{Result: code, Error: platform.OAuthErrorName(code), ErrorMsg: msg}
}

// OAuth errors travel with HTTP 200, like API errors: SDKs decide on
// "result"; only a wrong HTTP method gets 405.
func (f *front) writeOAuth(w http.ResponseWriter, r *http.Request, grantType string, v any) {
	res := platform.ResultSuccess
	if e, ok := v.(*oauthError); ok {
		res = e.Result
	}
	f.log.Debug("sandbox oauth", "path", r.URL.Path, "grant_type", grantType, "result", res)
	wire.WriteJSON(w, http.StatusOK, v)
}

// client authenticates app_id + app_secret and picks the app's server.
// Missing parameters are reported first (invalid_request), then a wrong app
// (unauthorized_client).
func (f *front) client(get func(string) string, names ...string) (*Server, *oauthError) {
	var missing []string
	for _, n := range names {
		if get(n) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: "+strings.Join(missing, ", "))
	}
	s, ok := f.apps(get("app_id"))
	if !ok {
		return nil, newOAuthError(platform.ResultOAuthBadClient, "app_id not found")
	}
	if get("app_secret") != s.app.Secret {
		return nil, newOAuthError(platform.ResultOAuthBadClient, "app_secret invalid")
	}
	return s, nil
}

// getOrPost reports whether r is a GET or a POST, the methods of the token
// endpoints, and answers 405 with an OAuth error when it is not.
func getOrPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", "GET, POST")
	wire.WriteJSON(w, http.StatusMethodNotAllowed, newOAuthError(platform.ResultOAuthInvalidReq, "method not allowed"))
	return false
}

// handleAccessToken serves /oauth2/access_token: grant_type=code and
// grant_type=client_credentials, GET or POST, parameters from the query or
// the form [AUTH].
func (f *front) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if f.faults.Intercept(w, r, faults.OAuthToken, true, "", writeFaultResult) {
		return
	}
	if !getOrPost(w, r) {
		return
	}
	params, err := wire.Params(w, r)
	if err != nil {
		f.writeOAuth(w, r, "", newOAuthError(platform.ResultOAuthInvalidReq, err.Error()))
		return
	}
	get := func(k string) string { v, _ := wire.First(params, k); return v }
	grantType := get("grant_type")
	s, e := f.client(get, "grant_type", "app_id", "app_secret")
	if e != nil {
		f.writeOAuth(w, r, grantType, e)
		return
	}
	switch grantType {
	case "code":
		code := get("code")
		if code == "" {
			f.writeOAuth(w, r, grantType, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: code"))
			return
		}
		f.writeOAuth(w, r, grantType, s.exchangeCode(code))
	case "client_credentials":
		s.mu.Lock()
		tok := s.newAccessLocked(nil, s.app.Scopes, s.clock.Now())
		s.mu.Unlock()
		s.counters.Add(func(c *counters.Counters) { c.ClientCredentials++ })
		f.writeOAuth(w, r, grantType, &clientTokenResponse{
			Result: platform.ResultSuccess, AccessToken: tok,
			ExpiresIn: int64(rules.AccessTokenLifetime / time.Second), TokenType: rules.TokenTypeBearer,
		})
	default:
		f.writeOAuth(w, r, grantType, newOAuthError(platform.ResultOAuthGrantType, "unsupported grant_type: "+grantType))
	}
}

func (s *Server) exchangeCode(code string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	c, ok := s.codes[code]
	switch {
	case !ok:
		return newOAuthError(platform.ResultOAuthInvalidCode, "code invalid")
	case c.used:
		return newOAuthError(platform.ResultOAuthInvalidCode, "code already used")
	case !now.Before(c.expiry):
		return newOAuthError(platform.ResultOAuthInvalidCode, "code expired")
	}
	if e := s.orderErrorLocked(c.mainID, now); e != nil {
		return e // the code stays usable: ordering within its 2 minutes lets it through
	}
	c.used = true
	g := &grant{userID: c.userID, mainID: c.mainID, openID: c.openID, scopes: slices.Clone(c.scopes), refreshExpiry: now.Add(rules.RefreshTokenLifetime)}
	if s.testAuthTTL > 0 && s.app.State() == rules.AppStateTest {
		g.authExpiry = now.Add(s.testAuthTTL)
	}
	s.grants = append(s.grants, g)
	at := s.newAccessLocked(g, g.scopes, now)
	rt := s.newRefreshLocked(g)
	s.counters.Add(func(c *counters.Counters) { c.CodeExchanges++ })
	return &codeTokenResponse{
		Result: platform.ResultSuccess, AccessToken: at, RefreshToken: rt, OpenID: g.openID,
		ExpiresIn:             int64(rules.AccessTokenLifetime / time.Second),
		RefreshTokenExpiresIn: clock.SecondsUntil(now, g.refreshExpiry),
		Scopes:                slices.Clone(g.scopes), TokenType: rules.TokenTypeBearer,
	}
}

// handleRefreshToken serves /oauth2/refresh_token (documented POST; GET
// accepted too).
func (f *front) handleRefreshToken(w http.ResponseWriter, r *http.Request) {
	if f.faults.Intercept(w, r, faults.OAuthRefresh, true, "", writeFaultResult) {
		return
	}
	if !getOrPost(w, r) {
		return
	}
	var resp any
	params, err := wire.Params(w, r)
	if err != nil {
		resp = newOAuthError(platform.ResultOAuthInvalidReq, err.Error())
	} else {
		get := func(k string) string { v, _ := wire.First(params, k); return v }
		switch s, e := f.client(get, "grant_type", "refresh_token", "app_id", "app_secret"); {
		case e != nil:
			resp = e
		case get("grant_type") != "refresh_token":
			resp = newOAuthError(platform.ResultOAuthGrantType, "unsupported grant_type: "+get("grant_type"))
		default:
			resp = s.rotate(get("refresh_token"))
		}
	}
	if _, failed := resp.(*oauthError); failed {
		f.counters.Add(func(c *counters.Counters) { c.RejectedRefreshes++ })
	}
	f.writeOAuth(w, r, "refresh_token", resp)
}

// rotate implements the refresh rules of [AUTH]: a new access token
// (48 h) and a new refresh token that inherits the chain's expiry; the old
// refresh token is discarded after RefreshGrace; old access tokens stay
// valid until their own expiry. A third-party app's refresh needs the
// merchant's live order (rules.CodeNotOrdered otherwise).
func (s *Server) rotate(tok string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	rt, ok := s.refresh[tok]
	if !ok {
		return newOAuthError(platform.ResultOAuthDenied, "refresh_token invalid")
	}
	g := rt.grant
	switch {
	case g.revokedAt(now):
		return newOAuthError(platform.ResultOAuthDenied, platform.MsgRefreshRevoked)
	case !now.Before(g.refreshExpiry):
		return newOAuthError(platform.ResultOAuthDenied, "refresh_token expired")
	}
	if e := s.orderErrorLocked(g.mainID, now); e != nil {
		return e
	}
	if !rt.rotatedAt.IsZero() {
		if s.refreshGrace > 0 && now.Sub(rt.rotatedAt) < s.refreshGrace {
			s.counters.Add(func(c *counters.Counters) { c.ReplayedRefreshes++ })
			return s.refreshResponseLocked(g, rt.next, now)
		}
		return newOAuthError(platform.ResultOAuthDenied, platform.MsgRefreshDiscarded)
	}
	pair := tokenPair{access: s.newAccessLocked(g, g.scopes, now), refresh: s.newRefreshLocked(g)}
	rt.rotatedAt, rt.next = now, pair
	s.counters.Add(func(c *counters.Counters) { c.Refreshes++ })
	return s.refreshResponseLocked(g, pair, now)
}

func (s *Server) refreshResponseLocked(g *grant, p tokenPair, now time.Time) *refreshResponse {
	return &refreshResponse{
		Result: platform.ResultSuccess, AccessToken: p.access,
		ExpiresIn:             clock.SecondsUntil(now, s.access[p.access].expiry),
		RefreshToken:          p.refresh,
		RefreshTokenExpiresIn: clock.SecondsUntil(now, g.refreshExpiry),
		Scopes:                slices.Clone(g.scopes),
	}
}

// revokeLocked cancels every authorization of a test user and voids its
// unused codes. Returns the number of authorizations cancelled.
func (s *Server) revokeLocked(userID int) int {
	n := 0
	for _, g := range s.grants {
		if g.userID == userID && !g.revoked {
			g.revoked = true
			n++
		}
	}
	for _, c := range s.codes {
		if c.userID == userID {
			c.used = true
		}
	}
	return n
}
