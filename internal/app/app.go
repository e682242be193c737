// Package app wires the gateway together: configuration in, servers out.
// cmd/server calls Run; end-to-end tests call it too, on free ports.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/telemetry"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// Options are the parts tests replace.
type Options struct {
	// TracerProvider replaces the one built from OTEL_* variables.
	TracerProvider trace.TracerProvider
	// LogOutput receives the JSON log (default stderr).
	LogOutput io.Writer
	// Getenv reads OTEL_* variables (default os.Getenv).
	Getenv func(string) string
	// Now is the gateway's clock (default time.Now); tests move it.
	Now func() time.Time
	// Banner receives a human-readable "how to call me" text in sandbox mode.
	Banner io.Writer
	// Ready is called once the server serves and, in sandbox mode, the
	// sandbox shop is authorized.
	Ready func(Info)
}

// Info describes a running gateway.
type Info struct {
	GRPCAddr, HTTPAddr string
	// SandboxURL is the embedded sandbox's base URL ("" with real credentials).
	SandboxURL string
	// SandboxOpenID is the open_id of the sandbox shop authorized at start.
	SandboxOpenID string
	// Sandbox is the embedded sandbox (nil with real credentials).
	Sandbox *sandbox.Sandbox
	// NATSURL is the embedded NATS server's client URL when it listens on TCP.
	NATSURL string
}

// Run serves until ctx is done, then shuts down gracefully. It builds the
// gateway from cfg with one constructor per part; each returns what it
// built and how to stop it, and the stops run in reverse order on return.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	started := time.Now()
	opts = opts.withDefaults()
	log := newLogger(opts.LogOutput, cfg.LogFormat, cfg.LogLevel)
	var stops cleanups
	defer stops.run()
	embedded := cfg.SandboxMode() // before the sandbox sets credentials

	tp, stop, err := newTracing(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	stops.add(stop) // flush telemetry last, within the shutdown grace
	lis, stop, err := newListeners(cfg, log)
	if err != nil {
		return err
	}
	stops.add(stop)
	cfg.GRPCAddr, cfg.HTTPAddr = lis.grpcAddr, lis.httpAddr
	if stop, err = newPprof(cfg.PprofAddr, log); err != nil {
		return err
	}
	stops.add(stop)
	sb, stop, err := newSandbox(ctx, &cfg, log) // sandbox mode: cfg now points at it
	if err != nil {
		return err
	}
	stops.add(stop)
	apps := cfg.AppList() // final: the sandbox's app in sandbox mode
	logApps(log, apps)
	st, stop, err := newStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	stops.add(stop)
	tokens, err := st.TokenStore(ctx, cfg.Store.TokenKeys)
	if err != nil {
		return err
	}
	obs, err := startObservability(ctx, cfg, log, opts.Getenv, opts.Now, st, tokens)
	if err != nil {
		return err
	}
	stops.add(obs.close)
	// The embedded sandbox caps its test users itself; a real app in test
	// state gets the client-side cap too. The test-user cap counts a main
	// account and its sub-accounts as one: the token manager knows them.
	shops := &shopDirectory{}
	guards, stop, err := newGuards(ctx, cfg, log, st, opts.Now, shops.testUser)
	if err != nil {
		return err
	}
	stops.add(stop)
	client, err := newPlatform(cfg, apps, !embedded, tp, obs, guards)
	if err != nil {
		return err
	}
	// The manager learns test users' seller ids (open.user.seller.get) only
	// where the gateway enforces their cap; the embedded sandbox caps its own.
	var sellers token.Caller
	if !embedded {
		sellers = client
	}
	mgr, stop, err := newTokenManager(ctx, cfg, client.tokenApps(obs.metrics.WrapOAuth), sellers, log, st, tokens, opts.Now)
	if err != nil {
		return err
	}
	stops.add(stop)
	shops.set(mgr)
	msgs, stop, err := newMessages(ctx, cfg, apps, log, tp, st, tokens, client, mgr, obs, sb)
	if err != nil {
		return err
	}
	stops.add(stop)
	hooks, err := startWebhooks(ctx, cfg, log, st, cfg.Store.TokenKeys, obs.provider.MeterProvider()) // after the message log they read
	if err != nil {
		return err
	}
	stops.add(hooks.stop)
	seclog, stop, err := newSecurityLog(ctx, cfg, !embedded, log, st, client, mgr, obs)
	if err != nil {
		return err
	}
	stops.add(stop)
	var ready atomic.Bool
	srv, err := newServers(ctx, serverDeps{cfg: cfg, apps: apps, log: log, tp: tp, client: client, tokens: mgr, authz: tokens, mgr: mgr,
		keyID: cfg.Store.TokenKeys.PrimaryID(), store: st, obs: obs, msgs: msgs, hooks: hooks, ready: &ready, hop: lis.hop, seclog: seclog})
	if err != nil {
		return err
	}
	info := Info{GRPCAddr: cfg.GRPCAddr, HTTPAddr: cfg.HTTPAddr, NATSURL: st.ClientURL()}
	return serve(ctx, cfg, log, opts, started, info, srv, lis, sb, mgr, &ready)
}

