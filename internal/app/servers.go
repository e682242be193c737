package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/gen/openapi"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/dashboard"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/intake"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// MaxRequestBytes caps a request body on both transports, files aside
// (uploads: service.MaxUploadBytes, maxUploadBodyBytes).
const MaxRequestBytes = service.MaxRequestBytes

type serverDeps struct {
	cfg    config.Config
	apps   []config.App
	log    *slog.Logger
	tp     trace.TracerProvider
	client service.Caller
	tokens service.Tokens
	authz  service.AuthorizationStore
	mgr    *token.Manager
	keyID  string
	store  *store.Store
	obs    *observability
	msgs   *messagePipeline
	hooks  *webhookPipeline
	ready  *atomic.Bool
	hop    *gatewayHop           // the REST gateway's in-process hop (Run always sets it); nil: loopback TCP
	seclog *securitylog.Recorder // security access logs (nil or off: none)
}

// accessLog is r as the services' AccessLog: none when off.
func accessLog(r *securitylog.Recorder) service.AccessLog {
	if !r.Enabled() {
		return nil
	}
	return r
}

type servers struct {
	grpc   *grpc.Server
	http   *http.Server
	health *health.Server
}

func newServers(ctx context.Context, d serverDeps) (*servers, error) {
	validator, err := service.NewValidator()
	if err != nil {
		return nil, err
	}
	onPanic := func(ctx context.Context, p any) error {
		d.log.ErrorContext(ctx, "panic in handler", "panic", fmt.Sprint(p))
		return status.Error(codes.Internal, "internal error")
	}
	rpcLog := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		d.log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	authn := newAuthenticator(d.cfg.Auth, d.log, d.mgr.ShopApp) // API keys (docs/security.md)
	gs := grpc.NewServer(
		grpc.StatsHandler(inboundGRPC(d.tp, d.obs.provider.MeterProvider())), // spans, rpc.server.call.duration (telemetry.go)
		// The uploads' cap; other requests are capped by service.DecodeRequest.
		grpc.MaxRecvMsgSize(service.MaxUploadBytes),
		grpc.ForceServerCodecV2(newRequestCodec()), // undecodable requests are InvalidArgument (codec.go)
		grpc.MaxConcurrentStreams(uint32(d.cfg.MaxStreams)),
		// Connection limits (grpclimits.go): handshake deadline, idle close,
		// keepalive enforcement, header list cap.
		grpc.ConnectionTimeout(d.cfg.GRPCHandshakeTimeout),
		grpc.KeepaliveParams(grpcKeepalive(d.cfg)),
		grpc.KeepaliveEnforcementPolicy(grpcKeepaliveEnforcement),
		grpc.MaxHeaderListSize(grpcHeaderListSize(d.cfg)),
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(onPanic)),
			authn.UnaryServerInterceptor(),
			callLogUnary(d.log, rpcLog, logOpts),
			limit.UnaryServerInterceptor(), // x-kwaishop-wait, x-kwaishop-priority
			service.SecurityLogUnary(),     // x-kwaishop-user-ip, -user-url, -operation
			validator.Unary(),
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(recovery.WithRecoveryHandlerContext(onPanic)),
			authn.StreamServerInterceptor(),
			newStreamLimiter(d.cfg.Auth, d.log).StreamServerInterceptor(), // after authn: counts by key
			logging.StreamServerInterceptor(rpcLog, logOpts...),
			limit.StreamServerInterceptor(),
			service.SecurityLogStream(),
			validator.Stream(),
		),
	)
	gatewayv1.RegisterPlatformServiceServer(gs, service.NewPlatform(d.client, d.tokens, d.log, service.WithAccessLog(accessLog(d.seclog))))
	gatewayv1.RegisterAuthorizationServiceServer(gs, service.NewAuthorization(d.authz, d.mgr, d.keyID, testUserCutoff, d.log))
	gatewayv1.RegisterStatsServiceServer(gs, service.NewStats(d.obs.stats, d.log))
	gatewayv1.RegisterMessageServiceServer(gs, service.NewMessage(d.msgs.log, d.msgs.groups, d.log, ctx.Done()))
	gatewayv1.RegisterWebhookServiceServer(gs, service.NewWebhook(d.hooks.engine, d.log))
	// Typed commerce services; their writes keep first results in the
	// idempotency bucket.
	writes, err := d.store.Idempotency(ctx)
	if err != nil {
		return nil, err
	}
	shops, err := service.NewCommerce(service.CommerceConfig{Caller: d.client, Tokens: d.tokens, Writes: writes, Log: d.log, AccessLog: accessLog(d.seclog)})
	if err != nil {
		return nil, err
	}
	gatewayv1.RegisterOrderServiceServer(gs, shops.Order)
	gatewayv1.RegisterItemServiceServer(gs, shops.Item)
	gatewayv1.RegisterRefundServiceServer(gs, shops.Refund)
	gatewayv1.RegisterLogisticsServiceServer(gs, shops.Logistics)
	gatewayv1.RegisterShopServiceServer(gs, shops.Shop)
	gatewayv1.RegisterSecurityServiceServer(gs, service.NewSecurity(shops))
	gatewayv1.RegisterSecurityLogServiceServer(gs, service.NewSecurityLog(d.seclog, d.tokens, d.log))
	hs := health.NewServer()
	hs.Shutdown() // NOT_SERVING until ready
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	// REST: grpc-gateway against our own gRPC port, so one interceptor chain
	// serves both transports.
	// The HTTP edge (httpedge.go): browser-origin checks, strict JSON
	// bodies, and one error shape for every refusal.
	edge, err := newHTTPEdge(d.cfg, authn.Enabled(), d.log)
	if err != nil {
		return nil, err
	}
	gw := runtime.NewServeMux(append(edge.muxOptions(), runtime.WithIncomingHeaderMatcher(gatewayHeaders))...)
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(d.tp), otelgrpc.WithPropagators(otel.GetTextMapPropagator()))),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	dialOpts = append(dialOpts, gatewayHeaderBudget(d.cfg.MaxHeaderBytes)...) // forwarded headers fit the gRPC cap
	endpoint := loopbackEndpoint(d.cfg.GRPCAddr)
	if d.hop != nil {
		endpoint, dialOpts = hopEndpoint, append(dialOpts, d.hop.dialOption())
	}
	for _, reg := range []func(context.Context, *runtime.ServeMux, string, []grpc.DialOption) error{
		gatewayv1.RegisterPlatformServiceHandlerFromEndpoint,
		gatewayv1.RegisterAuthorizationServiceHandlerFromEndpoint,
		gatewayv1.RegisterStatsServiceHandlerFromEndpoint,
		gatewayv1.RegisterMessageServiceHandlerFromEndpoint,
		gatewayv1.RegisterWebhookServiceHandlerFromEndpoint,
		gatewayv1.RegisterOrderServiceHandlerFromEndpoint,
		gatewayv1.RegisterItemServiceHandlerFromEndpoint,
		gatewayv1.RegisterRefundServiceHandlerFromEndpoint,
		gatewayv1.RegisterLogisticsServiceHandlerFromEndpoint,
		gatewayv1.RegisterShopServiceHandlerFromEndpoint,
		gatewayv1.RegisterSecurityServiceHandlerFromEndpoint,
		gatewayv1.RegisterSecurityLogServiceHandlerFromEndpoint,
	} {
		if err := reg(ctx, gw, endpoint, dialOpts); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if !d.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return
		}
		if err := d.store.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON)
	})
	callback, appCallbacks := oauthCallbacks(d.cfg, d.apps, d.mgr, d.log)
	mux.Handle("GET /oauth/callback", callback)
	mux.Handle("GET /oauth/callback/{"+appPathKey+"}", appCallbacks)
	mux.Handle("GET /oauth/start", oauthStart(d.cfg, d.mgr, d.log))
	mux.Handle("GET /metrics", authn.HTTP("stats", d.obs.provider.Handler())) // a key with rpc=stats and every shop
	mux.Handle("/dashboard", dashboard.Handler())
	mux.Handle("/dashboard/", dashboard.Handler())
	// The platform's pushes: outside the gateway mux's cap, with the intake's own.
	mux.Handle("POST "+PushPath, d.msgs.intake)
	mux.Handle("POST "+PushPath+"/{"+intake.PathApp+"}", d.msgs.intake) // one app's pushes only
	// The uploads' body cap; other routes are capped by the edge middleware.
	mux.Handle("/", http.MaxBytesHandler(gw, maxUploadBodyBytes))

	// Spans and http.server.request.duration (telemetry.go); scrapes of
	// /metrics are neither.
	handler := inboundHTTP(edge.wrap(clientCertGuard(d.cfg, mux)), d.tp, d.obs.provider.MeterProvider(), d.cfg.HTTPAddr)
	hsrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    int(d.cfg.MaxHeaderBytes), // 431 beyond; the gRPC cap leaves room for what the gateway adds
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	return &servers{grpc: gs, http: hsrv, health: hs}, nil
}

