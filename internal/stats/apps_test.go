package stats

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Two apps on two replicas: each app's calls show separately (the app
// filter and the per-app rows), the totals still hold all of them, and a
// shop filter still reads the shop alone.
func TestRecorderApps_StatsPerApp(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	clk := &clock{t: base.Add(30 * time.Second)}
	apps := func(c *Config) { c.Apps = []App{{Key: "ksA", Daily: 1000}, {Key: "ksB", Daily: 2000}} }
	r1 := newRecorder(t, st, "r1", clk, apps)
	r2 := newRecorder(t, st, "r2", clk, apps)
	for range 4 {
		r1.RecordApp("ksA", ok(orders, "shopA", time.Millisecond))
	}
	r2.RecordApp("ksA", fail(detail, "shopA", time.Millisecond, 21))
	for range 3 {
		r2.RecordApp("ksB", ok(shop, "shopB", time.Millisecond))
	}
	r1.RecordApp("ksB", ok(shop, "", time.Millisecond)) // an app-level call of B
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	all, err := r1.APIStatsFor(ctx, APIQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total.Calls != 9 || len(all.Apps) != 2 || all.Apps[0].AppKey != "ksA" || all.Apps[0].Total.Calls != 5 ||
		all.Apps[0].Total.Failures != 1 || all.Apps[1].AppKey != "ksB" || all.Apps[1].Total.Calls != 4 {
		t.Fatalf("all apps: total %d, rows %+v", all.Total.Calls, all.Apps)
	}
	a, err := r1.APIStatsFor(ctx, APIQuery{Window: "24h", AppKey: "ksA"})
	if err != nil {
		t.Fatal(err)
	}
	if a.AppKey != "ksA" || a.Total.Calls != 5 || find(a, orders).Calls != 4 || find(a, detail).Failures != 1 || find(a, shop).Calls != 0 ||
		len(a.Apps) != 1 || a.Apps[0].Total.Calls != 5 || !slices.Equal(a.Replicas, []string{"r1", "r2"}) {
		t.Fatalf("app A: %+v", a)
	}
	b, err := r2.APIStatsFor(ctx, APIQuery{AppKey: "ksB"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Total.Calls != 4 || find(b, shop).Calls != 4 || find(b, orders).Calls != 0 {
		t.Fatalf("app B: %+v", b)
	}
	s, err := r1.APIStatsFor(ctx, APIQuery{OpenID: "shopB", AppKey: "ksB"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total.Calls != 3 || len(s.Apps) != 0 {
		t.Fatalf("shop B of app B: %+v", s)
	}
	if _, err := r1.APIStatsFor(ctx, APIQuery{AppKey: "ksZ"}); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("an unknown app: %v", err)
	}
	// A recorder of one unnamed app has no app rows and knows no app.
	legacy := newRecorder(t, st, "r3", clk, nil)
	if rep, err := legacy.APIStatsFor(ctx, APIQuery{}); err != nil || len(rep.Apps) != 0 || rep.Total.Calls != 9 {
		t.Fatalf("legacy view: %+v %v", rep, err)
	}
	if _, err := legacy.APIStatsFor(ctx, APIQuery{AppKey: "ksA"}); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("legacy app filter: %v", err)
	}
}

// The quota view of two apps: each against its own quota (a launched app's
// 1 000 000, a test app's 100 000), the test app's test users per main
// account with their sub-accounts' calls, warnings per app.
func TestRecorderApps_QuotaPerApp(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ring, err := store.ParseKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := st.TokenStore(ctx, ring)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.Authorization{
		{OpenID: "boss", AppKey: "ksTest", TestUser: true},
		{OpenID: "clerk1", AppKey: "ksTest", TestUser: true, MainOpenID: "boss"},
		{OpenID: "clerk2", AppKey: "ksTest", TestUser: true, MainOpenID: "boss"},
		{OpenID: "solo", AppKey: "ksTest", TestUser: true},
		{OpenID: "merchant", AppKey: "ksLive"},
		{OpenID: "legacy", TestUser: true}, // stored before apps were told apart: the first app's
	} {
		a.Status, a.AccessToken, a.RefreshToken = store.StatusActive, "a", "r"
		if _, err := tokens.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: base.Add(10 * time.Second)}
	r := newRecorder(t, st, "r1", clk, func(c *Config) {
		c.Apps = []App{{Key: "ksLive", Daily: 1_000_000}, {Key: "ksTest", Daily: 100_000, TestUserDaily: 10}}
		c.Authorizations = tokens.ListMetadata
	})
	for id, n := range map[string]int{"boss": 3, "clerk1": 4, "clerk2": 2, "solo": 1} {
		for range n {
			r.RecordApp("ksTest", ok(orders, id, time.Millisecond))
		}
	}
	for range 5 {
		r.RecordApp("ksLive", ok(detail, "merchant", time.Millisecond))
	}
	rep, err := r.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Apps) != 2 || rep.Apps[0] != (AppQuota{"ksLive", use(5, 1_000_000), 0}) || rep.Apps[1] != (AppQuota{"ksTest", use(10, 100_000), 10}) {
		t.Fatalf("apps = %+v", rep.Apps)
	}
	if rep.AppDaily != use(15, 1_100_000) {
		t.Fatalf("all apps together = %+v", rep.AppDaily)
	}
	if len(rep.TestUsers) != 2 || rep.TestUsers[0].OpenID != "boss" || !slices.Equal(rep.TestUsers[0].SubOpenIDs, []string{"clerk1", "clerk2"}) ||
		rep.TestUsers[0].Daily != use(9, 10) || rep.TestUsers[0].AppKey != "ksTest" || rep.TestUsers[1].OpenID != "solo" || rep.TestUsers[1].Daily != use(1, 10) {
		t.Fatalf("test users = %+v", rep.TestUsers)
	}
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != QuotaTestUserDaily || rep.Warnings[0].AppKey != "ksTest" || rep.Warnings[0].Subject != "boss" {
		t.Fatalf("warnings = %+v", rep.Warnings)
	}
	for _, q := range rep.APIs {
		if q.AppKey == "" || (q.Method == orders) != (q.AppKey == "ksTest") {
			t.Fatalf("QPS rows not per app: %+v", rep.APIs)
		}
	}
	live, err := r.QuotaFor(ctx, "ksLive")
	if err != nil {
		t.Fatal(err)
	}
	if live.AppKey != "ksLive" || live.AppDaily != use(5, 1_000_000) || len(live.Apps) != 1 || len(live.TestUsers) != 0 || len(live.Warnings) != 0 {
		t.Fatalf("the launched app's view: %+v", live)
	}
	test, err := r.QuotaFor(ctx, "ksTest")
	if err != nil {
		t.Fatal(err)
	}
	if test.AppDaily != use(10, 100_000) || len(test.TestUsers) != 2 || len(test.Warnings) != 1 {
		t.Fatalf("the test app's view: %+v", test)
	}
	if _, err := r.QuotaFor(ctx, "nope"); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("unknown app: %v", err)
	}
	// Records of the first app without its key: a recorder whose first app
	// is the test app counts the legacy test user there.
	r2 := newRecorder(t, st, "r2", clk, func(c *Config) {
		c.Apps = []App{{Key: "ksTest", Daily: 100_000, TestUserDaily: 10}}
		c.Authorizations = tokens.ListMetadata
	})
	rep2, err := r2.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.TestUsers) != 3 || rep2.TestUsers[1].OpenID != "legacy" {
		t.Fatalf("legacy test user: %+v", rep2.TestUsers)
	}
}

