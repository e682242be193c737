package app

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// startSecLogServer starts cmd/server as p does, with the security logs
// on, flushing every flush, logging at info (the sandbox's URL).
func startSecLogServer(t *testing.T, p *serverProcess, flush string) {
	t.Helper()
	logFile, err := os.OpenFile(p.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(),
		"KWAISHOP_DATA_DIR="+p.dataDir, "KWAISHOP_GRPC_ADDR="+p.grpcAddr, "KWAISHOP_HTTP_ADDR="+p.httpAddr,
		"KWAISHOP_RECONCILE_INTERVAL=0", "KWAISHOP_LOG_LEVEL=info", "KWAISHOP_LOG_FORMAT=json", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
		"KWAISHOP_APP_KEY=", "KWAISHOP_APP_SECRET=", "KWAISHOP_SIGN_SECRET=", "KWAISHOP_NATS_URL=", "KWAISHOP_CONFIG=", "KWAISHOP_API_KEYS=",
		"KWAISHOP_SECURITY_LOG=true", "KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL="+flush,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			log, _ := os.ReadFile(p.logf)
			t.Fatalf("server exited before ready:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sandboxURL is the embedded sandbox's URL of the latest start.
func sandboxURL(t *testing.T, logf string) string {
	t.Helper()
	f, err := os.Open(logf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	url := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			URL string `json:"sandbox_url"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.URL != "" {
			url = line.URL
		}
	}
	if url == "" {
		t.Fatal("no sandbox_url in the server's log")
	}
	return url
}

// The scripted run, with the gateway SIGKILLed in the middle while every
// entry so far is stored and unsent (the first process never flushes), and
// restarted on the same data directory: the restarted process sends every
// entry; the platform receives exactly the accesses of both halves. (The
// embedded sandbox dies with the process, so the first process must not
// send: what it sent would be lost with its sandbox, not by the gateway.)
func TestSecurityLog_SIGKILLLosesNone(t *testing.T) {
	dir := t.TempDir()
	p := &serverProcess{t: t, bin: buildServer(t), dataDir: filepath.Join(dir, "data"), logf: filepath.Join(dir, "server.log"),
		grpcAddr: freePort(t), httpAddr: freePort(t)}
	startSecLogServer(t, p, "24h")
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newCommerceClients(&gateway{conn: conn})
	openID := sandboxOpenID(t, p.httpAddr)

	want := map[seclogKey]map[int64]bool{}
	ids := seclogOrders(t, c, openID, "198.51.100.9", want)
	seclogScript(t, c, openID, ids, want, 0, 25)
	seclogScript(t, c, openID, ids, want, 50, 55)
	p.kill()

	startSecLogServer(t, p, "100ms")
	seclogScript(t, c, openID, ids, want, 25, 50)
	seclogScript(t, c, openID, ids, want, 55, 60)
	sb := sandboxURL(t, p.logf)
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries := adminSecurityLogs(t, sb, openID)
		got, n := receivedSecLogs(t, entries)
		if equalSecLogs(got, want) {
			t.Logf("after the SIGKILL the platform received all %d accesses' entries (%d order ids)", len(entries), n)
			time.Sleep(500 * time.Millisecond)
			if again := adminSecurityLogs(t, sb, openID); len(again) != len(entries) {
				t.Fatalf("%d entries after settling, %d when matched (duplicates)", len(again), len(entries))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the SIGKILL the platform has %d groups, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sandboxOpenID(t *testing.T, httpAddr string) string {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/v1/authorizations")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Authorizations []map[string]any `json:"authorizations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Authorizations) == 0 {
		t.Fatalf("authorizations: %v %v", err, out)
	}
	for _, k := range []string{"openId", "open_id"} {
		if s, ok := out.Authorizations[0][k].(string); ok && s != "" {
			return s
		}
	}
	t.Fatalf("no open_id in %v", out.Authorizations[0])
	return ""
}

func adminSecurityLogs(t *testing.T, base, openID string) []sandbox.SecurityLogEntry {
	t.Helper()
	resp, err := http.Get(base + "/sandbox/v1/security-logs?open_id=" + openID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Logs []sandbox.SecurityLogEntry `json:"securityLogs"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("GET /sandbox/v1/security-logs: %d", resp.StatusCode)
	}
	return out.Logs
}
