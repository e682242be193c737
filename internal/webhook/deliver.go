package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// Delivery, in short. Each endpoint's consumers are pinned to one replica
// (JetStream priority group, pinned client), which delivers everything the
// consumer hands out:
//
//   - Events are split into lanes by shop. A lane sends one event at a time
//     and the next only after the previous one was acknowledged by the
//     endpoint (2xx) or given up on (dead letter): order per shop. Lanes of
//     different shops run side by side, at most Concurrency attempts at once
//     per endpoint. An endpoint has its own consumers, lanes and limit, so a
//     slow or failing endpoint delays only itself, and never the intake.
//   - A failed attempt is retried by its lane after an exponential backoff
//     with jitter (RetryInitial doubling up to RetryMaxDelay, honouring
//     Retry-After) until RetryBudget has passed since its first attempt;
//     then it becomes a dead letter and the lane moves on.
//   - Every event the replica holds (waiting in a lane or between retries)
//     is kept from redelivery by "in progress" acknowledgements; the
//     consumer hands out at most maxHeld unacknowledged events.
//   - On stop (shutdown, disable, deletion) the replica gives back what it
//     holds, oldest first, then lets go of the pin; JetStream delivers
//     given-back and expired events before new ones, to whichever replica
//     is pinned next, so order per shop holds across restarts too. A
//     crashed replica's events come back after ackWait, before its pin
//     times out (pinnedTTL is longer).

const (
	priorityGroup = "webhook"
	ackWait       = 30 * time.Second
	pinnedTTL     = 2 * ackWait
	maxHeld       = 1000

	hdrID        = "Kw-Webhook-Id"
	hdrType      = "Kw-Webhook-Type"
	hdrOpenID    = "Kw-Webhook-Open-Id"
	hdrEventTime = "Kw-Webhook-Event-Time"
	hdrAttempts  = "Kw-Webhook-Attempts"
	hdrStatus    = "Kw-Webhook-Status"
	hdrError     = "Kw-Webhook-Error"
	hdrDeadTime  = "Kw-Webhook-Dead-Time"
	hdrPinID     = "Nats-Pin-Id" // JetStream: the pin of the pulling client
)

// consumer kinds.
const (
	kindMessages = "m"
	kindEvents   = "e"
)

func consumerName(id, kind string) string { return "wh~" + id + "~" + kind }

func (e *Engine) consumerConfig(id, kind string, filters []string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        consumerName(id, kind),
		Description:    "kwaishop-gateway webhook endpoint " + id,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        ackWait,
		MaxDeliver:     -1, // retries and dead letters are the engine's
		FilterSubjects: filters,
		MaxAckPending:  maxHeld,
		Replicas:       e.cfg.Replicas,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PinnedTTL:      pinnedTTL,
		PriorityGroups: []string{priorityGroup},
	}
}

// ensureConsumers creates or updates an endpoint's consumers for its
// filters (and drops the message consumer when it wants no messages).
func (e *Engine) ensureConsumers(ctx context.Context, id string, f typeFilter, openIDs []string) error {
	if mf := messageFilters(f, openIDs); len(mf) > 0 {
		if _, err := e.msgs.CreateOrUpdateConsumer(ctx, e.consumerConfig(id, kindMessages, mf)); err != nil {
			return fmt.Errorf("webhook: consumer: %w", err)
		}
	} else if err := e.msgs.DeleteConsumer(ctx, consumerName(id, kindMessages)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("webhook: consumer: %w", err)
	}
	if _, err := e.events.CreateOrUpdateConsumer(ctx, e.consumerConfig(id, kindEvents, eventFilters(id, f, openIDs))); err != nil {
		return fmt.Errorf("webhook: consumer: %w", err)
	}
	return nil
}

func (e *Engine) dropConsumers(ctx context.Context, id string) {
	_ = e.msgs.DeleteConsumer(ctx, consumerName(id, kindMessages))
	_ = e.events.DeleteConsumer(ctx, consumerName(id, kindEvents))
	e.mu.Lock()
	delete(e.handles, consumerName(id, kindMessages))
	delete(e.handles, consumerName(id, kindEvents))
	e.mu.Unlock()
}

