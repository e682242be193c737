package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// Platform event names (docs/messages.md maps each to its payload).
const (
	EventOrderCreated             = "kwaishop_order_addOrder"
	EventOrderPaid                = "kwaishop_order_paySuccess"
	EventOrderShipped             = "kwaishop_order_delivering"
	EventOrderReceived            = "kwaishop_order_deliverySuccess"
	EventOrderSucceeded           = "kwaishop_order_orderSuccess"
	EventOrderFailed              = "kwaishop_order_orderFail"
	EventOrderAddressChange       = "kwaishop_order_addressChange"
	EventOrderAddressAudit        = "kwaishop_order_addressUpdateAudit"
	EventOrderNote                = "kwaishop_order_addNote"
	EventOrderFeeChange           = "kwaishop_order_totalFeeChange"
	EventRefundCreated            = "kwaishop_aftersales_addRefund"
	EventRefundUpdated            = "kwaishop_aftersales_updateRefund"
	itemEventPrefix               = "kwaishop_item_"
	orderStatusUnpaid       int64 = 10
)

// orderStatusEvent maps an order status (the platform's status code) to the event
// that announces it; reconciliation synthesizes these.
var orderStatusEvent = map[int64]string{
	10: EventOrderCreated,
	30: EventOrderPaid,
	40: EventOrderShipped,
	50: EventOrderReceived,
	70: EventOrderSucceeded,
	80: EventOrderFailed,
}

// Push is the platform's plaintext message (the decrypted body). Numbers
// are accepted as JSON numbers or numeric strings; `info` as a JSON string
// (the platform's form) or an embedded object.
type Push struct {
	EventID    string  `json:"eventId"`
	BizID      flexInt `json:"bizId"`
	UserID     flexInt `json:"userId"`
	OpenID     string  `json:"openId"`
	AppKey     string  `json:"appKey"`
	Event      string  `json:"event"`
	Info       rawInfo `json:"info"`
	CreateTime flexInt `json:"createTime"`
	Test       bool    `json:"test"`
}

// Limits on the envelope fields.
const (
	maxEventIDLen = 256
	maxEventLen   = 128
	maxOpenIDLen  = 128
)

// ParsePush decodes and checks a plaintext message.
func ParsePush(plain []byte) (Push, error) {
	var p Push
	if err := json.Unmarshal(plain, &p); err != nil {
		return Push{}, reject(ReasonMalformed, "plaintext is not a message JSON object")
	}
	switch {
	case p.EventID == "" || len(p.EventID) > maxEventIDLen:
		return Push{}, reject(ReasonMalformed, "eventId is missing or too long")
	case p.Event == "" || len(p.Event) > maxEventLen:
		return Push{}, reject(ReasonMalformed, "event is missing or too long")
	case len(p.OpenID) > maxOpenIDLen:
		return Push{}, reject(ReasonMalformed, "openId is too long")
	case len(p.Info) > 0 && !json.Valid(p.Info):
		return Push{}, reject(ReasonMalformed, "info is not JSON")
	}
	return p, nil
}

// flexInt is an int64 sent as a JSON number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*f = 0
			return nil
		}
		b = []byte(s)
	}
	// Lenient: a field of an unexpected shape reads as 0 rather than
	// failing the whole payload.
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		if fl, ferr := strconv.ParseFloat(string(b), 64); ferr == nil && fl == float64(int64(fl)) {
			n = int64(fl)
		} else {
			n = 0
		}
	}
	*f = flexInt(n)
	return nil
}

// flexString is text sent as a JSON string or a number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var s string
	switch {
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	case string(b) == "null":
	default:
		s = string(b)
	}
	*f = flexString(s)
	return nil
}

// rawInfo is the `info` member: the JSON text inside the platform's string,
// or an embedded JSON value as is.
type rawInfo []byte

func (r *rawInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*r = nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = rawInfo(s)
	default:
		*r = append(rawInfo(nil), b...)
	}
	return nil
}

func (r rawInfo) MarshalJSON() ([]byte, error) { return json.Marshal(string(r)) }

// info holds the `info` fields the gateway reads (union of the known
// events' fields).
type info struct {
	Oid               flexInt    `json:"oid"`
	OrderID           flexInt    `json:"orderId"`
	RefundID          flexInt    `json:"refundId"`
	BizID             flexInt    `json:"bizId"`
	SellerID          flexInt    `json:"sellerId"`
	SellerIDSnake     flexInt    `json:"seller_id"`
	OpenID            flexString `json:"openId"`
	BuyerOpenID       flexString `json:"buyerOpenId"`
	Status            flexInt    `json:"status"`
	CreateTime        flexInt    `json:"createTime"`
	UpdateTime        flexInt    `json:"updateTime"`
	AuditStatus       flexInt    `json:"auditStatus"`
	AuditTime         flexInt    `json:"auditTime"`
	EventType         flexString `json:"eventType"`
	OperatorName      flexString `json:"operatorName"`
	OperatorType      flexInt    `json:"operatorType"`
	Note              flexString `json:"note"`
	Type              flexInt    `json:"type"`
	Flag              flexInt    `json:"flag"`
	TotalFee          flexInt    `json:"totalFee"`
	BeforeTotalFee    flexInt    `json:"beforeTotalFee"`
	ExpressFee        flexInt    `json:"expressFee"`
	HandlingWay       flexInt    `json:"handlingWay"`
	SpecialRefundType flexInt    `json:"specialRefundType"`
	KwaiItemID        flexInt    `json:"kwaiItemId"`
	ItemID            flexInt    `json:"itemId"`
	SkuID             flexInt    `json:"skuId"`
	ShelfStatus       flexInt    `json:"shelfStatus"`
	Stock             flexInt    `json:"stock"`
	SkuStock          flexInt    `json:"skuStock"`
	Price             flexInt    `json:"price"`
	RelItemID         flexInt    `json:"relItemId"`
	Title             flexString `json:"title"`
	BeforeStock       flexInt    `json:"beforeStock"`
	BeforePrice       flexInt    `json:"beforePrice"`
}

