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

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Config is the server configuration (design.md section 3).
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
	if c.NATSListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			bad("KWAISHOP_NATS_LISTEN", "want host:port, got %q", c.NATSListen)
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
	return errors.Join(errs...)
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
