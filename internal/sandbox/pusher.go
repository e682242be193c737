package sandbox

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
)

// The message pusher (docs/sandbox.md, Messages): state changes become
// messages, encrypted with the app's message key and POSTed to the push
// URL; failures are retried on the sandbox clock (rules.go pushRetries);
// heartbeats {"test":true} go out every HeartbeatInterval of real time.

// PusherSettings are the pusher's switches (GET/POST /sandbox/v1/pusher).
type PusherSettings struct {
	// URL receives the messages; empty = no push URL, no messages are
	// produced (as on the platform without a message channel).
	URL string `json:"url"`
	// Enabled pauses (false) or resumes delivery; paused messages wait as
	// "pending" and go out when delivery resumes.
	Enabled bool `json:"enabled"`
	// DuplicateRate is the fraction of messages pushed twice (the same
	// eventId again right after the first successful delivery).
	DuplicateRate float64 `json:"duplicateRate"`
	// DropRate is the fraction of messages never pushed (recorded as
	// "dropped").
	DropRate float64 `json:"dropRate"`
	// HeartbeatSeconds is the real-time heartbeat period; 0 = none.
	HeartbeatSeconds float64 `json:"heartbeatSeconds"`
}

// PusherUpdate changes some settings; nil fields keep their value.
type PusherUpdate struct {
	URL              *string  `json:"url"`
	Enabled          *bool    `json:"enabled"`
	DuplicateRate    *float64 `json:"duplicateRate"`
	DropRate         *float64 `json:"dropRate"`
	HeartbeatSeconds *float64 `json:"heartbeatSeconds"`
}

// PusherStatus is the settings plus what the pusher has done.
type PusherStatus struct {
	PusherSettings
	Heartbeats         int    `json:"heartbeats"`   // heartbeats sent
	HeartbeatsOK       int    `json:"heartbeatsOk"` // acknowledged with {"result":1}
	LastHeartbeat      string `json:"lastHeartbeat,omitempty"`
	Pending            int    `json:"pending"`
	Delivered          int    `json:"delivered"`
	Failed             int    `json:"failed"`
	Dropped            int    `json:"dropped"`
	DuplicatesSelected int    `json:"duplicatesSelected"`
}

// Push is one message and its delivery record.
type Push struct {
	EventID    string `json:"eventId"`
	Event      string `json:"event"`
	OpenID     string `json:"openId"`
	BizID      int64  `json:"bizId"`
	CreateTime int64  `json:"createTime"` // sandbox clock, ms
	// Status is pending, delivered, failed (after the last retry) or dropped.
	Status string `json:"status"`
	// Duplicate: the pusher was told to push this message twice.
	Duplicate bool `json:"duplicate,omitempty"`
	// NextAttempt is when a pending message is due (sandbox clock, ms).
	NextAttempt int64         `json:"nextAttempt,omitempty"`
	Attempts    []PushAttempt `json:"attempts"`
}

// PushAttempt is one POST of a message.
type PushAttempt struct {
	Time      int64  `json:"time"`    // sandbox clock, ms
	Outcome   string `json:"outcome"` // "delivered" or why it failed
	OK        bool   `json:"ok"`
	Duplicate bool   `json:"duplicate,omitempty"` // the deliberate second copy
}

// pushMessage is the plaintext of a message [MSG], in the field order
// of the platform's sample (info is a JSON string).
type pushMessage struct {
	EventID    string `json:"eventId"`
	BizID      int64  `json:"bizId"`
	UserID     int64  `json:"userId"`
	OpenID     string `json:"openId"`
	AppKey     string `json:"appKey"`
	Event      string `json:"event"`
	Info       string `json:"info"`
	CreateTime int64  `json:"createTime"`
	Test       bool   `json:"test"`
}

var heartbeatPlaintext = []byte(`{"test":true}`)

type pushRecord struct {
	Push
	body     string // base64 ciphertext
	due      time.Time
	retries  int
	inFlight bool
}

