package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// appByKey finds an app of a resolved list.
func appByKey(t *testing.T, apps []App, key string) App {
	t.Helper()
	for _, a := range apps {
		if a.Key == key {
			return a
		}
	}
	t.Fatalf("app %s not in %v", key, apps)
	return App{}
}

// The single app of the env vars follows the table: online by default, so
// the launched app's 1 000 000 calls, no test-user cap, and a third-party
// app takes the service market's stateless codes. Explicit settings win.
func TestConfigApps_SingleAppFromTable(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"KWAISHOP_APP_KEY": "ks1", "KWAISHOP_APP_SECRET": "s3cr3t-app", "KWAISHOP_SIGN_SECRET": "s3cr3t-sign",
		"KWAISHOP_TOKEN_KEYS": tokenKeys(t), "KWAISHOP_MESSAGE_KEY": aesKey16,
	}
	load := func(extra map[string]string) App {
		t.Helper()
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		cfg, err := Load(nil, env(m), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		apps := cfg.AppList()
		if len(apps) != 1 || apps[0].Key != "ks1" || len(apps[0].MessageKeys) != 1 || apps[0].MessageKeys[0].AppKey != "ks1" {
			t.Fatalf("apps = %+v", apps)
		}
		return apps[0]
	}
	a := load(nil)
	if a.State != AppOnline || a.Type != AppThirdParty || a.DailyQuota != platform.DailyCallsOnline ||
		a.TestUserDailyQuota != 0 || a.StateRequired() || a.TestState() || a.SignMethod != sign.HMACSHA256 {
		t.Fatalf("defaults: %+v", a)
	}
	if a = load(map[string]string{"KWAISHOP_APP_STATE": "test"}); a.DailyQuota != 100_000 || a.TestUserDailyQuota != 2_000 || !a.TestState() {
		t.Fatalf("test state: %+v", a)
	}
	if a = load(map[string]string{"KWAISHOP_APP_TYPE": "self_use"}); !a.StateRequired() {
		t.Fatalf("a self-use app takes stateless codes: %+v", a)
	}
	if a = load(map[string]string{"KWAISHOP_APP_TYPE": "self_use", "KWAISHOP_OAUTH_REQUIRE_STATE": "false"}); a.StateRequired() {
		t.Fatalf("KWAISHOP_OAUTH_REQUIRE_STATE=false ignored: %+v", a)
	}
	if a = load(map[string]string{"KWAISHOP_OAUTH_REQUIRE_STATE": "true"}); !a.StateRequired() {
		t.Fatalf("KWAISHOP_OAUTH_REQUIRE_STATE=true ignored: %+v", a)
	}
	if a = load(map[string]string{"KWAISHOP_APP_STATE": "test", "KWAISHOP_DAILY_QUOTA": "5000", "KWAISHOP_TEST_USER_DAILY_QUOTA": "30"}); a.DailyQuota != 5000 || a.TestUserDailyQuota != 30 {
		t.Fatalf("explicit quotas: %+v", a)
	}
	// Sandbox mode has no app until the sandbox applies its credentials,
	// and its app is in test state whatever KWAISHOP_APP_STATE says.
	cfg := Defaults()
	if apps := cfg.AppList(); apps != nil {
		t.Fatalf("sandbox mode apps before the sandbox: %+v", apps)
	}
	_, err := Load(nil, env(map[string]string{"KWAISHOP_APP_TYPE": "partner", "KWAISHOP_OAUTH_REQUIRE_STATE": "maybe"}), &bytes.Buffer{})
	for _, want := range []string{"KWAISHOP_APP_TYPE", "KWAISHOP_OAUTH_REQUIRE_STATE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s not reported: %v", want, err)
		}
	}
}

const twoApps = `
- app_key: ks_online
  app_secret: online-app-secret
  sign_secret: online-sign-secret
  sign_method: MD5
  message_keys: ["AAECAwQFBgcICQoLDA0ODw=="]
  type: third_party
  state: online
- app_key: ks_test
  app_secret: test-app-secret
  sign_secret: test-sign-secret
  message_key: AAECAwQFBgcICQoLDA0ODw==
  type: self_use
  state: test
  test_user_daily_quota: 30
  redirect_uri: https://gw.example.com/oauth/callback/ks_test
`

// A list from the file and the environment: each app resolved from the
// table, its explicit values kept, its keys bound to it.
func TestConfigApps_ListFromFileAndEnv(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "apps.yaml")
	if err := os.WriteFile(file, []byte(twoApps), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--apps-file", file}, env(map[string]string{
		"KWAISHOP_TOKEN_KEYS": tokenKeys(t),
		"KWAISHOP_APPS":       `[{"app_key":"ks_json","app_secret":"json-app-secret","sign_secret":"json-sign-secret","require_state":false,"type":"self_use","daily_quota":7}]`,
		"KWAISHOP_HTTP_ADDR":  "127.0.0.1:9999",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SandboxMode() {
		t.Fatal("an app list is sandbox mode")
	}
	apps := cfg.AppList()
	if len(apps) != 3 || apps[0].Key != "ks_online" || apps[2].Key != "ks_json" {
		t.Fatalf("apps in order file, env: %+v", apps)
	}
	on := appByKey(t, apps, "ks_online")
	if on.DailyQuota != 1_000_000 || on.TestUserDailyQuota != 0 || on.StateRequired() || on.SignMethod != sign.MD5 ||
		on.Secret.Reveal() != "online-app-secret" || len(on.MessageKeys) != 1 || on.MessageKeys[0].AppKey != "ks_online" ||
		on.RedirectURI != "http://127.0.0.1:9999/oauth/callback/ks_online" {
		t.Fatalf("online app: %+v", on)
	}
	te := appByKey(t, apps, "ks_test")
	if te.DailyQuota != 100_000 || te.TestUserDailyQuota != 30 || !te.StateRequired() || te.SignMethod != sign.HMACSHA256 ||
		te.RedirectURI != "https://gw.example.com/oauth/callback/ks_test" || te.MessageKeys[0].AppKey != "ks_test" {
		t.Fatalf("test app: %+v", te)
	}
	js := appByKey(t, apps, "ks_json")
	if js.DailyQuota != 7 || js.StateRequired() || js.State != AppOnline || len(js.MessageKeys) != 0 {
		t.Fatalf("env app: %+v", js)
	}
	// The reauthorization links go to the first app's public address.
	cfg.Apps[0].RedirectURI = "https://gw.example.com/oauth/callback/ks_online"
	if got := cfg.EffectiveRedirectURI(); got != "https://gw.example.com/oauth/callback" {
		t.Fatalf("EffectiveRedirectURI = %s", got)
	}
}

