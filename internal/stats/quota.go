package stats

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// QPSLimit is the app-level QPS limit of an API (the one table:
// platform.APIQPS).
func QPSLimit(api string) int64 { return int64(platform.APIQPS(api).App) }

// platformDay is the platform's day boundary: 00:00 China Standard Time
// (UTC+8, no daylight saving).
var platformDay = time.FixedZone("CST", 8*3600)

// dayStart is the start of the platform day holding t.
func dayStart(t time.Time) time.Time {
	y, m, d := t.In(platformDay).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, platformDay)
}

// Quota kinds.
const (
	QuotaAppDaily      = "app_daily"
	QuotaTestUserDaily = "test_user_daily"
	QuotaAPIQPS        = "api_qps"
)

// QuotaReport is the answer of Quota.
type QuotaReport struct {
	DayStart time.Time
	AppKey   string // the app filter, "" for none
	// AppDaily is the app's use against its daily quota: the filtered or
	// only app's; with several apps and no filter, all apps' calls against
	// the sum of their quotas.
	AppDaily  Use
	Apps      []AppQuota    // each app (the filtered one), in configured order
	TestUsers []TestUserUse // by app, then main account
	APIs      []APIQPS      // highest ratio first
	Warnings  []Warning     // oldest first
	WarnRatio float64
	QPSSince  time.Time
}

// AppQuota is one app's use of its daily quota; TestUserDaily is the cap of
// each of its test users (0 = the app has none: it is online).
type AppQuota struct {
	AppKey        string
	Daily         Use
	TestUserDaily int64
}

// Use is a count against a limit.
type Use struct {
	Used, Limit int64
	Ratio       float64
}

func use(used, limit int64) Use {
	u := Use{Used: used, Limit: limit}
	if limit > 0 {
		u.Ratio = float64(used) / float64(limit)
	}
	return u
}

// TestUserUse is one test user's daily use: a main account and its
// sub-accounts, which share one cap.
type TestUserUse struct {
	AppKey     string
	OpenID     string   // the main account
	SubOpenIDs []string // its sub-accounts that authorized the app, sorted
	Daily      Use
}

// APIQPS is an API's peak calls per second of one app against its limit.
type APIQPS struct {
	AppKey   string
	Method   string
	Peak     int64
	Limit    int64
	Ratio    float64
	PeakTime time.Time
}

// Warning is raised once per quota, app, subject and day when use crosses
// the warn ratio; it is stored in EventBucket so that exactly one replica
// raises it.
type Warning struct {
	Kind    string    `json:"kind"`
	AppKey  string    `json:"app,omitempty"`
	Subject string    `json:"subject,omitempty"` // test user open_id (main account) or API name
	Used    int64     `json:"used"`
	Limit   int64     `json:"limit"`
	Ratio   float64   `json:"ratio"`
	Time    time.Time `json:"time"`
	Replica string    `json:"replica"`
}

// quotaApps are the apps of the quota view: Config.Apps, or the one app of
// DailyQuota and TestUserDailyQuota (key "": the totals of all calls).
func (r *Recorder) quotaApps() []App {
	if len(r.cfg.Apps) > 0 {
		return r.cfg.Apps
	}
	return []App{{Daily: r.cfg.DailyQuota, TestUserDaily: r.cfg.TestUserDailyQuota}}
}

// Quota computes today's quota use of every app over all replicas
// (flushing this one first), raises the warnings due, and returns the view.
func (r *Recorder) Quota(ctx context.Context) (*QuotaReport, error) { return r.QuotaFor(ctx, "") }

