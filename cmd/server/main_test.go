package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// proc is one gateway server process.
type proc struct {
	cmd      *exec.Cmd
	http, id string
	logs     *strings.Builder
	mu       sync.Mutex
	exited   chan struct{}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startProc runs the server binary with env and waits for its ready line.
func startProc(t *testing.T, bin, id string, env []string) *proc {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "KWAISHOP_REPLICA_ID="+id, "KWAISHOP_GRPC_ADDR=127.0.0.1:0", "KWAISHOP_HTTP_ADDR=127.0.0.1:0", "KWAISHOP_DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, id: id, logs: &strings.Builder{}, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "kwaishop-gateway ready" {
				ready <- rec.HTTP
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.http = <-ready:
	case <-p.exited:
		t.Fatalf("%s exited before ready:\n%s", id, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready:\n%s", id, p.log())
	}
	return p
}

// postJSON posts a REST call; callers ask to wait for their QPS slot (the
// gateway shapes calls to the platform's limits) rather than be refused.
func postJSON(url, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kwaishop-Wait", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out, nil
}

// TestReplicas_LeaseHolderKilledMidRefresh runs three server processes that
// share one NATS server, expires a shop's access token on the sandbox, makes
// the sandbox hold the refresh call, and SIGKILLs whichever replica holds the
// refresh lease. The survivors must take over: every call they serve
// succeeds, no refreshToken.discarded anywhere, and the shop keeps a working
// token.
func TestReplicas_LeaseHolderKilledMidRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	nats, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nats.Close()
	sb, err := sandbox.New(sandbox.Config{Seed: 5, Limits: sandbox.Limits{APIQPS: 100000}}) // this test is about refresh, not QPS
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	sc := sb.Config()
	key, _ := store.GenerateKey("k1")
	env := []string{
		"KWAISHOP_APP_KEY=" + sc.AppKey, "KWAISHOP_APP_SECRET=" + sc.AppSecret, "KWAISHOP_SIGN_SECRET=" + sc.SignSecret,
		"KWAISHOP_API_BASE_URL=" + srv.URL, "KWAISHOP_AUTHORIZE_URL=" + srv.URL + "/oauth/authorize", "KWAISHOP_APP_STATE=test",
		"KWAISHOP_NATS_URL=" + nats.ClientURL(), "KWAISHOP_TOKEN_KEYS=" + key.Encode(), "KWAISHOP_REFRESH_LEASE_TTL=2s",
	}
	procs := map[string]*proc{}
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("replica-%d", i)
		procs[id] = startProc(t, bin, id, env)
		ids = append(ids, id)
	}

	// Authorize the sandbox's test user through replica 0 (start) and 1 (complete).
	code, start, err := postJSON("http://"+procs[ids[0]].http+"/v1/authorizations:start", `{"scopes":["merchant_user","merchant_order"]}`)
	if err != nil || code != 200 {
		t.Fatalf("start: %d %v %v", code, start, err)
	}
	authCode, err := sb.IssueCode(1, []string{"merchant_user", "merchant_order"})
	if err != nil {
		t.Fatal(err)
	}
	code, done, err := postJSON("http://"+procs[ids[1]].http+"/v1/authorizations:complete", fmt.Sprintf(`{"code":%q,"state":%q}`, authCode, start["state"]))
	if err != nil || code != 200 {
		t.Fatalf("complete: %d %v %v", code, done, err)
	}
	openID := done["authorization"].(map[string]any)["open_id"].(string)
	call := fmt.Sprintf(`{"open_id":%q,"method":"open.shop.info.get"}`, openID)
	for _, id := range ids {
		if code, body, err := postJSON("http://"+procs[id].http+"/v1/call", call); err != nil || code != 200 {
			t.Fatalf("warm-up on %s: %d %v %v", id, code, body, err)
		}
	}

	// The access token expires on the platform; the first refresh hangs.
	if _, err := sb.InjectFault(sandbox.Fault{Method: "oauth2.refresh_token", Kind: "delay", DelayMs: 4000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sb.Advance(49 * time.Hour)

	type result struct {
		replica string
		code    int
		body    map[string]any
		err     error
	}
	results := make(chan result, 300)
	var wg sync.WaitGroup
	for i := range 150 {
		id := ids[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := postJSON("http://"+procs[id].http+"/v1/call", call)
			results <- result{id, code, body, err}
		}()
	}

	// Find the lease holder in the shared store and kill it.
	ring, _ := store.NewKeyring(key)
	ts, err := nats.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for deadline := time.Now().Add(10 * time.Second); victim == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		a, _, err := ts.Get(ctx, openID)
		if err == nil && a.LeaseOwner != "" {
			victim = a.LeaseOwner
		}
	}
	if procs[victim] == nil {
		t.Fatalf("no replica took the refresh lease (owner %q)", victim)
	}
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[victim].exited
	wg.Wait()
	close(results)

	served := 0
	for r := range results {
		if r.err == nil && strings.Contains(fmt.Sprint(r.body), "discarded") {
			t.Errorf("%s answered with refreshToken.discarded: %v", r.replica, r.body)
		}
		if r.replica == victim {
			continue // its callers see the connection drop: a retryable transport error
		}
		if r.err != nil || r.code != 200 {
			t.Errorf("survivor %s failed a call: %d %v %v", r.replica, r.code, r.body, r.err)
			continue
		}
		served++
	}
	if served != 100 {
		t.Errorf("survivors served %d of 100 calls", served)
	}
	for _, id := range ids {
		if id == victim {
			continue
		}
		if code, body, err := postJSON("http://"+procs[id].http+"/v1/call", call); err != nil || code != 200 {
			t.Fatalf("after takeover %s: %d %v %v", id, code, body, err)
		}
		if strings.Contains(procs[id].log(), "discarded") {
			t.Errorf("%s logged refreshToken.discarded", id)
		}
	}
	if c := sb.Counters(); c.RejectedRefreshes != 0 {
		t.Fatalf("sandbox rejected %d refreshes", c.RejectedRefreshes)
	}
	t.Logf("victim %s; sandbox counters: refreshes=%d replayed=%d", victim, sb.Counters().Refreshes, sb.Counters().ReplayedRefreshes)
}
