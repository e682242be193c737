// Package stats records every upstream platform call and answers, across
// all gateway replicas, what the platform console's data dashboard shows:
// per-API volume, success rate, latency percentiles, errors by class and
// result code, quota use, and pushed-message flow.
//
// Each replica accumulates cumulative records in memory, one per period
// (minute and hour), replica and shop segment, and flushes the changed ones
// to NATS KV every FlushInterval (key <period start>.<replica>.<shop>). A
// replica only ever writes its own keys and overwrites them with its
// cumulative view, so a flush is idempotent and needs no compare-and-swap;
// readers sum every replica's records of a window. Latency is kept in fixed
// buckets (LatencyBoundsMS), which add up exactly across replicas.
//
// Reads flush the answering replica first (read-your-writes per replica);
// another replica's calls become visible at its next flush. Minute records
// live 3 hours (the 1h window and the QPS view), hour records 8 days (24h
// and 7d windows, the daily quota).
package stats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// KV buckets.
const (
	MinuteBucket = "kwaishop_stats_minutes"
	HourBucket   = "kwaishop_stats_hours"
	EventBucket  = "kwaishop_stats_events"

	minuteTTL = 3 * time.Hour
	hourTTL   = 8 * 24 * time.Hour
	eventTTL  = 8 * 24 * time.Hour
)

// Defaults of Config.
const (
	DefaultFlushInterval      = 5 * time.Second
	DefaultQuotaCheckInterval = 30 * time.Second
	DefaultDailyQuota         = platform.DailyCallsTest       // calls/day before launch (internal/platform/limits.go)
	DefaultTestUserDailyQuota = platform.TestUserDailyCalls   // calls/day per test user
	DefaultWarnRatio          = platform.QuotaWarningFraction // the platform alerts at 90 %
	maxUncatalogued           = 100                           // distinct uncatalogued API names kept per record
	uncatalogued              = "uncatalogued"
)

// Config configures a Recorder.
type Config struct {
	JetStream jetstream.JetStream // required
	// KVReplicas is the replica count of the buckets when they are created
	// (default 1).
	KVReplicas int
	// ReplicaID names this replica in record keys; default: host name and a
	// random suffix, so a restarted process never overwrites the records of
	// its previous life. Letters, digits, '-' and '_' only.
	ReplicaID          string
	FlushInterval      time.Duration // default DefaultFlushInterval
	QuotaCheckInterval time.Duration // default DefaultQuotaCheckInterval
	DailyQuota         int64         // the app's daily call quota without Apps; default DefaultDailyQuota
	TestUserDailyQuota int64         // default DefaultTestUserDailyQuota
	WarnRatio          float64       // default DefaultWarnRatio
	// Apps are the apps whose calls RecordApp records: the quota view
	// reports each against its own quotas. None: the calls of Record count
	// against DailyQuota and TestUserDailyQuota.
	Apps []App
	// Authorizations lists the stored authorizations, to find the test users
	// (optional; without it no test user appears in the quota view).
	Authorizations func(ctx context.Context) ([]store.Authorization, error)
	// Meter receives the quota instruments (optional).
	Meter metric.Meter
	Log   *slog.Logger
	Now   func() time.Time // default time.Now
}

// Validate reports every violation.
func (c Config) Validate() error {
	var errs []error
	if c.JetStream == nil {
		errs = append(errs, errors.New("stats: JetStream is required"))
	}
	if c.ReplicaID != "" && !validToken(c.ReplicaID) {
		errs = append(errs, errors.New("stats: ReplicaID must be letters, digits, '-' or '_' (at most 128)"))
	}
	if c.FlushInterval < 0 || c.QuotaCheckInterval < 0 {
		errs = append(errs, errors.New("stats: intervals must not be negative"))
	}
	if c.DailyQuota < 0 || c.TestUserDailyQuota < 0 {
		errs = append(errs, errors.New("stats: quotas must not be negative"))
	}
	seen := map[string]bool{}
	for _, a := range c.Apps {
		switch {
		case !validToken(a.Key):
			errs = append(errs, errors.New("stats: an app key must be letters, digits, '-' or '_'"))
		case seen[a.Key]:
			errs = append(errs, fmt.Errorf("stats: app %s listed twice", a.Key))
		case a.Daily < 0 || a.TestUserDaily < 0:
			errs = append(errs, fmt.Errorf("stats: app %s: quotas must not be negative", a.Key))
		}
		seen[a.Key] = true
	}
	if c.WarnRatio < 0 || c.WarnRatio > 1 {
		errs = append(errs, errors.New("stats: WarnRatio must be between 0 and 1"))
	}
	return errors.Join(errs...)
}

// Recorder records calls and messages of this replica and reads the
// statistics of all replicas. It is safe for concurrent use.
type Recorder struct {
	cfg            Config
	minutes, hours jetstream.KeyValue
	events         jetstream.KeyValue
	inst           *instruments

	mu      sync.Mutex
	pending map[pkey]*entry

	flushMu sync.Mutex // one flush at a time, so an older snapshot never overwrites a newer one

	quotaMu   sync.Mutex
	lastQuota *QuotaReport
}

