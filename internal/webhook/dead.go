package webhook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Limits of one requeue or replay call.
const (
	MaxRequeue = 10000
	MaxReplay  = 10000
)

// DeadLetter is an event an endpoint did not take within the retry budget.
type DeadLetter struct {
	ID         uint64 // its sequence in the dead-letter stream
	WebhookID  string
	Type       string
	OpenID     string
	Attempts   int
	LastStatus int
	LastError  string
	EventTime  time.Time
	DeadTime   time.Time
	Payload    []byte
}

// deadLetter keeps a delivery the endpoint never took.
func (e *Engine) deadLetter(ctx context.Context, id string, d *delivery, attempts int, res result, subject string, seq uint64) error {
	m := nats.NewMsg(deadPrefix + id)
	m.Data = d.body
	m.Header.Set(hdrID, d.id)
	m.Header.Set(hdrType, d.typ)
	if d.openID != "" {
		m.Header.Set(hdrOpenID, d.openID)
	}
	m.Header.Set(hdrAttempts, strconv.Itoa(attempts))
	m.Header.Set(hdrStatus, strconv.Itoa(res.status))
	m.Header.Set(hdrError, res.err)
	m.Header.Set(hdrEventTime, strconv.FormatInt(d.eventTime.UnixMilli(), 10))
	m.Header.Set(hdrDeadTime, strconv.FormatInt(e.cfg.Now().UnixMilli(), 10))
	// Once per event and endpoint, even if the acknowledgement after it is lost.
	m.Header.Set(jetstream.MsgIDHeader, "dl:"+id+":"+subjectKind(subject)+":"+strconv.FormatUint(seq, 10))
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := e.js.PublishMsg(pctx, m); err != nil {
		return err
	}
	e.metrics.deadLettered(ctx, id)
	e.log.WarnContext(ctx, "webhook: dead letter", "endpoint", id, "webhook_id", d.id, "type", d.typ, "attempts", attempts, "last_error", res.err)
	return nil
}

func subjectKind(subject string) string {
	if strings.HasPrefix(subject, msgPrefix) {
		return kindMessages
	}
	return kindEvents
}

func readDead(seq uint64, h nats.Header, data []byte) DeadLetter {
	d := DeadLetter{ID: seq, WebhookID: h.Get(hdrID), Type: h.Get(hdrType), OpenID: h.Get(hdrOpenID), LastError: h.Get(hdrError), Payload: data}
	d.Attempts, _ = strconv.Atoi(h.Get(hdrAttempts))
	d.LastStatus, _ = strconv.Atoi(h.Get(hdrStatus))
	if ms, err := strconv.ParseInt(h.Get(hdrEventTime), 10, 64); err == nil {
		d.EventTime = time.UnixMilli(ms)
	}
	if ms, err := strconv.ParseInt(h.Get(hdrDeadTime), 10, 64); err == nil {
		d.DeadTime = time.UnixMilli(ms)
	}
	return d
}

// DeadLetters lists an endpoint's dead letters, oldest first. The page
// token is the next dead letter's id.
func (e *Engine) DeadLetters(ctx context.Context, id string, pageSize int, pageToken string) ([]DeadLetter, string, error) {
	if _, _, err := e.load(ctx, id); err != nil {
		return nil, "", err
	}
	var start uint64
	if pageToken != "" {
		n, err := strconv.ParseUint(pageToken, 10, 64)
		if err != nil || n == 0 {
			return nil, "", invalid(Violation{Field: "page_token", Description: "not a token returned by this list"})
		}
		start = n
	}
	if pageSize <= 0 {
		pageSize = 50
	}
	var out []DeadLetter
	next := ""
	err := store.ScanStream(ctx, e.dead, []string{deadPrefix + id}, start, time.Time{}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if len(out) == pageSize {
			next = strconv.FormatUint(meta.Sequence.Stream, 10)
			return false
		}
		out = append(out, readDead(meta.Sequence.Stream, m.Headers(), m.Data()))
		return true
	})
	return out, next, err
}

