// Package limit keeps the gateway under the platform's call limits before
// the platform sees a call (internal/platform/limits.go): the app's QPS per
// API (and the per-user QPS of the APIs that have one), the app's daily
// call quota and each test user's daily quota. Going over costs the whole
// app, so the budgets are shared by every replica through NATS JetStream:
//
//   - QPS: one GCRA schedule per API (and per shop for per-user caps) in a
//     memory KV bucket. A call books the next free slot with one
//     compare-and-swap and waits for it, so calls are paced at the limit
//     across all replicas together, however the load is spread. Slots are
//     spaced for the limit less Config.Headroom, which absorbs network
//     jitter and clock skew between replicas and the platform.
//   - Daily quotas: counters in a file KV bucket, leased in blocks (see
//     quotas), so the total handed out never exceeds the quota.
//
// A call whose slot is further away than Config.MaxQueue fails at once with
// a *Error (RESOURCE_EXHAUSTED with RetryInfo at the service edge), unless
// the caller asked to wait (WithWait, metadata x-kwaishop-wait: true): then
// it waits up to its deadline. Priorities (PriorityOf) keep the end of the
// daily quotas and of the in-flight slots for writes.
//
// Several apps share one Limiter: each app's gate (ForApp) books its own
// QPS schedules and draws from its own daily quota and test-user caps, as
// the platform counts them per app; the in-flight cap is the replica's.
//
// When the store cannot be reached, calls fail with KindUnavailable (fail
// closed: an unknown budget is not spent).
package limit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// KV buckets.
const (
	// SlotBucket holds the QPS schedules (memory storage: a slot is worth
	// one second; losing them on a NATS restart only restarts pacing).
	SlotBucket = "kwaishop_limit_slots"
	// QuotaBucket holds the daily counters (file storage).
	QuotaBucket = "kwaishop_limit_quota"
)

// Rate is a per-API QPS limit: App for the whole app, User per shop (0: none).
type Rate struct {
	App  float64
	User float64
}

// PlatformRates are the per-API QPS caps that differ from DefaultQPS, from
// the one table in internal/platform.
var PlatformRates = func() map[string]Rate {
	out := map[string]Rate{}
	for m, q := range platform.QPSRows() {
		out[m] = Rate{App: float64(q.App), User: float64(q.User)}
	}
	return out
}()

// Platform defaults (internal/platform/limits.go).
const (
	DefaultQPS           = platform.DefaultAPIQPS
	DailyTest            = platform.DailyCallsTest
	DailyOnline          = platform.DailyCallsOnline
	DefaultTestUserDaily = platform.TestUserDailyCalls
)

// Config configures a Limiter. A zero limit means "no limit".
type Config struct {
	JetStream jetstream.JetStream // required
	Replicas  int                 // replicas of the KV buckets; default 1

	// QPS is each API's QPS for the app unless Rates names the API.
	QPS float64
	// Rates are per-API limits (nil: PlatformRates).
	Rates map[string]Rate
	// Headroom is the fraction of every QPS limit left unused, for jitter
	// between replicas and the platform; default 0.1, at most 0.5,
	// NoHeadroom for none.
	Headroom float64
	// AppDaily is the app's calls per day (the platform's day, UTC+8).
	AppDaily int64
	// TestUserDaily caps each test user's calls per day (set it when the
	// app is in test state: every authorized shop is then a test user). A
	// main account and its sub-accounts count as one (TestUser).
	TestUserDaily int64
	// TestUser names the test user whose cap a shop's calls count against
	// (optional: each shop is its own): the token manager answers the
	// merchant's seller id, which a main account and its sub-accounts share
	// (docs/apps.md). It is asked only when a test-user cap applies.
	TestUser func(ctx context.Context, openID string) string
	// MaxQueue is how long a call that did not ask to wait may wait for a
	// QPS slot before failing; default 1s. NoQueue: not at all.
	MaxQueue time.Duration
	// MaxInFlight caps concurrent upstream calls of this replica (low
	// priority may use half, normal three quarters).
	MaxInFlight int

	// Now is the clock of the daily quotas (default time.Now). QPS slots
	// always use the wall clock: they are shared with other hosts.
	Now func() time.Time
	Log *slog.Logger // default slog.Default()
}

