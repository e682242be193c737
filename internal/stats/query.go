package stats

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Window is a statistics window: Buckets aligned buckets of Step, the last
// one being the current.
type Window struct {
	Name    string
	Step    time.Duration
	Buckets int
}

// Windows are the windows GetApiStats accepts; "" means "1h".
var Windows = map[string]Window{
	"1h":  {Name: "1h", Step: time.Minute, Buckets: 60},
	"24h": {Name: "24h", Step: time.Hour, Buckets: 24},
	"7d":  {Name: "7d", Step: time.Hour, Buckets: 168},
}

// ErrUnknownWindow is returned for a window not in Windows.
var ErrUnknownWindow = errors.New("stats: unknown window (want 1h, 24h or 7d)")

// LookupWindow resolves a window name; "" is "1h".
func LookupWindow(name string) (Window, error) {
	if name == "" {
		name = "1h"
	}
	w, ok := Windows[name]
	if !ok {
		return Window{}, ErrUnknownWindow
	}
	return w, nil
}

// bounds returns the start of the first and of the last (current) bucket.
func (w Window) bounds(now time.Time) (first, last int64) {
	step := int64(w.Step / time.Second)
	s := now.Unix()
	last = s - s%step
	return last - int64(w.Buckets-1)*step, last
}

// APIReport is the answer of APIStats.
type APIReport struct {
	Window   string
	Start    time.Time // start of the first bucket
	End      time.Time // when computed
	Step     time.Duration
	OpenID   string
	AppKey   string // the app filter, "" for none
	Total    APIStats
	APIs     []APIStats // most calls first, then by name
	Apps     []AppStats // each app's totals (Config.Apps, or the filtered app), without a shop filter
	Replicas []string   // sorted
}

// AppStats are one app's totals in a window (their Method is empty).
type AppStats struct {
	AppKey string
	Total  APIStats
}

// APIStats are one API's numbers in a window.
type APIStats struct {
	Method                             string
	Calls, Successes, Failures         int64
	SuccessRate                        float64 // 0..1; 0 without calls
	P50MS, P95MS, P99MS, MeanMS, MaxMS float64
	ByClass                            []ClassCount  // largest first
	ByResult                           []ResultCount // largest first
	Timeline                           []Point       // one per bucket, oldest first
}

// ClassCount is a number of failures of one error class.
type ClassCount struct {
	Class string
	Count int64
}

// ResultCount is a number of failures with one result code.
type ResultCount struct {
	Result int64
	Count  int64
}

// Point is one timeline bucket.
type Point struct {
	Start           time.Time
	Calls, Failures int64
}

// ErrUnknownApp is returned for an app filter that names no configured app.
var ErrUnknownApp = errors.New("stats: unknown app (not one of the configured apps)")

// APIQuery selects an API report: a window ("" = 1h), and optionally the
// calls of one shop or of one app.
type APIQuery struct {
	Window, OpenID, AppKey string
}

// APIStats reports every API called in window, for one shop when openID is
// set. It flushes this replica first.
func (r *Recorder) APIStats(ctx context.Context, window, openID string) (*APIReport, error) {
	return r.APIStatsFor(ctx, APIQuery{Window: window, OpenID: openID})
}

