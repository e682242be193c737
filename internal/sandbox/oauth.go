package sandbox

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// OAuth state. A grant is one authorization of one
// test user: the code exchange creates it, refreshes extend its chain, and
// revocation (admin or the 10-day test-authorization expiry) ends it.

type authCode struct {
	userID int
	scopes []string
	expiry time.Time
	used   bool
}

type grant struct {
	userID        int
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
	r := randomBytes(32)
	b := make([]byte, 0, 4+len(kind)+len(r))
	b = append(b, 0x0a, byte(len(kind)))
	b = append(b, kind...)
	b = append(b, 0x12, byte(len(r)))
	b = append(b, r...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCode issues an authorization code (72 hex chars, as observed [DEMO]).
func (s *Sandbox) newCodeLocked(userID int, scopes []string, now time.Time) string {
	for k, c := range s.codes { // forget codes long past use
		if now.Sub(c.expiry) > 24*time.Hour {
			delete(s.codes, k)
		}
	}
	code := randomHex(36)
	s.codes[code] = &authCode{userID: userID, scopes: slices.Clone(scopes), expiry: now.Add(codeLifetime)}
	return code
}

func (s *Sandbox) newAccessLocked(g *grant, scopes []string, now time.Time) string {
	tok := opaqueToken("oauth.accessToken")
	s.access[tok] = &accessToken{grant: g, scopes: slices.Clone(scopes), expiry: now.Add(accessTokenLifetime)}
	return tok
}

func (s *Sandbox) newRefreshLocked(g *grant) string {
	tok := opaqueToken("oauth.refreshToken")
	s.refresh[tok] = &refreshToken{grant: g}
	return tok
}

// checkScopes reports whether scopes is a non-empty subset of the app's.
func (s *Sandbox) checkScopes(scopes []string) bool {
	if len(scopes) == 0 {
		return false
	}
	for _, sc := range scopes {
		if !slices.Contains(s.cfg.Scopes, sc) {
			return false
		}
	}
	return true
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
func (s *Sandbox) writeOAuth(w http.ResponseWriter, r *http.Request, grantType string, v any) {
	res := platform.ResultSuccess
	if e, ok := v.(*oauthError); ok {
		res = e.Result
	}
	s.log.Debug("sandbox oauth", "path", r.URL.Path, "grant_type", grantType, "result", res)
	writeJSON(w, http.StatusOK, v)
}

// checkClient authenticates app_id + app_secret. Missing parameters are
// reported first (invalid_request), then a wrong app (unauthorized_client).
func (s *Sandbox) checkClient(get func(string) string, names ...string) *oauthError {
	var missing []string
	for _, n := range names {
		if get(n) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: "+strings.Join(missing, ", "))
	}
	if get("app_id") != s.cfg.AppKey {
		return newOAuthError(platform.ResultOAuthBadClient, "app_id not found")
	}
	if get("app_secret") != s.cfg.AppSecret {
		return newOAuthError(platform.ResultOAuthBadClient, "app_secret invalid")
	}
	return nil
}

// handleAccessToken serves /oauth2/access_token: grant_type=code and
// grant_type=client_credentials, GET or POST, parameters from the query or
// the form [AUTH].
func (s *Sandbox) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, r, faultOAuthToken, true, "") {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, newOAuthError(platform.ResultOAuthInvalidReq, "method not allowed"))
		return
	}
	params, err := requestParams(w, r)
	if err != nil {
		s.writeOAuth(w, r, "", newOAuthError(platform.ResultOAuthInvalidReq, err.Error()))
		return
	}
	get := func(k string) string { v, _ := first(params, k); return v }
	grantType := get("grant_type")
	if e := s.checkClient(get, "grant_type", "app_id", "app_secret"); e != nil {
		s.writeOAuth(w, r, grantType, e)
		return
	}
	switch grantType {
	case "code":
		code := get("code")
		if code == "" {
			s.writeOAuth(w, r, grantType, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: code"))
			return
		}
		s.writeOAuth(w, r, grantType, s.exchangeCode(code))
	case "client_credentials":
		s.mu.Lock()
		tok := s.newAccessLocked(nil, s.cfg.Scopes, s.clock.Now())
		s.counters.ClientCredentials++
		s.mu.Unlock()
		s.writeOAuth(w, r, grantType, &clientTokenResponse{
			Result: platform.ResultSuccess, AccessToken: tok,
			ExpiresIn: int64(accessTokenLifetime / time.Second), TokenType: tokenTypeBearer,
		})
	default:
		s.writeOAuth(w, r, grantType, newOAuthError(platform.ResultOAuthGrantType, "unsupported grant_type: "+grantType))
	}
}

func (s *Sandbox) exchangeCode(code string) any {
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
	c.used = true
	u := s.users[c.userID-1]
	g := &grant{userID: u.ID, openID: u.OpenID, scopes: slices.Clone(c.scopes), refreshExpiry: now.Add(refreshTokenLifetime)}
	if s.cfg.TestAuthorizationTTL > 0 && s.appState == AppStateTest {
		g.authExpiry = now.Add(s.cfg.TestAuthorizationTTL)
	}
	s.grants = append(s.grants, g)
	at := s.newAccessLocked(g, g.scopes, now)
	rt := s.newRefreshLocked(g)
	s.counters.CodeExchanges++
	return &codeTokenResponse{
		Result: platform.ResultSuccess, AccessToken: at, RefreshToken: rt, OpenID: g.openID,
		ExpiresIn:             int64(accessTokenLifetime / time.Second),
		RefreshTokenExpiresIn: secondsUntil(now, g.refreshExpiry),
		Scopes:                slices.Clone(g.scopes), TokenType: tokenTypeBearer,
	}
}

// handleRefreshToken serves /oauth2/refresh_token (documented POST; GET
// accepted too).
func (s *Sandbox) handleRefreshToken(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, r, faultOAuthRefresh, true, "") {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, newOAuthError(platform.ResultOAuthInvalidReq, "method not allowed"))
		return
	}
	var resp any
	params, err := requestParams(w, r)
	if err != nil {
		resp = newOAuthError(platform.ResultOAuthInvalidReq, err.Error())
	} else {
		get := func(k string) string { v, _ := first(params, k); return v }
		switch e := s.checkClient(get, "grant_type", "refresh_token", "app_id", "app_secret"); {
		case e != nil:
			resp = e
		case get("grant_type") != "refresh_token":
			resp = newOAuthError(platform.ResultOAuthGrantType, "unsupported grant_type: "+get("grant_type"))
		default:
			resp = s.rotate(get("refresh_token"))
		}
	}
	if _, failed := resp.(*oauthError); failed {
		s.mu.Lock()
		s.counters.RejectedRefreshes++
		s.mu.Unlock()
	}
	s.writeOAuth(w, r, "refresh_token", resp)
}

