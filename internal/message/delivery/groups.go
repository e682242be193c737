// Package delivery hands the message log's messages to consumer groups
// (docs/messages.md). A consumer group is a durable JetStream pull consumer
// on the log named after the group: every message goes to one subscriber of
// each group that wants it, and comes again until it is acknowledged, up to
// the group's maximum deliveries; then it becomes a dead letter. Deliveries
// are streamed (Session) or pulled (Pull), acknowledged by sealed delivery
// ids (id.go), and groups can have stored messages replayed to them.
//
// Layout in JetStream, beside the log (internal/message/msglog):
//
//	KWAISHOP_DEAD_LETTERS        kwaishop.dead.<group>
//	KWAISHOP_MESSAGE_ADVISORIES  $JS.EVENT.ADVISORY.CONSUMER.{MAX_DELIVERIES,MSG_TERMINATED}.KWAISHOP_MESSAGES.*
//	kwaishop_msg_keys            KV: the key that seals delivery ids
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// Defaults.
const (
	DefaultAckTimeout    = 30 * time.Second
	DefaultMaxDeliveries = 5

	deadStream     = "KWAISHOP_DEAD_LETTERS"
	deadPrefix     = "kwaishop.dead."
	advisoryStream = "KWAISHOP_MESSAGE_ADVISORIES"
	deadCopier     = "dead-letter-copier"
	maxAckPending  = 20000
)

// Errors.
var (
	// ErrNotFound: no such dead letter.
	ErrNotFound = errors.New("message: not found")
	// ErrGroupNotFound: no such consumer group.
	ErrGroupNotFound = errors.New("message: consumer group not found")
	// ErrGroupConflict: the group exists with other settings.
	ErrGroupConflict = errors.New("message: consumer group exists with other settings")
)

// Config configures the consumer groups of a log. The log's configuration
// gives the rest: replicas, retention (of dead letters), logger and tracer
// provider.
type Config struct {
	// Observer receives the delivery counts and the groups' lag (optional).
	Observer message.Observer
}

// Groups are the consumer groups of one message log.
type Groups struct {
	cfg    msglog.Config
	js     jetstream.JetStream
	nc     *nats.Conn
	stream jetstream.Stream
	dead   jetstream.Stream
	adv    jetstream.Stream
	logger *slog.Logger
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	obs    message.Observer
	idKey  []byte // seals delivery ids (id.go)
}

// Open loads the delivery-id key and creates or updates the dead-letter
// and advisory streams of l's consumer groups.
func Open(ctx context.Context, l *msglog.Log, cfg Config) (*Groups, error) {
	if cfg.Observer == nil {
		cfg.Observer = message.NopObserver{}
	}
	lc := l.Config()
	js := l.JetStream()
	g := &Groups{
		cfg: lc, js: js, nc: js.Conn(), stream: l.Stream(), logger: lc.Logger, obs: cfg.Observer,
		tracer: lc.TracerProvider.Tracer(msglog.Instrumentation),
		prop:   otel.GetTextMapPropagator(),
	}
	var err error
	if g.idKey, err = loadDeliveryKey(ctx, js, lc.Replicas); err != nil {
		return nil, err
	}
	g.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        deadStream,
		Description: "kwaishop-gateway: messages consumer groups gave up on",
		Subjects:    []string{deadPrefix + ">"},
		MaxAge:      lc.Retention,
		Duplicates:  10 * time.Minute,
		Storage:     jetstream.FileStorage,
		Replicas:    lc.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: stream %s: %w", deadStream, err)
	}
	// The server's advisories are core NATS messages; capturing them in a
	// work-queue stream keeps the ones raised while no gateway listens.
	g.adv, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        advisoryStream,
		Description: "kwaishop-gateway: max-deliveries and terminated advisories of the message log",
		Subjects: []string{
			"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + msglog.StreamName + ".*",
			"$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED." + msglog.StreamName + ".*",
		},
		Retention: jetstream.WorkQueuePolicy,
		MaxAge:    lc.Retention,
		Storage:   jetstream.FileStorage,
		Replicas:  lc.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: stream %s: %w", advisoryStream, err)
	}
	return g, nil
}

