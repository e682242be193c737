package securitylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

func TestFromMetadata(t *testing.T) {
	for name, tc := range map[string]struct {
		md    []string
		field string
	}{
		"none":           {},
		"ipv4":           {md: []string{MetadataUserIP, "192.0.2.1"}},
		"ipv6":           {md: []string{MetadataUserIP, "2001:db8::1"}},
		"bad ip":         {md: []string{MetadataUserIP, "192.0.2"}, field: MetadataUserIP},
		"zone":           {md: []string{MetadataUserIP, "fe80::1%eth0"}, field: MetadataUserIP},
		"two ips":        {md: []string{MetadataUserIP, "192.0.2.1", MetadataUserIP, "192.0.2.2"}, field: MetadataUserIP},
		"long url":       {md: []string{MetadataUserURL, string(make([]byte, MaxURLLen+1))}, field: MetadataUserURL},
		"control url":    {md: []string{MetadataUserURL, "https://a/\n"}, field: MetadataUserURL},
		"url not UTF-8":  {md: []string{MetadataUserURL, "https://a/\xff"}, field: MetadataUserURL},
		"url UTF-8":      {md: []string{MetadataUserURL, "https://a/订单"}},
		"operation":      {md: []string{MetadataOperation, "42"}},
		"operation 0":    {md: []string{MetadataOperation, "0"}, field: MetadataOperation},
		"operation huge": {md: []string{MetadataOperation, "99999999999999999999"}, field: MetadataOperation},
	} {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(tc.md...))
		ctx, err := FromMetadata(ctx)
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: %v, want a violation of %s", name, err, tc.field)
		case tc.field == "":
			a, _ := AttributionFrom(ctx)
			if a.Named != (len(tc.md) > 0) {
				t.Errorf("%s: named %v", name, a.Named)
			}
		}
	}
}

// Order ids are read exactly (beyond 2^53) from answers and requests.
func TestCallOrderIDs(t *testing.T) {
	big := int64(1<<62 + 1)
	ids, ok := CallOrderIDs("open.order.cursor.list", nil,
		json.RawMessage(fmt.Sprintf(`{"orderList":[{"orderBaseInfo":{"oid":%d},"subOrderInfo":[{"subOrderBaseInfo":{"oid":%d}}]},{"orderBaseInfo":{"oid":7}}]}`, big, big)))
	if !ok || len(ids) != 2 || ids[0] != big || ids[1] != 7 {
		t.Fatalf("cursor.list: %v %v", ids, ok)
	}
	ids, ok = CallOrderIDs("open.order.decrypt.batch", json.RawMessage(fmt.Sprintf(`{"batchDecryptList":[{"bizId":"%d","encryptedData":"#x#"},{"bizId":"nope"}]}`, big)), nil)
	if !ok || len(ids) != 1 || ids[0] != big {
		t.Fatalf("decrypt: %v %v", ids, ok)
	}
	if _, ok := CallOrderIDs("open.seller.order.close", nil, nil); ok {
		t.Fatal("a write counted as an order read")
	}
}

// fakePlatform records open.security.log.* calls; fail makes them fail.
type fakePlatform struct {
	mu      sync.Mutex
	calls   []map[string]any
	methods []string // of each call
	fail    error
}

func (f *fakePlatform) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var p map[string]any
	_ = json.Unmarshal(r.Param, &p)
	f.calls = append(f.calls, p)
	f.methods = append(f.methods, r.Method)
	return &platform.Response{Result: 1}, nil
}

type fakeTokens struct{}

func (fakeTokens) Shop(_ context.Context, openID string) (platform.TokenSource, error) {
	if openID == "gone" {
		return nil, fmt.Errorf("no shop: %w", store.ErrNotFound)
	}
	return nil, nil
}

func openRecorder(t *testing.T, p *fakePlatform) *Recorder {
	t.Helper()
	return openRecorderWith(t, p, nil)
}