// The Config values that turn a default off (their zero value selects the
// default): no headroom, and no queueing for a QPS slot. Any negative value
// means the same.
const (
	NoHeadroom float64       = -1
	NoQueue    time.Duration = -1
)

// Validate reports every violation at once.
func (c Config) Validate() error {
	var errs []error
	if c.JetStream == nil {
		errs = append(errs, errors.New("limit: JetStream is required"))
	}
	if c.QPS < 0 || c.AppDaily < 0 || c.TestUserDaily < 0 || c.MaxInFlight < 0 {
		errs = append(errs, errors.New("limit: limits must not be negative (0 = no limit)"))
	}
	if c.Headroom > 0.5 {
		errs = append(errs, fmt.Errorf("limit: Headroom %v: want at most 0.5", c.Headroom))
	}
	for m, r := range c.Rates {
		if !platform.ValidMethodName(m) {
			errs = append(errs, fmt.Errorf("limit: Rates: %q is not an API name", m))
		}
		if r.App < 0 || r.User < 0 {
			errs = append(errs, fmt.Errorf("limit: Rates: %s: limits must not be negative", m))
		}
	}
	return errors.Join(errs...)
}

// Limiter is the platform.Gate of the client-side limits. It is safe for
// concurrent use.
type Limiter struct {
	cfg      Config
	slots    *schedule
	quotas   *quotas
	inflight *inflight
	days     calendar
}

var _ platform.Gate = (*Limiter)(nil)