type pusher struct {
	clock  *clock
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
	set        PusherSettings
	rng        *rand.Rand
	instance   uint32
	seq        int64
	msgs       []*pushRecord
	status     PusherStatus // heartbeat counters only
	hbNow      bool         // send a heartbeat at once
	hbInFlight int
	nextHB     time.Time // real time
	running    bool
	closed     bool
}

func newPusher(cfg Config, clk *clock, log *slog.Logger) *pusher {
	key, _ := base64.StdEncoding.DecodeString(cfg.MessageKey) // validated
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("sandbox: message key: " + err.Error()) // Validate checked the length
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pusher{
		clock: clk, log: log, block: block, appKey: cfg.AppKey, tr: tr,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		sem:    make(chan struct{}, pushParallel),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		ctx:    ctx, cancel: cancel,
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x70757368)), // "push"
		instance: binary.BigEndian.Uint32(randomBytes(4)),             // eventIds stay unique across restarts
	}
	hb := cfg.HeartbeatInterval
	if hb < 0 {
		hb = 0
	}
	p.set = PusherSettings{
		URL: cfg.PushURL, Enabled: true, DuplicateRate: cfg.PushDuplicateRate, DropRate: cfg.PushDropRate,
		HeartbeatSeconds: hb.Seconds(),
	}
	if p.set.URL != "" {
		p.hbNow = true
		p.startLocked()
	}
	return p
}

// encryptMessage is the platform's message encryption [MSG]:
// AES-CBC, IV = 16 zero bytes, PKCS#7 padding, standard base64.
func encryptMessage(block cipher.Block, plain []byte) string {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

func (p *pusher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *pusher) heartbeatInterval() time.Duration {
	return time.Duration(p.set.HeartbeatSeconds * float64(time.Second))
}

func (p *pusher) startLocked() {
	if p.running || p.closed {
		return
	}
	p.running = true
	if iv := p.heartbeatInterval(); iv > 0 {
		p.nextHB = time.Now().Add(iv)
	}
	go p.loop()
}

// enqueue records a message (the caller holds Sandbox.mu; lock order is
// Sandbox.mu → pusher.mu). No push URL: no message.
func (p *pusher) enqueue(now time.Time, event string, bizID, userID int64, openID string, info any) {
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
		Info: string(infoJSON), CreateTime: ms(now),
	}
	plain, _ := json.Marshal(msg)
	// Two draws per message whatever the rates, so the decisions depend
	// only on Seed and the message's position.
	dropDraw, dupDraw := p.rng.Float64(), p.rng.Float64()
	r := &pushRecord{
		Push: Push{EventID: msg.EventID, Event: event, OpenID: openID, BizID: bizID, CreateTime: msg.CreateTime,
			Status: PushPending, Attempts: []PushAttempt{}},
		body: encryptMessage(p.block, plain),
		due:  now,
	}
	switch {
	case dropDraw < p.set.DropRate:
		r.Status = PushDropped
	case dupDraw < p.set.DuplicateRate:
		r.Duplicate = true
	}
	p.msgs = append(p.msgs, r)
	p.trimLocked()
	p.poke()
}

// trimLocked forgets the oldest finished messages beyond maxPushes.
func (p *pusher) trimLocked() {
	for len(p.msgs) > maxPushes {
		i := slices.IndexFunc(p.msgs, func(r *pushRecord) bool { return r.Status != PushPending && !r.inFlight })
		if i < 0 {
			return
		}
		p.msgs = slices.Delete(p.msgs, i, i+1)
	}
}

