package shop

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Buyer-side changes the admin API drives (the platform's buyers and
// logistics do them): new orders, payment, receipt, completion,
// cancellation, address changes, new after-sale requests and returned
// parcels. Each produces the platform's message.

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, a...)...)
}

// OrderSpec describes an order to create (POST /sandbox/v1/orders).
type OrderSpec struct {
	// TestUser (id) or OpenID names the shop.
	TestUser int    `json:"testUser"`
	OpenID   string `json:"openId"`
	// Status is 10 (unpaid, the default) or 30 (paid).
	Status int `json:"status"`
	// KwaiItemID and SkuID pick the goods (default: the shop's first item
	// and its first SKU); Num is the quantity (1-99, default 1).
	KwaiItemID int64 `json:"kwaiItemId"`
	SkuID      int64 `json:"skuId"`
	Num        int64 `json:"num"`
}

// RefundSpec describes an after-sale request (POST /sandbox/v1/refunds).
type RefundSpec struct {
	OrderID int64 `json:"orderId"`
	// HandlingWay is 10 (refund only, the default) or 1 (return and refund).
	HandlingWay int `json:"handlingWay"`
	// RefundFee in fen (default: the order's total minus express fee).
	RefundFee int64 `json:"refundFee"`
	// Reason is an index into the sandbox's reasons 1-6 (default 1).
	Reason int `json:"reason"`
}

func (s *Shops) findOrderLocked(oid int64) (*Shop, *Order) {
	for _, sh := range s.shops {
		if o := sh.OrderByID[oid]; o != nil {
			return sh, o
		}
	}
	return nil, nil
}

func (s *Shops) findRefundLocked(id int64) (*Shop, *Refund) {
	for _, sh := range s.shops {
		if r := sh.RefundByID[id]; r != nil {
			return sh, r
		}
	}
	return nil, nil
}

// createOrderLocked adds an order created at the sandbox now.
func (s *Shops) createOrderLocked(spec OrderSpec) (*Order, error) {
	u := s.userLocked(spec.TestUser, spec.OpenID)
	if u == nil {
		return nil, ErrUnknownTestUser
	}
	id := u.ID
	if spec.Status == 0 {
		spec.Status = rules.OrderUnpaid
	}
	if spec.Status != rules.OrderUnpaid && spec.Status != rules.OrderPaid {
		return nil, invalid("status %d: a new order is 10 (unpaid) or 30 (paid)", spec.Status)
	}
	if spec.Num == 0 {
		spec.Num = 1
	}
	if spec.Num < 1 || spec.Num > 99 {
		return nil, invalid("num must be 1-99")
	}
	sh := s.shops[id]
	it := sh.Items[0]
	if spec.KwaiItemID != 0 {
		if it = sh.ItemByID[spec.KwaiItemID]; it == nil {
			return nil, invalid("item %d is not an item of test user %d", spec.KwaiItemID, id)
		}
	}
	sk := it.SKUs[0]
	if spec.SkuID != 0 {
		i := slices.IndexFunc(it.SKUs, func(x *SKU) bool { return x.SkuID == spec.SkuID })
		if i < 0 {
			return nil, invalid("sku %d is not a sku of item %d", spec.SkuID, it.KwaiItemID)
		}
		sk = it.SKUs[i]
	}
	now := s.clock.Now()
	used := make(map[int64]bool, len(sh.OrderByID))
	for oid := range sh.OrderByID {
		used[oid] = true
	}
	o := generateOrder(sh.live, sh, rules.OrderUnpaid, now, used)
	ii, b := &o.ItemInfo, &o.BaseInfo
	ii.ItemID, ii.SkuID, ii.RelItemID, ii.RelSkuID = it.KwaiItemID, sk.SkuID, it.RelItemID, sk.RelSkuID
	ii.ItemTitle, ii.ItemPicURL, ii.SkuDesc, ii.SkuNick, ii.Num = it.Title, it.MainImageURL, sk.Specification, sk.SkuNick, spec.Num
	ii.OriginalPrice, ii.Price = sk.SkuMarketPrice, sk.SkuSalePrice
	ii.ItemLinkURL = fmt.Sprintf("https://app.sandbox.invalid/item/%d", it.KwaiItemID)
	b.DiscountFee = min(b.DiscountFee, sk.SkuSalePrice*spec.Num/2)
	ii.DiscountFee = b.DiscountFee
	b.TotalFee = sk.SkuSalePrice*spec.Num - b.DiscountFee + b.ExpressFee
	b.CreateTime, b.UpdateTime = clock.Millis(now), clock.Millis(now)
	sh.Orders = append(sh.Orders, o)
	sh.OrderByID[b.Oid] = o
	sh.OrderEvent(o, rules.EventOrderAdd, now)
	if spec.Status == rules.OrderPaid {
		sh.pay(o, now)
	}
	return o, nil
}