// Delivery is one delivery of a message to a group.
type Delivery struct {
	// ID acknowledges the delivery (sealed: see id.go).
	ID      string
	Message message.Message
	// Count is how often the message was delivered to the group, this
	// delivery included.
	Count uint32
}

// StartPosition of a new group.
type StartPosition int

// Start positions.
const (
	StartNew StartPosition = iota
	StartBeginning
	StartTime
	StartSequence
)

// GroupOptions name a consumer group and its settings at creation.
type GroupOptions struct {
	Name          string
	EventTypes    []string
	OpenIDs       []string
	Start         StartPosition
	StartTime     time.Time
	StartSequence uint64
	AckTimeout    time.Duration // 0 = as the group is (default 30s)
	MaxDeliveries int           // 0 = as the group is (default 5); -1 = unlimited
}

func checkGroupName(name string) error {
	if !msglog.ValidName(name) {
		return message.Invalid("group", "must match [A-Za-z0-9_-]{1,64}")
	}
	return nil
}

func (o GroupOptions) check() error {
	if err := checkGroupName(o.Name); err != nil {
		return err
	}
	if o.Start == StartTime && o.StartTime.IsZero() {
		return message.Invalid("group_options.start_time", "required with START_POSITION_TIME")
	}
	if o.Start == StartSequence && o.StartSequence == 0 {
		return message.Invalid("group_options.start_sequence", "required (> 0) with START_POSITION_SEQUENCE")
	}
	if o.AckTimeout < 0 || (o.AckTimeout > 0 && o.AckTimeout < 100*time.Millisecond) {
		return message.Invalid("group_options.ack_timeout", "must be at least 100ms")
	}
	return msglog.CheckFilters(o.OpenIDs, o.EventTypes)
}