type pkey struct {
	hour  bool
	start int64
	shop  string
}

type entry struct {
	rec   *record
	dirty bool
}

// New opens (creating when missing) the stats buckets.
func New(ctx context.Context, cfg Config) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.KVReplicas <= 0 {
		cfg.KVReplicas = 1
	}
	if cfg.ReplicaID == "" {
		cfg.ReplicaID = defaultReplicaID()
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.QuotaCheckInterval == 0 {
		cfg.QuotaCheckInterval = DefaultQuotaCheckInterval
	}
	if cfg.DailyQuota == 0 {
		cfg.DailyQuota = DefaultDailyQuota
	}
	if cfg.TestUserDailyQuota == 0 {
		cfg.TestUserDailyQuota = DefaultTestUserDailyQuota
	}
	if cfg.WarnRatio == 0 {
		cfg.WarnRatio = DefaultWarnRatio
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Recorder{cfg: cfg, pending: map[pkey]*entry{}}
	var err error
	if r.minutes, err = openBucket(ctx, cfg.JetStream, MinuteBucket, "kwaishop-gateway per-minute call statistics per replica", minuteTTL, cfg.KVReplicas); err != nil {
		return nil, err
	}
	if r.hours, err = openBucket(ctx, cfg.JetStream, HourBucket, "kwaishop-gateway per-hour call statistics per replica", hourTTL, cfg.KVReplicas); err != nil {
		return nil, err
	}
	if r.events, err = openBucket(ctx, cfg.JetStream, EventBucket, "kwaishop-gateway quota warnings", eventTTL, cfg.KVReplicas); err != nil {
		return nil, err
	}
	if cfg.Meter != nil {
		if r.inst, err = newInstruments(cfg.Meter, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func openBucket(ctx context.Context, js jetstream.JetStream, name, desc string, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	return store.OpenBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: name, Description: desc, History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: replicas,
	})
}

func defaultReplicaID() string {
	host, _ := os.Hostname()
	return UniqueReplicaID(host)
}

// UniqueReplicaID turns base (a host or pod name) into a replica id: its
// letters, digits, '-' and '_' (at most 48) and a random suffix, so a
// restarted process never overwrites the records of its earlier life.
func UniqueReplicaID(base string) string {
	var b strings.Builder
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		b.WriteString("gateway")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return b.String() + "-" + hex.EncodeToString(rnd[:])
}

// ReplicaID is this replica's name in record keys.
func (r *Recorder) ReplicaID() string { return r.cfg.ReplicaID }

// Class names of failures that are not platform errors.
const (
	ClassToken    = "token"    // the token source failed; nothing was sent
	ClassCanceled = "canceled" // the caller's context ended
)

// ClassOf names the error class of an upstream attempt ("" on success).
func ClassOf(ci platform.CallInfo) string {
	if ci.Err == nil {
		return ""
	}
	var pe *platform.Error
	switch {
	case errors.As(ci.Err, &pe):
		return pe.Class.String()
	case ci.Class != platform.ClassUnknown:
		return ci.Class.String()
	case errors.Is(ci.Err, context.Canceled), errors.Is(ci.Err, context.DeadlineExceeded):
		return ClassCanceled
	default:
		return ClassToken
	}
}

// App is one app whose calls are told apart: its key and its daily
// quotas (0 TestUserDaily: the app has no test users).
type App struct {
	Key                  string
	Daily, TestUserDaily int64
}

// Record adds one upstream attempt (a platform.Config.Observe hook).
func (r *Recorder) Record(ci platform.CallInfo) { r.RecordApp("", ci) }

// RecordApp adds one upstream attempt of the app appKey: to the totals of
// all apps, the app's own totals and the shop's ("" = no app's totals).
func (r *Recorder) RecordApp(appKey string, ci platform.CallInfo) {
	now := r.cfg.Now().Unix()
	ms := float64(ci.Duration) / float64(time.Millisecond)
	failed := ci.Err != nil
	reached := ci.HTTPStatus != 0
	class := ClassOf(ci)
	shop := shopSegment(ci.OpenID)
	minute, hour := now-now%60, now-now%3600
	keys := [...]pkey{{false, minute, shopAll}, {false, minute, shop}, {true, hour, shopAll}, {true, hour, shop}, {}, {}}
	n := 4
	if appKey != "" && validToken(appKey) {
		seg := appSegment(appKey)
		keys[4], keys[5], n = pkey{false, minute, seg}, pkey{true, hour, seg}, 6
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	api := r.apiName(ci.Method, minute, hour)
	for _, k := range keys[:n] {
		rec := r.touch(k)
		rec.cell(api).observe(ms, failed, reached, class, ci.Result)
		if !totals(k.shop) || !reached {
			continue
		}
		if rec.Shops == nil {
			rec.Shops = map[string]int64{}
		}
		rec.Shops[ci.OpenID]++
		if !k.hour {
			if rec.QPS == nil {
				rec.QPS = map[string]map[int64]int64{}
			}
			if rec.QPS[api] == nil {
				rec.QPS[api] = map[int64]int64{}
			}
			rec.QPS[api][now-minute]++
		}
	}
}

// apiName keeps uncatalogued names (any caller may send any valid name)
// from growing a record without bound.
func (r *Recorder) apiName(method string, minute, hour int64) string {
	if _, ok := platform.LookupAPI(method); ok {
		return method
	}
	for _, k := range [...]pkey{{false, minute, shopAll}, {true, hour, shopAll}} {
		e := r.pending[k]
		if e == nil {
			continue
		}
		if _, seen := e.rec.APIs[method]; seen {
			continue
		}
		n := 0
		for name := range e.rec.APIs {
			if _, ok := platform.LookupAPI(name); !ok {
				n++
			}
		}
		if n >= maxUncatalogued {
			return uncatalogued
		}
	}
	return method
}

// touch returns the pending record of k, marked dirty. r.mu is held.
func (r *Recorder) touch(k pkey) *record {
	e := r.pending[k]
	if e == nil {
		e = &entry{rec: &record{V: recordVersion, Replica: r.cfg.ReplicaID, Start: k.start}}
		r.pending[k] = e
	}
	e.dirty = true
	return e.rec
}

// Message kinds for RecordMessage.
const (
	MessageReceived     = "received"
	MessageDuplicated   = "duplicated"
	MessageDelivered    = "delivered"
	MessageDeadLettered = "dead_lettered"
)

// RecordMessage counts one pushed message event of kind (MessageReceived,
// ...) of the app appKey: in the totals of all apps and, for a configured
// app (Config.Apps), in the app's own ("" or another key: the totals only).
func (r *Recorder) RecordMessage(appKey, kind string) {
	now := r.cfg.Now().Unix()
	minute, hour := now-now%60, now-now%3600
	keys := [...]pkey{{false, minute, shopAll}, {true, hour, shopAll}, {}, {}}
	n := 2
	if appKey != "" && r.servesApp(appKey) {
		seg := appSegment(appKey)
		keys[2], keys[3], n = pkey{false, minute, seg}, pkey{true, hour, seg}, 4
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys[:n] {
		m := &r.touch(k).Msgs
		switch kind {
		case MessageReceived:
			m.Received++
		case MessageDuplicated:
			m.Duplicated++
		case MessageDelivered:
			m.Delivered++
		case MessageDeadLettered:
			m.DeadLettered++
		}
	}
}

// servesApp reports whether appKey is one of Config.Apps.
func (r *Recorder) servesApp(appKey string) bool {
	for _, a := range r.cfg.Apps {
		if a.Key == appKey {
			return true
		}
	}
	return false
}

// RecordLag stores a consumer's pending count as of now.
func (r *Recorder) RecordLag(consumer string, pending int64) {
	now := r.cfg.Now()
	s := now.Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range [...]pkey{{false, s - s%60, shopAll}, {true, s - s%3600, shopAll}} {
		rec := r.touch(k)
		if rec.Lag == nil {
			rec.Lag = map[string]lagValue{}
		}
		rec.Lag[consumer] = lagValue{Pending: pending, At: now.UnixMilli()}
	}
}

// Flush writes every record changed since the last flush, then forgets the
// records of periods that are over and written.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	type write struct {
		k    pkey
		data []byte
	}
	var writes []write
	r.mu.Lock()
	for k, e := range r.pending {
		if !e.dirty {
			continue
		}
		data, err := json.Marshal(e.rec)
		if err != nil { // cannot happen: plain maps and numbers
			r.mu.Unlock()
			return fmt.Errorf("stats: encode record: %w", err)
		}
		e.dirty = false
		writes = append(writes, write{k, data})
	}
	r.mu.Unlock()

	var errs []error
	for _, w := range writes {
		kv := r.minutes
		if w.k.hour {
			kv = r.hours
		}
		if _, err := kv.Put(ctx, recordKey(w.k.start, r.cfg.ReplicaID, w.k.shop), w.data); err != nil {
			r.mu.Lock()
			r.pending[w.k].dirty = true // write again next time
			r.mu.Unlock()
			errs = append(errs, err)
		}
	}

	now := r.cfg.Now().Unix()
	r.mu.Lock()
	for k, e := range r.pending {
		width := int64(60)
		if k.hour {
			width = 3600
		}
		if !e.dirty && k.start+width <= now {
			delete(r.pending, k)
		}
	}
	r.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("stats: flush: %w", errors.Join(errs...))
	}
	return nil
}

// Run flushes every FlushInterval and checks the quotas every
// QuotaCheckInterval until ctx ends. It does not flush at the end: call
// Flush with a fresh context after Run returns.
func (r *Recorder) Run(ctx context.Context) {
	flush := time.NewTicker(r.cfg.FlushInterval)
	defer flush.Stop()
	quota := time.NewTicker(r.cfg.QuotaCheckInterval)
	defer quota.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Log.Warn("stats: flush failed; will retry", "err", err)
			}
		case <-quota.C:
			if _, err := r.Quota(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Log.Warn("stats: quota check failed", "err", err)
			}
		}
	}
}
