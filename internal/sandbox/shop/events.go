package shop

import (
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Emitter receives the message a change of a shop produces: the shop's test
// user, the event name, the business id and the info payload (encoded as
// JSON). It runs with the Shops lock held and must not call back into Shops.
type Emitter func(u TestUser, event string, bizID int64, info any, now time.Time)

// Emit reports a change of the shop as a message (a no-op without an
// emitter).
func (sh *Shop) Emit(event string, bizID int64, info any, now time.Time) {
	if sh.emit != nil {
		sh.emit(sh.User, event, bizID, info, now)
	}
}

// The info payloads of pushed messages, in the platform's shapes [GO1]
// [JUSER]; the item payloads are the sandbox's own.

type orderAddInfo struct {
	Oid         int64  `json:"oid"`
	SellerID    int64  `json:"sellerId"`
	OpenID      string `json:"openId"`
	BuyerOpenID string `json:"buyerOpenId"`
	CreateTime  int64  `json:"createTime"`
}

type orderStatusInfo struct {
	Oid        int64 `json:"oid"`
	SellerID   int64 `json:"sellerId"`
	Status     int   `json:"status"`
	UpdateTime int64 `json:"updateTime"`
}

// orderAddressInfo keeps the platform's seller_id spelling [GO1].
type orderAddressInfo struct {
	Oid         int64  `json:"oid"`
	SellerID    int64  `json:"seller_id"`
	OpenID      string `json:"openId"`
	BuyerOpenID string `json:"buyerOpenId"`
	UpdateTime  int64  `json:"updateTime"`
}

type refundAddInfo struct {
	OrderID           int64 `json:"orderId"`
	RefundID          int64 `json:"refundId"`
	HandlingWay       int   `json:"handlingWay"`
	SpecialRefundType int   `json:"specialRefundType"`
	Status            int   `json:"status"`
	CreateTime        int64 `json:"createTime"`
}

type refundUpdateInfo struct {
	OrderID           int64  `json:"orderId"`
	RefundID          int64  `json:"refundId"`
	HandlingWay       int    `json:"handlingWay"`
	SpecialRefundType int    `json:"specialRefundType"`
	Status            int    `json:"status"`
	EventType         string `json:"eventType"`
	UpdateTime        int64  `json:"updateTime"`
}

type itemChangeInfo struct {
	KwaiItemID int64  `json:"kwaiItemId"`
	RelItemID  int64  `json:"relItemId"`
	SellerID   int64  `json:"sellerId"`
	Title      string `json:"title,omitempty"`
	UpdateTime int64  `json:"updateTime"`
}

// ItemStockInfo is the info of kwaishop_item_stockChange.
type ItemStockInfo struct {
	KwaiItemID     int64 `json:"kwaiItemId"`
	SkuID          int64 `json:"skuId"`
	SellerID       int64 `json:"sellerId"`
	ChangeType     int64 `json:"changeType"` // 1 add, 2 reduce
	SkuChangeStock int64 `json:"skuChangeStock"`
	BeforeStock    int64 `json:"beforeStock"`
	Stock          int64 `json:"stock"`
	UpdateTime     int64 `json:"updateTime"`
}

// ItemPriceInfo is the info of kwaishop_item_priceChange.
type ItemPriceInfo struct {
	KwaiItemID  int64 `json:"kwaiItemId"`
	SkuID       int64 `json:"skuId"`
	SellerID    int64 `json:"sellerId"`
	BeforePrice int64 `json:"beforePrice"`
	Price       int64 `json:"price"`
	UpdateTime  int64 `json:"updateTime"`
}

// ItemShelfInfo is the info of kwaishop_item_shelfStatusChange.
type ItemShelfInfo struct {
	KwaiItemID  int64 `json:"kwaiItemId"`
	SellerID    int64 `json:"sellerId"`
	ShelfStatus int   `json:"shelfStatus"`
	UpdateTime  int64 `json:"updateTime"`
}

// OrderEvent reports an order message built from o's current state.
func (sh *Shop) OrderEvent(o *Order, event string, now time.Time) {
	b := &o.BaseInfo
	var info any
	switch event {
	case rules.EventOrderAdd:
		info = orderAddInfo{Oid: b.Oid, SellerID: sh.User.SellerID, OpenID: sh.User.OpenID, BuyerOpenID: b.BuyerOpenID, CreateTime: b.CreateTime}
	case rules.EventOrderAddress:
		info = orderAddressInfo{Oid: b.Oid, SellerID: sh.User.SellerID, OpenID: sh.User.OpenID, BuyerOpenID: b.BuyerOpenID, UpdateTime: b.UpdateTime}
	default:
		info = orderStatusInfo{Oid: b.Oid, SellerID: sh.User.SellerID, Status: b.Status, UpdateTime: b.UpdateTime}
	}
	sh.Emit(event, b.Oid, info, now)
}

func (sh *Shop) refundAdded(rf *Refund, now time.Time) {
	sh.Emit(rules.EventRefundAdd, rf.RefundID, refundAddInfo{
		OrderID: rf.Oid, RefundID: rf.RefundID, HandlingWay: rf.HandlingWay, SpecialRefundType: rf.SpecialRefundType,
		Status: rf.Status, CreateTime: rf.CreateTime,
	}, now)
}

// SetRefundStatus moves a refund to status, keeps its order's refund list
// in step and reports kwaishop_aftersales_updateRefund. updateTime (the
// refundVersion of open.refund.reject) always increases, even when the
// sandbox clock stands still.
func (sh *Shop) SetRefundStatus(rf *Refund, status int, eventType string, now time.Time) {
	t := max(clock.Millis(now), rf.UpdateTime+1)
	rf.Status, rf.UpdateTime, rf.NegotiateUpdateTime = status, t, t
	if rules.RefundWaiting(status) {
		rf.ExpireTime, rf.EndTime = t+(48*time.Hour).Milliseconds(), 0
	} else {
		rf.ExpireTime, rf.EndTime = 0, t
	}
	if o := sh.OrderByID[rf.Oid]; o != nil {
		for i := range o.RefundList {
			if o.RefundList[i].RefundID == rf.RefundID {
				o.RefundList[i].RefundStatus = status
			}
		}
		if status == rules.RefundSucceeded {
			o.BaseInfo.RefundTime = t
		}
	}
	sh.Emit(rules.EventRefundUpdate, rf.RefundID, refundUpdateInfo{
		OrderID: rf.Oid, RefundID: rf.RefundID, HandlingWay: rf.HandlingWay, SpecialRefundType: rf.SpecialRefundType,
		Status: status, EventType: eventType, UpdateTime: t,
	}, now)
}

// ItemChanged reports an item message (kwaishop_item_addItem or
// kwaishop_item_updateItem) built from it's current state.
func (sh *Shop) ItemChanged(it *Item, event string, now time.Time) {
	sh.Emit(event, it.KwaiItemID, itemChangeInfo{
		KwaiItemID: it.KwaiItemID, RelItemID: it.RelItemID, SellerID: sh.User.SellerID, Title: it.Title, UpdateTime: it.UpdateTime,
	}, now)
}
