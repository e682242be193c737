package token

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// fakeOAuth is an in-package stand-in for the platform's token endpoints
// with the platform's single-use refresh tokens: a refresh token works once,
// then answers refreshToken.discarded.
type fakeOAuth struct {
	mu        sync.Mutex
	n         int
	live      map[string]string   // refresh token → open_id
	scopesOf  map[string][]string // refresh token → its grant's scopes
	revoked   map[string]bool     // open_id
	ended     map[string]bool     // open_id whose service-market order ended: refresh answers 100200101
	badCodes  map[string]error    // code → the exchange's answer
	refreshes atomic.Int64
	discards  atomic.Int64
	exchanges atomic.Int64
	delay     time.Duration
	offset    atomic.Int64 // the shared test clock: time.Now() + offset

	exchangeDelay time.Duration
	refreshHook   func() // called inside Refresh before it answers (without f.mu)
}

func (f *fakeOAuth) now() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }

func newFakeOAuth() *fakeOAuth {
	return &fakeOAuth{live: map[string]string{}, scopesOf: map[string][]string{}, revoked: map[string]bool{}, ended: map[string]bool{}, badCodes: map[string]error{}}
}

func (f *fakeOAuth) issue(openID string, scopes []string) *oauth.Token {
	f.n++
	rt := fmt.Sprintf("rt-%s-%d", openID, f.n)
	f.live[rt] = openID
	f.scopesOf[rt] = scopes
	return &oauth.Token{AccessToken: fmt.Sprintf("at-%s-%d", openID, f.n), RefreshToken: rt, OpenID: openID,
		Scopes: scopes, Expiry: f.now().Add(48 * time.Hour), RefreshExpiry: f.now().Add(180 * 24 * time.Hour)}
}

// oauthErr is the platform's answer with result code r, classified by the
// code table as the OAuth client does it.
func oauthErr(method string, r int64, msg string) *platform.Error {
	return &platform.Error{Method: method, Result: r, Msg: msg, Class: platform.Classify(r, msg)}
}

