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
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/schema"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/gateway"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
)

// Sandbox is the emulated platform. It is safe for concurrent use.
//
// It serves one or several apps (Config.Apps); each app has its own
// credentials, test users and shops, codes and tokens, service-market
// orders, limits and pusher (a tenant), while the clock, faults, counters
// and the handler are shared. A Sandbox value drives one app with its
// per-app methods: New's the first, App's the one it names.
//
// Each part keeps its own state under its own lock. The order in which a
// change takes them: shops (a change of a shop), then oauth (may the
// message go out?), then the pusher; the app, limits, faults and counters
// are leaves.
type Sandbox struct {
	cfg      Config
	clock    *clock.Clock
	handler  http.Handler
	counters *counters.Set
	faults   *faults.Injector

	apps    []*tenant // every app, the first first; fixed after New
	byKey   map[string]*tenant
	*tenant // the app this value drives
}

// New validates cfg, fills in generated credentials and seeds each app's
// test users' shops relative to the sandbox clock's current time.
func New(cfg Config) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg, clock: clock.New(cfg.Now), counters: counters.New(), byKey: map[string]*tenant{}}
	s.faults = faults.New(cfg.Logger, s.counters)
	start := s.clock.Now().Truncate(time.Millisecond)
	for _, ac := range cfg.Apps {
		t, err := s.newTenant(ac, start)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.apps = append(s.apps, t)
		s.byKey[ac.AppKey] = t
	}
	s.tenant = s.apps[0]
	s.handler = s.routes()
	return s, nil
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	oauth.Register(mux, s.oauthServer, s.faults, s.counters, s.cfg.Logger)
	admin.Register(mux, admin.Directory{Lookup: s.adminTarget, Keys: s.AppKeys})
	mux.Handle("/", gateway.New(gateway.Parts{
		Apps: s.gatewayApp, Clock: s.clock, Log: s.cfg.Logger, Counters: s.counters, Faults: s.faults,
		Resolve: resolver(emulated.New(emulated.Options{DecryptDailyEntries: s.cfg.DecryptDailyEntries})), TimestampWindow: s.cfg.TimestampWindow,
	}))
	return mux
}

// resolver names the handler of an API: the rule-emulated one (package
// api/emulated) first, else the catalog's schema-shaped answers (package
// api/schema) for every other catalogued API.
func resolver(em *emulated.Registry) func(method string) (api.Handler, bool) {
	return func(method string) (api.Handler, bool) {
		if h, ok := em.Lookup(method); ok {
			return h, true
		}
		return schema.Lookup(method)
	}
}

// Close stops every app's message pusher (waiting for deliveries in
// flight). The handler keeps serving; state changes then produce no
// messages. A sandbox that never had a push URL has nothing to stop.
func (s *Sandbox) Close() {
	for _, t := range s.apps {
		t.push.Close()
	}
}

// Handler serves the whole platform for every app: the API gateway on
// every path not listed below, /oauth/authorize, /oauth2/access_token,
// /oauth2/refresh_token, the service market (/market...) and the admin API
// under /sandbox/v1/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Config returns the configuration in use, generated credentials and
// defaults filled in: Apps lists every app, and the single-app fields show
// this value's app; the app states, callbacks, limits and the pusher fields
// show their current values.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Apps = make([]AppConfig, len(s.apps))
	for i, t := range s.apps {
		c.Apps[i] = t.config()
	}
	c.setSingleApp(s.tenant.config())
	c.Limits = s.limits.Limits()
	ps := s.push.Status()
	c.PushDuplicateRate, c.PushDropRate = ps.DuplicateRate, ps.DropRate
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
	for _, t := range s.apps {
		t.push.Poke()
	}
}

// Counters returns a copy of the counters.
func (s *Sandbox) Counters() Counters { return s.counters.Snapshot() }

// WaitPushes blocks until no message of any app is due or being delivered
// (and no heartbeat is in flight), or ctx ends. Use it after a state change
// or Advance to see the deliveries they caused.
func (s *Sandbox) WaitPushes(ctx context.Context) error {
	for _, t := range s.apps {
		if err := t.push.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}