// openRecorderWith opens a recorder on a real store, its config changed by
// edit.
func openRecorderWith(t *testing.T, p *fakePlatform, edit func(*Config)) *Recorder {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	s := DefaultSettings()
	s.Enabled = true
	cfg := Config{Settings: s, JS: st.JetStream(), Caller: p, Tokens: fakeTokens{}}
	if edit != nil {
		edit(&cfg)
	}
	r, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The smallest stream (KWAISHOP_SECURITY_LOG_MAX_BYTES at its floor, 1
// MiB) fills while the platform refuses: then an access is not recorded
// (ErrFull, which is ErrNotStored), every refused entry is counted, the
// stored ones are kept (discard-new), and one ERROR line says so however
// many are refused. Once the platform accepts again, the sender empties the
// stream and accesses are recorded again.
func TestRecorder_FullStream(t *testing.T) {
	p := &fakePlatform{fail: &platform.Error{Class: platform.ClassUpstream, Msg: "down"}}
	logs := &lockedBuffer{}
	r := openRecorderWith(t, p, func(c *Config) {
		c.Settings.MaxBytes = 1 << 20
		c.Log = slog.New(slog.NewTextHandler(logs, nil))
	})
	ctx := WithAttribution(context.Background(), Attribution{UserIP: "192.0.2.1", URL: "https://erp/x", Operation: 3, Named: true})
	ids := make([]int64, MaxOrderIDsPerAccess)
	for i := range ids {
		ids[i] = 1<<62 + int64(i)
	}
	var err error
	accesses := 0
	for ; accesses < 50 && err == nil; accesses++ {
		err = r.OrderAccess(ctx, "shop1", ids, "test")
	}
	if !errors.Is(err, ErrFull) || !errors.Is(err, ErrNotStored) {
		t.Fatalf("after %d accesses of 10 000 orders: %v, want ErrFull", accesses, err)
	}
	if accesses < 3 {
		t.Fatalf("full after %d accesses of 100 entries: 1 MiB holds more", accesses)
	}
	// Small entries fill what is left; then they are refused too.
	queries := 0
	for ; queries < 1000; queries++ {
		if err := r.OrderQuery(ctx, "shop1", "search", 0, "test"); err != nil {
			break
		}
	}
	for range 5 {
		queries++
		if err := r.OrderQuery(ctx, "shop1", "search", 0, "test"); !errors.Is(err, ErrFull) {
			t.Fatalf("a query into the full stream: %v", err)
		}
	}
	st := r.Stats(ctx)
	if st.FailedStore < 6 || st.Pending == 0 || st.Pending+st.FailedStore != int64(accesses*100+queries+1) {
		t.Fatalf("stats %+v after %d accesses of 100 entries and %d queries", st, accesses, queries+1)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "KWAISHOP_SECURITY_LOG_MAX_BYTES") ||
		!strings.Contains(logs.String(), "not_stored=1") {
		t.Fatalf("%d ERROR lines, want 1 naming the setting:\n%s", n, logs)
	}

	// The platform accepts again: the stream empties, accesses are stored.
	p.mu.Lock()
	p.fail = nil
	p.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats(ctx).Pending > 0 && time.Now().Before(deadline) {
		r.Flush(ctx)
	}
	if st := r.Stats(ctx); st.Pending != 0 || st.Sent == 0 {
		t.Fatalf("stats after the platform recovered: %+v", st)
	}
	if err := r.OrderAccess(ctx, "shop1", ids[:10], "test"); err != nil {
		t.Fatalf("an access after the stream emptied: %v", err)
	}
}

// 10 000 order ids become 100 entries of 100; more are cut at the bound;
// a failing platform keeps them pending, a working one gets each id once
// in calls of at most 100.
func TestRecorder_BoundedBatchesAndRetry(t *testing.T) {
	p := &fakePlatform{fail: &platform.Error{Class: platform.ClassUpstream, Msg: "down"}}
	r := openRecorder(t, p)
	ctx := WithAttribution(context.Background(), Attribution{UserIP: "192.0.2.1", URL: "https://erp/x", Operation: 3, Named: true})
	ids := make([]int64, 12000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if err := r.OrderAccess(ctx, "shop1", ids, "test"); err != nil {
		t.Fatal(err)
	}
	if err := r.OrderAccess(ctx, "gone", []int64{5}, "test"); err != nil {
		t.Fatal(err)
	}
	if n := r.Flush(ctx); n != 0 {
		t.Fatalf("%d accepted while the platform fails", n)
	}
	// The gone shop's entry is dropped at once (Term is asynchronous: the
	// consumer's count follows shortly); the others wait for a retry.
	st := r.Stats(ctx)
	for wait := time.Now().Add(5 * time.Second); st.Pending != 100 && time.Now().Before(wait); st = r.Stats(ctx) {
		time.Sleep(20 * time.Millisecond)
	}
	if st.Pending != 100 || st.FailedRetry != 100 || st.Dropped != 1 || st.FailedStore != 0 {
		t.Fatalf("stats while failing: %+v", st)
	}
	p.mu.Lock()
	p.fail = nil
	p.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for r.Stats(ctx).Pending > 0 && time.Now().Before(deadline) {
		r.Flush(ctx)
		time.Sleep(200 * time.Millisecond)
	}
	seen := map[int64]int{}
	for _, c := range p.calls {
		list, _ := c["orderIds"].([]any)
		if len(list) == 0 || len(list) > MaxOrderIDsPerEntry || c["userIp"] != "192.0.2.1" || c["operation"] != float64(3) {
			t.Fatalf("a call %v", c)
		}
		for _, v := range list {
			seen[int64(v.(float64))]++
		}
	}
	if len(seen) != MaxOrderIDsPerAccess {
		t.Fatalf("%d distinct ids sent, want %d", len(seen), MaxOrderIDsPerAccess)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("id %d sent %d times", id, n)
		}
	}
	if st := r.Stats(ctx); st.Pending != 0 || st.Sent != 100 {
		t.Fatalf("stats: %+v (the gone shop's entry is dropped, not pending)", st)
	}
}

// Reported logins and exports are checked, stored and sent: a login
// through open.security.log.login, an export of 250 ids through one
// open.security.log.batch call of 3 order entries, an export by filter as
// one entry with data and total.
func TestRecorder_ReportLoginAndExport(t *testing.T) {
	p := &fakePlatform{}
	r := openRecorder(t, p)
	ctx := context.Background()
	now := r.Now().UnixMilli()
	ids := make([]int64, 250)
	for i := range ids {
		ids[i] = int64(1<<60 + i) // beyond 2^53: sent exactly
	}
	for name, e := range map[string]Entry{
		"kind":         {Kind: "sql", OpenID: "shop1", UserIP: "192.0.2.1", Time: now},
		"no ip":        {Kind: KindLogin, OpenID: "shop1", LoginResult: "success", Time: now},
		"no result":    {Kind: KindLogin, OpenID: "shop1", UserIP: "192.0.2.1", Time: now},
		"no ids, data": {Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", URL: "https://erp/x", Operation: 5, Time: now},
		"too many ids": {Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", URL: "https://erp/x", Operation: 5, Time: now, OrderIDs: make([]int64, MaxOrderIDsPerAccess+1)},
		"zero id":      {Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", URL: "https://erp/x", Operation: 5, Time: now, OrderIDs: []int64{0}},
		"no url":       {Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", Operation: 5, Time: now, Data: "all"},
	} {
		var fe *FieldError
		if err := r.Report(ctx, e); !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a field error", name, err)
		}
	}
	for _, e := range []Entry{
		{Kind: KindLogin, OpenID: "shop1", UserIP: "2001:db8::7", LoginResult: "failure", LoginMessage: "wrong code", Time: now},
		{Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", URL: "https://erp/export", Operation: 5, Time: now, OrderIDs: ids, Data: "status=paid", OrderTotal: 250},
		{Kind: KindBatch, OpenID: "shop1", UserIP: "192.0.2.1", URL: "https://erp/export", Operation: 5, Time: now, Data: "status=all", OrderTotal: 9000},
	} {
		if err := r.Report(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Flush(ctx); n != 3 {
		t.Fatalf("%d entries accepted, want 3", n)
	}
	if len(p.calls) != 3 {
		t.Fatalf("%d calls, want 3: %v", len(p.calls), p.methods)
	}
	var sawIDs, sawFilter bool
	for i, c := range p.calls {
		switch p.methods[i] {
		case "open.security.log.login":
			if c["loginResult"] != "failure" || c["userIp"] != "2001:db8::7" || c["openId"] != "shop1" || c["loginMessage"] != "wrong code" {
				t.Errorf("login call %v", c)
			}
		case "open.security.log.batch":
			if c["method"] != "order" {
				t.Errorf("batch of %v", c["method"])
			}
			dec := json.NewDecoder(strings.NewReader(c["data"].(string)))
			dec.UseNumber()
			var entries []map[string]any
			if err := dec.Decode(&entries); err != nil {
				t.Fatal(err)
			}
			if entries[0]["orderIds"] == nil {
				sawFilter = len(entries) == 1 && entries[0]["data"] == "status=all" && entries[0]["orderTotal"] == json.Number("9000")
				continue
			}
			var got []int64
			for _, en := range entries {
				list := en["orderIds"].([]any)
				if len(list) > MaxOrderIDsPerEntry || en["url"] != "https://erp/export" || en["operation"] != json.Number("5") || en["openId"] != "shop1" {
					t.Errorf("export entry %v", en)
				}
				for _, v := range list {
					n, _ := v.(json.Number).Int64()
					got = append(got, n)
				}
			}
			sawIDs = len(entries) == 3 && slices.Equal(got, ids)
		default:
			t.Errorf("call of %s", p.methods[i])
		}
	}
	if !sawIDs || !sawFilter {
		t.Errorf("export by ids sent as 3 exact entries: %v; by filter: %v", sawIDs, sawFilter)
	}
	if st := r.Stats(ctx); st.Sent != 3 || st.Pending != 0 || st.Failed() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A recorder that is off refuses reports (ErrDisabled) and counts nothing.
func TestRecorder_ReportOff(t *testing.T) {
	r, err := Open(context.Background(), Config{Settings: DefaultSettings()})
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Kind: KindLogin, OpenID: "shop1", UserIP: "192.0.2.1", LoginResult: "success", Time: 1}
	if err := r.Report(context.Background(), e); !errors.Is(err, ErrDisabled) {
		t.Fatalf("%v, want ErrDisabled", err)
	}
	if st := r.Stats(context.Background()); st != (Stats{}) {
		t.Fatalf("stats %+v", st)
	}
}