// handle returns the consumer's handle, the same one for the engine's life
// (it remembers the pin this replica was given).
func (e *Engine) handle(ctx context.Context, s jetstream.Stream, name string) (jetstream.Consumer, error) {
	e.mu.Lock()
	h, ok := e.handles[name]
	e.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := s.Consumer(ctx, name)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.handles[name] = h
	e.mu.Unlock()
	return h, nil
}

// Run delivers until ctx ends: it follows the endpoint bucket and runs a
// worker per enabled endpoint.
func (e *Engine) Run(ctx context.Context) error {
	defer e.stopAll()
	flush := time.NewTicker(e.cfg.StatsFlush)
	defer flush.Stop()
	for {
		err := e.follow(ctx, flush.C)
		if ctx.Err() != nil {
			return nil
		}
		e.log.Warn("webhook: endpoint watch ended; restarting", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (e *Engine) follow(ctx context.Context, flush <-chan time.Time) error {
	w, err := e.kv.WatchFiltered(ctx, []string{keyPrefix + ">"})
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-flush:
			fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			e.book.flush(fctx, e.statsKV)
			cancel()
		case ent, ok := <-w.Updates():
			if !ok {
				return errors.New("watch closed")
			}
			if ent == nil {
				continue // the initial values are all in
			}
			id := strings.TrimPrefix(ent.Key(), keyPrefix)
			if ent.Operation() != jetstream.KeyValuePut {
				e.apply(ctx, id, nil)
				continue
			}
			var rec record
			if err := json.Unmarshal(ent.Value(), &rec); err != nil {
				e.log.Error("webhook: unreadable endpoint record", "endpoint", id, "err", err)
				continue
			}
			e.apply(ctx, id, &rec)
		}
	}
}

// apply starts, changes or stops the worker of an endpoint.
func (e *Engine) apply(ctx context.Context, id string, rec *record) {
	e.mu.Lock()
	w := e.workers[id]
	e.mu.Unlock()
	if rec == nil || rec.Disabled {
		if w != nil {
			w.stop()
			e.mu.Lock()
			delete(e.workers, id)
			e.mu.Unlock()
		}
		return
	}
	st, err := e.open(*rec)
	if err != nil {
		e.log.Error("webhook: cannot deliver to endpoint", "endpoint", id, "err", err)
		return
	}
	if w != nil {
		if w.sameConsumers(st) {
			w.state.Store(st)
			return
		}
		w.stop()
	}
	w, err = e.startWorker(ctx, st)
	if err != nil {
		e.log.Error("webhook: cannot start delivery", "endpoint", id, "err", err)
		return
	}
	e.mu.Lock()
	e.workers[id] = w
	e.mu.Unlock()
}

func (e *Engine) stopAll() {
	e.mu.Lock()
	ws := e.workers
	e.workers = map[string]*worker{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.stop)
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e.book.flush(ctx, e.statsKV)
}

// worker delivers to one endpoint on this replica.
type worker struct {
	e            *Engine
	id           string
	state        atomic.Pointer[endpointState]
	ctx          context.Context
	cancel       context.CancelFunc
	sem          chan struct{}
	loops        []*loop
	wg           sync.WaitGroup
	failingSince atomic.Int64 // unix ns of the first failure of the current streak; 0 = answering
	wantsMsgs    bool
}

func (w *worker) sameConsumers(st *endpointState) bool {
	return st.filter.wantsMessages() == w.wantsMsgs
}

func (e *Engine) startWorker(ctx context.Context, st *endpointState) (*worker, error) {
	w := &worker{e: e, id: st.ID, sem: make(chan struct{}, e.cfg.Concurrency), wantsMsgs: st.filter.wantsMessages()}
	w.state.Store(st)
	if !st.FailingSince.IsZero() {
		w.failingSince.Store(st.FailingSince.UnixNano())
	}
	w.ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kinds := []struct {
		kind string
		s    jetstream.Stream
	}{{kindEvents, e.events}}
	if w.wantsMsgs {
		kinds = append(kinds, struct {
			kind string
			s    jetstream.Stream
		}{kindMessages, e.msgs})
	}
	for _, k := range kinds {
		name := consumerName(st.ID, k.kind)
		h, err := e.handle(cctx, k.s, name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) { // e.g. a create that stopped half-way
			if err = e.ensureConsumers(cctx, st.ID, st.filter, st.OpenIDs); err == nil {
				h, err = e.handle(cctx, k.s, name)
			}
		}
		if err != nil {
			w.stop()
			return nil, err
		}
		l := &loop{w: w, kind: k.kind, stream: k.s, name: name, held: map[uint64]jetstream.Msg{}, lanes: map[string]*lane{}}
		cc, err := h.Consume(l.dispatch,
			jetstream.PullPriorityGroup(priorityGroup),
			jetstream.PullMaxMessages(64),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				if w.ctx.Err() == nil && !errors.Is(err, jetstream.ErrPinIDMismatch) {
					e.log.Debug("webhook: consume", "endpoint", st.ID, "err", err)
				}
			}))
		if err != nil {
			w.stop()
			return nil, fmt.Errorf("webhook: consume %s: %w", name, err)
		}
		l.cc = cc
		w.loops = append(w.loops, l)
		w.wg.Go(l.keepAlive)
	}
	return w, nil
}

