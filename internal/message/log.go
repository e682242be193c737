// Package message is the gateway's push pipeline (docs/messages.md): the
// intake of the platform's AES-encrypted pushes, a de-duplicated durable log
// on JetStream, consumer groups with acknowledgement, redelivery and dead
// letters, replay, and a reconciliation poller that publishes changes no
// push covered.
//
// Layout in JetStream:
//
//	KWAISHOP_MESSAGES            kwaishop.msg.<open_id>.<event>.<event_id>
//	                             kwaishop.replay.<group>.<open_id>.<event>.<event_id>
//	KWAISHOP_DEAD_LETTERS        kwaishop.dead.<group>
//	KWAISHOP_MESSAGE_ADVISORIES  $JS.EVENT.ADVISORY.CONSUMER.{MAX_DELIVERIES,MSG_TERMINATED}.KWAISHOP_MESSAGES.*
//
// A message is stored once per de-duplication id (Nats-Msg-Id, see
// Push.DedupeID) within the stream's duplicate window. A consumer group is a
// durable pull consumer named after the group.
package message

import (
	"context"
	"encoding/base64"
	"encoding/json"
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
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Defaults.
const (
	DefaultDedupeWindow  = 3 * time.Hour
	DefaultRetention     = 7 * 24 * time.Hour
	DefaultAckTimeout    = 30 * time.Second
	DefaultMaxDeliveries = 5
	// MinDedupeWindow is the platform's retry horizon: 5 retries after
	// 5+10+20+30+60 minutes.
	MinDedupeWindow = 125 * time.Minute

	deadStream      = "KWAISHOP_DEAD_LETTERS"
	deadPrefix      = "kwaishop.dead."
	advisoryStream  = "KWAISHOP_MESSAGE_ADVISORIES"
	deadCopier      = "dead-letter-copier"
	maxAckPending   = 20000
	maxFilterCombos = 256
)

// Message headers (besides Nats-Msg-Id and the W3C trace context).
// HeaderReconciled marks a stored message the reconciler found ("1"), not a
// push; readers of the stream outside this package (webhooks) use it too.
const HeaderReconciled = "Kw-Reconciled"

const (
	hdrEventID    = "Kw-Event-Id"
	hdrReconciled = HeaderReconciled
	hdrReplayOf   = "Kw-Replay-Of"
	hdrDeadGroup  = "Kw-Dead-Group"
	hdrDeadReason = "Kw-Dead-Reason"
	hdrDeadCount  = "Kw-Dead-Deliveries"
	hdrDeadSeq    = "Kw-Dead-Seq"
	hdrDeadSubj   = "Kw-Dead-Subject"
	hdrDeadTime   = "Kw-Dead-Time"
)

// Errors.
var (
	// ErrNotFound: no such message or dead letter.
	ErrNotFound = errors.New("message: not found")
	// ErrGroupNotFound: no such consumer group.
	ErrGroupNotFound = errors.New("message: consumer group not found")
	// ErrGroupConflict: the group exists with other settings.
	ErrGroupConflict = errors.New("message: consumer group exists with other settings")
)

// InvalidError is a bad request argument.
type InvalidError struct{ Field, Description string }

func (e *InvalidError) Error() string { return "message: " + e.Field + ": " + e.Description }

func invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Description: fmt.Sprintf(format, a...)}
}

// Config configures a Log.
type Config struct {
	// DedupeWindow is how long a push is remembered for de-duplication
	// (default 3h; at least MinDedupeWindow). The intake keeps pushes older
	// than it out of the log (Intake), and the stream's duplicate window is
	// it plus MaxFutureSkew (see duplicateWindow).
	DedupeWindow time.Duration
	// Retention is how long messages and dead letters are kept (default 7
	// days; at least DedupeWindow).
	Retention time.Duration
	// Replicas of the streams (default 1).
	Replicas int
	// Logger (default discard) and TracerProvider (default global).
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	// Observer receives the pipeline's counts (optional).
	Observer Observer
}

// Observer receives the pipeline's counts (implemented by
// *telemetry.Messages).
type Observer interface {
	Received(ctx context.Context, event string)
	Duplicated(ctx context.Context, event string)
	Delivered(ctx context.Context, event, group string)
	DeadLettered(ctx context.Context, event, group string)
	Lag(group string, pending int64)
}

type noObserver struct{}

