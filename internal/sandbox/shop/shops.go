// Package shop provides the seeded shop data of the emulated platform: the
// records of each test user's shop (seller, items, orders, after-sale
// records, logistics), the deterministic generator that fills them, and the
// changes sellers, buyers and the platform make to them, each reported as a
// message through an Emitter.
package shop

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

var (
	// ErrTestUserLimit is returned when a sixth test user is added.
	ErrTestUserLimit = errors.New("sandbox: an app has at most 5 test users")
	// ErrUnknownTestUser is returned for a test user id or openId the app does not have.
	ErrUnknownTestUser = errors.New("sandbox: unknown test user")
	// ErrSubAccountLimit is returned beyond rules.MaxSubAccounts
	// sub-accounts of one main account.
	ErrSubAccountLimit = fmt.Errorf("sandbox: a main account has at most %d sub-accounts", rules.MaxSubAccounts)
	// ErrNotFound is returned for an order or refund id no shop has.
	ErrNotFound = errors.New("sandbox: not found")
	// ErrState is returned when the record's status does not allow the change.
	ErrState = errors.New("sandbox: not allowed in the current status")
	// ErrInvalidRequest wraps every other refusal of bad input.
	ErrInvalidRequest = errors.New("sandbox: invalid request")
)

// Shops holds the test users and their shops. It is safe for concurrent
// use: one lock guards every shop, and every change runs under it, so the
// messages of changes are emitted in the order of the changes. The Emitter
// is called with that lock held (lock order: Shops, then the emitter's).
type Shops struct {
	seed   int64
	appKey string
	start  time.Time
	clock  *clock.Clock
	emit   Emitter

	mu    sync.Mutex // guards everything below and every shop's records
	users []*TestUser
	shops map[int]*Shop // by test user id
}

// NewShops returns no test users yet; shops are generated from seed, appKey
// and start (see New) and report their changes to emit.
func NewShops(seed int64, appKey string, start time.Time, clk *clock.Clock, emit Emitter) *Shops {
	return &Shops{seed: seed, appKey: appKey, start: start, clock: clk, emit: emit, shops: map[int]*Shop{}}
}

// AddTestUser adds a test user with a freshly seeded shop (name empty = a
// generated one). A sixth user is refused with ErrTestUserLimit.
func (s *Shops) AddTestUser(name string) (TestUser, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 64 {
		return TestUser{}, fmt.Errorf("sandbox: test user name longer than 64 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mains := 0
	for _, u := range s.users {
		if u.MainID == 0 {
			mains++
		}
	}
	if mains >= rules.MaxTestUsers {
		return TestUser{}, ErrTestUserLimit
	}
	id := len(s.users) + 1
	sh := New(s.seed, id, s.appKey, s.start, s.emit)
	u := &sh.User
	if name != "" {
		u.Name = name
	}
	s.users = append(s.users, u)
	s.shops[id] = sh
	return *u, nil
}

// AddSubAccount adds a sub-account (子账号) of the main account mainID
// (name empty = a generated one): its own id and open_id, the main
// account's shop and sellerId. Beyond rules.MaxSubAccounts:
// ErrSubAccountLimit; an unknown main account or a sub-account's id:
// ErrUnknownTestUser.
func (s *Shops) AddSubAccount(mainID int, name string) (TestUser, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 64 {
		return TestUser{}, fmt.Errorf("%w: sub-account name longer than 64 characters", ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	main := s.userLocked(mainID, "")
	if mainID == 0 || main == nil || main.MainID != 0 {
		return TestUser{}, fmt.Errorf("%w: no main account with id %d", ErrUnknownTestUser, mainID)
	}
	n := 0
	for _, u := range s.users {
		if u.MainID == mainID {
			n++
		}
	}
	if n >= rules.MaxSubAccounts {
		return TestUser{}, ErrSubAccountLimit
	}
	id := len(s.users) + 1
	if name == "" {
		name = main.Name + "·子账号" + strconv.Itoa(n+1)
	}
	u := &TestUser{
		ID: id, OpenID: openIDFor(s.appKey, s.seed, id), Name: name, SellerID: main.SellerID, ShopName: main.ShopName,
		MainID: mainID, StaffID: staffIDFor(s.appKey, s.seed, id),
	}
	s.users = append(s.users, u)
	s.shops[id] = s.shops[mainID]
	return *u, nil
}

// TestUsers lists the test users, sub-accounts included.
func (s *Shops) TestUsers() []TestUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TestUser, len(s.users))
	for i, u := range s.users {
		out[i] = *u
	}
	return out
}

// TestUser returns the test user with this id.
func (s *Shops) TestUser(id int) (TestUser, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.users) {
		return TestUser{}, false
	}
	return *s.users[id-1], true
}

// Find returns the test user with this id or open id (pass 0 or "" for the
// other).
func (s *Shops) Find(id int, openID string) (TestUser, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userLocked(id, openID); u != nil {
		return *u, true
	}
	return TestUser{}, false
}

func (s *Shops) userLocked(id int, openID string) *TestUser {
	for _, u := range s.users {
		if (id != 0 && u.ID == id) || (openID != "" && u.OpenID == openID) {
			return u
		}
	}
	return nil
}

// Do runs f on test user id's shop (nil if there is none) with the lock
// held: f may read and change the shop's records, and whatever it encodes
// of them is consistent.
func (s *Shops) Do(id int, f func(*Shop)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.shops[id])
}