func (sh *Shop) pay(o *Order, now time.Time) {
	b := &o.BaseInfo
	b.Status, b.PayTime, b.UpdateTime = rules.OrderPaid, clock.Millis(now), clock.Millis(now)
	b.PayChannel = []string{"WECHAT", "ALIPAY"}[sh.live.intn(2)]
	b.ValidPromiseShipmentTimeStamp = clock.Millis(now.Add(48 * time.Hour))
	sh.OrderEvent(o, rules.EventOrderPaid, now)
}

// advanceOrderLocked applies a buyer/platform step: 10 → 30 (pay),
// 40 → 50 (received), 50 → 70 (success), 10 or 30 → 80 (buyer cancels).
func (s *Shops) advanceOrderLocked(oid int64, status int) (*Order, error) {
	sh, o := s.findOrderLocked(oid)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, oid)
	}
	now := s.clock.Now()
	b := &o.BaseInfo
	from := b.Status
	switch {
	case status == rules.OrderPaid && from == rules.OrderUnpaid:
		sh.pay(o, now)
	case status == rules.OrderReceived && from == rules.OrderShipped:
		b.Status, b.RecvTime, b.UpdateTime = rules.OrderReceived, clock.Millis(now), clock.Millis(now)
		sh.OrderEvent(o, rules.EventOrderDelivered, now)
	case status == rules.OrderSucceeded && from == rules.OrderReceived:
		b.Status, b.UpdateTime = rules.OrderSucceeded, clock.Millis(now)
		sh.OrderEvent(o, rules.EventOrderSuccess, now)
	case status == rules.OrderClosed && (from == rules.OrderUnpaid || from == rules.OrderPaid):
		b.Status, b.UpdateTime = rules.OrderClosed, clock.Millis(now)
		sh.OrderEvent(o, rules.EventOrderFail, now)
	case slices.Contains([]int{rules.OrderPaid, rules.OrderReceived, rules.OrderSucceeded, rules.OrderClosed}, status):
		return nil, fmt.Errorf("%w: order %d is %d (%s), cannot become %d", ErrState, oid, from, rules.OrderStatusNames[from], status)
	default:
		return nil, invalid("status %d: want 30 (paid), 50 (received), 70 (succeeded) or 80 (closed); shipping is the seller's API", status)
	}
	return o, nil
}

