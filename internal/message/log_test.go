package message

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openLog opens a Log on a fresh embedded NATS store.
func openLog(t *testing.T) (*Log, *store.Store) {
	t.Helper()
	ctx := testCtx(t)
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	l, err := Open(ctx, st.JetStream(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	return l, st
}

// plainMsg is a platform plaintext message.
func plainMsg(eventID, openID, event string, info map[string]any) []byte {
	in, _ := json.Marshal(info)
	b, _ := json.Marshal(map[string]any{
		"eventId": eventID, "bizId": 1, "userId": 2, "openId": openID, "appKey": "ks1", "event": event,
		"info": string(in), "createTime": time.Now().UnixMilli(), "test": false,
	})
	return b
}

func publish(t *testing.T, l *Log, plain []byte) uint64 {
	t.Helper()
	p, err := ParsePush(plain)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := l.Publish(testCtx(t), p, plain, false)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func streamMsgs(t *testing.T, l *Log) uint64 {
	t.Helper()
	info, err := l.Stream().Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// subscriber runs a Session and collects its deliveries.
type subscriber struct {
	s  *Session
	ch chan *gatewayv1.Delivery
}

func subscribe(t *testing.T, l *Log, o GroupOptions, maxInFlight int) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, _, err := l.Subscribe(ctx, o, maxInFlight)
	if err != nil {
		t.Fatal(err)
	}
	sub := &subscriber{s: s, ch: make(chan *gatewayv1.Delivery, 10000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx, func(d *gatewayv1.Delivery) error { sub.ch <- d; return nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return sub
}

func (s *subscriber) next(t *testing.T) *gatewayv1.Delivery {
	t.Helper()
	select {
	case d := <-s.ch:
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery within 20s")
		return nil
	}
}

func (s *subscriber) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case d := <-s.ch:
		t.Fatalf("unexpected delivery %s", d.GetMessage().GetEventId())
	case <-time.After(wait):
	}
}

func TestIntake(t *testing.T) {
	l, _ := openLog(t)
	k := mustKey(t, "ks123456789012345678", vectorKey)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The vectors are dated 2023-11-14 (createTime 1700000300000): judge
	// them by a clock of that day.
	vectorDay := func() time.Time { return time.UnixMilli(1700000300000).Add(time.Minute) }
	in := NewIntake(l, IntakeConfig{Keys: []Key{k}, Logger: logger, Now: vectorDay})
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	post := func(t *testing.T, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL, "text/plain;charset=utf-8", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	m2 := loadVectors(t)["M2-order-paid"]

	t.Run("stored_before_ack_and_once", func(t *testing.T) {
		for i := range 3 {
			code, body := post(t, m2.Body)
			if code != http.StatusOK || strings.TrimSpace(body) != `{"result":1}` {
				t.Fatalf("push %d: %d %s", i, code, body)
			}
			// Acknowledged means stored: readable at once.
			m, err := l.Get(testCtx(t), "267_2345_147402")
			if err != nil {
				t.Fatalf("push %d acknowledged but not stored: %v", i, err)
			}
			if m.GetOrderStatus().GetStatus() != 30 || m.GetReconciled() {
				t.Fatalf("stored %v", m)
			}
		}
		if n := streamMsgs(t, l); n != 1 {
			t.Fatalf("stream holds %d messages, want 1", n)
		}
		if st := in.Stats(); st.Stored != 1 || st.Duplicates != 2 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("heartbeats_not_stored", func(t *testing.T) {
		for _, body := range []string{`{"test":true}`, k.Encrypt([]byte(`{"test":true}`)), loadVectors(t)["M1-heartbeat"].Body} {
			if code, resp := post(t, body); code != http.StatusOK || strings.TrimSpace(resp) != `{"result":1}` {
				t.Fatalf("heartbeat %q: %d %s", body, code, resp)
			}
		}
		if n := streamMsgs(t, l); n != 1 {
			t.Fatalf("stream holds %d messages after heartbeats, want 1", n)
		}
	})

	ct := m2.Body
	other := mustKey(t, "", "MDEyMzQ1Njc4OWFiY2RlZg==")
	refusals := []struct{ name, body, reason string }{
		{"undecryptable", "this is not base64!", ReasonNotBase64},
		{"truncated", ct[:len(ct)-12], ReasonUndecryptable},
		{"truncated_odd", ct[:len(ct)-3], ReasonNotBase64},
		{"truncated_blocks", other.Encrypt([]byte("x"))[:4], ReasonUndecryptable},
		{"wrong_key", other.Encrypt(plainMsg("wk", "o", EventOrderCreated, map[string]any{"oid": 1, "createTime": 1})), ReasonUndecryptable},
		{"oversized", strings.Repeat("A", DefaultMaxBodyBytes+16), ReasonOversized},
		{"no_event_id", k.Encrypt([]byte(`{"bizId":1,"event":"kwaishop_order_addOrder"}`)), ReasonMalformed},
		{"clear_text_message", string(plainMsg("ct", "o", EventOrderCreated, nil)), ReasonMalformed},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := in.Stats().Rejected[tc.reason]
			code, body := post(t, tc.body)
			var out struct {
				Result int    `json:"result"`
				Error  string `json:"error"`
			}
			if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &out) != nil || out.Result == 1 || out.Error != tc.reason {
				t.Fatalf("got %d %s, want 400 with error %s", code, body, tc.reason)
			}
			if n := streamMsgs(t, l); n != 1 {
				t.Fatalf("stream holds %d messages, want 1 (untouched)", n)
			}
			if got := in.Stats().Rejected[tc.reason]; got != before+1 {
				t.Fatalf("rejected[%s] = %d, want %d", tc.reason, got, before+1)
			}
			logMu.Lock()
			defer logMu.Unlock()
			if probe := tc.body[:min(len(tc.body), 40)]; strings.Contains(logs.String(), probe) {
				t.Fatalf("log contains the body")
			}
			if !strings.Contains(logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("no log line for %s", tc.reason)
			}
		})
	}
	t.Run("get_refused", func(t *testing.T) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
	})
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestGroups_ShareLoadExactlyOnce(t *testing.T) {
	l, _ := openLog(t)
	a := subscribe(t, l, GroupOptions{Name: "billing"}, 10)
	b := subscribe(t, l, GroupOptions{Name: "billing"}, 10)
	other := subscribe(t, l, GroupOptions{Name: "audit", EventTypes: []string{EventOrderPaid}}, 1000)

	const n = 200
	for i := range n {
		ev := EventOrderCreated
		if i%2 == 0 {
			ev = EventOrderPaid
		}
		publish(t, l, plainMsg(fmt.Sprintf("ev-%03d", i), "shop1", ev, map[string]any{"oid": 1000 + i, "status": 30, "updateTime": 5000 + i, "createTime": 5000 + i}))
	}
	seen := map[string]string{}
	per := map[string]int{}
	ctx := testCtx(t)
	for len(seen) < n {
		var d *gatewayv1.Delivery
		var who string
		select {
		case d = <-a.ch:
			who = "a"
		case d = <-b.ch:
			who = "b"
		case <-ctx.Done():
			t.Fatalf("only %d of %d delivered", len(seen), n)
		}
		id := d.GetMessage().GetEventId()
		if prev, dup := seen[id]; dup {
			t.Fatalf("%s delivered twice in one group (to %s and %s)", id, prev, who)
		}
		seen[id], per[who] = who, per[who]+1
		s := a.s
		if who == "b" {
			s = b.s
		}
		if err := s.Ack(ctx, []string{d.GetDeliveryId()}, Ack, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if per["a"] == 0 || per["b"] == 0 {
		t.Fatalf("load not shared: %v", per)
	}
	a.none(t, 300*time.Millisecond)
	b.none(t, 0)
	t.Logf("split between two subscribers: %v", per)

	// The other group saw every paid message once, independently.
	got := map[string]bool{}
	for len(got) < n/2 {
		d := other.next(t)
		if d.GetMessage().GetEvent() != EventOrderPaid || got[d.GetMessage().GetEventId()] {
			t.Fatalf("audit got %s %s", d.GetMessage().GetEvent(), d.GetMessage().GetEventId())
		}
		got[d.GetMessage().GetEventId()] = true
	}

	t.Run("conflicting_settings_refused", func(t *testing.T) {
		_, _, err := l.Group(ctx, GroupOptions{Name: "audit", EventTypes: []string{EventOrderCreated}})
		if err == nil || !strings.Contains(err.Error(), "filters") {
			t.Fatalf("err = %v", err)
		}
		if _, _, err := l.Group(ctx, GroupOptions{Name: "audit", AckTimeout: time.Minute}); err == nil {
			t.Fatal("other ack timeout accepted")
		}
		if _, _, err := l.Group(ctx, GroupOptions{Name: "audit"}); err != nil {
			t.Fatalf("joining with unset settings: %v", err)
		}
	})
	t.Run("ack_of_other_group_refused", func(t *testing.T) {
		publish(t, l, plainMsg("ev-x", "shop1", EventOrderCreated, map[string]any{"oid": 1, "createTime": 1}))
		var d *gatewayv1.Delivery
		select { // either subscriber of the group
		case d = <-a.ch:
		case d = <-b.ch:
		case <-ctx.Done():
			t.Fatal("ev-x not delivered")
		}
		if _, err := l.Ack(ctx, "audit", []string{d.GetDeliveryId()}, Ack, 0, nil); err == nil {
			t.Fatal("ack with another group's name accepted")
		}
		if _, err := l.Ack(ctx, "billing", []string{"bm90LWEtZGVsaXZlcnk"}, Ack, 0, nil); err == nil {
			t.Fatal("forged delivery id accepted")
		}
		if n, err := l.Ack(ctx, "billing", []string{d.GetDeliveryId()}, Ack, 0, nil); err != nil || n != 1 {
			t.Fatalf("ack: %d %v", n, err)
		}
	})
}

func TestRedeliveryAndDeadLetters(t *testing.T) {
	l, _ := openLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.RunDeadLetters(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	sub := subscribe(t, l, GroupOptions{Name: "flaky", AckTimeout: 300 * time.Millisecond, MaxDeliveries: 3}, 10)
	publish(t, l, plainMsg("dl-1", "shop1", EventOrderPaid, map[string]any{"oid": 9, "status": 30, "updateTime": 77}))

	// Never acknowledged: delivered again after the ack timeout, 3 times.
	for want := uint32(1); want <= 3; want++ {
		d := sub.next(t)
		if d.GetMessage().GetEventId() != "dl-1" || d.GetDeliveryCount() != want {
			t.Fatalf("delivery %d: %s count %d", want, d.GetMessage().GetEventId(), d.GetDeliveryCount())
		}
	}
	// Then it is a dead letter.
	var dls []*gatewayv1.DeadLetter
	for deadline := time.Now().Add(20 * time.Second); len(dls) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after max deliveries")
		}
		time.Sleep(50 * time.Millisecond)
		var err error
		if dls, _, err = l.DeadLetters(testCtx(t), "flaky", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	dl := dls[0]
	if dl.GetReason() != DeadMaxDeliveries || dl.GetDeliveries() != 3 || dl.GetGroup() != "flaky" || dl.GetMessage().GetEventId() != "dl-1" ||
		dl.GetMessage().GetOrderStatus().GetOid() != 9 {
		t.Fatalf("dead letter %v", dl)
	}
	sub.none(t, 700*time.Millisecond) // no further redelivery

	// Requeue: delivered again to the group (a replay copy), then gone from the list.
	group, err := l.Requeue(testCtx(t), dl.GetId())
	if err != nil || group != "flaky" {
		t.Fatalf("requeue: %s %v", group, err)
	}
	d := sub.next(t)
	if d.GetMessage().GetEventId() != "dl-1" || !d.GetMessage().GetReplayed() || d.GetDeliveryCount() != 1 {
		t.Fatalf("requeued delivery %v", d)
	}
	if err := sub.s.Ack(testCtx(t), []string{d.GetDeliveryId()}, Ack, 0, nil); err != nil {
		t.Fatal(err)
	}
	if dls, _, _ := l.DeadLetters(testCtx(t), "", 0, ""); len(dls) != 0 {
		t.Fatalf("dead letters after requeue: %v", dls)
	}
	if _, err := l.Requeue(testCtx(t), dl.GetId()); err == nil {
		t.Fatal("requeue twice succeeded")
	}

	t.Run("nack_and_terminate", func(t *testing.T) {
		s := subscribe(t, l, GroupOptions{Name: "picky", AckTimeout: time.Minute, MaxDeliveries: 5}, 10)
		publish(t, l, plainMsg("nk-1", "shop1", EventOrderCreated, map[string]any{"oid": 10, "createTime": 88}))
		d := s.next(t)
		if err := s.s.Ack(testCtx(t), []string{d.GetDeliveryId()}, Nack, 0, nil); err != nil {
			t.Fatal(err)
		}
		d = s.next(t)
		if d.GetDeliveryCount() != 2 {
			t.Fatalf("after NACK: count %d", d.GetDeliveryCount())
		}
		if err := s.s.Ack(testCtx(t), []string{d.GetDeliveryId()}, Terminate, 0, nil); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			dls, _, err := l.DeadLetters(testCtx(t), "picky", 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(dls) == 1 && dls[0].GetReason() == DeadTerminated && dls[0].GetMessage().GetEventId() == "nk-1" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("terminated message not a dead letter: %v", dls)
			}
		}
	})
}

func TestListGetReplay(t *testing.T) {
	l, _ := openLog(t)
	ctx := testCtx(t)
	replayers := subscribe(t, l, GroupOptions{Name: "replayers", OpenIDs: []string{"shopA"}}, 100)
	bystander := subscribe(t, l, GroupOptions{Name: "bystander"}, 100)
	start := time.Now().Add(-time.Second)
	for i := range 6 {
		shop := "shopA"
		if i%3 == 2 {
			shop = "shopB"
		}
		publish(t, l, plainMsg(fmt.Sprintf("l-%d", i), shop, EventOrderCreated, map[string]any{"oid": 100 + i, "createTime": 10 + i}))
	}
	for range 4 {
		d := replayers.next(t)
		_ = replayers.s.Ack(ctx, []string{d.GetDeliveryId()}, Ack, 0, nil)
	}
	for range 6 {
		d := bystander.next(t)
		_ = bystander.s.Ack(ctx, []string{d.GetDeliveryId()}, Ack, 0, nil)
	}

	t.Run("list_pages", func(t *testing.T) {
		var ids []string
		token := ""
		for page := 0; ; page++ {
			msgs, next, err := l.List(ctx, Query{OpenIDs: []string{"shopA"}, PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				ids = append(ids, m.GetEventId())
			}
			if next == "" {
				break
			}
			if page > 5 {
				t.Fatal("paging does not end")
			}
			token = next
		}
		if got := strings.Join(ids, ","); got != "l-0,l-1,l-3,l-4" {
			t.Fatalf("listed %s", got)
		}
		all, next, err := l.List(ctx, Query{})
		if err != nil || len(all) != 6 || next != "" || all[0].GetSequence() == 0 || all[0].GetReceiveTime() == nil {
			t.Fatalf("list all: %d %q %v", len(all), next, err)
		}
		none, _, err := l.List(ctx, Query{End: start})
		if err != nil || len(none) != 0 {
			t.Fatalf("list before start: %d %v", len(none), err)
		}
		if _, _, err := l.List(ctx, Query{OpenIDs: []string{"shopB"}, PageToken: token}); err == nil {
			t.Fatal("token reused with other filters accepted")
		}
	})
	t.Run("get", func(t *testing.T) {
		m, err := l.Get(ctx, "l-4")
		if err != nil || m.GetOpenId() != "shopA" || m.GetOrderCreated().GetOid() != 104 {
			t.Fatalf("get: %v %v", m, err)
		}
		if _, err := l.Get(ctx, "nope"); err != ErrNotFound {
			t.Fatalf("get unknown: %v", err)
		}
	})
	t.Run("replay_to_one_group", func(t *testing.T) {
		n, err := l.Replay(ctx, "replayers", start, time.Time{})
		if err != nil || n != 4 {
			t.Fatalf("replay: %d %v", n, err)
		}
		got := map[string]bool{}
		for range 4 {
			d := replayers.next(t)
			if !d.GetMessage().GetReplayed() || d.GetMessage().GetOpenId() != "shopA" {
				t.Fatalf("replayed %v", d.GetMessage())
			}
			got[d.GetMessage().GetEventId()] = true
			_ = replayers.s.Ack(ctx, []string{d.GetDeliveryId()}, Ack, 0, nil)
		}
		if len(got) != 4 {
			t.Fatalf("replayed %v", got)
		}
		bystander.none(t, 300*time.Millisecond)
		// Replay copies are not listed as messages.
		if all, _, _ := l.List(ctx, Query{}); len(all) != 6 {
			t.Fatalf("list after replay: %d", len(all))
		}
		if _, err := l.Replay(ctx, "nobody", start, time.Time{}); err != ErrGroupNotFound {
			t.Fatalf("replay to unknown group: %v", err)
		}
	})
}
