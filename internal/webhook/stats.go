package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// counters are one replica's delivery counters of one endpoint since it
// started.
type counters struct {
	Attempts     int64     `json:"attempts"`
	Successes    int64     `json:"successes"`
	Failures     int64     `json:"failures"`
	LatencySumMs float64   `json:"latency_sum_ms"`
	LatencyMaxMs float64   `json:"latency_max_ms"`
	LagMs        float64   `json:"lag_ms"` // of the latest success
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastFailure  time.Time `json:"last_failure,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
}

func (c *counters) add(o counters) {
	c.Attempts += o.Attempts
	c.Successes += o.Successes
	c.Failures += o.Failures
	c.LatencySumMs += o.LatencySumMs
	c.LatencyMaxMs = max(c.LatencyMaxMs, o.LatencyMaxMs)
	if o.LastSuccess.After(c.LastSuccess) {
		c.LastSuccess, c.LagMs = o.LastSuccess, o.LagMs
	}
	if o.LastFailure.After(c.LastFailure) {
		c.LastFailure, c.LastError = o.LastFailure, o.LastError
	}
}

// statsBook holds this replica's counters and writes them to the store.
type statsBook struct {
	key   string // this replica's key part
	mu    sync.Mutex
	m     map[string]*counters
	dirty map[string]bool
}

var kvKeyPart = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func newStatsBook(replica string) *statsBook {
	k := replica
	if !kvKeyPart.MatchString(k) {
		k = hashID(replica)
	}
	return &statsBook{key: k, m: map[string]*counters{}, dirty: map[string]bool{}}
}

func (b *statsBook) add(id string, res result, lag time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.m[id]
	if c == nil {
		c = &counters{}
		b.m[id] = c
	}
	ms := float64(res.latency) / float64(time.Millisecond)
	c.Attempts++
	c.LatencySumMs += ms
	c.LatencyMaxMs = max(c.LatencyMaxMs, ms)
	if res.ok {
		c.Successes++
		c.LastSuccess, c.LagMs = now, float64(lag)/float64(time.Millisecond)
	} else {
		c.Failures++
		c.LastFailure, c.LastError = now, res.err
	}
	b.dirty[id] = true
}

func (b *statsBook) forget(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, id)
	delete(b.dirty, id)
}

func (b *statsBook) flush(ctx context.Context, kv jetstream.KeyValue) {
	b.mu.Lock()
	out := map[string][]byte{}
	for id := range b.dirty {
		raw, _ := json.Marshal(b.m[id])
		out[id] = raw
	}
	b.dirty = map[string]bool{}
	b.mu.Unlock()
	for id, raw := range out {
		if _, err := kv.Put(ctx, id+"."+b.key, raw); err != nil {
			b.mu.Lock()
			b.dirty[id] = true // next time
			b.mu.Unlock()
		}
	}
}

// record counts one attempt.
func (e *Engine) record(ctx context.Context, id string, d *delivery, res result) {
	now := e.cfg.Now()
	var lag time.Duration
	if res.ok && !d.stored.IsZero() {
		lag = max(now.Sub(d.stored), 0)
	}
	e.book.add(id, res, lag, now)
	e.metrics.attempted(ctx, id, res, lag)
}

// Stats are an endpoint's delivery statistics summed over the replicas,
// and its backlog.
type Stats struct {
	Endpoint
	Attempts, Successes, Failures int64
	MeanLatency, MaxLatency, Lag  time.Duration
	Pending, DeadLetters          int64
	LastSuccess, LastFailure      time.Time
	LastError                     string
}

// SuccessRate is successes per attempt (0 without attempts).
func (s Stats) SuccessRate() float64 {
	if s.Attempts == 0 {
		return 0
	}
	return float64(s.Successes) / float64(s.Attempts)
}

// Stats reports every endpoint (or one).
func (e *Engine) Stats(ctx context.Context, id string) ([]Stats, error) {
	e.book.flush(ctx, e.statsKV)
	var ids []string
	if id != "" {
		if _, _, err := e.load(ctx, id); err != nil {
			return nil, err
		}
		ids = []string{id}
	} else {
		var err error
		if ids, err = e.ids(ctx); err != nil {
			return nil, err
		}
	}
	var out []Stats
	for _, id := range ids {
		rec, _, err := e.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// Every replica's counters; a read that fails counts nothing.
		var sum counters
		_ = store.EachEntry(ctx, e.statsKV, id+".*", func(ent jetstream.KeyValueEntry) error {
			var c counters
			if json.Unmarshal(ent.Value(), &c) == nil {
				sum.add(c)
			}
			return nil
		})
		s := Stats{
			Endpoint: rec.public(), Attempts: sum.Attempts, Successes: sum.Successes, Failures: sum.Failures,
			MaxLatency:  time.Duration(sum.LatencyMaxMs * float64(time.Millisecond)),
			Lag:         time.Duration(sum.LagMs * float64(time.Millisecond)),
			LastSuccess: sum.LastSuccess, LastFailure: sum.LastFailure, LastError: sum.LastError,
		}
		if sum.Attempts > 0 {
			s.MeanLatency = time.Duration(sum.LatencySumMs / float64(sum.Attempts) * float64(time.Millisecond))
		}
		for _, c := range []struct {
			s    jetstream.Stream
			kind string
		}{{e.msgs, kindMessages}, {e.events, kindEvents}} {
			if info, err := c.s.Consumer(ctx, consumerName(id, c.kind)); err == nil {
				ci := info.CachedInfo()
				s.Pending += int64(ci.NumPending) + int64(ci.NumAckPending)
			}
		}
		if info, err := e.dead.Info(ctx, jetstream.WithSubjectFilter(deadPrefix+id)); err == nil {
			s.DeadLetters = int64(info.State.Subjects[deadPrefix+id])
		}
		out = append(out, s)
	}
	return out, nil
}

// metrics are the engine's OpenTelemetry instruments (exported on /metrics).
type metrics struct {
	attempts metric.Int64Counter
	dead     metric.Int64Counter
	disables metric.Int64Counter
	lag      metric.Float64Gauge
	latency  metric.Float64Histogram
}

func newMetrics(mp metric.MeterProvider) *metrics {
	m := mp.Meter("github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook")
	out := &metrics{}
	out.attempts, _ = m.Int64Counter("kwaishop.webhook.attempts", metric.WithUnit("{attempt}"),
		metric.WithDescription("Webhook delivery attempts by endpoint and outcome (success: 2xx; failure: anything else)."))
	out.dead, _ = m.Int64Counter("kwaishop.webhook.dead_letters", metric.WithUnit("{event}"),
		metric.WithDescription("Events an endpoint did not take within the retry budget, by endpoint."))
	out.disables, _ = m.Int64Counter("kwaishop.webhook.disabled", metric.WithUnit("{endpoint}"),
		metric.WithDescription("Endpoints the gateway disabled (failing too long, or 410 Gone), by endpoint."))
	out.lag, _ = m.Float64Gauge("kwaishop.webhook.lag", metric.WithUnit("s"),
		metric.WithDescription("Time from storing an event to its successful delivery, of each endpoint's latest delivery."))
	out.latency, _ = m.Float64Histogram("kwaishop.webhook.attempt.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of webhook delivery attempts, by endpoint."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	return out
}

func (m *metrics) attempted(ctx context.Context, id string, res result, lag time.Duration) {
	ep := attribute.String("endpoint", id)
	outcome := "failure"
	if res.ok {
		outcome = "success"
		m.lag.Record(ctx, lag.Seconds(), metric.WithAttributes(ep))
	}
	m.attempts.Add(ctx, 1, metric.WithAttributes(ep, attribute.String("outcome", outcome)))
	m.latency.Record(ctx, res.latency.Seconds(), metric.WithAttributes(ep))
}

func (m *metrics) deadLettered(ctx context.Context, id string) {
	m.dead.Add(ctx, 1, metric.WithAttributes(attribute.String("endpoint", id)))
}

func (m *metrics) disabled(ctx context.Context, id string) {
	m.disables.Add(ctx, 1, metric.WithAttributes(attribute.String("endpoint", id)))
}
