package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
)

// serverProcess is cmd/server run as a separate OS process.
type serverProcess struct {
	t                  *testing.T
	bin, dataDir, logf string
	grpcAddr, httpAddr string
	cmd                *exec.Cmd
	exited             chan struct{}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kwaishop-gateway/kwaishop-gateway/cmd/server").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/server: %v\n%s", err, out)
	}
	return bin
}

func (p *serverProcess) start() {
	t := p.t
	t.Helper()
	logFile, err := os.OpenFile(p.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(),
		"KWAISHOP_DATA_DIR="+p.dataDir, "KWAISHOP_GRPC_ADDR="+p.grpcAddr, "KWAISHOP_HTTP_ADDR="+p.httpAddr,
		"KWAISHOP_RECONCILE_INTERVAL=0", "KWAISHOP_LOG_LEVEL=warn", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
		"KWAISHOP_APP_KEY=", "KWAISHOP_APP_SECRET=", "KWAISHOP_SIGN_SECRET=", "KWAISHOP_NATS_URL=", "KWAISHOP_CONFIG=",
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

// kill sends SIGKILL and waits for the process to be gone.
func (p *serverProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// 10 000 pushes; the gateway process is SIGKILLed in the middle and
// restarted on the same data directory. The pusher retries every push
// until it is acknowledged (as the platform does); every acknowledged
// message must reach the group's subscriber at least once.
func TestMessages_SIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	dir := t.TempDir()
	p := &serverProcess{t: t, bin: buildServer(t), dataDir: filepath.Join(dir, "data"), logf: filepath.Join(dir, "server.log"),
		grpcAddr: freePort(t), httpAddr: freePort(t)}
	p.start()
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	var creds struct {
		AppKey     string `json:"appKey"`
		MessageKey string `json:"messageKey"`
	}
	raw, err := os.ReadFile(filepath.Join(p.dataDir, "sandbox-credentials.json"))
	if err != nil || json.Unmarshal(raw, &creds) != nil {
		t.Fatalf("sandbox credentials: %v", err)
	}
	key, err := message.NewKey("", creds.MessageKey)
	if err != nil {
		t.Fatal(err)
	}

	// The subscriber: one group, reconnecting whenever the gateway goes away.
	var received sync.Map // event id → deliveries
	var distinct, deliveries atomic.Int64
	subCtx, stopSub := context.WithCancel(context.Background())
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return
		}
		defer conn.Close()
		client := gatewayv1.NewMessageServiceClient(conn)
		for subCtx.Err() == nil {
			consume(subCtx, client, &received, &distinct, &deliveries)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { stopSub(); <-subDone })

	// The pusher: 16 workers; each push is retried until acknowledged.
	var acked atomic.Int64
	var killOnce sync.Once
	killed := make(chan struct{})
	jobs := make(chan int)
	hc := &http.Client{Timeout: 3 * time.Second}
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				body := key.Encrypt(fmt.Appendf(nil,
					`{"eventId":"kill-%05d","bizId":%d,"userId":1,"openId":"shopk","appKey":%q,"event":"kwaishop_order_addOrder","info":"{\"oid\":%d,\"createTime\":%d}","createTime":%d,"test":false}`,
					i, 500000+i, creds.AppKey, 500000+i, start.UnixMilli()+int64(i), start.UnixMilli()+int64(i))) // fresh: older pushes are kept out
				for attempt := 0; ; attempt++ {
					if ok := pushOnce(hc, "http://"+p.httpAddr+PushPath, body); ok {
						break
					}
					if attempt > 2000 {
						t.Errorf("push %d never acknowledged", i)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				if acked.Add(1) == int64(n/2) {
					killOnce.Do(func() { close(killed) })
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range n {
			jobs <- i
		}
	}()
	pushed := make(chan struct{})
	go func() { wg.Wait(); close(pushed) }()
	var killedAt int64
	select {
	case <-killed:
		p.kill() // SIGKILL with pushes in flight
		killedAt = acked.Load()
		p.start()
	case <-pushed:
		t.Fatal("the pushes ended before half were acknowledged")
	}
	<-pushed
	pushTime := time.Since(start)
	if got := acked.Load(); got != int64(n) {
		t.Fatalf("acknowledged %d of %d pushes", got, n)
	}

	deadline := time.Now().Add(60 * time.Second)
	for distinct.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	var missing []string
	for i := range n {
		if _, ok := received.Load(fmt.Sprintf("kill-%05d", i)); !ok {
			missing = append(missing, fmt.Sprintf("kill-%05d", i))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged messages never reached the subscriber, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	t.Logf("%d pushes acknowledged (%d before the SIGKILL) in %s; the subscriber got all %d distinct messages in %d deliveries (%d redelivered)",
		n, killedAt, pushTime.Round(time.Millisecond), distinct.Load(), deliveries.Load(), deliveries.Load()-distinct.Load())
}

func pushOnce(hc *http.Client, url, body string) bool {
	resp, err := hc.Post(url, "text/plain;charset=utf-8", strings.NewReader(body))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == `{"result":1}`
}

// consume runs one subscription until it breaks, acknowledging everything.
func consume(ctx context.Context, client gatewayv1.MessageServiceClient, received *sync.Map, distinct, deliveries *atomic.Int64) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.Subscribe(ctx)
	if err != nil {
		return
	}
	err = stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Open{Open: &gatewayv1.SubscribeOpen{
		Group:        "survivor",
		GroupOptions: &gatewayv1.ConsumerGroupOptions{StartPosition: gatewayv1.StartPosition_START_POSITION_BEGINNING},
		MaxInFlight:  1000,
	}}})
	if err != nil {
		return
	}
	for {
		r, err := stream.Recv()
		if err != nil {
			return
		}
		d := r.GetDelivery()
		if d == nil {
			continue
		}
		deliveries.Add(1)
		if _, loaded := received.LoadOrStore(d.GetMessage().GetEventId(), true); !loaded {
			distinct.Add(1)
		}
		if err := stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Ack{Ack: &gatewayv1.Acknowledgement{DeliveryIds: []string{d.GetDeliveryId()}}}}); err != nil {
			return
		}
	}
}
