package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_ServesAndShutsDown(t *testing.T) {
	env := map[string]string{
		"KWAISHOP_SANDBOX_APP_KEY":     "ks123456789012345678",
		"KWAISHOP_SANDBOX_SIGN_SECRET": "0123456789abcdef0123456789abcdef",
		"KWAISHOP_SANDBOX_TEST_USERS":  "2",
		"KWAISHOP_SANDBOX_SEED":        "9",
	}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--test-users", "3"}, func(k string) string { return env[k] }, &stdout, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	resp, err := http.Get("http://" + addr + "/sandbox/v1/test-users")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var users struct {
		TestUsers []json.RawMessage `json:"testUsers"`
	}
	if err := json.Unmarshal(body, &users); err != nil || len(users.TestUsers) != 3 { // flag beats env
		t.Fatalf("test users: %v %s", err, body)
	}
	out := stdout.String()
	if !strings.Contains(out, "appSecret") || !strings.Contains(out, "(generated)") {
		t.Errorf("banner lacks the generated app secret:\n%s", out)
	}
	if strings.Contains(out, env["KWAISHOP_SANDBOX_SIGN_SECRET"]) {
		t.Error("banner printed an operator-supplied secret")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestParseSettings_ReportsEveryProblem(t *testing.T) {
	env := map[string]string{"KWAISHOP_SANDBOX_SEED": "abc", "KWAISHOP_SANDBOX_MESSAGE_KEY": "!!", "KWAISHOP_SANDBOX_APP_STATE": "beta"}
	_, err := parseSettings([]string{"--test-users", "6", "--log-level", "loud"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"KWAISHOP_SANDBOX_SEED", "MessageKey", "TestUsers", "log level", "AppState"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	st, err := parseSettings(nil, func(string) string { return "" }, io.Discard)
	if err != nil || st.addr != "127.0.0.1:8090" || st.cfg.AppState != "test" {
		t.Fatalf("defaults: %+v %v", st, err)
	}
	// Every setting of the issue, by env var and by flag (the flag wins).
	all := map[string]string{
		"KWAISHOP_SANDBOX_ADDR": "127.0.0.1:0", "KWAISHOP_SANDBOX_APP_KEY": "ks111111111111111111",
		"KWAISHOP_SANDBOX_APP_SECRET": "as", "KWAISHOP_SANDBOX_SIGN_SECRET": "ss",
		"KWAISHOP_SANDBOX_MESSAGE_KEY": "AAECAwQFBgcICQoLDA0ODw==", "KWAISHOP_SANDBOX_PUSH_URL": "http://127.0.0.1:1/push",
		"KWAISHOP_SANDBOX_SEED": "5", "KWAISHOP_SANDBOX_TEST_USERS": "4", "KWAISHOP_SANDBOX_APP_STATE": "online",
	}
	st, err = parseSettings(nil, func(k string) string { return all[k] }, io.Discard)
	c := st.cfg
	if err != nil || st.addr != "127.0.0.1:0" || c.AppKey != "ks111111111111111111" || c.AppSecret != "as" || c.SignSecret != "ss" ||
		c.MessageKey != all["KWAISHOP_SANDBOX_MESSAGE_KEY"] || c.PushURL != "http://127.0.0.1:1/push" || c.Seed != 5 || c.TestUsers != 4 || c.AppState != "online" {
		t.Fatalf("env: %+v %v", st, err)
	}
	st, err = parseSettings([]string{"--addr", "127.0.0.1:1", "--app-key", "ks2", "--app-secret", "a2", "--sign-secret", "s2",
		"--message-key", "AAECAwQFBgcICQoLDA0ODw==", "--push-url", "http://h/p", "--seed", "6", "--test-users", "2", "--app-state", "test"},
		func(k string) string { return all[k] }, io.Discard)
	c = st.cfg
	if err != nil || st.addr != "127.0.0.1:1" || c.AppKey != "ks2" || c.AppSecret != "a2" || c.SignSecret != "s2" ||
		c.PushURL != "http://h/p" || c.Seed != 6 || c.TestUsers != 2 || c.AppState != "test" {
		t.Fatalf("flags: %+v %v", st, err)
	}
}

func TestParseSettings_Apps(t *testing.T) {
	list := `[{"appKey":"ks1","type":"third_party","callbackUrl":"http://127.0.0.1:8080/oauth/callback","state":"online"},{"appKey":"ks2","signMethod":"MD5"}]`
	file := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(file, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--apps", list}, {"--apps", "@" + file}} {
		st, err := parseSettings(args, func(string) string { return "" }, io.Discard)
		if err != nil || len(st.cfg.Apps) != 2 || st.cfg.Apps[0].AppType != "third_party" || st.cfg.Apps[0].AppState != "online" ||
			st.cfg.Apps[1].SignMethod != "MD5" || st.cfg.AppState != "" {
			t.Fatalf("%v: %+v %v", args[1][:8], st.cfg, err)
		}
	}
	env := map[string]string{"KWAISHOP_SANDBOX_APPS": list}
	if st, err := parseSettings(nil, func(k string) string { return env[k] }, io.Discard); err != nil || len(st.cfg.Apps) != 2 {
		t.Fatalf("env: %+v %v", st.cfg.Apps, err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"with_single_app": {[]string{"--apps", list, "--app-key", "ks3"}, "either"},
		"with_app_state":  {[]string{"--apps", list, "--app-state", "test"}, "either"},
		"unknown_field":   {[]string{"--apps", `[{"appKey":"ks1","secret":"x"}]`}, "unknown field"},
		"not_a_list":      {[]string{"--apps", `{"appKey":"ks1"}`}, "JSON array"},
		"empty":           {[]string{"--apps", `[]`}, "no app"},
		"trailing":        {[]string{"--apps", `[{}] [{}]`}, "trailing"},
		"no_file":         {[]string{"--apps", "@" + file + ".missing"}, "apps"},
		"bad_app":         {[]string{"--apps", `[{"type":"isv"}]`}, "Apps[0].AppType"},
	} {
		if _, err := parseSettings(tc.args, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}

func TestRun_SeveralApps(t *testing.T) {
	env := map[string]string{"KWAISHOP_SANDBOX_APPS": `[{"appKey":"ks1","appSecret":"operator-secret","type":"third_party"},{}]`}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	resp, err := http.Get("http://" + addr + "/sandbox/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	var apps struct {
		Apps []struct {
			AppKey string `json:"appKey"`
			Type   string `json:"type"`
		} `json:"apps"`
	}
	err = json.NewDecoder(resp.Body).Decode(&apps)
	resp.Body.Close()
	if err != nil || len(apps.Apps) != 2 || apps.Apps[0].AppKey != "ks1" || apps.Apps[0].Type != "third_party" || apps.Apps[1].Type != "self_use" {
		t.Fatalf("apps: %+v %v", apps, err)
	}
	out := stdout.String()
	if !strings.Contains(out, "/market?app_id=ks1") || !strings.Contains(out, apps.Apps[1].AppKey+" (generated)") || strings.Contains(out, "operator-secret") {
		t.Errorf("banner:\n%s", out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
