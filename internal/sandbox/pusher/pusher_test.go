package pusher_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// The answers the tests read, decoded as an outside SDK would.
type (
	wireOrder struct {
		OrderBaseInfo struct {
			Oid int64 `json:"oid"`
		} `json:"orderBaseInfo"`
	}
	wireRefund struct {
		RefundID int64 `json:"refundId"`
	}
	itemNewData struct {
		KwaiItemID int64 `json:"kwaiItemId"`
	}
)

const vectorKey = "AAECAwQFBgcICQoLDA0ODw==" // platform-vectors.json message key

// decryptBody is the receiving side's decryption, written from the platform's
// description independently of the sandbox's encryption.
func decryptBody(keyB64, body string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("ciphertext is not whole blocks")
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > aes.BlockSize || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad padding")
	}
	return out[:len(out)-pad], nil
}

func TestPusher_EncryptionVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/platform-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Message []struct {
			Name, MessageKey, Plaintext, Body string
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Message) < 2 {
		t.Fatalf("vectors: %v", err)
	}
	for _, m := range v.Message {
		t.Run(m.Name, func(t *testing.T) {
			key, _ := base64.StdEncoding.DecodeString(m.MessageKey)
			block, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			if got := pusher.EncryptMessage(block, []byte(m.Plaintext)); got != m.Body {
				t.Errorf("encrypt = %s, want %s", got, m.Body)
			}
			plain, err := decryptBody(m.MessageKey, m.Body)
			if err != nil || string(plain) != m.Plaintext {
				t.Errorf("decrypt = %q, %v", plain, err)
			}
			if m.Plaintext == string(pusher.HeartbeatPlaintext) {
				return
			}
			// The sandbox's message struct writes the platform's JSON byte for byte.
			var msg pusher.PushMessage
			if err := json.Unmarshal([]byte(m.Plaintext), &msg); err != nil {
				t.Fatal(err)
			}
			if b, _ := json.Marshal(msg); string(b) != m.Plaintext {
				t.Errorf("pushMessage JSON\n got %s\nwant %s", b, m.Plaintext)
			}
		})
	}
}

// receiver is the app's push endpoint: it decrypts every body with the
// message key and answers as told.
type receiver struct {
	t   *testing.T
	key string
	url string

	mu         sync.Mutex
	answer     func() (int, string)
	msgs       []map[string]any // decrypted non-test messages, in arrival order
	bodies     []string         // raw bodies of heartbeats
	heartbeats int
}