// APIStatsFor reports every API called in q's window: all calls, one
// shop's (OpenID) or one app's (AppKey; with OpenID too, the shop's). The
// report's Apps rows hold each app's totals (only the filtered app's with
// AppKey, none with OpenID). It flushes this replica first.
func (r *Recorder) APIStatsFor(ctx context.Context, q APIQuery) (*APIReport, error) {
	w, err := LookupWindow(q.Window)
	if err != nil {
		return nil, err
	}
	apps := r.appKeys()
	if q.AppKey != "" && !slices.Contains(apps, q.AppKey) {
		return nil, ErrUnknownApp
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	first, last := w.bounds(now)
	seg := shopAll
	switch {
	case q.OpenID != "":
		if !validToken(q.OpenID) {
			return nil, fmt.Errorf("stats: invalid open_id")
		}
		seg = q.OpenID
	case q.AppKey != "":
		seg = appSegment(q.AppKey)
	}
	recs, err := r.read(ctx, r.bucketFor(w), seg, first, last)
	if err != nil {
		return nil, err
	}
	rep := &APIReport{Window: w.Name, Start: time.Unix(first, 0).UTC(), End: now.UTC(), Step: w.Step, OpenID: q.OpenID, AppKey: q.AppKey}
	var replicas map[string]bool
	rep.Total, rep.APIs, replicas = aggregate(recs, w, first)
	if q.OpenID == "" {
		if q.AppKey != "" {
			apps = []string{q.AppKey}
		}
		for _, app := range apps {
			total := rep.Total
			if q.AppKey == "" {
				recs, err := r.read(ctx, r.bucketFor(w), appSegment(app), first, last)
				if err != nil {
					return nil, err
				}
				total, _, _ = aggregate(recs, w, first)
			}
			rep.Apps = append(rep.Apps, AppStats{AppKey: app, Total: total})
		}
	}
	for id := range replicas {
		rep.Replicas = append(rep.Replicas, id)
	}
	slices.Sort(rep.Replicas)
	return rep, nil
}

// appKeys are the configured apps' keys, in order.
func (r *Recorder) appKeys() []string {
	out := make([]string, 0, len(r.cfg.Apps))
	for _, a := range r.cfg.Apps {
		out = append(out, a.Key)
	}
	return out
}

// aggregate sums records of one segment: the totals, one entry per API
// (most calls first) and the replicas seen.
func aggregate(recs []*record, w Window, first int64) (APIStats, []APIStats, map[string]bool) {
	step := int64(w.Step / time.Second)
	type acc struct {
		total *cell
		line  []Point
	}
	newAcc := func() *acc {
		a := &acc{total: newCell(), line: make([]Point, w.Buckets)}
		for i := range a.line {
			a.line[i].Start = time.Unix(first+int64(i)*step, 0).UTC()
		}
		return a
	}
	all := newAcc()
	per := map[string]*acc{}
	replicas := map[string]bool{}
	for _, rec := range recs {
		replicas[rec.Replica] = true
		i := (rec.Start - first) / step
		for api, c := range rec.APIs {
			a := per[api]
			if a == nil {
				a = newAcc()
				per[api] = a
			}
			for _, x := range []*acc{a, all} {
				x.total.add(c)
				x.line[i].Calls += c.Calls
				x.line[i].Failures += c.Failures
			}
		}
	}
	apis := make([]APIStats, 0, len(per))
	for api, a := range per {
		apis = append(apis, summarize(api, a.total, a.line))
	}
	slices.SortFunc(apis, func(a, b APIStats) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Method, b.Method))
	})
	return summarize("", all.total, all.line), apis, replicas
}

func summarize(method string, c *cell, line []Point) APIStats {
	s := APIStats{Method: method, Calls: c.Calls, Failures: c.Failures, Successes: c.Calls - c.Failures, Timeline: line, MaxMS: c.MaxMS}
	if c.Calls > 0 {
		s.SuccessRate = float64(s.Successes) / float64(c.Calls)
		s.MeanMS = c.SumMS / float64(c.Calls)
		s.P50MS = c.Hist.quantile(0.50, c.MaxMS)
		s.P95MS = c.Hist.quantile(0.95, c.MaxMS)
		s.P99MS = c.Hist.quantile(0.99, c.MaxMS)
	}
	for k, n := range c.Classes {
		s.ByClass = append(s.ByClass, ClassCount{k, n})
	}
	slices.SortFunc(s.ByClass, func(a, b ClassCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class))
	})
	for k, n := range c.Results {
		s.ByResult = append(s.ByResult, ResultCount{k, n})
	}
	slices.SortFunc(s.ByResult, func(a, b ResultCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Result, b.Result))
	})
	return s
}

func (r *Recorder) bucketFor(w Window) jetstream.KeyValue {
	if w.Step < time.Hour {
		return r.minutes
	}
	return r.hours
}

