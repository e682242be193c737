package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// sandboxScopes are the permission groups the sandbox shop grants at start.
var sandboxScopes = []string{"user_info", "merchant_user", "merchant_order", "merchant_item", "merchant_refund", "merchant_logistics"}

type embeddedSandbox struct {
	sb  *sandbox.Sandbox
	srv *http.Server
	url string
}

// sandboxFile keeps the generated sandbox app credentials and token keys in
// the data directory (mode 0600), so a restart keeps the same app, the same
// open_id and a readable token store.
type sandboxFile struct {
	AppKey     string `json:"appKey"`
	AppSecret  string `json:"appSecret"`
	SignSecret string `json:"signSecret"`
	MessageKey string `json:"messageKey"`
	TokenKeys  string `json:"tokenKeys"`
}

func loadSandboxFile(dir string) (sandboxFile, error) {
	var f sandboxFile
	raw, err := os.ReadFile(filepath.Join(dir, "sandbox-credentials.json"))
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("app: read sandbox credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("app: parse %s: %w", filepath.Join(dir, "sandbox-credentials.json"), err)
	}
	return f, nil
}

func saveSandboxFile(dir string, f sandboxFile) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(f, "", "  ")
	return os.WriteFile(filepath.Join(dir, "sandbox-credentials.json"), raw, 0o600)
}

// newSandbox runs the platform sandbox in-process on a loopback port and
// points cfg at it: its app credentials, its URLs, and (unless configured)
// its message key and the token keys kept in the data directory. With app
// credentials it does nothing (nil sandbox, nothing to stop).
func newSandbox(ctx context.Context, cfg *config.Config, log *slog.Logger) (*embeddedSandbox, func(), error) {
	if !cfg.SandboxMode() {
		return nil, nil, nil
	}
	dir := cfg.Store.DataDir
	saved, err := loadSandboxFile(dir)
	if err != nil {
		return nil, nil, err
	}
	sb, err := sandbox.New(sandbox.Config{
		AppKey: saved.AppKey, AppSecret: saved.AppSecret, SignSecret: saved.SignSecret, MessageKey: saved.MessageKey,
		Seed: cfg.SandboxSeed, TestUsers: 1, Logger: log.With("component", "sandbox"),
	})
	if err != nil {
		return nil, nil, err
	}
	sc := sb.Config()
	ring := new(store.Keyring)
	if saved.TokenKeys == "" {
		k, err := store.GenerateKey("k1")
		if err != nil {
			return nil, nil, err
		}
		saved.TokenKeys = k.Encode()
		if ring, err = store.NewKeyring(k); err != nil {
			return nil, nil, err
		}
	} else if err := ring.UnmarshalText([]byte(saved.TokenKeys)); err != nil {
		return nil, nil, fmt.Errorf("app: %s: tokenKeys: %w", filepath.Join(dir, "sandbox-credentials.json"), err)
	}
	msgKey := cfg.Message.Key
	if msgKey.IsZero() {
		if err := msgKey.UnmarshalText([]byte(sc.MessageKey)); err != nil {
			return nil, nil, fmt.Errorf("app: sandbox message key: %w", err)
		}
	}
	saved.AppKey, saved.AppSecret, saved.SignSecret, saved.MessageKey = sc.AppKey, sc.AppSecret, sc.SignSecret, sc.MessageKey
	if err := saveSandboxFile(dir, saved); err != nil {
		return nil, nil, fmt.Errorf("app: save sandbox credentials: %w", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("app: sandbox listen: %w", err)
	}
	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	base := "http://" + lis.Addr().String()

	cfg.AppKey = sc.AppKey
	cfg.AppSecret = secret.New(sc.AppSecret)
	cfg.SignSecret = secret.New(sc.SignSecret)
	cfg.AppState = config.AppTest // the sandbox's app is in test state
	cfg.Message.Key = msgKey
	if cfg.Store.TokenKeys == nil {
		cfg.Store.TokenKeys = ring
	}
	cfg.APIBaseURL = base
	cfg.AuthorizeURL = base + "/oauth/authorize"
	log.Info("sandbox mode: no app credentials set, serving the embedded platform sandbox",
		"sandbox_url", base, "app_key", sc.AppKey, "credentials_file", filepath.Join(dir, "sandbox-credentials.json"))
	e := &embeddedSandbox{sb: sb, srv: srv, url: base}
	return e, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// authorizeShop authorizes the sandbox's first test user through the real
// code flow over HTTP: consent form → 302 with code → code exchange → store.
func (e *embeddedSandbox) authorizeShop(ctx context.Context, mgr *token.Manager) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/sandbox/v1/test-users", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("app: sandbox test users: %w", err)
	}
	var users struct {
		TestUsers []struct {
			ID     int64  `json:"id"`
			OpenID string `json:"openId"`
		} `json:"testUsers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&users)
	_ = resp.Body.Close()
	if err != nil || len(users.TestUsers) == 0 {
		return "", fmt.Errorf("app: sandbox has no test user (%v)", err)
	}

	started, err := mgr.Start(ctx, sandboxScopes, "", "")
	if err != nil {
		return "", err
	}
	consent, err := url.Parse(started.URL)
	if err != nil {
		return "", err
	}
	form := consent.Query()
	form.Set("test_user", strconv.FormatInt(users.TestUsers[0].ID, 10))
	consent.RawQuery = ""
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, consent.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("app: sandbox consent: %w", err)
	}
	_ = resp.Body.Close()
	callback, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		return "", fmt.Errorf("app: sandbox consent answered %d, want 302", resp.StatusCode)
	}
	// Follow the platform's redirect to our own /oauth/callback, as a
	// merchant's browser would.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, callback.String(), nil)
	resp, err = hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("app: oauth callback: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("app: oauth callback answered %d", resp.StatusCode)
	}
	all, err := mgr.Store().ListMetadata(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range all {
		if a.OpenID == users.TestUsers[0].OpenID {
			return a.OpenID, nil
		}
	}
	return "", errors.New("app: the sandbox shop is not stored after the callback")
}

// logExamples prints ready-to-paste curl and grpcurl calls for the sandbox shop.
func logExamples(log *slog.Logger, banner io.Writer, cfg config.Config, openID string, now time.Time) {
	end := now.UnixMilli()
	begin := now.Add(-7 * 24 * time.Hour).UnixMilli()
	body := fmt.Sprintf(`{"open_id":%q,"method":"open.order.cursor.list","params":{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"beginTime":%d,"endTime":%d,"cursor":""}}`, openID, begin, end)
	log.Info("sandbox shop authorized", "open_id", openID,
		"curl_authorizations", fmt.Sprintf("curl -s http://%s/v1/authorizations", cfg.HTTPAddr),
		"curl_call", fmt.Sprintf("curl -s -X POST http://%s/v1/call -H 'Content-Type: application/json' -d '%s'", cfg.HTTPAddr, body),
		"grpcurl_call", fmt.Sprintf("grpcurl -plaintext -d '%s' %s kwaishop.gateway.v1.PlatformService/Call", body, cfg.GRPCAddr),
	)
	if banner != nil {
		fmt.Fprintf(banner, `
kwaishop-gateway is running against the embedded platform sandbox.
Sandbox shop open_id: %s

  curl -s http://%s/v1/authorizations
  curl -s -X POST http://%s/v1/call -H 'Content-Type: application/json' -d '%s'
  grpcurl -plaintext -d '%s' %s kwaishop.gateway.v1.PlatformService/Call

`, openID, cfg.HTTPAddr, cfg.HTTPAddr, body, body, cfg.GRPCAddr)
	}
}
