package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

const (
	apiKeys   = "ops:ops-secret-0123456789abcdef:rpc=*,shop:shop-secret-0123456789abcd:shop=s1"
	aesKey16  = "AAECAwQFBgcICQoLDA0ODw=="
	overrides = "open.shop.info.get=10/5,open.item.edit=3"
)

func tokenKeys(t *testing.T) string {
	t.Helper()
	k, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	return k.Encode()
}

// The settings the gateway parses arrive parsed, whichever source gave them:
// environment, flags or the YAML file.
func TestLoad_HoldsParsedValues(t *testing.T) {
	t.Parallel()
	ring := tokenKeys(t)
	values := map[string]string{
		"KWAISHOP_API_KEYS":           apiKeys,
		"KWAISHOP_TOKEN_KEYS":         ring,
		"KWAISHOP_API_QPS_OVERRIDES":  overrides,
		"KWAISHOP_MESSAGE_KEY":        aesKey16,
		"KWAISHOP_MESSAGE_KEYS":       "ks2:" + aesKey16 + "," + aesKey16,
		"KWAISHOP_ALLOWED_HOSTS":      "gw.example.com,tunnel.example.net:8443",
		"KWAISHOP_ALLOWED_ORIGINS":    "HTTPS://Console.Example.com:443",
		"KWAISHOP_OAUTH_RETURN_HOSTS": "app.example.com, shop.example.com:8443",
		"KWAISHOP_SIGN_METHOD":        "MD5",
	}
	var args []string
	var yaml strings.Builder
	for env, v := range values {
		args = append(args, "--"+FlagName(env)+"="+v)
		fmt.Fprintf(&yaml, "%s: %q\n", FlagName(env), v)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(yaml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func() (Config, error){
		"env":   func() (Config, error) { return Load(nil, env(values), io.Discard) },
		"flags": func() (Config, error) { return Load(args, env(nil), io.Discard) },
		"yaml":  func() (Config, error) { return Load([]string{"--config", file}, env(nil), io.Discard) },
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := load()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Auth.Keys.Names(); len(got) != 2 || !strings.HasPrefix(got[0], "ops ") || !strings.HasPrefix(got[1], "shop ") {
				t.Errorf("API keys = %v", got)
			}
			if k := cfg.Auth.Keys.Authenticate("shop-secret-0123456789abcd"); k == nil || k.Name != "shop" || k.AllowsShop("s2") {
				t.Errorf("the shop key does not authenticate as parsed: %v", k)
			}
			if cfg.Store.TokenKeys == nil || cfg.Store.TokenKeys.PrimaryID() != "k1" {
				t.Errorf("token keyring = %v", cfg.Store.TokenKeys)
			}
			if cfg.Limit.Rates["open.shop.info.get"] != (limit.Rate{App: 10, User: 5}) || cfg.Limit.Rates["open.item.edit"].App != 3 {
				t.Errorf("rates = %v", cfg.Limit.Rates)
			}
			if _, ok := cfg.Limit.Rates["open.order.cursor.list"]; !ok {
				t.Error("overrides replaced the platform's table instead of adding to it")
			}
			keys := cfg.Message.KeysFor("ks1")
			if len(keys) != 3 || keys[0].AppKey != "ks1" || keys[1].AppKey != "ks2" || keys[2].AppKey != "" {
				t.Errorf("message keys = %v", keys)
			}
			// The parsed keys are the given key (the platform's encryption is
			// deterministic: same key, same ciphertext).
			plain := []byte(`{"test":true}`)
			if want, _ := message.NewKey("", aesKey16); keys[0].Encrypt(plain) != want.Encrypt(plain) || keys[1].Encrypt(plain) != want.Encrypt(plain) {
				t.Error("a parsed message key is not the given key")
			}
			if !cfg.Auth.AllowedHosts.Allows("tunnel.example.net:8443") || cfg.Auth.AllowedHosts.Allows("tunnel.example.net:9") ||
				!cfg.Auth.AllowedHosts.Allows("localhost:1") || cfg.Auth.AllowedHosts.Allows("evil.example.com") {
				t.Error("allowed hosts not as given")
			}
			if !slices.Equal(cfg.Auth.AllowedOrigins, []string{"https://console.example.com"}) {
				t.Errorf("origins = %q", cfg.Auth.AllowedOrigins)
			}
			if !slices.Equal(cfg.Token.ReturnHosts, []string{"app.example.com", "shop.example.com:8443"}) {
				t.Errorf("return hosts = %q", cfg.Token.ReturnHosts)
			}
			if cfg.SignMethod != "MD5" {
				t.Errorf("sign method = %q", cfg.SignMethod)
			}
			// Printing the configuration shows no key material.
			for _, s := range []string{fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
				for _, secret := range []string{"ops-secret", "shop-secret", aesKey16, strings.SplitN(ring, ":", 2)[1]} {
					if strings.Contains(s, secret) {
						t.Fatalf("the printed configuration shows a secret (%.12s…)", secret)
					}
				}
			}
		})
	}
}

