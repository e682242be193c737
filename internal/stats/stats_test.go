package stats

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newRecorder(t *testing.T, st *store.Store, id string, clk *clock, mod func(*Config)) *Recorder {
	t.Helper()
	cfg := Config{JetStream: st.JetStream(), ReplicaID: id, Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// base is 10:00:00 UTC = 18:00 in the platform's day.
var base = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ok(method, openID string, d time.Duration) platform.CallInfo {
	return platform.CallInfo{Method: method, OpenID: openID, Duration: d, Result: 1, HTTPStatus: 200}
}

func fail(method, openID string, d time.Duration, result int64) platform.CallInfo {
	e := &platform.Error{Method: method, Result: result, Class: platform.Classify(result, ""), HTTPStatus: 200}
	return platform.CallInfo{Method: method, OpenID: openID, Duration: d, Result: result, Class: e.Class, HTTPStatus: 200, Err: e}
}

const (
	orders = "open.order.cursor.list"
	detail = "open.order.detail"
	shop   = "open.shop.info.get"
)

func find(rep *APIReport, method string) APIStats {
	for _, a := range rep.APIs {
		if a.Method == method {
			return a
		}
	}
	return APIStats{}
}

func TestRecorder_TwoReplicasSumExactly(t *testing.T) {
	st := openStore(t)
	clk := &clock{t: base.Add(30 * time.Second)}
	r1 := newRecorder(t, st, "r1", clk, nil)
	r2 := newRecorder(t, st, "r2", clk, nil)

	// Replica 1: 6 order lists (2 fail 804001), 3 details for shop A (all 21).
	for i := range 6 {
		if i < 2 {
			r1.Record(fail(orders, "shopA", 20*time.Millisecond, platform.ResultParamInvalid))
		} else {
			r1.Record(ok(orders, "shopA", 40*time.Millisecond))
		}
	}
	for range 3 {
		r1.Record(fail(detail, "shopA", 8*time.Millisecond, platform.ResultOperationReject))
	}
	// One minute later, replica 2: 4 order lists for shop B, an app-level
	// shop call rejected with 22 and a transport failure.
	clk.Set(base.Add(90 * time.Second))
	for range 4 {
		r2.Record(ok(orders, "shopB", 400*time.Millisecond))
	}
	r2.Record(fail(shop, "", 3*time.Millisecond, platform.ResultNoPermission))
	r2.Record(platform.CallInfo{Method: shop, OpenID: "", Duration: time.Second,
		Class: platform.ClassUpstream, Err: &platform.Error{Method: shop, Class: platform.ClassUpstream}})

	ctx := context.Background()
	if err := r2.Flush(ctx); err != nil { // r1 is flushed by its own read below
		t.Fatal(err)
	}
	for _, win := range []string{"1h", "24h", "7d"} {
		t.Run("window_"+win, func(t *testing.T) {
			rep, err := r1.APIStats(ctx, win, "")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Total.Calls != 15 || rep.Total.Failures != 7 {
				t.Fatalf("total calls/failures = %d/%d, want 15/7", rep.Total.Calls, rep.Total.Failures)
			}
			if got := strings.Join(rep.Replicas, ","); got != "r1,r2" {
				t.Fatalf("replicas = %s", got)
			}
			o := find(rep, orders)
			if o.Calls != 10 || o.Successes != 8 || o.Failures != 2 || o.SuccessRate != 0.8 {
				t.Fatalf("orders = %+v", o)
			}
			if len(o.ByClass) != 1 || o.ByClass[0] != (ClassCount{"invalid_argument", 2}) || o.ByResult[0] != (ResultCount{804001, 2}) {
				t.Fatalf("orders errors = %v %v", o.ByClass, o.ByResult)
			}
			d := find(rep, detail)
			if d.Calls != 3 || d.SuccessRate != 0 || d.ByClass[0] != (ClassCount{"permission", 3}) || d.ByResult[0] != (ResultCount{21, 3}) {
				t.Fatalf("detail = %+v", d)
			}
			s := find(rep, shop)
			if s.Calls != 2 || s.Failures != 2 || len(s.ByClass) != 2 || len(s.ByResult) != 2 {
				t.Fatalf("shop = %+v", s)
			}
			if rep.APIs[0].Method != orders {
				t.Fatalf("APIs not most-called first: %s", rep.APIs[0].Method)
			}
			var calls, failures int64
			for _, p := range rep.Total.Timeline {
				calls += p.Calls
				failures += p.Failures
			}
			if calls != 15 || failures != 7 {
				t.Fatalf("timeline sums %d/%d", calls, failures)
			}
			if want := Windows[win].Buckets; len(rep.Total.Timeline) != want || len(o.Timeline) != want {
				t.Fatalf("timeline length %d, want %d", len(rep.Total.Timeline), want)
			}
		})
	}
	t.Run("minute_buckets", func(t *testing.T) {
		rep, _ := r1.APIStats(ctx, "1h", "")
		line := rep.Total.Timeline
		if p := line[58]; p.Calls != 9 || p.Failures != 5 || !p.Start.Equal(base) {
			t.Fatalf("minute of replica 1 = %+v", p)
		}
		if p := line[59]; p.Calls != 6 || p.Failures != 2 {
			t.Fatalf("minute of replica 2 = %+v", p)
		}
	})
	t.Run("percentiles_merge_across_replicas", func(t *testing.T) {
		rep, _ := r2.APIStats(ctx, "1h", "")
		o := find(rep, orders)
		// 2 × 20 ms, 4 × 40 ms, 4 × 400 ms: the median lies in the 30–50 ms
		// bucket, p95 and p99 in the 300–500 ms bucket, capped at the max.
		if o.P50MS <= 30 || o.P50MS > 50 || o.P95MS <= 300 || o.P95MS > 400 || o.P99MS > 400 || o.MaxMS != 400 {
			t.Fatalf("percentiles p50 %.1f p95 %.1f p99 %.1f max %.1f", o.P50MS, o.P95MS, o.P99MS, o.MaxMS)
		}
		if math.Abs(o.MeanMS-(2*20+4*40+4*400)/10.0) > 1e-9 {
			t.Fatalf("mean %.3f", o.MeanMS)
		}
	})
	t.Run("shop_filter", func(t *testing.T) {
		rep, err := r1.APIStats(ctx, "1h", "shopA")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Calls != 9 || len(rep.APIs) != 2 || find(rep, orders).Calls != 6 {
			t.Fatalf("shopA: total %d, apis %d", rep.Total.Calls, len(rep.APIs))
		}
		rep, _ = r1.APIStats(ctx, "24h", "shopB")
		if rep.Total.Calls != 4 || rep.Total.Failures != 0 || rep.Total.SuccessRate != 1 {
			t.Fatalf("shopB: %+v", rep.Total)
		}
		rep, _ = r1.APIStats(ctx, "1h", "nobody")
		if rep.Total.Calls != 0 || len(rep.APIs) != 0 {
			t.Fatalf("unknown shop has calls: %+v", rep.Total)
		}
	})
	t.Run("window_moves_on", func(t *testing.T) {
		clk.Set(base.Add(2 * time.Hour))
		defer clk.Set(base.Add(90 * time.Second))
		rep, _ := r1.APIStats(ctx, "1h", "")
		if rep.Total.Calls != 0 {
			t.Fatalf("1h window two hours later still has %d calls", rep.Total.Calls)
		}
		rep, _ = r1.APIStats(ctx, "24h", "")
		if rep.Total.Calls != 15 {
			t.Fatalf("24h window two hours later has %d calls", rep.Total.Calls)
		}
	})
	t.Run("bad_input", func(t *testing.T) {
		if _, err := r1.APIStats(ctx, "2h", ""); !errors.Is(err, ErrUnknownWindow) {
			t.Fatalf("window 2h: %v", err)
		}
		if _, err := r1.APIStats(ctx, "1h", "a.b"); err == nil {
			t.Fatal("open_id with a dot accepted")
		}
	})
}

func TestRecorder_FlushIsIdempotentAndForgetsOldPeriods(t *testing.T) {
	st := openStore(t)
	clk := &clock{t: base}
	r := newRecorder(t, st, "r1", clk, nil)
	ctx := context.Background()
	r.Record(ok(orders, "s", time.Millisecond))
	for range 3 {
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(base.Add(61 * time.Second))
	r.Record(ok(orders, "s", time.Millisecond))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	n := len(r.pending)
	r.mu.Unlock()
	if n != 4 { // current minute (=all, s) and current hour (=all, s)
		t.Fatalf("pending records = %d, want 4", n)
	}
	rep, err := r.APIStats(ctx, "1h", "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Calls != 2 {
		t.Fatalf("calls = %d, want 2", rep.Total.Calls)
	}
}

func TestRecorder_UncataloguedNamesAreCapped(t *testing.T) {
	st := openStore(t)
	r := newRecorder(t, st, "r1", &clock{t: base}, nil)
	for i := range maxUncatalogued + 20 {
		r.Record(ok("open.nosuch.api"+strings.Repeat("x", i%200)+string(rune('a'+i%26)), "", time.Millisecond))
	}
	rep, err := r.APIStats(context.Background(), "1h", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.APIs) > maxUncatalogued+1 || find(rep, uncatalogued).Calls == 0 {
		t.Fatalf("%d APIs; uncatalogued = %d", len(rep.APIs), find(rep, uncatalogued).Calls)
	}
	if rep.Total.Calls != maxUncatalogued+20 {
		t.Fatalf("total %d", rep.Total.Calls)
	}
}

func TestRecorder_QuotaAcrossReplicas(t *testing.T) {
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
		{OpenID: "tu1", AppKey: "ks1", Status: store.StatusActive, TestUser: true, AccessToken: "a", RefreshToken: "r"},
		{OpenID: "tu2", AppKey: "ks1", Status: store.StatusActive, TestUser: true, AccessToken: "a", RefreshToken: "r"},
		{OpenID: "real", AppKey: "ks1", Status: store.StatusActive, AccessToken: "a", RefreshToken: "r"},
	} {
		if _, err := tokens.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	clk := &clock{t: base}
	mod := func(c *Config) {
		c.DailyQuota, c.TestUserDailyQuota = 20, 10
		c.Authorizations = tokens.List
		c.Meter = mp.Meter("test")
		c.Log = slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, nil))
	}
	r1 := newRecorder(t, st, "r1", clk, mod)
	r2 := newRecorder(t, st, "r2", clk, mod)

	// Yesterday (platform day): 50 calls that must not count today.
	clk.Set(base.Add(-20 * time.Hour))
	for range 50 {
		r1.Record(ok(shop, "tu1", time.Millisecond))
	}
	if err := r1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Today, in one second: 5 + 4 order lists for tu1 on two replicas (the
	// second-peak is 9, not max(5,4)); 1 for tu2; 3 for the real shop; one
	// transport failure that never reached the platform.
	clk.Set(base.Add(10*time.Second + 500*time.Millisecond))
	for range 5 {
		r1.Record(ok(orders, "tu1", time.Millisecond))
	}
	for range 4 {
		r2.Record(ok(orders, "tu1", time.Millisecond))
	}
	r2.Record(ok(orders, "tu2", time.Millisecond))
	clk.Set(base.Add(11 * time.Second))
	for range 3 {
		r2.Record(ok(detail, "real", time.Millisecond))
	}
	r2.Record(platform.CallInfo{Method: detail, OpenID: "real", Err: &platform.Error{Class: platform.ClassUpstream}})

	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := r1.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AppDaily != (Use{Used: 13, Limit: 20, Ratio: 0.65}) {
		t.Fatalf("app daily = %+v", rep.AppDaily)
	}
	if len(rep.TestUsers) != 2 || rep.TestUsers[0].OpenID != "tu1" || rep.TestUsers[0].Daily != (Use{9, 10, 0.9}) ||
		rep.TestUsers[1].OpenID != "tu2" || rep.TestUsers[1].Daily != (Use{1, 10, 0.1}) {
		t.Fatalf("test users = %+v", rep.TestUsers)
	}
	if len(rep.APIs) != 2 || rep.APIs[0].Method != orders || rep.APIs[0].Peak != 10 || rep.APIs[0].Limit != 300 ||
		!rep.APIs[0].PeakTime.Equal(base.Add(10*time.Second)) || rep.APIs[1].Peak != 3 || rep.APIs[1].Limit != 100 {
		t.Fatalf("qps = %+v", rep.APIs)
	}
	if !rep.DayStart.Equal(time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("day start %s", rep.DayStart)
	}
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != QuotaTestUserDaily || rep.Warnings[0].Subject != "tu1" || rep.Warnings[0].Replica != "r1" {
		t.Fatalf("warnings = %+v", rep.Warnings)
	}

	// The second replica sees the same warning and does not raise it again.
	rep2, err := r2.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.Warnings) != 1 {
		t.Fatalf("replica 2 warnings = %+v", rep2.Warnings)
	}
	// 6 more calls, a second later, push the app over 90 % of 20.
	clk.Set(base.Add(12 * time.Second))
	for range 6 {
		r2.Record(ok(detail, "real", time.Millisecond))
	}
	if rep2, err = r2.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rep2.Warnings) != 2 || rep2.Warnings[1].Kind != QuotaAppDaily || rep2.Warnings[1].Used != 19 {
		t.Fatalf("warnings after 19 calls = %+v", rep2.Warnings)
	}
	if _, err := r1.Quota(ctx); err != nil { // both replicas' gauges now show the same view
		t.Fatal(err)
	}
	logMu.Lock()
	logged := strings.Count(logs.String(), "quota use crossed the warning threshold")
	logMu.Unlock()
	if logged != 2 {
		t.Fatalf("%d warning log lines, want 2:\n%s", logged, logs.String())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					k, _ := p.Attributes.Value(AttrQuotaKind)
					got[m.Name+"/"+k.AsString()] += float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					got[m.Name] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					k, _ := p.Attributes.Value(AttrQuotaKind)
					got[m.Name+"/"+k.AsString()] = p.Value
				}
			}
		}
	}
	for k, want := range map[string]float64{
		"kwaishop.quota.warnings/test_user_daily": 1, "kwaishop.quota.warnings/app_daily": 1,
		"kwaishop.quota.daily.used": 19, "kwaishop.quota.daily.limit": 20,
		"kwaishop.quota.utilization/app_daily": 0.95, "kwaishop.quota.utilization/test_user_daily": 0.9,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
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

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	return k.Encode()
}

