package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Cluster test settings.
const (
	clusterCallDeadline = 3 * time.Second        // each caller's deadline (Grpc-Timeout)
	clusterSlack        = 500 * time.Millisecond // a bound on the deadline, not a performance target
	clusterGroup        = "cluster-test"
)

// startNATSCluster runs a three-node JetStream cluster on loopback in this
// process and waits until it has a meta leader.
func startNATSCluster(t *testing.T) []*server.Server {
	t.Helper()
	ports := make([]int, 3)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	nodes := make([]*server.Server, 3)
	for i := range nodes {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster:    server.ClusterOpts{Name: "kwaishop", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		nodes[i] = s
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	}
	for _, s := range nodes {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("nats %s not ready", s.Name())
		}
	}
	nc, err := nats.Connect(clientURLs(nodes))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("jetstream cluster has no meta leader: %v", err)
		}
	}
}

func clientURLs(nodes []*server.Server) string {
	var urls []string
	for _, s := range nodes {
		urls = append(urls, s.ClientURL())
	}
	return strings.Join(urls, ",")
}

// callOutcome is one PlatformService.Call through one replica.
type callOutcome struct {
	replica  int
	status   int    // HTTP status; 0 = transport error
	code     int    // gRPC code from the error body
	msg      string // the error body's message
	err      error
	end      time.Time
	duration time.Duration
}

// retryableCodes are the gRPC codes a caller may retry: Unavailable,
// ResourceExhausted, DeadlineExceeded, Aborted.
var retryableCodes = map[int]int{14: http.StatusServiceUnavailable, 8: http.StatusTooManyRequests, 4: http.StatusGatewayTimeout, 10: http.StatusConflict}

// clusterCall posts one REST call with a deadline the server knows
// (Grpc-Timeout) and a client timeout beyond it, so an overrun is measured
// rather than cut off.
func clusterCall(client *http.Client, url, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kwaishop-Wait", "true")
	req.Header.Set("Grpc-Timeout", fmt.Sprintf("%dm", clusterCallDeadline.Milliseconds()))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out, nil
}

