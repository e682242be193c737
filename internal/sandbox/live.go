package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Buyer-side changes the admin API drives (the platform's buyers and
// logistics do them): new orders, payment, receipt, completion,
// cancellation, address changes, new after-sale requests and returned
// parcels. Each produces the platform's message.

var (
	// ErrNotFound is returned for an order or refund id no shop has.
	ErrNotFound = errors.New("sandbox: not found")
	// ErrState is returned when the record's status does not allow the change.
	ErrState = errors.New("sandbox: not allowed in the current status")
	// ErrInvalidRequest wraps every other refusal of bad input.
	ErrInvalidRequest = errors.New("sandbox: invalid request")
)

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

func (s *Sandbox) findOrderLocked(oid int64) (*shop, *order) {
	for _, sh := range s.shops {
		if o := sh.orderByID[oid]; o != nil {
			return sh, o
		}
	}
	return nil, nil
}

func (s *Sandbox) findRefundLocked(id int64) (*shop, *refund) {
	for _, sh := range s.shops {
		if r := sh.refundByID[id]; r != nil {
			return sh, r
		}
	}
	return nil, nil
}

// createOrderLocked adds an order created at the sandbox now.
func (s *Sandbox) createOrderLocked(spec OrderSpec) (*order, error) {
	id := s.userIDLocked(spec.TestUser, spec.OpenID)
	if id == 0 {
		return nil, ErrUnknownTestUser
	}
	if spec.Status == 0 {
		spec.Status = orderUnpaid
	}
	if spec.Status != orderUnpaid && spec.Status != orderPaid {
		return nil, invalid("status %d: a new order is 10 (unpaid) or 30 (paid)", spec.Status)
	}
	if spec.Num == 0 {
		spec.Num = 1
	}
	if spec.Num < 1 || spec.Num > 99 {
		return nil, invalid("num must be 1-99")
	}
	sh := s.shops[id]
	it := sh.items[0]
	if spec.KwaiItemID != 0 {
		if it = sh.itemByID[spec.KwaiItemID]; it == nil {
			return nil, invalid("item %d is not an item of test user %d", spec.KwaiItemID, id)
		}
	}
	sk := it.skus[0]
	if spec.SkuID != 0 {
		i := slices.IndexFunc(it.skus, func(x *sku) bool { return x.SkuID == spec.SkuID })
		if i < 0 {
			return nil, invalid("sku %d is not a sku of item %d", spec.SkuID, it.KwaiItemID)
		}
		sk = it.skus[i]
	}
	now := s.clock.Now()
	used := make(map[int64]bool, len(sh.orderByID))
	for oid := range sh.orderByID {
		used[oid] = true
	}
	o := generateOrder(sh.live, sh, orderUnpaid, now, used)
	ii, b := &o.ItemInfo, &o.BaseInfo
	ii.ItemID, ii.SkuID, ii.RelItemID, ii.RelSkuID = it.KwaiItemID, sk.SkuID, it.RelItemID, sk.RelSkuID
	ii.ItemTitle, ii.ItemPicURL, ii.SkuDesc, ii.SkuNick, ii.Num = it.Title, it.MainImageURL, sk.Specification, sk.SkuNick, spec.Num
	ii.OriginalPrice, ii.Price = sk.SkuMarketPrice, sk.SkuSalePrice
	ii.ItemLinkURL = fmt.Sprintf("https://app.sandbox.invalid/item/%d", it.KwaiItemID)
	b.DiscountFee = min(b.DiscountFee, sk.SkuSalePrice*spec.Num/2)
	ii.DiscountFee = b.DiscountFee
	b.TotalFee = sk.SkuSalePrice*spec.Num - b.DiscountFee + b.ExpressFee
	b.CreateTime, b.UpdateTime = ms(now), ms(now)
	sh.orders = append(sh.orders, o)
	sh.orderByID[b.Oid] = o
	s.orderEventLocked(sh, o, EventOrderAdd, now)
	if spec.Status == orderPaid {
		s.payLocked(sh, o, now)
	}
	return o, nil
}

func (s *Sandbox) payLocked(sh *shop, o *order, now time.Time) {
	b := &o.BaseInfo
	b.Status, b.PayTime, b.UpdateTime = orderPaid, ms(now), ms(now)
	b.PayChannel = []string{"WECHAT", "ALIPAY"}[sh.live.intn(2)]
	b.ValidPromiseShipmentTimeStamp = ms(now.Add(48 * time.Hour))
	s.orderEventLocked(sh, o, EventOrderPaid, now)
}

// advanceOrderLocked applies a buyer/platform step: 10 → 30 (pay),
// 40 → 50 (received), 50 → 70 (success), 10 or 30 → 80 (buyer cancels).
func (s *Sandbox) advanceOrderLocked(oid int64, status int) (*order, error) {
	sh, o := s.findOrderLocked(oid)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, oid)
	}
	now := s.clock.Now()
	b := &o.BaseInfo
	from := b.Status
	switch {
	case status == orderPaid && from == orderUnpaid:
		s.payLocked(sh, o, now)
	case status == orderReceived && from == orderShipped:
		b.Status, b.RecvTime, b.UpdateTime = orderReceived, ms(now), ms(now)
		s.orderEventLocked(sh, o, EventOrderDelivered, now)
	case status == orderSucceeded && from == orderReceived:
		b.Status, b.UpdateTime = orderSucceeded, ms(now)
		s.orderEventLocked(sh, o, EventOrderSuccess, now)
	case status == orderClosed && (from == orderUnpaid || from == orderPaid):
		b.Status, b.UpdateTime = orderClosed, ms(now)
		s.orderEventLocked(sh, o, EventOrderFail, now)
	case slices.Contains([]int{orderPaid, orderReceived, orderSucceeded, orderClosed}, status):
		return nil, fmt.Errorf("%w: order %d is %d (%s), cannot become %d", ErrState, oid, from, orderStatusNames[from], status)
	default:
		return nil, invalid("status %d: want 30 (paid), 50 (received), 70 (succeeded) or 80 (closed); shipping is the seller's API", status)
	}
	return o, nil
}

