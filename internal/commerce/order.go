package commerce

import (
	"context"
	"strconv"
	"time"
)

// Order APIs.
const (
	apiOrderList      = "open.order.cursor.list"
	apiOrderDetail    = "open.order.detail"
	apiOrderDeliver   = "open.seller.order.goods.deliver"
	apiOrderLogistics = "open.seller.order.logistics.update"
	apiOrderClose     = "open.seller.order.close"
	apiOrderNote      = "open.seller.order.note.add"

	// OrderWindow is the longest range open.order.cursor.list answers.
	OrderWindow = 7 * 24 * time.Hour
	// orderPageMax is its page size limit (the TypeScript SDK says 50, a
	// Go SDK 100: the smaller one is safe).
	orderPageMax = 50
)

// OrderStatus is the platform's order status. Values the gateway does not
// know pass through as their number.
type OrderStatus int32

// Order statuses.
const (
	OrderStatusAny       OrderStatus = 0 // as a filter: every status
	OrderStatusUnpaid    OrderStatus = 10
	OrderStatusPaid      OrderStatus = 30
	OrderStatusShipped   OrderStatus = 40
	OrderStatusReceived  OrderStatus = 50
	OrderStatusSucceeded OrderStatus = 70
	OrderStatusClosed    OrderStatus = 80
)

// orderViewStatus maps a status filter to the platform's orderViewStatus
// (1 all, 2 待付款, 3 待发货, 4 已发货, 5 已收货, 6 成功, 7 关闭).
var orderViewStatus = map[OrderStatus]int{
	OrderStatusAny:       1,
	OrderStatusUnpaid:    2,
	OrderStatusPaid:      3,
	OrderStatusShipped:   4,
	OrderStatusReceived:  5,
	OrderStatusSucceeded: 6,
	OrderStatusClosed:    7,
}

// Order is one order (the platform's orderBaseInfo and the parts around
// it). Zero times are unset.
type Order struct {
	ID               int64
	Status           OrderStatus
	CreateTime       time.Time
	UpdateTime       time.Time
	PayTime          time.Time
	ShipTime         time.Time
	ReceiveTime      time.Time
	PromisedShipTime time.Time
	TotalFen         int64
	ExpressFeeFen    int64
	DiscountFen      int64
	BuyerOpenID      string
	BuyerNick        string
	BuyerRemark      string
	// SellerID is the seller's user id where the platform includes it.
	SellerID  int64
	Item      *OrderItem // nil when the platform sent none
	Logistics []OrderLogistics
	Refunds   []OrderRefund
	Address   *OrderAddress // nil when the platform sent none
	Notes     []OrderNote
	// Raw is the platform's JSON of the order, compact.
	Raw string
}

// OrderItem is the item an order bought.
type OrderItem struct {
	ItemID           int64
	SkuID            int64
	RelItemID        int64
	RelSkuID         int64
	Title            string
	SkuDesc          string
	SkuNick          string
	PictureURL       string
	Quantity         int64
	PriceFen         int64
	OriginalPriceFen int64
	DiscountFen      int64
}

// OrderLogistics is one shipment of an order.
type OrderLogistics struct {
	LogisticsID int64
	ExpressCode int64
	ExpressNo   string
}

// OrderRefund is an after-sale record as an order lists it.
type OrderRefund struct {
	RefundID    int64
	Status      RefundStatus
	HandlingWay RefundHandlingWay
}

// OrderAddress is the buyer's address: the region in clear, the personal
// parts masked and encrypted (the platform's data security rules).
type OrderAddress struct {
	Province           string
	City               string
	District           string
	Town               string
	MaskedConsignee    string
	MaskedMobile       string
	MaskedAddress      string
	EncryptedConsignee string
	EncryptedMobile    string
	EncryptedAddress   string
}

// OrderNote is a seller note on an order.
type OrderNote struct {
	Note       string
	Flag       int32
	CreateTime time.Time
}