// stop ends the worker and gives back what it holds, oldest first; if this
// replica holds the consumer's pin it lets go of it, so another replica
// takes over at once instead of after pinnedTTL.
func (w *worker) stop() {
	w.cancel()
	for _, l := range w.loops {
		if l.cc != nil {
			l.cc.Stop()
		}
	}
	w.wg.Wait()
	for _, l := range w.loops {
		l.giveBack()
		l.unpin()
	}
}

// loop is one consumer of a worker.
type loop struct {
	w      *worker
	kind   string
	stream jetstream.Stream
	name   string
	cc     jetstream.ConsumeContext
	pin    atomic.Value // string: the pin id of the last event JetStream handed this replica

	mu    sync.Mutex
	held  map[uint64]jetstream.Msg // by stream sequence: the newest handle of each event held
	lanes map[string]*lane
}

type lane struct {
	queue []uint64
}

// laneKey is the shop an event belongs to (from its subject).
func laneKey(subject string) string {
	toks := strings.Split(subject, ".")
	switch {
	case strings.HasPrefix(subject, msgPrefix) && len(toks) >= 3:
		return toks[2]
	case strings.HasPrefix(subject, authzPrefix) && len(toks) >= 4:
		return strings.Join(toks[3:], ".")
	case strings.HasPrefix(subject, redeliverPrefix) && len(toks) >= 5:
		return toks[4]
	}
	return "_"
}

func (l *loop) dispatch(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	if l.w.ctx.Err() != nil {
		_ = m.Nak()
		return
	}
	if p := m.Headers().Get(hdrPinID); p != "" {
		l.pin.Store(p)
	}
	seq := meta.Sequence.Stream
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.held[seq]; ok { // handed out again while held: keep the newest handle
		l.held[seq] = m
		return
	}
	l.held[seq] = m
	key := laneKey(m.Subject())
	ln, ok := l.lanes[key]
	if !ok {
		ln = &lane{}
		l.lanes[key] = ln
	}
	ln.queue = append(ln.queue, seq)
	if !ok {
		l.w.wg.Go(func() { l.runLane(key, ln) })
	}
}

func (l *loop) runLane(key string, ln *lane) {
	for {
		l.mu.Lock()
		if len(ln.queue) == 0 {
			delete(l.lanes, key)
			l.mu.Unlock()
			return
		}
		seq := ln.queue[0]
		l.mu.Unlock()
		if !l.process(seq) {
			return // stopping: the event stays held and is given back
		}
		l.mu.Lock()
		ln.queue = ln.queue[1:]
		delete(l.held, seq)
		l.mu.Unlock()
	}
}

func (l *loop) msg(seq uint64) jetstream.Msg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[seq]
}

