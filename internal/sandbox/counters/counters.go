// Package counters provides what the sandbox has seen (calls per API, token
// exchanges, refreshes, faults), counted by the gateway, the token endpoints
// and the fault injector and read by tests and the admin API.
package counters

import (
	"maps"
	"sync"
)

// Counters are what the sandbox has seen, for tests and the admin API.
type Counters struct {
	// Calls counts requests on the signed API gateway per API method name
	// (taken from the path), whatever their outcome.
	Calls map[string]int `json:"calls"`
	// CodeExchanges counts successful grant_type=code exchanges.
	CodeExchanges int `json:"codeExchanges"`
	// Refreshes counts refresh-token rotations (new pairs issued).
	Refreshes int `json:"refreshes"`
	// ReplayedRefreshes counts uses of a rotated refresh token inside
	// RefreshGrace (answered with the pair of the first use).
	ReplayedRefreshes int `json:"replayedRefreshes"`
	// ClientCredentials counts issued app-level tokens.
	ClientCredentials int `json:"clientCredentials"`
	// RejectedRefreshes counts /oauth2/refresh_token calls answered with an
	// error (discarded, revoked, expired, bad client...).
	RejectedRefreshes int `json:"rejectedRefreshes"`
	// Faults counts calls answered (or delayed) by an injected fault.
	Faults int `json:"faults"`
}

// Set holds the counters; it is safe for concurrent use and never takes
// another lock while holding its own.
type Set struct {
	mu sync.Mutex
	c  Counters
}

// New returns counters at zero.
func New() *Set { return &Set{c: Counters{Calls: map[string]int{}}} }

// Add applies f to the counters under the lock.
func (s *Set) Add(f func(*Counters)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.c)
}

// Call counts one request on the API gateway.
func (s *Set) Call(method string) { s.Add(func(c *Counters) { c.Calls[method]++ }) }

// Snapshot returns a copy of the counters.
func (s *Set) Snapshot() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.c
	c.Calls = maps.Clone(s.c.Calls)
	return c
}
