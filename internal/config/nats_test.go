package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

// TestLoad_NATSAuth: the external NATS credential and TLS settings load
// from the environment, are checked (files exist and parse, pairs go
// together, one credential) with the offending variable named, and never
// echo the password or a seed.
func TestLoad_NATSAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	seedFile := filepath.Join(dir, "gateway.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "nats-Pa55word-value"
	ext := map[string]string{"KWAISHOP_NATS_URL": "nats://nats:4222"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range ext {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}

	cfg, err := Load(nil, env(with(map[string]string{"KWAISHOP_NATS_NKEY_SEED": seedFile})), io.Discard)
	if err != nil {
		t.Fatalf("nkey seed: %v", err)
	}
	if a := cfg.Store.Auth(); a.NkeySeedFile != seedFile || a.Method() != "nkey" {
		t.Fatalf("NATSAuth = %+v", a)
	}
	cfg, err = Load(nil, env(with(map[string]string{"KWAISHOP_NATS_USER": "gateway", "KWAISHOP_NATS_PASSWORD": password})), io.Discard)
	if err != nil {
		t.Fatalf("user/password: %v", err)
	}
	if a := cfg.Store.Auth(); a.User != "gateway" || a.Password.Reveal() != password {
		t.Fatalf("NATSAuth = %+v", a)
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"embedded", map[string]string{"KWAISHOP_NATS_CA": notPEM}, []string{"KWAISHOP_NATS_URL: ", "external NATS"}},
		{"user_without_password", with(map[string]string{"KWAISHOP_NATS_USER": "gateway"}), []string{"KWAISHOP_NATS_PASSWORD: a user needs a password"}},
		{"password_without_user", with(map[string]string{"KWAISHOP_NATS_PASSWORD": password}), []string{"KWAISHOP_NATS_USER: a password needs a user"}},
		{"two_credentials", with(map[string]string{"KWAISHOP_NATS_NKEY_SEED": seedFile, "KWAISHOP_NATS_USER": "u", "KWAISHOP_NATS_PASSWORD": password}), []string{"KWAISHOP_NATS_CREDS: set only one of"}},
		{"cert_without_key", with(map[string]string{"KWAISHOP_NATS_CERT": notPEM}), []string{"KWAISHOP_NATS_KEY: a client certificate needs its key"}},
		{"missing_files", with(map[string]string{"KWAISHOP_NATS_CREDS": filepath.Join(dir, "no.creds"), "KWAISHOP_NATS_CA": notPEM}),
			[]string{"KWAISHOP_NATS_CREDS: " + filepath.Join(dir, "no.creds") + ": no such file", "KWAISHOP_NATS_CA: " + notPEM + " holds no PEM certificate"}},
		{"seed_not_a_seed", with(map[string]string{"KWAISHOP_NATS_NKEY_SEED": notPEM}), []string{"KWAISHOP_NATS_NKEY_SEED: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(nil, env(tc.env), io.Discard)
			if err == nil {
				t.Fatal("Load accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), string(seed)) {
				t.Errorf("a secret is in the error: %v", err)
			}
		})
	}
}
