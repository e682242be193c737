// Package message is the vocabulary of the gateway's push pipeline
// (docs/messages.md): the platform's event names, its push encryption (the
// apps' message keys, Decode), the plaintext Push and its parsing, the order
// or refund state Change a push announces (and so its de-duplication id),
// Message (a message as the API shows it), and the operator's Settings. It
// speaks Go types only; internal/service converts them to the API's proto
// messages.
//
// The pipeline itself is in the packages below, each on this vocabulary:
// intake (the HTTP push endpoint), msglog (the durable, de-duplicated log),
// delivery (consumer groups: sessions, acknowledgements, dead letters,
// replay) and reconcile (the poller that publishes changes no push
// covered).
package message

import (
	"context"
	"fmt"
	"time"
)

// Defaults and limits of the pipeline's settings.
const (
	DefaultDedupeWindow = 3 * time.Hour
	DefaultRetention    = 7 * 24 * time.Hour
	// MinDedupeWindow is the platform's retry horizon: 5 retries after
	// 5+10+20+30+60 minutes.
	MinDedupeWindow = 125 * time.Minute
	// MaxFutureSkew is how far ahead of the gateway's clock a stored message
	// may be dated (clocks of the platform and the gateway disagree a
	// little): the intake refuses pushes dated further ahead, and the log's
	// duplicate window covers it.
	MaxFutureSkew = 10 * time.Minute

	DefaultReconcileInterval = 5 * time.Minute
	DefaultReconcileLag      = 30 * time.Second
)

// Platform event names (docs/messages.md maps each to its payload).
const (
	EventOrderCreated       = "kwaishop_order_addOrder"
	EventOrderPaid          = "kwaishop_order_paySuccess"
	EventOrderShipped       = "kwaishop_order_delivering"
	EventOrderReceived      = "kwaishop_order_deliverySuccess"
	EventOrderSucceeded     = "kwaishop_order_orderSuccess"
	EventOrderFailed        = "kwaishop_order_orderFail"
	EventOrderAddressChange = "kwaishop_order_addressChange"
	EventOrderAddressAudit  = "kwaishop_order_addressUpdateAudit"
	EventOrderNote          = "kwaishop_order_addNote"
	EventOrderFeeChange     = "kwaishop_order_totalFeeChange"
	EventRefundCreated      = "kwaishop_aftersales_addRefund"
	EventRefundUpdated      = "kwaishop_aftersales_updateRefund"
	// ItemEventPrefix starts the names of the item events
	// (kwaishop_item_<change>).
	ItemEventPrefix = "kwaishop_item_"
)

// OrderStatusUnpaid is the status of a new order (the platform's code 10),
// the one EventOrderCreated announces.
const OrderStatusUnpaid int64 = 10

// orderStatusEvent maps an order status (the platform's status code) to the
// event that announces it.
var orderStatusEvent = map[int64]string{
	10: EventOrderCreated,
	30: EventOrderPaid,
	40: EventOrderShipped,
	50: EventOrderReceived,
	70: EventOrderSucceeded,
	80: EventOrderFailed,
}

// OrderStatusEvent is the event that announces an order reaching status
// (reconciliation synthesizes these); ok is false for a status no event
// announces.
func OrderStatusEvent(status int64) (event string, ok bool) {
	event, ok = orderStatusEvent[status]
	return event, ok
}

// Observer receives the pipeline's counts (implemented by
// *telemetry.Messages); app is the message's appKey ("" unknown).
type Observer interface {
	Received(ctx context.Context, app, event string)
	Duplicated(ctx context.Context, app, event string)
	Delivered(ctx context.Context, app, event, group string)
	DeadLettered(ctx context.Context, app, event, group string)
	Lag(group string, pending int64)
}

// NopObserver counts nothing (the default Observer).
type NopObserver struct{}

func (NopObserver) Received(context.Context, string, string)             {}
func (NopObserver) Duplicated(context.Context, string, string)           {}
func (NopObserver) Delivered(context.Context, string, string, string)    {}
func (NopObserver) DeadLettered(context.Context, string, string, string) {}
func (NopObserver) Lag(string, int64)                                    {}

// InvalidError is a bad request argument of the log or of a consumer
// group (the service answers it as a field violation).
type InvalidError struct{ Field, Description string }

func (e *InvalidError) Error() string { return "message: " + e.Field + ": " + e.Description }

// Invalid returns an *InvalidError for field.
func Invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Description: fmt.Sprintf(format, a...)}
}
