// Package app wires the gateway together: configuration in, servers out.
// cmd/server calls Run; end-to-end tests call it too, on free ports.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
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

// Run serves until ctx is done, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, opts Options) (err error) {
	started := time.Now()
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	log := newLogger(opts.LogOutput, cfg.LogFormat, cfg.LogLevel)

	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	tp := opts.TracerProvider
	if tp == nil {
		sdktp, shutdown, err := startTracing(ctx, cfg, log, opts.Getenv)
		if err != nil {
			return fmt.Errorf("app: tracing: %w", err)
		}
		cleanups = append(cleanups, shutdown) // flush telemetry last, within the shutdown grace
		tp = sdktp
	}

	if err := checkExposure(cfg); err != nil { // no API keys: loopback only (docs/security.md)
		return err
	}
	grpcTLS, httpTLS, err := serverTLS(cfg) // optional TLS / mTLS (docs/security.md)
	if err != nil {
		return err
	}
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("app: listen gRPC: %w", err)
	}
	cleanups = append(cleanups, func() { _ = grpcLis.Close() })
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("app: listen HTTP: %w", err)
	}
	cleanups = append(cleanups, func() { _ = httpLis.Close() })
	cfg.GRPCAddr, cfg.HTTPAddr = grpcLis.Addr().String(), httpLis.Addr().String()
	// Connection caps (docs/security.md); the REST gateway reaches the gRPC
	// server in-process, so a flood of the gRPC port cannot take REST down.
	grpcLis, httpLis = limitConns(grpcLis, cfg.GRPCMaxConns, "grpc", log), limitConns(httpLis, cfg.HTTPMaxConns, "http", log)
	hop := newGatewayHop()
	if grpcTLS != nil {
		grpcLis, httpLis = tls.NewListener(grpcLis, grpcTLS), tls.NewListener(httpLis, httpTLS)
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		cleanups = append(cleanups, stopPprof)
	}

	info := Info{GRPCAddr: cfg.GRPCAddr, HTTPAddr: cfg.HTTPAddr}
	var sb *embeddedSandbox
	sandboxMode := cfg.SandboxMode()
	if sandboxMode {
		if sb, err = startSandbox(ctx, &cfg, log, tp); err != nil {
			return err
		}
		cleanups = append(cleanups, sb.stop)
		info.SandboxURL, info.Sandbox = sb.url, sb.sb
	}

	if cfg.NATSURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("app: data dir: %w", err)
		}
	}
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, NATSURL: cfg.NATSURL, Listen: cfg.NATSListen, Replicas: int(cfg.NATSReplicas), Auth: cfg.NATSAuth()}, log)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { _ = st.Close() })
	info.NATSURL = st.ClientURL()
	ring, err := store.ParseKeyring(cfg.TokenKeys.Reveal())
	if err != nil {
		return err
	}
	tokens, err := st.TokenStore(ctx, ring)
	if err != nil {
		return err
	}
	obs, err := startObservability(ctx, cfg, log, opts.Getenv, opts.Now, st, tokens)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, obs.close)

	signMethod, _ := sign.ParseMethod(cfg.SignMethod) // validated by config
	httpClient := &http.Client{Transport: upstreamTransport()}
	guards, err := newGuards(ctx, cfg, log, st, opts.Now) // breakers and shared limits (docs/security.md)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, guards.close)
	client, err := platform.New(platform.Config{
		BaseURL: cfg.APIBaseURL, AppKey: cfg.AppKey, SignSecret: cfg.SignSecret.Reveal(), SignMethod: signMethod,
		HTTPClient: httpClient, Tracer: tp, CallTimeout: cfg.CallTimeout, Observe: obs.observe, Gate: guards.gate,
	})
	if err != nil {
		return err
	}
	oc, err := oauth.New(oauth.Config{BaseURL: cfg.APIBaseURL, AppKey: cfg.AppKey, AppSecret: cfg.AppSecret.Reveal(), HTTPClient: httpClient, Tracer: tp})
	if err != nil {
		return err
	}
	states, err := store.NewStateStore(ctx, st.JetStream(), st.Replicas(), cfg.OAuthStateMaxBytes)
	if err != nil {
		return err
	}
	mgr, err := token.New(token.Config{
		AppKey: cfg.AppKey, Store: tokens, OAuth: obs.metrics.WrapOAuth(oc), Log: log, Conn: st.Conn(), States: states,
		AuthorizeURL: cfg.AuthorizeURL, RedirectURI: cfg.EffectiveRedirectURI(), ReturnHosts: returnHosts(cfg), TestApp: sandboxMode || cfg.AppState == "test",
		TestUserCutoff: testUserCutoff, ReauthorizeURL: reauthorizeURL(cfg),
		ReplicaID: cfg.ReplicaID, LeaseTTL: cfg.LeaseTTL, Now: opts.Now,
	})
	if err != nil {
		return err
	}
	lifecycleCtx, stopLifecycle := context.WithCancel(context.WithoutCancel(ctx))
	lifecycleDone := make(chan struct{})
	go func() {
		defer close(lifecycleDone)
		if err := mgr.Run(lifecycleCtx); err != nil {
			log.Error("token lifecycle stopped", "err", err)
		}
	}()
	cleanups = append(cleanups, func() { stopLifecycle(); <-lifecycleDone })

	// Pushed messages (docs/messages.md): log, intake, dead letters, reconciliation.
	msgs, err := startMessages(ctx, cfg, log, tp, st, tokens, client, mgr, obs.metrics.Messages(), obs.provider.MeterProvider(), sb)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, msgs.stop)

	// Outward webhooks (docs/webhooks.md): after the message log they read.
	hooks, err := startWebhooks(ctx, cfg, log, st, ring, obs.provider.MeterProvider())
	if err != nil {
		return err
	}
	cleanups = append(cleanups, hooks.stop)

	var ready atomic.Bool
	srv, err := newServers(ctx, serverDeps{cfg: cfg, log: log, tp: tp, client: client, tokens: mgr, authz: tokens, mgr: mgr, keyID: ring.PrimaryID(), store: st, obs: obs, msgs: msgs, hooks: hooks, ready: &ready, hop: hop})
	if err != nil {
		return err
	}

	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.grpc.Serve(grpcLis) }()
	go func() { _ = srv.grpc.Serve(hop.lis) }() // the REST gateway's in-process hop
	go func() {
		if err := srv.http.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	}()

	if sb != nil {
		openID, err := sb.authorizeShop(ctx, cfg, mgr)
		if err != nil {
			stopServers(srv, log, time.Second)
			return err
		}
		info.SandboxOpenID = openID
		logExamples(log, opts.Banner, cfg, openID, sb.sb.Now())
	}
	ready.Store(true)
	srv.health.Resume()
	log.Info("kwaishop-gateway ready", "grpc", cfg.GRPCAddr, "http", cfg.HTTPAddr, "sandbox", sandboxMode, "startup", time.Since(started).String())
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

var _ = grpc.NewServer