// The defaults are the parsed forms of "nothing given".
func TestDefaults_Parsed(t *testing.T) {
	t.Parallel()
	d := Defaults()
	if d.Auth.Keys.Len() != 0 || d.Store.TokenKeys != nil || d.Limit.Rates != nil || !d.Message.Key.IsZero() || len(d.Message.KeysFor("x")) != 0 {
		t.Fatalf("defaults hold values: %+v", d)
	}
	if !d.Auth.AllowedHosts.Clone().Allows("localhost:8080") || d.Auth.AllowedHosts.Clone().Allows("evil.example.com") {
		t.Fatal("the default host set is not localhost only")
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	if d.Limit.QPS != limit.DefaultQPS || d.Message.DedupeWindow != message.DefaultDedupeWindow || d.Store.OAuthStateMaxBytes != store.DefaultStateMaxBytes {
		t.Fatalf("package defaults not composed: %+v", d)
	}
}

// An empty value sets none, where an empty value means none.
func TestLoad_EmptyValueUnsets(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("api-keys: "+apiKeys+"\nmessage-key: "+aesKey16+"\napi-qps-overrides: "+overrides+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--config", file, "--api-keys=", "--message-key=", "--api-qps-overrides", "", "--token-keys="}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Keys.Len() != 0 || !cfg.Message.Key.IsZero() || cfg.Limit.Rates != nil || cfg.Store.TokenKeys != nil {
		t.Fatalf("an empty flag did not unset: keys %d, message key %v, rates %d, ring %v",
			cfg.Auth.Keys.Len(), cfg.Message.Key, len(cfg.Limit.Rates), cfg.Store.TokenKeys)
	}
}

// A value that does not parse is reported once, with where it came from,
// and the rules that read the setting do not pile a second error on it.
func TestLoad_UnparsedReportedOnce(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"--api-keys", "svc:short"}, env(map[string]string{
		"KWAISHOP_GRPC_ADDR":   "0.0.0.0:9090",
		"KWAISHOP_APP_KEY":     "ks1",
		"KWAISHOP_APP_SECRET":  "s",
		"KWAISHOP_SIGN_SECRET": "s",
		"KWAISHOP_TOKEN_KEYS":  "k1:tooshort",
	}), io.Discard)
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{"config: --api-keys (KWAISHOP_API_KEYS): auth: key 1 (svc): secret must be 16 to 512", "config: KWAISHOP_TOKEN_KEYS: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, not := range []string{"not a loopback address", "required with real credentials"} {
		if strings.Contains(msg, not) {
			t.Errorf("a setting that did not parse was also reported as missing (%q):\n%s", not, msg)
		}
	}
	if n := strings.Count(msg, "KWAISHOP_TOKEN_KEYS"); n != 1 {
		t.Errorf("KWAISHOP_TOKEN_KEYS reported %d times:\n%s", n, msg)
	}
}

// Every setting is one flag and one env var, and --help lists each once.
func TestLoad_EverySettingIsAFlag(t *testing.T) {
	t.Parallel()
	var cfg Config
	settings := settingsOf(&cfg)
	if len(settings) < 75 {
		t.Fatalf("only %d settings found", len(settings))
	}
	var help bytes.Buffer
	if _, err := Load([]string{"--help"}, env(nil), &help); err == nil {
		t.Fatal("--help did not stop the load")
	}
	got := regexp.MustCompile(`\(env (KWAISHOP_[A-Z0-9_]+)\)`).FindAllStringSubmatch(help.String(), -1)
	if len(got) != len(settings) {
		t.Fatalf("--help lists %d settings, want %d", len(got), len(settings))
	}
	for name, s := range settings {
		if FlagName(s.env) != name || s.usage == "" || !strings.HasPrefix(s.env, "KWAISHOP_") {
			t.Errorf("setting %s: flag %s, usage %q", s.env, name, s.usage)
		}
	}
}

func TestConfig_Set(t *testing.T) {
	t.Parallel()
	cfg := Defaults()
	if err := cfg.Set("KWAISHOP_API_KEYS", apiKeys); err != nil || cfg.Auth.Keys.Len() != 2 {
		t.Fatalf("Set: %v (%d keys)", err, cfg.Auth.Keys.Len())
	}
	if err := cfg.Set("KWAISHOP_WEBHOOK_TIMEOUT", "3s"); err != nil || cfg.Webhook.Timeout != 3*time.Second {
		t.Fatalf("Set: %v (%s)", err, cfg.Webhook.Timeout)
	}
	if err := cfg.Set("KWAISHOP_API_KEYS", "svc:short"); err == nil || !strings.Contains(err.Error(), "KWAISHOP_API_KEYS") {
		t.Fatalf("Set accepted a bad key list: %v", err)
	}
	if cfg.Auth.Keys.Len() != 2 {
		t.Fatal("a refused value changed the setting")
	}
	if err := cfg.Set("KWAISHOP_NO_SUCH", "x"); err == nil {
		t.Fatal("Set accepted an unknown setting")
	}
}

// A rule between two packages' settings is the configuration's.
func TestValidate_WebhookBudgetWithinRetention(t *testing.T) {
	t.Parallel()
	_, err := Load(nil, env(map[string]string{"KWAISHOP_MESSAGE_RETENTION": "4h", "KWAISHOP_WEBHOOK_RETRY_BUDGET": "5h"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "config: KWAISHOP_WEBHOOK_RETRY_BUDGET: want at most the message retention (4h0m0s") {
		t.Fatalf("err = %v", err)
	}
}
