package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// quietChildEnv makes the test binary, started by the test itself, serve one
// gateway the way cmd/server does (configuration from the environment, stop
// on SIGTERM), so that everything the process writes to its own stdout and
// stderr can be read, including what libraries print on their own.
const quietChildEnv = "KWAISHOP_TEST_TELEMETRY_CHILD"

func runQuietChild() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load(nil, os.Getenv, os.Stderr)
	if err == nil {
		err = Run(ctx, cfg, Options{})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0) // before the testing package prints its own summary
}

// TestTelemetry_DeadCollectorIsQuietAndBounded runs a gateway process whose
// OTLP endpoint is a port nobody listens on, with a 2 s shutdown grace. The
// export failures must reach the log as JSON records (no plain-text line on
// stdout or stderr), a start-up record must say where traces and metrics go,
// and SIGTERM must end the process within the grace plus 1 s even though
// the last flush cannot reach the collector.
func TestTelemetry_DeadCollectorIsQuietAndBounded(t *testing.T) {
	if os.Getenv(quietChildEnv) != "" {
		runQuietChild()
		return
	}
	if testing.Short() {
		t.Skip("waits for the OTLP exporters' own timeout")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	_ = lis.Close() // connections to it are refused from now on
	const grace = 2 * time.Second

	cmd := exec.Command(os.Args[0], "-test.run=^TestTelemetry_DeadCollectorIsQuietAndBounded$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "KWAISHOP_") && !strings.HasPrefix(kv, "GRPC_GO_LOG_") && !strings.HasPrefix(kv, "GORACE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, quietChildEnv+"=1",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+dead,
		"OTEL_BSP_SCHEDULE_DELAY=100",     // spans go out (and fail) soon after the calls
		"OTEL_METRIC_EXPORT_INTERVAL=500", // and so do metrics
		"KWAISHOP_SHUTDOWN_GRACE="+grace.String(),
		"KWAISHOP_DATA_DIR="+t.TempDir(),
		"KWAISHOP_GRPC_ADDR=127.0.0.1:0", "KWAISHOP_HTTP_ADDR=127.0.0.1:0",
		"KWAISHOP_LOG_FORMAT=json", "KWAISHOP_LOG_LEVEL=info",
		// A -race build otherwise sleeps 1 s at exit (a race detector
		// default), which is no part of the gateway's shutdown.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string // every line from both streams, as written
	)
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				mu.Lock()
				lines = append(lines, sc.Text())
				mu.Unlock()
			}
		})
	}
	exited := make(chan error, 1)
	go func() {
		readers.Wait() // Wait closes the pipes: read them to the end first
		exited <- cmd.Wait()
	}()
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	dump := func() string { return strings.Join(snapshot(), "\n") }

	// waitFor polls the output for a JSON record that match accepts.
	waitFor := func(what string, timeout time.Duration, match func(line string, rec map[string]any) bool) map[string]any {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			for _, line := range snapshot() {
				var rec map[string]any
				_ = json.Unmarshal([]byte(line), &rec)
				if match(line, rec) {
					return rec
				}
			}
			select {
			case err := <-exited:
				killed = true
				t.Fatalf("gateway exited (%v) while waiting for %s:\n%s", err, what, dump())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s in %s:\n%s", what, timeout, dump())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ready := waitFor("ready record", 60*time.Second, func(_ string, rec map[string]any) bool {
		return rec["msg"] == "kwaishop-gateway ready"
	})
	authorized := waitFor("sandbox shop record", time.Second, func(_ string, rec map[string]any) bool {
		return rec["msg"] == "sandbox shop authorized"
	})
	httpAddr, _ := ready["http"].(string)
	grpcAddr, _ := ready["grpc"].(string)
	openID, _ := authorized["open_id"].(string)

	// Some traced calls on both transports, so there are spans to export.
	client := &http.Client{Timeout: 10 * time.Second}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	shops := gatewayv1.NewShopServiceClient(conn)
	for range 3 {
		resp, err := client.Get("http://" + httpAddr + "/v1/shops/" + openID)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("REST GetShop: %d", resp.StatusCode)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = shops.GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: openID})
		cancel()
		if err != nil {
			t.Fatalf("gRPC GetShop: %v", err)
		}
	}

	// The exporters give up on the dead collector after their own timeout
	// (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default); whatever they report
	// must be a log record. A plain-text report is matched too, so that it
	// is the JSON check below that fails on it, with the line shown.
	waitFor("export failure report", 60*time.Second, func(line string, rec map[string]any) bool {
		if rec == nil {
			return strings.Contains(line, "export")
		}
		s, _ := rec["msg"].(string)
		return s == otelReportMsg
	})

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("gateway still running 60 s after SIGTERM:\n%s", dump())
	}
	killed = true
	took := time.Since(start)
	out := snapshot()
	if exitErr != nil {
		t.Errorf("gateway exit: %v", exitErr)
	}
	if took >= grace+time.Second {
		t.Errorf("shutdown took %s with a dead collector, want under grace %s + 1s", took.Round(time.Millisecond), grace)
	}

	var startLine map[string]any
	for _, line := range out {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON log record: %q", line)
			continue
		}
		if startLine == nil && strings.Contains(line, dead) && rec["endpoint"] != nil {
			startLine = rec
		}
		if rec["msg"] == otelReportMsg {
			if rec["level"] != "WARN" && rec["level"] != "ERROR" {
				t.Errorf("export failure logged at %v: %s", rec["level"], line)
			}
		}
	}
	if startLine == nil {
		t.Errorf("no start-up record names the OTLP endpoint %s", dead)
	} else if startLine["protocol"] == nil {
		t.Errorf("start-up record does not say the protocol: %v", startLine)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("shutdown took %s; output:\n%s", took.Round(time.Millisecond), strings.Join(out, "\n"))
	}
}

