package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_DefaultsAreSandboxMode(t *testing.T) {
	t.Parallel()
	cfg, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SandboxMode() || cfg.GRPCAddr != "127.0.0.1:9090" || cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Fatalf("defaults wrong: %+v", cfg)
	}
	if got := cfg.EffectiveRedirectURI(); got != "http://127.0.0.1:8080/oauth/callback" {
		t.Fatalf("redirect = %s", got)
	}
}

func TestLoad_Precedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("grpc-addr: 127.0.0.1:1\nhttp-addr: 127.0.0.1:2\ncall-timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--config", file, "--http-addr", "127.0.0.1:4"},
		env(map[string]string{"KWAISHOP_GRPC_ADDR": "127.0.0.1:5", "KWAISHOP_HTTP_ADDR": "127.0.0.1:6"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GRPCAddr != "127.0.0.1:5" || cfg.HTTPAddr != "127.0.0.1:4" || cfg.CallTimeout != 3*time.Second {
		t.Fatalf("precedence wrong: grpc %s http %s timeout %s", cfg.GRPCAddr, cfg.HTTPAddr, cfg.CallTimeout)
	}
}

func TestLoad_ReportsEveryViolation(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"--sign-method", "SHA1", "--call-timeout", "soon"}, env(map[string]string{
		"KWAISHOP_APP_KEY":      "ks1",
		"KWAISHOP_GRPC_ADDR":    "nope",
		"KWAISHOP_API_BASE_URL": "ftp://x",
		"KWAISHOP_MESSAGE_KEY":  "not base64!",
		"KWAISHOP_TOKEN_KEYS":   "k1:tooshort",
		"KWAISHOP_LOG_LEVEL":    "loud",
		"KWAISHOP_SANDBOX_SEED": "12abc",
	}), io.Discard)
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"KWAISHOP_APP_SECRET", "KWAISHOP_SIGN_SECRET", "KWAISHOP_GRPC_ADDR", "KWAISHOP_SIGN_METHOD",
		"KWAISHOP_API_BASE_URL", "KWAISHOP_MESSAGE_KEY", "KWAISHOP_TOKEN_KEYS", "KWAISHOP_LOG_LEVEL", "KWAISHOP_CALL_TIMEOUT", "KWAISHOP_SANDBOX_SEED"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestLoad_SecretsNotInErrors(t *testing.T) {
	t.Parallel()
	const s = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" // not a 16/24/32-byte key
	_, err := Load(nil, env(map[string]string{"KWAISHOP_MESSAGE_KEY": s, "KWAISHOP_TOKEN_KEYS": "k1:" + s}), io.Discard)
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), s) {
		t.Fatalf("secret in error: %v", err)
	}
}

func TestLoad_UnknownYAMLKey(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("grpc-adr: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(nil, env(map[string]string{"KWAISHOP_CONFIG": file}), io.Discard); err == nil || !strings.Contains(err.Error(), "grpc-adr") {
		t.Fatalf("err = %v", err)
	}
}
