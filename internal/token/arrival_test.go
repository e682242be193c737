package token

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// flowManager is a manager with the consent flow (states) and a
// re-authorization URL, like the gateway's.
func (e *env) flowManager(tb testing.TB, id string) *Manager {
	tb.Helper()
	states, err := store.NewStateStore(context.Background(), e.st.JetStream(), 1, 0)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := New(Config{
		AppKey: "ks1", Store: e.ts, OAuth: e.oauth, ReplicaID: id, LeaseTTL: 300 * time.Millisecond, Conn: e.st.Conn(), Now: e.oauth.now,
		States: states, AuthorizeURL: "https://open.example/oauth/authorize", RedirectURI: "https://gw.example/oauth/callback",
		ReauthorizeURL: func(openID string, scopes []string) string {
			return "https://gw.example/oauth/start?" + url.Values{"open_id": {openID}, "scope": {strings.Join(scopes, ",")}}.Encode()
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// nextEvent waits for the next event of type want, skipping others.
func nextEvent(t *testing.T, events <-chan Event, want EventType) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == want {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", want)
		}
	}
}

func TestManager_SubscriptionExpiredOnRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := m.Watch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Authorize(ctx, "shop1|merchant_order,merchant_item", store.SourceServiceMarket, false)
	if err != nil {
		t.Fatal(err)
	}
	e.oauth.mu.Lock()
	e.oauth.ended[a.OpenID] = true
	e.oauth.mu.Unlock()
	e.expireAll()

	src, err := m.Shop(ctx, a.OpenID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Token(ctx)
	var serr *SubscriptionError
	if !errors.As(err, &serr) || serr.OpenID != a.OpenID || !strings.Contains(serr.ReauthorizeURL, "merchant_item") {
		t.Fatalf("token of a shop whose order ended: %v, want *SubscriptionError with a reauthorize URL", err)
	}
	if errors.As(err, new(*RevokedError)) {
		t.Fatal("a subscription failure looks like a revocation")
	}
	ev := nextEvent(t, events, EventSubscriptionExpired)
	if ev.OpenID != a.OpenID || ev.Authorization.Status != store.StatusSubscriptionExpired || !strings.Contains(ev.Message, "100200101") {
		t.Fatalf("event %+v", ev)
	}
	got, _, _ := e.ts.Get(ctx, a.OpenID)
	if got.Status != store.StatusSubscriptionExpired || got.Source != store.SourceServiceMarket {
		t.Fatalf("stored status %q source %q", got.Status, got.Source)
	}

	// Fail fast: neither Shop nor Token asks the platform again.
	before := e.oauth.refreshes.Load() + e.oauth.discards.Load()
	for range 3 {
		if _, err := m.Shop(ctx, a.OpenID); !errors.As(err, new(*SubscriptionError)) {
			t.Fatalf("Shop: %v", err)
		}
		if _, err := src.Token(ctx); !errors.As(err, new(*SubscriptionError)) {
			t.Fatalf("Token: %v", err)
		}
	}
	m.Scan(ctx) // the background loop leaves a blocked shop alone
	if e.oauth.refreshes.Load()+e.oauth.discards.Load() != before {
		t.Fatal("a shop whose order ended reached the platform")
	}

	// A recheck that fails again is no new event; one after renewal
	// returns the shop to active.
	if _, err := m.Refresh(ctx, a.OpenID); !errors.As(err, new(*SubscriptionError)) {
		t.Fatalf("recheck before renewal: %v", err)
	}
	e.oauth.mu.Lock()
	e.oauth.ended[a.OpenID] = false
	e.oauth.mu.Unlock()
	renewed, err := m.Refresh(ctx, a.OpenID)
	if err != nil || renewed.Status != store.StatusActive {
		t.Fatalf("recheck after renewal: %v %v", renewed.Status, err)
	}
	if ev := nextEvent(t, events, EventRefreshed); ev.Authorization.Status != store.StatusActive {
		t.Fatalf("event %+v", ev)
	}
	if tok, err := src.Token(ctx); err != nil || tok != renewed.AccessToken {
		t.Fatalf("token after renewal %q %v", tok, err)
	}
}

func TestManager_SubscriptionDistinctFromCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	e.oauth.mu.Lock()
	e.oauth.live = map[string]string{} // forget every refresh token
	e.oauth.mu.Unlock()
	bad := &badClientOAuth{fakeOAuth: e.oauth, msg: "app_secret invalid"}
	m2, err := New(Config{AppKey: "ks1", Store: e.ts, OAuth: bad, ReplicaID: "b", Conn: e.st.Conn(), Now: e.oauth.now})
	if err != nil {
		t.Fatal(err)
	}
	// The app's own secret is wrong: unauthorized_client naming it is not a
	// merchant's order, so the shop is refresh_failed, not subscription_expired.
	if _, err := m2.Refresh(ctx, a.OpenID); err == nil || errors.As(err, new(*SubscriptionError)) {
		t.Fatalf("refresh with a wrong app secret: %v", err)
	}
	got, _, _ := e.ts.Get(ctx, a.OpenID)
	if got.Status != store.StatusRefreshFailed {
		t.Fatalf("status %q, want refresh_failed", got.Status)
	}
}

// badClientOAuth answers every refresh with 100200101 and msg.
type badClientOAuth struct {
	*fakeOAuth
	msg string
}

func (b *badClientOAuth) Refresh(context.Context, string) (*oauth.Token, error) {
	return nil, oauthErr(oauth.MethodRefreshToken, platform.ResultOAuthBadClient, b.msg)
}

func TestManager_ReauthorizationReturnsToActive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	e.oauth.mu.Lock()
	e.oauth.ended[a.OpenID] = true
	e.oauth.mu.Unlock()
	if _, err := m.Refresh(ctx, a.OpenID); !errors.As(err, new(*SubscriptionError)) {
		t.Fatalf("refresh: %v", err)
	}
	// The merchant renews and presses "use service": a stateless code.
	b, err := m.Accept(ctx, "shop1|merchant_order", store.SourceServiceMarket)
	if err != nil || b.Status != store.StatusActive || b.Source != store.SourceServiceMarket {
		t.Fatalf("accept: %+v %v", b, err)
	}
	if _, err := m.Shop(ctx, a.OpenID); err != nil {
		t.Fatalf("Shop after re-authorization: %v", err)
	}
}

