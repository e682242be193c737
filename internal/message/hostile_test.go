package message

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// pullAll pulls group until it holds a delivery of every event id in want
// and returns the latest of each.
func pullAll(t *testing.T, l *Log, o GroupOptions, want ...string) map[string]*gatewayv1.Delivery {
	t.Helper()
	got := map[string]*gatewayv1.Delivery{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("group %s: %d of %d delivered", o.Name, len(got), len(want))
		}
		ds, err := l.Pull(testCtx(t), o, 100, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got[d.GetMessage().GetEventId()] = d
		}
	}
	return got
}

func wantRefused(t *testing.T, err error, field, desc string) {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != field || inv.Description != desc {
		t.Fatalf("err = %v, want a field violation %s: %q", err, field, desc)
	}
}

// Delivery ids are sealed: only ids this store issued verify (on every
// replica), and only for the delivery's shop and group.
func TestDeliveryID_SealedAndBound(t *testing.T) {
	l, st := openLog(t)
	ctx := testCtx(t)
	replica, err := Open(ctx, st.JetStream(), Config{}) // a second replica on the same store
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(replica.idKey, l.idKey) || len(l.idKey) != deliveryKeyLen {
		t.Fatal("replicas of one store hold different delivery-id keys")
	}
	other, _ := openLog(t) // another store: another key
	if bytes.Equal(other.idKey, l.idKey) {
		t.Fatal("two stores share a delivery-id key")
	}

	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.RunDeadLetters(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	o := GroupOptions{Name: "g", Start: StartBeginning, AckTimeout: 300 * time.Millisecond, MaxDeliveries: 100}
	publish(t, l, plainMsg("sa-1", "shopA", EventOrderNote, map[string]any{"oid": 1}))
	publish(t, l, plainMsg("sb-1", "shopB", EventOrderNote, map[string]any{"oid": 2}))
	ds := pullAll(t, l, o, "sa-1", "sb-1")
	idA, idB := ds["sa-1"].GetDeliveryId(), ds["sb-1"].GetDeliveryId()
	onlyA := ShopFilter(func(openID string) bool { return openID == "shopA" })

	raw, _ := base64.RawURLEncoding.DecodeString(idB)
	refused := map[string][]string{
		"old_scheme": {base64.RawURLEncoding.EncodeToString([]byte("$JS.ACK." + StreamName + ".g.1.2.2." + strconv.FormatInt(time.Now().UnixNano(), 10) + ".0"))},
		"garbage":    {"", "AAAA", "not base64!", base64.RawURLEncoding.EncodeToString([]byte{deliveryIDv1, 0, 0})},
		"too_long":   {strings.Repeat("A", maxDeliveryIDLen+4)},
		"truncated":  {idB[:len(idB)-3]},
		"extended":   {idB + "AA"},
		"other_shop": {idB},
		"other_store": {func() string {
			o := *l
			o.idKey = other.idKey
			n, k := binary.Uvarint(raw[1:])
			return o.deliveryID(string(raw[1+k:1+k+int(n)]), "shopA") // B's ack subject, resealed for shop A by another store
		}()},
	}
	for i := range raw { // every bit of every byte matters
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(raw)
			b[i] ^= bit
			refused["tampered"] = append(refused["tampered"], base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for name, ids := range refused {
		t.Run(name, func(t *testing.T) {
			for _, id := range ids {
				for _, lg := range []*Log{l, replica} {
					n, err := lg.Ack(ctx, "g", []string{id}, Terminate, 0, onlyA)
					if n != 0 {
						t.Fatalf("%d acknowledged", n)
					}
					wantRefused(t, err, "ack.delivery_ids[0]", notYours)
				}
			}
		})
	}
	t.Run("other_group", func(t *testing.T) {
		_, err := l.Ack(ctx, "h", []string{idA}, Terminate, 0, onlyA)
		wantRefused(t, err, "ack.delivery_ids[0]", "a delivery of another consumer group: acknowledge it with the group it was delivered to")
	})
	t.Run("one_bad_id_refuses_the_batch", func(t *testing.T) {
		_, err := l.Ack(ctx, "g", []string{idA, idB}, Ack, 0, onlyA)
		wantRefused(t, err, "ack.delivery_ids[1]", notYours)
	})

	// Nothing above acted: both are delivered again, no dead letter exists.
	ds = pullAll(t, l, o, "sa-1", "sb-1")
	for _, d := range ds {
		if d.GetDeliveryCount() < 2 {
			t.Fatalf("%s not redelivered: %v", d.GetMessage().GetEventId(), d)
		}
	}
	if dls, _, err := l.DeadLetters(ctx, "", 0, ""); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters after refused acks: %v %v", dls, err)
	}
	// The receiver's ids work, on any replica, within the filter.
	if n, err := replica.Ack(ctx, "g", []string{ds["sa-1"].GetDeliveryId()}, Ack, 0, onlyA); err != nil || n != 1 {
		t.Fatalf("shop A's own id on the other replica: %d %v", n, err)
	}
	if n, err := l.Ack(ctx, "g", []string{ds["sb-1"].GetDeliveryId()}, Ack, 0, nil); err != nil || n != 1 {
		t.Fatalf("B's id for an all-shops caller: %d %v", n, err)
	}
	if left, err := l.Pull(ctx, o, 10, time.Second); err != nil || len(left) != 0 {
		t.Fatalf("after the acks: %v %v", left, err)
	}
}

// A session checks every id before it acknowledges any: one bad id leaves
// its own deliveries untouched.
func TestSession_AckChecksEveryIDFirst(t *testing.T) {
	l, _ := openLog(t)
	ctx := testCtx(t)
	sub := subscribe(t, l, GroupOptions{Name: "sg", AckTimeout: 500 * time.Millisecond}, 10)
	publish(t, l, plainMsg("ss-1", "shopA", EventOrderNote, map[string]any{"oid": 1}))
	d := sub.next(t)
	err := sub.s.Ack(ctx, []string{d.GetDeliveryId(), "Zm9yZ2Vk"}, Terminate, 0, nil)
	wantRefused(t, err, "ack.delivery_ids[1]", notYours)
	again := sub.next(t) // not terminated: delivered again after the ack timeout
	if again.GetMessage().GetEventId() != "ss-1" || again.GetDeliveryCount() != 2 {
		t.Fatalf("redelivery %v", again)
	}
	// Its own delivery needs no shop check (it was delivered to this
	// caller); another session's id of a shop outside the filter does.
	noShop := ShopFilter(func(string) bool { return false })
	if err := sub.s.Ack(ctx, []string{again.GetDeliveryId()}, Ack, 0, noShop); err != nil {
		t.Fatal(err)
	}
	publish(t, l, plainMsg("ss-2", "shopB", EventOrderNote, map[string]any{"oid": 2}))
	d2 := sub.next(t)
	other, _, err := l.Subscribe(ctx, GroupOptions{Name: "sg"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, other.Ack(ctx, []string{d2.GetDeliveryId()}, Ack, 0, noShop), "ack.delivery_ids[0]", notYours)
	if err := other.Ack(ctx, []string{d2.GetDeliveryId()}, Ack, 0, nil); err != nil {
		t.Fatalf("another session's id for an all-shops caller: %v", err)
	}
	sub.none(t, time.Second)
}

// Pushes are judged by their own time: older than the de-duplication window
// → acknowledged, not stored, counted, logged; more than MaxFutureSkew
// ahead → refused; undated → stored.
func TestIntake_Freshness(t *testing.T) {
	l, _ := openLog(t)
	k := mustKey(t, "ks1", vectorKey)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, nil))
	in := NewIntake(l, IntakeConfig{Keys: []Key{k}, Logger: logger, Now: func() time.Time { return now }})
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	const marker = "payload-marker-e41"
	push := func(t *testing.T, eventID string, createTime any) (int, string) {
		t.Helper()
		m := map[string]any{"eventId": eventID, "openId": "shop1", "appKey": "ks1", "event": EventOrderNote, "info": `{"note":"` + marker + `"}`}
		if createTime != nil {
			m["createTime"] = createTime
		}
		plain, _ := json.Marshal(m)
		resp, err := http.Post(srv.URL, "text/plain;charset=utf-8", strings.NewReader(k.Encrypt(plain)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	stored := func(eventID string) bool {
		_, err := l.Get(testCtx(t), eventID)
		return err == nil
	}
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	window := DefaultDedupeWindow

	for _, tc := range []struct {
		name       string
		createTime any
		code       int
		stored     bool
	}{
		{"stale", ms(-window - time.Millisecond), 200, false},
		{"stale_as_string", strconv.FormatInt(ms(-window-time.Hour), 10), 200, false},
		{"just_inside_window", ms(-window + time.Second), 200, true},
		{"future", ms(MaxFutureSkew + time.Second), 400, false},
		{"within_skew", ms(MaxFutureSkew - time.Second), 200, true},
		{"undated", nil, 200, true},
		{"seconds_not_millis", now.Unix(), 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := in.Stats()
			code, body := push(t, "fr-"+tc.name, tc.createTime)
			if code != tc.code || (code == 200) != (body == `{"result":1}`) {
				t.Fatalf("%d %s, want %d", code, body, tc.code)
			}
			if got := stored("fr-" + tc.name); got != tc.stored {
				t.Fatalf("stored = %v, want %v", got, tc.stored)
			}
			after := in.Stats()
			switch tc.name {
			case "stale", "stale_as_string":
				if after.Stale != before.Stale+1 || after.Stored != before.Stored {
					t.Fatalf("stats %+v → %+v", before, after)
				}
			case "future":
				if after.Rejected[ReasonFuture] != before.Rejected[ReasonFuture]+1 || !strings.Contains(body, `"error":"future"`) {
					t.Fatalf("stats %+v → %+v, body %s", before, after, body)
				}
			default:
				if after.Stored != before.Stored+1 {
					t.Fatalf("stats %+v → %+v", before, after)
				}
			}
		})
	}
	// A replayed stale push stays out however often it comes.
	for range 3 {
		if code, _ := push(t, "fr-stale", ms(-window-time.Minute)); code != 200 || stored("fr-stale") {
			t.Fatal("replayed stale push stored")
		}
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, `"level":"WARN","msg":"message: intake: stale push not stored`) || !strings.Contains(out, `"event_id":"fr-stale"`) {
		t.Fatalf("no WARN line for the stale push:\n%s", out)
	}
	if strings.Contains(out, marker) {
		t.Fatal("a push's payload reached the log")
	}

	info, err := l.Stream().Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Duplicates != window+MaxFutureSkew {
		t.Fatalf("stream duplicate window %s, want %s", info.Config.Duplicates, window+MaxFutureSkew)
	}
}

// A subscriber that leaves releases its deliveries to the rest of the group
// once: its own pull request, still open on the server, must not take them
// back and release them again until they run out of deliveries and become
// dead letters.
func TestSession_LeavingReleasesOnce(t *testing.T) {
	l, _ := openLog(t)
	runCtx, cancelRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.RunDeadLetters(runCtx) }()
	t.Cleanup(func() { cancelRun(); <-done })

	o := GroupOptions{Name: "leavers", AckTimeout: time.Minute, MaxDeliveries: 5}
	ctx, leave := context.WithCancel(context.Background())
	first, _, err := l.Subscribe(ctx, o, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *gatewayv1.Delivery, 10)
	ran := make(chan error, 1)
	go func() { ran <- first.Run(ctx, func(d *gatewayv1.Delivery) error { got <- d; return nil }) }()
	publish(t, l, plainMsg("lv-1", "shop1", EventOrderNote, map[string]any{"oid": 1}))
	publish(t, l, plainMsg("lv-2", "shop1", EventOrderNote, map[string]any{"oid": 2}))
	for range 2 {
		select {
		case <-got:
		case <-time.After(20 * time.Second):
			t.Fatal("no delivery")
		}
	}
	leave() // the subscriber leaves with both unacknowledged
	<-ran

	next := subscribe(t, l, o, 10)
	seen := map[string]uint32{}
	for len(seen) < 2 {
		var d *gatewayv1.Delivery
		select {
		case d = <-next.ch:
		case <-time.After(20 * time.Second):
			dls, _, _ := l.DeadLetters(testCtx(t), "", 0, "")
			info, _ := l.Stream().Consumer(testCtx(t), "leavers")
			t.Fatalf("released deliveries not redelivered: seen %v, dead letters %v, consumer %+v", seen, dls, info.CachedInfo())
		}
		seen[d.GetMessage().GetEventId()] = d.GetDeliveryCount()
		if err := next.s.Ack(testCtx(t), []string{d.GetDeliveryId()}, Ack, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	for id, n := range seen {
		if n != 2 {
			t.Errorf("%s: delivery count %d after one release, want 2", id, n)
		}
	}
	if dls, _, err := l.DeadLetters(testCtx(t), "", 0, ""); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters: %d %v", len(dls), err)
	}
}