// QuotaFor is Quota for one app (appKey "" = every app); ErrUnknownApp for
// a key that is none of Config.Apps.
func (r *Recorder) QuotaFor(ctx context.Context, appKey string) (*QuotaReport, error) {
	apps := r.quotaApps()
	if appKey != "" {
		i := slices.IndexFunc(apps, func(a App) bool { return a.Key == appKey })
		if i < 0 || len(r.cfg.Apps) == 0 {
			return nil, ErrUnknownApp
		}
		apps = apps[i : i+1]
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	day := dayStart(now)
	rep := &QuotaReport{DayStart: day.UTC(), AppKey: appKey, WarnRatio: r.cfg.WarnRatio}
	w := Windows["1h"]
	first, last := w.bounds(now)
	rep.QPSSince = time.Unix(first, 0).UTC()

	var sumUsed, sumLimit int64
	perShop := map[string]map[string]int64{} // app → open_id → reached calls today
	for _, app := range apps {
		seg := shopAll
		if app.Key != "" {
			seg = appSegment(app.Key)
		}
		// Daily use: hour records since the start of the platform day (UTC+8
		// is a whole number of hours, so hours align with days).
		hours, err := r.read(ctx, r.hours, seg, day.Unix(), now.Unix())
		if err != nil {
			return nil, err
		}
		var used int64
		shops := map[string]int64{}
		for _, rec := range hours {
			for _, c := range rec.APIs {
				used += c.Reached
			}
			for id, n := range rec.Shops {
				shops[id] += n
			}
		}
		perShop[app.Key] = shops
		rep.Apps = append(rep.Apps, AppQuota{AppKey: app.Key, Daily: use(used, app.Daily), TestUserDaily: app.TestUserDaily})
		sumUsed, sumLimit = sumUsed+used, sumLimit+app.Daily

		// QPS peaks: the minute records of the last hour, summed per second
		// across replicas (so the peak is exact, not a sum of per-replica
		// peaks).
		minutes, err := r.read(ctx, r.minutes, seg, first, last)
		if err != nil {
			return nil, err
		}
		rep.APIs = append(rep.APIs, peaks(app.Key, minutes)...)
	}
	rep.AppDaily = use(sumUsed, sumLimit)
	slices.SortFunc(rep.APIs, func(a, b APIQPS) int {
		return cmp.Or(cmp.Compare(b.Ratio, a.Ratio), cmp.Compare(a.AppKey, b.AppKey), cmp.Compare(a.Method, b.Method))
	})
	if r.cfg.Authorizations != nil {
		auths, err := r.cfg.Authorizations(ctx)
		if err != nil {
			return nil, fmt.Errorf("stats: quota: list authorizations: %w", err)
		}
		rep.TestUsers = testUsers(apps, r.quotaApps()[0].Key, auths, perShop)
	}

	// Warnings.
	for _, a := range rep.Apps {
		if a.Daily.Ratio >= r.cfg.WarnRatio && a.Daily.Limit > 0 {
			r.warn(ctx, day, Warning{Kind: QuotaAppDaily, AppKey: a.AppKey, Used: a.Daily.Used, Limit: a.Daily.Limit, Ratio: a.Daily.Ratio})
		}
	}
	for _, t := range rep.TestUsers {
		if t.Daily.Ratio >= r.cfg.WarnRatio && t.Daily.Limit > 0 {
			r.warn(ctx, day, Warning{Kind: QuotaTestUserDaily, AppKey: t.AppKey, Subject: t.OpenID, Used: t.Daily.Used, Limit: t.Daily.Limit, Ratio: t.Daily.Ratio})
		}
	}
	for _, q := range rep.APIs {
		if q.Ratio >= r.cfg.WarnRatio {
			r.warn(ctx, day, Warning{Kind: QuotaAPIQPS, AppKey: q.AppKey, Subject: q.Method, Used: q.Peak, Limit: q.Limit, Ratio: q.Ratio})
		}
	}
	all, err := r.warnings(ctx, day)
	if err != nil {
		return nil, err
	}
	for _, wn := range all {
		if appKey == "" || wn.AppKey == appKey {
			rep.Warnings = append(rep.Warnings, wn)
		}
	}

	if appKey == "" {
		r.quotaMu.Lock()
		r.lastQuota = rep
		r.quotaMu.Unlock()
	}
	return rep, nil
}

// peaks are the QPS peaks of one app's minute records.
func peaks(appKey string, minutes []*record) []APIQPS {
	perSecond := map[string]map[int64]int64{}
	for _, rec := range minutes {
		for api, secs := range rec.QPS {
			m := perSecond[api]
			if m == nil {
				m = map[int64]int64{}
				perSecond[api] = m
			}
			for off, n := range secs {
				m[rec.Start+off] += n
			}
		}
	}
	out := make([]APIQPS, 0, len(perSecond))
	for api, secs := range perSecond {
		q := APIQPS{AppKey: appKey, Method: api, Limit: QPSLimit(api)}
		for sec, n := range secs {
			if n > q.Peak || n == q.Peak && sec < q.PeakTime.Unix() {
				q.Peak, q.PeakTime = n, time.Unix(sec, 0).UTC()
			}
		}
		q.Ratio = float64(q.Peak) / float64(q.Limit)
		out = append(out, q)
	}
	return out
}

// testUsers groups the test users of apps by main account: a main account
// and its sub-accounts share one cap, and their calls today add up. An
// authorization without an app key (stored before apps were told apart)
// is the first app's (firstApp).
func testUsers(apps []App, firstApp string, auths []store.Authorization, perShop map[string]map[string]int64) []TestUserUse {
	type group struct {
		app, main string
		subs      []string
		used      int64
	}
	groups := map[[2]string]*group{}
	caps := map[string]int64{}
	for _, a := range apps {
		caps[a.Key] = a.TestUserDaily
	}
	for _, a := range auths {
		app := a.AppKey
		if app == "" || len(apps) == 1 && apps[0].Key == "" {
			app = firstApp
		}
		if !a.TestUser || a.OpenID == "" || caps[app] <= 0 {
			continue // not a test user, or of an app without test users or outside the view
		}
		main := a.MainAccount()
		g := groups[[2]string{app, main}]
		if g == nil {
			g = &group{app: app, main: main}
			groups[[2]string{app, main}] = g
		}
		if a.OpenID != main {
			g.subs = append(g.subs, a.OpenID)
		}
		g.used += perShop[app][a.OpenID]
	}
	out := make([]TestUserUse, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g.subs)
		out = append(out, TestUserUse{AppKey: g.app, OpenID: g.main, SubOpenIDs: g.subs, Daily: use(g.used, caps[g.app])})
	}
	slices.SortFunc(out, func(a, b TestUserUse) int {
		return cmp.Or(cmp.Compare(a.AppKey, b.AppKey), cmp.Compare(a.OpenID, b.OpenID))
	})
	return out
}

