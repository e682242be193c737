package msglog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/internal/msgtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// A push is stored once per de-duplication id, and the stream remembers
// the ids for the dedupe window plus the future skew the intake allows.
func TestPublish_OncePerChange(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	ctx := msgtest.Ctx(t)
	info, err := l.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := message.DefaultDedupeWindow + message.MaxFutureSkew; info.Config.Duplicates != want {
		t.Fatalf("stream duplicate window %s, want %s", info.Config.Duplicates, want)
	}
	paid := map[string]any{"oid": 9, "status": 30, "updateTime": 77}
	first := msgtest.Plain("e-1", "shop1", message.EventOrderPaid, paid)
	again := msgtest.Plain("e-2", "shop1", message.EventOrderPaid, paid) // another event id, the same change
	for i, plain := range [][]byte{first, first, again} {
		p, err := message.ParsePush(plain)
		if err != nil {
			t.Fatal(err)
		}
		seq, dup, err := l.Publish(ctx, p, plain, i == 2)
		if err != nil || seq != 1 || dup != (i > 0) {
			t.Fatalf("publish %d: seq %d dup %v err %v", i, seq, dup, err)
		}
	}
	m, err := l.Get(ctx, "e-1")
	if err != nil || m.Reconciled || m.Sequence != 1 || m.ReceiveTime.IsZero() {
		t.Fatalf("get: %+v %v", m, err)
	}
	if _, err := l.Get(ctx, "e-2"); !errors.Is(err, msglog.ErrNotFound) {
		t.Fatalf("the duplicate was stored: %v", err)
	}
}

func TestListGet(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	ctx := msgtest.Ctx(t)
	start := time.Now().Add(-time.Second)
	for i := range 6 {
		shop := "shopA"
		if i%3 == 2 {
			shop = "shopB"
		}
		msgtest.Publish(t, l, msgtest.Plain(fmt.Sprintf("l-%d", i), shop, message.EventOrderCreated, map[string]any{"oid": 100 + i, "createTime": 10 + i}))
	}

	var token string
	t.Run("list_pages", func(t *testing.T) {
		var ids []string
		for page := 0; ; page++ {
			msgs, next, err := l.List(ctx, msglog.Query{OpenIDs: []string{"shopA"}, PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				ids = append(ids, m.EventID)
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
		all, next, err := l.List(ctx, msglog.Query{})
		if err != nil || len(all) != 6 || next != "" || all[0].Sequence == 0 || all[0].ReceiveTime.IsZero() {
			t.Fatalf("list all: %d %q %v", len(all), next, err)
		}
		none, _, err := l.List(ctx, msglog.Query{End: start})
		if err != nil || len(none) != 0 {
			t.Fatalf("list before start: %d %v", len(none), err)
		}
	})
	t.Run("tokens_refused", func(t *testing.T) {
		for _, tc := range []struct{ token, desc string }{
			{token, "the filters changed since the token was issued"},
			{"not a token!", "not a token returned by this list"},
			{msglog.PageToken(0, ""), "not a token returned by this list"},
		} {
			_, _, err := l.List(ctx, msglog.Query{OpenIDs: []string{"shopB"}, PageToken: tc.token})
			var inv *message.InvalidError
			if !errors.As(err, &inv) || inv.Field != "page_token" || inv.Description != tc.desc {
				t.Fatalf("token %q: %v", tc.token, err)
			}
		}
		_, _, err := l.List(ctx, msglog.Query{OpenIDs: make([]string, 17), EventTypes: make([]string, 16)})
		var inv *message.InvalidError
		if !errors.As(err, &inv) || inv.Field != "open_ids" {
			t.Fatalf("too many combinations: %v", err)
		}
	})
	t.Run("get", func(t *testing.T) {
		m, err := l.Get(ctx, "l-4")
		created, ok := m.Payload.(*message.OrderCreated)
		if err != nil || m.OpenID != "shopA" || !ok || created.Oid != 104 {
			t.Fatalf("get: %+v %v", m, err)
		}
		if _, err := l.Get(ctx, "nope"); err != msglog.ErrNotFound {
			t.Fatalf("get unknown: %v", err)
		}
	})
}
