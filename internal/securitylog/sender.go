package securitylog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Stats are the sender's counts: Sent and the failures by reason since
// this process started, Pending in the stream (every replica's).
type Stats struct {
	Enabled bool
	Sent    int64
	// FailedStore: entries not stored; FailedRetry: failed sends of
	// entries retried later (an entry may count several times); Dropped:
	// entries never to be sent (shop no longer authorized, entry refused).
	FailedStore, FailedRetry, Dropped int64
	Pending                           int64
}

// Failed is the sum of the failures.
func (s Stats) Failed() int64 { return s.FailedStore + s.FailedRetry + s.Dropped }

// Stats returns the counts.
func (r *Recorder) Stats(ctx context.Context) Stats {
	if !r.Enabled() {
		return Stats{}
	}
	r.refreshPending(ctx)
	return Stats{Enabled: true, Sent: r.sent.Load(), FailedStore: r.failedStore.Load(), FailedRetry: r.failedRetry.Load(),
		Dropped: r.failedDrop.Load(), Pending: r.pending.Load()}
}

// Reasons of a failure (the metric's reason label).
const (
	reasonStore   = "store"
	reasonRetry   = "retry"
	reasonDropped = "dropped"
)

// fail counts n failed entries of reason.
func (r *Recorder) fail(ctx context.Context, reason string, n int64) {
	switch reason {
	case reasonStore:
		r.failedStore.Add(n)
	case reasonRetry:
		r.failedRetry.Add(n)
	default:
		r.failedDrop.Add(n)
	}
	r.mFailed.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
}

func (r *Recorder) refreshPending(ctx context.Context) {
	info, err := r.consumer.Info(ctx)
	if err == nil {
		r.pending.Store(int64(info.NumPending) + int64(info.NumAckPending))
	}
}

// fetchBatch is how many stored entries one pass takes at most.
const fetchBatch = 1000

// Run sends stored entries every FlushInterval until ctx is done.
func (r *Recorder) Run(ctx context.Context) {
	if !r.Enabled() {
		return
	}
	t := time.NewTicker(r.cfg.Settings.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.Flush(ctx)
	}
}

// Flush sends what is stored now (every replica's entries: the consumer
// is shared) and returns how many entries the platform accepted.
func (r *Recorder) Flush(ctx context.Context) int {
	if !r.Enabled() {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for ctx.Err() == nil {
		batch, err := r.consumer.Fetch(fetchBatch, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			break
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			break
		}
		total += r.send(ctx, msgs)
		if len(msgs) < fetchBatch {
			break
		}
	}
	r.refreshPending(ctx)
	return total
}

// stored is one fetched entry.
type stored struct {
	msg   jetstream.Msg
	entry Entry
}

// chunk is one platform call: entries of one shop, end user, URL and
// operation within one minute, holding at most MaxOrderIDsPerEntry ids.
type chunk struct {
	entries []stored
	ids     int
}

// mergeKey groups entries that may share one platform entry: the same
// shop, end user, URL and operation in the same minute. Entries with data
// (no ids) and logins are sent alone.
type mergeKey struct {
	openID, ip, url string
	operation       int
	minute          int64
}

// send batches msgs per shop and sends them; each message is acknowledged
// once the platform accepted the call that carried it.
func (r *Recorder) send(ctx context.Context, msgs []jetstream.Msg) int {
	var chunks []*chunk
	open := map[mergeKey]*chunk{}
	for _, m := range msgs {
		var e Entry
		if err := json.Unmarshal(m.Data(), &e); err != nil || e.Check() != nil {
			r.drop(ctx, m, "malformed entry")
			continue
		}
		s := stored{msg: m, entry: e}
		if e.Kind != KindOrder || len(e.OrderIDs) == 0 {
			chunks = append(chunks, &chunk{entries: []stored{s}})
			continue
		}
		k := mergeKey{e.OpenID, e.UserIP, e.URL, e.Operation, e.Time / 60000}
		c := open[k]
		if c == nil || c.ids+len(e.OrderIDs) > MaxOrderIDsPerEntry {
			c = &chunk{}
			open[k] = c
			chunks = append(chunks, c)
		}
		c.entries = append(c.entries, s)
		c.ids += len(e.OrderIDs)
	}
	accepted := 0
	for _, c := range chunks {
		err := r.call(ctx, c)
		switch {
		case err == nil:
			for _, s := range c.entries {
				_ = s.msg.DoubleAck(ctx)
			}
			accepted += len(c.entries)
			r.sent.Add(int64(len(c.entries)))
			r.mSent.Add(ctx, int64(len(c.entries)))
		case permanent(err):
			for _, s := range c.entries {
				r.drop(ctx, s.msg, err.Error())
			}
		default:
			for _, s := range c.entries {
				_ = s.msg.NakWithDelay(backoff(s.msg))
			}
			r.fail(ctx, reasonRetry, int64(len(c.entries)))
			r.cfg.Log.WarnContext(ctx, "security log: send failed; retried later", "open_id", c.entries[0].entry.OpenID, "entries", len(c.entries), "err", err)
		}
	}
	return accepted
}

// drop terminates an entry that can never be sent.
func (r *Recorder) drop(ctx context.Context, m jetstream.Msg, why string) {
	_ = m.Term()
	r.fail(ctx, reasonDropped, 1)
	r.cfg.Log.ErrorContext(ctx, "security log: entry dropped", "reason", why)
}

// permanent errors will not change on a retry: the shop is not authorized
// (any more), or the platform refused the entry itself.
func permanent(err error) bool {
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		switch pe.Class {
		case platform.ClassRevoked, platform.ClassPermission, platform.ClassInvalidArgument, platform.ClassBusiness:
			return true
		}
	}
	return false
}

