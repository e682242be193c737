// Package config is the server's one configuration loader: defaults, then an
// optional YAML file, then environment variables, then flags (each env var
// KWAISHOP_FOO_BAR is the flag --foo-bar). Every value is parsed once, into
// the type its package uses (API keys, the token keyring, QPS rates, message
// keys, ...), and Validate reports every violation.
//
// Config holds the process's own settings and composes the Settings of the
// packages that have some (internal/auth, store, token, limit, stats,
// message, webhook): each package declares its settings with their env
// tags, defaults and checks, and this package only loads them and checks
// the rules that span packages.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// Config is the server configuration; the README's Configuration section
// lists every setting. A field with an env tag is one setting; a field
// without one is a package's Settings, whose fields are settings too.
type Config struct {
	GRPCAddr      string        `env:"KWAISHOP_GRPC_ADDR" usage:"gRPC listen address"`
	HTTPAddr      string        `env:"KWAISHOP_HTTP_ADDR" usage:"REST gateway, OAuth callback, message webhook, dashboard, metrics and health listen address"`
	AppKey        string        `env:"KWAISHOP_APP_KEY" usage:"the app's appKey; all credentials empty = sandbox mode"`
	AppSecret     secret.String `env:"KWAISHOP_APP_SECRET" usage:"the app's appSecret"`
	SignSecret    secret.String `env:"KWAISHOP_SIGN_SECRET" usage:"the app's signSecret"`
	SignMethod    sign.Method   `env:"KWAISHOP_SIGN_METHOD" usage:"HMAC_SHA256 or MD5"`
	AppState      string        `env:"KWAISHOP_APP_STATE" usage:"online, or test (only test users may authorize; their authorizations end after 10 days); sandbox mode is always test"`
	AppType       string        `env:"KWAISHOP_APP_TYPE" usage:"third_party (merchants also arrive from the service market with a code and no state) or self_use (the OAuth callback requires a state by default)"`
	AppsFile      string        `env:"KWAISHOP_APPS_FILE" usage:"JSON or YAML file listing several apps (docs/apps.md); not together with the single-app settings"`
	Apps          AppList       `env:"KWAISHOP_APPS" usage:"JSON list of apps (docs/apps.md), after those of KWAISHOP_APPS_FILE; not together with the single-app settings"`
	APIBaseURL    string        `env:"KWAISHOP_API_BASE_URL" usage:"platform gateway base URL (also the OAuth token endpoints)"`
	AuthorizeURL  string        `env:"KWAISHOP_AUTHORIZE_URL" usage:"merchant consent page URL"`
	RedirectURI   string        `env:"KWAISHOP_REDIRECT_URI" usage:"registered OAuth callback (default http://<http addr>/oauth/callback)"`
	LogLevel      string        `env:"KWAISHOP_LOG_LEVEL" usage:"debug, info, warn or error"`
	LogFormat     string        `env:"KWAISHOP_LOG_FORMAT" usage:"json or text"`
	CallTimeout   time.Duration `env:"KWAISHOP_CALL_TIMEOUT" usage:"deadline of one upstream platform call"`
	ShutdownGrace time.Duration `env:"KWAISHOP_SHUTDOWN_GRACE" usage:"how long shutdown waits for in-flight calls"`
	SandboxSeed   int64         `env:"KWAISHOP_SANDBOX_SEED" usage:"seed of the embedded sandbox's shop data"`
	ReplicaID     string        `env:"KWAISHOP_REPLICA_ID" usage:"this replica's name in refresh leases (default: host name + random suffix)"`
	ConfigFile    string        `env:"KWAISHOP_CONFIG" usage:"optional YAML file with the same settings (keys = flag names)"`
	PprofAddr     string        `env:"KWAISHOP_PPROF_ADDR" usage:"serve net/http/pprof on this loopback host:port, for profiling (empty = off)"`

	// Callers, listeners and resilience (docs/security.md).
	AllowAnonymous  bool          `env:"KWAISHOP_ALLOW_ANONYMOUS" usage:"serve without API keys on a non-loopback address (every caller gets full access); without it such a start is refused"`
	TLSCert         string        `env:"KWAISHOP_TLS_CERT" usage:"PEM certificate (chain) file: serve gRPC and HTTP over TLS"`
	TLSKey          string        `env:"KWAISHOP_TLS_KEY" usage:"PEM private key file of KWAISHOP_TLS_CERT"`
	TLSClientCA     string        `env:"KWAISHOP_TLS_CLIENT_CA" usage:"PEM CA bundle: require client certificates it signed (mTLS), on both listeners"`
	MaxStreams      int64         `env:"KWAISHOP_MAX_STREAMS" usage:"concurrent gRPC streams (calls) per client connection"`
	BreakerFailures int64         `env:"KWAISHOP_BREAKER_FAILURES" usage:"consecutive upstream failures of one platform API that open its circuit breaker"`
	BreakerCooldown time.Duration `env:"KWAISHOP_BREAKER_COOLDOWN" usage:"how long an open circuit breaker fails calls fast before a probe (doubles after a failed probe, up to 2m)"`

	// Hostile callers: connection limits (docs/security.md).
	MaxHeaderBytes       int64         `env:"KWAISHOP_MAX_HEADER_BYTES" usage:"largest request header block accepted, in bytes: HTTP answers 431 beyond it; the gRPC header list may hold 32 KiB more (room for what the REST gateway adds)"`
	GRPCMaxConns         int64         `env:"KWAISHOP_GRPC_MAX_CONNS" usage:"open connections the gRPC listener keeps; one more is closed as soon as it is accepted (the REST gateway's own connection is in-process and not counted)"`
	HTTPMaxConns         int64         `env:"KWAISHOP_HTTP_MAX_CONNS" usage:"open connections the HTTP listener keeps; one more is closed as soon as it is accepted"`
	GRPCHandshakeTimeout time.Duration `env:"KWAISHOP_GRPC_HANDSHAKE_TIMEOUT" usage:"how long a new gRPC connection may take to finish its TLS and HTTP/2 handshake before it is closed"`
	GRPCMaxConnIdle      time.Duration `env:"KWAISHOP_GRPC_MAX_CONN_IDLE" usage:"a gRPC connection without a call for this long is closed with GOAWAY (clients reconnect on their next call)"`

	// Hostile callers: the public OAuth start page (docs/security.md).
	OAuthStartRate  int64 `env:"KWAISHOP_OAUTH_START_RATE" usage:"GET /oauth/start requests per minute from one client IP (an IPv6 /64 counts as one); more are refused 429 (0 = no limit)"`
	OAuthStartBurst int64 `env:"KWAISHOP_OAUTH_START_BURST" usage:"GET /oauth/start requests one client IP may send at once before KWAISHOP_OAUTH_START_RATE applies"`

	// The packages' own settings.
	Auth    auth.Settings    // API keys, allowed hosts and origins, streams per key
	Store   store.Settings   // data dir, NATS, token keys, OAuth state cap
	Token   token.Settings   // refresh leases, OAuth return hosts
	Limit   limit.Settings   // QPS, queueing, in-flight cap, daily quotas
	Stats   stats.Settings   // statistics flush
	Message message.Settings // message keys, de-duplication, retention, reconciliation
	Webhook webhook.Settings // webhook delivery

	SecurityLog securitylog.Settings // security access logs to the platform (docs/security-logs.md)

	given map[string]bool // the settings Load was given, by env name
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		GRPCAddr:      "127.0.0.1:9090",
		HTTPAddr:      "127.0.0.1:8080",
		SignMethod:    sign.HMACSHA256,
		AppState:      AppOnline,
		AppType:       AppThirdParty,
		APIBaseURL:    "https://openapi.kwaixiaodian.com",
		AuthorizeURL:  "https://open.kwaixiaodian.com/oauth/authorize",
		LogLevel:      "info",
		LogFormat:     "json",
		CallTimeout:   10 * time.Second,
		ShutdownGrace: 15 * time.Second,
		SandboxSeed:   1,

		MaxStreams:      1000,
		BreakerFailures: 5,
		BreakerCooldown: 10 * time.Second,

		MaxHeaderBytes:       64 << 10,
		GRPCMaxConns:         1000,
		HTTPMaxConns:         1000,
		GRPCHandshakeTimeout: 10 * time.Second,
		GRPCMaxConnIdle:      5 * time.Minute,

		OAuthStartRate:  30,
		OAuthStartBurst: 10,

		Auth:    auth.DefaultSettings(),
		Store:   store.DefaultSettings(),
		Token:   token.DefaultSettings(),
		Limit:   limit.DefaultSettings(),
		Stats:   stats.DefaultSettings(),
		Message: message.DefaultSettings(),
		Webhook: webhook.DefaultSettings(),

		SecurityLog: securitylog.DefaultSettings(),
	}
}