func (p Push) info() (info, bool) {
	var in info
	if len(p.Info) == 0 || json.Unmarshal(p.Info, &in) != nil {
		return info{}, false
	}
	return in, true
}

func first(vs ...flexInt) int64 {
	for _, v := range vs {
		if v != 0 {
			return int64(v)
		}
	}
	return 0
}

// Change identifies one state change of an order or a refund: the record,
// its status after the change and the change's time (ms). A pushed message
// and a reconciliation poll that see the same change produce the same
// Change, and so the same de-duplication id.
type Change struct {
	Kind   string // "order" or "refund"
	ID     int64
	Status int64
	At     int64 // ms
}

func (c Change) valid() bool { return c.Kind != "" && c.ID > 0 && c.At > 0 }

// DedupeID is the Nats-Msg-Id of messages about this change.
func (c Change) DedupeID() string {
	return fmt.Sprintf("chg:%s:%d:%d:%d", c.Kind, c.ID, c.Status, c.At)
}

// EventID is the event id of a message synthesized for this change.
func (c Change) EventID() string {
	return fmt.Sprintf("rc_%s_%d_%d_%d", c.Kind, c.ID, c.Status, c.At)
}

// Change derives the state change a message announces, if it announces one:
// the order status events and the after-sale events. The one
// table of which fields count is here.
func (p Push) Change() (Change, bool) {
	in, ok := p.info()
	if !ok {
		return Change{}, false
	}
	var c Change
	switch p.Event {
	case EventOrderCreated: // a new order is unpaid (10) at its createTime
		c = Change{"order", first(in.Oid, p.BizID), orderStatusUnpaid, first(in.CreateTime)}
	case EventOrderPaid, EventOrderShipped, EventOrderReceived, EventOrderSucceeded, EventOrderFailed:
		c = Change{"order", first(in.Oid, p.BizID), int64(in.Status), first(in.UpdateTime)}
		if c.Status == 0 {
			return Change{}, false
		}
	case EventRefundCreated:
		c = Change{"refund", first(in.RefundID, p.BizID), int64(in.Status), first(in.CreateTime, in.UpdateTime)}
	case EventRefundUpdated:
		c = Change{"refund", first(in.RefundID, p.BizID), int64(in.Status), first(in.UpdateTime)}
	default:
		return Change{}, false
	}
	return c, c.valid()
}

// DedupeID is the message's Nats-Msg-Id: the change's id when the message
// announces an order or refund state change (so a push and a reconciliation
// of the same change are stored once), else the platform's eventId.
func (p Push) DedupeID() string {
	if c, ok := p.Change(); ok {
		return c.DedupeID()
	}
	return "evt:" + p.EventID
}

func tsMillis(ms int64) *timestamppb.Timestamp {
	if ms <= 0 {
		return nil
	}
	return timestamppb.New(time.UnixMilli(ms))
}