// callLogUnary runs the call log (the logging interceptor, writing one
// "finished call" line per RPC at the level of its code) only when its line
// can be written. Below info (KWAISHOP_LOG_LEVEL=warn or error) a call that
// ends OK, or with any other code logged at info, writes nothing, yet the
// interceptor would still build its fields on every call: here the call
// runs first, and only a call whose line the logger takes is replayed
// through the interceptor, with its real start time and duration.
func callLogUnary(log *slog.Logger, l logging.Logger, opts []logging.Option) grpc.UnaryServerInterceptor {
	callLog := logging.UnaryServerInterceptor(l, opts...)
	replayLog := logging.UnaryServerInterceptor(l, append(slices.Clip(opts), logging.WithFieldsFromContextAndCallMeta(replayedCallFields))...)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if log.Enabled(ctx, slog.LevelInfo) {
			return callLog(ctx, req, info, h)
		}
		start := time.Now()
		resp, err := h(ctx, req)
		lvl := logging.DefaultServerCodeToLevel(logging.DefaultErrorToCode(err))
		if !log.Enabled(ctx, slog.Level(lvl)) {
			return resp, err
		}
		replay := context.WithValue(ctx, replayedCallKey{}, replayedCall{start: start, took: time.Since(start)})
		return replayLog(replay, req, info, func(context.Context, any) (any, error) { return resp, err })
	}
}

