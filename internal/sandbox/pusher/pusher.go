// Package pusher provides the platform's message pusher: changes of the
// shops become messages, encrypted with the app's message key and POSTed to
// the push URL, retried on the sandbox clock, and heartbeats go out in real
// time.
package pusher

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// The message pusher (docs/sandbox.md, Messages): failures are retried on
// the sandbox clock (rules.PushRetries); heartbeats {"test":true} go out
// every HeartbeatInterval of real time.

type pushRecord struct {
	Push
	body     string // base64 ciphertext
	due      time.Time
	retries  int
	inFlight bool
}

// Pusher is the message pusher of one app. It is safe for concurrent use;
// Enqueue may be called with the shops' lock held (lock order: shops, then
// the pusher).
type Pusher struct {
	clock  *clock.Clock
	log    *slog.Logger
	block  cipher.Block
	appKey string
	client *http.Client
	tr     *http.Transport
	sem    chan struct{}
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex // guards everything below
	set        Settings
	rng        *rand.Rand
	instance   uint32
	seq        int64
	msgs       []*pushRecord
	status     Status // heartbeat counters only
	hbNow      bool   // send a heartbeat at once
	hbInFlight int
	nextHB     time.Time // real time
	running    bool
	closed     bool
}

// Options configure a Pusher.
type Options struct {
	// AppKey is written into every message.
	AppKey string
	// MessageKey is the base64 AES key of the messages (16, 24 or 32 bytes;
	// validated by the caller).
	MessageKey string
	// Seed makes the duplicate and drop choices deterministic.
	Seed int64
	// URL, DuplicateRate and DropRate are the initial settings.
	URL                     string
	DuplicateRate, DropRate float64
	// HeartbeatInterval is the real-time heartbeat period (<= 0: none).
	HeartbeatInterval time.Duration
}

// New returns a pusher; with a URL it starts at once and sends a heartbeat.
func New(o Options, clk *clock.Clock, log *slog.Logger) *Pusher {
	key, _ := base64.StdEncoding.DecodeString(o.MessageKey) // validated
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("sandbox: message key: " + err.Error()) // Validate checked the length
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pusher{
		clock: clk, log: log, block: block, appKey: o.AppKey, tr: tr,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		sem:    make(chan struct{}, rules.PushParallel),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		ctx:    ctx, cancel: cancel,
		rng:      rand.New(rand.NewPCG(uint64(o.Seed), 0x70757368)), // "push"
		instance: binary.BigEndian.Uint32(ids.Bytes(4)),             // eventIds stay unique across restarts
	}
	hb := o.HeartbeatInterval
	if hb < 0 {
		hb = 0
	}
	p.set = Settings{
		URL: o.URL, Enabled: true, DuplicateRate: o.DuplicateRate, DropRate: o.DropRate,
		HeartbeatSeconds: hb.Seconds(),
	}
	if p.set.URL != "" {
		p.hbNow = true
		p.startLocked()
	}
	return p
}

// Poke makes the pusher look for due work at once (after the clock moved).
func (p *Pusher) Poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Pusher) heartbeatInterval() time.Duration {
	return time.Duration(p.set.HeartbeatSeconds * float64(time.Second))
}

func (p *Pusher) startLocked() {
	if p.running || p.closed {
		return
	}
	p.running = true
	if iv := p.heartbeatInterval(); iv > 0 {
		p.nextHB = time.Now().Add(iv)
	}
	go p.loop()
}

