package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// The security-log accesses beyond reads and decrypts (docs/security-logs.md,
// What is logged): masking and search indexes, typed and generic; a full
// stream; the warning when the logs are off with real credentials.

// attributed is ctx naming an end user.
func attributed(ip, url string, op int) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(),
		"x-kwaishop-user-ip", ip, "x-kwaishop-user-url", url, "x-kwaishop-operation", fmt.Sprint(op))
}

// seclogQuery is what the comparison keeps of an entry without order ids.
type seclogQuery struct {
	ip, url, data string
	operation     int64
}

// splitSecLogs folds the sandbox's order entries: those with ids as
// receivedSecLogs does, those without (searches) as a count per query.
func splitSecLogs(t *testing.T, entries []sandbox.SecurityLogEntry) (map[seclogKey]map[int64]bool, map[seclogQuery]int) {
	t.Helper()
	ids := map[seclogKey]map[int64]bool{}
	queries := map[seclogQuery]int{}
	for _, e := range entries {
		switch {
		case e.Method != "order":
			t.Fatalf("an entry of %s", e.Method)
		case len(e.OrderIDs) == 0:
			queries[seclogQuery{e.UserIP, e.URL, e.Data, e.Operation}]++
		case len(e.OrderIDs) > 100:
			t.Fatalf("an entry with %d order ids", len(e.OrderIDs))
		default:
			addWant(ids, seclogKey{e.OpenID, e.UserIP, e.Operation}, e.OrderIDs...)
		}
	}
	return ids, queries
}

