package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// hdrReplayOf names the sequence of the message a replay copy copies.
const hdrReplayOf = "Kw-Replay-Of"

// replayCopy builds the copy of a stored message for one group: same data
// and headers (trace context included), on the group's replay subject.
func replayCopy(group, subject string, data []byte, h nats.Header, seq uint64) *nats.Msg {
	out := nats.NewMsg(msglog.ReplaySubject(group, subject))
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
func (g *Groups) Replay(ctx context.Context, group string, start, end time.Time) (int64, error) {
	cons, err := g.stream.Consumer(ctx, group)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, ErrGroupNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("message: replay: %w", err)
	}
	var filters []string
	for _, f := range groupFilters(cons.CachedInfo().Config) {
		if strings.HasPrefix(f, msglog.MessagePrefix) {
			filters = append(filters, f)
		}
	}
	if end.IsZero() {
		end = time.Now()
	}
	if !start.Before(end) {
		return 0, message.Invalid("end_time", "must be after start_time")
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
	err = store.ScanStream(ctx, g.stream, filters, 0, start, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if !meta.Timestamp.Before(end) {
			return false
		}
		f, err := g.js.PublishMsgAsync(replayCopy(group, m.Subject(), m.Data(), m.Headers(), meta.Sequence.Stream))
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
	g.logger.InfoContext(ctx, "message: replay queued", "group", group, "messages", n)
	return n, nil
}
