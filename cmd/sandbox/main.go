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
//	KWAISHOP_SANDBOX_LOG_LEVEL    --log-level     debug (one line per request), info, warn, error (info)
package main

import (
	"context"
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
	fs.StringVar(&st.cfg.AppState, "app-state", env("APP_STATE", sandbox.AppStateTest), "app state: test or online ("+envPrefix+"APP_STATE)")
	level := fs.String("log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error ("+envPrefix+"LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return st, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
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

// run serves until ctx is done. ready, if not nil, receives the bound
// address once the listener is up (tests listen on port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	st, err := parseSettings(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: st.logLevel}))
	generated := map[string]bool{
		"appKey": st.cfg.AppKey == "", "appSecret": st.cfg.AppSecret == "",
		"signSecret": st.cfg.SignSecret == "", "messageKey": st.cfg.MessageKey == "",
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
	log.Info("sandbox listening", "addr", ln.Addr().String(), "app_key", sb.Config().AppKey)
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
// operator are never printed).
func printBanner(w io.Writer, base string, sb *sandbox.Sandbox, generated map[string]bool) {
	c := sb.Config()
	var b strings.Builder
	fmt.Fprintf(&b, "kwaishop sandbox (快手电商开放平台 emulator) on %s\n", base)
	fmt.Fprintf(&b, "  API gateway   %s/open/...   token endpoints %s/oauth2/access_token, %s/oauth2/refresh_token\n", base, base, base)
	fmt.Fprintf(&b, "  admin API     %s/sandbox/v1/ (app, test-users, codes, clock:advance, limits, orders, refunds, pusher, pushes, faults, counters, authorizations:revoke)\n", base)
	fmt.Fprintf(&b, "  app state     %s   push URL %q\n", c.AppState, c.PushURL)
	for _, f := range []struct{ name, val string }{
		{"appKey", c.AppKey}, {"appSecret", c.AppSecret}, {"signSecret", c.SignSecret}, {"messageKey", c.MessageKey},
	} {
		if generated[f.name] {
			fmt.Fprintf(&b, "  %-11s %s (generated)\n", f.name, f.val)
		} else if f.name == "appKey" {
			fmt.Fprintf(&b, "  %-11s %s\n", f.name, f.val)
		}
	}
	for _, u := range sb.TestUsers() {
		fmt.Fprintf(&b, "  test user %d  openId %s  %s · %s\n", u.ID, u.OpenID, u.Name, u.ShopName)
	}
	q := url.Values{"app_id": {c.AppKey}, "redirect_uri": {"http://127.0.0.1:8080/oauth/callback"},
		"scope": {strings.Join(c.Scopes, ",")}, "response_type": {"code"}, "state": {"demo"}}
	fmt.Fprintf(&b, "  consent page  %s/oauth/authorize?%s\n", base, q.Encode())
	_, _ = io.WriteString(w, b.String())
}
