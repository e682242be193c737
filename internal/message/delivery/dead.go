package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Dead-letter reasons.
const (
	DeadMaxDeliveries = "max_deliveries"
	DeadTerminated    = "terminated"
)

// Dead-letter headers (besides those of the message).
const (
	hdrDeadGroup  = "Kw-Dead-Group"
	hdrDeadReason = "Kw-Dead-Reason"
	hdrDeadCount  = "Kw-Dead-Deliveries"
	hdrDeadSeq    = "Kw-Dead-Seq"
	hdrDeadSubj   = "Kw-Dead-Subject"
	hdrDeadTime   = "Kw-Dead-Time"
)

// advisory is the JSON of the server's max_deliver and terminated
// advisories.
type advisory struct {
	Type       string `json:"type"`
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// RunDeadLetters copies every message a group gave up on into the
// dead-letter stream until ctx ends. Every replica may run it: the
// advisories sit in a work queue, so each is handled once, and a copy is
// de-duplicated by (group, sequence, deliveries) anyway.
func (g *Groups) RunDeadLetters(ctx context.Context) error {
	cons, err := g.adv.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:    deadCopier,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    30 * time.Second,
		MaxDeliver: -1,
		Replicas:   g.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("message: dead-letter consumer: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { // consumer lag, every lagInterval
		t := time.NewTicker(lagInterval)
		defer t.Stop()
		for {
			g.reportLag(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("message: dead-letter iterator: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop) // ends Next at once on shutdown
	defer stop()
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			break
		}
		if err != nil {
			g.logger.WarnContext(ctx, "message: dead letters: fetch", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if err := g.copyDead(ctx, m); err != nil {
			g.logger.WarnContext(ctx, "message: dead letters: copy", "err", err)
			_ = m.NakWithDelay(time.Second)
			continue
		}
		_ = m.Ack()
	}
	return ctx.Err()
}

// lagInterval is how often consumer lag is reported.
const lagInterval = 15 * time.Second

// reportLag reports every group's pending count (not yet delivered plus
// delivered and unacknowledged).
func (g *Groups) reportLag(ctx context.Context) {
	lister := g.stream.ListConsumers(ctx)
	for info := range lister.Info() {
		if info.Config.Durable == "" {
			continue // ephemeral list/replay readers
		}
		g.obs.Lag(info.Name, int64(info.NumPending)+int64(info.NumAckPending))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (g *Groups) copyDead(ctx context.Context, m jetstream.Msg) error {
	var a advisory
	if err := json.Unmarshal(m.Data(), &a); err != nil || a.Stream != msglog.StreamName || !msglog.ValidName(a.Consumer) {
		return nil // not ours or not an advisory: drop it
	}
	reason := DeadMaxDeliveries
	if strings.HasSuffix(a.Type, "terminated") {
		reason = DeadTerminated
	}
	out := nats.NewMsg(deadPrefix + a.Consumer)
	orig, err := g.stream.GetMsg(ctx, a.StreamSeq)
	app := "" // the message's app, for the counts
	switch {
	case err == nil:
		app = msglog.Decode(orig.Subject, orig.Data, orig.Header, a.StreamSeq, orig.Time).AppKey
		for k, vs := range orig.Header {
			if k == jetstream.MsgIDHeader {
				continue
			}
			out.Header[k] = vs
		}
		out.Data = orig.Data
		out.Header.Set(hdrDeadSubj, orig.Subject)
	case errors.Is(err, jetstream.ErrMsgNotFound): // aged out meanwhile
	default:
		return err
	}
	out.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("dl:%s:%d:%d", a.Consumer, a.StreamSeq, a.Deliveries))
	out.Header.Set(hdrDeadGroup, a.Consumer)
	out.Header.Set(hdrDeadReason, reason)
	out.Header.Set(hdrDeadCount, strconv.FormatUint(a.Deliveries, 10))
	out.Header.Set(hdrDeadSeq, strconv.FormatUint(a.StreamSeq, 10))
	out.Header.Set(hdrDeadTime, strconv.FormatInt(time.Now().UnixMilli(), 10))
	if _, err := g.js.PublishMsg(ctx, out); err != nil {
		return err
	}
	g.obs.DeadLettered(ctx, app, msglog.EventToken(out.Header.Get(hdrDeadSubj)), a.Consumer)
	g.logger.WarnContext(ctx, "message: dead letter", "group", a.Consumer, "sequence", a.StreamSeq, "deliveries", a.Deliveries, "reason", reason, "event_id", out.Header.Get(msglog.HeaderEventID))
	return nil
}

// DeadLetter is a message a group gave up on.
type DeadLetter struct {
	ID         uint64 // its sequence in the dead-letter stream
	Group      string
	Reason     string // DeadMaxDeliveries or DeadTerminated
	Deliveries uint32
	DeadTime   time.Time
	// Message is nil when the message had left the log before it was
	// copied.
	Message *message.Message
}

func deadLetter(seq uint64, data []byte, h nats.Header) DeadLetter {
	d := DeadLetter{
		ID:     seq,
		Group:  h.Get(hdrDeadGroup),
		Reason: h.Get(hdrDeadReason),
	}
	if n, err := strconv.ParseUint(h.Get(hdrDeadCount), 10, 32); err == nil {
		d.Deliveries = uint32(n)
	}
	if ms, err := strconv.ParseInt(h.Get(hdrDeadTime), 10, 64); err == nil {
		d.DeadTime = time.UnixMilli(ms)
	}
	if len(data) > 0 {
		oseq, _ := strconv.ParseUint(h.Get(hdrDeadSeq), 10, 64)
		m := msglog.Decode(h.Get(hdrDeadSubj), data, h, oseq, time.Time{})
		d.Message = &m
	}
	return d
}

// DeadLetters lists dead letters (of one group, or all), oldest first.
func (g *Groups) DeadLetters(ctx context.Context, group string, pageSize int, token string) ([]DeadLetter, string, error) {
	if group != "" {
		if err := checkGroupName(group); err != nil {
			return nil, "", err
		}
	}
	if pageSize <= 0 {
		pageSize = 50
	}
	seq, err := msglog.ParsePageToken(token, "dead|"+group)
	if err != nil {
		return nil, "", err
	}
	filter := deadPrefix + ">"
	if group != "" {
		filter = deadPrefix + group
	}
	var out []DeadLetter
	next := ""
	err = store.ScanStream(ctx, g.dead, []string{filter}, seq, time.Time{}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if len(out) == pageSize {
			next = msglog.PageToken(meta.Sequence.Stream, "dead|"+group)
			return false
		}
		out = append(out, deadLetter(meta.Sequence.Stream, m.Data(), m.Headers()))
		return true
	})
	return out, next, err
}

// Requeue delivers a dead letter again to its group (as a replay copy) and
// removes it from the dead letters. It returns the group.
func (g *Groups) Requeue(ctx context.Context, id uint64) (string, error) {
	raw, err := g.dead.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("message: requeue: %w", err)
	}
	group := raw.Header.Get(hdrDeadGroup)
	subj := raw.Header.Get(hdrDeadSubj)
	if len(raw.Data) == 0 || subj == "" {
		return "", fmt.Errorf("%w: the dead letter's message had left the log", ErrNotFound)
	}
	oseq, _ := strconv.ParseUint(raw.Header.Get(hdrDeadSeq), 10, 64)
	out := replayCopy(group, subj, raw.Data, raw.Header, oseq)
	out.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("rq:%d", id))
	if _, err := g.js.PublishMsg(ctx, out); err != nil {
		return "", fmt.Errorf("message: requeue: %w", err)
	}
	if err := g.dead.DeleteMsg(ctx, id); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", fmt.Errorf("message: requeue: delete dead letter: %w", err)
	}
	return group, nil
}
