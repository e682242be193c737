package store

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(testCtx(t), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		wants []string
		never []string
	}{
		{name: "embedded ok", cfg: Config{DataDir: "/tmp/x"}},
		{name: "embedded listen ok", cfg: Config{DataDir: "/tmp/x", Listen: "127.0.0.1:0"}},
		{name: "external ok", cfg: Config{NATSURL: "nats://a:4222, tls://b:4222", Replicas: 3}},
		{name: "external host:port ok", cfg: Config{NATSURL: "localhost:4222"}},
		{name: "no data dir", cfg: Config{}, wants: []string{"data dir is required"}},
		{
			name:  "every violation",
			cfg:   Config{NATSURL: "http://user:hunter2@host", Listen: "nope", Replicas: 9, ConnectTimeout: -1},
			wants: []string{"scheme must be", "listen is only valid", `listen "nope": want host:port`, "replicas must be between", "connect timeout"},
			never: []string{"hunter2"},
		},
		{name: "bad port", cfg: Config{DataDir: "d", Listen: "127.0.0.1:99999"}, wants: []string{"port must be"}},
		{name: "embedded replicas", cfg: Config{DataDir: "d", Replicas: 3}, wants: []string{"external NATS cluster"}},
		{name: "empty server in list", cfg: Config{NATSURL: "nats://a:1,,"}, wants: []string{"server 2 is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q leaks %q", err, n)
				}
			}
		})
	}
}

func TestOpenEmbeddedPersists(t *testing.T) {
	dir := t.TempDir()
	ring := testRing(t, "k1")
	ctx := testCtx(t)

	s, err := Open(ctx, Config{DataDir: dir}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ClientURL(); got != "" {
		t.Errorf("ClientURL() = %q, want empty without a listener", got)
	}
	if !s.Embedded() || s.Conn() == nil || s.JetStream() == nil {
		t.Fatal("store not fully initialised")
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	ts, err := s.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	a := testAuth("persist1")
	if _, err := ts.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Ready(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ready after Close = %v, want ErrClosed", err)
	}

	s2 := openStore(t, Config{DataDir: dir})
	ts2, err := s2.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	got, rev, err := ts2.Get(ctx, "persist1")
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if rev != 1 || got.AccessToken != a.AccessToken || got.RefreshToken != a.RefreshToken {
		t.Errorf("after reopen got rev %d %v", rev, got)
	}
}

func TestListenAndExternalClient(t *testing.T) {
	ctx := testCtx(t)
	ring := testRing(t, "k1")
	primary := openStore(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	u, err := url.Parse(primary.ClientURL())
	if err != nil || u.Scheme != "nats" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Fatalf("ClientURL() = %q (%v), want nats://127.0.0.1:<port>", primary.ClientURL(), err)
	}

	replica := openStore(t, Config{NATSURL: primary.ClientURL(), ConnectTimeout: 5 * time.Second})
	if replica.Embedded() {
		t.Error("external store reports embedded")
	}
	if got := replica.ClientURL(); got != primary.ClientURL() {
		t.Errorf("replica ClientURL() = %q", got)
	}
	if err := replica.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	tsA, err := primary.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	tsB, err := replica.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}

	w, err := tsA.Watch(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if e := <-w.Updates(); e != nil {
		t.Fatalf("expected initial nil marker, got %v", e.Key())
	}

	a := testAuth("shared")
	rev, err := tsB.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRev, err := tsA.Get(ctx, "shared")
	if err != nil || gotRev != rev || got.AccessToken != a.AccessToken {
		t.Fatalf("primary Get = %v rev %d, %v", got, gotRev, err)
	}
	select {
	case e := <-w.Updates():
		wa, err := tsA.Decode(e)
		if err != nil || wa.RefreshToken != a.RefreshToken || e.Revision() != rev {
			t.Fatalf("watched %v, %v", wa, err)
		}
	case <-ctx.Done():
		t.Fatal("no watch update")
	}
	if err := tsA.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tsB.Get(ctx, "shared"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replica Get after delete = %v, want ErrNotFound", err)
	}
	e := <-w.Updates()
	if _, err := tsA.Decode(e); !errors.Is(err, ErrNotFound) {
		t.Errorf("Decode(delete entry) = %v, want ErrNotFound", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	if _, err := Open(ctx, Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Open(empty config) = %v", err)
	}
	// Nothing listens on port 1; connection must fail fast without leaking the URL.
	_, err := Open(ctx, Config{NATSURL: "nats://user:hunter2@127.0.0.1:1", ConnectTimeout: 2 * time.Second}, nil)
	if err == nil {
		t.Fatal("Open to a dead server succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks credentials: %v", err)
	}
}
