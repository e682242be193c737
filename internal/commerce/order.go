package commerce

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
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
	// orderPageMax is its page size limit ([TS]; [GO1] says 100: the
	// smaller one is safe).
	orderPageMax = 50
)

// orderViewStatus maps a status filter to the platform's orderViewStatus
// (1 all, 2 待付款, 3 待发货, 4 已发货, 5 已收货, 6 成功, 7 关闭).
var orderViewStatus = map[gatewayv1.OrderStatus]int{
	gatewayv1.OrderStatus_ORDER_STATUS_UNSPECIFIED: 1,
	gatewayv1.OrderStatus_ORDER_STATUS_UNPAID:      2,
	gatewayv1.OrderStatus_ORDER_STATUS_PAID:        3,
	gatewayv1.OrderStatus_ORDER_STATUS_SHIPPED:     4,
	gatewayv1.OrderStatus_ORDER_STATUS_RECEIVED:    5,
	gatewayv1.OrderStatus_ORDER_STATUS_SUCCEEDED:   6,
	gatewayv1.OrderStatus_ORDER_STATUS_CLOSED:      7,
}

// platformOrder is the part of the platform's order JSON the proto models.
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

// OrderProto converts one platform order object.
func OrderProto(raw json.RawMessage) (*gatewayv1.Order, error) {
	var o platformOrder
	if err := decode(raw, &o); err != nil {
		return nil, err
	}
	b := o.BaseInfo
	out := &gatewayv1.Order{
		OrderId:          int64(b.Oid),
		Status:           gatewayv1.OrderStatus(b.Status),
		CreateTime:       msTime(b.CreateTime),
		UpdateTime:       msTime(b.UpdateTime),
		PayTime:          msTime(b.PayTime),
		ShipTime:         msTime(b.SendTime),
		ReceiveTime:      msTime(b.RecvTime),
		PromisedShipTime: msTime(b.ValidPromiseShipmentTimeStamp),
		TotalFen:         int64(b.TotalFee),
		ExpressFeeFen:    int64(b.ExpressFee),
		DiscountFen:      int64(b.DiscountFee),
		BuyerOpenId:      string(b.BuyerOpenID),
		BuyerNick:        string(b.BuyerNick),
		BuyerRemark:      string(b.Remark),
		Raw:              rawString(raw),
	}
	if it := o.ItemInfo; it != nil {
		out.Item = &gatewayv1.OrderItem{
			ItemId: int64(it.ItemID), SkuId: int64(it.SkuID), RelItemId: int64(it.RelItemID), RelSkuId: int64(it.RelSkuID),
			Title: string(it.ItemTitle), SkuDesc: string(it.SkuDesc), SkuNick: string(it.SkuNick), PictureUrl: string(it.ItemPicURL),
			Quantity: int64(it.Num), PriceFen: int64(it.Price), OriginalPriceFen: int64(it.OriginalPrice), DiscountFen: int64(it.DiscountFee),
		}
	}
	for _, r := range o.RefundList {
		out.Refunds = append(out.Refunds, &gatewayv1.OrderRefund{
			RefundId: int64(r.RefundID), Status: gatewayv1.RefundStatus(r.RefundStatus), HandlingWay: gatewayv1.RefundHandlingWay(r.HandlingWay),
		})
	}
	for _, l := range o.LogisticsInfo {
		out.Logistics = append(out.Logistics, &gatewayv1.OrderLogistics{
			LogisticsId: int64(l.LogisticsID), ExpressCode: int64(l.ExpressCode), ExpressNo: string(l.ExpressNo),
		})
	}
	for _, n := range o.Note.OrderNoteInfo {
		out.Notes = append(out.Notes, &gatewayv1.OrderNote{Note: string(n.Note), Flag: int32(n.Flag), CreateTime: msTime(n.CreateTime)})
	}
	if a := o.Address; a != nil {
		out.Address = &gatewayv1.OrderAddress{
			Province: string(a.Province), City: string(a.City), District: string(a.District), Town: string(a.Town),
			MaskedConsignee: string(a.DesensitiseConsignee), MaskedMobile: string(a.DesensitiseMobile), MaskedAddress: string(a.DesensitiseAddress),
			EncryptedConsignee: string(a.EncryptedConsignee), EncryptedMobile: string(a.EncryptedMobile), EncryptedAddress: string(a.EncryptedAddress),
		}
	}
	return out, nil
}

// orderRecord is a listed order with the time the walk filters on.
type orderRecord struct {
	raw json.RawMessage
	t   int64
}