// changeAddressLocked gives an order not yet shipped a new address.
func (s *Sandbox) changeAddressLocked(oid int64) (*order, error) {
	sh, o := s.findOrderLocked(oid)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, oid)
	}
	b := &o.BaseInfo
	if b.Status != orderUnpaid && b.Status != orderPaid {
		return nil, fmt.Errorf("%w: order %d is %d (%s); only orders not yet shipped change address", ErrState, oid, b.Status, orderStatusNames[b.Status])
	}
	g := sh.live
	reg := regions[g.intn(len(regions))]
	surname := g.pick(surnames)
	a := &o.Address
	*a = orderAddress{
		Province: reg.province, ProvinceCode: reg.pcode, City: reg.city, CityCode: reg.ccode,
		District: reg.district, DistrictCode: reg.dcode, Town: reg.town, TownCode: reg.tcode,
		EncryptedConsignee: encrypted(g), DesensitiseConsignee: surname + "**",
		EncryptedMobile: encrypted(g), DesensitiseMobile: g.pick(mobilePrefixes) + "****" + g.digits(4),
		EncryptedAddress: encrypted(g), DesensitiseAddress: reg.province + reg.city + reg.district + reg.town + "****",
	}
	now := s.clock.Now()
	b.UpdateTime = max(ms(now), b.UpdateTime)
	s.orderEventLocked(sh, o, EventOrderAddress, now)
	return o, nil
}

