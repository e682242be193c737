package main

import (
	"bufio"
	"context"
	"encoding/base64"
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
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// The scripted hostile run: the acceptance item of the "hostile callers"
// issue. The numbers are the issue's. A run takes 15-30s on a loaded
// 2-core machine when the server holds up; each failing check adds its
// polling time (up to 20s for the RSS).
const (
	hostileForgedAcks   = 1000
	hostileOAuthStarts  = 2000
	hostileScopes       = 32     // per /oauth/start request
	hostileScopeLen     = 28_000 // characters per scope
	hostileSmallScope   = 1_500  // characters per scope in the requests that fit a 64 KiB header cap
	hostileIdleConns    = 3000   // half to the gRPC port, half to the HTTP port
	hostileIdleHold     = 5 * time.Second
	hostileMalformed    = 500
	hostileWorkers      = 4
	hostileWarmPushes   = 20
	hostileVictimGroup  = "hostile-victim"
	hostileIntruderShop = "intruder-shop"

	// Limits of the acceptance item.
	hostileMaxDataGrowth = 5_000_000 // bytes
	hostileMaxRSSGrowth  = 0.20      // fraction of the warm-up RSS
	hostileRSSSettle     = 20 * time.Second

	// The /oauth/start phase stops early once the data dir has grown this
	// much: the finding is proven by then and a disk is not worth filling.
	hostileOAuthAbortGrowth = 64 << 20
)

// hostileAlphabet builds the oversized scopes. It has none of the letters
// of "panic" or "fatal error", so a scope echoed in a log line can never
// look like a crash to the output check.
const hostileAlphabet = "bdghjkmoqsuvwxyz"

// TestHostileRun runs the server binary in sandbox mode with API keys and
// replays a hostile mix against it: forged message acknowledgements with a
// key limited to another shop, oversized /oauth/start requests, thousands of
// idle connections and a catalogue of malformed requests over REST and gRPC.
// The server must stay up and serve normal calls, answer no request with a
// server error (HTTP ≥ 500, gRPC Internal/Unknown), print no panic, keep its
// data dir within 5 MB of its warm-up size and its RSS within 20 %, and the
// forged acknowledgements must leave another caller's pending deliveries
// untouched.
func TestHostileRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs a hostile load against it")
	}
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	started := time.Now()
	opsKey, intruderKey := randomToken(24), randomToken(24)
	env := []string{
		// ops may act for every shop; intruder only for a shop of its own,
		// and only on the message RPCs.
		"KWAISHOP_API_KEYS=ops:" + opsKey + ",intruder:" + intruderKey + ":shop=" + hostileIntruderShop + ":rpc=messages",
	}
	dataDir := t.TempDir()
	srv := startHostileServer(t, bin, dataDir, env)
	pid := srv.cmd.Process.Pid

	tl := newTally()
	a := &attacker{
		base:  "http://" + srv.http,
		tally: tl,
		client: &http.Client{
			Timeout:       30 * time.Second,
			Transport:     &http.Transport{MaxIdleConnsPerHost: 2 * hostileWorkers, DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	defer a.client.CloseIdleConnections()
	conn, err := grpc.NewClient(srv.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := &hostile{t: t, srv: srv, a: a, conn: conn, ops: opsKey, intruder: intruderKey}

	// 1. Warm-up: normal traffic, messages in the log, a victim holding
	// deliveries; then the snapshots.
	h.warmUp()
	rss0 := h.baselineRSS(pid)
	disk0 := dirBytes(dataDir)
	t.Logf("warm-up done after %s: RSS %s (peak under normal traffic), data dir %s, shop %s, victim holds %d deliveries",
		time.Since(started).Round(time.Millisecond), mib(rss0), mib(disk0), h.openID, len(h.held))

	// 2-5. The attack.
	h.forgedAcks()
	h.oauthStarts(disk0)
	h.idleConnections()
	h.malformed()

	// The server must still be up and serving.
	t.Run("server_stays_up", func(t *testing.T) {
		if !srv.alive() {
			t.Fatalf("the server process exited (%s); its last output:\n%s", srv.exitState, srv.out.tailText())
		}
		if code, body := a.rest("final", http.MethodGet, "/healthz", "", "", ""); code != http.StatusOK {
			t.Errorf("GET /healthz = %d %s", code, excerpt(string(body), 200))
		}
		if code, body := h.restCall("final"); code != http.StatusOK {
			t.Errorf("authorized REST call = %d %s", code, excerpt(string(body), 200))
		}
		fresh, err := grpc.NewClient(srv.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		if err := h.grpcCall(fresh, "final"); err != nil {
			t.Errorf("authorized gRPC call on a new connection: %v", err)
		}
	})

	// Forged acknowledgements must not have acknowledged or terminated the
	// victim's deliveries: after the victim's own NACK they all come again,
	// and none became a dead letter.
	t.Run("forged_acks_changed_nothing", func(t *testing.T) { h.checkVictim(t) })

	t.Run("no_server_errors", func(t *testing.T) {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		if tl.nServer > 0 {
			t.Errorf("%d HTTP answers ≥ 500; the first ones:\n  %s", tl.nServer, strings.Join(tl.serverErrs, "\n  "))
		}
		if tl.nGRPCBad > 0 {
			t.Errorf("%d gRPC answers Internal/Unknown; the first ones:\n  %s", tl.nGRPCBad, strings.Join(tl.grpcBad, "\n  "))
		}
		if tl.nServer+tl.nGRPCBad > 0 {
			t.Errorf("server errors by phase and kind:\n  %s", tl.badPhases())
		}
		if len(tl.transErrs) > 0 {
			t.Logf("transport errors (not failures by themselves; the final calls prove the server is up):\n  %s", strings.Join(tl.transErrs, "\n  "))
		}
	})

	t.Run("no_panic", func(t *testing.T) {
		if n, ex := srv.out.alarmReport(); n > 0 {
			t.Errorf("the server printed %d panic/fatal error lines, e.g.:\n  %s", n, strings.Join(ex, "\n  "))
		}
	})

	disk1 := dirBytes(dataDir)
	t.Run("data_dir_bounded", func(t *testing.T) {
		if g := disk1 - disk0; g >= hostileMaxDataGrowth {
			t.Errorf("the data dir grew by %d bytes (%s, from %s to %s); limit %d bytes", g, mib(g), mib(disk0), mib(disk1), hostileMaxDataGrowth)
		}
	})

	var rss1 int64
	t.Run("rss_returns", func(t *testing.T) {
		// Freed memory goes back to the OS only after a GC cycle has
		// lowered the heap goal, and an idle Go process runs one only
		// every two minutes. So the settle window carries the warm-up's
		// normal traffic, as a serving gateway has: the GC runs, the
		// scavenger returns what the attack left free, and what stays is
		// what the server still holds (leaked goroutines, stored states,
		// unbounded caches). It passes at the first reading within the
		// limit of the warm-up's peak (baselineRSS).
		limit := int64(float64(rss0) * (1 + hostileMaxRSSGrowth))
		deadline := time.Now().Add(hostileRSSSettle)
		for {
			h.normalTraffic("settle", 1)
			var err error
			if rss1, err = rssBytes(pid); err != nil {
				t.Fatal(err)
			}
			if rss1 <= limit || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if rss1 > limit {
			t.Errorf("RSS %s after %s of settling, warm-up %s: +%.0f%% (limit +%.0f%%)",
				mib(rss1), hostileRSSSettle, mib(rss0), 100*(float64(rss1)/float64(rss0)-1), 100*hostileMaxRSSGrowth)
		}
	})

	outBytes, outLines := srv.out.size()
	t.Logf("answers by phase:\n  %s", tl.answers())
	t.Logf("hostile run: %s", tl.summary())
	if n := a.lingered.Load(); n > 0 {
		t.Logf("note: %d answers delimited by the connection's end came without the server closing the connection within 250ms", n)
	}
	t.Logf("hostile run: data dir %s → %s (%+d bytes); RSS %s → %s (%+.0f%%); server output %d lines, %s; %s in all",
		mib(disk0), mib(disk1), disk1-disk0, mib(rss0), mib(rss1), 100*(float64(rss1)/float64(rss0)-1),
		outLines, mib(outBytes), time.Since(started).Round(time.Millisecond))
}

// hostile holds the run's state.
type hostile struct {
	t             *testing.T
	srv           *hostileServer
	a             *attacker
	conn          *grpc.ClientConn // opened at warm-up, like a long-lived client
	ops, intruder string
	openID        string
	held          map[string]string // the victim's pending deliveries: event id → delivery id
}

// normalTraffic makes rounds × 40 normal calls on both transports (gRPC on
// the long-lived connection): reading the shop's authorization and the
// message log, and one platform call in ten (the sandbox app has a daily
// call quota per shop).
func (h *hostile) normalTraffic(phase string, rounds int) {
	authz := gatewayv1.NewAuthorizationServiceClient(h.conn)
	msgs := gatewayv1.NewMessageServiceClient(h.conn)
	run(context.Background(), 40*rounds, hostileWorkers, func(i int) {
		ctx, cancel := context.WithTimeout(withKey(context.Background(), h.ops), 20*time.Second)
		defer cancel()
		var err error
		switch i % 10 {
		case 0:
			h.restCall(phase)
		case 5:
			_ = h.grpcCall(h.conn, phase)
		case 1, 3:
			h.a.rest(phase, http.MethodGet, "/v1/authorizations/"+h.openID, h.ops, "", "")
		case 2, 4:
			h.a.rest(phase, http.MethodGet, "/v1/messages?page_size=20", h.ops, "", "")
		case 6, 8:
			_, err = authz.GetAuthorization(ctx, &gatewayv1.GetAuthorizationRequest{OpenId: h.openID})
			h.a.tally.grpcResult(phase, "AuthorizationService.GetAuthorization", err)
		default:
			_, err = msgs.ListMessages(ctx, &gatewayv1.ListMessagesRequest{PageSize: 20})
			h.a.tally.grpcResult(phase, "MessageService.ListMessages", err)
		}
	})
}

// state describes the server's RSS and data dir now, for the phase logs.
func (h *hostile) state() string {
	rss, _ := rssBytes(h.srv.cmd.Process.Pid)
	return fmt.Sprintf("RSS %s, data dir %s", mib(rss), mib(dirBytes(h.srv.dataDir)))
}

// normalMethods are the platform APIs of the normal calls, taken in turn:
// each has its own QPS budget, so normal traffic is not all queued behind
// one API's limit.
var normalMethods = []string{"open.shop.info.get", "open.user.seller.get"}

var normalSeq atomic.Int64

func (h *hostile) callBody() string {
	return fmt.Sprintf(`{"open_id":%q,"method":%q}`, h.openID, normalMethods[normalSeq.Add(1)%int64(len(normalMethods))])
}

func (h *hostile) restCall(phase string) (int, []byte) {
	return h.a.rest(phase, http.MethodPost, "/v1/call", h.ops, "application/json", h.callBody())
}

func (h *hostile) grpcCall(conn *grpc.ClientConn, phase string) error {
	ctx, cancel := context.WithTimeout(withKey(context.Background(), h.ops), 20*time.Second)
	defer cancel()
	method := normalMethods[normalSeq.Add(1)%int64(len(normalMethods))]
	_, err := gatewayv1.NewPlatformServiceClient(conn).Call(ctx, &gatewayv1.CallRequest{OpenId: h.openID, Method: method})
	h.a.tally.grpcResult(phase, "PlatformService.Call "+method, err)
	return err
}

// warmUp waits for readiness, makes normal calls on both transports, pushes
// messages as the platform would and lets the victim (the ops key) pull them
// into a group without acknowledging them.
func (h *hostile) warmUp() {
	t := h.t
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _ := h.a.rest("warm-up", http.MethodGet, "/readyz", "", "", ""); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 after 30s:\n%s", h.srv.out.tailText())
		}
	}
	code, body := h.a.rest("warm-up", http.MethodGet, "/v1/authorizations", h.ops, "", "")
	var list struct {
		Authorizations []struct {
			OpenID string `json:"open_id"`
		} `json:"authorizations"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Authorizations) == 0 {
		t.Fatalf("GET /v1/authorizations: %d %s", code, excerpt(string(body), 300))
	}
	h.openID = list.Authorizations[0].OpenID
	for i := range 30 {
		if code, body := h.restCall("warm-up"); code != http.StatusOK {
			t.Fatalf("warm-up REST call %d: %d %s", i, code, excerpt(string(body), 300))
		}
		if err := h.grpcCall(h.conn, "warm-up"); err != nil {
			t.Fatalf("warm-up gRPC call %d: %v", i, err)
		}
	}

	// Pushes, encrypted with the sandbox app's message key.
	raw, err := os.ReadFile(filepath.Join(h.srv.dataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		AppKey     string `json:"appKey"`
		MessageKey string `json:"messageKey"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	key, err := message.NewKey(creds.AppKey, creds.MessageKey)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range hostileWarmPushes {
		now := time.Now().UnixMilli()
		eventID := fmt.Sprintf("hostile-warmup-%d", i)
		info, _ := json.Marshal(map[string]any{"oid": 7_000_000 + i, "sellerId": 1, "status": 30, "updateTime": now})
		plain, _ := json.Marshal(map[string]any{
			"eventId": eventID, "bizId": 7_000_000 + i, "userId": 1, "openId": h.openID, "appKey": creds.AppKey,
			"event": message.EventOrderPaid, "info": string(info), "createTime": now,
		})
		code, body := h.a.rest("warm-up", http.MethodPost, "/callbacks/messages", "", "text/plain;charset=utf-8", key.Encrypt(plain))
		if code != http.StatusOK {
			t.Fatalf("push %s: %d %s", eventID, code, excerpt(string(body), 300))
		}
		want[eventID] = true
	}

	// The victim pulls them and holds them unacknowledged (a long ack
	// timeout keeps them pending through the run).
	h.held = map[string]string{}
	pull := `{"group":"` + hostileVictimGroup + `","group_options":{"start_position":"START_POSITION_BEGINNING","ack_timeout":"600s"},"max_messages":100,"wait":"1s"}`
	for deadline := time.Now().Add(20 * time.Second); len(h.held) < len(want); {
		if time.Now().After(deadline) {
			t.Fatalf("the victim pulled %d of %d warm-up messages", len(h.held), len(want))
		}
		code, body := h.a.rest("warm-up", http.MethodPost, "/v1/messages:pull", h.ops, "application/json", pull)
		if code != http.StatusOK {
			t.Fatalf("pull: %d %s", code, excerpt(string(body), 300))
		}
		for _, d := range deliveries(t, body) {
			if want[d.eventID] {
				h.held[d.eventID] = d.deliveryID
			}
		}
	}
}

type delivery struct{ eventID, deliveryID string }

func deliveries(t *testing.T, body []byte) []delivery {
	t.Helper()
	var r struct {
		Deliveries []struct {
			DeliveryID string `json:"delivery_id"`
			Message    struct {
				EventID string `json:"event_id"`
			} `json:"message"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("pull answer: %v: %s", err, excerpt(string(body), 300))
	}
	out := make([]delivery, 0, len(r.Deliveries))
	for _, d := range r.Deliveries {
		out = append(out, delivery{d.Message.EventID, d.DeliveryID})
	}
	return out
}

// baselineRSS runs normal traffic and returns the highest RSS sampled
// meanwhile. A Go heap breathes between GC cycles (by up to the live heap
// with GOGC=100), so one reading is noise; the peak under normal traffic is
// the steady state the end of the run is compared with, under the same
// traffic.
func (h *hostile) baselineRSS(pid int) int64 {
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var top int64
		for {
			if r, err := rssBytes(pid); err == nil {
				top = max(top, r)
			}
			select {
			case <-done:
				peak <- top
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	h.normalTraffic("warm-up", 15)
	close(done)
	return <-peak
}

// run calls fn(i) for i in [0, n) on workers until ctx ends, and returns
// how many calls started.
func run(ctx context.Context, n, workers int, fn func(i int)) int {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	return min(n, int(next.Load()))
}

// forgedAcks: the intruder key (one other shop, message RPCs only) sends
// made-up delivery ids, one per request, alternating ACK and TERMINATE and
// REST and gRPC: random bytes, ack subjects of another stream, and
// plausible ack subjects of the victim's group with guessed sequence
// numbers (a delivery id is the base64 of the JetStream ack reply subject
// today: internal/message/delivery/id.go).
func (h *hostile) forgedAcks() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	msgs := gatewayv1.NewMessageServiceClient(h.conn)
	var guessed atomic.Int64
	id := func(i int) string {
		switch (i / 2) % 5 {
		case 0:
			return randomToken(40)
		case 1:
			return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "$JS.ACK.OTHER_STREAM.%s.1.%d.%d.%d.0", hostileVictimGroup, i, i, time.Now().UnixNano()))
		}
		seq := 1 + guessed.Add(1)%400
		subj := fmt.Sprintf("$JS.ACK.%s.%s.1.%d.%d.%d.0", msglog.StreamName, hostileVictimGroup, seq, seq, time.Now().UnixNano())
		if seq%7 == 0 { // the 12-token form with a domain and account hash
			subj = fmt.Sprintf("$JS.ACK._.ACCHASH.%s.%s.1.%d.%d.%d.0.TOKEN", msglog.StreamName, hostileVictimGroup, seq, seq, time.Now().UnixNano())
		}
		return base64.RawURLEncoding.EncodeToString([]byte(subj))
	}
	sent := run(ctx, hostileForgedAcks, hostileWorkers, func(i int) {
		kind := gatewayv1.AckKind_ACK_KIND_ACK
		if (i/2)%2 == 1 {
			kind = gatewayv1.AckKind_ACK_KIND_TERMINATE
		}
		did := id(i)
		if i%2 == 0 {
			body, _ := json.Marshal(map[string]any{"group": hostileVictimGroup, "ack": map[string]any{"delivery_ids": []string{did}, "kind": kind.String()}})
			h.a.rest("forged-acks", http.MethodPost, "/v1/messages:ack", h.intruder, "application/json", string(body))
			return
		}
		cctx, ccancel := context.WithTimeout(withKey(ctx, h.intruder), 10*time.Second)
		defer ccancel()
		_, err := msgs.AckMessages(cctx, &gatewayv1.AckMessagesRequest{Group: hostileVictimGroup, Ack: &gatewayv1.Acknowledgement{DeliveryIds: []string{did}, Kind: kind}})
		h.a.tally.grpcResult("forged-acks", "AckMessages "+kind.String()+" "+excerpt(did, 60), err)
	})
	if sent < hostileForgedAcks {
		h.t.Errorf("forged acks: only %d of %d sent within the phase's 30s budget", sent, hostileForgedAcks)
	}
	h.t.Logf("phase forged acks: %d sent in %s; %s", sent, time.Since(t0).Round(time.Millisecond), h.state())
}

// oauthStarts sends GET /oauth/start with 32 oversized scopes,
// concurrently, each on its own connection as a script would. It stops
// early if the data dir balloons.
func (h *hostile) oauthStarts(disk0 int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	t0 := time.Now()
	host := strings.TrimPrefix(h.a.base, "http://")
	request := func(scopeLen int) []byte {
		scopes := make([]string, hostileScopes)
		for k := range scopes {
			b := make([]byte, scopeLen)
			for j := range b {
				b[j] = hostileAlphabet[(j*7+k)%len(hostileAlphabet)]
			}
			scopes[k] = string(b)
		}
		return []byte("GET /oauth/start?scope=" + strings.Join(scopes, ",") + " HTTP/1.1\r\nHost: " + host +
			"\r\nUser-Agent: hostile-run\r\nAccept: text/html\r\nConnection: close\r\n\r\n")
	}
	// Even requests: the probe's 896 KB query, which a header cap may
	// refuse (431) before any handler runs. Odd ones: 32 scopes of 1 500
	// characters (48 KB), under such a cap, so the handler's own checks
	// meet oversized scopes too.
	requests := [2][]byte{request(hostileScopeLen), request(hostileSmallScope)}
	whats := [2]string{
		fmt.Sprintf("GET /oauth/start?scope=<%d scopes × %d chars>", hostileScopes, hostileScopeLen),
		fmt.Sprintf("GET /oauth/start?scope=<%d scopes × %d chars>", hostileScopes, hostileSmallScope),
	}
	var aborted atomic.Value
	watch := make(chan struct{})
	go func() {
		defer close(watch)
		for ctx.Err() == nil {
			if g := dirBytes(h.srv.dataDir) - disk0; g > hostileOAuthAbortGrowth {
				aborted.Store(fmt.Sprintf("the data dir grew by %s", mib(g)))
				cancel()
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	sent := run(ctx, hostileOAuthStarts, hostileWorkers, func(i int) {
		h.a.raw(fmt.Sprintf("oauth-start %dx%d", hostileScopes, []int{hostileScopeLen, hostileSmallScope}[i%2]), whats[i%2], requests[i%2], true)
	})
	cancel()
	<-watch
	switch {
	case aborted.Load() != nil:
		h.t.Errorf("/oauth/start phase stopped after %d of %d requests: %s", sent, hostileOAuthStarts, aborted.Load())
	case sent < hostileOAuthStarts:
		h.t.Errorf("/oauth/start phase: only %d of %d requests within the phase's 45s budget", sent, hostileOAuthStarts)
	}
	h.t.Logf("phase /oauth/start: %d sent in %s; %s", sent, time.Since(t0).Round(time.Millisecond), h.state())
}

// idleConnections opens connections that never send a request: half to the
// gRPC port with only the HTTP/2 client preface, half to the HTTP port with
// nothing. While they are held, the server must keep answering normal
// callers; then they are closed.
func (h *hostile) idleConnections() {
	t := h.t
	n := hostileIdleConns
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n)+2048 {
		// The server process needs as many descriptors as we do.
		n = int(lim.Cur) - 2048
		if n < 500 {
			t.Logf("phase idle connections SKIPPED: open-file limit %d is too low for a meaningful run", lim.Cur)
			return
		}
		t.Logf("phase idle connections: open-file limit %d, scaled down to %d connections", lim.Cur, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	conns := make([]net.Conn, n)
	var dialErrs atomic.Int64
	var firstErr atomic.Value
	preface := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	opened := run(ctx, n, 8, func(i int) {
		addr := h.srv.http
		if i%2 == 0 {
			addr = h.srv.grpc
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil && i%2 == 0 {
			_, err = c.Write(preface)
		}
		if err != nil {
			dialErrs.Add(1)
			firstErr.CompareAndSwap(nil, err)
			if c != nil {
				_ = c.Close()
			}
			return
		}
		conns[i] = c
	})
	t.Logf("phase idle connections: %d opened in %s (%d failed, first: %v); %s", opened-int(dialErrs.Load()),
		time.Since(t0).Round(time.Millisecond), dialErrs.Load(), firstErr.Load(), h.state())

	// Normal callers while the connections are held: a probe, a REST call
	// and a gRPC call, on connections opened before the flood. A probe on
	// a new connection is only logged: a connection cap may refuse it
	// until the server drops idle connections, by design.
	freshOK, freshRefused := 0, 0
	for end := time.Now().Add(hostileIdleHold); time.Now().Before(end); time.Sleep(time.Second) {
		if freshProbe(h.srv.http) {
			freshOK++
		} else {
			freshRefused++
		}
		if code, _ := h.a.rest("idle-conns", http.MethodGet, "/healthz", "", "", ""); code != http.StatusOK {
			t.Errorf("GET /healthz while idle connections are held = %d", code)
		}
		if code, body := h.restCall("idle-conns"); code != http.StatusOK {
			t.Errorf("REST call while idle connections are held = %d %s", code, excerpt(string(body), 200))
		}
		if err := h.grpcCall(h.conn, "idle-conns"); err != nil {
			t.Errorf("gRPC call while idle connections are held: %v", err)
		}
	}
	// For the log: how many the server had already closed (EOF or reset
	// after draining what it sent, a SETTINGS frame or a GOAWAY).
	var closedGRPC, closedHTTP atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(500 * time.Millisecond)
	for i, c := range conns {
		if c == nil {
			continue
		}
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			buf := make([]byte, 512)
			for {
				_, err := c.Read(buf)
				if err == nil {
					continue
				}
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					if i%2 == 0 {
						closedGRPC.Add(1)
					} else {
						closedHTTP.Add(1)
					}
				}
				return
			}
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
	t.Logf("phase idle connections: after %s the server had closed %d gRPC and %d HTTP ones; all closed now; %s",
		hostileIdleHold, closedGRPC.Load(), closedHTTP.Load(), h.state())
	t.Logf("phase idle connections: GET /healthz on a new connection during the hold: %d answered 200, %d not", freshOK, freshRefused)
}

// freshProbe sends GET /healthz on a new connection, as a kubelet probe
// does, and reports whether it was answered 200.
func freshProbe(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// malformedCase is one kind of malformed request.
type malformedCase struct {
	name string
	do   func(phase string)
}

// malformed sends 500 malformed requests, cycling through a catalogue of
// client mistakes and tricks on both transports.
func (h *hostile) malformed() {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	t0 := time.Now()
	cases := h.malformedCases()
	sent := run(ctx, hostileMalformed, hostileWorkers, func(i int) {
		c := cases[i%len(cases)]
		c.do("malformed " + c.name)
	})
	if sent < hostileMalformed {
		h.t.Errorf("malformed phase: only %d of %d requests within the phase's 45s budget", sent, hostileMalformed)
	}
	h.t.Logf("phase malformed: %d requests over %d kinds in %s; %s", sent, len(cases), time.Since(t0).Round(time.Millisecond), h.state())
}

func nestedJSON(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

func nestedValue(depth int) *structpb.Value {
	v := structpb.NewNumberValue(1)
	for range depth {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"x": v}})
}

func (h *hostile) malformedCases() []malformedCase {
	a, ops, openID := h.a, h.ops, h.openID
	host := strings.TrimPrefix(a.base, "http://")
	valid := h.callBody()
	rest := func(name, method, path, key, ct, body string) malformedCase {
		return malformedCase{name, func(p string) { a.rest(p, method, path, key, ct, body) }}
	}
	raw := func(name, request string) malformedCase {
		what := strings.ReplaceAll(strings.ReplaceAll(request, ops, "<ops key>"), "\r\n", " | ")
		return malformedCase{name, func(p string) { a.raw(p, excerpt(what, 160), []byte(request), false) }}
	}
	get := func(path string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + ops + "\r\nConnection: close\r\n\r\n"
	}
	bigScope := strings.Repeat("q", hostileScopeLen)
	platform := gatewayv1.NewPlatformServiceClient(h.conn)
	msgs := gatewayv1.NewMessageServiceClient(h.conn)
	authz := gatewayv1.NewAuthorizationServiceClient(h.conn)
	grpcCase := func(name string, fn func(ctx context.Context) error) malformedCase {
		return malformedCase{name, func(p string) {
			ctx, cancel := context.WithTimeout(withKey(context.Background(), ops), 20*time.Second)
			defer cancel()
			a.tally.grpcResult(p, name, fn(ctx))
		}}
	}
	deep6k, deep20k := nestedValue(6000), nestedValue(20_000)
	bigBody := `{"open_id":"` + openID + `","method":"open.shop.info.get","params":{"x":"` + strings.Repeat("a", 3<<19) + `"}}`

	return []malformedCase{
		// Bodies.
		rest("bad_json", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":`),
		rest("trailing_garbage", http.MethodPost, "/v1/call", ops, "application/json", valid+` garbage`),
		rest("trailing_object", http.MethodPost, "/v1/call", ops, "application/json", valid+`{"method":"open.seller.order.close"}`),
		rest("wrong_types", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":123,"method":true}`),
		rest("unknown_field", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","bogus":1}`),
		rest("invalid_utf8", http.MethodPost, "/v1/call", ops, "application/json", "{\"open_id\":\""+openID+"\",\"method\":\"open.shop\xff\xfe\"}"),
		rest("nul_in_method", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get\u0000"}`),
		rest("int_above_2^53", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","params":{"refundId":9007199254740993}}`),
		rest("int_above_int64", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","params":{"refundId":123456789012345678901234567890}}`),
		rest("huge_number", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","params":{"n":1e400}}`),
		rest("nested_6000", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","params":{"x":`+nestedJSON(6000)+`}}`),
		rest("nested_20000", http.MethodPost, "/v1/call", ops, "application/json", `{"open_id":"`+openID+`","method":"open.shop.info.get","params":{"x":`+nestedJSON(20_000)+`}}`),
		rest("huge_body", http.MethodPost, "/v1/call", ops, "application/json", bigBody),
		rest("huge_push", http.MethodPost, "/callbacks/messages", "", "text/plain", strings.Repeat("A", 2<<20)),
		rest("garbage_push", http.MethodPost, "/callbacks/messages", "", "text/plain", "not base64 at all!"),
		rest("text_plain_call", http.MethodPost, "/v1/call", ops, "text/plain", valid),
		rest("form_ack", http.MethodPost, "/v1/messages:ack", ops, "application/x-www-form-urlencoded", "group=x&ack=y"),
		rest("bad_ack_ids", http.MethodPost, "/v1/messages:ack", ops, "application/json", `{"group":"`+hostileVictimGroup+`","ack":{"delivery_ids":["%%%","","`+strings.Repeat("A", 600)+`"]}}`),
		rest("start_big_scope", http.MethodPost, "/v1/authorizations:start", ops, "application/json", `{"scopes":["`+bigScope+`","`+bigScope+`x"]}`),
		// Paths and queries.
		raw("pct_ff_message_path", get("/v1/messages/%ff")),
		raw("pct_ff_authorization_path", get("/v1/authorizations/%ff")),
		raw("pct_ff_messages_token", get("/v1/messages?page_token=%ff")),
		raw("pct_ff_authorizations_token", get("/v1/authorizations?page_token=%ff")),
		raw("pct_ff_dead_letters_token", get("/v1/dead-letters?page_token=%ff")),
		rest("made_up_authorizations_token", http.MethodGet, "/v1/authorizations?page_token=bWFkZS11cA", ops, "", ""),
		rest("made_up_messages_token", http.MethodGet, "/v1/messages?page_token=AAAAAAAA", ops, "", ""),
		rest("dot_dot_path", http.MethodGet, "/v1/messages/%2e%2e%2f%2e%2e%2fetc", ops, "", ""),
		rest("oauth_start_space_scope", http.MethodGet, "/oauth/start?scope=a%20b", "", "", ""),
		rest("oauth_start_pct_ff_scope", http.MethodGet, "/oauth/start?scope=%ff", "", "", ""),
		rest("oauth_callback_pct_ff", http.MethodGet, "/oauth/callback?code=x&state=%ff", "", "", ""),
		// Verbs.
		rest("delete_call", http.MethodDelete, "/v1/call", ops, "", ""),
		rest("put_authorizations", http.MethodPut, "/v1/authorizations", ops, "application/json", "{}"),
		rest("get_ack", http.MethodGet, "/v1/messages:ack", ops, "", ""),
		rest("patch_healthz", http.MethodPatch, "/healthz", "", "", ""),
		rest("get_push", http.MethodGet, "/callbacks/messages", "", "", ""),
		// Headers.
		raw("tab_in_authorization", "GET /v1/authorizations HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer ab\tcd\r\nConnection: close\r\n\r\n"),
		raw("non_ascii_authorization", "GET /v1/authorizations HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer \xff\xfe"+ops[2:]+"\r\nConnection: close\r\n\r\n"),
		raw("non_ascii_authorization_call", "POST /v1/call HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer caf\xc3\xa9\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(valid))+"\r\nConnection: close\r\n\r\n"+valid),
		raw("foreign_host", "GET /v1/authorizations HTTP/1.1\r\nHost: attacker.example\r\nAuthorization: Bearer "+ops+"\r\nConnection: close\r\n\r\n"),
		raw("host_with_space", "GET /healthz HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"),
		raw("no_host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"),
		raw("two_hosts", "GET /healthz HTTP/1.1\r\nHost: "+host+"\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"),
		raw("absolute_uri", "GET http://attacker.example/v1/authorizations HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer "+ops+"\r\nConnection: close\r\n\r\n"),
		raw("bad_chunk", "POST /v1/call HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer "+ops+"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
		raw("cross_site_text_plain", "POST /v1/call HTTP/1.1\r\nHost: "+host+"\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: "+fmt.Sprint(len(valid))+"\r\nConnection: close\r\n\r\n"+valid),
		malformedCase{"bad_grpc_timeout", func(p string) {
			req, _ := http.NewRequest(http.MethodPost, a.base+"/v1/call", strings.NewReader(valid))
			req.Header.Set("Authorization", "Bearer "+ops)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Grpc-Timeout", "99999999999999H")
			a.do(p, "POST /v1/call Grpc-Timeout: 99999999999999H", req)
		}},
		raw("bad_priority", "POST /v1/call HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer "+ops+"\r\nX-Kwaishop-Priority: \x7f-urgent-"+strings.Repeat("9", 100)+
			"\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(valid))+"\r\nConnection: close\r\n\r\n"+valid),
		// gRPC.
		grpcCase("grpc_nested_6000", func(ctx context.Context) error {
			_, err := platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get", Params: deep6k})
			return err
		}),
		grpcCase("grpc_nested_20000", func(ctx context.Context) error {
			_, err := platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get", Params: deep20k})
			return err
		}),
		grpcCase("grpc_bad_method", func(ctx context.Context) error {
			_, err := platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "../../etc/passwd"})
			return err
		}),
		grpcCase("grpc_ack_garbage_ids", func(ctx context.Context) error {
			_, err := msgs.AckMessages(ctx, &gatewayv1.AckMessagesRequest{Group: hostileVictimGroup, Ack: &gatewayv1.Acknowledgement{DeliveryIds: []string{"%%%", "AAAA", strings.Repeat("z", 512)}}})
			return err
		}),
		grpcCase("grpc_ack_no_group", func(ctx context.Context) error {
			_, err := msgs.AckMessages(ctx, &gatewayv1.AckMessagesRequest{Ack: &gatewayv1.Acknowledgement{DeliveryIds: []string{"AAAA"}}})
			return err
		}),
		grpcCase("grpc_list_messages_bad_token", func(ctx context.Context) error {
			_, err := msgs.ListMessages(ctx, &gatewayv1.ListMessagesRequest{PageToken: "%ff%fe"})
			return err
		}),
		grpcCase("grpc_list_authorizations_made_up_token", func(ctx context.Context) error {
			_, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{PageToken: "bWFkZS11cA"})
			return err
		}),
		grpcCase("grpc_get_message_long_id", func(ctx context.Context) error {
			_, err := msgs.GetMessage(ctx, &gatewayv1.GetMessageRequest{EventId: strings.Repeat("e", 10_000)})
			return err
		}),
		grpcCase("grpc_pull_bad_group", func(ctx context.Context) error {
			_, err := msgs.PullMessages(ctx, &gatewayv1.PullMessagesRequest{Group: "no spaces/or slashes"})
			return err
		}),
		grpcCase("grpc_start_big_scope", func(ctx context.Context) error {
			_, err := authz.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{bigScope, bigScope + "x"}})
			return err
		}),
	}
}

// checkVictim NACKs the victim's held deliveries with its own ids and
// expects every one of them again; then it expects no dead letter in the
// victim's group.
func (h *hostile) checkVictim(t *testing.T) {
	if len(h.held) == 0 {
		t.Fatal("the victim holds no deliveries")
	}
	var ids []string
	for _, id := range h.held {
		ids = append(ids, id)
	}
	nack, _ := json.Marshal(map[string]any{"group": hostileVictimGroup, "ack": map[string]any{"delivery_ids": ids, "kind": "ACK_KIND_NACK"}})
	if code, body := h.a.rest("victim", http.MethodPost, "/v1/messages:ack", h.ops, "application/json", string(nack)); code != http.StatusOK {
		t.Fatalf("the victim's own NACK: %d %s", code, excerpt(string(body), 300))
	}
	again := map[string]bool{}
	pull := `{"group":"` + hostileVictimGroup + `","max_messages":100,"wait":"1s"}`
	for deadline := time.Now().Add(10 * time.Second); len(again) < len(h.held) && time.Now().Before(deadline); {
		code, body := h.a.rest("victim", http.MethodPost, "/v1/messages:pull", h.ops, "application/json", pull)
		if code != http.StatusOK {
			t.Fatalf("the victim's pull: %d %s", code, excerpt(string(body), 300))
		}
		for _, d := range deliveries(t, body) {
			if _, ok := h.held[d.eventID]; ok {
				again[d.eventID] = true
			}
		}
	}
	if len(again) < len(h.held) {
		var gone []string
		for ev := range h.held {
			if !again[ev] {
				gone = append(gone, ev)
			}
		}
		t.Errorf("%d of the victim's %d pending deliveries were consumed by the intruder's forged acks (never delivered again after the victim's NACK), e.g. %v",
			len(gone), len(h.held), gone[:min(len(gone), 5)])
	}
	code, body := h.a.rest("victim", http.MethodGet, "/v1/dead-letters?group="+hostileVictimGroup+"&page_size=500", h.ops, "", "")
	var dl struct {
		DeadLetters []struct {
			Reason  string `json:"reason"`
			Message struct {
				EventID string `json:"event_id"`
			} `json:"message"`
		} `json:"dead_letters"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &dl) != nil {
		t.Fatalf("list dead letters: %d %s", code, excerpt(string(body), 300))
	}
	if n := len(dl.DeadLetters); n > 0 {
		t.Errorf("the forged acks made %d dead letters in the victim's group, e.g. %+v", n, dl.DeadLetters[0])
	}
}
