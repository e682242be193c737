package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TestUser is one of the app's test users: a Kuaishou account that
// may authorize the app before it is online. Each owns one seeded shop.
type TestUser struct {
	ID       int    `json:"id"`
	OpenID   string `json:"openId"`
	Name     string `json:"name"`
	SellerID int64  `json:"sellerId"`
	ShopName string `json:"shopName"`
}

// openIDFor is the test user's open_id for this app: 32 lowercase hex,
// stable for the same AppKey, Seed and user id (the platform's open_id is
// the user's unique id for this developer).
func openIDFor(appKey string, seed int64, id int) string {
	sum := sha256.Sum256([]byte(openIDSalt + appKey + "/" + strconv.FormatInt(seed, 10) + "/" + strconv.Itoa(id)))
	return hex.EncodeToString(sum[:16])
}

// addTestUserLocked creates the next test user and seeds its shop.
func (s *Sandbox) addTestUserLocked(name string) (TestUser, error) {
	if len(s.users) >= maxTestUsers {
		return TestUser{}, ErrTestUserLimit
	}
	id := len(s.users) + 1
	sh := generateShop(s.cfg.Seed, id, s.cfg.AppKey, s.start)
	seedLogistics(sh, s.cfg.Seed, s.start)
	u := &sh.user
	if name != "" {
		u.Name = name
	}
	s.users = append(s.users, u)
	s.shops[id] = sh
	return *u, nil
}

// TestUsers lists the app's test users.
func (s *Sandbox) TestUsers() []TestUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TestUser, len(s.users))
	for i, u := range s.users {
		out[i] = *u
	}
	return out
}

// AddTestUser adds a test user with a freshly seeded shop (name empty = a
// generated one). A sixth user is refused with ErrTestUserLimit.
func (s *Sandbox) AddTestUser(name string) (TestUser, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 64 {
		return TestUser{}, fmt.Errorf("sandbox: test user name longer than 64 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTestUserLocked(name)
}

// IssueCode authorizes the app for a test user without the consent page and
// returns the authorization code (valid 2 minutes, single use). Empty scopes
// means every scope the app holds.
func (s *Sandbox) IssueCode(testUser int, scopes []string) (string, error) {
	if len(scopes) == 0 {
		scopes = s.cfg.Scopes
	}
	if !s.checkScopes(scopes) {
		return "", fmt.Errorf("%w: want a non-empty subset of %v", ErrInvalidScope, s.cfg.Scopes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if testUser < 1 || testUser > len(s.users) {
		return "", fmt.Errorf("%w: id %d", ErrUnknownTestUser, testUser)
	}
	return s.newCodeLocked(testUser, dedupe(scopes), s.clock.Now()), nil
}

// Revoke cancels every authorization of the test user with this id or open
// id (pass 0 or "" for the other): calls then answer 24
// AUTHORIZATION_REVOKED and refreshes refreshToken.revokedAuthorization.
// It returns the number of authorizations cancelled.
func (s *Sandbox) Revoke(testUser int, openID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.userIDLocked(testUser, openID)
	if id == 0 {
		return 0, ErrUnknownTestUser
	}
	return s.revokeLocked(id), nil
}

func (s *Sandbox) userIDLocked(id int, openID string) int {
	for _, u := range s.users {
		if (id != 0 && u.ID == id) || (openID != "" && u.OpenID == openID) {
			return u.ID
		}
	}
	return 0
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
