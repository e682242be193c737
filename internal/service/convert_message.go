package service

import (
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// Converters between the push pipeline's and the webhook engine's Go types
// (internal/message, internal/message/delivery, internal/webhook) and the
// proto messages, one per type. Those packages speak Go; the proto
// messages exist only here, at the edge. Times convert with timestamp (the
// zero time is unset).

// Messages.

func messageProto(m message.Message) *gatewayv1.Message {
	out := &gatewayv1.Message{
		EventId:     m.EventID,
		BizId:       m.BizID,
		UserId:      m.UserID,
		OpenId:      m.OpenID,
		AppKey:      m.AppKey,
		Event:       m.Event,
		CreateTime:  timestamp(m.CreateTime),
		Test:        m.Test,
		Reconciled:  m.Reconciled,
		Replayed:    m.Replayed,
		Sequence:    m.Sequence,
		ReceiveTime: timestamp(m.ReceiveTime),
		Info:        m.Info,
	}
	switch p := m.Payload.(type) {
	case *message.OrderCreated:
		out.Payload = &gatewayv1.Message_OrderCreated{OrderCreated: &gatewayv1.OrderCreatedEvent{
			Oid: p.Oid, SellerId: p.SellerID, OpenId: p.OpenID, BuyerOpenId: p.BuyerOpenID, CreateTime: timestamp(p.CreateTime),
		}}
	case *message.OrderStatus:
		out.Payload = &gatewayv1.Message_OrderStatus{OrderStatus: &gatewayv1.OrderStatusEvent{
			Oid: p.Oid, SellerId: p.SellerID, Status: p.Status, UpdateTime: timestamp(p.UpdateTime),
		}}
	case *message.OrderAddress:
		out.Payload = &gatewayv1.Message_OrderAddress{OrderAddress: &gatewayv1.OrderAddressEvent{
			Oid: p.Oid, SellerId: p.SellerID, OpenId: p.OpenID, BuyerOpenId: p.BuyerOpenID, UpdateTime: timestamp(p.UpdateTime),
		}}
	case *message.OrderAddressAudit:
		out.Payload = &gatewayv1.Message_OrderAddressAudit{OrderAddressAudit: &gatewayv1.OrderAddressAuditEvent{
			Oid: p.Oid, OpenId: p.OpenID, BuyerOpenId: p.BuyerOpenID, CreateTime: timestamp(p.CreateTime),
			AuditStatus: p.AuditStatus, AuditTime: timestamp(p.AuditTime),
		}}
	case *message.OrderNote:
		out.Payload = &gatewayv1.Message_OrderNote{OrderNote: &gatewayv1.OrderNoteEvent{
			Oid: p.Oid, Note: p.Note, Flag: p.Flag, Type: p.Type, EventType: p.EventType,
			OperatorName: p.OperatorName, OperatorType: p.OperatorType, UpdateTime: timestamp(p.UpdateTime),
		}}
	case *message.OrderFee:
		out.Payload = &gatewayv1.Message_OrderFee{OrderFee: &gatewayv1.OrderFeeEvent{
			Oid: p.Oid, SellerId: p.SellerID, TotalFeeFen: p.TotalFeeFen, BeforeTotalFeeFen: p.BeforeTotalFeeFen,
			ExpressFeeFen: p.ExpressFeeFen,
		}}
	case *message.Refund:
		out.Payload = &gatewayv1.Message_Refund{Refund: &gatewayv1.RefundEvent{
			OrderId: p.OrderID, RefundId: p.RefundID, HandlingWay: p.HandlingWay, SpecialRefundType: p.SpecialRefundType,
			Status: p.Status, EventType: p.EventType, CreateTime: timestamp(p.CreateTime), UpdateTime: timestamp(p.UpdateTime),
		}}
	case *message.Item:
		out.Payload = &gatewayv1.Message_Item{Item: &gatewayv1.ItemEvent{
			KwaiItemId: p.KwaiItemID, SkuId: p.SkuID, SellerId: p.SellerID, ShelfStatus: p.ShelfStatus, Stock: p.Stock,
			PriceFen: p.PriceFen, UpdateTime: timestamp(p.UpdateTime), RelItemId: p.RelItemID, Title: p.Title,
			BeforeStock: p.BeforeStock, BeforePriceFen: p.BeforePriceFen,
		}}
	}
	return out
}

func messageProtos(ms []message.Message) []*gatewayv1.Message {
	if ms == nil {
		return nil
	}
	out := make([]*gatewayv1.Message, len(ms))
	for i, m := range ms {
		out[i] = messageProto(m)
	}
	return out
}

// Consumer groups.

func deliveryProto(d delivery.Delivery) *gatewayv1.Delivery {
	return &gatewayv1.Delivery{DeliveryId: d.ID, Message: messageProto(d.Message), DeliveryCount: d.Count}
}

func deliveryProtos(ds []delivery.Delivery) []*gatewayv1.Delivery {
	out := make([]*gatewayv1.Delivery, len(ds))
	for i, d := range ds {
		out[i] = deliveryProto(d)
	}
	return out
}

func deadLetterProto(d delivery.DeadLetter) *gatewayv1.DeadLetter {
	out := &gatewayv1.DeadLetter{
		Id: d.ID, Group: d.Group, Reason: d.Reason, Deliveries: d.Deliveries, DeadTime: timestamp(d.DeadTime),
	}
	if d.Message != nil {
		out.Message = messageProto(*d.Message)
	}
	return out
}

func startPosition(p gatewayv1.StartPosition) delivery.StartPosition {
	switch p {
	case gatewayv1.StartPosition_START_POSITION_BEGINNING:
		return delivery.StartBeginning
	case gatewayv1.StartPosition_START_POSITION_TIME:
		return delivery.StartTime
	case gatewayv1.StartPosition_START_POSITION_SEQUENCE:
		return delivery.StartSequence
	}
	return delivery.StartNew
}

// groupOptions joins a request's group name and its optional settings.
func groupOptions(name string, g *gatewayv1.ConsumerGroupOptions) delivery.GroupOptions {
	return delivery.GroupOptions{
		Name:          name,
		EventTypes:    g.GetEventTypes(),
		OpenIDs:       g.GetOpenIds(),
		Start:         startPosition(g.GetStartPosition()),
		StartSequence: g.GetStartSequence(),
		AckTimeout:    g.GetAckTimeout().AsDuration(),
		MaxDeliveries: int(g.GetMaxDeliveries()),
		StartTime:     timeOf(g.GetStartTime()),
	}
}

func ackKind(k gatewayv1.AckKind) delivery.AckKind {
	switch k {
	case gatewayv1.AckKind_ACK_KIND_NACK:
		return delivery.Nack
	case gatewayv1.AckKind_ACK_KIND_IN_PROGRESS:
		return delivery.InProgress
	case gatewayv1.AckKind_ACK_KIND_TERMINATE:
		return delivery.Terminate
	}
	return delivery.Ack
}

// timeOf converts a request's optional time; nil is the zero time.
func timeOf(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// Webhooks.

func endpointProto(e webhook.Endpoint) *gatewayv1.WebhookEndpoint {
	return &gatewayv1.WebhookEndpoint{
		Id: e.ID, Url: e.URL, EventTypes: e.EventTypes, OpenIds: e.OpenIDs, Description: e.Description,
		Disabled: e.Disabled, DisabledReason: e.DisabledReason, CreateTime: timestamp(e.Created), UpdateTime: timestamp(e.Updated),
		PreviousSecretExpireTime: webhookFutureTS(e.PreviousSecretExpiry), FailingSince: timestamp(e.FailingSince),
	}
}

// webhookFutureTS: a grace that already ended is not shown.
func webhookFutureTS(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() || !t.After(time.Now()) {
		return nil
	}
	return timestamppb.New(t)
}

func webhookInput(p *gatewayv1.WebhookEndpoint) webhook.Input {
	return webhook.Input{URL: p.GetUrl(), EventTypes: p.GetEventTypes(), OpenIDs: p.GetOpenIds(), Description: p.GetDescription(), Disabled: p.GetDisabled()}
}

func webhookDeadLetterProto(d webhook.DeadLetter) *gatewayv1.WebhookDeadLetter {
	return &gatewayv1.WebhookDeadLetter{
		Id: d.ID, WebhookId: d.WebhookID, EventType: d.Type, OpenId: d.OpenID, Attempts: uint32(max(d.Attempts, 0)),
		LastStatusCode: int32(d.LastStatus), LastError: d.LastError, EventTime: timestamp(d.EventTime), DeadTime: timestamp(d.DeadTime),
		Payload: string(d.Payload),
	}
}

func webhookStatsProto(st webhook.Stats) *gatewayv1.WebhookStats {
	return &gatewayv1.WebhookStats{
		Id: st.ID, Description: st.Description, Disabled: st.Disabled,
		Attempts: st.Attempts, Successes: st.Successes, Failures: st.Failures, SuccessRate: st.SuccessRate(),
		MeanLatencyMs: durationMillis(st.MeanLatency), MaxLatencyMs: durationMillis(st.MaxLatency), Pending: st.Pending, LagMs: durationMillis(st.Lag),
		DeadLetters: st.DeadLetters, LastSuccessTime: timestamp(st.LastSuccess), LastFailureTime: timestamp(st.LastFailure),
		LastError: st.LastError, FailingSince: timestamp(st.FailingSince),
	}
}

func durationMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// webhookJSON is the JSON form of webhook data: the API's, with the proto
// field names.
var webhookJSON = protojson.MarshalOptions{UseProtoNames: true}

// WebhookRenderer renders webhook data as the API shows it: messages as
// Message, lifecycle events as AuthorizationEvent (as
// WatchAuthorizationEvents shows them), a disabled endpoint as
// WebhookEndpoint.
func WebhookRenderer(testUserCutoff time.Duration) webhook.Renderer {
	return webhookRenderer{a: &Authorization{cutoff: testUserCutoff}}
}

type webhookRenderer struct{ a *Authorization }

func (webhookRenderer) Message(m message.Message) ([]byte, error) {
	return webhookJSON.Marshal(messageProto(m))
}

func (r webhookRenderer) Authorization(ev token.Event) ([]byte, error) {
	return webhookJSON.Marshal(r.a.eventProto(ev))
}

// EndpointDisabled renders only what webhook.Renderer allows: no URL.
func (webhookRenderer) EndpointDisabled(e webhook.Endpoint) ([]byte, error) {
	return webhookJSON.Marshal(&gatewayv1.WebhookEndpoint{
		Id: e.ID, Description: e.Description, Disabled: e.Disabled, DisabledReason: e.DisabledReason,
		FailingSince: timestamp(e.FailingSince), UpdateTime: timestamp(e.Updated),
	})
}