// Exchange takes "open_id" or "open_id|scope,scope" as the code (default
// scope merchant_order).
func (f *fakeOAuth) Exchange(_ context.Context, code string) (*oauth.Token, error) {
	f.exchanges.Add(1)
	if f.exchangeDelay > 0 {
		time.Sleep(f.exchangeDelay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.badCodes[code]; err != nil {
		return nil, err
	}
	openID, scopes, ok := strings.Cut(code, "|")
	if !ok {
		scopes = "merchant_order"
	}
	return f.issue(openID, strings.Split(scopes, ",")), nil
}

func (f *fakeOAuth) Refresh(_ context.Context, rt string) (*oauth.Token, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.refreshHook != nil {
		f.refreshHook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	openID, ok := f.live[rt]
	if !ok {
		f.discards.Add(1)
		return nil, oauthErr(oauth.MethodRefreshToken, platform.ResultOAuthDenied, platform.MsgRefreshDiscarded)
	}
	if f.revoked[openID] {
		return nil, oauthErr(oauth.MethodRefreshToken, platform.ResultOAuthDenied, platform.MsgRefreshRevoked)
	}
	if f.ended[openID] {
		return nil, oauthErr(oauth.MethodRefreshToken, platform.ResultOAuthBadClient, "服务未订购")
	}
	delete(f.live, rt)
	f.refreshes.Add(1)
	return f.issue(openID, f.scopesOf[rt]), nil
}

func (f *fakeOAuth) ClientCredentials(context.Context) (*oauth.Token, error) {
	return &oauth.Token{AccessToken: "app-token", Expiry: f.now().Add(48 * time.Hour)}, nil
}

// env is one NATS store shared by several managers (replicas).
type env struct {
	st    *store.Store
	ts    *store.TokenStore
	oauth *fakeOAuth
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: tb.TempDir()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	k, _ := store.GenerateKey("k1")
	ring, _ := store.NewKeyring(k)
	ts, err := st.TokenStore(context.Background(), ring)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{st: st, ts: ts, oauth: newFakeOAuth()}
}

func (e *env) manager(tb testing.TB, id string) *Manager {
	tb.Helper()
	m, err := New(Config{AppKey: "ks1", Store: e.ts, OAuth: e.oauth, ReplicaID: id, LeaseTTL: 300 * time.Millisecond, Conn: e.st.Conn(), Now: e.oauth.now})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// expireAll moves the shared clock past every access token's expiry.
func (e *env) expireAll() { e.oauth.offset.Add(int64(49 * time.Hour)) }

func TestManager_OneRefreshAcrossReplicas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.oauth.delay = 30 * time.Millisecond // a refresh in flight long enough to race
	ms := []*Manager{e.manager(t, "a"), e.manager(t, "b"), e.manager(t, "c")}
	ctx := context.Background()
	a, err := ms[0].Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	if err != nil {
		t.Fatal(err)
	}
	e.expireAll()
	var wg sync.WaitGroup
	var failures atomic.Int32
	tokens := sync.Map{}
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, err := ms[i%3].Shop(ctx, a.OpenID)
			if err == nil {
				var tok string
				if tok, err = src.Token(ctx); err == nil {
					tokens.Store(tok, true)
				}
			}
			if err != nil {
				failures.Add(1)
				t.Log(err)
			}
		}()
	}
	wg.Wait()
	n := 0
	tokens.Range(func(any, any) bool { n++; return true })
	if failures.Load() != 0 || e.oauth.refreshes.Load() != 1 || e.oauth.discards.Load() != 0 || n != 1 {
		t.Fatalf("failures=%d refreshes=%d discards=%d distinct tokens=%d; want 0,1,0,1", failures.Load(), e.oauth.refreshes.Load(), e.oauth.discards.Load(), n)
	}
}

func TestManager_CrashedLeaseHolderIsTakenOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "survivor")
	ctx := context.Background()
	a, err := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	if err != nil {
		t.Fatal(err)
	}
	// A replica took the lease and died before refreshing.
	e.expireAll()
	cur, rev, _ := e.ts.Get(ctx, a.OpenID)
	cur.LeaseOwner, cur.LeaseExpiry = "dead-replica", e.oauth.now().Add(200*time.Millisecond)
	if _, err := e.ts.Update(ctx, cur, rev); err != nil {
		t.Fatal(err)
	}
	src, _ := m.Shop(ctx, a.OpenID)
	tok, err := src.Token(ctx)
	if err != nil || tok == a.AccessToken {
		t.Fatalf("token %q err %v", tok, err)
	}
	after, _, _ := e.ts.Get(ctx, a.OpenID)
	if e.oauth.refreshes.Load() != 1 || after.LeaseOwner != "" || after.AccessToken != tok {
		t.Fatalf("refreshes=%d lease=%q stored token matches=%v", e.oauth.refreshes.Load(), after.LeaseOwner, after.AccessToken == tok)
	}
}

func TestManager_DiscardedRereadsStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	// Another party rotated the refresh token behind this manager's back:
	// the old one is now discarded, the store has the new pair.
	fresh, err := e.oauth.Refresh(ctx, a.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	cur, rev, _ := e.ts.Get(ctx, a.OpenID)
	stale := cur
	cur.AccessToken, cur.RefreshToken, cur.AccessExpiry = fresh.AccessToken, fresh.RefreshToken, fresh.Expiry
	if _, err := e.ts.Update(ctx, cur, rev); err != nil {
		t.Fatal(err)
	}
	_ = stale
	src, _ := m.Shop(ctx, a.OpenID)
	// Reactive path: the platform rejected the old access token.
	if err := src.(platform.Invalidator).Invalidate(ctx, a.AccessToken); err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token(ctx)
	if err != nil || tok != fresh.AccessToken {
		t.Fatalf("token %q err %v; want the stored fresh one", tok, err)
	}
	if e.oauth.discards.Load() != 0 {
		t.Fatal("the manager sent a discarded refresh token")
	}
}

func TestManager_RevokedAndEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := m.Watch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	if ev := <-events; ev.Type != EventAuthorized || ev.OpenID != a.OpenID || ev.Authorization.AccessToken != "" {
		t.Fatalf("event %+v", ev)
	}
	e.oauth.mu.Lock()
	e.oauth.revoked[a.OpenID] = true
	e.oauth.mu.Unlock()
	if _, err := m.Refresh(ctx, a.OpenID); !errors.As(err, new(*RevokedError)) {
		t.Fatalf("refresh of a revoked shop: %v", err)
	}
	if ev := <-events; ev.Type != EventRevoked {
		t.Fatalf("event %+v", ev)
	}
	if _, err := m.Shop(ctx, a.OpenID); !errors.As(err, new(*RevokedError)) {
		t.Fatalf("Shop after revocation: %v", err)
	}
}