func TestRecorderApps_ConfigRefusesBadApps(t *testing.T) {
	for _, apps := range [][]App{{{Key: "a.b"}}, {{Key: "x"}, {Key: "x"}}, {{Key: "y", Daily: -1}}} {
		if err := (Config{JetStream: nil, Apps: apps}).Validate(); err == nil {
			t.Errorf("%+v accepted", apps)
		}
	}
}

// Two apps on two replicas: each app's messages show separately (the app
// filter and the per-app rows, as for calls), the totals hold every
// message, a message of no configured app counts in the totals only, and
// the consumers' lag is reported with the filter too.
func TestRecorderApps_MessagesPerApp(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	clk := &clock{t: base.Add(30 * time.Second)}
	apps := func(c *Config) { c.Apps = []App{{Key: "ksA"}, {Key: "ksB"}} }
	r1 := newRecorder(t, st, "r1", clk, apps)
	r2 := newRecorder(t, st, "r2", clk, apps)
	for range 3 {
		r1.RecordMessage("ksA", MessageReceived)
	}
	r2.RecordMessage("ksA", MessageDelivered)
	r2.RecordMessage("ksB", MessageReceived)
	r1.RecordMessage("ksB", MessageDeadLettered)
	r1.RecordMessage("", MessageDuplicated)
	r2.RecordMessage("ksZ", MessageReceived) // not a configured app: the totals only
	r2.RecordLag("erp", 5)
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := r1.MessageStatsFor(ctx, MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	wantA := MessageCounts{Received: 3, Delivered: 1}
	wantB := MessageCounts{Received: 1, DeadLettered: 1}
	if all.Total != (MessageCounts{Received: 5, Duplicated: 1, Delivered: 1, DeadLettered: 1}) || len(all.Apps) != 2 ||
		all.Apps[0] != (AppMessages{"ksA", wantA}) || all.Apps[1] != (AppMessages{"ksB", wantB}) || all.AppKey != "" {
		t.Fatalf("all apps: total %+v, rows %+v", all.Total, all.Apps)
	}
	for _, win := range []string{"1h", "24h"} {
		a, err := r2.MessageStatsFor(ctx, MessageQuery{Window: win, AppKey: "ksA"})
		if err != nil {
			t.Fatal(err)
		}
		var line MessageCounts
		for _, p := range a.Timeline {
			line.add(p.MessageCounts)
		}
		if a.AppKey != "ksA" || a.Total != wantA || line != wantA || len(a.Apps) != 1 || a.Apps[0] != (AppMessages{"ksA", wantA}) ||
			len(a.Consumers) != 1 || a.Consumers[0].Consumer != "erp" || a.Consumers[0].Pending != 5 {
			t.Fatalf("%s app A: %+v", win, a)
		}
	}
	if _, err := r1.MessageStatsFor(ctx, MessageQuery{AppKey: "ksZ"}); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("an unknown app: %v", err)
	}
}