// Proto converts the message to the API form (without the log's sequence,
// receive time and flags, which Record adds).
func (p Push) Proto() *gatewayv1.Message {
	m := &gatewayv1.Message{
		EventId:    p.EventID,
		BizId:      int64(p.BizID),
		UserId:     int64(p.UserID),
		OpenId:     p.OpenID,
		AppKey:     p.AppKey,
		Event:      p.Event,
		CreateTime: tsMillis(int64(p.CreateTime)),
		Test:       p.Test,
		Info:       string(p.Info),
	}
	in, ok := p.info()
	if !ok {
		return m
	}
	switch p.Event {
	case EventOrderCreated:
		m.Payload = &gatewayv1.Message_OrderCreated{OrderCreated: &gatewayv1.OrderCreatedEvent{
			Oid: first(in.Oid, p.BizID), SellerId: first(in.SellerID, in.SellerIDSnake), OpenId: string(in.OpenID),
			BuyerOpenId: string(in.BuyerOpenID), CreateTime: tsMillis(int64(in.CreateTime)),
		}}
	case EventOrderPaid, EventOrderShipped, EventOrderReceived, EventOrderSucceeded, EventOrderFailed:
		m.Payload = &gatewayv1.Message_OrderStatus{OrderStatus: &gatewayv1.OrderStatusEvent{
			Oid: first(in.Oid, p.BizID), SellerId: first(in.SellerID, in.SellerIDSnake), Status: int32(in.Status),
			UpdateTime: tsMillis(int64(in.UpdateTime)),
		}}
	case EventOrderAddressChange:
		m.Payload = &gatewayv1.Message_OrderAddress{OrderAddress: &gatewayv1.OrderAddressEvent{
			Oid: first(in.Oid, p.BizID), SellerId: first(in.SellerIDSnake, in.SellerID), OpenId: string(in.OpenID),
			BuyerOpenId: string(in.BuyerOpenID), UpdateTime: tsMillis(int64(in.UpdateTime)),
		}}
	case EventOrderAddressAudit:
		m.Payload = &gatewayv1.Message_OrderAddressAudit{OrderAddressAudit: &gatewayv1.OrderAddressAuditEvent{
			Oid: first(in.Oid, p.BizID), OpenId: string(in.OpenID), BuyerOpenId: string(in.BuyerOpenID),
			CreateTime: tsMillis(int64(in.CreateTime)), AuditStatus: int32(in.AuditStatus), AuditTime: tsMillis(int64(in.AuditTime)),
		}}
	case EventOrderNote:
		m.Payload = &gatewayv1.Message_OrderNote{OrderNote: &gatewayv1.OrderNoteEvent{
			Oid: first(in.BizID, in.Oid, p.BizID), Note: string(in.Note), Flag: int32(in.Flag), Type: int32(in.Type),
			EventType: string(in.EventType), OperatorName: string(in.OperatorName), OperatorType: int32(in.OperatorType),
			UpdateTime: tsMillis(int64(in.UpdateTime)),
		}}
	case EventOrderFeeChange:
		m.Payload = &gatewayv1.Message_OrderFee{OrderFee: &gatewayv1.OrderFeeEvent{
			Oid: first(in.Oid, p.BizID), SellerId: first(in.SellerID, in.SellerIDSnake), TotalFeeFen: int64(in.TotalFee),
			BeforeTotalFeeFen: int64(in.BeforeTotalFee), ExpressFeeFen: int64(in.ExpressFee),
		}}
	case EventRefundCreated, EventRefundUpdated:
		m.Payload = &gatewayv1.Message_Refund{Refund: &gatewayv1.RefundEvent{
			OrderId: first(in.OrderID, in.Oid), RefundId: first(in.RefundID, p.BizID), HandlingWay: int32(in.HandlingWay),
			SpecialRefundType: int32(in.SpecialRefundType), Status: int32(in.Status), EventType: string(in.EventType),
			CreateTime: tsMillis(int64(in.CreateTime)), UpdateTime: tsMillis(int64(in.UpdateTime)),
		}}
	default:
		if strings.HasPrefix(p.Event, itemEventPrefix) {
			m.Payload = &gatewayv1.Message_Item{Item: &gatewayv1.ItemEvent{
				KwaiItemId: first(in.KwaiItemID, in.ItemID, p.BizID), SkuId: int64(in.SkuID), SellerId: first(in.SellerID, in.SellerIDSnake),
				ShelfStatus: int32(in.ShelfStatus), Stock: first(in.Stock, in.SkuStock), PriceFen: int64(in.Price),
				UpdateTime: tsMillis(int64(in.UpdateTime)), RelItemId: int64(in.RelItemID), Title: string(in.Title),
				BeforeStock: int64(in.BeforeStock), BeforePriceFen: int64(in.BeforePrice),
			}}
		}
	}
	return m
}

// Subjects and names in JetStream.
const (
	// StreamName is the message log.
	StreamName = "KWAISHOP_MESSAGES"
	// msgPrefix + <open_id>.<event>.<event id> holds every stored message.
	msgPrefix = "kwaishop.msg."
	// replayPrefix + <group>.<open_id>.<event>.<event id> holds copies
	// delivered again to one group (replay, requeued dead letters).
	replayPrefix = "kwaishop.replay."
)

var plainToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// token makes s a NATS subject token: itself when it is a plain name, "_"
// when empty, else "~" + a hash (the message itself keeps the real value).
func token(s string) string {
	switch {
	case s == "":
		return "_"
	case plainToken.MatchString(s):
		return s
	}
	h := sha256.Sum256([]byte(s))
	return "~" + hex.EncodeToString(h[:12])
}

func msgSubject(openID, event, eventID string) string {
	return msgPrefix + token(openID) + "." + token(event) + "." + token(eventID)
}

// filterSubjects are a group's consumer filters: its messages and its
// replay copies, for every (open_id, event) pair of the filters.
func filterSubjects(group string, openIDs, events []string) []string {
	if len(openIDs) == 0 {
		openIDs = []string{""}
	}
	if len(events) == 0 {
		events = []string{""}
	}
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return token(s)
	}
	var out []string
	for _, o := range openIDs {
		for _, e := range events {
			out = append(out, msgPrefix+tok(o)+"."+tok(e)+".*")
			if group != "" {
				out = append(out, replayPrefix+group+"."+tok(o)+"."+tok(e)+".*")
			}
		}
	}
	return out
}
