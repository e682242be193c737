package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats-server/v2/server"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Outward webhooks (docs/webhooks.md), end to end: pushes through the real
// push path, delivery from JetStream to HTTP receivers on real sockets.

// ---- a receiver written from the Standard Webhooks specification ----
//
// It does not use the gateway's signer: the signed content is
// "<webhook-id>.<webhook-timestamp>.<body>", HMAC-SHA256 keyed with the
// base64-decoded part of "whsec_<base64>", and webhook-signature is a
// space-separated list of "v1,<base64 signature>".

func specSignature(secret, id, ts string, body []byte) []byte {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// specVerify reports whether one of the header's v1 signatures is the
// secret's.
func specVerify(secret, id, ts string, body []byte, header string) bool {
	want := specSignature(secret, id, ts, body)
	if want == nil {
		return false
	}
	for _, part := range strings.Split(header, " ") {
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// whReq is one request the receiver got.
type whReq struct {
	id, ts, sigHeader string
	body              []byte
	answered          int
	verifiedBy        []int // indices of the receiver's secrets whose signature is present
	typ               string
	eventID, openID   string
	data              map[string]any
}

type whReceiver struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	secrets   []string
	failFirst int // answer 503 to this many requests first
	down      bool
	status    int // answer with this (0: 204)
	reqs      []whReq
	problems  []string
}

func newWHReceiver(t testing.TB) *whReceiver {
	r := &whReceiver{t: t}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *whReceiver) url() string {
	return r.srv.URL + "/hooks/kwaishop?token=receiver-side-credential"
}

func (r *whReceiver) addSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, s)
}

func (r *whReceiver) set(f func(r *whReceiver)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *whReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	q := whReq{id: req.Header.Get("webhook-id"), ts: req.Header.Get("webhook-timestamp"), sigHeader: req.Header.Get("webhook-signature"), body: body}
	var env struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	q.typ, q.data = env.Type, env.Data
	q.eventID, _ = env.Data["event_id"].(string)
	q.openID, _ = env.Data["open_id"].(string)

	r.mu.Lock()
	defer r.mu.Unlock()
	var problem string
	sec, err := strconv.ParseInt(q.ts, 10, 64)
	switch {
	case req.Method != http.MethodPost:
		problem = "method " + req.Method
	case q.id == "" || strings.Contains(q.id, "."):
		problem = "bad webhook-id " + q.id
	case err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute:
		problem = "webhook-timestamp not within 5 minutes: " + q.ts
	case req.Header.Get("Content-Type") != "application/json" || !json.Valid(body):
		problem = "body is not JSON"
	}
	for i, s := range r.secrets {
		if specVerify(s, q.id, q.ts, body, q.sigHeader) {
			q.verifiedBy = append(q.verifiedBy, i)
		}
	}
	if problem == "" && len(q.verifiedBy) == 0 {
		problem = "no signature verifies"
	}
	code := http.StatusNoContent
	switch {
	case problem != "":
		r.problems = append(r.problems, problem)
		code = http.StatusUnauthorized
	case r.down:
		code = http.StatusServiceUnavailable
	case r.failFirst > 0:
		r.failFirst--
		code = http.StatusServiceUnavailable
	case r.status != 0:
		code = r.status
	}
	q.answered = code
	r.reqs = append(r.reqs, q)
	w.WriteHeader(code)
}

func (r *whReceiver) snapshot() ([]whReq, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs), slices.Clone(r.problems)
}

// waitFor polls until cond holds on the requests so far.
func (r *whReceiver) waitFor(t *testing.T, within time.Duration, what string, cond func([]whReq) bool) []whReq {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		reqs, problems := r.snapshot()
		if len(problems) > 0 {
			t.Fatalf("receiver refused deliveries: %v", problems)
		}
		if cond(reqs) {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%d requests so far)", what, within, len(reqs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// delivered: the event ids answered 2xx.
func delivered(reqs []whReq) map[string]whReq {
	out := map[string]whReq{}
	for _, q := range reqs {
		if q.answered/100 == 2 && q.eventID != "" {
			out[q.eventID] = q
		}
	}
	return out
}

// ---- gateway helpers ----

// whGateway is a sandbox-mode gateway whose endpoints may point at the
// test's loopback receivers, with a short retry schedule.
func whGateway(t *testing.T, edit func(*config.Config)) *gateway {
	t.Helper()
	return startMessageGateway(t, func(c *config.Config) {
		c.Webhook.AllowPrivate, c.Webhook.AllowHTTP = true, true
		c.Webhook.RetryInitial, c.Webhook.RetryMaxDelay, c.Webhook.RetryBudget = 100*time.Millisecond, 400*time.Millisecond, time.Minute
		c.Stats.FlushInterval = 200 * time.Millisecond
		if edit != nil {
			edit(c)
		}
	})
}

// whREST sends a JSON request (key "" = none) and returns the status, the
// decoded body and the raw body.
func whREST(t *testing.T, g *gateway, key, method, path string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: %d (a client mistake must never be a 5xx): %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, string(raw)
}

// whPush pushes one encrypted order note for openID through the real push
// path.
func whPush(t *testing.T, g *gateway, eventID, openID string) {
	t.Helper()
	code, body := hmPost(t, g, hmEncrypt(t, g, hmPlain(g, eventID, openID, "marker-"+eventID, time.Now())))
	if code != http.StatusOK {
		t.Fatalf("push %s: %d %s", eventID, code, body)
	}
}

func whCreate(t *testing.T, g *gateway, key string, ep map[string]any) (id, secret string) {
	t.Helper()
	code, body, raw := whREST(t, g, key, http.MethodPost, "/v1/webhook-endpoints", ep)
	if code != http.StatusOK {
		t.Fatalf("create endpoint: %d %s", code, raw)
	}
	e, _ := body["endpoint"].(map[string]any)
	id, _ = e["id"].(string)
	secret, _ = body["secret"].(string)
	if id == "" || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create endpoint: %s", raw)
	}
	return id, secret
}

