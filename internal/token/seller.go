package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Caller sends one platform call: the gateway's one upstream client, which
// picks the app of the request's token source.
type Caller interface {
	Do(ctx context.Context, r *platform.Request) (*platform.Response, error)
}

// apiSeller names the merchant of a token: sellerId (shared by a main
// account and its sub-accounts), openId, and staffInfo only when a
// sub-account's token calls it (docs/apps.md).
const apiSeller = "open.user.seller.get"

const (
	// sellerTimeout bounds one attempt to learn a shop's seller id.
	sellerTimeout = 15 * time.Second
	// sellerRetry is how long after a failed attempt the next use of the
	// shop may try again (a refresh always may).
	sellerRetry = 10 * time.Minute
)

// TestUser names the test user whose daily cap a shop's calls count against
// (store.TestUserKey): its seller id once known, so a main account and its
// sub-accounts share one cap; until then the shop itself. An unknown shop
// is its own. A shop whose seller id is still unknown has it looked up in
// the background (at most every sellerRetry).
func (m *Manager) TestUser(ctx context.Context, openID string) string {
	c, err := m.lookup(ctx, openID)
	if err != nil {
		return openID
	}
	if c.seller == 0 && !blocked(c.status) {
		m.learnSellerSoon(openID, false)
	}
	return store.TestUserKey(openID, c.seller)
}

// learnSellerSoon looks the shop's seller id up in the background, unless a
// lookup is running or (without now) the last one failed less than
// sellerRetry ago.
func (m *Manager) learnSellerSoon(openID string, now bool) {
	if m.cfg.Caller == nil || !m.claimSeller(openID, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), sellerTimeout)
		defer cancel()
		_, err := m.learnSeller(ctx, openID)
		m.releaseSeller(openID, err)
	}()
}

// claimSeller marks a lookup of the shop's seller id as running; false if
// one is, or (unless now) if the last failed less than sellerRetry ago.
func (m *Manager) claimSeller(openID string, now bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sellerBusy[openID] || !now && m.cfg.Now().Before(m.sellerNext[openID]) {
		return false
	}
	m.sellerBusy[openID] = true
	return true
}

// releaseSeller ends a lookup; after a failure the next use waits sellerRetry.
func (m *Manager) releaseSeller(openID string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sellerBusy, openID)
	if err != nil {
		m.sellerNext[openID] = m.cfg.Now().Add(sellerRetry)
	} else {
		delete(m.sellerNext, openID)
	}
}

// learnSellerNow looks the seller id of a test user just authorized up
// before answering: the authorization never fails for it (a failure is logged and
// the next use or refresh tries again). It returns the record as stored.
func (m *Manager) learnSellerNow(ctx context.Context, a store.Authorization) store.Authorization {
	if m.cfg.Caller == nil || !a.TestUser || a.SellerID != 0 || !m.claimSeller(a.OpenID, true) {
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, sellerTimeout)
	defer cancel()
	got, err := m.learnSeller(ctx, a.OpenID)
	m.releaseSeller(a.OpenID, err)
	if err != nil {
		return a
	}
	return got
}

// learnSeller calls open.user.seller.get with the shop's token through the
// upstream client and records the seller id (and, for a sub-account, its
// main account's open_id) on the shop's record.
func (m *Manager) learnSeller(ctx context.Context, openID string) (store.Authorization, error) {
	a, err := m.fetchSeller(ctx, openID)
	if err != nil {
		m.cfg.Log.Warn("token: seller id not learnt; the shop counts as its own test user until a later try succeeds", "open_id", openID, "err", err)
	}
	return a, err
}

// fetchSeller is learnSeller without the log line.
func (m *Manager) fetchSeller(ctx context.Context, openID string) (store.Authorization, error) {
	src, err := m.Shop(ctx, openID)
	if err != nil {
		return store.Authorization{}, err
	}
	resp, err := m.cfg.Caller.Do(ctx, &platform.Request{Method: apiSeller, OpenID: openID, Token: src})
	if err != nil {
		return store.Authorization{}, err
	}
	s, err := parseSeller(resp.Data, openID)
	if err != nil {
		return store.Authorization{}, err
	}
	return m.recordSeller(ctx, openID, s)
}

// seller is what the gateway keeps of an open.user.seller.get answer.
type seller struct {
	id   int64
	main string // the main account's open_id for a sub-account, else ""
}

// parseSeller decodes the answer's data: a positive sellerId (a JSON number
// or a string of digits) is required; a staffInfo member marks the token's
// shop as a sub-account of the merchant the answer's openId names.
func parseSeller(data json.RawMessage, openID string) (seller, error) {
	var d struct {
		SellerID  json.RawMessage `json:"sellerId"`
		OpenID    string          `json:"openId"`
		StaffInfo json.RawMessage `json:"staffInfo"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return seller{}, fmt.Errorf("token: %s: the answer's data is not an object", apiSeller)
	}
	raw := strings.TrimSuffix(strings.TrimPrefix(string(d.SellerID), `"`), `"`)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || raw != strconv.FormatInt(id, 10) {
		return seller{}, fmt.Errorf("token: %s: the answer has no valid sellerId", apiSeller)
	}
	s := seller{id: id}
	if staff := string(d.StaffInfo); staff != "" && staff != "null" && d.OpenID != openID && openIDPattern.MatchString(d.OpenID) {
		s.main = d.OpenID
	}
	return s, nil
}

// recordSeller writes the seller id onto the shop's record with
// compare-and-set, leaving every other member as stored.
func (m *Manager) recordSeller(ctx context.Context, openID string, s seller) (store.Authorization, error) {
	for range 5 {
		a, rev, err := m.cfg.Store.Get(ctx, openID)
		if err != nil {
			return store.Authorization{}, err
		}
		if a.SellerID == s.id && a.MainOpenID == s.main {
			m.remember(a, rev)
			return a, nil
		}
		a.SellerID, a.MainOpenID = s.id, s.main
		next, err := m.cfg.Store.Update(ctx, a, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Authorization{}, err
		}
		m.remember(a, next)
		return a, nil
	}
	return store.Authorization{}, fmt.Errorf("token: record the seller of %s: the record kept changing", openID)
}
