package token

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// twoApps is a manager of two apps, each with its own token endpoints.
func twoApps(t *testing.T) (*env, *Manager, *fakeOAuth, *fakeOAuth) {
	t.Helper()
	e := newEnv(t)
	states, err := store.NewStateStore(context.Background(), e.st.JetStream(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newFakeOAuth(), newFakeOAuth()
	m, err := New(Config{
		Apps: []App{
			{Key: "ksA", OAuth: a, RedirectURI: "https://gw.example/oauth/callback/ksA", TestApp: true},
			{Key: "ksB", OAuth: b, RedirectURI: "https://gw.example/oauth/callback/ksB"},
		},
		Store: e.ts, States: states, AuthorizeURL: "https://open.example/oauth/authorize", Conn: e.st.Conn(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, m, a, b
}

// Each authorization belongs to its app: exchanged, refreshed and named
// with that app's endpoints and key; app-level tokens are per app; a
// caller that names no app among several is refused.
func TestManagerApps_AuthorizationsBelongToTheirApp(t *testing.T) {
	t.Parallel()
	e, m, oa, ob := twoApps(t)
	ctx := context.Background()
	a, err := m.AcceptApp(ctx, "ksA", "shopA", store.SourceServiceMarket)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.AuthorizeApp(ctx, "ksB", "shopB", store.SourceOAuthFlow, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.AppKey != "ksA" || !a.TestUser || b.AppKey != "ksB" || b.TestUser || oa.exchanges.Load() != 1 || ob.exchanges.Load() != 1 {
		t.Fatalf("a %v, b %v; exchanges A %d B %d", a, b, oa.exchanges.Load(), ob.exchanges.Load())
	}
	for openID, want := range map[string]string{"shopA": "ksA", "shopB": "ksB"} {
		src, err := m.Shop(ctx, openID)
		if err != nil {
			t.Fatal(err)
		}
		if got := src.(interface{ AppKey() string }).AppKey(); got != want {
			t.Fatalf("%s's source names app %s, want %s", openID, got, want)
		}
		if got, err := m.ShopApp(ctx, openID); err != nil || got != want {
			t.Fatalf("ShopApp(%s) = %s %v", openID, got, err)
		}
	}
	if _, err := m.ShopApp(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ShopApp of an unknown shop: %v", err)
	}
	// Refreshes go to the shop's own app.
	if _, err := m.Refresh(ctx, "shopB"); err != nil {
		t.Fatal(err)
	}
	if oa.refreshes.Load() != 0 || ob.refreshes.Load() != 1 {
		t.Fatalf("refreshes A %d B %d: shop B's went elsewhere", oa.refreshes.Load(), ob.refreshes.Load())
	}
	// App-level tokens: each app's own record.
	srcB, err := m.AppSource("ksB")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srcB.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _, err := e.ts.GetApp(ctx, "ksB"); err != nil || rec.AppKey != "ksB" {
		t.Fatalf("app record of B: %v %v", rec, err)
	}
	if _, _, err := e.ts.GetApp(ctx, "ksA"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("app A's token fetched for B: %v", err)
	}
	var ierr *InvalidError
	if _, err := m.App().Token(ctx); !errors.As(err, &ierr) || ierr.Violations[0].Field != "app_key" {
		t.Fatalf("the only app's token among two: %v", err)
	}
	for _, key := range []string{"", "ksZ"} {
		if _, err := m.AppSource(key); !errors.As(err, &ierr) {
			t.Fatalf("AppSource(%q): %v", key, err)
		}
		if _, err := m.AcceptApp(ctx, key, "shopZ", store.SourceConsole); !errors.As(err, &ierr) {
			t.Fatalf("AcceptApp(%q): %v", key, err)
		}
	}
	// One record per open_id: another app's exchange for the same open_id
	// never replaces it.
	if _, err := m.AuthorizeApp(ctx, "ksB", "shopA", store.SourceOAuthFlow, false); !errors.Is(err, ErrOtherApp) {
		t.Fatalf("app B's authorization of app A's open_id: %v", err)
	}
	if got, _ := m.ShopApp(ctx, "shopA"); got != "ksA" {
		t.Fatalf("shopA now belongs to %s", got)
	}
}

// A consent names its app in the state and the URL; the state comes back
// to that app only, and a re-authorization of a known shop is its app's.
func TestManagerApps_StatesBoundToTheirApp(t *testing.T) {
	t.Parallel()
	_, m, oa, ob := twoApps(t)
	ctx := context.Background()
	var ierr *InvalidError
	if _, err := m.Start(ctx, []string{"merchant_order"}, "", ""); !errors.As(err, &ierr) || ierr.Violations[0].Field != "app_key" {
		t.Fatalf("a start naming no app among two: %v", err)
	}
	st, err := m.StartApp(ctx, "ksB", []string{"merchant_order"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(st.URL)
	if q := u.Query(); q.Get("app_id") != "ksB" || q.Get("redirect_uri") != "https://gw.example/oauth/callback/ksB" {
		t.Fatalf("consent URL %s", st.URL)
	}
	// Back at app A's callback: refused before any exchange.
	if _, _, err := m.CompleteApp(ctx, "ksA", "shopB", st.State); !errors.Is(err, ErrStateInvalid) {
		t.Fatalf("app B's state at app A's callback: %v", err)
	}
	st, _ = m.StartApp(ctx, "ksB", []string{"merchant_order"}, "", "")
	a, _, err := m.CompleteApp(ctx, "", "shopB", st.State) // the shared callback: the state names the app
	if err != nil || a.AppKey != "ksB" || ob.exchanges.Load() != 1 || oa.exchanges.Load() != 0 {
		t.Fatalf("complete: %v %v (exchanges A %d B %d)", a, err, oa.exchanges.Load(), ob.exchanges.Load())
	}
	// Re-authorizing shopB (scope upgrade) needs no app: the shop's.
	re, err := m.StartApp(ctx, "", []string{"merchant_order", "merchant_item"}, "", "shopB")
	if err != nil || !strings.Contains(re.URL, "app_id=ksB") {
		t.Fatalf("re-authorization: %v %v", re, err)
	}
	if _, err := m.StartApp(ctx, "ksA", []string{"merchant_order"}, "", "shopB"); !errors.As(err, &ierr) {
		t.Fatalf("re-authorizing app B's shop for app A: %v", err)
	}
}

// A record of an app this gateway does not serve is left alone: no
// refresh with another app's credentials, no status change.
func TestManagerApps_OtherAppsRecordsUntouched(t *testing.T) {
	t.Parallel()
	e, m, oa, ob := twoApps(t)
	ctx := context.Background()
	if _, err := e.ts.Put(ctx, store.Authorization{OpenID: "elsewhere", AppKey: "ksGone", Status: store.StatusActive,
		AccessToken: "at", RefreshToken: "rt", AccessExpiry: time.Now().Add(-time.Hour), RefreshExpiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	m.Scan(ctx)
	if _, err := m.Refresh(ctx, "elsewhere"); !errors.Is(err, ErrAppNotServed) {
		t.Fatalf("refresh of another app's shop: %v", err)
	}
	a, _, err := e.ts.Get(ctx, "elsewhere")
	if err != nil || a.Status != store.StatusActive || a.RefreshToken != "rt" || oa.refreshes.Load()+ob.refreshes.Load() != 0 {
		t.Fatalf("another app's record changed: %v %v", a, err)
	}
}