// Hostile lists: every violation is reported, none quotes a value of the
// list (a secret in the wrong member must not reach a log), and a list is
// refused with the single-app settings.
func TestConfigApps_HostileLists(t *testing.T) {
	t.Parallel()
	const secretish = "TOPSECRET-do-not-print-0123"
	for name, tc := range map[string]struct {
		list string
		want []string
	}{
		"duplicate_app_keys": {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b"},{"app_key":"ks1","app_secret":"c","sign_secret":"d"}]`,
			[]string{"app 2: app_key: the app ks1 is configured twice (first at KWAISHOP_APPS: app 1)"}},
		"missing_secrets": {`[{"app_key":"ks1"}]`, []string{"app 1: app_secret: required", "app 1: sign_secret: required"}},
		"missing_key":     {`[{"app_secret":"a","sign_secret":"b"}]`, []string{"app 1: app_key: required"}},
		"unknown_member":  {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b","app_secert":"` + secretish + `"}]`, []string{"app 1: unknown member"}},
		"member_twice":    {`[{"app_key":"ks1","app_secret":"a","app_secret":"` + secretish + `","sign_secret":"b"}]`, []string{"app_secret: given twice"}},
		"secret_in_quota": {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b","daily_quota":"` + secretish + `"}]`, []string{"daily_quota: want a whole number"}},
		"secret_as_key":   {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b","message_key":"` + secretish + `"}]`, []string{"message_key: want base64"}},
		"bad_values": {`[{"app_key":"ks 1","app_secret":"a","sign_secret":"b","type":"partner","state":"beta","sign_method":"SHA1","redirect_uri":"ftp://x","require_state":"sometimes","daily_quota":-1}]`,
			[]string{"type: want", "state: want", "sign_method: want", "require_state: want", "daily_quota: want"}},
		"bad_values_after_parse": {`[{"app_key":"ks 1","app_secret":"a","sign_secret":"b","redirect_uri":"ftp://x"}]`,
			[]string{"app_key: must be", "redirect_uri: want an absolute"}},
		"not_a_list":      {`{"app_key":"ks1"}`, []string{"want a list of apps"}},
		"not_an_object":   {`["ks1"]`, []string{"want an object"}},
		"syntax":          {`[{"app_key": "` + secretish, []string{"not a JSON or YAML list"}},
		"too_many_keys":   {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b","message_keys":["` + strings.Repeat(aesKey16+`","`, 8) + aesKey16 + `"]}]`, []string{"at most 8 keys"}},
		"null_secret":     {`[{"app_key":"ks1","app_secret":null,"sign_secret":"b"}]`, []string{"app_secret: want a value"}},
		"too_many_apps":   {"[" + strings.Repeat(`{},`, MaxApps) + "{}]", []string{"101 apps, at most 100"}},
		"single_and_list": {`[{"app_key":"ks1","app_secret":"a","sign_secret":"b"}]`, []string{"KWAISHOP_APP_KEY: a single-app setting", "KWAISHOP_DAILY_QUOTA: a single-app setting", "KWAISHOP_MESSAGE_KEY: a single-app setting"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{"KWAISHOP_APPS": tc.list, "KWAISHOP_TOKEN_KEYS": tokenKeys(t)}
			if name == "single_and_list" {
				m["KWAISHOP_APP_KEY"], m["KWAISHOP_DAILY_QUOTA"], m["KWAISHOP_MESSAGE_KEY"] = "ks0", "10", aesKey16
			}
			_, err := Load(nil, env(m), &bytes.Buffer{})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("missing %q in:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), aesKey16) {
				t.Fatalf("a value of the list is in the error:\n%v", err)
			}
		})
	}
	// The list needs the token keys, like the single app's credentials.
	if _, err := Load(nil, env(map[string]string{"KWAISHOP_APPS": `[{"app_key":"ks1","app_secret":"a","sign_secret":"b"}]`}), &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "KWAISHOP_TOKEN_KEYS") {
		t.Fatalf("a list without token keys: %v", err)
	}
}

// A huge or missing file is refused before it costs memory.
func TestConfigApps_FileLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("# padding\n"), MaxAppsBytes/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{huge: "larger than", filepath.Join(dir, "none.yaml"): "no such file"} {
		_, err := Load(nil, env(map[string]string{"KWAISHOP_APPS_FILE": path, "KWAISHOP_TOKEN_KEYS": tokenKeys(t)}), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "KWAISHOP_APPS_FILE") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", path, err)
		}
	}
	// An empty file is no list: sandbox mode.
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, env(map[string]string{"KWAISHOP_APPS_FILE": empty}), &bytes.Buffer{})
	if err != nil || !cfg.SandboxMode() {
		t.Fatalf("empty file: %v (sandbox %v)", err, cfg.SandboxMode())
	}
}
