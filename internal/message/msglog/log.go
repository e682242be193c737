// Package msglog is the durable message log (docs/messages.md): the
// JetStream stream KWAISHOP_MESSAGES, which the intake and the reconciler
// write once per de-duplication id (Nats-Msg-Id, see message.Push.DedupeID)
// within the stream's duplicate window, and which everyone else reads: by
// event id and by listing here, as consumer groups in
// internal/message/delivery, as webhook endpoints in internal/webhook.
//
// Subjects:
//
//	kwaishop.msg.<open_id>.<event>.<event_id>             every stored message
//	kwaishop.replay.<group>.<open_id>.<event>.<event_id>  copies delivered again to one group
package msglog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
)

// Instrumentation is the name of the pipeline's tracer and meter (the one
// name of every part of the pipeline, so spans and metrics keep their
// scope).
const Instrumentation = "github.com/kwaishop-gateway/kwaishop-gateway/internal/message"

// ErrNotFound: no such message.
var ErrNotFound = errors.New("message: not found")

// Config configures a Log.
type Config struct {
	// DedupeWindow is how long a push is remembered for de-duplication
	// (default 3h; at least message.MinDedupeWindow). The intake keeps pushes older
	// than it out of the log, and the stream's duplicate window is it plus
	// message.MaxFutureSkew (see duplicateWindow).
	DedupeWindow time.Duration
	// Retention is how long messages (and the consumer groups' dead
	// letters) are kept (default 7 days; at least DedupeWindow).
	Retention time.Duration
	// Replicas of the streams (default 1).
	Replicas int
	// Logger (default discard) and TracerProvider (default global), for
	// the log and the consumer groups on it.
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
}

// Validate reports every violation.
func (c Config) Validate() error {
	var errs []error
	if c.DedupeWindow != 0 && c.DedupeWindow < message.MinDedupeWindow {
		errs = append(errs, fmt.Errorf("message: dedupe window %s is shorter than the platform's retry horizon %s", c.DedupeWindow, message.MinDedupeWindow))
	}
	window := c.DedupeWindow
	if window == 0 {
		window = message.DefaultDedupeWindow
	}
	if c.Retention != 0 && c.Retention < window {
		errs = append(errs, errors.New("message: retention must be at least the dedupe window"))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, errors.New("message: replicas must be 1-5"))
	}
	return errors.Join(errs...)
}

// duplicateWindow is the stream's duplicate window: the dedupe window plus
// the skew the intake tolerates for pushes dated ahead of its clock. The
// intake stores a push only while its own time is at most DedupeWindow old,
// and refuses one dated more than message.MaxFutureSkew ahead; so a replay of a
// stored push that still passes that freshness check arrives within
// DedupeWindow + message.MaxFutureSkew of the original's store time, where the
// stream still knows its de-duplication id. (Capped by the retention, which
// JetStream requires; with retention equal to the window the last
// message.MaxFutureSkew is not covered.)
func duplicateWindow(cfg Config) time.Duration {
	return min(cfg.DedupeWindow+message.MaxFutureSkew, cfg.Retention)
}

// Log is the durable, de-duplicated message log.
type Log struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// Open creates or updates the stream and returns the Log.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DedupeWindow == 0 {
		cfg.DedupeWindow = message.DefaultDedupeWindow
	}
	if cfg.Retention == 0 {
		cfg.Retention = max(message.DefaultRetention, cfg.DedupeWindow)
	}
	if cfg.Retention < cfg.DedupeWindow {
		return nil, errors.New("message: retention must be at least the dedupe window")
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	l := &Log{
		cfg: cfg, js: js,
		tracer: cfg.TracerProvider.Tracer(Instrumentation),
		prop:   otel.GetTextMapPropagator(),
	}
	var err error
	l.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "kwaishop-gateway: pushed platform messages, de-duplicated by event",
		Subjects:    []string{MessagePrefix + ">", ReplayPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.Retention,
		Duplicates:  duplicateWindow(cfg),
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("message: stream %s: %w", StreamName, err)
	}
	return l, nil
}

// Config is the log's configuration with its defaults filled in.
func (l *Log) Config() Config { return l.cfg }

// Stream is the message stream.
func (l *Log) Stream() jetstream.Stream { return l.stream }

// JetStream is the connection the log is on.
func (l *Log) JetStream() jetstream.JetStream { return l.js }

// Publish stores a plaintext message and returns its sequence and whether
// it was a duplicate (its de-duplication id p.DedupeID() was stored within
// the duplicate window). It returns only after the store acknowledged the
// write. ctx's span context travels in the W3C trace headers.
func (l *Log) Publish(ctx context.Context, p message.Push, plain []byte, reconciled bool) (uint64, bool, error) {
	ctx, span := l.tracer.Start(ctx, "kwaishop.msg publish", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.destination.name", StreamName),
			attribute.String("messaging.message.id", p.EventID),
			attribute.String("kwaishop.event", p.Event),
			attribute.Bool("kwaishop.reconciled", reconciled),
		))
	defer span.End()
	m := nats.NewMsg(msgSubject(p.OpenID, p.Event, p.EventID))
	m.Data = plain
	m.Header.Set(jetstream.MsgIDHeader, p.DedupeID())
	m.Header.Set(HeaderEventID, p.EventID)
	if reconciled {
		m.Header.Set(HeaderReconciled, "1")
	}
	l.prop.Inject(ctx, propagation.HeaderCarrier(http.Header(m.Header)))
	ack, err := l.js.PublishMsg(ctx, m)
	if err != nil {
		span.RecordError(err)
		return 0, false, fmt.Errorf("message: store: %w", err)
	}
	span.SetAttributes(attribute.Int64("messaging.nats.sequence", int64(ack.Sequence)), attribute.Bool("kwaishop.duplicate", ack.Duplicate))
	return ack.Sequence, ack.Duplicate, nil
}
