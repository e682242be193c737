package service

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// Every payload converts to its member of the oneof with every field; the
// zero time is unset; ids keep every digit.
func TestMessageProto(t *testing.T) {
	at := time.UnixMilli(1700000300000)
	base := message.Message{
		Sequence: 7, EventID: "e", BizID: 9007199254740993, UserID: 2, OpenID: "o", AppKey: "k", Event: "ev",
		CreateTime: at, ReceiveTime: at.Add(time.Second), Test: true, Info: `{"x":1}`, Reconciled: true, Replayed: true,
	}
	for _, tc := range []struct {
		payload message.Payload
		want    string // the payload's JSON (proto field names)
	}{
		{nil, ``},
		{&message.OrderCreated{Oid: 1, SellerID: 2, OpenID: "o", BuyerOpenID: "b", CreateTime: at},
			`"order_created":{"oid":"1","seller_id":"2","open_id":"o","buyer_open_id":"b","create_time":"2023-11-14T22:18:20Z"}`},
		{&message.OrderStatus{Oid: 1, SellerID: 2, Status: 30, UpdateTime: at},
			`"order_status":{"oid":"1","seller_id":"2","status":30,"update_time":"2023-11-14T22:18:20Z"}`},
		{&message.OrderAddress{Oid: 1, SellerID: 2, OpenID: "o", BuyerOpenID: "b"},
			`"order_address":{"oid":"1","seller_id":"2","open_id":"o","buyer_open_id":"b"}`},
		{&message.OrderAddressAudit{Oid: 1, OpenID: "o", BuyerOpenID: "b", CreateTime: at, AuditStatus: 2, AuditTime: at},
			`"order_address_audit":{"oid":"1","open_id":"o","buyer_open_id":"b","create_time":"2023-11-14T22:18:20Z","audit_status":2,"audit_time":"2023-11-14T22:18:20Z"}`},
		{&message.OrderNote{Oid: 1, Note: "n", Flag: 2, Type: 3, EventType: "t", OperatorName: "op", OperatorType: 4, UpdateTime: at},
			`"order_note":{"oid":"1","note":"n","flag":2,"type":3,"event_type":"t","operator_name":"op","operator_type":4,"update_time":"2023-11-14T22:18:20Z"}`},
		{&message.OrderFee{Oid: 1, SellerID: 2, TotalFeeFen: 3, BeforeTotalFeeFen: 4, ExpressFeeFen: 5},
			`"order_fee":{"oid":"1","seller_id":"2","total_fee_fen":"3","before_total_fee_fen":"4","express_fee_fen":"5"}`},
		{&message.Refund{OrderID: 1, RefundID: 2, HandlingWay: 3, SpecialRefundType: 4, Status: 5, EventType: "t", CreateTime: at, UpdateTime: at},
			`"refund":{"order_id":"1","refund_id":"2","handling_way":3,"special_refund_type":4,"status":5,"event_type":"t","create_time":"2023-11-14T22:18:20Z","update_time":"2023-11-14T22:18:20Z"}`},
		{&message.Item{KwaiItemID: 1, SkuID: 2, SellerID: 3, ShelfStatus: 1, Stock: 4, PriceFen: 5, UpdateTime: at, RelItemID: 6, Title: "t", BeforeStock: 7, BeforePriceFen: 8},
			`"item":{"kwai_item_id":"1","sku_id":"2","seller_id":"3","shelf_status":1,"stock":"4","price_fen":"5","update_time":"2023-11-14T22:18:20Z","rel_item_id":"6","title":"t","before_stock":"7","before_price_fen":"8"}`},
	} {
		m := base
		m.Payload = tc.payload
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(messageProto(m))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(string(b), " ", "") // protojson may add spaces
		head := `{"event_id":"e","biz_id":"9007199254740993","user_id":"2","open_id":"o","app_key":"k","event":"ev",` +
			`"create_time":"2023-11-14T22:18:20Z","test":true,"reconciled":true,"replayed":true,"sequence":"7",` +
			`"receive_time":"2023-11-14T22:18:21Z","info":"{\"x\":1}"`
		want := head + "}"
		if tc.want != "" {
			want = head + "," + tc.want + "}"
		}
		if got != want {
			t.Errorf("payload %T:\n got %s\nwant %s", tc.payload, got, want)
		}
	}
	if p := messageProto(message.Message{EventID: "e"}); p.GetCreateTime() != nil || p.GetReceiveTime() != nil || p.GetPayload() != nil {
		t.Fatalf("unset times and payload: %v", p)
	}
}

func TestDeliveryAndDeadLetterProto(t *testing.T) {
	d := deliveryProto(delivery.Delivery{ID: "id", Message: message.Message{EventID: "e"}, Count: 3})
	if d.GetDeliveryId() != "id" || d.GetMessage().GetEventId() != "e" || d.GetDeliveryCount() != 3 {
		t.Fatalf("delivery %v", d)
	}
	gone := deadLetterProto(delivery.DeadLetter{ID: 4, Group: "g", Reason: delivery.DeadTerminated, Deliveries: 2})
	if gone.GetMessage() != nil || gone.GetDeadTime() != nil || gone.GetId() != 4 || gone.GetReason() != "terminated" {
		t.Fatalf("dead letter without its message %v", gone)
	}
	at := time.UnixMilli(1700000300000)
	kept := deadLetterProto(delivery.DeadLetter{ID: 4, DeadTime: at, Message: &message.Message{EventID: "e"}})
	if kept.GetMessage().GetEventId() != "e" || !kept.GetDeadTime().AsTime().Equal(at) {
		t.Fatalf("dead letter %v", kept)
	}
	if ackKind(gatewayv1.AckKind_ACK_KIND_TERMINATE) != delivery.Terminate || ackKind(0) != delivery.Ack ||
		startPosition(gatewayv1.StartPosition_START_POSITION_SEQUENCE) != delivery.StartSequence || startPosition(0) != delivery.StartNew {
		t.Fatal("enums")
	}
}

// The endpoint_disabled data never carries the URL (its query may hold a
// receiver's credential), whatever the engine passes.
func TestWebhookRenderer_EndpointDisabled(t *testing.T) {
	b, err := WebhookRenderer(0).EndpointDisabled(webhook.Endpoint{
		ID: "ep_1", URL: "https://example.test/hook?token=s3cret", Description: "d", Disabled: true, DisabledReason: "r",
		FailingSince: time.UnixMilli(1700000300000), Updated: time.UnixMilli(1700000400000), EventTypes: []string{"message.*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(b), " ", "")
	want := `{"id":"ep_1","description":"d","disabled":true,"disabled_reason":"r","update_time":"2023-11-14T22:20:00Z","failing_since":"2023-11-14T22:18:20Z"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
