package message

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/jsonx"
)

// Push is the platform's plaintext message (the decrypted body). Numbers
// are accepted as JSON numbers or numeric strings; `info` as a JSON string
// (the platform's form) or an embedded object.
type Push struct {
	EventID    string    `json:"eventId"`
	BizID      jsonx.Int `json:"bizId"`
	UserID     jsonx.Int `json:"userId"`
	OpenID     string    `json:"openId"`
	AppKey     string    `json:"appKey"`
	Event      string    `json:"event"`
	Info       RawInfo   `json:"info"`
	CreateTime jsonx.Int `json:"createTime"`
	Test       bool      `json:"test"`
}

// Limits on the envelope fields.
const (
	maxEventIDLen = 256
	maxEventLen   = 128
	maxOpenIDLen  = 128
)

// ParsePush decodes and checks a plaintext message; a refusal is a
// *RejectError of ReasonMalformed.
func ParsePush(plain []byte) (Push, error) {
	var p Push
	if err := json.Unmarshal(plain, &p); err != nil {
		return Push{}, Reject(ReasonMalformed, "plaintext is not a message JSON object")
	}
	switch {
	case p.EventID == "" || len(p.EventID) > maxEventIDLen:
		return Push{}, Reject(ReasonMalformed, "eventId is missing or too long")
	case p.Event == "" || len(p.Event) > maxEventLen:
		return Push{}, Reject(ReasonMalformed, "event is missing or too long")
	case len(p.OpenID) > maxOpenIDLen:
		return Push{}, Reject(ReasonMalformed, "openId is too long")
	case len(p.Info) > 0 && !json.Valid(p.Info):
		return Push{}, Reject(ReasonMalformed, "info is not JSON")
	}
	return p, nil
}

// RawInfo is the `info` member: the JSON text inside the platform's string,
// or an embedded JSON value as is. It encodes as the platform does, as a
// JSON string.
type RawInfo []byte

func (r *RawInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*r = nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = RawInfo(s)
	default:
		*r = append(RawInfo(nil), b...)
	}
	return nil
}

func (r RawInfo) MarshalJSON() ([]byte, error) { return json.Marshal(string(r)) }

// info holds the `info` fields the gateway reads (union of the known
// events' fields).
type info struct {
	Oid               jsonx.Int    `json:"oid"`
	OrderID           jsonx.Int    `json:"orderId"`
	RefundID          jsonx.Int    `json:"refundId"`
	BizID             jsonx.Int    `json:"bizId"`
	SellerID          jsonx.Int    `json:"sellerId"`
	SellerIDSnake     jsonx.Int    `json:"seller_id"`
	OpenID            jsonx.String `json:"openId"`
	BuyerOpenID       jsonx.String `json:"buyerOpenId"`
	Status            jsonx.Int    `json:"status"`
	CreateTime        jsonx.Int    `json:"createTime"`
	UpdateTime        jsonx.Int    `json:"updateTime"`
	AuditStatus       jsonx.Int    `json:"auditStatus"`
	AuditTime         jsonx.Int    `json:"auditTime"`
	EventType         jsonx.String `json:"eventType"`
	OperatorName      jsonx.String `json:"operatorName"`
	OperatorType      jsonx.Int    `json:"operatorType"`
	Note              jsonx.String `json:"note"`
	Type              jsonx.Int    `json:"type"`
	Flag              jsonx.Int    `json:"flag"`
	TotalFee          jsonx.Int    `json:"totalFee"`
	BeforeTotalFee    jsonx.Int    `json:"beforeTotalFee"`
	ExpressFee        jsonx.Int    `json:"expressFee"`
	HandlingWay       jsonx.Int    `json:"handlingWay"`
	SpecialRefundType jsonx.Int    `json:"specialRefundType"`
	KwaiItemID        jsonx.Int    `json:"kwaiItemId"`
	ItemID            jsonx.Int    `json:"itemId"`
	SkuID             jsonx.Int    `json:"skuId"`
	ShelfStatus       jsonx.Int    `json:"shelfStatus"`
	Stock             jsonx.Int    `json:"stock"`
	SkuStock          jsonx.Int    `json:"skuStock"`
	Price             jsonx.Int    `json:"price"`
	RelItemID         jsonx.Int    `json:"relItemId"`
	Title             jsonx.String `json:"title"`
	BeforeStock       jsonx.Int    `json:"beforeStock"`
	BeforePrice       jsonx.Int    `json:"beforePrice"`
}

func (p Push) info() (info, bool) {
	var in info
	if len(p.Info) == 0 || json.Unmarshal(p.Info, &in) != nil {
		return info{}, false
	}
	return in, true
}

// first is the first of vs that is set (not 0).
func first(vs ...jsonx.Int) int64 {
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

// Valid reports whether c names a record and a time.
func (c Change) Valid() bool { return c.Kind != "" && c.ID > 0 && c.At > 0 }

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
		c = Change{"order", first(in.Oid, p.BizID), OrderStatusUnpaid, first(in.CreateTime)}
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
	return c, c.Valid()
}

// DedupeID is the message's Nats-Msg-Id: the change's id when the message
// announces an order or refund state change (so a push and a reconciliation
// of the same change are stored once), else the platform's eventId.
func (p Push) DedupeID() string {
	if c, ok := p.Change(); ok {
		if p.OpenID == "" {
			return c.DedupeID()
		}
		// The shop's: one merchant's order is one change for every app it
		// authorized, and each app's shop (open_ids are per app) gets it.
		return c.DedupeID() + ":" + p.OpenID
	}
	return "evt:" + p.EventID
}