func TestManager_ScanExpiresAndWarns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, _ := m.Watch(ctx, "")
	a, _ := m.Authorize(ctx, "soon", store.SourceOAuthFlow, true)
	b, _ := m.Authorize(ctx, "gone", store.SourceOAuthFlow, false)
	<-events
	<-events
	for _, x := range []struct {
		openID string
		rt     time.Time
	}{{a.OpenID, time.Now().Add(3 * 24 * time.Hour)}, {b.OpenID, time.Now().Add(-time.Hour)}} {
		cur, rev, _ := e.ts.Get(ctx, x.openID)
		cur.RefreshExpiry = x.rt
		cur.CreatedAt = time.Now().Add(-9*24*time.Hour - time.Hour) // store stamps CreatedAt only when empty
		if _, err := e.ts.Update(ctx, cur, rev); err != nil {
			t.Fatal(err)
		}
	}
	m.Scan(ctx)
	got := map[EventType]string{}
	for range 3 {
		ev := <-events
		got[ev.Type] = ev.OpenID
	}
	if got[EventExpired] != b.OpenID || got[EventExpiringSoon] != a.OpenID || got[EventTestUserCutoff] != a.OpenID {
		t.Fatalf("events %v", got)
	}
	m.Scan(ctx) // warnings are not repeated within a day
	select {
	case ev := <-events:
		t.Fatalf("repeated event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func BenchmarkShopToken_CacheHit(b *testing.B) {
	e := newEnv(b)
	m := e.manager(b, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	src, _ := m.Shop(ctx, a.OpenID)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRefreshStorm expires 1 000 shops at once and has three replicas
// ask for every shop's token concurrently; one op = the whole storm.
func BenchmarkRefreshStorm(b *testing.B) {
	const shops = 1000
	e := newEnv(b)
	ms := []*Manager{e.manager(b, "a"), e.manager(b, "b"), e.manager(b, "c")}
	ctx := context.Background()
	ids := make([]string, shops)
	for i := range ids {
		a, err := ms[0].Authorize(ctx, "shop"+strconv.Itoa(i), store.SourceOAuthFlow, false)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = a.OpenID
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		e.expireAll()
		before := e.oauth.refreshes.Load()
		b.StartTimer()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for i, id := range ids {
			for r := range 3 {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					src, err := ms[(i+r)%3].Shop(ctx, id)
					if err == nil {
						_, err = src.Token(ctx)
					}
					if err != nil {
						b.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		if got := e.oauth.refreshes.Load() - before; got != shops {
			b.Fatalf("%d refreshes for %d shops", got, shops)
		}
	}
}

// blockingCC holds ClientCredentials until released, honouring its ctx as
// an HTTP call would.
type blockingCC struct {
	*fakeOAuth
	calls   atomic.Int64
	started chan struct{} // closed when the first call is in flight
	release chan struct{}
}

func (b *blockingCC) ClientCredentials(ctx context.Context) (*oauth.Token, error) {
	if b.calls.Add(1) == 1 {
		close(b.started)
	}
	select {
	case <-b.release:
		return b.fakeOAuth.ClientCredentials(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestManager_AppTokenSurvivesCanceledCaller: the app token's refresh runs
// on its own context, so the first caller leaving does not fail the others
// waiting for the same refresh, and the refresh is made once.
func TestManager_AppTokenSurvivesCanceledCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cc := &blockingCC{fakeOAuth: e.oauth, started: make(chan struct{}), release: make(chan struct{})}
	m, err := New(Config{AppKey: "ks1", Store: e.ts, OAuth: cc, ReplicaID: "a", Conn: e.st.Conn(), Now: e.oauth.now})
	if err != nil {
		t.Fatal(err)
	}
	src := m.App()
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := src.Token(first); firstErr <- err }()
	<-cc.started // the refresh is in flight on behalf of the first caller

	type result struct {
		tok string
		err error
	}
	second := make(chan result, 1)
	go func() { tok, err := src.Token(context.Background()); second <- result{tok, err} }()
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: err = %v, want context.Canceled", err)
	}
	close(cc.release)
	got := <-second
	if got.err != nil || got.tok != "app-token" {
		t.Fatalf("second caller: token %q, err %v; want app-token", got.tok, got.err)
	}
	if n := cc.calls.Load(); n != 1 {
		t.Errorf("%d client_credentials calls, want 1 (one refresh for both callers)", n)
	}
}