// createRefundLocked opens an after-sale request (status 10) on an order.
func (s *Sandbox) createRefundLocked(spec RefundSpec) (*refund, error) {
	sh, o := s.findOrderLocked(spec.OrderID)
	if o == nil {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, spec.OrderID)
	}
	if spec.HandlingWay == 0 {
		spec.HandlingWay = handlingRefundOnly
	}
	if spec.HandlingWay != handlingRefundOnly && spec.HandlingWay != handlingReturnGoods {
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
	case !slices.Contains([]int{orderPaid, orderShipped, orderReceived, orderSucceeded}, b.Status):
		return nil, fmt.Errorf("%w: order %d is %d (%s); only paid orders take after-sale requests", ErrState, b.Oid, b.Status, orderStatusNames[b.Status])
	case b.Status == orderPaid && spec.HandlingWay == handlingReturnGoods:
		return nil, fmt.Errorf("%w: order %d is not shipped; nothing to return (use handlingWay 10)", ErrState, b.Oid)
	case slices.ContainsFunc(sh.refunds, func(r *refund) bool { return r.Oid == b.Oid && refundWaiting(r.Status) }):
		return nil, fmt.Errorf("%w: order %d already has an open after-sale request", ErrState, b.Oid)
	}
	used := make(map[int64]bool, len(sh.refundByID))
	for id := range sh.refundByID {
		used[id] = true
	}
	now := s.clock.Now()
	t := ms(now)
	uid := int64(sh.user.ID)
	rf := &refund{
		RefundID: sh.live.uniqueID(used, 2_100_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000),
		Oid:      b.Oid, ItemID: o.ItemInfo.ItemID, SkuID: o.ItemInfo.SkuID,
		RelItemID: o.ItemInfo.RelItemID, RelSkuID: o.ItemInfo.RelSkuID, SkuNick: o.ItemInfo.SkuNick,
		SellerID: sh.user.SellerID, BuyerOpenID: b.BuyerOpenID, ProductNum: o.ItemInfo.Num,
		RefundFee: spec.RefundFee, Status: refundRequested, HandlingWay: spec.HandlingWay, RefundType: 1,
		RefundReason: spec.Reason, RefundReasonDesc: refundReasons[spec.Reason-1],
		CreateTime: t, SubmitTime: t, UpdateTime: t, NegotiateUpdateTime: t, ExpireTime: t + (48 * time.Hour).Milliseconds(),
	}
	sh.refunds = append(sh.refunds, rf)
	sh.refundByID[rf.RefundID] = rf
	o.RefundList = append(o.RefundList, orderRefund{RefundID: rf.RefundID, RefundStatus: rf.Status, HandlingWay: rf.HandlingWay})
	s.refundAddedLocked(sh, rf, now)
	return rf, nil
}

// returnGoodsLocked: the buyer ships the goods back (30 → 40).
func (s *Sandbox) returnGoodsLocked(id, expressCode int64, expressNo string) (*refund, error) {
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
	if rf.Status != refundAwaitReturn {
		return nil, fmt.Errorf("%w: refund %d is %d (%s); the buyer returns goods in 30", ErrState, id, rf.Status, refundStatusNames[rf.Status])
	}
	rf.LogisticsInfo = refundLogistics{ExpressCode: expressCode, ExpressNo: expressNo}
	s.setRefundStatusLocked(sh, rf, refundReturned, refundEventBuyerReturned, s.clock.Now())
	return rf, nil
}

// CreateOrder creates an order for a test user and returns its id.
func (s *Sandbox) CreateOrder(spec OrderSpec) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.createOrderLocked(spec)
	if err != nil {
		return 0, err
	}
	return o.BaseInfo.Oid, nil
}

// AdvanceOrder moves an order as its buyer or the platform would
// (status 30, 50, 70 or 80).
func (s *Sandbox) AdvanceOrder(orderID int64, status int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.advanceOrderLocked(orderID, status)
	return err
}

// ChangeOrderAddress gives an unshipped order a new buyer address.
func (s *Sandbox) ChangeOrderAddress(orderID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.changeAddressLocked(orderID)
	return err
}

// CreateRefund opens an after-sale request and returns its refundId.
func (s *Sandbox) CreateRefund(spec RefundSpec) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf, err := s.createRefundLocked(spec)
	if err != nil {
		return 0, err
	}
	return rf.RefundID, nil
}

// ReturnGoods records the buyer's return parcel of a refund in status 30
// (expressCode 0 and expressNo "" pick defaults).
func (s *Sandbox) ReturnGoods(refundID, expressCode int64, expressNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.returnGoodsLocked(refundID, expressCode, expressNo)
	return err
}