func (noObserver) Received(context.Context, string)             {}
func (noObserver) Duplicated(context.Context, string)           {}
func (noObserver) Delivered(context.Context, string, string)    {}
func (noObserver) DeadLettered(context.Context, string, string) {}
func (noObserver) Lag(string, int64)                            {}

// Validate reports every violation.
func (c Config) Validate() error {
	var errs []error
	if c.DedupeWindow != 0 && c.DedupeWindow < MinDedupeWindow {
		errs = append(errs, fmt.Errorf("message: dedupe window %s is shorter than the platform's retry horizon %s", c.DedupeWindow, MinDedupeWindow))
	}
	window := c.DedupeWindow
	if window == 0 {
		window = DefaultDedupeWindow
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
// and refuses one dated more than MaxFutureSkew ahead; so a replay of a
// stored push that still passes that freshness check arrives within
// DedupeWindow + MaxFutureSkew of the original's store time, where the
// stream still knows its de-duplication id. (Capped by the retention, which
// JetStream requires; with retention equal to the window the last
// MaxFutureSkew is not covered.)
func duplicateWindow(cfg Config) time.Duration {
	return min(cfg.DedupeWindow+MaxFutureSkew, cfg.Retention)
}

// Log is the durable, de-duplicated message log and its consumer groups.
type Log struct {
	cfg    Config
	js     jetstream.JetStream
	nc     *nats.Conn
	stream jetstream.Stream
	dead   jetstream.Stream
	adv    jetstream.Stream
	log    *slog.Logger
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	obs    Observer
	idKey  []byte // seals delivery ids (delivery.go)
}

// Open creates or updates the streams and returns the Log.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DedupeWindow == 0 {
		cfg.DedupeWindow = DefaultDedupeWindow
	}
	if cfg.Retention == 0 {
		cfg.Retention = max(DefaultRetention, cfg.DedupeWindow)
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
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	l := &Log{obs: cfg.Observer,
		cfg: cfg, js: js, nc: js.Conn(), log: cfg.Logger,
		tracer: cfg.TracerProvider.Tracer("github.com/kwaishop-gateway/kwaishop-gateway/internal/message"),
		prop:   otel.GetTextMapPropagator(),
	}
	var err error
	if l.idKey, err = loadDeliveryKey(ctx, js, cfg.Replicas); err != nil {
		return nil, err
	}
	l.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "kwaishop-gateway: pushed platform messages, de-duplicated by event",
		Subjects:    []string{msgPrefix + ">", replayPrefix + ">"},
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
	l.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        deadStream,
		Description: "kwaishop-gateway: messages consumer groups gave up on",
		Subjects:    []string{deadPrefix + ">"},
		MaxAge:      cfg.Retention,
		Duplicates:  10 * time.Minute,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: stream %s: %w", deadStream, err)
	}
	// The server's advisories are core NATS messages; capturing them in a
	// work-queue stream keeps the ones raised while no gateway listens.
	l.adv, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        advisoryStream,
		Description: "kwaishop-gateway: max-deliveries and terminated advisories of the message log",
		Subjects: []string{
			"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamName + ".*",
			"$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED." + StreamName + ".*",
		},
		Retention: jetstream.WorkQueuePolicy,
		MaxAge:    cfg.Retention,
		Storage:   jetstream.FileStorage,
		Replicas:  cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: stream %s: %w", advisoryStream, err)
	}
	return l, nil
}

// Stream is the message stream (tests and benchmarks read its state).
func (l *Log) Stream() jetstream.Stream { return l.stream }

