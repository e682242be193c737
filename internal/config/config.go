// Package config is the server's one configuration loader: defaults, then an
// optional YAML file, then environment variables, then flags (each env var
// KWAISHOP_FOO_BAR is the flag --foo-bar). Validate reports every violation.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// Config is the server configuration; the README's Configuration section
// lists every setting.
type Config struct {
	GRPCAddr      string        `env:"KWAISHOP_GRPC_ADDR" usage:"gRPC listen address"`
	HTTPAddr      string        `env:"KWAISHOP_HTTP_ADDR" usage:"REST gateway, OAuth callback, message webhook, dashboard, metrics and health listen address"`
	AppKey        string        `env:"KWAISHOP_APP_KEY" usage:"the app's appKey; all credentials empty = sandbox mode"`
	AppSecret     secret.String `env:"KWAISHOP_APP_SECRET" usage:"the app's appSecret"`
	SignSecret    secret.String `env:"KWAISHOP_SIGN_SECRET" usage:"the app's signSecret"`
	SignMethod    string        `env:"KWAISHOP_SIGN_METHOD" usage:"HMAC_SHA256 or MD5"`
	AppState      string        `env:"KWAISHOP_APP_STATE" usage:"online, or test (only test users may authorize; their authorizations end after 10 days); sandbox mode is always test"`
	MessageKey    secret.String `env:"KWAISHOP_MESSAGE_KEY" usage:"base64 AES key for pushed messages"`
	APIBaseURL    string        `env:"KWAISHOP_API_BASE_URL" usage:"platform gateway base URL (also the OAuth token endpoints)"`
	AuthorizeURL  string        `env:"KWAISHOP_AUTHORIZE_URL" usage:"merchant consent page URL"`
	RedirectURI   string        `env:"KWAISHOP_REDIRECT_URI" usage:"registered OAuth callback (default http://<http addr>/oauth/callback)"`
	DataDir       string        `env:"KWAISHOP_DATA_DIR" usage:"embedded NATS store and generated sandbox secrets"`
	NATSURL       string        `env:"KWAISHOP_NATS_URL" usage:"external NATS URL(s); set = no embedded server"`
	NATSListen    string        `env:"KWAISHOP_NATS_LISTEN" usage:"let the embedded NATS server listen on this host:port (default: no TCP port)"`
	NATSReplicas  int64         `env:"KWAISHOP_NATS_REPLICAS" usage:"replicas of every JetStream stream and KV bucket on an external NATS cluster (1-5; 3 for a 3-node cluster)"`
	TokenKeys     secret.String `env:"KWAISHOP_TOKEN_KEYS" usage:"token encryption keys id:base64key,... (first encrypts); generated in sandbox mode"`
	APIKeys       secret.String `env:"KWAISHOP_API_KEYS" usage:"caller API keys name:secret[:scope...],..."`
	LogLevel      string        `env:"KWAISHOP_LOG_LEVEL" usage:"debug, info, warn or error"`
	LogFormat     string        `env:"KWAISHOP_LOG_FORMAT" usage:"json or text"`
	CallTimeout   time.Duration `env:"KWAISHOP_CALL_TIMEOUT" usage:"deadline of one upstream platform call"`
	ShutdownGrace time.Duration `env:"KWAISHOP_SHUTDOWN_GRACE" usage:"how long shutdown waits for in-flight calls"`
	SandboxSeed   int64         `env:"KWAISHOP_SANDBOX_SEED" usage:"seed of the embedded sandbox's shop data"`
	ReplicaID     string        `env:"KWAISHOP_REPLICA_ID" usage:"this replica's name in refresh leases (default: host name + random suffix)"`
	LeaseTTL      time.Duration `env:"KWAISHOP_REFRESH_LEASE_TTL" usage:"how long a replica may hold a shop's refresh lease before another takes over"`
	ConfigFile    string        `env:"KWAISHOP_CONFIG" usage:"optional YAML file with the same settings (keys = flag names)"`
	PprofAddr     string        `env:"KWAISHOP_PPROF_ADDR" usage:"serve net/http/pprof on this loopback host:port, for profiling (empty = off)"`

	// Observability (docs/observability.md).
	DailyQuota         int64         `env:"KWAISHOP_DAILY_QUOTA" usage:"the app's daily platform call quota, for the quota view and its 90% warning (100000 before launch, 1000000 after)"`
	TestUserDailyQuota int64         `env:"KWAISHOP_TEST_USER_DAILY_QUOTA" usage:"daily platform call cap of each test user"`
	StatsFlushInterval time.Duration `env:"KWAISHOP_STATS_FLUSH_INTERVAL" usage:"how often a replica writes its call statistics to the store"`

	// Pushed messages (docs/messages.md).
	MessageKeys         secret.String `env:"KWAISHOP_MESSAGE_KEYS" usage:"message keys of further apps, appKey:base64key,... (KWAISHOP_MESSAGE_KEY is this app's)"`
	MessageDedupeWindow time.Duration `env:"KWAISHOP_MESSAGE_DEDUPE_WINDOW" usage:"how long a pushed event is remembered for de-duplication (at least 2h5m, the platform's retry horizon)"`
	MessageRetention    time.Duration `env:"KWAISHOP_MESSAGE_RETENTION" usage:"how long messages and dead letters are kept (at least the dedupe window)"`
	ReconcileInterval   time.Duration `env:"KWAISHOP_RECONCILE_INTERVAL" usage:"how often active shops' orders and refunds are polled for changes no push covered; 0 = off"`
	ReconcileLag        time.Duration `env:"KWAISHOP_RECONCILE_LAG" usage:"how far behind now a reconciliation poll stops, so pushes of the newest changes arrive first"`

	// Callers, limits and resilience (docs/security.md).
	AllowAnonymous  bool          `env:"KWAISHOP_ALLOW_ANONYMOUS" usage:"serve without API keys on a non-loopback address (every caller gets full access); without it such a start is refused"`
	TLSCert         string        `env:"KWAISHOP_TLS_CERT" usage:"PEM certificate (chain) file: serve gRPC and HTTP over TLS"`
	TLSKey          string        `env:"KWAISHOP_TLS_KEY" usage:"PEM private key file of KWAISHOP_TLS_CERT"`
	TLSClientCA     string        `env:"KWAISHOP_TLS_CLIENT_CA" usage:"PEM CA bundle: require client certificates it signed (mTLS), on both listeners"`
	APIQPS          int64         `env:"KWAISHOP_API_QPS" usage:"each platform API's QPS for the app, shared by all replicas (0 = no client-side QPS limit)"`
	APIQPSOverrides string        `env:"KWAISHOP_API_QPS_OVERRIDES" usage:"per-API QPS method=app[/user],... on top of the platform's table (item writes 100/50 per user, open.order.cursor.list 300/300, open.order.decrypt.batch 100/100)"`
	QPSHeadroom     int64         `env:"KWAISHOP_QPS_HEADROOM" usage:"percent of every QPS limit left unused for jitter between replicas and the platform (0-50)"`
	LimitMaxQueue   time.Duration `env:"KWAISHOP_LIMIT_MAX_QUEUE" usage:"how long a call waits for a QPS slot before RESOURCE_EXHAUSTED, unless the caller sends x-kwaishop-wait: true (then up to its deadline)"`
	MaxInFlight     int64         `env:"KWAISHOP_MAX_IN_FLIGHT" usage:"concurrent upstream calls per replica (bulk reads may use half, reads three quarters; 0 = no cap)"`
	MaxStreams      int64         `env:"KWAISHOP_MAX_STREAMS" usage:"concurrent gRPC streams (calls) per client connection"`
	BreakerFailures int64         `env:"KWAISHOP_BREAKER_FAILURES" usage:"consecutive upstream failures of one platform API that open its circuit breaker"`
	BreakerCooldown time.Duration `env:"KWAISHOP_BREAKER_COOLDOWN" usage:"how long an open circuit breaker fails calls fast before a probe (doubles after a failed probe, up to 2m)"`

	// Hostile callers: the HTTP edge (docs/security.md).
	AllowedHosts   string `env:"KWAISHOP_ALLOWED_HOSTS" usage:"without API keys, host names (host or host:port, comma-separated) the HTTP listener answers besides localhost, IP addresses, the listen address and the redirect URI's host; other Host headers are refused 403 (DNS rebinding)"`
	AllowedOrigins string `env:"KWAISHOP_ALLOWED_ORIGINS" usage:"browser origins (scheme://host[:port], comma-separated) besides the gateway's own that may send state-changing REST requests; other cross-origin ones are refused 403"`

	// Hostile callers: gRPC connection limits (docs/security.md).
	MaxHeaderBytes       int64         `env:"KWAISHOP_MAX_HEADER_BYTES" usage:"largest request header block accepted, in bytes: HTTP answers 431 beyond it; the gRPC header list may hold 32 KiB more (room for what the REST gateway adds)"`
	GRPCMaxConns         int64         `env:"KWAISHOP_GRPC_MAX_CONNS" usage:"open connections the gRPC listener keeps; one more is closed as soon as it is accepted (the REST gateway's own connection is in-process and not counted)"`
	HTTPMaxConns         int64         `env:"KWAISHOP_HTTP_MAX_CONNS" usage:"open connections the HTTP listener keeps; one more is closed as soon as it is accepted"`
	GRPCHandshakeTimeout time.Duration `env:"KWAISHOP_GRPC_HANDSHAKE_TIMEOUT" usage:"how long a new gRPC connection may take to finish its TLS and HTTP/2 handshake before it is closed"`
	GRPCMaxConnIdle      time.Duration `env:"KWAISHOP_GRPC_MAX_CONN_IDLE" usage:"a gRPC connection without a call for this long is closed with GOAWAY (clients reconnect on their next call)"`
	MaxStreamsPerKey     int64         `env:"KWAISHOP_MAX_STREAMS_PER_KEY" usage:"streaming calls (WatchAuthorizationEvents, Subscribe, health Watch) one API key may hold open at once, over all its connections; calls without a key count per client IP"`

	// Hostile callers: OAuth start and return URLs (docs/security.md).
	OAuthStartRate     int64  `env:"KWAISHOP_OAUTH_START_RATE" usage:"GET /oauth/start requests per minute from one client IP (an IPv6 /64 counts as one); more are refused 429 (0 = no limit)"`
	OAuthStartBurst    int64  `env:"KWAISHOP_OAUTH_START_BURST" usage:"GET /oauth/start requests one client IP may send at once before KWAISHOP_OAUTH_START_RATE applies"`
	OAuthStateMaxBytes int64  `env:"KWAISHOP_OAUTH_STATE_MAX_BYTES" usage:"bytes the pending OAuth states may take in the store; a start beyond it is refused (503) until states are used or expire"`
	OAuthReturnHosts   string `env:"KWAISHOP_OAUTH_RETURN_HOSTS" usage:"hosts (host or host:port, comma-separated) a StartAuthorization return_url may point at (default: the host of the redirect URI)"`

	// External NATS: credentials and TLS (docs/deploy.md).
	NATSCreds    string        `env:"KWAISHOP_NATS_CREDS" usage:"NATS credentials file (user JWT + nkey seed) for KWAISHOP_NATS_URL; re-read on every reconnect"`
	NATSNkeySeed string        `env:"KWAISHOP_NATS_NKEY_SEED" usage:"file holding a NATS user nkey seed (SU...) for KWAISHOP_NATS_URL; read at start"`
	NATSUser     string        `env:"KWAISHOP_NATS_USER" usage:"user name for KWAISHOP_NATS_URL (with KWAISHOP_NATS_PASSWORD)"`
	NATSPassword secret.String `env:"KWAISHOP_NATS_PASSWORD" usage:"password of KWAISHOP_NATS_USER"`
	NATSCA       string        `env:"KWAISHOP_NATS_CA" usage:"PEM CA bundle the NATS servers' certificates must chain to; set = TLS required"`
	NATSCert     string        `env:"KWAISHOP_NATS_CERT" usage:"PEM client certificate for NATS mutual TLS (with KWAISHOP_NATS_KEY)"`
	NATSKey      string        `env:"KWAISHOP_NATS_KEY" usage:"PEM private key of KWAISHOP_NATS_CERT"`

	// Webhooks (docs/webhooks.md).
	WebhookAllowPrivate  bool          `env:"KWAISHOP_WEBHOOK_ALLOW_PRIVATE" usage:"let webhook endpoints point at loopback, private (RFC 1918, ULA), link-local and other special-purpose addresses (refused by default: SSRF)"`
	WebhookAllowHTTP     bool          `env:"KWAISHOP_WEBHOOK_ALLOW_HTTP" usage:"let webhook endpoints use http:// URLs (default: https only)"`
	WebhookTimeout       time.Duration `env:"KWAISHOP_WEBHOOK_TIMEOUT" usage:"how long one webhook delivery attempt may take, answer included"`
	WebhookRetryInitial  time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_INITIAL" usage:"delay before the first webhook retry; it doubles (with jitter) up to KWAISHOP_WEBHOOK_RETRY_MAX_DELAY"`
	WebhookRetryMaxDelay time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_MAX_DELAY" usage:"longest delay between two webhook retries"`
	WebhookRetryBudget   time.Duration `env:"KWAISHOP_WEBHOOK_RETRY_BUDGET" usage:"how long a webhook event is retried before it becomes a dead letter"`
	WebhookDisableAfter  time.Duration `env:"KWAISHOP_WEBHOOK_DISABLE_AFTER" usage:"a webhook endpoint whose every attempt failed for this long is disabled (0 = never)"`
	WebhookConcurrency   int64         `env:"KWAISHOP_WEBHOOK_CONCURRENCY" usage:"concurrent delivery attempts per webhook endpoint (events of one shop are always sent one at a time, in order)"`
	WebhookMaxEndpoints  int64         `env:"KWAISHOP_WEBHOOK_MAX_ENDPOINTS" usage:"webhook endpoints the server keeps; creating one more is refused"`
	WebhookSecretGrace   time.Duration `env:"KWAISHOP_WEBHOOK_SECRET_GRACE" usage:"how long a rotated webhook secret keeps signing beside the new one, unless the rotation names a grace"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		GRPCAddr:      "127.0.0.1:9090",
		HTTPAddr:      "127.0.0.1:8080",
		SignMethod:    string(sign.HMACSHA256),
		AppState:      "online",
		APIBaseURL:    "https://openapi.kwaixiaodian.com",
		AuthorizeURL:  "https://open.kwaixiaodian.com/oauth/authorize",
		DataDir:       "./data",
		LogLevel:      "info",
		LogFormat:     "json",
		CallTimeout:   10 * time.Second,
		ShutdownGrace: 15 * time.Second,
		SandboxSeed:   1,
		LeaseTTL:      30 * time.Second,
		NATSReplicas:  1,

		DailyQuota:         100000,
		TestUserDailyQuota: 2000,
		StatsFlushInterval: 5 * time.Second,

		MessageDedupeWindow: message.DefaultDedupeWindow,
		MessageRetention:    message.DefaultRetention,
		ReconcileInterval:   message.DefaultReconcileInterval,
		ReconcileLag:        message.DefaultReconcileLag,

		APIQPS:          limit.DefaultQPS,
		QPSHeadroom:     10,
		LimitMaxQueue:   time.Second,
		MaxInFlight:     256,
		MaxStreams:      1000,
		BreakerFailures: 5,
		BreakerCooldown: 10 * time.Second,

		// Hostile callers: the HTTP edge.

		// Hostile callers: gRPC connection limits.
		MaxHeaderBytes:       64 << 10,
		GRPCMaxConns:         1000,
		HTTPMaxConns:         1000,
		GRPCHandshakeTimeout: 10 * time.Second,
		GRPCMaxConnIdle:      5 * time.Minute,
		MaxStreamsPerKey:     100,

		// Hostile callers: OAuth start and return URLs.
		OAuthStartRate:     30,
		OAuthStartBurst:    10,
		OAuthStateMaxBytes: store.DefaultStateMaxBytes,

		// External NATS: credentials and TLS.

		// Webhooks (docs/webhooks.md).
		WebhookTimeout:       webhook.DefaultTimeout,
		WebhookRetryInitial:  webhook.DefaultRetryInitial,
		WebhookRetryMaxDelay: webhook.DefaultRetryMaxDelay,
		WebhookRetryBudget:   webhook.DefaultRetryBudget,
		WebhookDisableAfter:  webhook.DefaultDisableAfter,
		WebhookConcurrency:   webhook.DefaultConcurrency,
		WebhookMaxEndpoints:  webhook.DefaultMaxEndpoints,
		WebhookSecretGrace:   webhook.DefaultSecretGrace,
	}
}

// SandboxMode reports whether no app credentials are set, so the server runs
// the embedded sandbox.
func (c Config) SandboxMode() bool {
	return c.AppKey == "" && c.AppSecret.Empty() && c.SignSecret.Empty()
}

// EffectiveRedirectURI is RedirectURI or the default derived from HTTPAddr.
func (c Config) EffectiveRedirectURI() string {
	if c.RedirectURI != "" {
		return c.RedirectURI
	}
	return "http://" + c.HTTPAddr + "/oauth/callback"
}

// NATSAuth is the credentials and TLS material for KWAISHOP_NATS_URL.
func (c Config) NATSAuth() store.Auth {
	return store.Auth{
		CredsFile: c.NATSCreds, NkeySeedFile: c.NATSNkeySeed, User: c.NATSUser, Password: c.NATSPassword,
		CAFile: c.NATSCA, CertFile: c.NATSCert, KeyFile: c.NATSKey,
	}
}

// Validate reports every violation at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", env, fmt.Sprintf(format, a...)))
	}
	for env, addr := range map[string]string{"KWAISHOP_GRPC_ADDR": c.GRPCAddr, "KWAISHOP_HTTP_ADDR": c.HTTPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(env, "want host:port, got %q", addr)
		}
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 || (c.NATSReplicas > 1 && c.NATSURL == "") {
		bad("KWAISHOP_NATS_REPLICAS", "want 1-5, and more than 1 only with KWAISHOP_NATS_URL, got %d", c.NATSReplicas)
	}
	if c.NATSListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			bad("KWAISHOP_NATS_LISTEN", "want host:port, got %q", c.NATSListen)
		}
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			bad("KWAISHOP_PPROF_ADDR", "want a loopback host:port (127.0.0.1, ::1 or localhost), got %q", c.PprofAddr)
		}
	}
	if !c.SandboxMode() {
		if c.AppKey == "" {
			bad("KWAISHOP_APP_KEY", "required when any app credential is set")
		}
		if c.AppSecret.Empty() {
			bad("KWAISHOP_APP_SECRET", "required when any app credential is set")
		}
		if c.SignSecret.Empty() {
			bad("KWAISHOP_SIGN_SECRET", "required when any app credential is set")
		}
		if c.TokenKeys.Empty() {
			bad("KWAISHOP_TOKEN_KEYS", "required with real credentials (tokens are encrypted at rest)")
		}
	}
	if c.AppKey != "" && !validName(c.AppKey) {
		bad("KWAISHOP_APP_KEY", "must be letters, digits, '-' or '_'")
	}
	if c.AppState != "online" && c.AppState != "test" {
		bad("KWAISHOP_APP_STATE", "want online or test, got %q", c.AppState)
	}
	if _, err := sign.ParseMethod(c.SignMethod); err != nil {
		bad("KWAISHOP_SIGN_METHOD", "want HMAC_SHA256 or MD5, got %q", c.SignMethod)
	}
	if !c.MessageKeys.Empty() {
		if _, err := message.ParseKeys(c.MessageKeys.Reveal()); err != nil {
			bad("KWAISHOP_MESSAGE_KEYS", "want appKey:base64key,...: %v", err)
		}
	}
	if c.MessageDedupeWindow < message.MinDedupeWindow {
		bad("KWAISHOP_MESSAGE_DEDUPE_WINDOW", "must be at least %s (the platform retries for 125 minutes), got %s", message.MinDedupeWindow, c.MessageDedupeWindow)
	}
	if c.MessageRetention < c.MessageDedupeWindow {
		bad("KWAISHOP_MESSAGE_RETENTION", "must be at least the dedupe window (%s), got %s", c.MessageDedupeWindow, c.MessageRetention)
	}
	if c.ReconcileInterval != 0 && c.ReconcileInterval < time.Second {
		bad("KWAISHOP_RECONCILE_INTERVAL", "must be 0 (off) or at least 1s, got %s", c.ReconcileInterval)
	}
	if c.ReconcileLag < 0 {
		bad("KWAISHOP_RECONCILE_LAG", "must not be negative")
	}
	if !c.MessageKey.Empty() {
		k, err := base64.StdEncoding.DecodeString(c.MessageKey.Reveal())
		if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			bad("KWAISHOP_MESSAGE_KEY", "want base64 of a 16, 24 or 32 byte AES key")
		}
	}
	for env, u := range map[string]string{"KWAISHOP_API_BASE_URL": c.APIBaseURL, "KWAISHOP_AUTHORIZE_URL": c.AuthorizeURL, "KWAISHOP_REDIRECT_URI": c.RedirectURI} {
		if u == "" && env == "KWAISHOP_REDIRECT_URI" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(env, "want an absolute http(s) URL, got %q", u)
		}
	}
	if c.NATSURL != "" {
		for _, u := range strings.Split(c.NATSURL, ",") {
			p, err := url.Parse(strings.TrimSpace(u))
			if err != nil || p.Host == "" {
				bad("KWAISHOP_NATS_URL", "want nats://host:port[,...], got %q", u)
			}
		}
	} else if c.DataDir == "" {
		bad("KWAISHOP_DATA_DIR", "required for the embedded store")
	}
	if !c.TokenKeys.Empty() {
		if _, err := store.ParseKeyring(c.TokenKeys.Reveal()); err != nil {
			bad("KWAISHOP_TOKEN_KEYS", "%v", err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("KWAISHOP_LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("KWAISHOP_LOG_FORMAT", "want json or text, got %q", c.LogFormat)
	}
	if c.CallTimeout <= 0 {
		bad("KWAISHOP_CALL_TIMEOUT", "must be positive")
	}
	if c.LeaseTTL <= 0 {
		bad("KWAISHOP_REFRESH_LEASE_TTL", "must be positive")
	}
	if c.ShutdownGrace <= 0 {
		bad("KWAISHOP_SHUTDOWN_GRACE", "must be positive")
	}
	if c.DailyQuota <= 0 {
		bad("KWAISHOP_DAILY_QUOTA", "must be positive")
	}
	if c.TestUserDailyQuota <= 0 {
		bad("KWAISHOP_TEST_USER_DAILY_QUOTA", "must be positive")
	}
	if c.StatsFlushInterval <= 0 {
		bad("KWAISHOP_STATS_FLUSH_INTERVAL", "must be positive")
	}
	errs = append(errs, c.validateSecurity()...)
	return errors.Join(errs...)
}

// validateSecurity checks the caller, limit and resilience settings,
// including the exposure rule (docs/security.md): without API keys the server only listens
// on loopback unless anonymous access is explicitly allowed.
func (c Config) validateSecurity() []error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", env, fmt.Sprintf(format, a...)))
	}
	keys, err := auth.Parse(c.APIKeys.Reveal())
	if err != nil {
		bad("KWAISHOP_API_KEYS", "%v", err)
	} else if keys.Len() == 0 && !c.AllowAnonymous {
		for _, l := range []struct{ env, addr string }{{"KWAISHOP_GRPC_ADDR", c.GRPCAddr}, {"KWAISHOP_HTTP_ADDR", c.HTTPAddr}} {
			if !IsLoopback(l.addr) {
				bad(l.env, "%s is not a loopback address and no API keys are configured: set KWAISHOP_API_KEYS (name:secret[:scope...]), "+
					"listen on 127.0.0.1, or set KWAISHOP_ALLOW_ANONYMOUS=true to serve every caller without a key", l.addr)
			}
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("KWAISHOP_TLS_CERT", "KWAISHOP_TLS_CERT and KWAISHOP_TLS_KEY go together")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		bad("KWAISHOP_TLS_CLIENT_CA", "mTLS needs KWAISHOP_TLS_CERT and KWAISHOP_TLS_KEY too")
	}
	if c.APIQPS < 0 {
		bad("KWAISHOP_API_QPS", "must not be negative (0 = no QPS limit)")
	}
	if _, err := limit.ParseRates(c.APIQPSOverrides); err != nil {
		bad("KWAISHOP_API_QPS_OVERRIDES", "%v", err)
	}
	if c.QPSHeadroom < 0 || c.QPSHeadroom > 50 {
		bad("KWAISHOP_QPS_HEADROOM", "want a percentage from 0 to 50, got %d", c.QPSHeadroom)
	}
	if c.LimitMaxQueue < 0 {
		bad("KWAISHOP_LIMIT_MAX_QUEUE", "must not be negative")
	}
	if c.MaxInFlight < 0 {
		bad("KWAISHOP_MAX_IN_FLIGHT", "must not be negative (0 = no cap)")
	}
	if c.MaxStreams <= 0 || c.MaxStreams > 1<<31-1 {
		bad("KWAISHOP_MAX_STREAMS", "must be positive")
	}
	if c.BreakerFailures <= 0 {
		bad("KWAISHOP_BREAKER_FAILURES", "must be positive")
	}
	if c.BreakerCooldown <= 0 || c.BreakerCooldown > 2*time.Minute {
		bad("KWAISHOP_BREAKER_COOLDOWN", "want more than 0 and at most 2m")
	}
	// Hostile callers: the HTTP edge.
	if _, err := auth.ParseHosts(c.AllowedHosts); err != nil {
		bad("KWAISHOP_ALLOWED_HOSTS", "%v", err)
	}
	if _, err := auth.ParseOrigins(c.AllowedOrigins); err != nil {
		bad("KWAISHOP_ALLOWED_ORIGINS", "%v", err)
	}

	// Hostile callers: gRPC connection limits.
	if c.MaxHeaderBytes < 4<<10 || c.MaxHeaderBytes > 1<<20 {
		bad("KWAISHOP_MAX_HEADER_BYTES", "want 4096 to 1048576 bytes (an API key and the usual headers need a few KiB), got %d", c.MaxHeaderBytes)
	}
	for _, l := range []struct {
		env string
		n   int64
	}{{"KWAISHOP_GRPC_MAX_CONNS", c.GRPCMaxConns}, {"KWAISHOP_HTTP_MAX_CONNS", c.HTTPMaxConns}} {
		if l.n < 1 || l.n > 1<<20 {
			bad(l.env, "want 1 to 1048576 connections, got %d", l.n)
		}
	}
	if c.GRPCHandshakeTimeout <= 0 || c.GRPCHandshakeTimeout > 2*time.Minute {
		bad("KWAISHOP_GRPC_HANDSHAKE_TIMEOUT", "want more than 0 and at most 2m, got %s", c.GRPCHandshakeTimeout)
	}
	if c.GRPCMaxConnIdle <= 0 {
		bad("KWAISHOP_GRPC_MAX_CONN_IDLE", "must be positive, got %s", c.GRPCMaxConnIdle)
	}
	if c.MaxStreamsPerKey < 1 || c.MaxStreamsPerKey > 1<<20 {
		bad("KWAISHOP_MAX_STREAMS_PER_KEY", "want 1 to 1048576 streams, got %d", c.MaxStreamsPerKey)
	}

	// Hostile callers: OAuth start and return URLs.
	if c.OAuthStartRate < 0 || c.OAuthStartRate > 1_000_000 {
		bad("KWAISHOP_OAUTH_START_RATE", "want requests per minute from 0 (no limit) to 1000000, got %d", c.OAuthStartRate)
	}
	if c.OAuthStartBurst < 1 || c.OAuthStartBurst > 1_000_000 {
		bad("KWAISHOP_OAUTH_START_BURST", "want 1 to 1000000 requests, got %d", c.OAuthStartBurst)
	}
	if c.OAuthStateMaxBytes < 64<<10 || c.OAuthStateMaxBytes > 1<<30 {
		bad("KWAISHOP_OAUTH_STATE_MAX_BYTES", "want 65536 (64 KiB) to 1073741824 (1 GiB) bytes, got %d", c.OAuthStateMaxBytes)
	}
	if _, err := token.ParseReturnHosts(c.OAuthReturnHosts); err != nil {
		bad("KWAISHOP_OAUTH_RETURN_HOSTS", "%v", err)
	}

	// External NATS: credentials and TLS.
	if a := c.NATSAuth(); !a.IsZero() && c.NATSURL == "" {
		bad("KWAISHOP_NATS_URL", "KWAISHOP_NATS_CREDS, _NKEY_SEED, _USER, _PASSWORD, _CA, _CERT and _KEY are for an external NATS: set KWAISHOP_NATS_URL or unset them")
	} else if err := a.Validate(); err != nil {
		env := map[store.AuthField]string{
			store.FieldCreds: "KWAISHOP_NATS_CREDS", store.FieldNkeySeed: "KWAISHOP_NATS_NKEY_SEED", store.FieldUser: "KWAISHOP_NATS_USER",
			store.FieldPassword: "KWAISHOP_NATS_PASSWORD", store.FieldCA: "KWAISHOP_NATS_CA", store.FieldCert: "KWAISHOP_NATS_CERT", store.FieldKey: "KWAISHOP_NATS_KEY",
		}
		list := []error{err}
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			list = joined.Unwrap()
		}
		for _, e := range list {
			var ae *store.AuthError
			switch {
			case !errors.As(e, &ae):
				bad("KWAISHOP_NATS_*", "%v", e)
			case env[ae.Field] == "":
				bad("KWAISHOP_NATS_CREDS", "%s (KWAISHOP_NATS_CREDS, KWAISHOP_NATS_NKEY_SEED, KWAISHOP_NATS_USER/PASSWORD)", ae.Msg)
			default:
				bad(env[ae.Field], "%s", ae.Msg)
			}
		}
	}

	// Webhooks (docs/webhooks.md).
	if c.WebhookTimeout < time.Second || c.WebhookTimeout > 2*time.Minute {
		bad("KWAISHOP_WEBHOOK_TIMEOUT", "want 1s to 2m, got %s", c.WebhookTimeout)
	}
	if c.WebhookRetryInitial <= 0 || c.WebhookRetryInitial > c.WebhookRetryMaxDelay {
		bad("KWAISHOP_WEBHOOK_RETRY_INITIAL", "want more than 0 and at most KWAISHOP_WEBHOOK_RETRY_MAX_DELAY (%s), got %s", c.WebhookRetryMaxDelay, c.WebhookRetryInitial)
	}
	if c.WebhookRetryMaxDelay <= 0 || c.WebhookRetryMaxDelay > 24*time.Hour {
		bad("KWAISHOP_WEBHOOK_RETRY_MAX_DELAY", "want more than 0 and at most 24h, got %s", c.WebhookRetryMaxDelay)
	}
	if c.WebhookRetryBudget <= 0 || c.WebhookRetryBudget > c.MessageRetention {
		bad("KWAISHOP_WEBHOOK_RETRY_BUDGET", "want more than 0 and at most the message retention (%s; events older than it are gone), got %s", c.MessageRetention, c.WebhookRetryBudget)
	}
	if c.WebhookDisableAfter < 0 {
		bad("KWAISHOP_WEBHOOK_DISABLE_AFTER", "must not be negative (0 = never disable)")
	}
	if c.WebhookConcurrency < 1 || c.WebhookConcurrency > 256 {
		bad("KWAISHOP_WEBHOOK_CONCURRENCY", "want 1 to 256 attempts, got %d", c.WebhookConcurrency)
	}
	if c.WebhookMaxEndpoints < 1 || c.WebhookMaxEndpoints > 1000 {
		bad("KWAISHOP_WEBHOOK_MAX_ENDPOINTS", "want 1 to 1000 endpoints, got %d", c.WebhookMaxEndpoints)
	}
	if c.WebhookSecretGrace < 0 || c.WebhookSecretGrace > webhook.MaxSecretGrace {
		bad("KWAISHOP_WEBHOOK_SECRET_GRACE", "want 0s to 168h (7 days), got %s", c.WebhookSecretGrace)
	}

	return errs
}

// IsLoopback reports whether the listen address addr (host:port) binds only
// to loopback: localhost or a loopback IP. An empty host or a wildcard IP
// listens on every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// FlagName is the kebab-case flag for an env var: KWAISHOP_GRPC_ADDR → grpc-addr.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "KWAISHOP_")), "_", "-")
}

// Load builds the configuration from defaults, the YAML file (KWAISHOP_CONFIG
// or --config), the environment (getenv) and the command line (args, without
// the program name), then validates it.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Defaults()
	fields := fieldsOf(&cfg)

	// First pass: find the config file (flag wins over env).
	file := getenv("KWAISHOP_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				file = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			file = a[strings.Index(a, "=")+1:]
		}
	}
	var errs []error
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("config: read %s: %w", file, err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return cfg, fmt.Errorf("config: parse %s: %w", file, err)
		}
		for k, v := range m {
			f, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Errorf("config: %s: unknown setting %q", file, k))
				continue
			}
			if err := f.set(v); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %s: %w", file, k, err))
			}
		}
	}
	for _, f := range fields {
		if v := getenv(f.env); v != "" {
			if err := f.set(v); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %w", f.env, err))
			}
		}
	}
	fs := flag.NewFlagSet("kwaishop-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for name, f := range fields {
		fs.Func(name, f.usage+" (env "+f.env+")", func(v string) error {
			// Collect instead of stopping, so every violation is reported.
			if err := f.set(v); err != nil {
				errs = append(errs, fmt.Errorf("config: --%s (%s): %w", name, f.env, err))
			}
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("config: unexpected arguments %q", fs.Args()))
	}
	if err := errors.Join(append(errs, cfg.Validate())...); err != nil {
		return cfg, err
	}
	return cfg, nil
}

type field struct {
	env, usage string
	set        func(string) error
}

// fieldsOf maps flag names to setters for every tagged field of cfg.
func fieldsOf(cfg *Config) map[string]field {
	out := map[string]field{}
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		env := sf.Tag.Get("env")
		fv := v.Field(i)
		out[FlagName(env)] = field{env: env, usage: sf.Tag.Get("usage"), set: setter(fv)}
	}
	return out
}

func setter(fv reflect.Value) func(string) error {
	return func(s string) error {
		switch p := fv.Addr().Interface().(type) {
		case *string:
			*p = s
		case *secret.String:
			*p = secret.New(s)
		case *time.Duration:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("want a duration like 10s, got %q", s)
			}
			*p = d
		case *bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", s)
			}
			*p = b
		case *int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", s)
			}
			*p = n
		default:
			return fmt.Errorf("unsupported setting type %T", p)
		}
		return nil
	}
}