// SandboxMode reports whether no app credentials and no app list are set,
// so the server runs the embedded sandbox.
func (c Config) SandboxMode() bool {
	return c.AppKey == "" && c.AppSecret.Empty() && c.SignSecret.Empty() && len(c.Apps) == 0
}

// EffectiveRedirectURI is RedirectURI or the default derived from HTTPAddr.
// With an app list it is the gateway's /oauth/callback at the first app's
// redirect URI when that one is the app's own route
// (…/oauth/callback/<app_key>): the public address of the callbacks.
func (c Config) EffectiveRedirectURI() string {
	if c.RedirectURI != "" {
		return c.RedirectURI
	}
	if len(c.Apps) > 0 && c.Apps[0].RedirectURI != "" {
		if base, ok := strings.CutSuffix(c.Apps[0].RedirectURI, "/oauth/callback/"+c.Apps[0].Key); ok {
			return base + "/oauth/callback"
		}
	}
	return "http://" + c.HTTPAddr + "/oauth/callback"
}

// Validate reports every violation at once.
func (c Config) Validate() error { return c.validate(nil) }

// validate is Validate; unparsed names the settings whose given value did
// not parse (Load reported those), so the rules that read them are skipped
// rather than report a second, misleading violation.
func (c Config) validate(unparsed map[string]bool) error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", env, fmt.Sprintf(format, a...)))
	}
	for _, l := range []struct{ env, addr string }{{"KWAISHOP_GRPC_ADDR", c.GRPCAddr}, {"KWAISHOP_HTTP_ADDR", c.HTTPAddr}} {
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			bad(l.env, "want host:port, got %q", l.addr)
		}
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			bad("KWAISHOP_PPROF_ADDR", "want a loopback host:port (127.0.0.1, ::1 or localhost), got %q", c.PprofAddr)
		}
	}
	if len(c.Apps) > 0 {
		errs = append(errs, c.checkAppList()...)
		if c.Store.TokenKeys == nil && !unparsed["KWAISHOP_TOKEN_KEYS"] {
			bad("KWAISHOP_TOKEN_KEYS", "required with real credentials (tokens are encrypted at rest)")
		}
	} else if !c.SandboxMode() {
		if c.AppKey == "" {
			bad("KWAISHOP_APP_KEY", "required when any app credential is set")
		}
		if c.AppSecret.Empty() {
			bad("KWAISHOP_APP_SECRET", "required when any app credential is set")
		}
		if c.SignSecret.Empty() {
			bad("KWAISHOP_SIGN_SECRET", "required when any app credential is set")
		}
		if c.Store.TokenKeys == nil && !unparsed["KWAISHOP_TOKEN_KEYS"] {
			bad("KWAISHOP_TOKEN_KEYS", "required with real credentials (tokens are encrypted at rest)")
		}
	}
	if c.AppKey != "" && !validName(c.AppKey) {
		bad("KWAISHOP_APP_KEY", "must be letters, digits, '-' or '_'")
	}
	if _, ok := appStates[c.AppState]; !ok {
		bad("KWAISHOP_APP_STATE", "want online or test, got %q", c.AppState)
	}
	if _, ok := appTypes[c.AppType]; !ok {
		bad("KWAISHOP_APP_TYPE", "want third_party or self_use, got %q", c.AppType)
	}
	if c.SignMethod != sign.HMACSHA256 && c.SignMethod != sign.MD5 && !unparsed["KWAISHOP_SIGN_METHOD"] {
		bad("KWAISHOP_SIGN_METHOD", "want HMAC_SHA256 or MD5, got %q", c.SignMethod)
	}
	for _, u := range []struct{ env, url string }{{"KWAISHOP_API_BASE_URL", c.APIBaseURL}, {"KWAISHOP_AUTHORIZE_URL", c.AuthorizeURL}, {"KWAISHOP_REDIRECT_URI", c.RedirectURI}} {
		if u.url == "" && u.env == "KWAISHOP_REDIRECT_URI" {
			continue
		}
		p, err := url.Parse(u.url)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.env, "want an absolute http(s) URL, got %q", u.url)
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
	if c.ShutdownGrace <= 0 {
		bad("KWAISHOP_SHUTDOWN_GRACE", "must be positive")
	}

	// The exposure rule (docs/security.md): without API keys the server
	// only listens on loopback unless anonymous access is explicitly allowed.
	if c.Auth.Keys.Len() == 0 && !c.AllowAnonymous && !unparsed["KWAISHOP_API_KEYS"] {
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
	if c.MaxStreams <= 0 || c.MaxStreams > 1<<31-1 {
		bad("KWAISHOP_MAX_STREAMS", "must be positive")
	}
	if c.BreakerFailures <= 0 || c.BreakerFailures > 1<<31-1 {
		bad("KWAISHOP_BREAKER_FAILURES", "must be positive")
	}
	if c.BreakerCooldown <= 0 || c.BreakerCooldown > 2*time.Minute {
		bad("KWAISHOP_BREAKER_COOLDOWN", "want more than 0 and at most 2m")
	}
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
	if c.OAuthStartRate < 0 || c.OAuthStartRate > 1_000_000 {
		bad("KWAISHOP_OAUTH_START_RATE", "want requests per minute from 0 (no limit) to 1000000, got %d", c.OAuthStartRate)
	}
	if c.OAuthStartBurst < 1 || c.OAuthStartBurst > 1_000_000 {
		bad("KWAISHOP_OAUTH_START_BURST", "want 1 to 1000000 requests, got %d", c.OAuthStartBurst)
	}

	// Each package's own rules, then the rules between them.
	for _, err := range []error{c.Auth.Validate(), c.Store.Validate(), c.Token.Validate(), c.Limit.Validate(),
		c.Stats.Validate(), c.Message.Validate(), c.Webhook.Validate(), c.SecurityLog.Validate()} {
		errs = append(errs, prefixed(err)...)
	}
	if c.Webhook.RetryBudget > c.Message.Retention {
		bad("KWAISHOP_WEBHOOK_RETRY_BUDGET", "want at most the message retention (%s; events older than it are gone), got %s", c.Message.Retention, c.Webhook.RetryBudget)
	}
	return errors.Join(errs...)
}

// prefixed splits a package's joined violations and marks each as a
// configuration error.
func prefixed(err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		out = append(out, fmt.Errorf("config: %w", e))
	}
	return out
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