func TestRecorder_Messages(t *testing.T) {
	st := openStore(t)
	clk := &clock{t: base}
	r1 := newRecorder(t, st, "r1", clk, nil)
	r2 := newRecorder(t, st, "r2", clk, nil)
	for range 3 {
		r1.RecordMessage("", MessageReceived)
	}
	r1.RecordMessage("", MessageDuplicated)
	r2.RecordMessage("", MessageReceived)
	r2.RecordMessage("", MessageDelivered)
	r2.RecordMessage("", MessageDeadLettered)
	r1.RecordLag("orders", 7)
	clk.Set(base.Add(2 * time.Minute))
	r2.RecordLag("orders", 2)
	ctx := context.Background()
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, win := range []string{"1h", "7d"} {
		rep, err := r1.MessageStats(ctx, win)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != (MessageCounts{Received: 4, Duplicated: 1, Delivered: 1, DeadLettered: 1}) {
			t.Fatalf("%s: totals %+v", win, rep.Total)
		}
		if len(rep.Consumers) != 1 || rep.Consumers[0].Pending != 2 {
			t.Fatalf("%s: consumers %+v", win, rep.Consumers)
		}
	}
}

func TestHistogram_Quantile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		obs    []float64
		q, max float64
		lo, hi float64
	}{
		{"empty", nil, 0.5, 0, 0, 0},
		{"one_bucket", []float64{40, 40, 40, 40}, 0.5, 40, 30, 40},
		{"overflow_is_max", []float64{20000}, 0.99, 20000, 20000, 20000},
		{"capped_at_max", []float64{101}, 0.99, 101, 100, 101},
		{"p99_of_100", append(make([]float64, 99), 900), 0.99, 900, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistogram()
			for _, o := range tc.obs {
				h[bucketOf(o)]++
			}
			if v := h.quantile(tc.q, tc.max); v < tc.lo || v > tc.hi {
				t.Fatalf("quantile(%v) = %v, want in [%v, %v]", tc.q, v, tc.lo, tc.hi)
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	err := Config{ReplicaID: "a.b", FlushInterval: -1, DailyQuota: -1, WarnRatio: 2}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"JetStream", "ReplicaID", "intervals", "quotas", "WarnRatio"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		ci   platform.CallInfo
		want string
	}{
		{"success", platform.CallInfo{}, ""},
		{"platform", fail(detail, "", 0, 21), "permission"},
		{"canceled", platform.CallInfo{Err: context.Canceled}, ClassCanceled},
		{"token", platform.CallInfo{Err: errors.New("token source: boom")}, ClassToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassOf(tc.ci); got != tc.want {
				t.Fatalf("ClassOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func BenchmarkRecorder_Record(b *testing.B) {
	st, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, err := New(context.Background(), Config{JetStream: st.JetStream(), ReplicaID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ci := ok(orders, "shopA", 30*time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Record(ci)
		}
	})
}

// BenchmarkRecorder_APIStats1h reads a full 1h window written by 3 replicas
// (60 minutes × 3 replicas, 20 APIs each).
func BenchmarkRecorder_APIStats1h(b *testing.B) {
	st, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: base}
	ctx := context.Background()
	var recs []*Recorder
	for i := range 3 {
		r, err := New(ctx, Config{JetStream: st.JetStream(), ReplicaID: "r" + string(rune('0'+i)), Now: clk.Now})
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	apis := platform.Catalog()[:20]
	for m := range 60 {
		clk.Set(base.Add(time.Duration(m) * time.Minute))
		for _, r := range recs {
			for _, a := range apis {
				r.Record(ok(a.Name, "shopA", 30*time.Millisecond))
			}
			if err := r.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := recs[0].APIStats(ctx, "1h", "")
		if err != nil || rep.Total.Calls != 60*3*20 {
			b.Fatalf("%v %v", err, rep.Total.Calls)
		}
	}
}