// Publish stores a plaintext message with the given de-duplication id and
// returns its sequence and whether it was a duplicate. It returns only
// after the store acknowledged the write. ctx's span context travels in the
// W3C trace headers.
func (l *Log) Publish(ctx context.Context, p Push, plain []byte, reconciled bool) (uint64, bool, error) {
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
	m.Header.Set(hdrEventID, p.EventID)
	if reconciled {
		m.Header.Set(hdrReconciled, "1")
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

// decodeStored turns a stored record into the API form.
func decodeStored(subject string, data []byte, h nats.Header, seq uint64, t time.Time) *gatewayv1.Message {
	var m *gatewayv1.Message
	if p, err := ParsePush(data); err == nil {
		m = p.Proto()
	} else {
		m = &gatewayv1.Message{EventId: h.Get(hdrEventID)}
	}
	m.Sequence = seq
	if !t.IsZero() {
		m.ReceiveTime = timestamppb.New(t)
	}
	m.Reconciled = h.Get(hdrReconciled) == "1"
	m.Replayed = strings.HasPrefix(subject, replayPrefix)
	return m
}

// Get returns the stored message with this platform event id.
func (l *Log) Get(ctx context.Context, eventID string) (*gatewayv1.Message, error) {
	raw, err := l.stream.GetLastMsgForSubject(ctx, msgPrefix+"*.*."+token(eventID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("message: get: %w", err)
	}
	m := decodeStored(raw.Subject, raw.Data, raw.Header, raw.Sequence, raw.Time)
	if m.GetEventId() != eventID {
		return nil, ErrNotFound
	}
	return m, nil
}

// Query filters ListMessages.
type Query struct {
	EventTypes, OpenIDs []string
	Start, End          time.Time
	PageSize            int
	PageToken           string
}

// pageToken is the opaque position of a listing: the next sequence and a
// fingerprint of the filters it belongs to.
type pageToken struct {
	Seq    uint64 `json:"s"`
	Filter string `json:"f"`
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s, filter string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var t pageToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.Seq == 0 {
		return 0, invalid("page_token", "not a token returned by this list")
	}
	if t.Filter != filter {
		return 0, invalid("page_token", "the filters changed since the token was issued")
	}
	return t.Seq, nil
}

func filterFingerprint(parts ...string) string {
	return strings.Join(parts, "|")
}

func checkCombos(openIDs, events []string) error {
	if max(len(openIDs), 1)*max(len(events), 1) > maxFilterCombos {
		return invalid("open_ids", "open_ids x event_types must be at most %d combinations", maxFilterCombos)
	}
	return nil
}

// List returns one page of stored messages (not replay copies), oldest first.
func (l *Log) List(ctx context.Context, q Query) ([]*gatewayv1.Message, string, error) {
	if err := checkCombos(q.OpenIDs, q.EventTypes); err != nil {
		return nil, "", err
	}
	if q.PageSize <= 0 {
		q.PageSize = 50
	}
	fp := filterFingerprint(strings.Join(q.OpenIDs, ","), strings.Join(q.EventTypes, ","), fmtTime(q.Start), fmtTime(q.End))
	seq, err := decodeToken(q.PageToken, fp)
	if err != nil {
		return nil, "", err
	}
	var out []*gatewayv1.Message
	next := ""
	err = store.ScanStream(ctx, l.stream, filterSubjects("", q.OpenIDs, q.EventTypes), seq, q.Start, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if !q.End.IsZero() && !meta.Timestamp.Before(q.End) {
			return false
		}
		if len(out) == q.PageSize {
			next = encodeToken(pageToken{Seq: meta.Sequence.Stream, Filter: fp})
			return false
		}
		out = append(out, decodeStored(m.Subject(), m.Data(), m.Headers(), meta.Sequence.Stream, meta.Timestamp))
		return true
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
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

func (o GroupOptions) check() error {
	if !plainToken.MatchString(o.Name) {
		return invalid("group", "must match [A-Za-z0-9_-]{1,64}")
	}
	if o.Start == StartTime && o.StartTime.IsZero() {
		return invalid("group_options.start_time", "required with START_POSITION_TIME")
	}
	if o.Start == StartSequence && o.StartSequence == 0 {
		return invalid("group_options.start_sequence", "required (> 0) with START_POSITION_SEQUENCE")
	}
	if o.AckTimeout < 0 || (o.AckTimeout > 0 && o.AckTimeout < 100*time.Millisecond) {
		return invalid("group_options.ack_timeout", "must be at least 100ms")
	}
	return checkCombos(o.OpenIDs, o.EventTypes)
}

// Group returns the group's consumer, creating it with o's settings if it
// does not exist. For an existing group, o's filters, ack timeout and
// maximum deliveries must match where set.
func (l *Log) Group(ctx context.Context, o GroupOptions) (jetstream.Consumer, bool, error) {
	if err := o.check(); err != nil {
		return nil, false, err
	}
	filters := filterSubjects(o.Name, o.OpenIDs, o.EventTypes)
	cons, err := l.stream.Consumer(ctx, o.Name)
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
		Replicas:       l.cfg.Replicas,
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
	cons, err = l.stream.CreateConsumer(ctx, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) { // lost a creation race
		if cons, err = l.stream.Consumer(ctx, o.Name); err == nil {
			return cons, false, checkGroup(cons.CachedInfo().Config, o, filters)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("message: create group %s: %w", o.Name, err)
	}
	l.log.InfoContext(ctx, "message: consumer group created", "group", o.Name, "filters", len(filters), "ack_wait", cfg.AckWait.String(), "max_deliver", cfg.MaxDeliver)
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
func (l *Log) DeleteGroup(ctx context.Context, name string) error {
	err := l.stream.DeleteConsumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return ErrGroupNotFound
	}
	return err
}

// AckKind is what an acknowledgement does.
type AckKind int

// Acknowledgement kinds.
const (
	Ack AckKind = iota
	Nack
	InProgress
	Terminate
)

func ackBody(kind AckKind, delay time.Duration) []byte {
	switch kind {
	case Nack:
		if delay > 0 {
			return fmt.Appendf(nil, "-NAK {\"delay\": %d}", delay.Nanoseconds())
		}
		return []byte("-NAK")
	case InProgress:
		return []byte("+WPI")
	case Terminate:
		return []byte("+TERM terminated by subscriber")
	}
	return []byte("+ACK")
}

// Ack acknowledges deliveries of a group by id for a caller limited to the
// shops allow accepts (nil: every shop). Every id is checked before any is
// sent: one that this server did not issue, that belongs to a shop outside
// allow or to another group refuses the whole call (an *InvalidError on
// ack.delivery_ids[i]) and nothing is acknowledged.
func (l *Log) Ack(ctx context.Context, group string, ids []string, kind AckKind, delay time.Duration, allow ShopFilter) (int, error) {
	subs, err := l.ackSubjects(group, ids, allow)
	if err != nil {
		return 0, err
	}
	return l.publishAcks(ctx, subs, kind, delay)
}

// publishAcks sends checked acknowledgements to their ack subjects.
func (l *Log) publishAcks(ctx context.Context, subs []string, kind AckKind, delay time.Duration) (int, error) {
	if len(subs) == 0 {
		return 0, nil
	}
	body := ackBody(kind, delay)
	for _, s := range subs {
		if err := l.nc.Publish(s, body); err != nil {
			return 0, fmt.Errorf("message: ack: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok { // FlushWithContext needs a deadline
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := l.nc.FlushWithContext(ctx); err != nil {
		return 0, fmt.Errorf("message: ack: %w", err)
	}
	return len(subs), nil
}

// deliver converts a JetStream delivery and opens its span, a consumer span
// linked to the intake span whose context travelled in the headers.
func (l *Log) deliver(ctx context.Context, group string, m jetstream.Msg) (*gatewayv1.Delivery, trace.Span) {
	meta, _ := m.Metadata()
	var seq, count uint64
	var t time.Time
	if meta != nil {
		seq, count, t = meta.Sequence.Stream, meta.NumDelivered, meta.Timestamp
	}
	producer := trace.SpanContextFromContext(l.prop.Extract(context.Background(), propagation.HeaderCarrier(http.Header(m.Headers()))))
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.consumer.group.name", group),
			attribute.String("messaging.message.id", m.Headers().Get(hdrEventID)),
			attribute.Int64("messaging.nats.sequence", int64(seq)),
			attribute.Int64("messaging.delivery_count", int64(count)),
		),
	}
	if producer.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: producer}))
	}
	ctx, span := l.tracer.Start(ctx, "kwaishop.msg deliver", opts...)
	msg := decodeStored(m.Subject(), m.Data(), m.Headers(), seq, t)
	l.obs.Delivered(ctx, msg.GetEvent(), group)
	return &gatewayv1.Delivery{
		DeliveryId:    l.deliveryID(m.Reply(), msg.GetOpenId()),
		Message:       msg,
		DeliveryCount: uint32(count),
	}, span
}

// Pull fetches up to max deliveries of a group, waiting up to wait for the
// first.
func (l *Log) Pull(ctx context.Context, o GroupOptions, maxMsgs int, wait time.Duration) ([]*gatewayv1.Delivery, error) {
	cons, _, err := l.Group(ctx, o)
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
	out := make([]*gatewayv1.Delivery, 0, len(msgs))
	for _, m := range msgs {
		d, span := l.deliver(ctx, o.Name, m)
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