// read returns every replica's records of shop whose period starts in
// [first, last].
func (r *Recorder) read(ctx context.Context, kv jetstream.KeyValue, shop string, first, last int64) ([]*record, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out []*record
	err := store.EachEntry(ctx, kv, "*.*."+shop, func(e jetstream.KeyValueEntry) error {
		start, _, _, err := parseRecordKey(e.Key())
		if err != nil || start < first || start > last {
			return nil
		}
		var rec record
		if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.V != recordVersion {
			r.cfg.Log.Warn("stats: skipping unreadable record", "key", e.Key())
			return nil
		}
		rec.Start = start
		out = append(out, &rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: read: %w", err)
	}
	return out, nil
}

// MessageReport is the answer of MessageStatsFor.
type MessageReport struct {
	Window    string
	Start     time.Time
	End       time.Time
	Step      time.Duration
	AppKey    string // the app filter, "" for none
	Total     MessageCounts
	Timeline  []MessagePoint
	Apps      []AppMessages // each app's totals (Config.Apps, or the filtered app)
	Consumers []ConsumerLag // by name
}

// MessageCounts are pushed-message counters.
type MessageCounts struct {
	Received, Duplicated, Delivered, DeadLettered int64
}

// AppMessages are one app's message counts in a window.
type AppMessages struct {
	AppKey string
	Total  MessageCounts
}

// MessagePoint is one timeline bucket of message flow.
type MessagePoint struct {
	Start time.Time
	MessageCounts
}

// ConsumerLag is a consumer's last reported pending count.
type ConsumerLag struct {
	Consumer string
	Pending  int64
	At       time.Time
}

// MessageQuery selects a message report: a window ("" = 1h), and
// optionally one app's messages.
type MessageQuery struct {
	Window, AppKey string
}

// MessageStats reports the message flow of every app in window.
func (r *Recorder) MessageStats(ctx context.Context, window string) (*MessageReport, error) {
	return r.MessageStatsFor(ctx, MessageQuery{Window: window})
}

// MessageStatsFor reports message flow in q's window: every app's, or one
// app's (AppKey), with the report's Apps rows holding each app's totals
// (only the filtered app's with AppKey), and the latest lag of every
// consumer seen in the window. A consumer group reads every app's messages,
// so its lag is reported with or without the app filter. It flushes this
// replica first.
func (r *Recorder) MessageStatsFor(ctx context.Context, q MessageQuery) (*MessageReport, error) {
	w, err := LookupWindow(q.Window)
	if err != nil {
		return nil, err
	}
	apps := r.appKeys()
	if q.AppKey != "" {
		if !slices.Contains(apps, q.AppKey) {
			return nil, ErrUnknownApp
		}
		apps = []string{q.AppKey}
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	first, last := w.bounds(now)
	kv := r.bucketFor(w)
	all, err := r.read(ctx, kv, shopAll, first, last)
	if err != nil {
		return nil, err
	}
	rep := &MessageReport{Window: w.Name, Start: time.Unix(first, 0).UTC(), End: now.UTC(), Step: w.Step, AppKey: q.AppKey}
	counts := all
	for _, app := range apps {
		recs, err := r.read(ctx, kv, appSegment(app), first, last)
		if err != nil {
			return nil, err
		}
		total, _ := sumMessages(recs, w, first)
		rep.Apps = append(rep.Apps, AppMessages{AppKey: app, Total: total})
		if q.AppKey != "" {
			counts = recs
		}
	}
	rep.Total, rep.Timeline = sumMessages(counts, w, first)
	lags := map[string]lagValue{}
	for _, rec := range all {
		for name, l := range rec.Lag {
			if cur, ok := lags[name]; !ok || l.At > cur.At {
				lags[name] = l
			}
		}
	}
	for name, l := range lags {
		rep.Consumers = append(rep.Consumers, ConsumerLag{Consumer: name, Pending: l.Pending, At: time.UnixMilli(l.At).UTC()})
	}
	slices.SortFunc(rep.Consumers, func(a, b ConsumerLag) int { return cmp.Compare(a.Consumer, b.Consumer) })
	return rep, nil
}

// sumMessages sums the message counts of records of one segment: the
// total and one point per bucket of w.
func sumMessages(recs []*record, w Window, first int64) (MessageCounts, []MessagePoint) {
	step := int64(w.Step / time.Second)
	line := make([]MessagePoint, w.Buckets)
	for i := range line {
		line[i].Start = time.Unix(first+int64(i)*step, 0).UTC()
	}
	var total MessageCounts
	for _, rec := range recs {
		m := MessageCounts(rec.Msgs)
		total.add(m)
		line[(rec.Start-first)/step].add(m)
	}
	return total, line
}

func (m *MessageCounts) add(o MessageCounts) {
	m.Received += o.Received
	m.Duplicated += o.Duplicated
	m.Delivered += o.Delivered
	m.DeadLettered += o.DeadLettered
}
