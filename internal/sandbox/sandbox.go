// Package sandbox emulates the Kuaishou e-commerce open platform
// (快手电商开放平台) over real HTTP: the signed API gateway, the OAuth
// consent page and token endpoints, seeded shop data for up to five test
// users, the platform's limits, a message pusher, fault injection and an
// admin API to drive it all (clock, codes, revocation, orders, refunds,
// pusher, faults, limits, counters).
//
// Any SDK pointed at Handler sees the platform's wire protocol as
// docs/sandbox.md describes it; where the public sources are uncertain the
// choice is recorded once, in package rules. The sandbox is the gateway's
// default upstream and its test bench; cmd/sandbox serves it on its own.
//
// This package is the composition root: it builds the concerns of its
// sub-packages (app, shop, oauth, gateway, limits, faults, pusher, admin,
// api/emulated) into one Sandbox and keeps the public Go API.
package sandbox

import (
	"context"
	"net/http"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/admin"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/gateway"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Sandbox is the emulated platform. It is safe for concurrent use.
//
// Each part keeps its own state under its own lock. The order in which a
// change takes them: shops (a change of a shop), then oauth (may the
// message go out?), then the pusher; the app, limits, faults and counters
// are leaves.
type Sandbox struct {
	cfg     Config
	clock   *clock.Clock
	handler http.Handler

	app      *app.App
	counters *counters.Set
	faults   *faults.Injector
	limits   *limits.Limiter
	shops    *shop.Shops
	oauth    *oauth.Server
	push     *pusher.Pusher
}

// New validates cfg, fills in generated credentials and seeds the test users'
// shops relative to the sandbox clock's current time.
func New(cfg Config) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg, clock: clock.New(cfg.Now), counters: counters.New()}
	s.app = app.New(cfg.AppKey, cfg.AppSecret, cfg.SignSecret, cfg.Scopes, cfg.AppState)
	s.faults = faults.New(cfg.Logger, s.counters)
	s.limits = limits.New(s.app, cfg.Limits)
	start := s.clock.Now().Truncate(time.Millisecond)
	s.shops = shop.NewShops(cfg.Seed, cfg.AppKey, start, s.clock, s.emit)
	for i := 1; i <= cfg.TestUsers; i++ {
		if _, err := s.shops.AddTestUser(""); err != nil {
			return nil, err
		}
	}
	s.oauth = oauth.New(s.app, s.shops, s.clock, cfg.Logger, s.counters, s.faults,
		oauth.Options{RefreshGrace: cfg.RefreshGrace, TestAuthorizationTTL: cfg.TestAuthorizationTTL})
	s.handler = s.routes()
	s.push = pusher.New(pusher.Options{
		AppKey: cfg.AppKey, MessageKey: cfg.MessageKey, Seed: cfg.Seed,
		URL: cfg.PushURL, DuplicateRate: cfg.PushDuplicateRate, DropRate: cfg.PushDropRate,
		HeartbeatInterval: cfg.HeartbeatInterval,
	}, s.clock, cfg.Logger)
	return s, nil
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	s.oauth.Register(mux)
	admin.Register(mux, s, s.app, s.shops)
	mux.Handle("/", gateway.New(gateway.Parts{
		App: s.app, Clock: s.clock, Log: s.cfg.Logger, Counters: s.counters, Faults: s.faults,
		Tokens: s.oauth, Limits: s.limits, Shops: s.shops, Resolve: resolve,
		TimestampWindow: s.cfg.TimestampWindow,
	}))
	return mux
}

// resolve names the handler of an API. Only the rule-emulated APIs have one
// (package api/emulated); the gateway answers the other catalogued APIs
// 804005. Another source of answers is another Lookup tried here after it.
func resolve(method string) (api.Handler, bool) { return emulated.Lookup(method) }

// emit produces the message of a change of u's shop if the shop has a live
// authorization holding the event's scope [K4001]. It runs under the shops'
// lock.
func (s *Sandbox) emit(u shop.TestUser, event string, bizID int64, info any, now time.Time) {
	if s.oauth.Live(u.ID, rules.EventScope(event), now) {
		s.push.Enqueue(now, event, bizID, u.SellerID, u.OpenID, info)
	}
}

// Close stops the message pusher (waiting for deliveries in flight). The
// handler keeps serving; state changes then produce no messages. A sandbox
// that never had a push URL has nothing to stop.
func (s *Sandbox) Close() { s.push.Close() }

// Handler serves the whole platform: the API gateway on every path not
// listed below, /oauth/authorize, /oauth2/access_token,
// /oauth2/refresh_token and the admin API under /sandbox/v1/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Config returns the configuration in use, generated credentials and
// defaults filled in; AppState, Limits and the pusher fields show their
// current values.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Scopes = append([]string(nil), c.Scopes...)
	c.AppState, c.Limits = s.app.State(), s.limits.Limits()
	ps := s.push.Status()
	c.PushURL, c.PushDuplicateRate, c.PushDropRate = ps.URL, ps.DuplicateRate, ps.DropRate
	c.HeartbeatInterval = time.Duration(ps.HeartbeatSeconds * float64(time.Second))
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = -1
	}
	return c
}

// Now is the sandbox clock.
func (s *Sandbox) Now() time.Time { return s.clock.Now() }

// Advance moves the sandbox clock by d (negative moves it back). Message
// retries that become due are pushed at once.
func (s *Sandbox) Advance(d time.Duration) {
	s.clock.Advance(d)
	s.push.Poke()
}

// Counters returns a copy of the counters.
func (s *Sandbox) Counters() Counters { return s.counters.Snapshot() }

// WaitPushes blocks until no message is due or being delivered (and no
// heartbeat is in flight), or ctx ends. Use it after a state change or
// Advance to see the deliveries they caused.
func (s *Sandbox) WaitPushes(ctx context.Context) error { return s.push.Wait(ctx) }
