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

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
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
	DayStart  time.Time
	AppDaily  Use
	TestUsers []TestUserUse // by open_id
	APIs      []APIQPS      // highest ratio first
	Warnings  []Warning     // oldest first
	WarnRatio float64
	QPSSince  time.Time
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

// TestUserUse is one test user's daily use.
type TestUserUse struct {
	OpenID string
	Daily  Use
}

// APIQPS is an API's peak calls per second against its limit.
type APIQPS struct {
	Method   string
	Peak     int64
	Limit    int64
	Ratio    float64
	PeakTime time.Time
}

// Warning is raised once per quota, subject and day when use crosses the
// warn ratio; it is stored in EventBucket so that exactly one replica raises
// it.
type Warning struct {
	Kind    string    `json:"kind"`
	Subject string    `json:"subject,omitempty"` // test user open_id or API name
	Used    int64     `json:"used"`
	Limit   int64     `json:"limit"`
	Ratio   float64   `json:"ratio"`
	Time    time.Time `json:"time"`
	Replica string    `json:"replica"`
}

// Quota computes today's quota use over all replicas (flushing this one
// first), raises the warnings due, and returns the view.
func (r *Recorder) Quota(ctx context.Context) (*QuotaReport, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	day := dayStart(now)
	rep := &QuotaReport{DayStart: day.UTC(), WarnRatio: r.cfg.WarnRatio}

	// Daily use: hour records since the start of the platform day (UTC+8 is
	// a whole number of hours, so hours align with days).
	hours, err := r.read(ctx, r.hours, shopAll, day.Unix(), now.Unix())
	if err != nil {
		return nil, err
	}
	var appUsed int64
	perShop := map[string]int64{}
	for _, rec := range hours {
		for _, c := range rec.APIs {
			appUsed += c.Reached
		}
		for id, n := range rec.Shops {
			perShop[id] += n
		}
	}
	rep.AppDaily = use(appUsed, r.cfg.DailyQuota)
	if r.cfg.Authorizations != nil {
		auths, err := r.cfg.Authorizations(ctx)
		if err != nil {
			return nil, fmt.Errorf("stats: quota: list authorizations: %w", err)
		}
		for _, a := range auths {
			if a.TestUser && a.OpenID != "" {
				rep.TestUsers = append(rep.TestUsers, TestUserUse{OpenID: a.OpenID, Daily: use(perShop[a.OpenID], r.cfg.TestUserDailyQuota)})
			}
		}
		slices.SortFunc(rep.TestUsers, func(a, b TestUserUse) int { return cmp.Compare(a.OpenID, b.OpenID) })
	}

	// QPS peaks: the minute records of the last hour, summed per second
	// across replicas (so the peak is exact, not a sum of per-replica peaks).
	w := Windows["1h"]
	first, last := w.bounds(now)
	rep.QPSSince = time.Unix(first, 0).UTC()
	minutes, err := r.read(ctx, r.minutes, shopAll, first, last)
	if err != nil {
		return nil, err
	}
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
	for api, secs := range perSecond {
		q := APIQPS{Method: api, Limit: QPSLimit(api)}
		for sec, n := range secs {
			if n > q.Peak || n == q.Peak && sec < q.PeakTime.Unix() {
				q.Peak, q.PeakTime = n, time.Unix(sec, 0).UTC()
			}
		}
		q.Ratio = float64(q.Peak) / float64(q.Limit)
		rep.APIs = append(rep.APIs, q)
	}
	slices.SortFunc(rep.APIs, func(a, b APIQPS) int {
		return cmp.Or(cmp.Compare(b.Ratio, a.Ratio), cmp.Compare(a.Method, b.Method))
	})

	// Warnings.
	if rep.AppDaily.Ratio >= r.cfg.WarnRatio && rep.AppDaily.Limit > 0 {
		r.warn(ctx, day, Warning{Kind: QuotaAppDaily, Used: rep.AppDaily.Used, Limit: rep.AppDaily.Limit, Ratio: rep.AppDaily.Ratio})
	}
	for _, t := range rep.TestUsers {
		if t.Daily.Ratio >= r.cfg.WarnRatio && t.Daily.Limit > 0 {
			r.warn(ctx, day, Warning{Kind: QuotaTestUserDaily, Subject: t.OpenID, Used: t.Daily.Used, Limit: t.Daily.Limit, Ratio: t.Daily.Ratio})
		}
	}
	for _, q := range rep.APIs {
		if q.Ratio >= r.cfg.WarnRatio {
			r.warn(ctx, day, Warning{Kind: QuotaAPIQPS, Subject: q.Method, Used: q.Peak, Limit: q.Limit, Ratio: q.Ratio})
		}
	}
	if rep.Warnings, err = r.warnings(ctx, day); err != nil {
		return nil, err
	}

	r.quotaMu.Lock()
	r.lastQuota = rep
	r.quotaMu.Unlock()
	return rep, nil
}

// warningKey is <day start>.<kind>.<subject>; API names keep their dots.
func warningKey(day time.Time, w Warning) string {
	subject := w.Subject
	if subject == "" {
		subject = "app"
	}
	return strconv.FormatInt(day.Unix(), 10) + "." + w.Kind + "." + subject
}

// warn raises w unless some replica already did today: the event is
// created with KV Create, which only one writer wins. The winner logs a
// warning and counts it in kwaishop.quota.warnings.
func (r *Recorder) warn(ctx context.Context, day time.Time, w Warning) {
	if w.Subject != "" && !validSubject(w.Subject) {
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
		"quota", w.Kind, "subject", w.Subject, "used", w.Used, "limit", w.Limit, "ratio", w.Ratio, "threshold", r.cfg.WarnRatio)
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
