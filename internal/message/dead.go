package message

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
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Dead-letter reasons.
const (
	DeadMaxDeliveries = "max_deliveries"
	DeadTerminated    = "terminated"
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
func (l *Log) RunDeadLetters(ctx context.Context) error {
	cons, err := l.adv.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:    deadCopier,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    30 * time.Second,
		MaxDeliver: -1,
		Replicas:   l.cfg.Replicas,
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
			l.reportLag(ctx)
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
			l.log.WarnContext(ctx, "message: dead letters: fetch", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if err := l.copyDead(ctx, m); err != nil {
			l.log.WarnContext(ctx, "message: dead letters: copy", "err", err)
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
func (l *Log) reportLag(ctx context.Context) {
	lister := l.stream.ListConsumers(ctx)
	for info := range lister.Info() {
		if info.Config.Durable == "" {
			continue // ephemeral list/replay readers
		}
		l.obs.Lag(info.Name, int64(info.NumPending)+int64(info.NumAckPending))
	}
}

// eventOf is the event token of a message subject (kwaishop.msg.<o>.<e>.<id>).
func eventOf(subject string) string {
	toks := strings.Split(subject, ".")
	if len(toks) < 3 {
		return ""
	}
	return toks[len(toks)-2]
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (l *Log) copyDead(ctx context.Context, m jetstream.Msg) error {
	var a advisory
	if err := json.Unmarshal(m.Data(), &a); err != nil || a.Stream != StreamName || !plainToken.MatchString(a.Consumer) {
		return nil // not ours or not an advisory: drop it
	}
	reason := DeadMaxDeliveries
	if strings.HasSuffix(a.Type, "terminated") {
		reason = DeadTerminated
	}
	out := nats.NewMsg(deadPrefix + a.Consumer)
	orig, err := l.stream.GetMsg(ctx, a.StreamSeq)
	switch {
	case err == nil:
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
	if _, err := l.js.PublishMsg(ctx, out); err != nil {
		return err
	}
	l.obs.DeadLettered(ctx, eventOf(out.Header.Get(hdrDeadSubj)), a.Consumer)
	l.log.WarnContext(ctx, "message: dead letter", "group", a.Consumer, "sequence", a.StreamSeq, "deliveries", a.Deliveries, "reason", reason, "event_id", out.Header.Get(hdrEventID))
	return nil
}

func deadLetter(seq uint64, subject string, data []byte, h nats.Header) *gatewayv1.DeadLetter {
	d := &gatewayv1.DeadLetter{
		Id:     seq,
		Group:  h.Get(hdrDeadGroup),
		Reason: h.Get(hdrDeadReason),
	}
	if n, err := strconv.ParseUint(h.Get(hdrDeadCount), 10, 32); err == nil {
		d.Deliveries = uint32(n)
	}
	if ms, err := strconv.ParseInt(h.Get(hdrDeadTime), 10, 64); err == nil {
		d.DeadTime = timestamppb.New(time.UnixMilli(ms))
	}
	if len(data) > 0 {
		oseq, _ := strconv.ParseUint(h.Get(hdrDeadSeq), 10, 64)
		d.Message = decodeStored(h.Get(hdrDeadSubj), data, h, oseq, time.Time{})
	}
	return d
}

// DeadLetters lists dead letters (of one group, or all), oldest first.
func (l *Log) DeadLetters(ctx context.Context, group string, pageSize int, token string) ([]*gatewayv1.DeadLetter, string, error) {
	if group != "" && !plainToken.MatchString(group) {
		return nil, "", invalid("group", "must match [A-Za-z0-9_-]{1,64}")
	}
	if pageSize <= 0 {
		pageSize = 50
	}
	seq, err := decodeToken(token, "dead|"+group)
	if err != nil {
		return nil, "", err
	}
	filter := deadPrefix + ">"
	if group != "" {
		filter = deadPrefix + group
	}
	var out []*gatewayv1.DeadLetter
	next := ""
	err = store.ScanStream(ctx, l.dead, []string{filter}, seq, time.Time{}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if len(out) == pageSize {
			next = encodeToken(pageToken{Seq: meta.Sequence.Stream, Filter: "dead|" + group})
			return false
		}
		out = append(out, deadLetter(meta.Sequence.Stream, m.Subject(), m.Data(), m.Headers()))
		return true
	})
	return out, next, err
}

// Requeue delivers a dead letter again to its group (as a replay copy) and
// removes it from the dead letters. It returns the group.
func (l *Log) Requeue(ctx context.Context, id uint64) (string, error) {
	raw, err := l.dead.GetMsg(ctx, id)
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
	if _, err := l.js.PublishMsg(ctx, out); err != nil {
		return "", fmt.Errorf("message: requeue: %w", err)
	}
	if err := l.dead.DeleteMsg(ctx, id); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", fmt.Errorf("message: requeue: delete dead letter: %w", err)
	}
	return group, nil
}

// replayCopy builds the copy of a stored message for one group: same data
// and headers (trace context included), on the group's replay subject.
func replayCopy(group, subject string, data []byte, h nats.Header, seq uint64) *nats.Msg {
	// subject is kwaishop.msg.<o>.<e>.<id> or kwaishop.replay.<g>.<o>.<e>.<id>;
	// keep its last three tokens.
	toks := strings.Split(subject, ".")
	tail := strings.Join(toks[max(len(toks)-3, 0):], ".")
	out := nats.NewMsg(replayPrefix + group + "." + tail)
	for k, vs := range h {
		switch {
		case k == jetstream.MsgIDHeader, strings.HasPrefix(k, "Kw-Dead-"), k == hdrReplayOf:
			continue
		}
		out.Header[k] = vs
	}
	out.Header.Set(hdrReplayOf, strconv.FormatUint(seq, 10))
	out.Data = data
	return out
}

// Replay queues copies of the group's messages stored in [start, end) for
// that group only. It returns how many were queued.
func (l *Log) Replay(ctx context.Context, group string, start, end time.Time) (int64, error) {
	cons, err := l.stream.Consumer(ctx, group)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, ErrGroupNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("message: replay: %w", err)
	}
	var filters []string
	for _, f := range groupFilters(cons.CachedInfo().Config) {
		if strings.HasPrefix(f, msgPrefix) {
			filters = append(filters, f)
		}
	}
	if end.IsZero() {
		end = time.Now()
	}
	if !start.Before(end) {
		return 0, invalid("end_time", "must be after start_time")
	}
	var n int64
	var futures []jetstream.PubAckFuture
	flush := func() error {
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("message: replay: %w", err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		futures = futures[:0]
		return nil
	}
	var pubErr error
	err = store.ScanStream(ctx, l.stream, filters, 0, start, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if !meta.Timestamp.Before(end) {
			return false
		}
		f, err := l.js.PublishMsgAsync(replayCopy(group, m.Subject(), m.Data(), m.Headers(), meta.Sequence.Stream))
		if err != nil {
			pubErr = err
			return false
		}
		futures = append(futures, f)
		n++
		if len(futures) >= 256 {
			if pubErr = flush(); pubErr != nil {
				return false
			}
		}
		return true
	})
	if err == nil {
		err = pubErr
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, err
	}
	l.log.InfoContext(ctx, "message: replay queued", "group", group, "messages", n)
	return n, nil
}
