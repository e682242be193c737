package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/internal/msgtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// openGroups opens a log and its consumer groups on a fresh embedded NATS
// store.
func openGroups(t testing.TB) (*Groups, *msglog.Log, *store.Store) {
	t.Helper()
	l, st := msgtest.OpenLog(t)
	g, err := Open(msgtest.Ctx(t), l, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return g, l, st
}

// countObserver counts what the groups report.
type countObserver struct {
	message.NopObserver
	delivered, dead atomic.Int64
}

func (o *countObserver) Delivered(context.Context, string, string, string)    { o.delivered.Add(1) }
func (o *countObserver) DeadLettered(context.Context, string, string, string) { o.dead.Add(1) }

// orderOid is the order id of an order status message (0 for another).
func orderOid(m *message.Message) int64 {
	if p, ok := m.Payload.(*message.OrderStatus); ok {
		return p.Oid
	}
	return 0
}

// subscriber runs a Session and collects its deliveries.
type subscriber struct {
	s  *Session
	ch chan Delivery
}

func subscribe(t *testing.T, g *Groups, o GroupOptions, maxInFlight int) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, _, err := g.Subscribe(ctx, o, maxInFlight)
	if err != nil {
		t.Fatal(err)
	}
	sub := &subscriber{s: s, ch: make(chan Delivery, 10000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx, func(d Delivery) error { sub.ch <- d; return nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return sub
}

func (s *subscriber) next(t *testing.T) Delivery {
	t.Helper()
	select {
	case d := <-s.ch:
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery within 20s")
		return Delivery{}
	}
}

func (s *subscriber) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case d := <-s.ch:
		t.Fatalf("unexpected delivery %s", d.Message.EventID)
	case <-time.After(wait):
	}
}

func TestGroups_ShareLoadExactlyOnce(t *testing.T) {
	g, l, _ := openGroups(t)
	a := subscribe(t, g, GroupOptions{Name: "billing"}, 10)
	b := subscribe(t, g, GroupOptions{Name: "billing"}, 10)
	other := subscribe(t, g, GroupOptions{Name: "audit", EventTypes: []string{message.EventOrderPaid}}, 1000)

	const n = 200
	for i := range n {
		ev := message.EventOrderCreated
		if i%2 == 0 {
			ev = message.EventOrderPaid
		}
		msgtest.Publish(t, l, msgtest.Plain(fmt.Sprintf("ev-%03d", i), "shop1", ev, map[string]any{"oid": 1000 + i, "status": 30, "updateTime": 5000 + i, "createTime": 5000 + i}))
	}
	seen := map[string]string{}
	per := map[string]int{}
	ctx := msgtest.Ctx(t)
	for len(seen) < n {
		var d Delivery
		var who string
		select {
		case d = <-a.ch:
			who = "a"
		case d = <-b.ch:
			who = "b"
		case <-ctx.Done():
			t.Fatalf("only %d of %d delivered", len(seen), n)
		}
		id := d.Message.EventID
		if prev, dup := seen[id]; dup {
			t.Fatalf("%s delivered twice in one group (to %s and %s)", id, prev, who)
		}
		seen[id], per[who] = who, per[who]+1
		s := a.s
		if who == "b" {
			s = b.s
		}
		if err := s.Ack(ctx, []string{d.ID}, Ack, 0, nil); err != nil {
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
		if d.Message.Event != message.EventOrderPaid || got[d.Message.EventID] {
			t.Fatalf("audit got %s %s", d.Message.Event, d.Message.EventID)
		}
		got[d.Message.EventID] = true
	}

	t.Run("conflicting_settings_refused", func(t *testing.T) {
		_, _, err := g.Group(ctx, GroupOptions{Name: "audit", EventTypes: []string{message.EventOrderCreated}})
		if err == nil || !strings.Contains(err.Error(), "filters") {
			t.Fatalf("err = %v", err)
		}
		if _, _, err := g.Group(ctx, GroupOptions{Name: "audit", AckTimeout: time.Minute}); err == nil {
			t.Fatal("other ack timeout accepted")
		}
		if _, _, err := g.Group(ctx, GroupOptions{Name: "audit"}); err != nil {
			t.Fatalf("joining with unset settings: %v", err)
		}
	})
	t.Run("ack_of_other_group_refused", func(t *testing.T) {
		msgtest.Publish(t, l, msgtest.Plain("ev-x", "shop1", message.EventOrderCreated, map[string]any{"oid": 1, "createTime": 1}))
		var d Delivery
		select { // either subscriber of the group
		case d = <-a.ch:
		case d = <-b.ch:
		case <-ctx.Done():
			t.Fatal("ev-x not delivered")
		}
		if _, err := g.Ack(ctx, "audit", []string{d.ID}, Ack, 0, nil); err == nil {
			t.Fatal("ack with another group's name accepted")
		}
		if _, err := g.Ack(ctx, "billing", []string{"bm90LWEtZGVsaXZlcnk"}, Ack, 0, nil); err == nil {
			t.Fatal("forged delivery id accepted")
		}
		if n, err := g.Ack(ctx, "billing", []string{d.ID}, Ack, 0, nil); err != nil || n != 1 {
			t.Fatalf("ack: %d %v", n, err)
		}
	})
}

func TestRedeliveryAndDeadLetters(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	obs := &countObserver{}
	g, err := Open(msgtest.Ctx(t), l, Config{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = g.RunDeadLetters(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	sub := subscribe(t, g, GroupOptions{Name: "flaky", AckTimeout: 300 * time.Millisecond, MaxDeliveries: 3}, 10)
	msgtest.Publish(t, l, msgtest.Plain("dl-1", "shop1", message.EventOrderPaid, map[string]any{"oid": 9, "status": 30, "updateTime": 77}))

	// Never acknowledged: delivered again after the ack timeout, 3 times.
	for want := uint32(1); want <= 3; want++ {
		d := sub.next(t)
		if d.Message.EventID != "dl-1" || d.Count != want {
			t.Fatalf("delivery %d: %s count %d", want, d.Message.EventID, d.Count)
		}
	}
	// Then it is a dead letter.
	var dls []DeadLetter
	for deadline := time.Now().Add(20 * time.Second); len(dls) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after max deliveries")
		}
		time.Sleep(50 * time.Millisecond)
		var err error
		if dls, _, err = g.DeadLetters(msgtest.Ctx(t), "flaky", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	dl := dls[0]
	if dl.Reason != DeadMaxDeliveries || dl.Deliveries != 3 || dl.Group != "flaky" || dl.Message == nil || dl.Message.EventID != "dl-1" ||
		dl.DeadTime.IsZero() || orderOid(dl.Message) != 9 {
		t.Fatalf("dead letter %+v", dl)
	}
	sub.none(t, 700*time.Millisecond) // no further redelivery
	if d, dl := obs.delivered.Load(), obs.dead.Load(); d != 3 || dl != 1 {
		t.Fatalf("observer: %d delivered, %d dead-lettered; want 3 and 1", d, dl)
	}

	// Requeue: delivered again to the group (a replay copy), then gone from the list.
	group, err := g.Requeue(msgtest.Ctx(t), dl.ID)
	if err != nil || group != "flaky" {
		t.Fatalf("requeue: %s %v", group, err)
	}
	d := sub.next(t)
	if d.Message.EventID != "dl-1" || !d.Message.Replayed || d.Count != 1 {
		t.Fatalf("requeued delivery %v", d)
	}
	if err := sub.s.Ack(msgtest.Ctx(t), []string{d.ID}, Ack, 0, nil); err != nil {
		t.Fatal(err)
	}
	if dls, _, _ := g.DeadLetters(msgtest.Ctx(t), "", 0, ""); len(dls) != 0 {
		t.Fatalf("dead letters after requeue: %v", dls)
	}
	if _, err := g.Requeue(msgtest.Ctx(t), dl.ID); err == nil {
		t.Fatal("requeue twice succeeded")
	}

	t.Run("nack_and_terminate", func(t *testing.T) {
		s := subscribe(t, g, GroupOptions{Name: "picky", AckTimeout: time.Minute, MaxDeliveries: 5}, 10)
		msgtest.Publish(t, l, msgtest.Plain("nk-1", "shop1", message.EventOrderCreated, map[string]any{"oid": 10, "createTime": 88}))
		d := s.next(t)
		if err := s.s.Ack(msgtest.Ctx(t), []string{d.ID}, Nack, 0, nil); err != nil {
			t.Fatal(err)
		}
		d = s.next(t)
		if d.Count != 2 {
			t.Fatalf("after NACK: count %d", d.Count)
		}
		if err := s.s.Ack(msgtest.Ctx(t), []string{d.ID}, Terminate, 0, nil); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			dls, _, err := g.DeadLetters(msgtest.Ctx(t), "picky", 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(dls) == 1 && dls[0].Reason == DeadTerminated && dls[0].Message != nil && dls[0].Message.EventID == "nk-1" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("terminated message not a dead letter: %v", dls)
			}
		}
	})
}

func TestReplay(t *testing.T) {
	g, l, _ := openGroups(t)
	ctx := msgtest.Ctx(t)
	replayers := subscribe(t, g, GroupOptions{Name: "replayers", OpenIDs: []string{"shopA"}}, 100)
	bystander := subscribe(t, g, GroupOptions{Name: "bystander"}, 100)
	start := time.Now().Add(-time.Second)
	for i := range 6 {
		shop := "shopA"
		if i%3 == 2 {
			shop = "shopB"
		}
		msgtest.Publish(t, l, msgtest.Plain(fmt.Sprintf("l-%d", i), shop, message.EventOrderCreated, map[string]any{"oid": 100 + i, "createTime": 10 + i}))
	}
	for range 4 {
		d := replayers.next(t)
		_ = replayers.s.Ack(ctx, []string{d.ID}, Ack, 0, nil)
	}
	for range 6 {
		d := bystander.next(t)
		_ = bystander.s.Ack(ctx, []string{d.ID}, Ack, 0, nil)
	}

	t.Run("replay_to_one_group", func(t *testing.T) {
		n, err := g.Replay(ctx, "replayers", start, time.Time{})
		if err != nil || n != 4 {
			t.Fatalf("replay: %d %v", n, err)
		}
		got := map[string]bool{}
		for range 4 {
			d := replayers.next(t)
			if !d.Message.Replayed || d.Message.OpenID != "shopA" {
				t.Fatalf("replayed %+v", d.Message)
			}
			got[d.Message.EventID] = true
			_ = replayers.s.Ack(ctx, []string{d.ID}, Ack, 0, nil)
		}
		if len(got) != 4 {
			t.Fatalf("replayed %v", got)
		}
		bystander.none(t, 300*time.Millisecond)
		// Replay copies are not listed as messages.
		if all, _, _ := l.List(ctx, msglog.Query{}); len(all) != 6 {
			t.Fatalf("list after replay: %d", len(all))
		}
		if _, err := g.Replay(ctx, "nobody", start, time.Time{}); err != ErrGroupNotFound {
			t.Fatalf("replay to unknown group: %v", err)
		}
	})
}

// pullAll pulls group until it holds a delivery of every event id in want
// and returns the latest of each.
func pullAll(t *testing.T, g *Groups, o GroupOptions, want ...string) map[string]Delivery {
	t.Helper()
	got := map[string]Delivery{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("group %s: %d of %d delivered", o.Name, len(got), len(want))
		}
		ds, err := g.Pull(msgtest.Ctx(t), o, 100, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got[d.Message.EventID] = d
		}
	}
	return got
}

func wantRefused(t *testing.T, err error, field, desc string) {
	t.Helper()
	var inv *message.InvalidError
	if !errors.As(err, &inv) || inv.Field != field || inv.Description != desc {
		t.Fatalf("err = %v, want a field violation %s: %q", err, field, desc)
	}
}

// Delivery ids are sealed: only ids this store issued verify (on every
// replica), and only for the delivery's shop and group.
func TestDeliveryID_SealedAndBound(t *testing.T) {
	g, l, st := openGroups(t)
	ctx := msgtest.Ctx(t)
	rl, err := msglog.Open(ctx, st.JetStream(), msglog.Config{}) // a second replica on the same store
	if err != nil {
		t.Fatal(err)
	}
	replica, err := Open(ctx, rl, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(replica.idKey, g.idKey) || len(g.idKey) != deliveryKeyLen {
		t.Fatal("replicas of one store hold different delivery-id keys")
	}
	other, _, _ := openGroups(t) // another store: another key
	if bytes.Equal(other.idKey, g.idKey) {
		t.Fatal("two stores share a delivery-id key")
	}

	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = g.RunDeadLetters(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	o := GroupOptions{Name: "g", Start: StartBeginning, AckTimeout: 300 * time.Millisecond, MaxDeliveries: 100}
	msgtest.Publish(t, l, msgtest.Plain("sa-1", "shopA", message.EventOrderNote, map[string]any{"oid": 1}))
	msgtest.Publish(t, l, msgtest.Plain("sb-1", "shopB", message.EventOrderNote, map[string]any{"oid": 2}))
	ds := pullAll(t, g, o, "sa-1", "sb-1")
	idA, idB := ds["sa-1"].ID, ds["sb-1"].ID
	onlyA := ShopFilter(func(openID string) bool { return openID == "shopA" })

	raw, _ := base64.RawURLEncoding.DecodeString(idB)
	refused := map[string][]string{
		"old_scheme": {base64.RawURLEncoding.EncodeToString([]byte("$JS.ACK." + msglog.StreamName + ".g.1.2.2." + strconv.FormatInt(time.Now().UnixNano(), 10) + ".0"))},
		"garbage":    {"", "AAAA", "not base64!", base64.RawURLEncoding.EncodeToString([]byte{deliveryIDv1, 0, 0})},
		"too_long":   {strings.Repeat("A", maxDeliveryIDLen+4)},
		"truncated":  {idB[:len(idB)-3]},
		"extended":   {idB + "AA"},
		"other_shop": {idB},
		"other_store": {func() string {
			o := *g
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
				for _, lg := range []*Groups{g, replica} {
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
		_, err := g.Ack(ctx, "h", []string{idA}, Terminate, 0, onlyA)
		wantRefused(t, err, "ack.delivery_ids[0]", "a delivery of another consumer group: acknowledge it with the group it was delivered to")
	})
	t.Run("one_bad_id_refuses_the_batch", func(t *testing.T) {
		_, err := g.Ack(ctx, "g", []string{idA, idB}, Ack, 0, onlyA)
		wantRefused(t, err, "ack.delivery_ids[1]", notYours)
	})

	// Nothing above acted: both are delivered again, no dead letter exists.
	ds = pullAll(t, g, o, "sa-1", "sb-1")
	for _, d := range ds {
		if d.Count < 2 {
			t.Fatalf("%s not redelivered: %v", d.Message.EventID, d)
		}
	}
	if dls, _, err := g.DeadLetters(ctx, "", 0, ""); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters after refused acks: %v %v", dls, err)
	}
	// The receiver's ids work, on any replica, within the filter.
	if n, err := replica.Ack(ctx, "g", []string{ds["sa-1"].ID}, Ack, 0, onlyA); err != nil || n != 1 {
		t.Fatalf("shop A's own id on the other replica: %d %v", n, err)
	}
	if n, err := g.Ack(ctx, "g", []string{ds["sb-1"].ID}, Ack, 0, nil); err != nil || n != 1 {
		t.Fatalf("B's id for an all-shops caller: %d %v", n, err)
	}
	if left, err := g.Pull(ctx, o, 10, time.Second); err != nil || len(left) != 0 {
		t.Fatalf("after the acks: %v %v", left, err)
	}
}

// A session checks every id before it acknowledges any: one bad id leaves
// its own deliveries untouched.
func TestSession_AckChecksEveryIDFirst(t *testing.T) {
	g, l, _ := openGroups(t)
	ctx := msgtest.Ctx(t)
	sub := subscribe(t, g, GroupOptions{Name: "sg", AckTimeout: 500 * time.Millisecond}, 10)
	msgtest.Publish(t, l, msgtest.Plain("ss-1", "shopA", message.EventOrderNote, map[string]any{"oid": 1}))
	d := sub.next(t)
	err := sub.s.Ack(ctx, []string{d.ID, "Zm9yZ2Vk"}, Terminate, 0, nil)
	wantRefused(t, err, "ack.delivery_ids[1]", notYours)
	again := sub.next(t) // not terminated: delivered again after the ack timeout
	if again.Message.EventID != "ss-1" || again.Count != 2 {
		t.Fatalf("redelivery %v", again)
	}
	// Its own delivery needs no shop check (it was delivered to this
	// caller); another session's id of a shop outside the filter does.
	noShop := ShopFilter(func(string) bool { return false })
	if err := sub.s.Ack(ctx, []string{again.ID}, Ack, 0, noShop); err != nil {
		t.Fatal(err)
	}
	msgtest.Publish(t, l, msgtest.Plain("ss-2", "shopB", message.EventOrderNote, map[string]any{"oid": 2}))
	d2 := sub.next(t)
	other, _, err := g.Subscribe(ctx, GroupOptions{Name: "sg"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, other.Ack(ctx, []string{d2.ID}, Ack, 0, noShop), "ack.delivery_ids[0]", notYours)
	if err := other.Ack(ctx, []string{d2.ID}, Ack, 0, nil); err != nil {
		t.Fatalf("another session's id for an all-shops caller: %v", err)
	}
	sub.none(t, time.Second)
}

// A subscriber that leaves releases its deliveries to the rest of the group
// once: its own pull request, still open on the server, must not take them
// back and release them again until they run out of deliveries and become
// dead letters.
func TestSession_LeavingReleasesOnce(t *testing.T) {
	g, l, _ := openGroups(t)
	runCtx, cancelRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = g.RunDeadLetters(runCtx) }()
	t.Cleanup(func() { cancelRun(); <-done })

	o := GroupOptions{Name: "leavers", AckTimeout: time.Minute, MaxDeliveries: 5}
	ctx, leave := context.WithCancel(context.Background())
	first, _, err := g.Subscribe(ctx, o, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Delivery, 10)
	ran := make(chan error, 1)
	go func() { ran <- first.Run(ctx, func(d Delivery) error { got <- d; return nil }) }()
	msgtest.Publish(t, l, msgtest.Plain("lv-1", "shop1", message.EventOrderNote, map[string]any{"oid": 1}))
	msgtest.Publish(t, l, msgtest.Plain("lv-2", "shop1", message.EventOrderNote, map[string]any{"oid": 2}))
	for range 2 {
		select {
		case <-got:
		case <-time.After(20 * time.Second):
			t.Fatal("no delivery")
		}
	}
	leave() // the subscriber leaves with both unacknowledged
	<-ran

	next := subscribe(t, g, o, 10)
	seen := map[string]uint32{}
	for len(seen) < 2 {
		var d Delivery
		select {
		case d = <-next.ch:
		case <-time.After(20 * time.Second):
			dls, _, _ := g.DeadLetters(msgtest.Ctx(t), "", 0, "")
			info, _ := l.Stream().Consumer(msgtest.Ctx(t), "leavers")
			t.Fatalf("released deliveries not redelivered: seen %v, dead letters %v, consumer %+v", seen, dls, info.CachedInfo())
		}
		seen[d.Message.EventID] = d.Count
		if err := next.s.Ack(msgtest.Ctx(t), []string{d.ID}, Ack, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	for id, n := range seen {
		if n != 2 {
			t.Errorf("%s: delivery count %d after one release, want 2", id, n)
		}
	}
	if dls, _, err := g.DeadLetters(msgtest.Ctx(t), "", 0, ""); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters: %d %v", len(dls), err)
	}
}