// ListOrders pages through open.order.cursor.list (see OrderService.ListOrders).
func (s Shop) ListOrders(ctx context.Context, req *gatewayv1.ListOrdersRequest) (*gatewayv1.ListOrdersResponse, error) {
	queryType := 1
	if req.GetTimeField() == gatewayv1.OrderTimeField_ORDER_TIME_FIELD_UPDATE_TIME {
		queryType = 2
	}
	view := orderViewStatus[req.GetStatus()]
	w := walker[orderRecord]{
		window:  OrderWindow,
		maxPage: orderPageMax,
		timeOf:  func(r orderRecord) int64 { return r.t },
		fetch: func(ctx context.Context, win span, cursor string, size int) ([]orderRecord, string, error) {
			resp, err := s.read(ctx, apiOrderList, map[string]any{
				"orderViewStatus": view, "pageSize": size, "sort": 1, "queryType": queryType,
				"beginTime": win.Begin, "endTime": win.End, "cursor": cursor,
			})
			if err != nil {
				return nil, "", err
			}
			var data struct {
				Cursor    str               `json:"cursor"`
				OrderList []json.RawMessage `json:"orderList"`
			}
			if err := decodeData(resp, apiOrderList, &data); err != nil {
				return nil, "", err
			}
			recs := make([]orderRecord, 0, len(data.OrderList))
			for _, raw := range data.OrderList {
				var t struct {
					B struct {
						CreateTime i64 `json:"createTime"`
						UpdateTime i64 `json:"updateTime"`
					} `json:"orderBaseInfo"`
				}
				if err := decode(raw, &t); err != nil {
					return nil, "", badData(resp, apiOrderList, err)
				}
				rt := t.B.CreateTime
				if queryType == 2 {
					rt = t.B.UpdateTime
				}
				recs = append(recs, orderRecord{raw: raw, t: int64(rt)})
			}
			return recs, string(data.Cursor), nil
		},
	}
	filter := filterHash("orders", s.OpenID, tsKey(req.GetStartTime()), tsKey(req.GetEndTime()),
		strconv.Itoa(queryType), strconv.Itoa(view))
	recs, next, err := listWindows(ctx, w, filter, req.GetPageToken(), req.GetStartTime(), req.GetEndTime(), s.now(), pageSize(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &gatewayv1.ListOrdersResponse{Orders: make([]*gatewayv1.Order, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		o, err := OrderProto(r.raw)
		if err != nil {
			return nil, err
		}
		out.Orders = append(out.Orders, o)
	}
	return out, nil
}

// GetOrder reads open.order.detail.
func (s Shop) GetOrder(ctx context.Context, req *gatewayv1.GetOrderRequest) (*gatewayv1.GetOrderResponse, error) {
	resp, err := s.read(ctx, apiOrderDetail, map[string]any{"oid": req.GetOrderId()})
	if err != nil {
		return nil, err
	}
	o, err := OrderProto(resp.Data)
	if err != nil {
		return nil, badData(resp, apiOrderDetail, err)
	}
	return &gatewayv1.GetOrderResponse{Order: o}, nil
}

// ShipOrder sends open.seller.order.goods.deliver.
func (s Shop) ShipOrder(ctx context.Context, req *gatewayv1.ShipOrderRequest) (*gatewayv1.ShipOrderResponse, error) {
	p := map[string]any{"orderId": req.GetOrderId(), "expressCode": req.GetExpressCode(), "expressNo": req.GetExpressNo()}
	if req.GetReturnAddressId() != 0 {
		p["returnAddressId"] = req.GetReturnAddressId()
	}
	resp, err := s.write(ctx, apiOrderDeliver, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.ShipOrderResponse{OrderId: req.GetOrderId(), PlatformRequestId: resp.RequestID}, nil
}

// UpdateOrderLogistics sends open.seller.order.logistics.update.
func (s Shop) UpdateOrderLogistics(ctx context.Context, req *gatewayv1.UpdateOrderLogisticsRequest) (*gatewayv1.UpdateOrderLogisticsResponse, error) {
	p := map[string]any{"orderId": req.GetOrderId(), "expressCode": req.GetExpressCode(), "expressNo": req.GetExpressNo()}
	if req.GetLogisticsId() != 0 {
		p["logisticsId"] = req.GetLogisticsId()
	}
	resp, err := s.write(ctx, apiOrderLogistics, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.UpdateOrderLogisticsResponse{OrderId: req.GetOrderId(), PlatformRequestId: resp.RequestID}, nil
}

// CloseOrder sends open.seller.order.close.
func (s Shop) CloseOrder(ctx context.Context, req *gatewayv1.CloseOrderRequest) (*gatewayv1.CloseOrderResponse, error) {
	resp, err := s.write(ctx, apiOrderClose, map[string]any{"orderId": req.GetOrderId()})
	if err != nil {
		return nil, err
	}
	return &gatewayv1.CloseOrderResponse{OrderId: req.GetOrderId(), PlatformRequestId: resp.RequestID}, nil
}

// AddOrderNote sends open.seller.order.note.add.
func (s Shop) AddOrderNote(ctx context.Context, req *gatewayv1.AddOrderNoteRequest) (*gatewayv1.AddOrderNoteResponse, error) {
	p := map[string]any{"orderId": req.GetOrderId(), "note": req.GetNote(), "flag": req.GetFlag()}
	if req.GetStaffId() != 0 {
		p["staffId"] = req.GetStaffId()
	}
	resp, err := s.write(ctx, apiOrderNote, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.AddOrderNoteResponse{OrderId: req.GetOrderId(), PlatformRequestId: resp.RequestID}, nil
}