func equalQueries(a, b map[seclogQuery]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

// Masking (typed and generic) and search indexes (typed and generic) reach
// the platform as exactly the expected entries: the typed masking logs the
// orders answered with a value, not a refused entry; a masking with every
// entry refused logs nothing; a generic masking logs each bizId; each
// search index is one entry with data and no ids.
func TestSecurityLog_DesensitiseAndSearchIndexReachThePlatform(t *testing.T) {
	g := startSecLogGateway(t, "100ms")
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	want := map[seclogKey]map[int64]bool{}
	orders := seclogOrders(t, c, openID, "198.51.100.9", want)
	var ciphered []seclogOrder
	for _, o := range orders {
		if o.mobile != "" {
			ciphered = append(ciphered, o)
		}
	}

	// Typed: four phones masked, the fifth entry names another order than
	// its ciphertext's and is refused.
	const typedURL = "https://erp.example/orders/mask"
	var entries []*gatewayv1.ReceiverCiphertext
	for _, o := range ciphered[:4] {
		entries = append(entries, &gatewayv1.ReceiverCiphertext{OrderId: o.id, Ciphertext: o.mobile, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE})
	}
	entries = append(entries, &gatewayv1.ReceiverCiphertext{OrderId: ciphered[4].id, Ciphertext: ciphered[0].mobile, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE})
	resp, err := c.security.DesensitiseReceivers(attributed("203.0.113.21", typedURL, 4),
		&gatewayv1.DesensitiseReceiversRequest{OpenId: openID, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.GetResults() {
		if masked := r.GetError() == nil && r.GetValue().GetPhone() != ""; masked != (i < 4) {
			t.Fatalf("entry %d: masked %v, error %v", i, masked, r.GetError())
		}
	}
	for _, o := range ciphered[:4] {
		addWant(want, seclogKey{openID, "203.0.113.21", 4}, o.id)
	}

	// Typed, every entry refused: nothing was read, nothing is logged.
	resp, err = c.security.DesensitiseReceivers(attributed("203.0.113.22", typedURL, 4), &gatewayv1.DesensitiseReceiversRequest{OpenId: openID,
		Entries: []*gatewayv1.ReceiverCiphertext{{OrderId: ciphered[1].id, Ciphertext: ciphered[2].mobile, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE}}})
	if err != nil || resp.GetResults()[0].GetError() == nil {
		t.Fatalf("a refused entry: %v %v", resp, err)
	}

	// Generic: each bizId.
	var list []any
	for _, o := range ciphered[:3] {
		list = append(list, map[string]any{"bizId": fmt.Sprint(o.id), "encryptedData": o.mobile})
		addWant(want, seclogKey{openID, "203.0.113.23", 5}, o.id)
	}
	p, _ := structpb.NewValue(map[string]any{"batchDesensitiseList": list})
	if _, err := c.platform.Call(attributed("203.0.113.23", "https://erp.example/generic/mask", 5),
		&gatewayv1.CallRequest{OpenId: openID, Method: "open.order.desensitise.batch", Params: p}); err != nil {
		t.Fatal(err)
	}

	// Search indexes, typed and generic: one entry each, with data.
	wantQueries := map[seclogQuery]int{}
	si, err := c.security.SearchIndex(attributed("203.0.113.24", "https://erp.example/search", 6), &gatewayv1.SearchIndexRequest{OpenId: openID,
		Entries: []*gatewayv1.SearchInput{
			{Plaintext: "13800000000", Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE},
			{Plaintext: "Zhang San", Field: gatewayv1.ReceiverField_RECEIVER_FIELD_NAME},
		}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range si.GetResults() {
		if r.GetError() != nil || r.GetSearchIndex() == "" {
			t.Fatalf("search index %d: %v", i, r.GetError())
		}
	}
	wantQueries[seclogQuery{"203.0.113.24", "https://erp.example/search", "search index of receiver values", 6}] = 1
	p, _ = structpb.NewValue(map[string]any{"indexParamList": []any{map[string]any{"plainText": "13800000000", "type": 3}}})
	if _, err := c.platform.Call(attributed("203.0.113.25", "https://erp.example/generic/search", 6),
		&gatewayv1.CallRequest{OpenId: openID, Method: "open.order.search.index.batch", Params: p}); err != nil {
		t.Fatal(err)
	}
	wantQueries[seclogQuery{"203.0.113.25", "https://erp.example/generic/search", "search index of receiver values", 6}] = 1

	var n int
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := g.info.Sandbox.SecurityLogs(openID)
		ids, queries := splitSecLogs(t, got)
		if equalSecLogs(ids, want) && equalQueries(queries, wantQueries) {
			n = len(got)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox received\nids     %v\nqueries %v\nwant\nids     %v\nqueries %v", ids, queries, want, wantQueries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Exactly: nothing more arrives.
	time.Sleep(500 * time.Millisecond)
	if got := g.info.Sandbox.SecurityLogs(openID); len(got) != n {
		t.Fatalf("%d entries after the run settled, %d when it matched", len(got), n)
	}
}

// The stream full (KWAISHOP_SECURITY_LOG_MAX_BYTES, at its floor of 1 MiB,
// filled by the gateway's own reads while the sender is idle): order data is
// refused — typed and generic reads, decrypts, REST — with UNAVAILABLE, the
// cause and a retry delay; other reads are answered; the refusals are
// counted and logged at ERROR once (rate-limited), and nothing reaches the
// platform's logs in the meantime.
func TestSecurityLog_FullStreamRefusesOrderReads(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "127.0.0.1:0"
	mustSet(&cfg, "KWAISHOP_SECURITY_LOG", "true")
	mustSet(&cfg, "KWAISHOP_SECURITY_LOG_FLUSH_INTERVAL", "24h") // the sender's first pass is a day away
	mustSet(&cfg, "KWAISHOP_SECURITY_LOG_MAX_BYTES", "1048576")
	g := startGatewayWith(t, cfg, Options{})
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	// A 2 KiB URL makes each entry large: the stream fills in a few hundred
	// reads.
	url := "https://erp.example/orders?" + strings.Repeat("q", securitylog.MaxURLLen-len("https://erp.example/orders?"))
	ctx := attributed("203.0.113.30", url, 2)
	now := time.Now()
	list := &gatewayv1.ListOrdersRequest{OpenId: openID, StartTime: timestamppb.New(now.Add(-7 * 24 * time.Hour)), EndTime: timestamppb.New(now), PageSize: 100}

	isFull := func(what string, err error) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "KWAISHOP_SECURITY_LOG_MAX_BYTES") {
			t.Fatalf("%s: %v, want UNAVAILABLE naming KWAISHOP_SECURITY_LOG_MAX_BYTES", what, err)
		}
		var cause string
		var retry bool
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.ErrorInfo:
				cause = d.GetMetadata()["security_log"]
			case *errdetails.RetryInfo:
				retry = d.GetRetryDelay().AsDuration() > 0
			}
		}
		if cause != "full" || !retry {
			t.Fatalf("%s: details %v, want security_log=full and a retry delay", what, st.Details())
		}
	}

	first, err := c.order.ListOrders(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	orders := first.GetOrders()
	if len(orders) == 0 {
		t.Fatal("no orders")
	}
	// Eight callers read until the stream refuses.
	var (
		stored  atomic.Int64
		mu      sync.Mutex
		refused []error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	var once sync.Once
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.order.ListOrders(ctx, list); err != nil {
					mu.Lock()
					refused = append(refused, err)
					mu.Unlock()
					once.Do(func() { close(stop) })
					return
				}
				if stored.Add(1) > 5000 {
					once.Do(func() { close(stop) })
				}
			}
		})
	}
	wg.Wait()
	reads := int(stored.Load()) + 1
	if len(refused) == 0 {
		t.Fatalf("%d reads of %d orders and the stream never filled", reads, len(orders))
	}
	for i, err := range refused {
		isFull(fmt.Sprintf("refused read %d", i), err)
	}
	if reads < 50 {
		t.Fatalf("refused after %d reads: the 1 MiB stream holds far more", reads)
	}
	t.Logf("the stream refused read %d of %d orders each", reads, len(orders))
	// Reads of one order with the default URL fill what is left; then even
	// the smallest entry is refused.
	for small := 0; ; small++ {
		_, err := c.order.GetOrder(context.Background(), &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: orders[0].GetOrderId()})
		if err != nil {
			isFull("a small read", err)
			break
		}
		if small > 1000 {
			t.Fatal("small reads never filled the stream")
		}
	}
	var mobile *gatewayv1.Order
	for _, o := range orders {
		if o.GetAddress().GetEncryptedMobile() != "" {
			mobile = o
			break
		}
	}
	if mobile == nil {
		t.Fatal("no order with a receiver")
	}

	// Every path to order data is refused while the stream is full.
	_, err = c.order.GetOrder(ctx, &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: orders[0].GetOrderId()})
	isFull("GetOrder", err)
	p, _ := structpb.NewValue(map[string]any{"oid": fmt.Sprint(orders[0].GetOrderId())})
	_, err = c.platform.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.detail", Params: p})
	isFull("Call open.order.detail", err)
	dec, err := c.security.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: []*gatewayv1.ReceiverCiphertext{
		{OrderId: mobile.GetOrderId(), Ciphertext: mobile.GetAddress().GetEncryptedMobile(), Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE}}})
	if dec != nil {
		t.Fatal("a decrypt answered while its access cannot be recorded")
	}
	isFull("DecryptReceivers", err)
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/shops/"+openID+"/orders/"+fmt.Sprint(orders[0].GetOrderId()), nil)
	req.Header.Set("X-Kwaishop-User-Ip", "203.0.113.30")
	req.Header.Set("X-Kwaishop-Operation", "2")
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "KWAISHOP_SECURITY_LOG_MAX_BYTES") {
		t.Fatalf("REST GetOrder: %d %s", resp.StatusCode, body)
	}
	// What is not order data is answered.
	if _, err := c.shop.GetShop(ctx, &gatewayv1.GetShopRequest{OpenId: openID}); err != nil {
		t.Fatalf("GetShop while the security log is full: %v", err)
	}

	// Counted (every refused read's entry) and logged once at ERROR.
	st, err := gatewayv1.NewSecurityLogServiceClient(g.conn).GetSecurityLogStats(context.Background(), &gatewayv1.GetSecurityLogStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetFailedStore() < 6 || st.GetPending() < int64(reads) || st.GetSent() != 0 {
		t.Errorf("stats %v after %d stored reads and 6 refused", st, reads)
	}
	if n := strings.Count(g.logs.String(), "the stream is full"); n != 1 {
		t.Errorf("%d log lines about the full stream, want 1 (at most one a minute)", n)
	}
	if n := len(g.info.Sandbox.SecurityLogs(openID)); n != 0 {
		t.Errorf("the sandbox received %d entries from an idle sender", n)
	}
}