// New opens (creating if missing) the KV buckets and returns a Limiter.
func New(ctx context.Context, cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Rates == nil {
		cfg.Rates = PlatformRates
	}
	cfg.Rates = maps.Clone(cfg.Rates)
	switch {
	case cfg.Headroom == 0:
		cfg.Headroom = 0.1
	case cfg.Headroom < 0:
		cfg.Headroom = 0
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	slotKV, err := store.OpenBucket(ctx, cfg.JetStream, jetstream.KeyValueConfig{
		Bucket: SlotBucket, Description: "kwaishop-gateway QPS schedules (next free slot per API)",
		History: 1, TTL: time.Minute, Storage: jetstream.MemoryStorage, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	quotaKV, err := store.OpenBucket(ctx, cfg.JetStream, jetstream.KeyValueConfig{
		Bucket: QuotaBucket, Description: "kwaishop-gateway daily call counters (UTC+8 days)",
		History: 1, TTL: 49 * time.Hour, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return &Limiter{
		cfg:      cfg,
		slots:    &schedule{kv: slotKV, now: time.Now, keys: map[string]*slotState{}},
		quotas:   &quotas{kv: quotaKV, leases: map[string]*lease{}},
		inflight: &inflight{max: cfg.MaxInFlight},
	}, nil
}

// Close gives this replica's unused leased daily calls back.
func (l *Limiter) Close(ctx context.Context) { l.quotas.release(ctx) }

// Rate returns the QPS limits of method (before headroom).
func (l *Limiter) Rate(method string) Rate {
	if r, ok := l.cfg.Rates[method]; ok {
		return r
	}
	return Rate{App: l.cfg.QPS}
}

// reserveForCall is kept of a waiting caller's deadline for the call itself.
const reserveForCall = 250 * time.Millisecond

// storeTimeout bounds one limiter store round trip.
const storeTimeout = 2 * time.Second

// App is one app's budget: its own QPS schedules, daily quota and
// test-user caps (the platform counts all of them per app).
type App struct {
	Key           string // the appKey: letters, digits, '-' and '_'
	Daily         int64  // the app's calls per day (0 = no limit)
	TestUserDaily int64  // each test user's (main account's) calls per day (0 = no cap)
}

// ForApp returns the gate of one app (app.Key must be a valid KV key
// token; New's callers check app keys with the configuration).
func (l *Limiter) ForApp(app App) platform.Gate { return appGate{l: l, app: app} }

type appGate struct {
	l   *Limiter
	app App
}

func (g appGate) Admit(ctx context.Context, a platform.Attempt) (func(platform.Outcome), error) {
	return g.l.admit(ctx, g.app, a)
}

// Admit implements platform.Gate with the Limiter's own budget
// (Config.AppDaily and TestUserDaily): for one app, or for callers that do
// not tell apps apart.
func (l *Limiter) Admit(ctx context.Context, a platform.Attempt) (func(platform.Outcome), error) {
	return l.admit(ctx, App{Daily: l.cfg.AppDaily, TestUserDaily: l.cfg.TestUserDaily}, a)
}

// keys are the KV keys of one app's budget: the Limiter's own (app "")
// keeps the keys of a single-app gateway; an app's carry its key after
// '=', which no API name or day holds.
type keys struct{ app string }

func (k keys) qps(method string) string {
	if k.app == "" {
		return "qps." + method
	}
	return "qps=" + k.app + "." + method
}

func (k keys) daily(today string) (name, key string) {
	if k.app == "" {
		return "app", "day." + today + ".app"
	}
	return "app=" + k.app, "day." + today + ".app=" + k.app
}

func (k keys) testUser(today, user string) (name, key string) {
	if k.app == "" {
		return "shop." + user, "day." + today + ".shop." + user
	}
	return "user=" + k.app + "." + user, "day." + today + ".user=" + k.app + "." + user
}

// admit is Admit for app: quotas, then a QPS slot (waiting for it), then
// an in-flight slot held until done.
func (l *Limiter) admit(ctx context.Context, app App, a platform.Attempt) (func(platform.Outcome), error) {
	p := PriorityOf(ctx, a)
	refuse := func(k Kind, limit float64, retry time.Duration, err error) error {
		return &Error{Kind: k, Method: a.Method, Limit: limit, RetryAfter: retry, Priority: p, Err: err, Waited: Waits(ctx)}
	}
	storeErr := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.cfg.Log.WarnContext(ctx, "limit store unavailable", "method", a.Method, "err", err)
		return refuse(KindUnavailable, 0, time.Second, err)
	}
	today, untilTomorrow := l.days.day(l.cfg.Now())
	ks := keys{app.Key}
	var qs []quotaRef
	if app.Daily > 0 {
		name, key := ks.daily(today)
		qs = append(qs, quotaRef{KindDaily, name, key, app.Daily})
	}
	if app.TestUserDaily > 0 && a.OpenID != "" {
		user := a.OpenID
		if l.cfg.TestUser != nil {
			if u := l.cfg.TestUser(ctx, a.OpenID); u != "" {
				user = u
			}
		}
		name, key := ks.testUser(today, encode(user))
		qs = append(qs, quotaRef{KindTestUserDaily, name, key, app.TestUserDaily})
	}
	// A used quota is known locally: refuse before booking a QPS slot.
	for _, q := range qs {
		if l.quotas.exhausted(q.name, q.key, q.limit, p) {
			return nil, refuse(q.kind, float64(q.limit), untilTomorrow, nil)
		}
	}

	// QPS: book the slots (per shop first, then the app's no earlier).
	maxDelay := l.cfg.MaxQueue
	if Waits(ctx) {
		maxDelay = time.Hour
	}
	if dl, ok := ctx.Deadline(); ok {
		maxDelay = min(maxDelay, time.Until(dl)-reserveForCall)
	}
	maxDelay = max(maxDelay, 0)
	r := l.Rate(a.Method)
	start := time.Now()
	sctx := &storeCtx{parent: ctx, deadline: start.Add(storeTimeout)}
	defer sctx.close()
	if r.User > 0 && a.OpenID != "" {
		s, err := l.slots.reserve(sctx.get, "user."+encode(a.OpenID)+"."+a.Method, l.interval(r.User), start, maxDelay)
		if err != nil {
			var tf tooFarError
			if errors.As(err, &tf) {
				return nil, refuse(KindUserQPS, r.User, tf.wait-maxDelay+l.interval(r.User), nil)
			}
			return nil, storeErr(err)
		}
		start = s
	}
	if r.App > 0 {
		s, err := l.slots.reserve(sctx.get, ks.qps(a.Method), l.interval(r.App), start, maxDelay)
		if err != nil {
			var tf tooFarError
			if errors.As(err, &tf) {
				return nil, refuse(KindQPS, r.App, tf.wait-maxDelay+l.interval(r.App), nil)
			}
			return nil, storeErr(err)
		}
		start = s
	}

	// Daily quotas: one call each (a store write once per leased block).
	for i, q := range qs {
		if err := l.quotas.take(sctx.get, q.name, q.key, q.limit, p); err != nil {
			l.giveBack(qs[:i])
			if errors.Is(err, errQuota) {
				return nil, refuse(q.kind, float64(q.limit), untilTomorrow, nil)
			}
			return nil, storeErr(err)
		}
	}

	if d := time.Until(start); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			l.giveBack(qs)
			return nil, ctx.Err()
		}
	}
	if !l.inflight.acquire(p) {
		l.giveBack(qs)
		return nil, refuse(KindInFlight, float64(l.cfg.MaxInFlight), 100*time.Millisecond, nil)
	}
	return func(platform.Outcome) { l.inflight.release() }, nil
}

// storeCtx is the context of one admission's store round trips, bounded by
// storeTimeout from the admission's start. It is made on first use: most
// admissions take their slot and daily calls from memory.
type storeCtx struct {
	parent   context.Context
	deadline time.Time
	ctx      context.Context
	cancel   context.CancelFunc
}

func (s *storeCtx) get() context.Context {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithDeadline(s.parent, s.deadline)
	}
	return s.ctx
}

func (s *storeCtx) close() {
	if s.cancel != nil {
		s.cancel()
	}
}

// quotaRef names one daily quota an attempt draws from.
type quotaRef struct {
	kind      Kind
	name, key string
	limit     int64
}

// giveBack returns the daily calls taken for an attempt that is not sent.
func (l *Limiter) giveBack(qs []quotaRef) {
	for _, q := range qs {
		l.quotas.giveBack(q.name, q.key)
	}
}

// interval is the slot spacing for a limit of qps calls per second.
func (l *Limiter) interval(qps float64) time.Duration {
	return time.Duration(float64(time.Second) / (qps * (1 - l.cfg.Headroom)))
}

// encode makes an open_id usable in a KV key.
func encode(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// inflight caps concurrent upstream calls, keeping a share for higher
// priorities.
type inflight struct {
	mu  sync.Mutex
	n   int
	max int // 0: no cap
}

func (f *inflight) acquire(p Priority) bool {
	if f.max <= 0 {
		return true
	}
	limit := f.max
	switch p {
	case PriorityLow:
		limit = max(f.max/2, 1)
	case PriorityNormal:
		limit = max(f.max*3/4, 1)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n >= limit {
		return false
	}
	f.n++
	return true
}

func (f *inflight) release() {
	if f.max <= 0 {
		return
	}
	f.mu.Lock()
	f.n--
	f.mu.Unlock()
}

// ParseRates parses per-API QPS limits, "method=app[/user],..." (for
// example "open.order.cursor.list=300/300,open.shop.info.get=20"), and
// returns them on top of PlatformRates. An empty s gives PlatformRates.
func ParseRates(s string) (map[string]Rate, error) {
	out := maps.Clone(PlatformRates)
	var errs []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		method, val, ok := strings.Cut(part, "=")
		if !ok || !platform.ValidMethodName(method) {
			errs = append(errs, fmt.Errorf("limit: %q: want method=app[/user]", part))
			continue
		}
		appS, userS, hasUser := strings.Cut(val, "/")
		var r Rate
		var err error
		if r.App, err = strconv.ParseFloat(appS, 64); err != nil || r.App < 0 {
			errs = append(errs, fmt.Errorf("limit: %s: app QPS %q: want a number >= 0 (0 = none)", method, appS))
			continue
		}
		if hasUser {
			if r.User, err = strconv.ParseFloat(userS, 64); err != nil || r.User < 0 {
				errs = append(errs, fmt.Errorf("limit: %s: user QPS %q: want a number >= 0 (0 = none)", method, userS))
				continue
			}
		}
		out[method] = r
	}
	return out, errors.Join(errs...)
}