// Enqueue records a message (the caller may hold the shops' lock; lock
// order is shops → pusher). No push URL: no message.
func (p *Pusher) Enqueue(now time.Time, event string, bizID, userID int64, openID string, info any) {
	infoJSON, err := json.Marshal(info)
	if err != nil { // plain structs: cannot happen
		panic("sandbox: encoding message info: " + err.Error())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.set.URL == "" || p.closed {
		return
	}
	p.seq++
	msg := pushMessage{
		EventID: fmt.Sprintf("%d_%d_%d", p.instance, userID%10000, p.seq),
		BizID:   bizID, UserID: userID, OpenID: openID, AppKey: p.appKey, Event: event,
		Info: string(infoJSON), CreateTime: clock.Millis(now),
	}
	plain, _ := json.Marshal(msg)
	// Two draws per message whatever the rates, so the decisions depend
	// only on Seed and the message's position.
	dropDraw, dupDraw := p.rng.Float64(), p.rng.Float64()
	r := &pushRecord{
		Push: Push{EventID: msg.EventID, Event: event, OpenID: openID, BizID: bizID, CreateTime: msg.CreateTime,
			Status: rules.PushPending, Attempts: []Attempt{}},
		body: encryptMessage(p.block, plain),
		due:  now,
	}
	switch {
	case dropDraw < p.set.DropRate:
		r.Status = rules.PushDropped
	case dupDraw < p.set.DuplicateRate:
		r.Duplicate = true
	}
	p.msgs = append(p.msgs, r)
	p.trimLocked()
	p.Poke()
}

// trimLocked forgets the oldest finished messages beyond rules.MaxPushes.
func (p *Pusher) trimLocked() {
	for len(p.msgs) > rules.MaxPushes {
		i := slices.IndexFunc(p.msgs, func(r *pushRecord) bool { return r.Status != rules.PushPending && !r.inFlight })
		if i < 0 {
			return
		}
		p.msgs = slices.Delete(p.msgs, i, i+1)
	}
}

func (p *Pusher) loop() {
	defer close(p.done)
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		timer.Reset(p.tick())
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-timer.C:
		}
	}
}

// tick starts every due delivery and heartbeat and returns how long to
// sleep (at most a second: the base clock may be real time).
func (p *Pusher) tick() time.Duration {
	p.mu.Lock()
	wait := time.Second
	var batch []*pushRecord
	url := p.set.URL
	sendHB := false
	if url != "" && p.set.Enabled {
		now := p.clock.Now()
		for _, r := range p.msgs {
			if r.Status != rules.PushPending || r.inFlight {
				continue
			}
			if d := r.due.Sub(now); d > 0 {
				wait = min(wait, d)
				continue
			}
			r.inFlight = true
			batch = append(batch, r)
		}
		iv := p.heartbeatInterval()
		if p.hbNow || (iv > 0 && !time.Now().Before(p.nextHB)) {
			sendHB, p.hbNow = true, false
			p.hbInFlight++
			if iv > 0 {
				p.nextHB = time.Now().Add(iv)
			}
		}
		if iv > 0 {
			wait = min(wait, time.Until(p.nextHB))
		}
	}
	p.mu.Unlock()
	for _, r := range batch {
		p.wg.Add(1)
		go p.deliver(url, r)
	}
	if sendHB {
		p.wg.Add(1)
		go p.heartbeat(url)
	}
	return max(wait, time.Millisecond)
}

func (p *Pusher) deliver(url string, r *pushRecord) {
	defer p.wg.Done()
	defer p.Poke() // a retry may already be due (the clock jumped)
	ok, outcome := p.post(url, r.body)
	p.mu.Lock()
	r.Attempts = append(r.Attempts, Attempt{Time: clock.Millis(p.clock.Now()), Outcome: outcome, OK: ok})
	dup := false
	switch {
	case ok:
		r.Status = rules.PushDelivered
		dup = r.Duplicate
	case r.retries < len(rules.PushRetries):
		r.due = r.due.Add(rules.PushRetries[r.retries])
		r.retries++
	default:
		r.Status = rules.PushFailed
	}
	if !dup {
		r.inFlight = false
	}
	p.mu.Unlock()
	p.log.Debug("sandbox push", "event", r.Event, "event_id", r.EventID, "ok", ok, "outcome", outcome)
	if !dup {
		return
	}
	ok, outcome = p.post(url, r.body)
	p.mu.Lock()
	r.Attempts = append(r.Attempts, Attempt{Time: clock.Millis(p.clock.Now()), Outcome: outcome, OK: ok, Duplicate: true})
	r.inFlight = false
	p.mu.Unlock()
}

func (p *Pusher) heartbeat(url string) {
	defer p.wg.Done()
	ok, outcome := p.post(url, encryptMessage(p.block, heartbeatPlaintext))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hbInFlight--
	p.status.Heartbeats++
	if ok {
		p.status.HeartbeatsOK++
	}
	p.status.LastHeartbeat = outcome
}