// backoff is the redelivery delay after the n-th failed attempt: 1s
// doubling up to 5 minutes.
func backoff(m jetstream.Msg) time.Duration {
	n := uint64(1)
	if md, err := m.Metadata(); err == nil {
		n = md.NumDelivered
	}
	d := time.Second << min(n-1, 9)
	return min(d, 5*time.Minute)
}

// call sends one chunk through open.security.log.order, .login or .batch
// (an export: its ids as order entries of at most MaxOrderIDsPerEntry, or
// its data).
func (r *Recorder) call(ctx context.Context, c *chunk) error {
	first := c.entries[0].entry
	src, err := r.cfg.Tokens.Shop(ctx, first.OpenID)
	if err != nil {
		return err
	}
	var method string
	var param map[string]any
	switch first.Kind {
	case KindLogin:
		method = "open.security.log.login"
		param = map[string]any{"openId": first.OpenID, "loginResult": first.LoginResult, "time": first.Time, "userIp": first.UserIP}
		if first.LoginMessage != "" {
			param["loginMessage"] = first.LoginMessage
		}
	case KindBatch:
		method = "open.security.log.batch"
		data, err := json.Marshal(exportEntries(first))
		if err != nil {
			return err
		}
		param = map[string]any{"method": "order", "data": string(data)}
	default:
		method = "open.security.log.order"
		var ids []int64
		t := first.Time
		for _, s := range c.entries {
			ids = append(ids, s.entry.OrderIDs...)
			t = min(t, s.entry.Time)
		}
		param = map[string]any{"openId": first.OpenID, "userIp": first.UserIP, "url": first.URL, "operation": first.Operation, "time": t}
		if ids = dedupe(ids); len(ids) > 0 {
			slices.Sort(ids)
			param["orderIds"] = ids
		}
		if first.Data != "" {
			param["data"] = first.Data
		}
		if first.OrderTotal > 0 {
			param["orderTotal"] = first.OrderTotal
		}
	}
	raw, err := json.Marshal(param)
	if err != nil {
		return err
	}
	_, err = r.cfg.Caller.Do(ctx, &platform.Request{Method: method, Param: raw, OpenID: first.OpenID, Token: src})
	return err
}

// exportEntries are the open.security.log.order entries of an export: one
// per MaxOrderIDsPerEntry ids (each with the export's data and total), or
// one with its data alone.
func exportEntries(e Entry) []map[string]any {
	base := func() map[string]any {
		m := map[string]any{"openId": e.OpenID, "userIp": e.UserIP, "url": e.URL, "operation": e.Operation, "time": e.Time}
		if e.Data != "" {
			m["data"] = e.Data
		}
		if e.OrderTotal > 0 {
			m["orderTotal"] = e.OrderTotal
		}
		return m
	}
	if len(e.OrderIDs) == 0 {
		return []map[string]any{base()}
	}
	var out []map[string]any
	for ids := e.OrderIDs; len(ids) > 0; {
		n := min(len(ids), MaxOrderIDsPerEntry)
		m := base()
		m["orderIds"] = ids[:n]
		ids = ids[n:]
		out = append(out, m)
	}
	return out
}
