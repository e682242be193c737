package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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
	env := map[string]string{"KWAISHOP_SANDBOX_SEED": "abc", "KWAISHOP_SANDBOX_MESSAGE_KEY": "!!"}
	_, err := parseSettings([]string{"--test-users", "6", "--log-level", "loud"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"KWAISHOP_SANDBOX_SEED", "MessageKey", "TestUsers", "log level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	st, err := parseSettings(nil, func(string) string { return "" }, io.Discard)
	if err != nil || st.addr != "127.0.0.1:8090" {
		t.Fatalf("defaults: %+v %v", st, err)
	}
}