func whEndpoint(t *testing.T, g *gateway, id string) map[string]any {
	t.Helper()
	code, body, raw := whREST(t, g, "", http.MethodGet, "/v1/webhook-endpoints/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get endpoint: %d %s", code, raw)
	}
	if strings.Contains(raw, "whsec_") {
		t.Fatalf("GetWebhookEndpoint shows a secret: %s", raw)
	}
	ep, _ := body["endpoint"].(map[string]any)
	return ep
}

// ---- tests ----

// A receiver that fails its first 3 attempts still gets every pushed
// message, each signed (verified with the specification's scheme), in push
// order per shop: a shop's next event is not even attempted before the
// previous one was taken. Retries keep the webhook-id. Authorization
// events are delivered too. After a secret rotation both the old and the
// new secret sign during the grace.
func TestWebhooks_SignedInOrderPerShopAfterFailures(t *testing.T) {
	g := whGateway(t, nil)
	rcv := newWHReceiver(t)
	rcv.set(func(r *whReceiver) { r.failFirst = 3 })
	id, sec := whCreate(t, g, "", map[string]any{
		"url": rcv.url(), "event_types": []string{"message.*", "authorization.*"}, "description": "orders backend",
	})
	rcv.addSecret(sec)
	ep := whEndpoint(t, g, id)
	if ep["url"] != rcv.url() || ep["description"] != "orders backend" || ep["disabled"] == true {
		t.Fatalf("endpoint = %v", ep)
	}
	code, _, raw := whREST(t, g, "", http.MethodGet, "/v1/webhook-endpoints", nil)
	if code != http.StatusOK || !strings.Contains(raw, id) || strings.Contains(raw, "whsec_") {
		t.Fatalf("list: %d %s", code, raw)
	}

	shops := []string{"wh-shop-a", "wh-shop-b", "wh-shop-c"}
	const perShop = 6
	order := map[string]int{} // event id → its place in its shop's order
	shopOf := map[string]string{}
	for i := range perShop {
		for _, s := range shops {
			eid := fmt.Sprintf("wh-%s-%02d", s, i)
			order[eid], shopOf[eid] = i, s
			whPush(t, g, eid, s)
		}
	}
	reqs := rcv.waitFor(t, 60*time.Second, "every pushed message delivered", func(reqs []whReq) bool {
		return len(delivered(reqs)) == len(order)
	})

	if failed := checkShopOrder(t, reqs, order, shopOf, perShop); failed < 3 {
		t.Fatalf("%d failed attempts, want the first 3", failed)
	}

	// Authorization events: a refresh of the sandbox shop.
	openID := g.info.SandboxOpenID
	if code, _, raw := whREST(t, g, "", http.MethodPost, "/v1/authorizations/"+openID+":refresh", map[string]any{}); code != http.StatusOK {
		t.Fatalf("refresh: %d %s", code, raw)
	}
	rcv.waitFor(t, 30*time.Second, "authorization.refreshed delivered", func(reqs []whReq) bool {
		for _, q := range reqs {
			if q.typ == "authorization.refreshed" && q.answered/100 == 2 && q.openID == openID && q.data["type"] == "AUTHORIZATION_EVENT_TYPE_REFRESHED" {
				return true
			}
		}
		return false
	})

	// Rotation: both secrets sign during the grace.
	rot, err := gatewayv1.NewWebhookServiceClient(g.conn).RotateWebhookSecret(context.Background(), &gatewayv1.RotateWebhookSecretRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rot.GetSecret(), "whsec_") || rot.GetSecret() == sec || rot.GetPreviousSecretExpireTime().AsTime().Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("rotate: %v", rot)
	}
	if ep := whEndpoint(t, g, id); ep["previous_secret_expire_time"] == nil {
		t.Fatalf("endpoint after rotation: %v", ep)
	}
	rcv.addSecret(rot.GetSecret())
	whPush(t, g, "wh-after-rotation", shops[0])
	reqs = rcv.waitFor(t, 30*time.Second, "delivery after rotation", func(reqs []whReq) bool {
		_, ok := delivered(reqs)["wh-after-rotation"]
		return ok
	})
	q := delivered(reqs)["wh-after-rotation"]
	if len(strings.Fields(q.sigHeader)) != 2 || !slices.Equal(q.verifiedBy, []int{0, 1}) {
		t.Fatalf("after rotation: signature header %q verified by secrets %v, want both the old and the new", q.sigHeader, q.verifiedBy)
	}
	if strings.Contains(g.logs.String(), strings.TrimPrefix(sec, "whsec_")) || strings.Contains(g.logs.String(), "receiver-side-credential") {
		t.Fatal("a secret or the URL's credential is in the log")
	}
}