func (p *pusher) loop() {
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
func (p *pusher) tick() time.Duration {
	p.mu.Lock()
	wait := time.Second
	var batch []*pushRecord
	url := p.set.URL
	sendHB := false
	if url != "" && p.set.Enabled {
		now := p.clock.Now()
		for _, r := range p.msgs {
			if r.Status != PushPending || r.inFlight {
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

func (p *pusher) deliver(url string, r *pushRecord) {
	defer p.wg.Done()
	defer p.poke() // a retry may already be due (the clock jumped)
	ok, outcome := p.post(url, r.body)
	p.mu.Lock()
	r.Attempts = append(r.Attempts, PushAttempt{Time: ms(p.clock.Now()), Outcome: outcome, OK: ok})
	dup := false
	switch {
	case ok:
		r.Status = PushDelivered
		dup = r.Duplicate
	case r.retries < len(pushRetries):
		r.due = r.due.Add(pushRetries[r.retries])
		r.retries++
	default:
		r.Status = PushFailed
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
	r.Attempts = append(r.Attempts, PushAttempt{Time: ms(p.clock.Now()), Outcome: outcome, OK: ok, Duplicate: true})
	r.inFlight = false
	p.mu.Unlock()
}

func (p *pusher) heartbeat(url string) {
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
// pushAckTimeout [MSG].
func (p *pusher) post(url, body string) (bool, string) {
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	ctx, cancel := context.WithTimeout(p.ctx, pushAckTimeout)
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

func (p *pusher) update(u PusherUpdate) (PusherSettings, error) {
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
		return p.set, fmt.Errorf("%w: pusher: %s", ErrInvalidConfig, strings.Join(errs, "; "))
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
	p.poke()
	return p.set, nil
}

func (p *pusher) statusNow() PusherStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.PusherSettings = p.set
	for _, r := range p.msgs {
		switch r.Status {
		case PushPending:
			st.Pending++
		case PushDelivered:
			st.Delivered++
		case PushFailed:
			st.Failed++
		case PushDropped:
			st.Dropped++
		}
		if r.Duplicate {
			st.DuplicatesSelected++
		}
	}
	return st
}

func (p *pusher) list() []Push {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Push, len(p.msgs))
	for i, r := range p.msgs {
		out[i] = r.Push
		out[i].Attempts = slices.Clone(r.Attempts)
		if r.Status == PushPending {
			out[i].NextAttempt = ms(r.due)
		}
	}
	return out
}

// settled reports that nothing is in flight and no pending message is due.
func (p *pusher) settled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hbInFlight > 0 || p.hbNow && p.running && p.set.Enabled {
		return false
	}
	deliverable := p.running && p.set.URL != "" && p.set.Enabled
	now := p.clock.Now()
	for _, r := range p.msgs {
		if r.inFlight || (deliverable && r.Status == PushPending && !r.due.After(now)) {
			return false
		}
	}
	return true
}

func (p *pusher) close() {
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

// Pushes lists every message the pusher produced, oldest first, with its
// delivery attempts.
func (s *Sandbox) Pushes() []Push { return s.push.list() }

// Pusher reports the pusher's settings and counts.
func (s *Sandbox) Pusher() PusherStatus { return s.push.statusNow() }

// SetPusher changes the pusher's settings (nil fields unchanged). Setting a
// URL starts the pusher and sends a heartbeat at once.
func (s *Sandbox) SetPusher(u PusherUpdate) (PusherSettings, error) { return s.push.update(u) }

// WaitPushes blocks until no message is due or being delivered (and no
// heartbeat is in flight), or ctx ends. Use it after a state change or
// Advance to see the deliveries they caused.
func (s *Sandbox) WaitPushes(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for !s.push.settled() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// emitLocked produces a message about sh if the shop has a live
// authorization holding the event's scope [K4001]. Sandbox.mu is held.
func (s *Sandbox) emitLocked(sh *shop, event string, bizID int64, info any, now time.Time) {
	scope := eventScope(event)
	for _, g := range s.grants {
		if g.userID == sh.user.ID && !g.revokedAt(now) && slices.Contains(g.scopes, scope) {
			s.push.enqueue(now, event, bizID, sh.user.SellerID, sh.user.OpenID, info)
			return
		}
	}
}