// changeAddressLocked gives an order not yet shipped a new address.
func (s *Shops) changeAddressLocked(oid int64) (*Order, error) {
	sh, o := s.findOrderLocked(oid)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, oid)
	}
	b := &o.BaseInfo
	if b.Status != rules.OrderUnpaid && b.Status != rules.OrderPaid {
		return nil, fmt.Errorf("%w: order %d is %d (%s); only orders not yet shipped change address", ErrState, oid, b.Status, rules.OrderStatusNames[b.Status])
	}
	g := sh.live
	reg := regions[g.intn(len(regions))]
	surname := g.pick(surnames)
	a := &o.Address
	*a = OrderAddress{
		Province: reg.province, ProvinceCode: reg.pcode, City: reg.city, CityCode: reg.ccode,
		District: reg.district, DistrictCode: reg.dcode, Town: reg.town, TownCode: reg.tcode,
		EncryptedConsignee: encrypted(g), DesensitiseConsignee: surname + "**",
		EncryptedMobile: encrypted(g), DesensitiseMobile: g.pick(mobilePrefixes) + "****" + g.digits(4),
		EncryptedAddress: encrypted(g), DesensitiseAddress: reg.province + reg.city + reg.district + reg.town + "****",
	}
	now := s.clock.Now()
	b.UpdateTime = max(clock.Millis(now), b.UpdateTime)
	sh.OrderEvent(o, rules.EventOrderAddress, now)
	return o, nil
}

// createRefundLocked opens an after-sale request (status 10) on an order.
func (s *Shops) createRefundLocked(spec RefundSpec) (*Refund, error) {
	sh, o := s.findOrderLocked(spec.OrderID)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, spec.OrderID)
	}
	if spec.HandlingWay == 0 {
		spec.HandlingWay = rules.HandlingRefundOnly
	}
	if spec.HandlingWay != rules.HandlingRefundOnly && spec.HandlingWay != rules.HandlingReturnGoods {
		return nil, invalid("handlingWay %d: want 10 (refund only) or 1 (return and refund)", spec.HandlingWay)
	}
	if spec.Reason == 0 {
		spec.Reason = 1
	}
	if spec.Reason < 1 || spec.Reason > len(refundReasons) {
		return nil, invalid("reason must be 1-%d", len(refundReasons))
	}
	b := &o.BaseInfo
	if spec.RefundFee == 0 {
		spec.RefundFee = b.TotalFee - b.ExpressFee
	}
	if spec.RefundFee < 1 || spec.RefundFee > b.TotalFee {
		return nil, invalid("refundFee must be 1-%d (the order's totalFee)", b.TotalFee)
	}
	switch {
	case !slices.Contains([]int{rules.OrderPaid, rules.OrderShipped, rules.OrderReceived, rules.OrderSucceeded}, b.Status):
		return nil, fmt.Errorf("%w: order %d is %d (%s); only paid orders take after-sale requests", ErrState, b.Oid, b.Status, rules.OrderStatusNames[b.Status])
	case b.Status == rules.OrderPaid && spec.HandlingWay == rules.HandlingReturnGoods:
		return nil, fmt.Errorf("%w: order %d is not shipped; nothing to return (use handlingWay 10)", ErrState, b.Oid)
	case slices.ContainsFunc(sh.Refunds, func(r *Refund) bool { return r.Oid == b.Oid && rules.RefundWaiting(r.Status) }):
		return nil, fmt.Errorf("%w: order %d already has an open after-sale request", ErrState, b.Oid)
	}
	used := make(map[int64]bool, len(sh.RefundByID))
	for id := range sh.RefundByID {
		used[id] = true
	}
	now := s.clock.Now()
	t := clock.Millis(now)
	uid := int64(sh.User.ID)
	rf := &Refund{
		RefundID: sh.live.uniqueID(used, 2_100_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000),
		Oid:      b.Oid, ItemID: o.ItemInfo.ItemID, SkuID: o.ItemInfo.SkuID,
		RelItemID: o.ItemInfo.RelItemID, RelSkuID: o.ItemInfo.RelSkuID, SkuNick: o.ItemInfo.SkuNick,
		SellerID: sh.User.SellerID, BuyerOpenID: b.BuyerOpenID, ProductNum: o.ItemInfo.Num,
		RefundFee: spec.RefundFee, Status: rules.RefundRequested, HandlingWay: spec.HandlingWay, RefundType: 1,
		RefundReason: spec.Reason, RefundReasonDesc: refundReasons[spec.Reason-1],
		CreateTime: t, SubmitTime: t, UpdateTime: t, NegotiateUpdateTime: t, ExpireTime: t + (48 * time.Hour).Milliseconds(),
	}
	sh.Refunds = append(sh.Refunds, rf)
	sh.RefundByID[rf.RefundID] = rf
	o.RefundList = append(o.RefundList, OrderRefund{RefundID: rf.RefundID, RefundStatus: rf.Status, HandlingWay: rf.HandlingWay})
	sh.refundAdded(rf, now)
	return rf, nil
}