// checkShopOrder checks the receiver's requests for pushed events: the
// right type and shop, one webhook-id per event, every attempt for its
// shop's next event not yet taken (order per shop), and perShop events of
// every shop taken. It returns the number of failed attempts.
func checkShopOrder(t *testing.T, reqs []whReq, order map[string]int, shopOf map[string]string, perShop int) int {
	t.Helper()
	failed := 0
	ids := map[string]string{} // event id → webhook-id
	taken := map[string]int{}  // shop → how many of its events were taken so far
	for _, q := range reqs {
		if q.eventID == "" {
			continue
		}
		s, i := shopOf[q.eventID], order[q.eventID]
		if q.typ != "message.kwaishop_order_addNote" || q.openID != s {
			t.Fatalf("delivery %s: type %q shop %q", q.eventID, q.typ, q.openID)
		}
		if prev, ok := ids[q.eventID]; ok && prev != q.id {
			t.Fatalf("event %s sent as %s and as %s: a retry must keep the webhook-id", q.eventID, prev, q.id)
		}
		ids[q.eventID] = q.id
		// In order: the attempt is for the shop's next event not yet taken.
		if i > taken[s] {
			t.Fatalf("shop %s: event #%d attempted while #%d was not taken yet", s, i, taken[s])
		}
		if q.answered/100 == 2 {
			if i == taken[s] {
				taken[s]++
			}
		} else {
			failed++
		}
	}
	for _, s := range shopOf {
		if taken[s] != perShop {
			t.Fatalf("shop %s: %d of %d taken in order", s, taken[s], perShop)
		}
	}
	return failed
}

