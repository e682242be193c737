package sandbox

import "time"

// The info payloads of pushed messages, in the platform's shapes [GO1]
// [JUSER]; the item payloads are the sandbox's own. Every helper runs with
// Sandbox.mu held.

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

type itemStockInfo struct {
	KwaiItemID     int64 `json:"kwaiItemId"`
	SkuID          int64 `json:"skuId"`
	SellerID       int64 `json:"sellerId"`
	ChangeType     int64 `json:"changeType"` // 1 add, 2 reduce
	SkuChangeStock int64 `json:"skuChangeStock"`
	BeforeStock    int64 `json:"beforeStock"`
	Stock          int64 `json:"stock"`
	UpdateTime     int64 `json:"updateTime"`
}

type itemPriceInfo struct {
	KwaiItemID  int64 `json:"kwaiItemId"`
	SkuID       int64 `json:"skuId"`
	SellerID    int64 `json:"sellerId"`
	BeforePrice int64 `json:"beforePrice"`
	Price       int64 `json:"price"`
	UpdateTime  int64 `json:"updateTime"`
}

type itemShelfInfo struct {
	KwaiItemID  int64 `json:"kwaiItemId"`
	SellerID    int64 `json:"sellerId"`
	ShelfStatus int   `json:"shelfStatus"`
	UpdateTime  int64 `json:"updateTime"`
}

// orderEventLocked pushes an order message built from o's current state.
func (s *Sandbox) orderEventLocked(sh *shop, o *order, event string, now time.Time) {
	b := &o.BaseInfo
	var info any
	switch event {
	case EventOrderAdd:
		info = orderAddInfo{Oid: b.Oid, SellerID: sh.user.SellerID, OpenID: sh.user.OpenID, BuyerOpenID: b.BuyerOpenID, CreateTime: b.CreateTime}
	case EventOrderAddress:
		info = orderAddressInfo{Oid: b.Oid, SellerID: sh.user.SellerID, OpenID: sh.user.OpenID, BuyerOpenID: b.BuyerOpenID, UpdateTime: b.UpdateTime}
	default:
		info = orderStatusInfo{Oid: b.Oid, SellerID: sh.user.SellerID, Status: b.Status, UpdateTime: b.UpdateTime}
	}
	s.emitLocked(sh, event, b.Oid, info, now)
}

func (s *Sandbox) refundAddedLocked(sh *shop, rf *refund, now time.Time) {
	s.emitLocked(sh, EventRefundAdd, rf.RefundID, refundAddInfo{
		OrderID: rf.Oid, RefundID: rf.RefundID, HandlingWay: rf.HandlingWay, SpecialRefundType: rf.SpecialRefundType,
		Status: rf.Status, CreateTime: rf.CreateTime,
	}, now)
}

// setRefundStatusLocked moves a refund to status, keeps its order's refund
// list in step and pushes kwaishop_aftersales_updateRefund. updateTime (the
// refundVersion of open.refund.reject) always increases, even when the
// sandbox clock stands still.
func (s *Sandbox) setRefundStatusLocked(sh *shop, rf *refund, status int, eventType string, now time.Time) {
	t := max(ms(now), rf.UpdateTime+1)
	rf.Status, rf.UpdateTime, rf.NegotiateUpdateTime = status, t, t
	if refundWaiting(status) {
		rf.ExpireTime, rf.EndTime = t+(48*time.Hour).Milliseconds(), 0
	} else {
		rf.ExpireTime, rf.EndTime = 0, t
	}
	if o := sh.orderByID[rf.Oid]; o != nil {
		for i := range o.RefundList {
			if o.RefundList[i].RefundID == rf.RefundID {
				o.RefundList[i].RefundStatus = status
			}
		}
		if status == refundSucceeded {
			o.BaseInfo.RefundTime = t
		}
	}
	s.emitLocked(sh, EventRefundUpdate, rf.RefundID, refundUpdateInfo{
		OrderID: rf.Oid, RefundID: rf.RefundID, HandlingWay: rf.HandlingWay, SpecialRefundType: rf.SpecialRefundType,
		Status: status, EventType: eventType, UpdateTime: t,
	}, now)
}

func (s *Sandbox) itemChangedLocked(sh *shop, it *item, event string, now time.Time) {
	s.emitLocked(sh, event, it.KwaiItemID, itemChangeInfo{
		KwaiItemID: it.KwaiItemID, RelItemID: it.RelItemID, SellerID: sh.user.SellerID, Title: it.Title, UpdateTime: it.UpdateTime,
	}, now)
}
