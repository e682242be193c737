// Command sandbox serves the Kuaishou e-commerce open platform emulator on
// its own, for any team and any SDK to test against: the signed API gateway
// (/open/...), OAuth (/oauth/authorize, /oauth2/access_token,
// /oauth2/refresh_token), the message pusher and the admin API
// (/sandbox/v1/...). docs/sandbox.md is its manual.
//
// Every setting is an environment variable and a flag (the flag wins):
//
//	KWAISHOP_SANDBOX_ADDR         --addr          listen address (127.0.0.1:8090)
//	KWAISHOP_SANDBOX_APP_KEY      --app-key       app key (generated: ks + 18 digits)
//	KWAISHOP_SANDBOX_APP_SECRET   --app-secret    app secret (generated)
//	KWAISHOP_SANDBOX_SIGN_SECRET  --sign-secret   sign secret (generated)
//	KWAISHOP_SANDBOX_MESSAGE_KEY  --message-key   base64 AES key of pushed messages (generated)
//	KWAISHOP_SANDBOX_PUSH_URL     --push-url      where messages are pushed (empty: none until set by the admin API)
//	KWAISHOP_SANDBOX_SEED         --seed          seed of the shop data and of the pusher's duplicate/drop choices (0)
//	KWAISHOP_SANDBOX_TEST_USERS   --test-users    pre-seeded test users, 1-5 (1)
//	KWAISHOP_SANDBOX_APP_STATE    --app-state     test (only test users, 100 000 calls a day) or online (1 000 000) (test)
//	KWAISHOP_SANDBOX_APP_TYPE     --app-type      self_use or third_party (service market) (self_use)
//	KWAISHOP_SANDBOX_CALLBACK_URL --callback-url  the app's registered callback (none)
//	KWAISHOP_SANDBOX_SIGN_METHOD  --sign-method   MD5 or HMAC_SHA256 to accept only that one (either)
//	KWAISHOP_SANDBOX_APPS         --apps          several apps instead of the single-app settings above:
//	                                              a JSON array, or @file with one (see below)
//	KWAISHOP_SANDBOX_LOG_LEVEL    --log-level     debug (one line per request), info, warn, error (info)
//
// The app list is a JSON array of objects with the fields appKey,
// appSecret, signSecret, signMethod, messageKey, type, state, callbackUrl,
// pushUrl and scopes (all optional; empty credentials are generated), e.g.
//
//	--apps '[{"appKey":"ks1","type":"third_party","callbackUrl":"http://127.0.0.1:8080/oauth/callback"},{"appKey":"ks2"}]'
//	--apps @apps.json
//
// It cannot be combined with the single-app settings (app key, secrets,
// message key, push URL, app state, type, callback URL, sign method).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
}

type settings struct {
	addr     string
	cfg      sandbox.Config
	logLevel slog.Level
}

const envPrefix = "KWAISHOP_SANDBOX_"

// parseSettings reads the environment, then the flags; every problem is
// reported at once.
func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	var st settings
	var errs []error
	env := func(name, def string) string {
		if v := getenv(envPrefix + name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string) int64 {
		v := env(name, "")
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: not an integer: %q", envPrefix, name, v))
		}
		return n
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&st.addr, "addr", env("ADDR", "127.0.0.1:8090"), "listen address ("+envPrefix+"ADDR)")
	fs.StringVar(&st.cfg.AppKey, "app-key", env("APP_KEY", ""), "app key, generated if empty ("+envPrefix+"APP_KEY)")
	fs.StringVar(&st.cfg.AppSecret, "app-secret", env("APP_SECRET", ""), "app secret, generated if empty ("+envPrefix+"APP_SECRET)")
	fs.StringVar(&st.cfg.SignSecret, "sign-secret", env("SIGN_SECRET", ""), "sign secret, generated if empty ("+envPrefix+"SIGN_SECRET)")
	fs.StringVar(&st.cfg.MessageKey, "message-key", env("MESSAGE_KEY", ""), "base64 AES key of pushed messages, generated if empty ("+envPrefix+"MESSAGE_KEY)")
	fs.StringVar(&st.cfg.PushURL, "push-url", env("PUSH_URL", ""), "URL pushed messages will be sent to ("+envPrefix+"PUSH_URL)")
	fs.Int64Var(&st.cfg.Seed, "seed", envInt("SEED"), "seed of the generated shop data ("+envPrefix+"SEED)")
	users := fs.Int("test-users", int(envInt("TEST_USERS")), "pre-seeded test users, 1-5; 0 means 1 ("+envPrefix+"TEST_USERS)")
	fs.StringVar(&st.cfg.AppState, "app-state", env("APP_STATE", ""), "app state: test (default) or online ("+envPrefix+"APP_STATE)")
	fs.StringVar(&st.cfg.AppType, "app-type", env("APP_TYPE", ""), "app type: self_use (default) or third_party ("+envPrefix+"APP_TYPE)")
	fs.StringVar(&st.cfg.CallbackURL, "callback-url", env("CALLBACK_URL", ""), "the app's registered callback URL ("+envPrefix+"CALLBACK_URL)")
	fs.StringVar(&st.cfg.SignMethod, "sign-method", env("SIGN_METHOD", ""), "MD5 or HMAC_SHA256 to accept only that sign method ("+envPrefix+"SIGN_METHOD)")
	apps := fs.String("apps", env("APPS", ""), "several apps: a JSON array or @file ("+envPrefix+"APPS)")
	level := fs.String("log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error ("+envPrefix+"LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return st, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	if *apps != "" {
		list, err := parseApps(*apps)
		if err != nil {
			errs = append(errs, fmt.Errorf("apps: %w", err))
		}
		st.cfg.Apps = list
	} else if st.cfg.AppState == "" {
		st.cfg.AppState = sandbox.AppStateTest
	}
	st.cfg.TestUsers = *users
	if err := st.logLevel.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("log level: %w", err))
	}
	if err := st.cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// maxAppsJSON bounds the app list (inline or in a file).