// TestCluster_NATSNodeAndReplicaLossUnderLoad runs three gateway processes on
// a three-node NATS JetStream cluster (replicas 3) under a steady load of
// platform calls and pushed messages, stops the NATS node that leads the
// message stream and SIGKILLs one gateway process. Every push a replica
// acknowledged must reach the consumer group, the authorization must
// survive, and every failed call must be a retryable kind answered within
// its deadline.
func TestCluster_NATSNodeAndReplicaLossUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes and a NATS cluster")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	nodes := startNATSCluster(t)

	sb, err := sandbox.New(sandbox.Config{Seed: 7, Limits: sandbox.Limits{APIQPS: 100000, TestUserDailyCalls: -1, AppDailyCallsTest: -1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	sc := sb.Config()
	msgKey, err := message.NewKey(sc.AppKey, sc.MessageKey)
	if err != nil {
		t.Fatal(err)
	}
	tokenKey, _ := store.GenerateKey("k1")
	env := []string{
		"KWAISHOP_APP_KEY=" + sc.AppKey, "KWAISHOP_APP_SECRET=" + sc.AppSecret, "KWAISHOP_SIGN_SECRET=" + sc.SignSecret,
		"KWAISHOP_API_BASE_URL=" + srv.URL, "KWAISHOP_AUTHORIZE_URL=" + srv.URL + "/oauth/authorize", "KWAISHOP_APP_STATE=test",
		"KWAISHOP_NATS_URL=" + clientURLs(nodes), "KWAISHOP_NATS_REPLICAS=3", "KWAISHOP_TOKEN_KEYS=" + tokenKey.Encode(),
		"KWAISHOP_MESSAGE_KEY=" + sc.MessageKey, "KWAISHOP_RECONCILE_INTERVAL=0", "KWAISHOP_REFRESH_LEASE_TTL=2s",
		"KWAISHOP_TEST_USER_DAILY_QUOTA=1000000",
	}
	procs := make([]*proc, 3)
	for i := range procs {
		procs[i] = startProc(t, bin, fmt.Sprintf("replica-%d", i), env)
	}
	base := func(i int) string { return "http://" + procs[i].http }

	// Authorize the test user: start on replica 0, complete on replica 1.
	code, start, err := postJSON(base(0)+"/v1/authorizations:start", `{"scopes":["merchant_user","merchant_order"]}`)
	if err != nil || code != 200 {
		t.Fatalf("start: %d %v %v", code, start, err)
	}
	authCode, err := sb.IssueCode(1, []string{"merchant_user", "merchant_order"})
	if err != nil {
		t.Fatal(err)
	}
	code, done, err := postJSON(base(1)+"/v1/authorizations:complete", fmt.Sprintf(`{"code":%q,"state":%q}`, authCode, start["state"]))
	if err != nil || code != 200 {
		t.Fatalf("complete: %d %v %v", code, done, err)
	}
	openID := done["authorization"].(map[string]any)["open_id"].(string)
	call := fmt.Sprintf(`{"open_id":%q,"method":"open.shop.info.get"}`, openID)
	for i := range procs {
		if code, body, err := postJSON(base(i)+"/v1/call", call); err != nil || code != 200 {
			t.Fatalf("warm-up on replica-%d: %d %v %v", i, code, body, err)
		}
	}

	// Every stream and KV bucket must be replicated on all three nodes, or
	// losing one node could lose what lives only there.
	nc, err := nats.Connect(clientURLs(nodes))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for name := range js.StreamNames(ctx).Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s has %d replicas, want 3", name, r)
		}
	}

	const victim = 2 // the gateway process to SIGKILL; the subscriber starts on it
	var dead [3]atomic.Bool
	client := &http.Client{
		Timeout:   clusterCallDeadline + 2*time.Second, // beyond the deadline: an overrun is measured, not hidden
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	// next picks the next replica round-robin, skipping the ones a load
	// balancer would have taken out after a refused connection.
	next := func(n *int) int {
		for range 3 {
			*n++
			if i := *n % 3; !dead[i].Load() {
				return i
			}
		}
		return *n % 3
	}

	// The subscriber: REST pull/ack in one consumer group, on the victim
	// first, moving to another replica whenever one fails.
	var (
		subMu       sync.Mutex
		delivered   = map[string]int{} // event id -> deliveries seen
		redelivered int
		pullErrors  int
	)
	subStop := make(chan struct{})
	subDone := make(chan struct{})
	pull := `{"group":"` + clusterGroup + `","group_options":{"start_position":"START_POSITION_BEGINNING","ack_timeout":"3s","max_deliveries":-1},"max_messages":200,"wait":"1s"}`
	go func() {
		defer close(subDone)
		cur := victim
		for {
			select {
			case <-subStop:
				return
			default:
			}
			fail := func() {
				subMu.Lock()
				pullErrors++
				subMu.Unlock()
				cur = next(&cur)
				time.Sleep(100 * time.Millisecond)
			}
			code, body, err := clusterCall(client, base(cur)+"/v1/messages:pull", pull)
			if err != nil || code != 200 {
				fail()
				continue
			}
			ds, _ := body["deliveries"].([]any)
			var ids []string
			subMu.Lock()
			for _, d := range ds {
				d := d.(map[string]any)
				ev, _ := d["message"].(map[string]any)["event_id"].(string)
				if delivered[ev] > 0 {
					redelivered++
				}
				delivered[ev]++
				ids = append(ids, d["delivery_id"].(string))
			}
			subMu.Unlock()
			if len(ids) == 0 {
				continue
			}
			ack, _ := json.Marshal(map[string]any{"group": clusterGroup, "ack": map[string]any{"delivery_ids": ids}})
			if code, _, err := clusterCall(client, base(cur)+"/v1/messages:ack", string(ack)); err != nil || code != 200 {
				fail() // unacknowledged deliveries come again after the ack timeout
			}
		}
	}()
	// Steady load: callers and pushers, round-robin over the replicas.
	stop := make(chan struct{})
	var (
		outMu    sync.Mutex
		outcomes []callOutcome
		killedAt atomic.Int64 // unix nanos of the SIGKILL
		ackedMu  sync.Mutex
		acked    []string
		unacked  int
		pushErrs = map[string]int{}
		seq      atomic.Int64
	)
	var load sync.WaitGroup
	for g := range 4 {
		load.Go(func() { // caller
			n := g
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := next(&n)
				t0 := time.Now()
				code, body, err := clusterCall(client, base(i)+"/v1/call", call)
				o := callOutcome{replica: i, status: code, err: err, end: time.Now(), duration: time.Since(t0)}
				if c, ok := body["code"].(string); ok { // the gRPC code's name (docs/rest.md)
					o.code = int(rpccode.Code_value[c])
				}
				o.msg, _ = body["message"].(string)
				if err != nil && killedAt.Load() != 0 && i == victim {
					dead[i].Store(true)
				}
				outMu.Lock()
				outcomes = append(outcomes, o)
				outMu.Unlock()
			}
		})
		load.Go(func() { // pusher: the platform's role, retrying on another replica
			n := g
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := seq.Add(1)
				now := time.Now().UnixMilli()
				info, _ := json.Marshal(map[string]any{"oid": 9_000_000 + k, "sellerId": 1, "status": 30, "updateTime": now})
				eventID := fmt.Sprintf("cluster-%d", k)
				plain, _ := json.Marshal(map[string]any{
					"eventId": eventID, "bizId": 9_000_000 + k, "userId": 1, "openId": openID, "appKey": sc.AppKey,
					"event": message.EventOrderPaid, "info": string(info), "createTime": now,
				})
				body := msgKey.Encrypt(plain)
				ok := false
				for attempt := 0; attempt < 8 && !ok; attempt++ {
					i := next(&n)
					req, _ := http.NewRequest(http.MethodPost, base(i)+"/callbacks/messages", strings.NewReader(body))
					req.Header.Set("Content-Type", "text/plain")
					resp, err := client.Do(req)
					var why string
					switch {
					case err != nil:
						why = "transport"
						if killedAt.Load() != 0 && i == victim {
							why = "transport (killed replica)"
							dead[i].Store(true)
						}
					default:
						raw, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						var r struct {
							Result int `json:"result"`
						}
						_ = json.Unmarshal(raw, &r)
						if resp.StatusCode == http.StatusOK && r.Result == 1 {
							ok = true
							continue
						}
						why = fmt.Sprintf("http %d", resp.StatusCode)
						if resp.StatusCode >= 400 && resp.StatusCode < 500 {
							t.Errorf("push %s refused by replica-%d: %d %s", eventID, i, resp.StatusCode, raw)
						}
					}
					ackedMu.Lock()
					pushErrs[why]++
					ackedMu.Unlock()
					time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
				}
				ackedMu.Lock()
				if ok {
					acked = append(acked, eventID)
				} else {
					unacked++
				}
				ackedMu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	// Midway: stop the NATS node leading the message stream, then SIGKILL a
	// gateway process.
	time.Sleep(3 * time.Second)
	ms, err := js.Stream(ctx, msglog.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	leader := ms.CachedInfo().Cluster.Leader
	var stopped *server.Server
	for _, s := range nodes {
		if s.Name() == leader {
			stopped = s
		}
	}
	if stopped == nil {
		stopped = nodes[0]
	}
	held := []string{msglog.StreamName}
	if c, err := ms.Consumer(ctx, clusterGroup); err == nil && c.CachedInfo().Cluster != nil && c.CachedInfo().Cluster.Leader == stopped.Name() {
		held = append(held, "group "+clusterGroup)
	}
	if kv, err := js.Stream(ctx, "KV_kwaishop_tokens"); err == nil && kv.CachedInfo().Cluster.Leader == stopped.Name() {
		held = append(held, "KV_kwaishop_tokens")
	}
	stopped.Shutdown()
	t.Logf("stopped nats node %s, leader of %v", stopped.Name(), held)
	time.Sleep(1500 * time.Millisecond)
	killedAt.Store(time.Now().UnixNano())
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[victim].exited
	t.Logf("killed replica-%d", victim)
	time.Sleep(5 * time.Second)
	close(stop)
	load.Wait()

	// Drain: the subscriber must see every acknowledged push.
	ackedMu.Lock()
	want := slices.Clone(acked)
	ackedMu.Unlock()
	missing := func() []string {
		subMu.Lock()
		defer subMu.Unlock()
		var out []string
		for _, id := range want {
			if delivered[id] == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	for deadline := time.Now().Add(30 * time.Second); len(missing()) > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	close(subStop)
	<-subDone
	if m := missing(); len(m) > 0 {
		sort.Strings(m)
		t.Errorf("%d of %d acknowledged pushes never delivered, e.g. %v", len(m), len(want), m[:min(len(m), 10)])
	}

	// Callers: every failure retryable and within its deadline.
	kill := time.Unix(0, killedAt.Load())
	fails := map[string]int{}
	samples := map[string]string{}
	okCalls := 0
	var slowest time.Duration
	for _, o := range outcomes {
		slowest = max(slowest, o.duration)
		if o.duration > clusterCallDeadline+clusterSlack {
			t.Errorf("call on replica-%d took %s (deadline %s): %d %v", o.replica, o.duration, clusterCallDeadline, o.status, o.err)
		}
		switch {
		case o.err == nil && o.status == 200:
			okCalls++
		case o.err != nil:
			var nerr net.Error
			if errors.As(o.err, &nerr) && nerr.Timeout() {
				fails["client timeout"]++
				t.Errorf("call on replica-%d not answered before the client timeout: %v", o.replica, o.err)
				continue
			}
			fails["transport (killed replica)"]++
			if o.replica != victim || o.end.Before(kill) {
				t.Errorf("transport error from replica-%d that was not killed: %v", o.replica, o.err)
			}
		default:
			kind := fmt.Sprintf("http %d code %d", o.status, o.code)
			fails[kind]++
			samples[kind] = o.msg
			if want, ok := retryableCodes[o.code]; !ok || want != o.status {
				t.Errorf("non-retryable failure from replica-%d: http %d code %d", o.replica, o.status, o.code)
			}
		}
	}

	// The authorization survived and works through every surviving replica.
	for i := range procs {
		if i == victim {
			continue
		}
		code, body, err := postJSON(base(i)+"/v1/call", call)
		if err != nil || code != 200 {
			t.Errorf("call after the failures on replica-%d: %d %v %v", i, code, body, err)
		}
		resp, err := http.Get(base(i) + "/v1/authorizations/" + openID)
		if err != nil {
			t.Errorf("get authorization on replica-%d: %v", i, err)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "AUTHORIZATION_STATUS_ACTIVE") {
			t.Errorf("authorization on replica-%d: %d %s", i, resp.StatusCode, raw)
		}
	}
	subMu.Lock()
	t.Logf("calls: %d (%d ok, slowest %s), failures %v %q", len(outcomes), okCalls, slowest.Round(time.Millisecond), fails, samples)
	t.Logf("pushes: %d acknowledged, %d given up, failed attempts %v", len(want), unacked, pushErrs)
	t.Logf("subscriber: %d distinct delivered, %d redeliveries, %d pull/ack errors", len(delivered), redelivered, pullErrors)
	subMu.Unlock()
}