// Requeue delivers dead letters again (all of them, or those named), with
// their original webhook-id and body, and removes them. Every named id is
// checked before anything is requeued.
func (e *Engine) Requeue(ctx context.Context, id string, ids []uint64, all bool) (int, error) {
	if _, _, err := e.load(ctx, id); err != nil {
		return 0, err
	}
	if all == (len(ids) > 0) {
		return 0, invalid(Violation{Field: "dead_letter_ids", Description: "name dead letters, or set all (not both)"})
	}
	if len(ids) > MaxRequeue {
		return 0, invalid(Violation{Field: "dead_letter_ids", Description: fmt.Sprintf("at most %d", MaxRequeue)})
	}
	type dl struct {
		seq  uint64
		h    nats.Header
		data []byte
	}
	var list []dl
	if all {
		err := store.ScanStream(ctx, e.dead, []string{deadPrefix + id}, 0, time.Time{}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
			list = append(list, dl{meta.Sequence.Stream, m.Headers(), m.Data()})
			return len(list) < MaxRequeue
		})
		if err != nil {
			return 0, err
		}
	} else {
		for i, seq := range ids {
			raw, err := e.dead.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && raw.Subject != deadPrefix+id) {
				return 0, invalid(Violation{Field: fmt.Sprintf("dead_letter_ids[%d]", i), Description: "no such dead letter of this endpoint"})
			}
			if err != nil {
				return 0, fmt.Errorf("webhook: dead letter: %w", err)
			}
			list = append(list, dl{seq, raw.Header, raw.Data})
		}
	}
	n := 0
	for _, d := range list {
		m := nats.NewMsg(redeliverPrefix + id + "." + shopToken(d.h.Get(hdrOpenID)))
		m.Data = d.data
		for _, k := range []string{hdrID, hdrType, hdrOpenID, hdrEventTime} {
			if v := d.h.Get(k); v != "" {
				m.Header.Set(k, v)
			}
		}
		m.Header.Set(jetstream.MsgIDHeader, "rq:"+id+":"+strconv.FormatUint(d.seq, 10))
		if _, err := e.js.PublishMsg(ctx, m); err != nil {
			return n, fmt.Errorf("webhook: requeue: %w", err)
		}
		if err := e.dead.DeleteMsg(ctx, d.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("webhook: requeue: %w", err)
		}
		n++
	}
	e.log.InfoContext(ctx, "webhook: dead letters requeued", "endpoint", id, "count", n)
	return n, nil
}

// shopToken is the lane key of a copy's subject.
func shopToken(openID string) string {
	if openID == "" || !openIDRe.MatchString(openID) {
		return "_"
	}
	return openID
}

// Replay delivers again, to this endpoint only, the stored events of
// [start, end) that match its event types and shops (end zero = now). It
// reports how many were queued and whether the range held more than
// MaxReplay.
func (e *Engine) Replay(ctx context.Context, id string, start, end time.Time) (int, bool, error) {
	rec, _, err := e.load(ctx, id)
	if err != nil {
		return 0, false, err
	}
	if end.IsZero() {
		end = e.cfg.Now()
	}
	if !start.Before(end) {
		return 0, false, invalid(Violation{Field: "start_time", Description: "must be before end_time"})
	}
	st, err := e.open(rec)
	if err != nil {
		return 0, false, err
	}
	n, truncated := 0, false
	var pubErr error
	each := func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if !meta.Timestamp.Before(end) {
			return false
		}
		d, err := e.prepare(m, meta)
		if err != nil || !st.filter.match(d.typ) || !st.wantsShop(d.openID) {
			return true
		}
		if n == MaxReplay {
			truncated = true
			return false
		}
		c := nats.NewMsg(redeliverPrefix + id + "." + shopToken(d.openID))
		c.Data = d.body
		c.Header.Set(hdrID, d.id)
		c.Header.Set(hdrType, d.typ)
		if d.openID != "" {
			c.Header.Set(hdrOpenID, d.openID)
		}
		c.Header.Set(hdrEventTime, strconv.FormatInt(d.eventTime.UnixMilli(), 10))
		if _, pubErr = e.js.PublishMsg(ctx, c); pubErr != nil {
			return false
		}
		n++
		return true
	}
	if mf := messageFilters(st.filter, st.OpenIDs); len(mf) > 0 {
		if err := store.ScanStream(ctx, e.msgs, mf, 0, start, each); err != nil {
			return n, truncated, err
		}
	}
	if pubErr == nil && !truncated {
		if ef := eventFilters(id, st.filter, st.OpenIDs)[1:]; len(ef) > 0 { // not the endpoint's own copies
			if err := store.ScanStream(ctx, e.events, ef, 0, start, each); err != nil {
				return n, truncated, err
			}
		}
	}
	if pubErr != nil {
		return n, truncated, fmt.Errorf("webhook: replay: %w", pubErr)
	}
	e.log.InfoContext(ctx, "webhook: events replayed", "endpoint", id, "count", n, "truncated", truncated)
	return n, truncated, nil
}