// serve runs the servers on the listeners, authorizes the sandbox shop in
// sandbox mode, reports ready, and stops the servers when ctx is done or a
// server fails.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options, started time.Time, info Info,
	srv *servers, lis *listeners, sb *embeddedSandbox, mgr *token.Manager, ready *atomic.Bool) error {
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.grpc.Serve(lis.grpc) }()
	go func() { _ = srv.grpc.Serve(lis.hop.lis) }() // the REST gateway's in-process hop
	go func() {
		if err := srv.http.Serve(lis.http); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	}()

	if sb != nil {
		openID, err := sb.authorizeShop(ctx, mgr)
		if err != nil {
			stopServers(srv, log, time.Second)
			return err
		}
		info.SandboxURL, info.Sandbox, info.SandboxOpenID = sb.url, sb.sb, openID
		logExamples(log, opts.Banner, cfg, openID, sb.sb.Now())
	}
	ready.Store(true)
	srv.health.Resume()
	log.Info("kwaishop-gateway ready", "grpc", cfg.GRPCAddr, "http", cfg.HTTPAddr, "sandbox", sb != nil, "startup", time.Since(started).String())
	if opts.Ready != nil {
		opts.Ready(info)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error("server stopped", "err", err)
		stopServers(srv, log, cfg.ShutdownGrace)
		return err
	}
	log.Info("shutting down")
	ready.Store(false)
	stopServers(srv, log, cfg.ShutdownGrace)
	return nil
}

// withDefaults fills the options tests leave out.
func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	return o
}

// cleanups are the stops of what Run built, run in reverse order.
type cleanups []func()

// add keeps stop (nil: nothing to stop).
func (c *cleanups) add(stop func()) {
	if stop != nil {
		*c = append(*c, stop)
	}
}

// run stops in reverse order. Its receiver is a pointer: a deferred run
// sees the stops added after the defer statement.
func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

// newTracing is opts.TracerProvider, or the provider built from the OTEL_*
// variables with its flush.
func newTracing(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (trace.TracerProvider, func(), error) {
	if opts.TracerProvider != nil {
		return opts.TracerProvider, nil, nil
	}
	tp, shutdown, err := startTracing(ctx, cfg, log, opts.Getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("app: tracing: %w", err)
	}
	return tp, shutdown, nil
}

// newStore opens the store: the embedded NATS server in the data directory,
// or the external NATS of KWAISHOP_NATS_URL.
func newStore(ctx context.Context, s store.Settings, log *slog.Logger) (*store.Store, func(), error) {
	if s.NATSURL == "" {
		if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("app: data dir: %w", err)
		}
	}
	st, err := store.Open(ctx, s.Config(), log)
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}

