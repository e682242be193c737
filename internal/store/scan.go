package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ScanStream reads a stream with an ephemeral ordered consumer from startSeq (or
// startTime, or the beginning) until fn returns false or nothing is left.
func ScanStream(ctx context.Context, s jetstream.Stream, filters []string, startSeq uint64, startTime time.Time,
	fn func(jetstream.Msg, *jetstream.MsgMetadata) bool) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, InactiveThreshold: 30 * time.Second}
	switch {
	case startSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, startSeq
	case !startTime.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &startTime
	default:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: scan: %w", err)
	}
	defer func() {
		if info := cons.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = s.DeleteConsumer(dctx, info.Name)
			cancel()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return fmt.Errorf("store: scan: %w", err)
		}
		n, stop := 0, false
		for m := range batch.Messages() {
			if stop {
				continue // drain the batch
			}
			n++
			meta, err := m.Metadata()
			if err != nil {
				continue
			}
			if !fn(m, meta) || meta.NumPending == 0 {
				stop = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("store: scan: %w", err)
		}
		if stop || n == 0 {
			return nil
		}
	}
}