// warningKey is <day start>.<kind>.<subject>, with =<app key> after the
// kind for an app's warning; API names keep their dots.
func warningKey(day time.Time, w Warning) string {
	subject := w.Subject
	if subject == "" {
		subject = "app"
	}
	kind := w.Kind
	if w.AppKey != "" {
		kind += "=" + w.AppKey
	}
	return strconv.FormatInt(day.Unix(), 10) + "." + kind + "." + subject
}

// warn raises w unless some replica already did today: the event is
// created with KV Create, which only one writer wins. The winner logs a
// warning and counts it in kwaishop.quota.warnings.
func (r *Recorder) warn(ctx context.Context, day time.Time, w Warning) {
	if w.Subject != "" && !validSubject(w.Subject) || w.AppKey != "" && !validToken(w.AppKey) {
		return
	}
	w.Time, w.Replica = r.cfg.Now().UTC(), r.cfg.ReplicaID
	data, _ := json.Marshal(w)
	if _, err := r.events.Create(ctx, warningKey(day, w), data); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			r.cfg.Log.Warn("stats: could not store quota warning", "err", err)
		}
		return
	}
	r.cfg.Log.WarnContext(ctx, "stats: quota use crossed the warning threshold",
		"quota", w.Kind, "app", w.AppKey, "subject", w.Subject, "used", w.Used, "limit", w.Limit, "ratio", w.Ratio, "threshold", r.cfg.WarnRatio)
	if r.inst != nil {
		r.inst.warnings.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrQuotaKind, w.Kind)))
	}
}

// validSubject: open_ids and API names ([A-Za-z0-9_-] tokens joined by dots).
func validSubject(s string) bool {
	for _, t := range strings.Split(s, ".") {
		if !validToken(t) {
			return false
		}
	}
	return true
}

// warnings lists the warnings raised since day started.
func (r *Recorder) warnings(ctx context.Context, day time.Time) ([]Warning, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out []Warning
	err := store.EachEntry(ctx, r.events, strconv.FormatInt(day.Unix(), 10)+".>", func(e jetstream.KeyValueEntry) error {
		var wn Warning
		if json.Unmarshal(e.Value(), &wn) == nil {
			out = append(out, wn)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: warnings: %w", err)
	}
	slices.SortFunc(out, func(a, b Warning) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Subject, b.Subject))
	})
	return out, nil
}

// Metric attribute keys of the quota instruments.
const (
	AttrQuotaKind = "kwaishop.quota.kind"
	AttrMethod    = "kwaishop.method"
)

// instruments are the quota instruments (names in docs/observability.md).
type instruments struct {
	warnings metric.Int64Counter
}

func newInstruments(m metric.Meter, r *Recorder) (*instruments, error) {
	warnings, err := m.Int64Counter("kwaishop.quota.warnings",
		metric.WithDescription("Quota warnings raised (use crossed 90% of a daily quota or a QPS limit); counted by the replica that raised it."),
		metric.WithUnit("{warning}"))
	if err != nil {
		return nil, err
	}
	used, err := m.Int64ObservableGauge("kwaishop.quota.daily.used",
		metric.WithDescription("Calls that reached the platform today (UTC+8 day), all replicas, as of the last quota check."),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	limit, err := m.Int64ObservableGauge("kwaishop.quota.daily.limit",
		metric.WithDescription("The app's daily call quota (KWAISHOP_DAILY_QUOTA)."),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	util, err := m.Float64ObservableGauge("kwaishop.quota.utilization",
		metric.WithDescription("Quota use ratio as of the last quota check: app_daily; test_user_daily (the most used test user); api_qps per API (peak second of the last hour / QPS limit)."),
		metric.WithUnit("1"))
	if err != nil {
		return nil, err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		r.quotaMu.Lock()
		rep := r.lastQuota
		r.quotaMu.Unlock()
		if rep == nil {
			return nil
		}
		o.ObserveInt64(used, rep.AppDaily.Used)
		o.ObserveInt64(limit, rep.AppDaily.Limit)
		o.ObserveFloat64(util, rep.AppDaily.Ratio, metric.WithAttributes(attribute.String(AttrQuotaKind, QuotaAppDaily)))
		var maxTU float64
		for _, t := range rep.TestUsers {
			maxTU = max(maxTU, t.Daily.Ratio)
		}
		if len(rep.TestUsers) > 0 {
			o.ObserveFloat64(util, maxTU, metric.WithAttributes(attribute.String(AttrQuotaKind, QuotaTestUserDaily)))
		}
		for _, q := range rep.APIs {
			o.ObserveFloat64(util, q.Ratio, metric.WithAttributes(attribute.String(AttrQuotaKind, QuotaAPIQPS), attribute.String(AttrMethod, q.Method)))
		}
		return nil
	}, used, limit, util)
	if err != nil {
		return nil, err
	}
	return &instruments{warnings: warnings}, nil
}