// realCredentials is a gateway's configuration with real credentials (not
// sandbox mode) against a sandbox server of its own.
func realCredentials(t *testing.T) config.Config {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	sc := sb.Config()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
	cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
	cfg.Message.ReconcileInterval = 0
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	return cfg
}

// With real credentials and the security logs off (the default), the
// start logs one warning naming the setting and the document; with them on,
// or in sandbox mode, none.
func TestSecurityLog_OffWarnsWithRealCredentials(t *testing.T) {
	const warning = "security logs are off"
	count := func(g *gateway) int {
		g.stop()
		return strings.Count(g.logs.String(), warning)
	}
	off := startGatewayWith(t, realCredentials(t), Options{})
	logs := off.logs.String()
	if n := count(off); n != 1 {
		t.Errorf("real credentials, logs off: %d warnings, want 1\n%s", n, logs)
	}
	for _, s := range []string{"KWAISHOP_SECURITY_LOG=true", "docs/security-logs.md", `"level":"WARN"`} {
		if !strings.Contains(logs, s) {
			t.Errorf("the warning does not say %s", s)
		}
	}
	on := realCredentials(t)
	mustSet(&on, "KWAISHOP_SECURITY_LOG", "true")
	if n := count(startGatewayWith(t, on, Options{})); n != 0 {
		t.Errorf("real credentials, logs on: %d warnings", n)
	}
	if n := count(startGateway(t)); n != 0 {
		t.Errorf("sandbox mode: %d warnings", n)
	}
}