// rotate implements the refresh rules of [AUTH]: a new access token
// (48 h) and a new refresh token that inherits the chain's expiry; the old
// refresh token is discarded after RefreshGrace; old access tokens stay
// valid until their own expiry.
func (s *Sandbox) rotate(tok string) any {
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
	case !rt.rotatedAt.IsZero():
		if s.cfg.RefreshGrace > 0 && now.Sub(rt.rotatedAt) < s.cfg.RefreshGrace {
			s.counters.ReplayedRefreshes++
			return s.refreshResponseLocked(g, rt.next, now)
		}
		return newOAuthError(platform.ResultOAuthDenied, platform.MsgRefreshDiscarded)
	}
	pair := tokenPair{access: s.newAccessLocked(g, g.scopes, now), refresh: s.newRefreshLocked(g)}
	rt.rotatedAt, rt.next = now, pair
	s.counters.Refreshes++
	return s.refreshResponseLocked(g, pair, now)
}

func (s *Sandbox) refreshResponseLocked(g *grant, p tokenPair, now time.Time) *refreshResponse {
	return &refreshResponse{
		Result: platform.ResultSuccess, AccessToken: p.access,
		ExpiresIn:             secondsUntil(now, s.access[p.access].expiry),
		RefreshToken:          p.refresh,
		RefreshTokenExpiresIn: secondsUntil(now, g.refreshExpiry),
		Scopes:                slices.Clone(g.scopes),
	}
}

// revokeLocked cancels every authorization of a test user and voids its
// unused codes. Returns the number of authorizations cancelled.
func (s *Sandbox) revokeLocked(userID int) int {
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
