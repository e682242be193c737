package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/breaker"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// checkExposure enforces the exposure rule again at start (config
// validation checks it too): without API keys the server only listens on
// loopback, unless anonymous access is explicitly allowed.
func checkExposure(cfg config.Config) error {
	if cfg.Auth.Keys.Len() > 0 || cfg.AllowAnonymous {
		return nil
	}
	for _, addr := range []string{cfg.GRPCAddr, cfg.HTTPAddr} {
		if !config.IsLoopback(addr) {
			return fmt.Errorf("app: refusing to serve %s without API keys: set KWAISHOP_API_KEYS, listen on 127.0.0.1, or set KWAISHOP_ALLOW_ANONYMOUS=true", addr)
		}
	}
	return nil
}

// newAuthenticator builds the caller check from the API keys; shopApp
// tells keys limited to apps which app a shop authorized.
func newAuthenticator(s auth.Settings, log *slog.Logger, shopApp auth.ShopApp) *auth.Authenticator {
	if s.Keys.Len() == 0 {
		log.Warn("no API keys configured: every caller has full access (loopback only unless KWAISHOP_ALLOW_ANONYMOUS)")
	} else {
		log.Info("caller authentication on", "keys", s.Keys.Names())
	}
	return auth.New(auth.Config{
		Keys:    s.Keys,
		Status:  func(ctx context.Context, err error) error { return service.ToStatus(ctx, log, err) },
		Log:     log.With("component", "auth"),
		ShopApp: shopApp,
	})
}

// guards are the platform clients' gates: the circuit breakers first (fail
// fast without spending budget), then the shared limits, each app drawing
// from its own budget.
type guards struct {
	breakers *breaker.Set
	limiter  *limit.Limiter
}

// forApp is the gate of one app's platform client.
func (g *guards) forApp(a limit.App) platform.Gate {
	return platform.Gates{g.breakers, g.limiter.ForApp(a)}
}

// newGuards builds the breakers and the shared limits; testUser names the
// test user whose cap a shop's calls count against. The
// stop gives unused leased quota back.
func newGuards(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, now func() time.Time,
	testUser func(ctx context.Context, openID string) string) (*guards, func(), error) {
	bs, err := breaker.New(breaker.Config{
		Failures: int(cfg.BreakerFailures), Cooldown: cfg.BreakerCooldown, Log: log.With("component", "breaker"),
	})
	if err != nil {
		return nil, nil, err
	}
	lc := cfg.Limit.Config()
	lc.JetStream, lc.Replicas, lc.Now, lc.Log = st.JetStream(), st.Replicas(), now, log.With("component", "limit")
	lc.TestUser = testUser
	lim, err := limit.New(ctx, lc)
	if err != nil {
		return nil, nil, err
	}
	g := &guards{breakers: bs, limiter: lim}
	return g, g.close, nil
}

// close gives unused leased quota back.
func (g *guards) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	g.limiter.Close(ctx)
}