// platformOrder is the part of the platform's order JSON the gateway
// models.
type platformOrder struct {
	BaseInfo struct {
		Oid                           i64 `json:"oid"`
		Status                        i64 `json:"status"`
		CreateTime                    i64 `json:"createTime"`
		UpdateTime                    i64 `json:"updateTime"`
		PayTime                       i64 `json:"payTime"`
		SendTime                      i64 `json:"sendTime"`
		RecvTime                      i64 `json:"recvTime"`
		ValidPromiseShipmentTimeStamp i64 `json:"validPromiseShipmentTimeStamp"`
		TotalFee                      i64 `json:"totalFee"`
		ExpressFee                    i64 `json:"expressFee"`
		DiscountFee                   i64 `json:"discountFee"`
		BuyerOpenID                   str `json:"buyerOpenId"`
		BuyerNick                     str `json:"buyerNick"`
		Remark                        str `json:"remark"`
		SellerID                      i64 `json:"sellerId"`
	} `json:"orderBaseInfo"`
	ItemInfo *struct {
		ItemID        i64 `json:"itemId"`
		SkuID         i64 `json:"skuId"`
		RelItemID     i64 `json:"relItemId"`
		RelSkuID      i64 `json:"relSkuId"`
		ItemTitle     str `json:"itemTitle"`
		SkuDesc       str `json:"skuDesc"`
		SkuNick       str `json:"skuNick"`
		ItemPicURL    str `json:"itemPicUrl"`
		Num           i64 `json:"num"`
		Price         i64 `json:"price"`
		OriginalPrice i64 `json:"originalPrice"`
		DiscountFee   i64 `json:"discountFee"`
	} `json:"orderItemInfo"`
	RefundList []struct {
		RefundID     i64 `json:"refundId"`
		RefundStatus i64 `json:"refundStatus"`
		HandlingWay  i64 `json:"handlingWay"`
	} `json:"orderRefundList"`
	LogisticsInfo []struct {
		LogisticsID i64 `json:"logisticsId"`
		ExpressNo   str `json:"expressNo"`
		ExpressCode i64 `json:"expressCode"`
	} `json:"orderLogisticsInfo"`
	Note struct {
		OrderNoteInfo []struct {
			Note       str `json:"note"`
			Flag       i64 `json:"flag"`
			CreateTime i64 `json:"createTime"`
		} `json:"orderNoteInfo"`
	} `json:"orderNote"`
	Address *struct {
		Province             str `json:"province"`
		City                 str `json:"city"`
		District             str `json:"district"`
		Town                 str `json:"town"`
		EncryptedConsignee   str `json:"encryptedConsignee"`
		DesensitiseConsignee str `json:"desensitiseConsignee"`
		EncryptedMobile      str `json:"encryptedMobile"`
		DesensitiseMobile    str `json:"desensitiseMobile"`
		EncryptedAddress     str `json:"encryptedAddress"`
		DesensitiseAddress   str `json:"desensitiseAddress"`
	} `json:"orderAddress"`
}

// decodeOrder decodes one platform order object.
func decodeOrder(raw []byte) (Order, error) {
	var v platformOrder
	if err := decode(raw, &v); err != nil {
		return Order{}, err
	}
	return v.order(rawString(raw)), nil
}