// Group returns the group's consumer, creating it with o's settings if it
// does not exist. For an existing group, o's filters, ack timeout and
// maximum deliveries must match where set.
func (g *Groups) Group(ctx context.Context, o GroupOptions) (jetstream.Consumer, bool, error) {
	if err := o.check(); err != nil {
		return nil, false, err
	}
	filters := msglog.FilterSubjects(o.Name, o.OpenIDs, o.EventTypes)
	cons, err := g.stream.Consumer(ctx, o.Name)
	if err == nil {
		return cons, false, checkGroup(cons.CachedInfo().Config, o, filters)
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, false, fmt.Errorf("message: group %s: %w", o.Name, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        o.Name,
		Description:    "kwaishop-gateway consumer group",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        DefaultAckTimeout,
		MaxDeliver:     DefaultMaxDeliveries,
		FilterSubjects: filters,
		MaxAckPending:  maxAckPending,
		MaxWaiting:     512,
		Replicas:       g.cfg.Replicas,
	}
	if o.AckTimeout > 0 {
		cfg.AckWait = o.AckTimeout
	}
	if o.MaxDeliveries != 0 {
		cfg.MaxDeliver = o.MaxDeliveries
	}
	switch o.Start {
	case StartBeginning:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	case StartTime:
		t := o.StartTime
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	case StartSequence:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, o.StartSequence
	default:
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	cons, err = g.stream.CreateConsumer(ctx, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) { // lost a creation race
		if cons, err = g.stream.Consumer(ctx, o.Name); err == nil {
			return cons, false, checkGroup(cons.CachedInfo().Config, o, filters)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("message: create group %s: %w", o.Name, err)
	}
	g.logger.InfoContext(ctx, "message: consumer group created", "group", o.Name, "filters", len(filters), "ack_wait", cfg.AckWait.String(), "max_deliver", cfg.MaxDeliver)
	return cons, true, nil
}

func groupFilters(c jetstream.ConsumerConfig) []string {
	if len(c.FilterSubjects) > 0 {
		return c.FilterSubjects
	}
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return nil
}

func checkGroup(have jetstream.ConsumerConfig, o GroupOptions, filters []string) error {
	var diffs []string
	if len(o.EventTypes)+len(o.OpenIDs) > 0 {
		a, b := slices.Clone(groupFilters(have)), slices.Clone(filters)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			diffs = append(diffs, "filters")
		}
	}
	if o.AckTimeout > 0 && o.AckTimeout != have.AckWait {
		diffs = append(diffs, "ack_timeout "+have.AckWait.String())
	}
	if o.MaxDeliveries != 0 && o.MaxDeliveries != have.MaxDeliver {
		diffs = append(diffs, "max_deliveries "+strconv.Itoa(have.MaxDeliver))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: group %s has other %s", ErrGroupConflict, o.Name, strings.Join(diffs, ", "))
	}
	return nil
}

// DeleteGroup removes a consumer group (its position and pending deliveries).
func (g *Groups) DeleteGroup(ctx context.Context, name string) error {
	err := g.stream.DeleteConsumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return ErrGroupNotFound
	}
	return err
}

// deliver converts a JetStream delivery and opens its span, a consumer span
// linked to the intake span whose context travelled in the headers.
func (g *Groups) deliver(ctx context.Context, group string, m jetstream.Msg) (Delivery, trace.Span) {
	meta, _ := m.Metadata()
	var seq, count uint64
	var t time.Time
	if meta != nil {
		seq, count, t = meta.Sequence.Stream, meta.NumDelivered, meta.Timestamp
	}
	producer := trace.SpanContextFromContext(g.prop.Extract(context.Background(), propagation.HeaderCarrier(http.Header(m.Headers()))))
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.consumer.group.name", group),
			attribute.String("messaging.message.id", m.Headers().Get(msglog.HeaderEventID)),
			attribute.Int64("messaging.nats.sequence", int64(seq)),
			attribute.Int64("messaging.delivery_count", int64(count)),
		),
	}
	if producer.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: producer}))
	}
	ctx, span := g.tracer.Start(ctx, "kwaishop.msg deliver", opts...)
	msg := msglog.Decode(m.Subject(), m.Data(), m.Headers(), seq, t)
	g.obs.Delivered(ctx, msg.AppKey, msg.Event, group)
	return Delivery{ID: g.deliveryID(m.Reply(), msg.OpenID), Message: msg, Count: uint32(count)}, span
}

// Pull fetches up to max deliveries of a group, waiting up to wait for the
// first.
func (g *Groups) Pull(ctx context.Context, o GroupOptions, maxMsgs int, wait time.Duration) ([]Delivery, error) {
	cons, _, err := g.Group(ctx, o)
	if err != nil {
		return nil, err
	}
	if maxMsgs <= 0 {
		maxMsgs = 10
	}
	msgs, err := fetchSome(ctx, cons, maxMsgs, wait)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(msgs))
	for _, m := range msgs {
		d, span := g.deliver(ctx, o.Name, m)
		span.End()
		out = append(out, d)
	}
	return out, nil
}

// fetchSome returns what is available now (up to n); if nothing is, it
// waits up to wait for one message and adds what followed it.
func fetchSome(ctx context.Context, cons jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
	collect := func(b jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
		if err != nil {
			return nil, fmt.Errorf("message: fetch: %w", err)
		}
		var out []jetstream.Msg
		for m := range b.Messages() {
			out = append(out, m)
		}
		if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			return out, fmt.Errorf("message: fetch: %w", err)
		}
		return out, nil
	}
	msgs, err := collect(cons.FetchNoWait(n))
	if err != nil || len(msgs) > 0 || wait <= 0 {
		return msgs, err
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	if wait <= 0 {
		return msgs, nil
	}
	msgs, err = collect(cons.Fetch(1, jetstream.FetchMaxWait(wait)))
	if err != nil || len(msgs) == 0 || n == 1 {
		return msgs, err
	}
	more, err := collect(cons.FetchNoWait(n - 1))
	return append(msgs, more...), err
}