type replayedCallKey struct{}

// replayedCall is when a call replayed through the call log started and
// how long it took.
type replayedCall struct {
	start time.Time
	took  time.Duration
}

// replayedCallFields gives a replayed call's line its real start time and
// duration (the logging interceptor's own would be the replay's); these
// fields take precedence over the interceptor's, so they come first.
func replayedCallFields(ctx context.Context, _ interceptors.CallMeta) logging.Fields {
	c, _ := ctx.Value(replayedCallKey{}).(replayedCall)
	return append(logging.Fields{"grpc.start_time", c.start.Format(time.RFC3339)}, logging.DurationToTimeMillisFields(c.took)...)
}

// listeners are the gateway's two ports, with their connection caps and
// TLS, and the REST gateway's in-process hop to the gRPC server.
type listeners struct {
	grpc, http         net.Listener
	grpcAddr, httpAddr string // bound addresses (port 0 resolved)
	hop                *gatewayHop
}

// newListeners checks the exposure rule, loads the TLS material and
// listens on both ports.
func newListeners(cfg config.Config, log *slog.Logger) (*listeners, func(), error) {
	if err := checkExposure(cfg); err != nil { // no API keys: loopback only (docs/security.md)
		return nil, nil, err
	}
	grpcTLS, httpTLS, err := serverTLS(cfg) // optional TLS / mTLS (docs/security.md)
	if err != nil {
		return nil, nil, err
	}
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("app: listen gRPC: %w", err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = grpcLis.Close()
		return nil, nil, fmt.Errorf("app: listen HTTP: %w", err)
	}
	l := &listeners{grpcAddr: grpcLis.Addr().String(), httpAddr: httpLis.Addr().String(), hop: newGatewayHop()}
	stop := func() { _ = httpLis.Close(); _ = grpcLis.Close() }
	// Connection caps (docs/security.md); the REST gateway reaches the gRPC
	// server in-process, so a flood of the gRPC port cannot take REST down.
	l.grpc, l.http = limitConns(grpcLis, cfg.GRPCMaxConns, "grpc", log), limitConns(httpLis, cfg.HTTPMaxConns, "http", log)
	if grpcTLS != nil {
		l.grpc, l.http = tls.NewListener(l.grpc, grpcTLS), tls.NewListener(l.http, httpTLS)
	}
	return l, stop, nil
}

// loopbackEndpoint turns a wildcard listen address into one we can dial.
func loopbackEndpoint(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// upstreamTransport is the base transport for platform calls.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// appPathKey is the wildcard of the per-app OAuth callback route.
const appPathKey = "app_key"

// oauthCallbacks builds the OAuth callback of every app: at
// /oauth/callback/{app_key} each app's (its codes, its state rule:
// config.App.RequireState), and at /oauth/callback the one for codes whose
// state names the app, or the only app's. With several apps a code without
// a state names no app there, so that route requires the state. All share
// one per-client and one stateless budget.
func oauthCallbacks(cfg config.Config, apps []config.App, mgr *token.Manager, log *slog.Logger) (http.Handler, http.Handler) {
	base := oauthCallback(cfg, mgr, log)
	byApp := make(map[string]*callbackHandler, len(apps))
	for _, a := range apps {
		h := *base
		h.app, h.RequireState = a.Key, a.StateRequired()
		byApp[a.Key] = &h
	}
	base.RequireState = len(apps) != 1 || apps[0].StateRequired()
	perApp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := byApp[r.PathValue(appPathKey)]
		if !ok {
			writeResult(w, http.StatusNotFound, "", resultData{Error: pageBadLink})
			return
		}
		h.ServeHTTP(w, r)
	})
	return base, perApp
}