func newReceiver(t *testing.T, key string) *receiver {
	rc := &receiver{t: t, key: key, answer: func() (int, string) { return 200, `{"result":1}` }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/plain;charset=utf-8" {
			t.Errorf("push: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		plain, err := decryptBody(key, string(body))
		if err != nil {
			t.Errorf("push body does not decrypt: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(plain, &m); err != nil {
			t.Errorf("push plaintext is not JSON: %q", plain)
		}
		rc.mu.Lock()
		if m["test"] == true && len(m) == 1 {
			rc.heartbeats++
			rc.bodies = append(rc.bodies, string(body))
		} else {
			rc.msgs = append(rc.msgs, m)
		}
		status, ack := rc.answer()
		rc.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, ack)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func (rc *receiver) setAnswer(status int, body string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = func() (int, string) { return status, body }
}

func (rc *receiver) messages() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.msgs)
}

// byEventID counts arrivals per eventId.
func (rc *receiver) byEventID() map[string]int {
	out := map[string]int{}
	for _, m := range rc.messages() {
		id, _ := m["eventId"].(string)
		out[id]++
	}
	return out
}

func waitPushes(t *testing.T, s *sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPushes(ctx); err != nil {
		t.Fatalf("pushes did not settle: %v", err)
	}
}

func TestPusher_EveryMessage(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, vectorKey)
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 3, TestUsers: 3, MessageKey: vectorKey, PushURL: rc.url, HeartbeatInterval: -1})
	c.Post = true
	tok := c.Authorize(1).AccessToken
	c.Authorize(2, "merchant_order") // user 2: order messages only; user 3: not authorized, no messages
	u1 := s.TestUsers()[0]

	var o1, o2 wireOrder
	c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 1, "status": 30}, &o1) // addOrder, paySuccess
	oid := o1.OrderBaseInfo.Oid
	c.MustCall(tok, "open.seller.order.goods.deliver", map[string]any{"orderId": oid, "expressCode": 4, "expressNo": "SF1"}, nil) // delivering
	c.Admin("POST", "/sandbox/v1/orders:advance", map[string]any{"orderId": oid, "status": 50}, nil)                              // deliverySuccess
	c.Admin("POST", "/sandbox/v1/orders:advance", map[string]any{"orderId": oid, "status": 70}, nil)                              // orderSuccess
	c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 1}, &o2)                                                     // addOrder
	c.Admin("POST", "/sandbox/v1/orders:changeAddress", map[string]any{"orderId": o2.OrderBaseInfo.Oid}, nil)                     // addressChange
	c.MustCall(tok, "open.seller.order.close", map[string]any{"orderId": o2.OrderBaseInfo.Oid}, nil)                              // orderFail
	var rf wireRefund
	c.Admin("POST", "/sandbox/v1/refunds", map[string]any{"orderId": oid}, &rf)                                          // addRefund
	c.MustCall(tok, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 1}, nil) // updateRefund
	it := c.SeededShop(1).Items[0]
	sk := it.SKUs[0]
	c.MustCall(tok, "open.item.sku.stock.update", map[string]any{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": 3, "changeType": 1}, nil)
	c.MustCall(tok, "open.item.sku.price.update", map[string]any{"itemId": it.KwaiItemID, "skuId": sk.SkuID, "price": 990}, nil)
	c.MustCall(tok, "open.item.shelf.status.update", map[string]any{"kwaiItemId": it.KwaiItemID, "shelfStatus": 1 - it.ShelfStatus}, nil)
	var created itemNewData
	c.MustCall(tok, "open.item.new", map[string]any{"title": "新品", "skuList": []map[string]any{{"skuSalePrice": 100}}}, &created)
	c.MustCall(tok, "open.item.edit", map[string]any{"kwaiItemId": created.KwaiItemID, "title": "新品2"}, nil)
	// User 2 (merchant_order only) and user 3 (no authorization).
	c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 2}, nil)
	s.CreateOrder(sandbox.OrderSpec{TestUser: 3})
	it2 := c.SeededShop(2).Items[0]
	tok2 := c.Authorize(2, "merchant_item").AccessToken // a second authorization, item scope only
	c.MustCall(tok2, "open.item.shelf.status.update", map[string]any{"kwaiItemId": it2.KwaiItemID, "shelfStatus": 1 - it2.ShelfStatus}, nil)
	if _, err := s.Revoke(2, ""); err != nil {
		t.Fatal(err)
	}
	c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 2}, nil) // revoked: no message
	waitPushes(t, s)

	wantEvents := []string{
		sandbox.EventOrderAdd, sandbox.EventOrderPaid, sandbox.EventOrderDelivering, sandbox.EventOrderDelivered, sandbox.EventOrderSuccess,
		sandbox.EventOrderAdd, sandbox.EventOrderAddress, sandbox.EventOrderFail, sandbox.EventRefundAdd, sandbox.EventRefundUpdate,
		sandbox.EventItemStock, sandbox.EventItemPrice, sandbox.EventItemShelf, sandbox.EventItemAdd, sandbox.EventItemUpdate,
		sandbox.EventOrderAdd, sandbox.EventItemShelf, // user 2
	}
	pushes := s.Pushes()
	var gotEvents []string
	for _, p := range pushes {
		gotEvents = append(gotEvents, p.Event)
		if p.Status != sandbox.PushDelivered || len(p.Attempts) != 1 || !p.Attempts[0].OK || p.Attempts[0].Outcome != "delivered" || p.NextAttempt != 0 {
			t.Errorf("push %+v", p)
		}
	}
	if !slices.Equal(gotEvents, wantEvents) {
		t.Fatalf("events\n got %v\nwant %v", gotEvents, wantEvents)
	}
	msgs := rc.messages()
	if len(msgs) != len(wantEvents) {
		t.Fatalf("received %d messages, want %d", len(msgs), len(wantEvents))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		id, _ := m["eventId"].(string)
		if id == "" || seen[id] {
			t.Errorf("eventId %q empty or repeated", id)
		}
		seen[id] = true
		info, ok := m["info"].(string)
		var in map[string]any
		if !ok || json.Unmarshal([]byte(info), &in) != nil {
			t.Errorf("info is not a JSON string: %v", m["info"])
		}
		if m["appKey"] != c.AppKey || m["test"] != false || m["createTime"] != float64(s.Now().UnixMilli()) || m["bizId"] == nil {
			t.Errorf("message %v", m)
		}
		if m["openId"] == u1.OpenID && m["userId"] != float64(u1.SellerID) {
			t.Errorf("userId of %v", m)
		}
		switch m["event"] {
		case sandbox.EventOrderPaid:
			if in["oid"] != float64(oid) || in["status"] != float64(30) || in["sellerId"] != float64(u1.SellerID) {
				t.Errorf("paySuccess info %v", in)
			}
		case sandbox.EventOrderAddress:
			if in["seller_id"] != float64(u1.SellerID) || in["buyerOpenId"] == "" {
				t.Errorf("addressChange info %v", in)
			}
		case sandbox.EventRefundUpdate:
			if in["refundId"] != float64(rf.RefundID) || in["status"] != float64(60) || in["eventType"] != rules.RefundEventAgreeRefund {
				t.Errorf("updateRefund info %v", in)
			}
		case sandbox.EventItemStock:
			if in["skuId"] != float64(sk.SkuID) || in["stock"] != in["beforeStock"].(float64)+3 {
				t.Errorf("stockChange info %v", in)
			}
		}
	}
	var listed struct {
		Pushes []sandbox.Push `json:"pushes"`
	}
	c.Admin("GET", "/sandbox/v1/pushes?event="+sandbox.EventOrderAdd, nil, &listed)
	if len(listed.Pushes) != 3 || listed.Pushes[0].EventID == "" || listed.Pushes[0].OpenID != u1.OpenID || len(listed.Pushes[0].Attempts) != 1 {
		t.Fatalf("GET pushes: %+v", listed)
	}
	var st sandbox.PusherStatus
	c.Admin("GET", "/sandbox/v1/pusher", nil, &st)
	if st.URL != rc.url || !st.Enabled || st.Delivered != len(wantEvents) || st.Heartbeats != 1 || st.HeartbeatsOK != 1 {
		t.Fatalf("pusher status: %+v", st)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.heartbeats != 1 || rc.bodies[0] != "vftmsTE4kncTlrYRCUwCMg==" { // M1: the start heartbeat
		t.Fatalf("heartbeats %d %v", rc.heartbeats, rc.bodies)
	}
}

