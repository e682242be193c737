package sandbox

import (
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/admin"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/gateway"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// tenant is one app with the parts that are its own: its test users and
// their shops (generated from its key, so open_ids differ per app), codes,
// tokens and orders, limits and pusher (rules, Several apps).
type tenant struct {
	app        *app.App
	messageKey string
	shops      *shop.Shops
	oauth      *oauth.Server
	limits     *limits.Limiter
	push       *pusher.Pusher
}

// newTenant builds the app ac (defaults filled in) on the sandbox's shared
// clock, faults and counters.
func (s *Sandbox) newTenant(ac AppConfig, start time.Time) (*tenant, error) {
	cfg := s.cfg
	t := &tenant{app: app.New(app.Spec{
		Key: ac.AppKey, Secret: ac.AppSecret, SignSecret: ac.SignSecret, SignMethod: ac.SignMethod,
		Type: ac.AppType, State: ac.AppState, CallbackURL: ac.CallbackURL, Scopes: ac.Scopes,
	}), messageKey: ac.MessageKey}
	t.limits = limits.New(t.app, cfg.Limits)
	t.shops = shop.NewShops(cfg.Seed, ac.AppKey, start, s.clock, t.emit)
	for i := 1; i <= cfg.TestUsers; i++ {
		if _, err := t.shops.AddTestUser(""); err != nil {
			return nil, err
		}
	}
	t.oauth = oauth.New(t.app, t.shops, s.clock, cfg.Logger, s.counters, s.faults,
		oauth.Options{RefreshGrace: cfg.RefreshGrace, TestAuthorizationTTL: cfg.TestAuthorizationTTL})
	t.push = pusher.New(pusher.Options{
		AppKey: ac.AppKey, MessageKey: ac.MessageKey, Seed: cfg.Seed,
		URL: ac.PushURL, DuplicateRate: cfg.PushDuplicateRate, DropRate: cfg.PushDropRate,
		HeartbeatInterval: cfg.HeartbeatInterval,
	}, s.clock, cfg.Logger)
	return t, nil
}

// emit produces the message of a change of the shop of main account u if
// the shop has a live authorization holding the event's scope (and, for a
// third-party app, a live order) [K4001], for the open_id oauth.Live names.
// It runs under the shops' lock.
func (t *tenant) emit(u shop.TestUser, event string, bizID int64, info any, now time.Time) {
	if openID, ok := t.oauth.Live(u.ID, rules.EventScope(event), now); ok {
		t.push.Enqueue(now, event, bizID, u.SellerID, openID, info)
	}
}

// config is the app's configuration as it is now.
func (t *tenant) config() AppConfig {
	return AppConfig{
		AppKey: t.app.Key, AppSecret: t.app.Secret, SignSecret: t.app.SignSecret, SignMethod: t.app.SignMethod,
		MessageKey: t.messageKey, AppType: t.app.Type, AppState: t.app.State(), CallbackURL: t.app.CallbackURL(),
		PushURL: t.push.Status().URL, Scopes: append([]string(nil), t.app.Scopes...),
	}
}

// App returns the sandbox as the app with this appKey sees it: the per-app
// methods (test users and sub-accounts, codes, revocation, the service
// market, app state and callback, limits and usage, orders and refunds,
// the pusher and pushes) then act on that app. The clock, faults,
// counters, the handler, WaitPushes and Close stay the whole sandbox's.
func (s *Sandbox) App(appKey string) (*Sandbox, bool) {
	t, ok := s.byKey[appKey]
	if !ok {
		return nil, false
	}
	v := *s
	v.tenant = t
	return &v, true
}

// AppKeys lists the apps' keys, the first app first.
func (s *Sandbox) AppKeys() []string {
	out := make([]string, len(s.apps))
	for i, t := range s.apps {
		out[i] = t.app.Key
	}
	return out
}

// gatewayApp is the API gateway's lookup by appkey.
func (s *Sandbox) gatewayApp(key string) (gateway.App, bool) {
	t, ok := s.byKey[key]
	if !ok {
		return gateway.App{}, false
	}
	return gateway.App{App: t.app, Tokens: t.oauth, Limits: t.limits, Shops: t.shops}, true
}

// oauthServer is the OAuth pages' and token endpoints' lookup by app_id.
func (s *Sandbox) oauthServer(appID string) (*oauth.Server, bool) {
	t, ok := s.byKey[appID]
	if !ok {
		return nil, false
	}
	return t.oauth, true
}

// adminTarget is the admin API's lookup by ?app= ("" = the first app).
func (s *Sandbox) adminTarget(key string) (admin.Target, bool) {
	if key == "" {
		key = s.apps[0].app.Key
	}
	v, ok := s.App(key)
	if !ok {
		return admin.Target{}, false
	}
	return admin.Target{Backend: v, App: v.app, Shops: v.shops}, true
}