// gatewayHeaders forwards the limit headers of REST callers (X-Kwaishop-Wait,
// X-Kwaishop-Priority) to gRPC metadata; everything else as grpc-gateway
// does by default (Authorization always passes through).
func gatewayHeaders(key string) (string, bool) {
	switch textproto.CanonicalMIMEHeaderKey(key) {
	case textproto.CanonicalMIMEHeaderKey(limit.MetadataWait), textproto.CanonicalMIMEHeaderKey(limit.MetadataPriority),
		textproto.CanonicalMIMEHeaderKey(securitylog.MetadataUserIP), textproto.CanonicalMIMEHeaderKey(securitylog.MetadataUserURL),
		textproto.CanonicalMIMEHeaderKey(securitylog.MetadataOperation):
		return strings.ToLower(key), true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// attributionHeaders are the REST headers that name the end user of an
// access (docs/security-logs.md, Attribution), each as sent and under
// grpc-gateway's Grpc-Metadata- prefix, with the metadata it becomes.
var attributionHeaders = func() [][2]string {
	var out [][2]string
	for _, md := range []string{securitylog.MetadataUserIP, securitylog.MetadataUserURL, securitylog.MetadataOperation} {
		out = append(out, [2]string{textproto.CanonicalMIMEHeaderKey(md), md},
			[2]string{textproto.CanonicalMIMEHeaderKey(runtime.MetadataHeaderPrefix + md), md})
	}
	return out
}()

// checkAttributionHeaders refuses an attribution header gRPC metadata
// cannot carry (a byte outside printable ASCII: UTF-8 or not): grpc-gateway
// would drop the value silently, and the access would be logged with the
// defaults instead of the end user the caller named.
func checkAttributionHeaders(h http.Header) error {
	for _, hm := range attributionHeaders {
		for _, v := range h[hm[0]] {
			if !printableASCII(v) {
				return service.InvalidArgument(service.FieldViolation{Field: hm[1],
					Description: "want printable ASCII characters only (percent-encode the others, as in a URL)"})
			}
		}
	}
	return nil
}

// serverTLS loads KWAISHOP_TLS_CERT/KEY (nil, nil when unset). With
// KWAISHOP_TLS_CLIENT_CA the gRPC listener requires client certificates
// signed by it (mTLS); the HTTP listener asks for them and clientCertGuard
// requires one on every route but the platform- and probe-facing ones.
func serverTLS(cfg config.Config) (grpcTLS, httpTLS *tls.Config, err error) {
	if cfg.TLSCert == "" {
		return nil, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("app: KWAISHOP_TLS_CERT/KEY: %w", err)
	}
	base := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(cfg.TLSClientCA)
		if err != nil {
			return nil, nil, fmt.Errorf("app: KWAISHOP_TLS_CLIENT_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("app: KWAISHOP_TLS_CLIENT_CA %s: no PEM certificate", cfg.TLSClientCA)
		}
		base.ClientCAs = pool
	}
	grpcTLS, httpTLS = base.Clone(), base.Clone()
	grpcTLS.NextProtos = []string{"h2"}
	httpTLS.NextProtos = []string{"h2", "http/1.1"}
	if base.ClientCAs != nil {
		grpcTLS.ClientAuth = tls.RequireAndVerifyClientCert
		httpTLS.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return grpcTLS, httpTLS, nil
}

// certFreePaths stay reachable without a client certificate under mTLS:
// probes, and the routes the platform and merchants' browsers call (they
// are protected by the OAuth state and the message key instead).
var certFreePaths = map[string]bool{"/healthz": true, "/readyz": true, "/oauth/callback": true, "/oauth/start": true, PushPath: true}

// certFreePrefixes are the per-app routes of the same kind
// (/oauth/callback/{app_key}, /callbacks/messages/{app_key}).
var certFreePrefixes = []string{"/oauth/callback/", PushPath + "/"}

// certFree reports whether path stays reachable without a client
// certificate.
func certFree(path string) bool {
	if certFreePaths[path] {
		return true
	}
	for _, p := range certFreePrefixes {
		if rest, ok := strings.CutPrefix(path, p); ok && rest != "" && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}

// clientCertGuard requires a verified client certificate on every other
// HTTP route when mTLS is on (a no-op otherwise).
func clientCertGuard(cfg config.Config, h http.Handler) http.Handler {
	if cfg.TLSClientCA == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if certFree(r.URL.Path) || (r.TLS != nil && len(r.TLS.VerifiedChains) > 0) {
			h.ServeHTTP(w, r)
			return
		}
		writeRESTError(r.Context(), w, errClientCertRequired)
	})
}

// gatewayHop is the REST gateway's in-process connection to the gRPC
// server: the hop stays inside the process, so the gateway needs no client
// certificate of its own under TLS, and it is outside the gRPC listener's
// connection cap (a flood of the gRPC port cannot take REST down).
type gatewayHop struct{ lis *bufconn.Listener }

func newGatewayHop() *gatewayHop { return &gatewayHop{lis: bufconn.Listen(1 << 20)} }

func (h *gatewayHop) dialOption() grpc.DialOption {
	return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return h.lis.DialContext(ctx) })
}

// hopEndpoint is the gateway's target when it uses the hop.
const hopEndpoint = "passthrough:///in-process"