func TestPusher_RetrySchedule(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, vectorKey)
	s, c := sandboxtest.Setup(t, sandbox.Config{MessageKey: vectorKey, PushURL: rc.url, HeartbeatInterval: -1})
	c.Authorize(1)
	waitPushes(t, s)

	attempts := func(id string) []sandbox.PushAttempt {
		for _, p := range s.Pushes() {
			if p.EventID == id {
				return p.Attempts
			}
		}
		t.Fatalf("no push %s", id)
		return nil
	}
	// A message acknowledged only at its 5th attempt; every failure kind on the way.
	t0 := s.Now()
	rc.setAnswer(500, `{"result":1}`)
	s.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	waitPushes(t, s)
	first := s.Pushes()[0]
	if first.Status != sandbox.PushPending || len(first.Attempts) != 1 || first.Attempts[0].Outcome != "http 500" || first.NextAttempt != t0.Add(5*time.Minute).UnixMilli() {
		t.Fatalf("after the first failure: %+v", first)
	}
	id := first.EventID
	steps := []struct {
		advance  time.Duration
		status   int
		ack      string
		attempts int
		outcome  string
	}{
		{5*time.Minute - time.Millisecond, 200, `{"result":0}`, 1, ""}, // not due yet
		{time.Millisecond, 200, `{"result":0}`, 2, `bad ack: want {"result":1}`},
		{10 * time.Minute, 200, `ok`, 3, `bad ack: want {"result":1}`},
		{20 * time.Minute, 404, `{"result":1}`, 4, "http 404"},
		{30 * time.Minute, 200, `{"result":1}`, 5, "delivered"},
		{60 * time.Minute, 200, `{"result":1}`, 5, ""}, // delivered: nothing more
	}
	for i, st := range steps {
		rc.setAnswer(st.status, st.ack)
		s.Advance(st.advance)
		waitPushes(t, s)
		a := attempts(id)
		if len(a) != st.attempts {
			t.Fatalf("step %d: %d attempts, want %d: %+v", i, len(a), st.attempts, a)
		}
		if st.outcome != "" && a[len(a)-1].Outcome != st.outcome {
			t.Fatalf("step %d: outcome %q, want %q", i, a[len(a)-1].Outcome, st.outcome)
		}
	}
	var times []int64
	for _, a := range attempts(id) {
		times = append(times, a.Time-t0.UnixMilli())
	}
	min := time.Minute.Milliseconds()
	if want := []int64{0, 5 * min, 15 * min, 35 * min, 65 * min}; !slices.Equal(times, want) {
		t.Fatalf("attempt offsets %v, want %v (5, 10, 20, 30 minutes apart)", times, want)
	}
	if got := rc.byEventID()[id]; got != 5 {
		t.Fatalf("receiver saw %s %d times", id, got)
	}

	// A message never acknowledged: 1 + 5 retries, then failed.
	rc.setAnswer(503, "")
	t1 := s.Now()
	s.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	for _, d := range []time.Duration{0, 5, 10, 20, 30, 60} {
		s.Advance(d * time.Minute)
		waitPushes(t, s)
	}
	last := s.Pushes()[1]
	times = times[:0]
	for _, a := range last.Attempts {
		times = append(times, a.Time-t1.UnixMilli())
	}
	if last.Status != sandbox.PushFailed || !slices.Equal(times, []int64{0, 5 * min, 15 * min, 35 * min, 65 * min, 125 * min}) || last.NextAttempt != 0 {
		t.Fatalf("never acknowledged: %+v (offsets %v)", last, times)
	}
	s.Advance(24 * time.Hour)
	waitPushes(t, s)
	if n := len(s.Pushes()[1].Attempts); n != 6 {
		t.Fatalf("attempts after failing: %d", n)
	}
}