// order converts the decoded JSON; raw is its compact text.
func (o *platformOrder) order(raw string) Order {
	b := &o.BaseInfo
	out := Order{
		ID:               int64(b.Oid),
		Status:           OrderStatus(b.Status),
		CreateTime:       msTime(b.CreateTime),
		UpdateTime:       msTime(b.UpdateTime),
		PayTime:          msTime(b.PayTime),
		ShipTime:         msTime(b.SendTime),
		ReceiveTime:      msTime(b.RecvTime),
		PromisedShipTime: msTime(b.ValidPromiseShipmentTimeStamp),
		TotalFen:         int64(b.TotalFee),
		ExpressFeeFen:    int64(b.ExpressFee),
		DiscountFen:      int64(b.DiscountFee),
		BuyerOpenID:      string(b.BuyerOpenID),
		BuyerNick:        string(b.BuyerNick),
		BuyerRemark:      string(b.Remark),
		SellerID:         int64(b.SellerID),
		Raw:              raw,
	}
	if it := o.ItemInfo; it != nil {
		out.Item = &OrderItem{
			ItemID: int64(it.ItemID), SkuID: int64(it.SkuID), RelItemID: int64(it.RelItemID), RelSkuID: int64(it.RelSkuID),
			Title: string(it.ItemTitle), SkuDesc: string(it.SkuDesc), SkuNick: string(it.SkuNick), PictureURL: string(it.ItemPicURL),
			Quantity: int64(it.Num), PriceFen: int64(it.Price), OriginalPriceFen: int64(it.OriginalPrice), DiscountFen: int64(it.DiscountFee),
		}
	}
	if len(o.RefundList) > 0 {
		out.Refunds = make([]OrderRefund, 0, len(o.RefundList))
		for _, r := range o.RefundList {
			out.Refunds = append(out.Refunds, OrderRefund{
				RefundID: int64(r.RefundID), Status: RefundStatus(r.RefundStatus), HandlingWay: RefundHandlingWay(r.HandlingWay),
			})
		}
	}
	if len(o.LogisticsInfo) > 0 {
		out.Logistics = make([]OrderLogistics, 0, len(o.LogisticsInfo))
		for _, l := range o.LogisticsInfo {
			out.Logistics = append(out.Logistics, OrderLogistics{
				LogisticsID: int64(l.LogisticsID), ExpressCode: int64(l.ExpressCode), ExpressNo: string(l.ExpressNo),
			})
		}
	}
	if notes := o.Note.OrderNoteInfo; len(notes) > 0 {
		out.Notes = make([]OrderNote, 0, len(notes))
		for _, n := range notes {
			out.Notes = append(out.Notes, OrderNote{Note: string(n.Note), Flag: int32(n.Flag), CreateTime: msTime(n.CreateTime)})
		}
	}
	if a := o.Address; a != nil {
		out.Address = &OrderAddress{
			Province: string(a.Province), City: string(a.City), District: string(a.District), Town: string(a.Town),
			MaskedConsignee: string(a.DesensitiseConsignee), MaskedMobile: string(a.DesensitiseMobile), MaskedAddress: string(a.DesensitiseAddress),
			EncryptedConsignee: string(a.EncryptedConsignee), EncryptedMobile: string(a.EncryptedMobile), EncryptedAddress: string(a.EncryptedAddress),
		}
	}
	return out
}

// OrderQuery selects orders by time and status.
type OrderQuery struct {
	// Start and End bound the range [Start, End) of TimeField. A zero End
	// is now, a zero Start is End - OrderWindow. Start must lie within
	// Lookback.
	Start, End time.Time
	TimeField  TimeField
	Status     OrderStatus // OrderStatusAny: every status
}

// orderWalker walks open.order.cursor.list for q.
func (s Shop) orderWalker(q OrderQuery, dir Direction) walker[Order] {
	queryType := q.TimeField.queryType()
	view := orderViewStatus[q.Status]
	timeOf := func(o Order) int64 { return o.CreateTime.UnixMilli() }
	if q.TimeField == ByUpdateTime {
		timeOf = func(o Order) int64 { return o.UpdateTime.UnixMilli() }
	}
	return walker[Order]{
		window:  OrderWindow,
		maxPage: orderPageMax,
		dir:     dir,
		timeOf:  timeOf,
		fetch: func(ctx context.Context, win span, cursor string, size int) ([]Order, string, error) {
			resp, err := s.read(ctx, apiOrderList, map[string]any{
				"orderViewStatus": view, "pageSize": size, "sort": dir.sort(), "queryType": queryType,
				"beginTime": win.Begin, "endTime": win.End, "cursor": cursor,
			})
			if err != nil {
				return nil, "", err
			}
			var data struct {
				Cursor    str             `json:"cursor"`
				OrderList []platformOrder `json:"orderList"`
			}
			if err := decodeData(resp, apiOrderList, &data); err != nil {
				return nil, "", err
			}
			raws, err := rawElements(resp.Data, "orderList", len(data.OrderList))
			if err != nil {
				return nil, "", badData(resp, apiOrderList, err)
			}
			out := make([]Order, len(data.OrderList))
			for i := range data.OrderList {
				out[i] = data.OrderList[i].order(raws[i])
			}
			return out, string(data.Cursor), nil
		},
	}
}

