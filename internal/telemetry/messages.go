package telemetry

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
)

// MessageSink receives message counts for the cross-replica statistics
// (implemented by *stats.Recorder): appKey is a served app's key, or ""
// when the message names none the gateway serves.
type MessageSink interface {
	RecordMessage(appKey, kind string)
	RecordLag(consumer string, pending int64)
}

// Messages counts the pushed-message pipeline: intake, de-duplication,
// delivery to subscribers, dead letters and consumer lag, each count
// labelled with the message's app (a served app's key, AppOther or
// AppNone). Every method is safe for concurrent use and a nil *Messages
// does nothing, so the pipeline may hold one unconditionally.
//
//	msgs.Received(ctx, app, event)           // a push was decrypted, stored and acknowledged
//	msgs.Duplicated(ctx, app, event)         // a push repeated an event id already stored
//	msgs.Delivered(ctx, app, event, group)   // a subscriber (consumer group) got a message
//	msgs.DeadLettered(ctx, app, event, group) // redelivery gave up on a message
//	msgs.Lag(group, pending)                 // a consumer's pending (undelivered + unacked) count
type Messages struct {
	received, duplicated, delivered, dead metric.Int64Counter
	lag                                   metric.Int64ObservableGauge
	apps                                  *appLabels

	mu   sync.Mutex
	lags map[string]int64
	sink MessageSink
}

func newMessages(m metric.Meter, apps *appLabels) (*Messages, error) {
	msgs := &Messages{lags: map[string]int64{}, apps: apps}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{message}"))
		return c
	}
	msgs.received = counter(MetricMsgReceived, "Pushed messages accepted (decrypted, stored, acknowledged).")
	msgs.duplicated = counter(MetricMsgDuplicated, "Pushed messages dropped as duplicates of a stored event id.")
	msgs.delivered = counter(MetricMsgDelivered, "Messages delivered to subscribers.")
	msgs.dead = counter(MetricMsgDeadLettered, "Messages given up on after the last redelivery.")
	if err != nil {
		return nil, err
	}
	msgs.lag, err = m.Int64ObservableGauge(MetricConsumerLag,
		metric.WithDescription("Messages a consumer has not yet received or acknowledged, as last reported."),
		metric.WithUnit("{message}"))
	if err != nil {
		return nil, err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		msgs.mu.Lock()
		defer msgs.mu.Unlock()
		for c, n := range msgs.lags {
			o.ObserveInt64(msgs.lag, n, metric.WithAttributes(attribute.String(AttrConsumer, c)))
		}
		return nil
	}, msgs.lag)
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// SetSink also sends every count to s (the stats recorder).
func (m *Messages) SetSink(s MessageSink) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.sink = s
	m.mu.Unlock()
}

func (m *Messages) sinkOf() MessageSink {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sink
}

// Received counts an accepted push of event of the app app.
func (m *Messages) Received(ctx context.Context, app, event string) {
	if m == nil {
		return
	}
	m.count(ctx, m.received, app, stats.MessageReceived, attribute.String(AttrEvent, labelName(event)))
}

// Duplicated counts a push dropped as a duplicate.
func (m *Messages) Duplicated(ctx context.Context, app, event string) {
	if m == nil {
		return
	}
	m.count(ctx, m.duplicated, app, stats.MessageDuplicated, attribute.String(AttrEvent, labelName(event)))
}

// Delivered counts a message of app delivered to a subscriber of group.
func (m *Messages) Delivered(ctx context.Context, app, event, group string) {
	if m == nil {
		return
	}
	m.count(ctx, m.delivered, app, stats.MessageDelivered, attribute.String(AttrEvent, labelName(event)), attribute.String(AttrConsumer, labelName(group)))
}

// DeadLettered counts a message of app given up on for group ("": the
// message had aged out of the log).
func (m *Messages) DeadLettered(ctx context.Context, app, event, group string) {
	if m == nil {
		return
	}
	m.count(ctx, m.dead, app, stats.MessageDeadLettered, attribute.String(AttrEvent, labelName(event)), attribute.String(AttrConsumer, labelName(group)))
}

// Lag reports a consumer's pending count (kwaishop.messages.consumer.lag).
func (m *Messages) Lag(group string, pending int64) {
	if m == nil {
		return
	}
	group = labelName(group)
	m.mu.Lock()
	m.lags[group] = pending
	s := m.sink
	m.mu.Unlock()
	if s != nil {
		s.RecordLag(group, pending)
	}
}

func (m *Messages) count(ctx context.Context, c metric.Int64Counter, app, kind string, attrs ...attribute.KeyValue) {
	c.Add(ctx, 1, metric.WithAttributes(append(attrs, m.apps.label(app))...))
	if s := m.sinkOf(); s != nil {
		s.RecordMessage(m.apps.key(app), kind)
	}
}

// labelName keeps a name usable as a label value: at most 64 characters of
// [A-Za-z0-9_.-], else "other" (push bodies and group names come from
// outside; a label must stay a small set).
func labelName(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > 64 {
		return "other"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "other"
		}
	}
	return s
}
