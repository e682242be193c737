package message

import (
	"strings"
	"time"
)

// Message is a message as the API shows it (internal/service converts it to
// the proto Message). Times are zero when unset.
type Message struct {
	Sequence    uint64 // the log's sequence (0 outside the log)
	EventID     string
	BizID       int64
	UserID      int64
	OpenID      string
	AppKey      string
	Event       string
	CreateTime  time.Time
	ReceiveTime time.Time // when the log stored it
	Test        bool
	Info        string // the info JSON as the platform sent it
	Reconciled  bool   // found by the reconciler, not pushed
	Replayed    bool   // a copy delivered again to one group
	Payload     Payload
}

// Payload is the typed info of a known event: one of *OrderCreated,
// *OrderStatus, *OrderAddress, *OrderAddressAudit, *OrderNote, *OrderFee,
// *Refund or *Item.
type Payload interface{ payload() }

// OrderCreated is the payload of EventOrderCreated.
type OrderCreated struct {
	Oid, SellerID       int64
	OpenID, BuyerOpenID string
	CreateTime          time.Time
}

// OrderStatus is the payload of the order status events (paid, shipped,
// received, succeeded, failed).
type OrderStatus struct {
	Oid, SellerID int64
	Status        int32
	UpdateTime    time.Time
}

// OrderAddress is the payload of EventOrderAddressChange.
type OrderAddress struct {
	Oid, SellerID       int64
	OpenID, BuyerOpenID string
	UpdateTime          time.Time
}

// OrderAddressAudit is the payload of EventOrderAddressAudit.
type OrderAddressAudit struct {
	Oid                 int64
	OpenID, BuyerOpenID string
	CreateTime          time.Time
	AuditStatus         int32
	AuditTime           time.Time
}

// OrderNote is the payload of EventOrderNote.
type OrderNote struct {
	Oid                     int64
	Note                    string
	Flag, Type              int32
	EventType, OperatorName string
	OperatorType            int32
	UpdateTime              time.Time
}

// OrderFee is the payload of EventOrderFeeChange.
type OrderFee struct {
	Oid, SellerID                                 int64
	TotalFeeFen, BeforeTotalFeeFen, ExpressFeeFen int64
}

// Refund is the payload of the after-sale events.
type Refund struct {
	OrderID, RefundID                      int64
	HandlingWay, SpecialRefundType, Status int32
	EventType                              string
	CreateTime, UpdateTime                 time.Time
}

// Item is the payload of the item events.
type Item struct {
	KwaiItemID, SkuID, SellerID int64
	ShelfStatus                 int32
	Stock, PriceFen             int64
	UpdateTime                  time.Time
	RelItemID                   int64
	Title                       string
	BeforeStock, BeforePriceFen int64
}

func (*OrderCreated) payload()      {}
func (*OrderStatus) payload()       {}
func (*OrderAddress) payload()      {}
func (*OrderAddressAudit) payload() {}
func (*OrderNote) payload()         {}
func (*OrderFee) payload()          {}
func (*Refund) payload()            {}
func (*Item) payload()              {}

// msTime converts a platform time in milliseconds; 0 or less (unset) gives
// the zero time.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Message is the push as the API shows it, without the log's sequence,
// receive time and flags (the log adds them). The one table of which info
// fields fill which payload field is here.
func (p Push) Message() Message {
	m := Message{
		EventID:    p.EventID,
		BizID:      int64(p.BizID),
		UserID:     int64(p.UserID),
		OpenID:     p.OpenID,
		AppKey:     p.AppKey,
		Event:      p.Event,
		CreateTime: msTime(int64(p.CreateTime)),
		Test:       p.Test,
		Info:       string(p.Info),
	}
	in, ok := p.info()
	if !ok {
		return m
	}
	switch p.Event {
	case EventOrderCreated:
		m.Payload = &OrderCreated{
			Oid: first(in.Oid, p.BizID), SellerID: first(in.SellerID, in.SellerIDSnake), OpenID: string(in.OpenID),
			BuyerOpenID: string(in.BuyerOpenID), CreateTime: msTime(int64(in.CreateTime)),
		}
	case EventOrderPaid, EventOrderShipped, EventOrderReceived, EventOrderSucceeded, EventOrderFailed:
		m.Payload = &OrderStatus{
			Oid: first(in.Oid, p.BizID), SellerID: first(in.SellerID, in.SellerIDSnake), Status: int32(in.Status),
			UpdateTime: msTime(int64(in.UpdateTime)),
		}
	case EventOrderAddressChange:
		m.Payload = &OrderAddress{
			Oid: first(in.Oid, p.BizID), SellerID: first(in.SellerIDSnake, in.SellerID), OpenID: string(in.OpenID),
			BuyerOpenID: string(in.BuyerOpenID), UpdateTime: msTime(int64(in.UpdateTime)),
		}
	case EventOrderAddressAudit:
		m.Payload = &OrderAddressAudit{
			Oid: first(in.Oid, p.BizID), OpenID: string(in.OpenID), BuyerOpenID: string(in.BuyerOpenID),
			CreateTime: msTime(int64(in.CreateTime)), AuditStatus: int32(in.AuditStatus), AuditTime: msTime(int64(in.AuditTime)),
		}
	case EventOrderNote:
		m.Payload = &OrderNote{
			Oid: first(in.BizID, in.Oid, p.BizID), Note: string(in.Note), Flag: int32(in.Flag), Type: int32(in.Type),
			EventType: string(in.EventType), OperatorName: string(in.OperatorName), OperatorType: int32(in.OperatorType),
			UpdateTime: msTime(int64(in.UpdateTime)),
		}
	case EventOrderFeeChange:
		m.Payload = &OrderFee{
			Oid: first(in.Oid, p.BizID), SellerID: first(in.SellerID, in.SellerIDSnake), TotalFeeFen: int64(in.TotalFee),
			BeforeTotalFeeFen: int64(in.BeforeTotalFee), ExpressFeeFen: int64(in.ExpressFee),
		}
	case EventRefundCreated, EventRefundUpdated:
		m.Payload = &Refund{
			OrderID: first(in.OrderID, in.Oid), RefundID: first(in.RefundID, p.BizID), HandlingWay: int32(in.HandlingWay),
			SpecialRefundType: int32(in.SpecialRefundType), Status: int32(in.Status), EventType: string(in.EventType),
			CreateTime: msTime(int64(in.CreateTime)), UpdateTime: msTime(int64(in.UpdateTime)),
		}
	default:
		if strings.HasPrefix(p.Event, ItemEventPrefix) {
			m.Payload = &Item{
				KwaiItemID: first(in.KwaiItemID, in.ItemID, p.BizID), SkuID: int64(in.SkuID), SellerID: first(in.SellerID, in.SellerIDSnake),
				ShelfStatus: int32(in.ShelfStatus), Stock: first(in.Stock, in.SkuStock), PriceFen: int64(in.Price),
				UpdateTime: msTime(int64(in.UpdateTime)), RelItemID: int64(in.RelItemID), Title: string(in.Title),
				BeforeStock: int64(in.BeforeStock), BeforePriceFen: int64(in.BeforePrice),
			}
		}
	}
	return m
}