// post sends one body; success only on HTTP 200 + {"result":1} within
// rules.PushAckTimeout [MSG].
func (p *Pusher) post(url, body string) (bool, string) {
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	ctx, cancel := context.WithTimeout(p.ctx, rules.PushAckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return false, "invalid push url"
	}
	req.Header.Set("Content-Type", "text/plain;charset=utf-8")
	timedOut := func() bool { return errors.Is(ctx.Err(), context.DeadlineExceeded) }
	resp, err := p.client.Do(req)
	if err != nil {
		if timedOut() {
			return false, "timeout: no answer within 3 s"
		}
		return false, "connection failed"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		if timedOut() {
			return false, "timeout: no answer within 3 s"
		}
		return false, "reading the answer failed"
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("http %d", resp.StatusCode)
	}
	var ack struct {
		Result *float64 `json:"result"`
	}
	if err := json.Unmarshal(b, &ack); err != nil || ack.Result == nil || *ack.Result != 1 {
		return false, `bad ack: want {"result":1}`
	}
	return true, "delivered"
}

// Set changes the settings (nil fields unchanged). Setting a URL starts the
// pusher and sends a heartbeat at once.
func (p *Pusher) Set(u Update) (Settings, error) {
	var errs []string
	if u.URL != nil && *u.URL != "" {
		if pu, err := url.Parse(*u.URL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			errs = append(errs, "url must be an absolute http(s) URL or empty")
		}
	}
	for _, r := range []struct {
		name string
		v    *float64
	}{{"duplicateRate", u.DuplicateRate}, {"dropRate", u.DropRate}} {
		if r.v != nil && (math.IsNaN(*r.v) || *r.v < 0 || *r.v > 1) {
			errs = append(errs, r.name+" must be between 0 and 1")
		}
	}
	if u.HeartbeatSeconds != nil && (math.IsNaN(*u.HeartbeatSeconds) || *u.HeartbeatSeconds < 0 || *u.HeartbeatSeconds > 86400) {
		errs = append(errs, "heartbeatSeconds must be between 0 (none) and 86400")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(errs) > 0 {
		return p.set, fmt.Errorf("%w: pusher: %s", rules.ErrInvalidConfig, strings.Join(errs, "; "))
	}
	if u.URL != nil && *u.URL != p.set.URL {
		p.set.URL = *u.URL
		p.hbNow = p.set.URL != "" // saving the URL sends a test message [MSG]
	}
	if u.Enabled != nil {
		p.set.Enabled = *u.Enabled
	}
	if u.DuplicateRate != nil {
		p.set.DuplicateRate = *u.DuplicateRate
	}
	if u.DropRate != nil {
		p.set.DropRate = *u.DropRate
	}
	if u.HeartbeatSeconds != nil {
		p.set.HeartbeatSeconds = *u.HeartbeatSeconds
		if iv := p.heartbeatInterval(); iv > 0 {
			p.nextHB = time.Now().Add(iv)
		}
	}
	if p.set.URL != "" {
		p.startLocked()
	}
	p.Poke()
	return p.set, nil
}

// Status reports the settings and counts.
func (p *Pusher) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Settings = p.set
	for _, r := range p.msgs {
		switch r.Status {
		case rules.PushPending:
			st.Pending++
		case rules.PushDelivered:
			st.Delivered++
		case rules.PushFailed:
			st.Failed++
		case rules.PushDropped:
			st.Dropped++
		}
		if r.Duplicate {
			st.DuplicatesSelected++
		}
	}
	return st
}

// List lists every message produced, oldest first, with its delivery
// attempts.
func (p *Pusher) List() []Push {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Push, len(p.msgs))
	for i, r := range p.msgs {
		out[i] = r.Push
		out[i].Attempts = slices.Clone(r.Attempts)
		if r.Status == rules.PushPending {
			out[i].NextAttempt = clock.Millis(r.due)
		}
	}
	return out
}

// settled reports that nothing is in flight and no pending message is due.
func (p *Pusher) settled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hbInFlight > 0 || p.hbNow && p.running && p.set.Enabled {
		return false
	}
	deliverable := p.running && p.set.URL != "" && p.set.Enabled
	now := p.clock.Now()
	for _, r := range p.msgs {
		if r.inFlight || (deliverable && r.Status == rules.PushPending && !r.due.After(now)) {
			return false
		}
	}
	return true
}

// Close stops the pusher, waiting for deliveries in flight; later messages
// are not produced.
func (p *Pusher) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	running := p.running
	p.mu.Unlock()
	close(p.stop)
	if running {
		<-p.done
	}
	p.cancel()
	p.wg.Wait()
	p.tr.CloseIdleConnections()
}

// Wait blocks until no message is due or being delivered (and no heartbeat
// is in flight), or ctx ends.
func (p *Pusher) Wait(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for !p.settled() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