// upstream is the gateway's one way to the platform: a platform.Client per
// app, built at start, each signing with its app's credentials, admitted by
// its app's limits and recorded as its app's calls; one transport, one set
// of circuit breakers and one statistics recorder for all. A call goes to
// the client of its token source's app (the shop's, or the app-level
// source's), so calls use the shop's app's credentials without a look-up of
// their own; a client per app rather than credentials chosen per request
// keeps the client, its signer and its gate immutable (docs/apps.md).
type upstream struct {
	apps    []config.App
	clients map[string]*platform.Client
	oauth   map[string]*oauth.Client
}

// appKeyed is a token source that names its app (token.Manager's sources).
type appKeyed interface{ AppKey() string }

// Do sends r with the client of its token source's app; a source that
// names no app (or none) is the only app's.
func (u *upstream) Do(ctx context.Context, r *platform.Request) (*platform.Response, error) {
	key := ""
	if k, ok := r.Token.(appKeyed); ok {
		key = k.AppKey()
	}
	if key == "" && len(u.apps) == 1 {
		key = u.apps[0].Key
	}
	c := u.clients[key]
	if c == nil {
		return nil, fmt.Errorf("app: no platform client for app %q", key)
	}
	return c.Do(ctx, r)
}

// tokenApps are the apps of the token manager, with their OAuth clients
// wrapped by wrap (given the app's key).
func (u *upstream) tokenApps(wrap func(appKey string, o telemetry.OAuth) telemetry.OAuth) []token.App {
	out := make([]token.App, 0, len(u.apps))
	for _, a := range u.apps {
		out = append(out, token.App{Key: a.Key, OAuth: wrap(a.Key, u.oauth[a.Key]), RedirectURI: a.RedirectURI, TestApp: a.TestState()})
	}
	return out
}

// newPlatform builds the platform client and the OAuth client of every
// app: each call passes the breakers and its app's limits (the test-user
// cap only with capTestUsers) and is observed as its app's.
func newPlatform(cfg config.Config, apps []config.App, capTestUsers bool, tp trace.TracerProvider, obs *observability, g *guards) (*upstream, error) {
	httpClient := &http.Client{Transport: upstreamTransport()}
	u := &upstream{apps: apps, clients: map[string]*platform.Client{}, oauth: map[string]*oauth.Client{}}
	for _, a := range apps {
		lim := limit.App{Key: a.Key, Daily: a.DailyQuota}
		if capTestUsers {
			lim.TestUserDaily = a.TestUserDailyQuota
		}
		key := a.Key
		client, err := platform.New(platform.Config{
			BaseURL: cfg.APIBaseURL, AppKey: a.Key, SignSecret: a.SignSecret.Reveal(), SignMethod: a.SignMethod,
			HTTPClient: httpClient, Tracer: tp, CallTimeout: cfg.CallTimeout, Gate: g.forApp(lim),
			Observe: func(ci platform.CallInfo) {
				obs.metrics.ObserveCall(key, ci)
				obs.stats.RecordApp(key, ci)
			},
		})
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", a.Key, err)
		}
		oc, err := oauth.New(oauth.Config{BaseURL: cfg.APIBaseURL, AppKey: a.Key, AppSecret: a.Secret.Reveal(), HTTPClient: httpClient, Tracer: tp})
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", a.Key, err)
		}
		u.clients[a.Key], u.oauth[a.Key] = client, oc
	}
	return u, nil
}

// statsApps are the apps of the statistics: each one's calls and quotas
// are told apart.
func statsApps(apps []config.App) []stats.App {
	out := make([]stats.App, 0, len(apps))
	for _, a := range apps {
		out = append(out, stats.App{Key: a.Key, Daily: a.DailyQuota, TestUserDaily: a.TestUserDailyQuota})
	}
	return out
}