// pushPattern creates n orders and returns each message's fate.
func pushPattern(t *testing.T, c *sandboxtest.SDK, s *sandbox.Sandbox, n int) []string {
	t.Helper()
	before := len(s.Pushes())
	for range n {
		if st := c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 1}, nil); st != http.StatusCreated {
			t.Fatalf("order: %d", st)
		}
	}
	waitPushes(t, s)
	var out []string
	for _, p := range s.Pushes()[before:] {
		fate := p.Status
		if p.Duplicate {
			fate += "+dup"
		}
		out = append(out, fate)
	}
	return out
}

func TestPusher_DuplicatesAndDrops(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, vectorKey)
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 77, MessageKey: vectorKey, PushURL: rc.url, HeartbeatInterval: -1})
	c.Authorize(1, "merchant_order")

	// Off (the default): every message exactly once.
	for _, f := range pushPattern(t, c, s, 10) {
		if f != sandbox.PushDelivered {
			t.Fatalf("fate %q with duplicates and drops off", f)
		}
	}
	for id, n := range rc.byEventID() {
		if n != 1 {
			t.Fatalf("%s received %d times with duplicates off", id, n)
		}
	}

	// duplicateRate 1: every message twice, same eventId.
	if st := c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"duplicateRate": 1}, nil); st != 200 {
		t.Fatalf("pusher: %d", st)
	}
	before := rc.byEventID()
	pushPattern(t, c, s, 5)
	dups := 0
	for id, n := range rc.byEventID() {
		if _, old := before[id]; !old {
			if n != 2 {
				t.Fatalf("%s received %d times with duplicateRate 1", id, n)
			}
			dups++
		}
	}
	if dups != 5 {
		t.Fatalf("%d duplicated messages, want 5", dups)
	}
	p := s.Pushes()[len(s.Pushes())-1]
	if !p.Duplicate || len(p.Attempts) != 2 || !p.Attempts[1].Duplicate || p.Status != sandbox.PushDelivered {
		t.Fatalf("duplicated push record: %+v", p)
	}

	// dropRate 1: recorded, never pushed.
	c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"duplicateRate": 0, "dropRate": 1}, nil)
	received := len(rc.messages())
	for _, f := range pushPattern(t, c, s, 5) {
		if f != sandbox.PushDropped {
			t.Fatalf("fate %q with dropRate 1", f)
		}
	}
	if len(rc.messages()) != received {
		t.Fatal("a dropped message was pushed")
	}
	var dropped struct {
		Pushes []sandbox.Push `json:"pushes"`
	}
	c.Admin("GET", "/sandbox/v1/pushes?status=dropped", nil, &dropped)
	if len(dropped.Pushes) != 5 || len(dropped.Pushes[0].Attempts) != 0 {
		t.Fatalf("dropped: %+v", dropped)
	}

	// Fractions: deterministic given Seed.
	pattern := func(seed int64) []string {
		rc := newReceiver(t, vectorKey)
		s, c := sandboxtest.Setup(t, sandbox.Config{Seed: seed, MessageKey: vectorKey, PushURL: rc.url, HeartbeatInterval: -1, PushDuplicateRate: 0.3, PushDropRate: 0.3})
		c.Authorize(1, "merchant_order")
		return pushPattern(t, c, s, 30)
	}
	a, b, other := pattern(5), pattern(5), pattern(6)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different fates:\n%v\n%v", a, b)
	}
	if slices.Equal(a, other) {
		t.Fatalf("seeds 5 and 6 gave the same fates %v", a)
	}
	kinds := map[string]int{}
	for _, f := range a {
		kinds[f]++
	}
	if kinds[sandbox.PushDropped] == 0 || kinds[sandbox.PushDelivered+"+dup"] == 0 || kinds[sandbox.PushDelivered] == 0 {
		t.Fatalf("fates at 30%%/30%%: %v", kinds)
	}
}