// TestTelemetry_SDKReportsAreRedactedAndLimited feeds the OpenTelemetry SDK a
// malformed OTLP header list (its parser quotes the bad entry, which is
// usually a credential) and a stream of failed exports: each report is a
// JSON record without the header values, and a burst is cut to
// otelReportBurst records, the next one counting what was left out.
func TestTelemetry_SDKReportsAreRedactedAndLimited(t *testing.T) {
	logs := &syncBuffer{}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=k3y-s3cret,Bearer t0ken-s3cret")
	routeOTelReports(newLogger(logs, "json", "info"), os.Getenv)
	otelReports.mu.Lock()
	otelReports.windowStart, otelReports.inWindow, otelReports.suppressed = time.Time{}, 0, 0
	otelReports.mu.Unlock()

	exp, err := otlptracegrpc.New(context.Background()) // parses the headers: one entry is malformed
	if err != nil {
		t.Fatal(err)
	}
	_ = exp.Shutdown(context.Background())
	otel.Handle(errors.New("export rejected for api-key k3y-s3cret"))
	for range 10 {
		otel.Handle(errors.New("traces export: connection refused"))
	}
	otelReports.mu.Lock()
	otelReports.windowStart = time.Now().Add(-otelReportWindow) // the window is over
	otelReports.mu.Unlock()
	otel.Handle(errors.New("traces export: connection refused"))

	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		records = append(records, rec)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("a header value reached the log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "parse headers") {
		t.Errorf("the malformed header report is missing:\n%s", logs)
	}
	if len(records) != otelReportBurst+1 {
		t.Fatalf("%d records, want %d (a burst of %d, then one after the window):\n%s", len(records), otelReportBurst+1, otelReportBurst, logs)
	}
	last := records[len(records)-1]
	// 2 reports before the loop, 10 in it: all but the burst were left out.
	if got, want := last["suppressed_before"], float64(2+10-otelReportBurst); got != want {
		t.Errorf("suppressed_before = %v, want %v: %v", got, want, last)
	}
	for _, rec := range records {
		if rec["msg"] != otelReportMsg {
			t.Errorf("record %v, want msg %q", rec, otelReportMsg)
		}
	}
}
