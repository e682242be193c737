package emulated

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Order APIs (docs/sandbox.md, Emulated APIs).

type orderListData struct {
	Cursor    string        `json:"cursor"`
	OrderList []*shop.Order `json:"orderList"`
	PageSize  int64         `json:"pageSize"`
	BeginTime int64         `json:"beginTime"`
	EndTime   int64         `json:"endTime"`
}

// orderCursorList: open.order.cursor.list. Orders whose create (queryType 1)
// or update (2) time is in [beginTime, endTime), newest first (sort 1) or
// oldest first (2), filtered by rules.OrderViewStatus.
func orderCursorList(c *api.Call) (any, *api.Error) {
	begin, end, e := c.TimeRange(rules.OrderWindowMax, "7 days")
	if e != nil {
		return nil, e
	}
	pageSize, e := c.IntIn("pageSize", rules.OrderPageSizeDefault, 1, rules.OrderPageSizeMax)
	if e != nil {
		return nil, e
	}
	view, e := c.IntIn("orderViewStatus", 1, 1, 7)
	if e != nil {
		return nil, e
	}
	queryType, e := c.IntIn("queryType", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	sortOrder, e := c.IntIn("sort", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	if _, e := c.OptInt("cpsType", 0); e != nil { // accepted, no distribution orders are seeded
		return nil, e
	}
	cursor, e := c.Str("cursor")
	if e != nil {
		return nil, e
	}
	key := func(o *shop.Order) pageKey {
		if queryType == 2 {
			return pageKey{o.BaseInfo.UpdateTime, o.BaseInfo.Oid}
		}
		return pageKey{o.BaseInfo.CreateTime, o.BaseInfo.Oid}
	}
	var recs []*shop.Order
	for _, o := range c.Shop.Orders {
		if t := key(o).t; t < begin || t >= end {
			continue
		}
		if want, ok := rules.OrderViewStatus[view]; ok && o.BaseInfo.Status != want {
			continue
		}
		recs = append(recs, o)
	}
	page, next, e := pageByKey(recs, key, sortOrder == 1, cursor, int(pageSize))
	if e != nil {
		return nil, e
	}
	if page == nil {
		page = []*shop.Order{}
	}
	return &orderListData{Cursor: next, OrderList: page, PageSize: pageSize, BeginTime: begin, EndTime: end}, nil
}

// orderOf finds an order of the calling shop. Unknown orders and orders of
// other shops both answer 21 "order operation reject" [K1006].
func orderOf(c *api.Call, key string) (*shop.Order, *api.Error) {
	oid, e := c.ReqInt(key)
	if e != nil {
		return nil, e
	}
	o, ok := c.Shop.OrderByID[oid]
	if !ok {
		return nil, api.Err(rules.CodeOrderReject, "order operation reject")
	}
	return o, nil
}

// orderDetail: open.order.detail (param oid).
func orderDetail(c *api.Call) (any, *api.Error) {
	return orderOf(c, "oid")
}

// orderDeliver: open.seller.order.goods.deliver. Only a paid order (30)
// ships; it becomes 40 with the logistics record. No data in the answer.
func orderDeliver(c *api.Call) (any, *api.Error) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	code, no, e := expressParams(c)
	if e != nil {
		return nil, e
	}
	b := &o.BaseInfo
	if b.Status != rules.OrderPaid {
		return nil, api.Err(rules.CodeOrderState, "order %d is %d (%s): only paid orders (30 %s) can be shipped",
			b.Oid, b.Status, rules.OrderStatusNames[b.Status], rules.OrderStatusNames[rules.OrderPaid])
	}
	lid := c.Shop.NextLogisticsID()
	now := clock.Millis(c.Now)
	o.LogisticsInfo = append(o.LogisticsInfo, shop.OrderLogistics{LogisticsID: lid, ExpressNo: no, ExpressCode: code})
	o.DeliveryInfo = shop.OrderDeliveryInfo{DeliveryStatus: 1, DeliveryNum: 1, PackageNum: 1}
	b.Status, b.SendTime, b.UpdateTime = rules.OrderShipped, now, now
	c.Shop.OrderEvent(o, rules.EventOrderDelivering, c.Now)
	return nil, nil
}

// expressParams reads a parcel's carrier (expressCode, a platform carrier
// code) and tracking number (expressNo, 1-64 characters once trimmed).
func expressParams(c *api.Call) (int64, string, *api.Error) {
	code, e := c.ReqInt("expressCode")
	if e != nil {
		return 0, "", e
	}
	if code <= 0 {
		return 0, "", api.BadParam("param.expressCode must be a platform carrier code (物流公司编号)")
	}
	no, e := c.Str("expressNo")
	if e != nil {
		return 0, "", e
	}
	if no = strings.TrimSpace(no); no == "" || len(no) > 64 {
		return 0, "", api.BadParam("param.expressNo is required (at most 64 characters)")
	}
	return code, no, nil
}

// orderClose: open.seller.order.close. Only an unpaid order (10) closes.
func orderClose(c *api.Call) (any, *api.Error) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	b := &o.BaseInfo
	if b.Status != rules.OrderUnpaid {
		return nil, api.Err(rules.CodeOrderState, "order %d is %d (%s): only unpaid orders (10 %s) can be closed",
			b.Oid, b.Status, rules.OrderStatusNames[b.Status], rules.OrderStatusNames[rules.OrderUnpaid])
	}
	b.Status, b.UpdateTime = rules.OrderClosed, clock.Millis(c.Now)
	c.Shop.OrderEvent(o, rules.EventOrderFail, c.Now)
	return nil, nil
}