// keepAlive tells JetStream the held events are in progress, so they are
// not handed out again while they wait.
func (l *loop) keepAlive() {
	t := time.NewTicker(ackWait / 3)
	defer t.Stop()
	for {
		select {
		case <-l.w.ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		ms := make([]jetstream.Msg, 0, len(l.held))
		for _, m := range l.held {
			ms = append(ms, m)
		}
		l.mu.Unlock()
		for _, m := range ms {
			_ = m.InProgress()
		}
	}
}

// unpin releases the consumer's pin if this replica holds it.
func (l *loop) unpin() {
	pin, _ := l.pin.Load().(string)
	if pin == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := l.stream.Consumer(ctx, l.name)
	if err != nil {
		return
	}
	for _, g := range c.CachedInfo().PriorityGroups {
		if g.Group == priorityGroup && g.PinnedClientID == pin {
			_ = l.stream.UnpinConsumer(ctx, l.name, priorityGroup)
		}
	}
}

// giveBack returns every held event to JetStream, oldest first.
func (l *loop) giveBack() {
	l.mu.Lock()
	seqs := make([]uint64, 0, len(l.held))
	for s := range l.held {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	ms := make([]jetstream.Msg, 0, len(seqs))
	for _, s := range seqs {
		ms = append(ms, l.held[s])
	}
	l.held = map[uint64]jetstream.Msg{}
	l.lanes = map[string]*lane{}
	l.mu.Unlock()
	for _, m := range ms {
		_ = m.Nak()
	}
}

// delivery is one event ready to send.
type delivery struct {
	id, typ, openID string
	body            []byte
	stored          time.Time // when the event (or its copy) was stored
	eventTime       time.Time // when the original event was stored
}

// process delivers one held event until the endpoint takes it or it
// becomes a dead letter. It returns false when the worker stops first.
func (l *loop) process(seq uint64) bool {
	w, e := l.w, l.w.e
	m := l.msg(seq)
	if m == nil {
		return true
	}
	meta, _ := m.Metadata()
	d, err := e.prepare(m, meta)
	if err != nil {
		e.log.Warn("webhook: unreadable event", "endpoint", w.id, "subject", m.Subject(), "err", err)
		l.ack(seq)
		return true
	}
	st := w.state.Load()
	if !strings.HasPrefix(m.Subject(), redeliverPrefix) && (!st.filter.match(d.typ) || !st.wantsShop(d.openID)) {
		l.ack(seq)
		return true
	}
	start := e.cfg.Now()
	if meta != nil && meta.NumDelivered > 1 && meta.Timestamp.Before(start) {
		// Handed out before (another replica, or before a restart): count
		// the budget from when it was stored, the earliest it was tried.
		start = meta.Timestamp
	}
	for attempt := 1; ; attempt++ {
		st = w.state.Load()
		res := w.send(st, d)
		if w.ctx.Err() != nil {
			return false
		}
		if res.ok {
			l.ack(seq)
			w.answered()
			return true
		}
		if res.status == http.StatusGone {
			w.disable(fmt.Sprintf("the endpoint answered 410 Gone at %s", e.cfg.Now().UTC().Format(time.RFC3339)))
			return false
		}
		w.failed()
		elapsed := e.cfg.Now().Sub(start)
		if elapsed >= e.cfg.RetryBudget {
			if err := e.deadLetter(w.ctx, w.id, d, attempt, res, m.Subject(), seq); err != nil {
				e.log.Error("webhook: dead letter", "endpoint", w.id, "err", err)
				if !sleep(w.ctx, e.cfg.RetryInitial) {
					return false
				}
				continue
			}
			l.ack(seq)
			return true
		}
		delay := min(e.backoff(attempt, res.retryAfter), e.cfg.RetryBudget-elapsed)
		if !sleep(w.ctx, delay) {
			return false
		}
	}
}

func (l *loop) ack(seq uint64) {
	if m := l.msg(seq); m != nil {
		_ = m.Ack()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff is the delay before retry n (1-based): RetryInitial doubling up
// to RetryMaxDelay, ±20% jitter; a Retry-After answer is honoured up to
// RetryMaxDelay.
func (e *Engine) backoff(n int, retryAfter time.Duration) time.Duration {
	d := e.cfg.RetryInitial
	for i := 1; i < n && d < e.cfg.RetryMaxDelay; i++ {
		d *= 2
	}
	d = min(d, e.cfg.RetryMaxDelay)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if retryAfter > d {
		d = min(retryAfter, e.cfg.RetryMaxDelay)
	}
	return d
}

// answered notes a success: the failure streak (if any) ends.
func (w *worker) answered() {
	if w.failingSince.Swap(0) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	_, err := w.e.update(ctx, w.id, func(r *record) error { r.FailingSince = time.Time{}; return nil })
	if err != nil && w.ctx.Err() == nil {
		w.e.log.Warn("webhook: store endpoint health", "endpoint", w.id, "err", err)
	}
}

// failed notes a failed attempt: it may start a failure streak, and a
// streak longer than DisableAfter disables the endpoint.
func (w *worker) failed() {
	now := w.e.cfg.Now()
	if w.failingSince.CompareAndSwap(0, now.UnixNano()) {
		ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
		_, err := w.e.update(ctx, w.id, func(r *record) error {
			if r.FailingSince.IsZero() {
				r.FailingSince = now.UTC()
			}
			return nil
		})
		cancel()
		if err != nil && w.ctx.Err() == nil {
			w.e.log.Warn("webhook: store endpoint health", "endpoint", w.id, "err", err)
		}
		return
	}
	since := time.Unix(0, w.failingSince.Load())
	if w.e.cfg.DisableAfter > 0 && now.Sub(since) >= w.e.cfg.DisableAfter {
		w.disable(fmt.Sprintf("every delivery failed since %s (longer than %s)", since.UTC().Format(time.RFC3339), w.e.cfg.DisableAfter))
	}
}

// disable marks the endpoint disabled and announces it; the bucket watch
// then stops the worker.
func (w *worker) disable(reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	already := false
	rec, err := w.e.update(ctx, w.id, func(r *record) error {
		already = r.Disabled
		r.Disabled, r.DisabledReason, r.Updated = true, reason, w.e.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		w.e.log.Error("webhook: disable endpoint", "endpoint", w.id, "err", err)
		return
	}
	w.cancel()
	if already {
		return
	}
	w.e.log.Warn("webhook: endpoint disabled", "endpoint", w.id, "host", hostOf(rec.URL), "reason", reason)
	w.e.metrics.disabled(ctx, w.id)
	data, _ := w.e.cfg.Render.EndpointDisabled(Endpoint{
		ID: rec.ID, Description: rec.Description, Disabled: true, DisabledReason: reason,
		FailingSince: rec.FailingSince, Updated: rec.Updated,
	})
	now := w.e.cfg.Now()
	body := envelope(TypeEndpointDisabled, now, data)
	m := nats.NewMsg(systemPrefix + w.id)
	m.Data = body
	m.Header.Set(hdrID, "sys_"+hashID(w.id+"|"+reason))
	m.Header.Set(hdrType, TypeEndpointDisabled)
	m.Header.Set(hdrEventTime, strconv.FormatInt(now.UnixMilli(), 10))
	m.Header.Set(jetstream.MsgIDHeader, "disabled:"+w.id+":"+strconv.FormatInt(now.Unix(), 10))
	if _, err := w.e.js.PublishMsg(ctx, m); err != nil {
		w.e.log.Warn("webhook: announce disabled endpoint", "endpoint", w.id, "err", err)
	}
}

// result is one attempt's outcome.
type result struct {
	ok         bool
	status     int
	err        string
	latency    time.Duration
	retryAfter time.Duration
}

// send makes one attempt within the endpoint's concurrency limit.
func (w *worker) send(st *endpointState, d *delivery) result {
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		return result{err: "canceled"}
	}
	defer func() { <-w.sem }()
	res := w.e.attempt(w.ctx, st, d)
	if w.ctx.Err() == nil {
		w.e.record(w.ctx, w.id, d, res)
	}
	return res
}

// attempt POSTs a delivery once, signed with every secret in use.
func (e *Engine) attempt(ctx context.Context, st *endpointState, d *delivery) result {
	now := e.cfg.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.URL, bytes.NewReader(d.body))
	if err != nil {
		return result{err: "bad endpoint URL"}
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kwaishop-gateway-webhooks/1")
	req.Header.Set("webhook-id", d.id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Signature(st.signing(now), d.id, ts, d.body))
	t0 := time.Now()
	resp, err := e.client.Do(req) //nolint:bodyclose // drain(resp.Body) below reads and closes it
	lat := time.Since(t0)
	if err != nil {
		return result{err: attemptError(ctx, err), latency: lat}
	}
	drain(resp.Body)
	res := result{status: resp.StatusCode, latency: time.Since(t0), ok: resp.StatusCode/100 == 2}
	if !res.ok {
		res.err = "HTTP " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode/100 == 3 {
			res.err += " (redirects are not followed: point the endpoint at the final URL)"
		}
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	return res
}

func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// envelope is the webhook body: {"type","timestamp","data"} as the
// specification recommends.
func envelope(typ string, t time.Time, data []byte) []byte {
	b, _ := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{typ, t.UTC().Format(time.RFC3339Nano), data})
	return b
}

func hashID(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// prepare turns a consumed event into its delivery.
func (e *Engine) prepare(m jetstream.Msg, meta *jetstream.MsgMetadata) (*delivery, error) {
	var stored time.Time
	var seq uint64
	if meta != nil {
		stored, seq = meta.Timestamp, meta.Sequence.Stream
	}
	subj := m.Subject()
	switch {
	case strings.HasPrefix(subj, msgPrefix):
		return e.renderMessage(m.Data(), m.Headers(), seq, stored)
	case strings.HasPrefix(subj, authzPrefix):
		return e.renderAuthorization(subj, m.Data(), stored)
	case strings.HasPrefix(subj, systemPrefix), strings.HasPrefix(subj, redeliverPrefix):
		h := m.Headers()
		d := &delivery{id: h.Get(hdrID), typ: h.Get(hdrType), openID: h.Get(hdrOpenID), body: m.Data(), stored: stored, eventTime: stored}
		if ms, err := strconv.ParseInt(h.Get(hdrEventTime), 10, 64); err == nil {
			d.eventTime = time.UnixMilli(ms)
		}
		if d.id == "" || d.typ == "" {
			return nil, errors.New("copy without webhook id or type")
		}
		return d, nil
	}
	return nil, errors.New("unexpected subject")
}

// renderMessage: a stored push as the API's Message.
func (e *Engine) renderMessage(data []byte, h nats.Header, seq uint64, stored time.Time) (*delivery, error) {
	p, err := message.ParsePush(data)
	if err != nil {
		return nil, err
	}
	m := p.Message()
	m.Sequence, m.ReceiveTime = seq, stored
	m.Reconciled = h.Get(msglog.HeaderReconciled) == "1"
	raw, err := e.cfg.Render.Message(m)
	if err != nil {
		return nil, err
	}
	when := stored
	if !m.CreateTime.IsZero() {
		when = m.CreateTime
	}
	// The same change (a push, its retries, a reconciliation) has the same
	// de-duplication id in the log, and so the same webhook-id.
	key := h.Get(jetstream.MsgIDHeader)
	if key == "" {
		key = "evt:" + p.EventID
	}
	typ := FamilyMessage + "." + p.Event
	return &delivery{id: "msg_" + hashID(key), typ: typ, openID: p.OpenID, body: envelope(typ, when, raw), stored: stored, eventTime: stored}, nil
}

// renderAuthorization: a lifecycle event as the API's AuthorizationEvent.
func (e *Engine) renderAuthorization(subject string, data []byte, stored time.Time) (*delivery, error) {
	var ev token.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, err
	}
	raw, err := e.cfg.Render.Authorization(ev)
	if err != nil {
		return nil, err
	}
	typ := FamilyAuthorization + "." + string(ev.Type)
	when := ev.Time
	if when.IsZero() {
		when = stored
	}
	return &delivery{id: "authz_" + hashID(subject+"|"+string(data)), typ: typ, openID: ev.OpenID, body: envelope(typ, when, raw), stored: stored, eventTime: stored}, nil
}

// TestResult is the outcome of SendTest.
type TestResult struct {
	WebhookID string
	OK        bool
	Status    int
	Latency   time.Duration
	Error     string
}

// SendTest sends one signed webhook.test event to an endpoint now (also a
// disabled one) and reports its answer; it is not retried.
func (e *Engine) SendTest(ctx context.Context, id string) (TestResult, error) {
	rec, _, err := e.load(ctx, id)
	if err != nil {
		return TestResult{}, err
	}
	st, err := e.open(rec)
	if err != nil {
		return TestResult{}, err
	}
	wid, err := newID()
	if err != nil {
		return TestResult{}, err
	}
	wid = "test_" + strings.TrimPrefix(wid, idPrefix)
	now := e.cfg.Now()
	data, _ := json.Marshal(map[string]string{"endpoint_id": id, "message": "a test event from kwaishop-gateway"})
	d := &delivery{id: wid, typ: TypeTest, body: envelope(TypeTest, now, data), stored: now, eventTime: now}
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout+time.Second)
	defer cancel()
	res := e.attempt(actx, st, d)
	e.record(ctx, id, d, res)
	return TestResult{WebhookID: wid, OK: res.ok, Status: res.status, Latency: res.latency, Error: res.err}, nil
}