// A receiver down for the whole (tiny) retry budget: the events end as
// dead letters, in order, listed over REST and gRPC; once it is back they
// requeue and arrive with their original webhook-ids. Events of a shop the
// endpoint does not want are never sent.
func TestWebhooks_DeadLettersRequeue(t *testing.T) {
	g := whGateway(t, func(c *config.Config) {
		c.Webhook.RetryInitial, c.Webhook.RetryMaxDelay, c.Webhook.RetryBudget = 50*time.Millisecond, 100*time.Millisecond, 700*time.Millisecond
	})
	testStart := time.Now()
	rcv := newWHReceiver(t)
	rcv.set(func(r *whReceiver) { r.down = true })
	wc := gatewayv1.NewWebhookServiceClient(g.conn)
	ctx := context.Background()
	cr, err := wc.CreateWebhookEndpoint(ctx, &gatewayv1.CreateWebhookEndpointRequest{Endpoint: &gatewayv1.WebhookEndpoint{
		Url: rcv.url(), EventTypes: []string{"message.kwaishop_order_addNote"}, OpenIds: []string{"wh-dl-shop"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.GetEndpoint().GetId()
	rcv.addSecret(cr.GetSecret())
	want := []string{"wh-dl-1", "wh-dl-2", "wh-dl-3"}
	for _, eid := range want {
		whPush(t, g, eid, "wh-dl-shop")
	}
	whPush(t, g, "wh-dl-other-shop", "wh-not-wanted")

	var dls []*gatewayv1.WebhookDeadLetter
	deadline := time.Now().Add(30 * time.Second)
	for len(dls) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want %d", len(dls), len(want))
		}
		time.Sleep(50 * time.Millisecond)
		l, err := wc.ListWebhookDeadLetters(ctx, &gatewayv1.ListWebhookDeadLettersRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		dls = l.GetDeadLetters()
	}
	for i, d := range dls {
		if !strings.Contains(d.GetPayload(), `"event_id":"`+want[i]+`"`) || d.GetAttempts() < 2 || d.GetLastStatusCode() != 503 ||
			d.GetLastError() != "HTTP 503" || d.GetOpenId() != "wh-dl-shop" || d.GetEventType() != "message.kwaishop_order_addNote" || d.GetDeadTime() == nil {
			t.Fatalf("dead letter %d = %v", i, d)
		}
	}
	code, body, raw := whREST(t, g, "", http.MethodGet, "/v1/webhook-endpoints/"+id+"/dead-letters", nil)
	if code != http.StatusOK || len(anySlice(body["dead_letters"])) != len(want) {
		t.Fatalf("REST dead letters: %d %s", code, raw)
	}
	st, err := wc.GetWebhookStats(ctx, &gatewayv1.GetWebhookStatsRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if s := st.GetEndpoints()[0]; s.GetDeadLetters() != 3 || s.GetFailures() < 6 || s.GetSuccesses() != 0 || s.GetFailingSince() == nil || s.GetLastError() != "HTTP 503" {
		t.Fatalf("stats while down: %v", s)
	}

	// The dashboard shows the endpoint's row (when Chromium is installed).
	if b := startBrowser(t); b != nil {
		bctx := b.load(t, g)
		cells, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#webhook-table tr[data-endpoint="`+id+`"] td')].map(td => td.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(cells) != 8 || cells[6] != "3" || cells[2] != "0.0%" || cells[7] != "HTTP 503" {
			t.Fatalf("dashboard row of the endpoint: %q", cells)
		}
		if errs := b.jsErrors(); len(errs) > 0 {
			t.Fatalf("JavaScript errors: %v", errs)
		}
	}

	rcv.set(func(r *whReceiver) { r.down = false })
	code, body, raw = whREST(t, g, "", http.MethodPost, "/v1/webhook-endpoints/"+id+"/dead-letters:requeue", map[string]any{"all": true})
	if code != http.StatusOK || body["requeued"] != float64(3) {
		t.Fatalf("requeue: %d %s", code, raw)
	}
	reqs := rcv.waitFor(t, 30*time.Second, "requeued dead letters delivered", func(reqs []whReq) bool {
		return len(delivered(reqs)) == len(want)
	})
	got := delivered(reqs)
	var okOrder []string
	for _, q := range reqs {
		if q.answered/100 == 2 {
			okOrder = append(okOrder, q.eventID)
		}
		if q.openID == "wh-not-wanted" {
			t.Fatal("an event of a shop outside the endpoint's filter was sent")
		}
	}
	if !slices.Equal(okOrder, want) {
		t.Fatalf("requeued order %v, want %v", okOrder, want)
	}
	for i, d := range dls {
		if got[want[i]].id != d.GetWebhookId() {
			t.Fatalf("requeued %s as %s, dead letter said %s", want[i], got[want[i]].id, d.GetWebhookId())
		}
	}
	if l, err := wc.ListWebhookDeadLetters(ctx, &gatewayv1.ListWebhookDeadLettersRequest{Id: id}); err != nil || len(l.GetDeadLetters()) != 0 {
		t.Fatalf("dead letters after requeue: %v %v", l, err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		st, err = wc.GetWebhookStats(ctx, &gatewayv1.GetWebhookStatsRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		s := st.GetEndpoints()[0]
		if s.GetSuccesses() >= 3 && s.GetDeadLetters() == 0 && s.GetFailingSince() == nil && s.GetSuccessRate() > 0 && s.GetMeanLatencyMs() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats after recovery: %v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Replay of a time range: the endpoint's events of the range come again,
	// with their webhook-ids, in order; the other shop's event does not.
	rp, err := wc.ReplayWebhookEvents(ctx, &gatewayv1.ReplayWebhookEventsRequest{Id: id, StartTime: timestamppb.New(testStart)})
	if err != nil || rp.GetReplayed() != int32(len(want)) || rp.GetTruncated() {
		t.Fatalf("replay: %v %v", rp, err)
	}
	reqs = rcv.waitFor(t, 30*time.Second, "replayed events delivered", func(reqs []whReq) bool {
		n := 0
		for _, q := range reqs {
			if q.answered/100 == 2 {
				n++
			}
		}
		return n == 2*len(want)
	})
	okOrder = okOrder[:0]
	for _, q := range reqs {
		if q.answered/100 == 2 {
			okOrder = append(okOrder, q.eventID)
			if q.id != got[q.eventID].id {
				t.Fatalf("replayed %s as %s, first sent as %s", q.eventID, q.id, got[q.eventID].id)
			}
		}
	}
	if !slices.Equal(okOrder, append(slices.Clone(want), want...)) {
		t.Fatalf("deliveries %v, want the events and then their replay", okOrder)
	}
}

// An endpoint whose every attempt fails for longer than DisableAfter, and
// one answering 410 Gone, are disabled, and an endpoint subscribed to
// webhook.endpoint_disabled hears of both. Enabled again, the first one
// resumes where it stopped.
func TestWebhooks_FailingEndpointDisabledWithEvent(t *testing.T) {
	g := whGateway(t, func(c *config.Config) { c.Webhook.DisableAfter = time.Second })
	failing, gone, watcher := newWHReceiver(t), newWHReceiver(t), newWHReceiver(t)
	failing.set(func(r *whReceiver) { r.down = true })
	gone.set(func(r *whReceiver) { r.status = http.StatusGone })
	_, wsec := whCreate(t, g, "", map[string]any{"url": watcher.url(), "event_types": []string{"webhook.endpoint_disabled"}})
	watcher.addSecret(wsec)
	failID, fsec := whCreate(t, g, "", map[string]any{"url": failing.url(), "event_types": []string{"message.*"}})
	failing.addSecret(fsec)
	goneID, gsec := whCreate(t, g, "", map[string]any{"url": gone.url(), "event_types": []string{"message.*"}})
	gone.addSecret(gsec)
	whPush(t, g, "wh-disable-1", "wh-disable-shop")

	reqs := watcher.waitFor(t, 30*time.Second, "two endpoint_disabled events", func(reqs []whReq) bool {
		return len(reqs) >= 2
	})
	seen := map[string]string{}
	for _, q := range reqs {
		if q.typ != "webhook.endpoint_disabled" || q.answered/100 != 2 {
			t.Fatalf("watcher got %s (%d)", q.typ, q.answered)
		}
		eid, _ := q.data["id"].(string)
		reason, _ := q.data["disabled_reason"].(string)
		seen[eid] = reason
		if _, hasURL := q.data["url"]; hasURL {
			t.Fatal("an announcement shows the disabled endpoint's URL")
		}
	}
	if !strings.Contains(seen[failID], "failed since") || !strings.Contains(seen[goneID], "410") {
		t.Fatalf("announcements: %v", seen)
	}
	for id, want := range map[string]string{failID: "failed since", goneID: "410 Gone"} {
		ep := whEndpoint(t, g, id)
		if ep["disabled"] != true || !strings.Contains(fmt.Sprint(ep["disabled_reason"]), want) {
			t.Fatalf("endpoint %s = %v", id, ep)
		}
	}

	failing.set(func(r *whReceiver) { r.down = false })
	code, body, raw := whREST(t, g, "", http.MethodPatch, "/v1/webhook-endpoints/"+failID, map[string]any{"disabled": false})
	if code != http.StatusOK || body["endpoint"].(map[string]any)["disabled"] == true {
		t.Fatalf("enable: %d %s", code, raw)
	}
	failing.waitFor(t, 30*time.Second, "held message delivered after enabling", func(reqs []whReq) bool {
		_, ok := delivered(reqs)["wh-disable-1"]
		return ok
	})
	if ep := whEndpoint(t, g, failID); ep["disabled"] == true || ep["disabled_reason"] != nil || ep["event_types"] == nil {
		t.Fatalf("enabled endpoint = %v", ep)
	}
}

// By default an endpoint may not point at loopback or private addresses,
// nor use http: refused with InvalidArgument on both transports.
func TestWebhooks_PrivateTargetsRefusedByDefault(t *testing.T) {
	g := startGateway(t)
	wc := gatewayv1.NewWebhookServiceClient(g.conn)
	for _, u := range []string{
		"https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest",
		"https://localhost:8443/hook", "http://hooks.example.com/hook",
	} {
		code, body, raw := whREST(t, g, "", http.MethodPost, "/v1/webhook-endpoints", map[string]any{"url": u, "event_types": []string{"message.*"}})
		if f, _ := hmRESTViolation(body); code != http.StatusBadRequest || f != "endpoint.url" {
			t.Fatalf("REST %s: %d %s", u, code, raw)
		}
		_, err := wc.CreateWebhookEndpoint(context.Background(), &gatewayv1.CreateWebhookEndpointRequest{Endpoint: &gatewayv1.WebhookEndpoint{Url: u, EventTypes: []string{"message.*"}}})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || !hasViolation(st, "endpoint.url") {
			t.Fatalf("gRPC %s: %v", u, err)
		}
	}
	if l, err := wc.ListWebhookEndpoints(context.Background(), &gatewayv1.ListWebhookEndpointsRequest{}); err != nil || len(l.GetEndpoints()) != 0 {
		t.Fatalf("endpoints stored: %v %v", l, err)
	}
}

// Probes of the webhook API by hostile callers: keys limited to shops,
// malformed and oversized inputs, unknown event types, receivers that
// redirect or answer without end, and the endpoint limit.
func TestWebhooks_HostileCallers(t *testing.T) {
	g := whGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*,shopa:"+hmKeyShopA+":shop="+hmShopA)
		c.Webhook.MaxEndpoints = 4
	})
	wc := gatewayv1.NewWebhookServiceClient(g.conn)
	admin, shop := bearer(context.Background(), keyAdmin), bearer(context.Background(), hmKeyShopA)
	rcv := newWHReceiver(t)
	id, sec := whCreate(t, g, keyAdmin, map[string]any{"url": rcv.url(), "event_types": []string{"message.*"}})
	rcv.addSecret(sec)

	t.Run("shop_scoped_key_cannot_manage_endpoints", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/v1/webhook-endpoints"},
			{http.MethodPost, "/v1/webhook-endpoints"},
			{http.MethodGet, "/v1/webhook-endpoints/" + id},
			{http.MethodDelete, "/v1/webhook-endpoints/" + id},
			{http.MethodGet, "/v1/stats/webhooks"},
		} {
			var body any
			if c.method == http.MethodPost {
				body = map[string]any{"url": rcv.url(), "event_types": []string{"message.*"}, "open_ids": []string{hmShopA}}
			}
			if code, _, raw := whREST(t, g, hmKeyShopA, c.method, c.path, body); code != http.StatusForbidden {
				t.Fatalf("%s %s with a shop key: %d %s", c.method, c.path, code, raw)
			}
		}
		_, err := wc.CreateWebhookEndpoint(shop, &gatewayv1.CreateWebhookEndpointRequest{Endpoint: &gatewayv1.WebhookEndpoint{
			Url: rcv.url(), EventTypes: []string{"message.*"}, OpenIds: []string{hmShopA},
		}})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("gRPC create naming only its shop: %v", err)
		}
		if _, err := wc.ListWebhookEndpoints(shop, &gatewayv1.ListWebhookEndpointsRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("gRPC list: %v", err)
		}
		if _, err := wc.ListWebhookEndpoints(context.Background(), &gatewayv1.ListWebhookEndpointsRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("gRPC list without a key: %v", err)
		}
	})

	t.Run("bad_inputs_are_invalid_argument", func(t *testing.T) {
		many := func(n int, f func(int) string) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = f(i)
			}
			return out
		}
		for _, c := range []struct {
			name  string
			ep    *gatewayv1.WebhookEndpoint
			field string
		}{
			{"ftp_scheme", &gatewayv1.WebhookEndpoint{Url: "ftp://hooks.example.com/", EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"javascript_scheme", &gatewayv1.WebhookEndpoint{Url: "javascript:alert(1)", EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"file_scheme", &gatewayv1.WebhookEndpoint{Url: "file:///etc/passwd", EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"user_info", &gatewayv1.WebhookEndpoint{Url: "https://u:p@hooks.example.com/", EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"huge_url", &gatewayv1.WebhookEndpoint{Url: "https://hooks.example.com/" + strings.Repeat("a", 100_000), EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"no_url", &gatewayv1.WebhookEndpoint{EventTypes: []string{"message.*"}}, "endpoint.url"},
			{"no_event_types", &gatewayv1.WebhookEndpoint{Url: rcv.url()}, "endpoint.event_types"},
			{"unknown_event_type", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.kwaishop_order_explode"}}, "endpoint.event_types[0]"},
			{"unknown_family", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.*", "payment.done"}}, "endpoint.event_types[1]"},
			{"test_event_not_subscribable", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"webhook.test"}}, "endpoint.event_types[0]"},
			{"too_many_event_types", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: many(33, func(i int) string { return fmt.Sprintf("message.kwaishop_item_e%d", i) })}, "endpoint.event_types"},
			{"huge_event_type", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message." + strings.Repeat("x", 5000)}}, "endpoint.event_types[0]"},
			{"too_many_shops", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.*"}, OpenIds: many(65, func(i int) string { return fmt.Sprintf("shop%d", i) })}, "endpoint.open_ids"},
			{"bad_shop", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.*"}, OpenIds: []string{"a.b>"}}, "endpoint.open_ids[0]"},
			{"huge_description", &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.*"}, Description: strings.Repeat("d", 300)}, "endpoint.description"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := wc.CreateWebhookEndpoint(admin, &gatewayv1.CreateWebhookEndpointRequest{Endpoint: c.ep})
				st, _ := status.FromError(err)
				if st.Code() != codes.InvalidArgument || !hasViolation(st, c.field) {
					t.Fatalf("gRPC: %v (want InvalidArgument on %s)", err, c.field)
				}
				rest := map[string]any{"url": c.ep.GetUrl(), "event_types": c.ep.GetEventTypes(), "open_ids": c.ep.GetOpenIds(), "description": c.ep.GetDescription()}
				code, body, raw := whREST(t, g, keyAdmin, http.MethodPost, "/v1/webhook-endpoints", rest)
				if f, _ := hmRESTViolation(body); code != http.StatusBadRequest || f != c.field {
					t.Fatalf("REST: %d %s (want 400 on %s)", code, raw[:min(len(raw), 300)], c.field)
				}
			})
		}
		for _, c := range []struct {
			name       string
			method     string
			path       string
			body       any
			wantStatus int
		}{
			{"unknown_id", http.MethodGet, "/v1/webhook-endpoints/ep_doesnotexist", nil, http.StatusNotFound},
			{"path_traversal_id", http.MethodGet, "/v1/webhook-endpoints/..%2F..%2Fx", nil, http.StatusNotFound},
			{"bad_page_token", http.MethodGet, "/v1/webhook-endpoints?page_token=../x", nil, http.StatusBadRequest},
			{"bad_update_mask", http.MethodPatch, "/v1/webhook-endpoints/" + id + "?update_mask=secret", map[string]any{"url": rcv.url()}, http.StatusBadRequest},
			{"update_bad_url", http.MethodPatch, "/v1/webhook-endpoints/" + id, map[string]any{"url": "gopher://x"}, http.StatusBadRequest},
			{"rotate_grace_too_long", http.MethodPost, "/v1/webhook-endpoints/" + id + ":rotateSecret", map[string]any{"grace": "900000s"}, http.StatusBadRequest},
			{"requeue_ids_and_all", http.MethodPost, "/v1/webhook-endpoints/" + id + "/dead-letters:requeue", map[string]any{"all": true, "dead_letter_ids": []string{"1"}}, http.StatusBadRequest},
			{"requeue_foreign_id", http.MethodPost, "/v1/webhook-endpoints/" + id + "/dead-letters:requeue", map[string]any{"dead_letter_ids": []string{"999999"}}, http.StatusBadRequest},
			{"replay_backwards", http.MethodPost, "/v1/webhook-endpoints/" + id + ":replay", map[string]any{"start_time": "2030-01-01T00:00:00Z", "end_time": "2020-01-01T00:00:00Z"}, http.StatusBadRequest},
			{"replay_no_start", http.MethodPost, "/v1/webhook-endpoints/" + id + ":replay", map[string]any{}, http.StatusBadRequest},
			{"dead_letters_bad_token", http.MethodGet, "/v1/webhook-endpoints/" + id + "/dead-letters?page_token=abc", nil, http.StatusBadRequest},
		} {
			if code, _, raw := whREST(t, g, keyAdmin, c.method, c.path, c.body); code != c.wantStatus {
				t.Errorf("%s: %d %s, want %d", c.name, code, raw[:min(len(raw), 300)], c.wantStatus)
			}
		}
		if _, err := wc.UpdateWebhookEndpoint(admin, &gatewayv1.UpdateWebhookEndpointRequest{Id: id, Endpoint: &gatewayv1.WebhookEndpoint{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"secrets"}}}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("gRPC update of an unknown field: %v", err)
		}
		if _, err := wc.RotateWebhookSecret(admin, &gatewayv1.RotateWebhookSecretRequest{Id: id, Grace: durationpb.New(-time.Second)}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("gRPC negative grace: %v", err)
		}
	})

	t.Run("redirect_not_followed", func(t *testing.T) {
		var targetHits atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { targetHits.Add(1) }))
		defer target.Close()
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/stolen", http.StatusTemporaryRedirect)
		}))
		defer redirector.Close()
		rid, _ := whCreate(t, g, keyAdmin, map[string]any{"url": redirector.URL + "/hook", "event_types": []string{"message.*"}})
		res, err := wc.SendWebhookTestEvent(admin, &gatewayv1.SendWebhookTestEventRequest{Id: rid})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetSuccess() || res.GetStatusCode() != http.StatusTemporaryRedirect || !strings.Contains(res.GetError(), "redirects are not followed") {
			t.Fatalf("test event to a redirector: %v", res)
		}
		if n := targetHits.Load(); n != 0 {
			t.Fatalf("the redirect target got %d requests", n)
		}
		if _, err := wc.DeleteWebhookEndpoint(admin, &gatewayv1.DeleteWebhookEndpointRequest{Id: rid}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("huge_answer_capped", func(t *testing.T) {
		const huge = 100 << 20
		var written atomic.Int64
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			defer close(done)
			w.Header().Set("Content-Length", strconv.Itoa(huge))
			w.WriteHeader(http.StatusOK)
			chunk := make([]byte, 64<<10)
			for written.Load() < huge {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		hid, _ := whCreate(t, g, keyAdmin, map[string]any{"url": srv.URL + "/big", "event_types": []string{"message.*"}})
		res, err := wc.SendWebhookTestEvent(admin, &gatewayv1.SendWebhookTestEventRequest{Id: hid})
		if err != nil {
			t.Fatal(err)
		}
		if !res.GetSuccess() || res.GetStatusCode() != http.StatusOK {
			t.Fatalf("test event to a huge answer: %v", res)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the receiver is still writing: the gateway kept reading")
		}
		if n := written.Load(); n >= huge {
			t.Fatalf("the gateway read all %d bytes of the answer", n)
		}
		if _, err := wc.DeleteWebhookEndpoint(admin, &gatewayv1.DeleteWebhookEndpointRequest{Id: hid}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("endpoint_limit", func(t *testing.T) {
		for range 3 {
			whCreate(t, g, keyAdmin, map[string]any{"url": rcv.url(), "event_types": []string{"authorization.*"}})
		}
		_, err := wc.CreateWebhookEndpoint(admin, &gatewayv1.CreateWebhookEndpointRequest{Endpoint: &gatewayv1.WebhookEndpoint{Url: rcv.url(), EventTypes: []string{"message.*"}}})
		if status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("create beyond the limit: %v", err)
		}
	})

	t.Run("secrets_only_at_create_and_rotate", func(t *testing.T) {
		for _, path := range []string{"/v1/webhook-endpoints", "/v1/webhook-endpoints/" + id, "/v1/stats/webhooks", "/v1/webhook-endpoints/" + id + "/dead-letters"} {
			if code, _, raw := whREST(t, g, keyAdmin, http.MethodGet, path, nil); code != http.StatusOK || strings.Contains(raw, "whsec_") {
				t.Fatalf("GET %s: %d %s", path, code, raw)
			}
		}
		if strings.Contains(g.logs.String(), strings.TrimPrefix(sec, "whsec_")) {
			t.Fatal("an endpoint secret is in the log")
		}
	})
}

// BenchmarkWebhooks_SlowEndpoint measures what a slow endpoint costs the
// intake and a healthy endpoint: b.N pushes (16 shops, 8 pushers) through
// the real push path: without webhooks, with one healthy endpoint for
// every message, and with that one plus one answering after 2 s. It reports
// the intake's acknowledgement latency (p50, p99) and, with webhooks, the
// healthy endpoint's lag from the start of a push to its delivery (p50,
// p99, max) and how many requests the slow endpoint received meanwhile. Run: go test -run '^$' -bench BenchmarkWebhooks_SlowEndpoint -benchtime 10000x ./internal/app/
func BenchmarkWebhooks_SlowEndpoint(b *testing.B) {
	for _, mode := range []string{"no_webhooks", "healthy_endpoint", "slow_and_healthy_endpoints"} {
		b.Run(mode, func(b *testing.B) { benchWebhooks(b, mode) })
	}
}

func benchWebhooks(b *testing.B, mode string) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", b.TempDir(), "127.0.0.1:0"
	cfg.Message.ReconcileInterval, cfg.LogLevel = 0, "warn"
	cfg.Webhook.AllowPrivate, cfg.Webhook.AllowHTTP = true, true
	g := startGatewayWith(b, cfg, Options{})
	n := b.N

	var mu sync.Mutex
	arrived := make(map[string]time.Time, n)
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct {
			Data struct {
				EventID string `json:"event_id"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&env)
		now := time.Now()
		mu.Lock()
		if _, ok := arrived[env.Data.EventID]; !ok {
			arrived[env.Data.EventID] = now
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer healthy.Close()
	var slowSeen atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowSeen.Add(1)
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer slow.Close()
	var urls []string
	switch mode {
	case "healthy_endpoint":
		urls = []string{healthy.URL}
	case "slow_and_healthy_endpoints":
		urls = []string{slow.URL, healthy.URL}
	}
	withHooks := len(urls) > 0
	if withHooks {
		wc := gatewayv1.NewWebhookServiceClient(g.conn)
		for _, u := range urls {
			if _, err := wc.CreateWebhookEndpoint(context.Background(), &gatewayv1.CreateWebhookEndpointRequest{Endpoint: &gatewayv1.WebhookEndpoint{Url: u + "/hook", EventTypes: []string{"message.*"}}}); err != nil {
				b.Fatal(err)
			}
		}
	}

	k, err := messageKeyOf(g)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	bodies := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		bodies[i] = k.Encrypt(hmPlain(g, ids[i], fmt.Sprintf("bench-shop-%02d", i%16), "bench", time.Now()))
	}
	sent := make([]time.Time, n)
	lat := make([]time.Duration, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Post("http://"+g.info.HTTPAddr+PushPath, "text/plain;charset=utf-8", strings.NewReader(bodies[i]))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				sent[i], lat[i] = t0, time.Since(t0)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d pushes failed", f)
	}
	slices.Sort(lat)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(lat, 0.50), "intake-p50-ms")
	b.ReportMetric(pct(lat, 0.99), "intake-p99-ms")
	if !withHooks {
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("healthy endpoint got %d of %d", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	lags := make([]time.Duration, 0, n)
	mu.Lock()
	for i, id := range ids {
		lags = append(lags, arrived[id].Sub(sent[i]))
	}
	mu.Unlock()
	slices.Sort(lags)
	b.ReportMetric(pct(lags, 0.50), "healthy-lag-p50-ms")
	b.ReportMetric(pct(lags, 0.99), "healthy-lag-p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1])/float64(time.Millisecond), "healthy-lag-max-ms")
	b.ReportMetric(float64(slowSeen.Load()), "slow-requests")
}

// messageKeyOf is the sandbox app's message key (pushes are encrypted with it).
func messageKeyOf(g *gateway) (message.Key, error) {
	return message.NewKey("", g.info.Sandbox.Config().MessageKey)
}

// whNATS starts a standalone JetStream server on a free loopback port for
// replicas that outlive each other.
func whNATS(t *testing.T) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return srv.ClientURL()
}

// Two replicas share one NATS server. An endpoint's consumers are pinned to
// one replica, so every event is delivered once and in order per shop,
// whichever replica took the push; when the delivering replica stops, the
// other takes over at once and nothing is lost or reordered.
func TestWebhooks_TwoReplicasOneDeliverer(t *testing.T) {
	natsURL := whNATS(t)
	tokenKey, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	rawKey := make([]byte, 32)
	_, _ = rand.Read(rawKey)
	msgKey := base64.StdEncoding.EncodeToString(rawKey)
	start := func(name string) *gateway {
		cfg := config.Defaults()
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSURL = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), natsURL
		cfg.Message.ReconcileInterval, cfg.ReplicaID = 0, name
		mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", tokenKey.Encode())
		mustSet(&cfg, "KWAISHOP_MESSAGE_KEY", msgKey)
		cfg.Webhook.AllowPrivate, cfg.Webhook.AllowHTTP = true, true
		cfg.Webhook.RetryInitial, cfg.Webhook.RetryMaxDelay = 100*time.Millisecond, 400*time.Millisecond
		return startGatewayWith(t, cfg, Options{})
	}
	k, err := message.NewKey("", msgKey)
	if err != nil {
		t.Fatal(err)
	}
	push := func(g *gateway, eventID, openID string) {
		t.Helper()
		code, body := hmPost(t, g, k.Encrypt(hmPlain(g, eventID, openID, "marker", time.Now())))
		if code != http.StatusOK {
			t.Fatalf("push %s: %d %s", eventID, code, body)
		}
	}
	order, shopOf := map[string]int{}, map[string]string{}
	shops := []string{"wh-2r-a", "wh-2r-b", "wh-2r-c"}
	n := map[string]int{}
	next := func(s string) string {
		eid := fmt.Sprintf("wh-2r-%s-%02d", s, n[s])
		order[eid], shopOf[eid] = n[s], s
		n[s]++
		return eid
	}
	all := func(reqs []whReq) bool { return len(delivered(reqs)) == len(order) }

	r0 := start("replica-0")
	rcv := newWHReceiver(t)
	rcv.set(func(r *whReceiver) { r.failFirst = 2 })
	_, sec := whCreate(t, r0, "", map[string]any{"url": rcv.url(), "event_types": []string{"message.*"}})
	rcv.addSecret(sec)
	// The first delivery pins the endpoint's consumer to replica 0.
	for _, s := range shops {
		push(r0, next(s), s)
	}
	rcv.waitFor(t, 30*time.Second, "first events delivered by replica 0", all)

	r1 := start("replica-1")
	// Failures now keep several events of each shop waiting at once: a
	// second deliverer would send a later one while an earlier one waits.
	rcv.set(func(r *whReceiver) { r.failFirst = 6 })
	for i := range 6 {
		for _, s := range shops {
			push([]*gateway{r0, r1}[i%2], next(s), s)
		}
	}
	reqs := rcv.waitFor(t, 60*time.Second, "events pushed to both replicas delivered", all)
	checkShopOrder(t, reqs, order, shopOf, 7)
	okCount := map[string]int{}
	for _, q := range reqs {
		if q.answered/100 == 2 {
			okCount[q.eventID]++
		}
	}
	for eid, c := range okCount {
		if c != 1 {
			t.Fatalf("event %s taken %d times: more than one replica delivers", eid, c)
		}
	}

	r0.stop() // the delivering replica leaves
	for range 3 {
		for _, s := range shops {
			push(r1, next(s), s)
		}
	}
	reqs = rcv.waitFor(t, 30*time.Second, "replica 1 takes over", all)
	checkShopOrder(t, reqs, order, shopOf, 10)
}