const maxAppsJSON = 1 << 20

// parseApps reads the app list: a JSON array of sandbox.AppConfig objects,
// inline or, after "@", in a file. Unknown fields are refused.
func parseApps(v string) ([]sandbox.AppConfig, error) {
	raw := []byte(v)
	if name, ok := strings.CutPrefix(v, "@"); ok {
		f, err := os.Open(filepath.Clean(name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		raw, err = io.ReadAll(io.LimitReader(f, maxAppsJSON+1))
		if err != nil {
			return nil, err
		}
	}
	if len(raw) > maxAppsJSON {
		return nil, fmt.Errorf("longer than %d bytes", maxAppsJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var list []sandbox.AppConfig
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("want a JSON array of apps: %w", err)
	}
	if dec.More() {
		return nil, errors.New("want one JSON array of apps (trailing data)")
	}
	if len(list) == 0 {
		return nil, errors.New("the list has no app")
	}
	return list, nil
}

// run serves until ctx is done. ready, if not nil, receives the bound
// address once the listener is up (tests listen on port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	st, err := parseSettings(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: st.logLevel}))
	given := st.cfg.Apps
	if len(given) == 0 {
		given = []sandbox.AppConfig{{AppKey: st.cfg.AppKey, AppSecret: st.cfg.AppSecret, SignSecret: st.cfg.SignSecret, MessageKey: st.cfg.MessageKey}}
	}
	generated := make([]map[string]bool, len(given))
	for i, a := range given {
		generated[i] = map[string]bool{
			"appKey": a.AppKey == "", "appSecret": a.AppSecret == "", "signSecret": a.SignSecret == "", "messageKey": a.MessageKey == "",
		}
	}
	st.cfg.Logger = log
	sb, err := sandbox.New(st.cfg)
	if err != nil {
		return err
	}
	defer sb.Close() // after the server: stops the pusher
	ln, err := net.Listen("tcp", st.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	printBanner(stdout, base, sb, generated)

	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("sandbox listening", "addr", ln.Addr().String(), "app_keys", sb.AppKeys())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("sandbox shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printBanner tells the developer how to reach the sandbox. It prints the
// credentials the sandbox GENERATED on purpose: this is a local development
// tool and nobody can use it without them (credentials passed in by the
// operator are never printed). generated[i] names app i's generated fields.
func printBanner(w io.Writer, base string, sb *sandbox.Sandbox, generated []map[string]bool) {
	c := sb.Config()
	var b strings.Builder
	fmt.Fprintf(&b, "kwaishop sandbox (快手电商开放平台 emulator) on %s\n", base)
	fmt.Fprintf(&b, "  API gateway   %s/open/...   token endpoints %s/oauth2/access_token, %s/oauth2/refresh_token\n", base, base, base)
	fmt.Fprintf(&b, "  admin API     %s/sandbox/v1/ (apps, app, test-users, sub-accounts, codes, market/orders, clock:advance, limits, orders, refunds, pusher, pushes, faults, counters, authorizations:revoke; ?app=<appKey>)\n", base)
	for i, a := range c.Apps {
		fmt.Fprintf(&b, "  app %d         %s   type %s   state %s   callback %q   push URL %q\n", i+1, a.AppKey, a.AppType, a.AppState, a.CallbackURL, a.PushURL)
		for _, f := range []struct{ name, val string }{
			{"appKey", a.AppKey}, {"appSecret", a.AppSecret}, {"signSecret", a.SignSecret}, {"messageKey", a.MessageKey},
		} {
			if i < len(generated) && generated[i][f.name] {
				fmt.Fprintf(&b, "    %-11s %s (generated)\n", f.name, f.val)
			}
		}
		v, _ := sb.App(a.AppKey)
		for _, u := range v.TestUsers() {
			fmt.Fprintf(&b, "    test user %d  openId %s  %s · %s\n", u.ID, u.OpenID, u.Name, u.ShopName)
		}
		q := url.Values{"app_id": {a.AppKey}, "redirect_uri": {"http://127.0.0.1:8080/oauth/callback"},
			"scope": {strings.Join(a.Scopes, ",")}, "response_type": {"code"}, "state": {"demo"}}
		if a.CallbackURL != "" {
			q.Set("redirect_uri", a.CallbackURL)
		}
		fmt.Fprintf(&b, "    consent page  %s/oauth/authorize?%s\n", base, q.Encode())
		if a.AppType == sandbox.AppTypeThirdParty {
			fmt.Fprintf(&b, "    service market %s/market?%s\n", base, url.Values{"app_id": {a.AppKey}}.Encode())
		}
	}
	_, _ = io.WriteString(w, b.String())
}