// logApps says which apps the gateway serves (never their secrets).
func logApps(log *slog.Logger, apps []config.App) {
	for _, a := range apps {
		log.Info("app", "app_key", a.Key, "type", a.Type, "state", a.State, "daily_quota", a.DailyQuota,
			"test_user_daily_quota", a.TestUserDailyQuota, "require_state", a.StateRequired(), "message_keys", len(a.MessageKeys), "redirect_uri", a.RedirectURI)
	}
}

// shopDirectory answers what the token manager knows of shops (the test
// user they count as) to the parts built before it: the limits.
type shopDirectory struct{ mgr atomic.Pointer[token.Manager] }

func (d *shopDirectory) set(m *token.Manager) { d.mgr.Store(m) }

// testUser is the test user whose cap the shop's calls count against (the
// shop itself until the manager is built).
func (d *shopDirectory) testUser(ctx context.Context, openID string) string {
	if m := d.mgr.Load(); m != nil {
		return m.TestUser(ctx, openID)
	}
	return openID
}

// newTokenManager opens the OAuth state store, builds the token manager and
// runs its lifecycle (refreshes, warnings) until stopped, for every app.
func newTokenManager(ctx context.Context, cfg config.Config, apps []token.App, caller token.Caller, log *slog.Logger, st *store.Store,
	tokens *store.TokenStore, now func() time.Time) (*token.Manager, func(), error) {
	states, err := store.NewStateStore(ctx, st.JetStream(), st.Replicas(), cfg.Store.OAuthStateMaxBytes)
	if err != nil {
		return nil, nil, err
	}
	mgr, err := token.New(token.Config{
		Apps: apps, Store: tokens, Log: log, Conn: st.Conn(), States: states,
		AuthorizeURL: cfg.AuthorizeURL, ReturnHosts: cfg.Token.ReturnHosts,
		TestUserCutoff: testUserCutoff, ReauthorizeURL: reauthorizeURL(cfg),
		ReplicaID: cfg.ReplicaID, LeaseTTL: cfg.Token.LeaseTTL, Now: now, Caller: caller,
	})
	if err != nil {
		return nil, nil, err
	}
	return mgr, background(ctx, func(runCtx context.Context) {
		if err := mgr.Run(runCtx); err != nil {
			log.Error("token lifecycle stopped", "err", err)
		}
	}), nil
}

// newSecurityLog opens the security access logs (docs/security-logs.md)
// and runs their sender until stopped; off, it records nothing, and with
// real credentials (credentials) says so once.
func newSecurityLog(ctx context.Context, cfg config.Config, credentials bool, log *slog.Logger, st *store.Store, client *upstream, mgr *token.Manager,
	obs *observability) (*securitylog.Recorder, func(), error) {
	if credentials && !cfg.SecurityLog.Enabled {
		log.Warn(securitylog.OffWarning)
	}
	r, err := securitylog.Open(ctx, securitylog.Config{
		Settings: cfg.SecurityLog, JS: st.JetStream(), Replicas: st.Replicas(), Caller: client, Tokens: mgr, ShopApp: mgr.ShopApp,
		Log: log, MeterProvider: obs.provider.MeterProvider(),
	})
	if err != nil || !r.Enabled() {
		return r, nil, err
	}
	return r, background(ctx, r.Run), nil
}

// background runs each fn in a goroutine of its own, with a context that
// ctx's values reach but not its end: they run until the returned stop,
// which cancels them and waits for every one to return (Run's stops).
func background(ctx context.Context, fns ...func(context.Context)) (stop func()) {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { fn(runCtx) })
	}
	return func() { cancel(); wg.Wait() }
}

// stopServers: not ready → gRPC GracefulStop and HTTP Shutdown, bounded by
// grace; telemetry is flushed afterwards by the deferred cleanups.
func stopServers(s *servers, log *slog.Logger, grace time.Duration) {
	s.health.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	if err := s.http.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
}