// returnGoodsLocked: the buyer ships the goods back (30 → 40).
func (s *Shops) returnGoodsLocked(id, expressCode int64, expressNo string) (*Refund, error) {
	sh, rf := s.findRefundLocked(id)
	if rf == nil {
		return nil, fmt.Errorf("%w: refund %d", ErrNotFound, id)
	}
	if expressCode == 0 {
		expressCode = expressCodes[0].code
	}
	if expressNo = strings.TrimSpace(expressNo); expressNo == "" {
		expressNo = "SF" + sh.live.digits(12)
	}
	if expressCode < 0 || len(expressNo) > 64 {
		return nil, invalid("expressCode must be a carrier code and expressNo at most 64 characters")
	}
	if rf.Status != rules.RefundAwaitReturn {
		return nil, fmt.Errorf("%w: refund %d is %d (%s); the buyer returns goods in 30", ErrState, id, rf.Status, rules.RefundStatusNames[rf.Status])
	}
	rf.LogisticsInfo = RefundLogistics{ExpressCode: expressCode, ExpressNo: expressNo}
	sh.SetRefundStatus(rf, rules.RefundReturned, rules.RefundEventBuyerReturned, s.clock.Now())
	return rf, nil
}

// CreateOrder creates an order for a test user, created at the sandbox
// now, and returns it as open.order.detail shows it.
func (s *Shops) CreateOrder(spec OrderSpec) (Order, error) {
	return s.orderChange(func() (*Order, error) { return s.createOrderLocked(spec) })
}

// AdvanceOrder moves an order as its buyer or the platform would
// (status 30, 50, 70 or 80) and returns it.
func (s *Shops) AdvanceOrder(orderID int64, status int) (Order, error) {
	return s.orderChange(func() (*Order, error) { return s.advanceOrderLocked(orderID, status) })
}

// ChangeOrderAddress gives an unshipped order a new buyer address and
// returns it.
func (s *Shops) ChangeOrderAddress(orderID int64) (Order, error) {
	return s.orderChange(func() (*Order, error) { return s.changeAddressLocked(orderID) })
}

// CreateRefund opens an after-sale request and returns it as
// open.seller.order.refund.detail shows it.
func (s *Shops) CreateRefund(spec RefundSpec) (Refund, error) {
	return s.refundChange(func() (*Refund, error) { return s.createRefundLocked(spec) })
}

// ReturnGoods records the buyer's return parcel of a refund in status 30
// (expressCode 0 and expressNo "" pick defaults) and returns the refund.
func (s *Shops) ReturnGoods(refundID, expressCode int64, expressNo string) (Refund, error) {
	return s.refundChange(func() (*Refund, error) { return s.returnGoodsLocked(refundID, expressCode, expressNo) })
}

// orderChange runs f under the lock and returns a copy of its order.
func (s *Shops) orderChange(f func() (*Order, error)) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := f()
	if err != nil {
		return Order{}, err
	}
	return o.clone(), nil
}

// refundChange runs f under the lock and returns a copy of its refund.
func (s *Shops) refundChange(f func() (*Refund, error)) (Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf, err := f()
	if err != nil {
		return Refund{}, err
	}
	return *rf, nil
}

// clone copies an order, its lists included (nil stays nil, empty stays
// empty: the JSON is the same).
func (o *Order) clone() Order {
	c := *o
	c.RefundList = slices.Clone(o.RefundList)
	c.LogisticsInfo = slices.Clone(o.LogisticsInfo)
	c.Note.OrderNoteInfo = slices.Clone(o.Note.OrderNoteInfo)
	return c
}
