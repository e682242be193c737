// Package breaker provides a circuit breaker per platform API. After
// Config.Failures consecutive upstream failures of one API (transport errors,
// HTTP 5xx, unreadable bodies, answers that never came) its breaker opens:
// calls of that API fail fast with *OpenError for Config.Cooldown instead of
// piling up on a failing platform. Then one probe call is let through
// (half-open): its success closes the breaker, its failure opens it again
// for twice the previous cooldown (up to Config.MaxCooldown).
//
// Breakers are per replica: each replica learns the platform's health from
// its own calls, which needs no coordination and fails safe (a replica never
// sends more because another one's breaker is open).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// State is a breaker's state.
type State int

// Breaker states.
const (
	Closed   State = iota // calls pass; failures are counted
	Open                  // calls fail fast until the cooldown ends
	HalfOpen              // one probe call is in flight; others fail fast
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// OpenError is returned for a call refused by an open (or probing) breaker.
type OpenError struct {
	Method     string
	RetryAfter time.Duration // until the next probe may be sent
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: %s: circuit open after repeated upstream failures; retry in %s", e.Method, e.RetryAfter.Round(time.Millisecond))
}

// Config configures a Set. Zero fields select the defaults.
type Config struct {
	Failures    int           // consecutive failures that open a breaker; default 5
	Cooldown    time.Duration // first open period; default 10s
	MaxCooldown time.Duration // cap of the doubling open period; default 2m
	// Slow is how long an attempt must have waited before running out of
	// deadline counts as a failure (default 1s); see platform.Outcome.
	Slow time.Duration
	Now  func() time.Time // default time.Now
	Log  *slog.Logger     // state changes; default slog.Default()
}

// Validate reports every violation at once.
func (c Config) Validate() error {
	var errs []error
	if c.Failures < 0 {
		errs = append(errs, errors.New("breaker: Failures must not be negative"))
	}
	if c.Cooldown < 0 || c.MaxCooldown < 0 || c.Slow < 0 {
		errs = append(errs, errors.New("breaker: durations must not be negative"))
	}
	if c.MaxCooldown > 0 && c.Cooldown > c.MaxCooldown {
		errs = append(errs, errors.New("breaker: Cooldown must not exceed MaxCooldown"))
	}
	return errors.Join(errs...)
}

// Set holds one breaker per platform API. It is a platform.Gate and safe for
// concurrent use.
type Set struct {
	cfg Config
	mu  sync.Mutex
	m   map[string]*breaker
}

var _ platform.Gate = (*Set)(nil)

type breaker struct {
	state    State
	failures int           // consecutive, while closed
	until    time.Time     // end of the open period
	cooldown time.Duration // the current open period
}

// New returns a Set for cfg.
func New(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Failures == 0 {
		cfg.Failures = 5
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = 10 * time.Second
	}
	if cfg.MaxCooldown == 0 {
		cfg.MaxCooldown = max(2*time.Minute, cfg.Cooldown)
	}
	if cfg.Slow == 0 {
		cfg.Slow = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Set{cfg: cfg, m: map[string]*breaker{}}, nil
}

// Admit implements platform.Gate: it refuses calls of an API whose breaker
// is open, lets one probe through when the cooldown has passed, and learns
// from every outcome.
func (s *Set) Admit(_ context.Context, a platform.Attempt) (func(platform.Outcome), error) {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[a.Method]
	if b == nil {
		if len(s.m) >= maxBreakers {
			s.pruneLocked()
		}
		b = &breaker{}
		s.m[a.Method] = b
	}
	probe := false
	switch b.state {
	case Open:
		if now.Before(b.until) {
			return nil, &OpenError{Method: a.Method, RetryAfter: b.until.Sub(now)}
		}
		b.state, probe = HalfOpen, true
		s.cfg.Log.Info("circuit half-open: probing", "method", a.Method)
	case HalfOpen:
		// A probe is in flight; its answer decides.
		return nil, &OpenError{Method: a.Method, RetryAfter: s.cfg.Slow}
	}
	return func(o platform.Outcome) { s.done(a.Method, b, probe, o) }, nil
}

func (s *Set) done(method string, b *breaker, probe bool, o platform.Outcome) {
	now := s.cfg.Now()
	failed := o.UpstreamFailure(s.cfg.Slow)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case probe && !o.Sent():
		b.state = Open // not sent (refused later, canceled): probe again at once
	case probe && failed:
		b.cooldown = min(2*b.cooldown, s.cfg.MaxCooldown)
		b.state, b.until = Open, now.Add(b.cooldown)
		s.cfg.Log.Warn("circuit open again: probe failed", "method", method, "cooldown", b.cooldown.String())
	case probe:
		b.state, b.failures, b.cooldown = Closed, 0, 0
		s.cfg.Log.Info("circuit closed: probe succeeded", "method", method)
	case b.state != Closed || !o.Sent():
		// A call admitted before the breaker opened, or one never sent.
	case failed:
		b.failures++
		if b.failures >= s.cfg.Failures {
			b.cooldown = s.cfg.Cooldown
			b.state, b.until = Open, now.Add(b.cooldown)
			s.cfg.Log.Warn("circuit open: consecutive upstream failures", "method", method, "failures", b.failures, "cooldown", b.cooldown.String())
		}
	default:
		b.failures = 0
	}
}

// maxBreakers bounds the map: API names come from callers (PlatformService
// accepts any name), so healthy breakers are forgotten when it fills.
const maxBreakers = 4096

func (s *Set) pruneLocked() {
	for k, b := range s.m {
		if b.state == Closed && b.failures == 0 {
			delete(s.m, k)
		}
	}
}

// States returns every known API's breaker state, for metrics and tests.
func (s *Set) States() map[string]State {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]State, len(s.m))
	for k, b := range s.m {
		out[k] = b.state
	}
	return out
}