// orderNoteAdd: open.seller.order.note.add (note <= 200 characters, flag 0-6).
func orderNoteAdd(c *api.Call) (any, *api.Error) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	note, e := c.Str("note")
	if e != nil {
		return nil, e
	}
	if utf8.RuneCountInString(note) > rules.NoteMaxRunes {
		return nil, api.BadParam("param.note must be at most %d characters", rules.NoteMaxRunes)
	}
	flag, e := c.OptInt("flag", 0)
	if e != nil {
		return nil, e
	}
	if flag < 0 || flag > 6 {
		return nil, api.BadParam("param.flag must be between 0 and 6")
	}
	o.Note.OrderNoteInfo = append(o.Note.OrderNoteInfo, shop.OrderNoteInfo{Note: note, Flag: int(flag), CreateTime: clock.Millis(c.Now)})
	return nil, nil
}

// orderLogisticsUpdate: open.seller.order.logistics.update. Changes the
// carrier and tracking number of a shipped order (40): the record named by
// logisticsId, else the latest. No data in the answer, no message.
func orderLogisticsUpdate(c *api.Call) (any, *api.Error) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	code, no, e := expressParams(c)
	if e != nil {
		return nil, e
	}
	lid, e := c.OptInt("logisticsId", 0)
	if e != nil {
		return nil, e
	}
	b := &o.BaseInfo
	if b.Status != rules.OrderShipped || len(o.LogisticsInfo) == 0 {
		return nil, api.Err(rules.CodeOrderState, "order %d is %d (%s): only shipped orders (40 %s) can change logistics",
			b.Oid, b.Status, rules.OrderStatusNames[b.Status], rules.OrderStatusNames[rules.OrderShipped])
	}
	i := len(o.LogisticsInfo) - 1
	if lid != 0 {
		i = slices.IndexFunc(o.LogisticsInfo, func(l shop.OrderLogistics) bool { return l.LogisticsID == lid })
		if i < 0 {
			return nil, api.BadParam("param.logisticsId %d is not a logistics record of order %d", lid, b.Oid)
		}
	}
	o.LogisticsInfo[i].ExpressCode, o.LogisticsInfo[i].ExpressNo = code, no
	b.UpdateTime = clock.Millis(c.Now)
	return nil, nil
}