func TestPusher_SettingsAndHeartbeats(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, vectorKey)
	s, c := sandboxtest.Setup(t, sandbox.Config{MessageKey: vectorKey})
	c.Authorize(1, "merchant_order")

	// No push URL: no messages.
	s.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	if len(s.Pushes()) != 0 {
		t.Fatal("message without a push URL")
	}
	for _, body := range []map[string]any{{"url": "ftp://x"}, {"dropRate": 2}, {"duplicateRate": -0.1}, {"heartbeatSeconds": -1}, {"bogus": 1}} {
		if st := c.Admin("POST", "/sandbox/v1/pusher", body, nil); st != http.StatusBadRequest {
			t.Errorf("pusher %v: %d", body, st)
		}
	}
	// Saving the URL sends {"test":true} at once; heartbeats follow.
	var st sandbox.PusherStatus
	if code := c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"url": rc.url, "heartbeatSeconds": 0.02}, &st); code != 200 || st.URL != rc.url || st.HeartbeatSeconds != 0.02 {
		t.Fatalf("set url: %d %+v", code, st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.mu.Lock()
		n := rc.heartbeats
		rc.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d heartbeats", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"heartbeatSeconds": 0}, nil)
	rc.mu.Lock()
	for _, b := range rc.bodies {
		if b != "vftmsTE4kncTlrYRCUwCMg==" {
			t.Errorf("heartbeat body %q, want the M1 vector", b)
		}
	}
	rc.mu.Unlock()

	// Paused: messages wait as pending, then go out.
	c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"enabled": false}, nil)
	s.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	waitPushes(t, s)
	if p := s.Pushes(); len(p) != 1 || p[0].Status != sandbox.PushPending || len(p[0].Attempts) != 0 {
		t.Fatalf("paused: %+v", p)
	}
	c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"enabled": true}, nil)
	waitPushes(t, s)
	if p := s.Pushes(); p[0].Status != sandbox.PushDelivered || len(rc.messages()) != 1 {
		t.Fatalf("resumed: %+v", p)
	}
	c.Admin("GET", "/sandbox/v1/pusher", nil, &st)
	if st.Heartbeats < 3 || st.HeartbeatsOK < 3 || st.Delivered != 1 || st.HeartbeatSeconds != 0 {
		t.Fatalf("status: %+v", st)
	}
	cfg := s.Config()
	if cfg.PushURL != rc.url || cfg.HeartbeatInterval >= 0 {
		t.Fatalf("Config: %q %v", cfg.PushURL, cfg.HeartbeatInterval)
	}
	// Clearing the URL stops new messages.
	c.Admin("POST", "/sandbox/v1/pusher", map[string]any{"url": ""}, nil)
	s.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	if n := len(s.Pushes()); n != 1 {
		t.Fatalf("%d pushes after clearing the URL", n)
	}
}