// ListOrders returns one page of the orders of q, newest first, walking
// the platform's 7-day windows behind the page token.
func (s Shop) ListOrders(ctx context.Context, q OrderQuery, p Page) (Listing[Order], error) {
	w := s.orderWalker(q, NewestFirst)
	filter := filterHash("orders", s.OpenID, tsKey(q.Start), tsKey(q.End),
		strconv.Itoa(q.TimeField.queryType()), strconv.Itoa(orderViewStatus[q.Status]))
	orders, next, err := listWindows(ctx, w, filter, p.Token, q.Start, q.End, s.now(), p.size())
	if err != nil {
		return Listing[Order]{}, err
	}
	return Listing[Order]{Items: orders, NextPageToken: next}, nil
}

// WalkOrders hands every order of q to fn, window by window in direction
// dir, one platform page per call. It stops at fn's first error and
// returns it.
func (s Shop) WalkOrders(ctx context.Context, q OrderQuery, dir Direction, fn func(Batch[Order]) error) error {
	return walkRange(ctx, s.orderWalker(q, dir), q.Start, q.End, s.now(), fn)
}

// GetOrder reads open.order.detail.
func (s Shop) GetOrder(ctx context.Context, orderID int64) (Order, error) {
	resp, err := s.read(ctx, apiOrderDetail, map[string]any{"oid": orderID})
	if err != nil {
		return Order{}, err
	}
	o, err := decodeOrder(resp.Data)
	if err != nil {
		return Order{}, badData(resp, apiOrderDetail, err)
	}
	return o, nil
}

// Shipment ships an order.
type Shipment struct {
	OrderID     int64
	ExpressCode int64 // the platform's carrier code, e.g. 4 for SF Express
	ExpressNo   string
	// ReturnAddressID (optional) is the seller address returns go to.
	ReturnAddressID int64
}

// ShipOrder sends open.seller.order.goods.deliver and returns the
// platform's request id.
func (s Shop) ShipOrder(ctx context.Context, sh Shipment) (string, error) {
	p := map[string]any{"orderId": sh.OrderID, "expressCode": sh.ExpressCode, "expressNo": sh.ExpressNo}
	if sh.ReturnAddressID != 0 {
		p["returnAddressId"] = sh.ReturnAddressID
	}
	return s.writeID(ctx, apiOrderDeliver, p)
}

// TrackingUpdate changes a shipment's tracking data.
type TrackingUpdate struct {
	OrderID     int64
	ExpressCode int64
	ExpressNo   string
	// LogisticsID (optional) names the shipment of a split order.
	LogisticsID int64
}

// UpdateOrderLogistics sends open.seller.order.logistics.update and
// returns the platform's request id.
func (s Shop) UpdateOrderLogistics(ctx context.Context, u TrackingUpdate) (string, error) {
	p := map[string]any{"orderId": u.OrderID, "expressCode": u.ExpressCode, "expressNo": u.ExpressNo}
	if u.LogisticsID != 0 {
		p["logisticsId"] = u.LogisticsID
	}
	return s.writeID(ctx, apiOrderLogistics, p)
}

// CloseOrder sends open.seller.order.close and returns the platform's
// request id.
func (s Shop) CloseOrder(ctx context.Context, orderID int64) (string, error) {
	return s.writeID(ctx, apiOrderClose, map[string]any{"orderId": orderID})
}

// SellerNote is a note a seller adds to an order.
type SellerNote struct {
	OrderID int64
	Note    string
	Flag    int32 // the platform's colour flag
	StaffID int64 // optional
}

// AddOrderNote sends open.seller.order.note.add and returns the platform's
// request id.
func (s Shop) AddOrderNote(ctx context.Context, n SellerNote) (string, error) {
	p := map[string]any{"orderId": n.OrderID, "note": n.Note, "flag": n.Flag}
	if n.StaffID != 0 {
		p["staffId"] = n.StaffID
	}
	return s.writeID(ctx, apiOrderNote, p)
}