func TestManager_CompleteExchange100200101MarksKnownShop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
	st, err := m.Start(ctx, []string{"merchant_order"}, "", a.OpenID) // the reauthorize URL's flow
	if err != nil {
		t.Fatal(err)
	}
	e.oauth.mu.Lock()
	e.oauth.badCodes["notordered"] = oauthErr(oauth.MethodAccessToken, platform.ResultOAuthBadClient, "服务未订购")
	e.oauth.mu.Unlock()
	_, _, err = m.Complete(ctx, "notordered", st.State)
	if !platform.IsClass(err, platform.ClassSubscription) {
		t.Fatalf("complete: %v, want the platform's subscription error", err)
	}
	got, _, _ := e.ts.Get(ctx, a.OpenID)
	if got.Status != store.StatusSubscriptionExpired {
		t.Fatalf("status %q", got.Status)
	}
}

func TestManager_AcceptChecksCodeAndSharesExchanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	ctx := context.Background()
	for _, code := range []string{"", strings.Repeat("a", MaxCodeLen+1), "shop1\n", "shop\x00"} {
		if _, err := m.Accept(ctx, code, store.SourceServiceMarket); !errors.As(err, new(*InvalidError)) {
			t.Fatalf("code %q: %v", code, err)
		}
		if _, _, err := m.Complete(ctx, code, "some-state"); !errors.As(err, new(*InvalidError)) {
			t.Fatalf("complete code %q: %v", code, err)
		}
	}
	if _, err := m.Accept(ctx, "shop1", store.SourceOAuthFlow); err == nil {
		t.Fatal("Accept took a source that is not a platform-issued code's")
	}
	if n := e.oauth.exchanges.Load(); n != 0 {
		t.Fatalf("%d exchanges for refused codes", n)
	}
	// A double click: the same code twice at once is one exchange.
	e.oauth.exchangeDelay = 50 * time.Millisecond
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := m.Accept(ctx, "shop2", store.SourceConsole); err == nil && a.OpenID == "shop2" && a.Source == store.SourceConsole {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 || e.oauth.exchanges.Load() != 1 {
		t.Fatalf("%d callers authorized with %d exchanges; want 5 with 1", ok.Load(), e.oauth.exchanges.Load())
	}
}

// TestManager_AcceptOutlivesCaller: a caller leaving mid-exchange does not
// lose the single-use code's tokens.
func TestManager_AcceptOutlivesCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	e.oauth.exchangeDelay = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := m.Accept(ctx, "shop3", store.SourceServiceMarket); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("accept: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if a, _, err := e.ts.Get(context.Background(), "shop3"); err == nil && a.Status == store.StatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the exchanged tokens were not stored after the caller left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestManager_RevokedAnswerAsksTheRefreshEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		mark  func(f *fakeOAuth, openID string)
		want  string
		event EventType
	}{
		{"order_ended", func(f *fakeOAuth, id string) { f.ended[id] = true }, store.StatusSubscriptionExpired, EventSubscriptionExpired},
		{"revoked", func(f *fakeOAuth, id string) { f.revoked[id] = true }, store.StatusRevoked, EventRevoked},
		{"refresh_works", func(*fakeOAuth, string) {}, store.StatusRevoked, EventRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			m := e.flowManager(t, "a")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events, _ := m.Watch(ctx, "")
			a, _ := m.Authorize(ctx, "shop1", store.SourceOAuthFlow, false)
			e.oauth.mu.Lock()
			tc.mark(e.oauth, a.OpenID)
			e.oauth.mu.Unlock()
			src, _ := m.Shop(ctx, a.OpenID)
			src.(platform.RevocationReporter).Revoked(ctx) // the API answered 24
			got, _, _ := e.ts.Get(ctx, a.OpenID)
			if got.Status != tc.want {
				t.Fatalf("status %q, want %q", got.Status, tc.want)
			}
			nextEvent(t, events, tc.event)
			if _, err := m.Shop(ctx, a.OpenID); err == nil {
				t.Fatal("calls do not fail fast")
			}
		})
	}
}

func TestManager_PermissionErrorNamesMissingScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.flowManager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1|merchant_order,user_info", store.SourceOAuthFlow, false)
	src, _ := m.Shop(ctx, a.OpenID)
	px := src.(platform.PermissionExplainer)
	for _, tc := range []struct {
		method, msg, missing string
	}{
		{"open.item.list.get", "no permission", "merchant_item"},
		{"open.seller.order.refund.detail", "", "merchant_refund"},
		{"open.funds.center.account.info", "token中无scope权限: needs scope merchant_promotion", "merchant_promotion"}, // the message wins
		{"open.funds.center.account.info", "no permission", ""},                                                    // not in the table
		{"open.order.detail", "no permission", ""},                                                                 // already granted
	} {
		perr := &platform.Error{Method: tc.method, Result: platform.ResultNoPermission, Msg: tc.msg, Class: platform.ClassPermission}
		err := px.ExplainPermission(ctx, perr)
		var se *ScopeError
		if !errors.As(err, &se) || se.Missing != tc.missing || !errors.Is(err, perr) {
			t.Fatalf("%s %q: %v (missing %q), want missing %q wrapping the platform error", tc.method, tc.msg, err, se.Missing, tc.missing)
		}
		if tc.missing == "" {
			if se.ReauthorizeURL != "" {
				t.Fatalf("%s: a reauthorize URL that cannot help: %s", tc.method, se.ReauthorizeURL)
			}
			continue
		}
		u, _ := url.Parse(se.ReauthorizeURL)
		if got := strings.Split(u.Query().Get("scope"), ","); !slices.Equal(got, []string{"merchant_order", "user_info", tc.missing}) || u.Query().Get("open_id") != a.OpenID {
			t.Fatalf("%s: reauthorize URL %s", tc.method, se.ReauthorizeURL)
		}
	}
}

// TestManager_UpgradeDuringRefreshKeepsNewGrant: the merchant re-authorizes
// with more scopes while a refresh of the old grant is in flight; the
// refresh's late write must not replace the upgraded grant.
func TestManager_UpgradeDuringRefreshKeepsNewGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.manager(t, "a")
	ctx := context.Background()
	a, _ := m.Authorize(ctx, "shop1|merchant_order", store.SourceOAuthFlow, false)
	upgraded := make(chan store.Authorization, 1)
	var once sync.Once
	e.oauth.refreshHook = func() {
		once.Do(func() {
			b, err := m.Authorize(ctx, "shop1|merchant_order,merchant_item", store.SourceOAuthFlow, false)
			if err != nil {
				t.Error(err)
			}
			upgraded <- b
		})
	}
	if _, err := m.Refresh(ctx, a.OpenID); err != nil {
		t.Fatal(err)
	}
	b := <-upgraded
	got, _, _ := e.ts.Get(ctx, a.OpenID)
	if got.RefreshToken != b.RefreshToken || !slices.Contains(got.Scopes, "merchant_item") {
		t.Fatalf("stored scopes %v (refresh token of the upgrade: %v); the refresh overwrote the upgraded grant", got.Scopes, got.RefreshToken == b.RefreshToken)
	}
	src, _ := m.Shop(ctx, a.OpenID)
	if tok, err := src.Token(ctx); err != nil || tok != b.AccessToken {
		t.Fatalf("token after the upgrade: %q %v", tok, err)
	}
}

// TestManager_CallsContinueThroughUpgrade: callers on two replicas ask for
// the shop's token without pause while the merchant re-authorizes with more
// scopes; none fails, and after the upgrade every replica hands out the new
// token.
func TestManager_CallsContinueThroughUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ms := []*Manager{e.manager(t, "a"), e.manager(t, "b")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, m := range ms {
		go func() { _ = m.Run(ctx) }() // follow the store, as the gateway does
	}
	a, _ := ms[0].Authorize(ctx, "shop1|merchant_order", store.SourceOAuthFlow, false)
	stop := make(chan struct{})
	var failures, calls atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				src, err := ms[i%2].Shop(ctx, a.OpenID)
				if err == nil {
					_, err = src.Token(ctx)
				}
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					t.Log(err)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	b, err := ms[1].Authorize(ctx, "shop1|merchant_order,merchant_item", store.SourceOAuthFlow, false)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, m := range ms {
		for {
			src, _ := m.Shop(ctx, a.OpenID)
			if tok, _ := src.Token(ctx); tok == b.AccessToken {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a replica still hands out the old token")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || calls.Load() < 100 {
		t.Fatalf("%d of %d token requests failed during the upgrade", failures.Load(), calls.Load())
	}
}
