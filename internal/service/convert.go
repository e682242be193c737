package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// Converters between the commerce package's Go types and the proto
// messages, one per type. internal/commerce speaks Go; the proto messages
// exist only here, at the edge. The platform's numbers for statuses,
// handling ways and address types are the proto enums' numbers, so those
// convert by value (an unknown value passes through as its number).

// timestamp converts a time; the zero time (unset) gives nil, and so does a
// time a Timestamp cannot hold (before year 1 or after 9999 — a pushed or
// listed record may carry any number of milliseconds), which would make the
// whole answer unencodable. The record's raw JSON keeps the original.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := timestamppb.New(t)
	if ts.CheckValid() != nil {
		return nil
	}
	return ts
}

// rangeEnd converts a list range's start or end: nil is unset (the zero
// time); an invalid timestamp is refused with its field's name.
func rangeEnd(ts *timestamppb.Timestamp, field string) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, &commerce.FieldError{Field: field, Description: "must be a valid timestamp"}
	}
	t := ts.AsTime()
	if t.IsZero() { // 0001-01-01T00:00:00Z, which would read as unset
		return time.Time{}, &commerce.FieldError{Field: field, Description: "must be within the last 90 days (the platform's limit)"}
	}
	return t, nil
}

func timeField(updateTime bool) commerce.TimeField {
	if updateTime {
		return commerce.ByUpdateTime
	}
	return commerce.ByCreateTime
}

// page converts a list request's paging fields.
func page(size int32, token string) commerce.Page {
	return commerce.Page{Size: int(size), Token: token}
}

// Orders.

func orderQuery(req *gatewayv1.ListOrdersRequest) (commerce.OrderQuery, error) {
	start, err := rangeEnd(req.GetStartTime(), "start_time")
	if err != nil {
		return commerce.OrderQuery{}, err
	}
	end, err := rangeEnd(req.GetEndTime(), "end_time")
	if err != nil {
		return commerce.OrderQuery{}, err
	}
	return commerce.OrderQuery{
		Start: start, End: end,
		TimeField: timeField(req.GetTimeField() == gatewayv1.OrderTimeField_ORDER_TIME_FIELD_UPDATE_TIME),
		Status:    commerce.OrderStatus(req.GetStatus()),
	}, nil
}

func orderProto(o *commerce.Order) *gatewayv1.Order {
	out := &gatewayv1.Order{
		OrderId:          o.ID,
		Status:           gatewayv1.OrderStatus(o.Status),
		CreateTime:       timestamp(o.CreateTime),
		UpdateTime:       timestamp(o.UpdateTime),
		PayTime:          timestamp(o.PayTime),
		ShipTime:         timestamp(o.ShipTime),
		ReceiveTime:      timestamp(o.ReceiveTime),
		PromisedShipTime: timestamp(o.PromisedShipTime),
		TotalFen:         o.TotalFen,
		ExpressFeeFen:    o.ExpressFeeFen,
		DiscountFen:      o.DiscountFen,
		BuyerOpenId:      o.BuyerOpenID,
		BuyerNick:        o.BuyerNick,
		BuyerRemark:      o.BuyerRemark,
		Item:             orderItemProto(o.Item),
		Address:          orderAddressProto(o.Address),
		Raw:              o.Raw,
	}
	if len(o.Logistics) > 0 {
		out.Logistics = make([]*gatewayv1.OrderLogistics, 0, len(o.Logistics))
		for _, l := range o.Logistics {
			out.Logistics = append(out.Logistics, orderLogisticsProto(l))
		}
	}
	if len(o.Refunds) > 0 {
		out.Refunds = make([]*gatewayv1.OrderRefund, 0, len(o.Refunds))
		for _, r := range o.Refunds {
			out.Refunds = append(out.Refunds, orderRefundProto(r))
		}
	}
	if len(o.Notes) > 0 {
		out.Notes = make([]*gatewayv1.OrderNote, 0, len(o.Notes))
		for _, n := range o.Notes {
			out.Notes = append(out.Notes, orderNoteProto(n))
		}
	}
	return out
}

func orderProtos(orders []commerce.Order) []*gatewayv1.Order {
	out := make([]*gatewayv1.Order, len(orders))
	for i := range orders {
		out[i] = orderProto(&orders[i])
	}
	return out
}

func orderItemProto(it *commerce.OrderItem) *gatewayv1.OrderItem {
	if it == nil {
		return nil
	}
	return &gatewayv1.OrderItem{
		ItemId: it.ItemID, SkuId: it.SkuID, RelItemId: it.RelItemID, RelSkuId: it.RelSkuID,
		Title: it.Title, SkuDesc: it.SkuDesc, SkuNick: it.SkuNick, PictureUrl: it.PictureURL,
		Quantity: it.Quantity, PriceFen: it.PriceFen, OriginalPriceFen: it.OriginalPriceFen, DiscountFen: it.DiscountFen,
	}
}

func orderLogisticsProto(l commerce.OrderLogistics) *gatewayv1.OrderLogistics {
	return &gatewayv1.OrderLogistics{LogisticsId: l.LogisticsID, ExpressCode: l.ExpressCode, ExpressNo: l.ExpressNo}
}

func orderRefundProto(r commerce.OrderRefund) *gatewayv1.OrderRefund {
	return &gatewayv1.OrderRefund{
		RefundId: r.RefundID, Status: gatewayv1.RefundStatus(r.Status), HandlingWay: gatewayv1.RefundHandlingWay(r.HandlingWay),
	}
}

func orderNoteProto(n commerce.OrderNote) *gatewayv1.OrderNote {
	return &gatewayv1.OrderNote{Note: n.Note, Flag: n.Flag, CreateTime: timestamp(n.CreateTime)}
}

func orderAddressProto(a *commerce.OrderAddress) *gatewayv1.OrderAddress {
	if a == nil {
		return nil
	}
	return &gatewayv1.OrderAddress{
		Province: a.Province, City: a.City, District: a.District, Town: a.Town,
		MaskedConsignee: a.MaskedConsignee, MaskedMobile: a.MaskedMobile, MaskedAddress: a.MaskedAddress,
		EncryptedConsignee: a.EncryptedConsignee, EncryptedMobile: a.EncryptedMobile, EncryptedAddress: a.EncryptedAddress,
	}
}

// Refunds.

func refundQuery(req *gatewayv1.ListRefundsRequest) (commerce.RefundQuery, error) {
	start, err := rangeEnd(req.GetStartTime(), "start_time")
	if err != nil {
		return commerce.RefundQuery{}, err
	}
	end, err := rangeEnd(req.GetEndTime(), "end_time")
	if err != nil {
		return commerce.RefundQuery{}, err
	}
	return commerce.RefundQuery{
		Start: start, End: end,
		TimeField:   timeField(req.GetTimeField() == gatewayv1.RefundTimeField_REFUND_TIME_FIELD_UPDATE_TIME),
		Status:      commerce.RefundStatus(req.GetStatus()),
		PendingOnly: req.GetPendingOnly(),
	}, nil
}

func refundProto(r *commerce.Refund) *gatewayv1.Refund {
	return &gatewayv1.Refund{
		RefundId:        r.ID,
		OrderId:         r.OrderID,
		Status:          gatewayv1.RefundStatus(r.Status),
		HandlingWay:     gatewayv1.RefundHandlingWay(r.HandlingWay),
		NegotiateStatus: gatewayv1.RefundNegotiateStatus(r.NegotiateStatus),
		RefundFen:       r.RefundFen,
		ItemId:          r.ItemID,
		SkuId:           r.SkuID,
		SkuNick:         r.SkuNick,
		Quantity:        r.Quantity,
		BuyerOpenId:     r.BuyerOpenID,
		ReasonCode:      r.ReasonCode,
		Reason:          r.Reason,
		Description:     r.Description,
		CreateTime:      timestamp(r.CreateTime),
		UpdateTime:      timestamp(r.UpdateTime),
		ExpireTime:      timestamp(r.ExpireTime),
		EndTime:         timestamp(r.EndTime),
		Version:         r.Version,
		ReturnLogistics: returnLogisticsProto(r.ReturnLogistics),
		Raw:             r.Raw,
	}
}

func refundProtos(refunds []commerce.Refund) []*gatewayv1.Refund {
	out := make([]*gatewayv1.Refund, len(refunds))
	for i := range refunds {
		out[i] = refundProto(&refunds[i])
	}
	return out
}

func returnLogisticsProto(l *commerce.ReturnLogistics) *gatewayv1.ReturnLogistics {
	if l == nil {
		return nil
	}
	return &gatewayv1.ReturnLogistics{ExpressCode: l.ExpressCode, ExpressNo: l.ExpressNo}
}

func rejectReasonProto(r commerce.RejectReason) *gatewayv1.RefundRejectReason {
	return &gatewayv1.RefundRejectReason{
		Code: r.Code, Description: r.Description,
		RequiresDescription: r.RequiresDescription, RequiresImage: r.RequiresImage, Tip: r.Tip,
	}
}

func freightDecision(d gatewayv1.ReturnFreightDecision) commerce.FreightDecision {
	switch d {
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE:
		return commerce.FreightAgree
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_REJECT:
		return commerce.FreightReject
	}
	return commerce.FreightNone
}

// Items.

func itemProto(it *commerce.Item) *gatewayv1.Item {
	out := &gatewayv1.Item{
		ItemId:       it.ID,
		RelItemId:    it.RelItemID,
		Title:        it.Title,
		PriceFen:     it.PriceFen,
		ShelfStatus:  shelfStatusProto(it.ShelfStatus),
		AuditStatus:  it.AuditStatus,
		CategoryId:   it.CategoryID,
		CategoryName: it.CategoryName,
		MainImageUrl: it.MainImageURL,
		ImageUrls:    it.ImageURLs,
		CreateTime:   timestamp(it.CreateTime),
		UpdateTime:   timestamp(it.UpdateTime),
		Raw:          it.Raw,
	}
	publishedProto(it, out) // item_publish.go
	if len(it.Skus) > 0 {
		out.Skus = make([]*gatewayv1.Sku, 0, len(it.Skus))
		for _, s := range it.Skus {
			out.Skus = append(out.Skus, skuProto(s))
		}
	}
	return out
}

func skuProto(s commerce.Sku) *gatewayv1.Sku {
	return &gatewayv1.Sku{
		SkuId: s.ID, RelSkuId: s.RelSkuID, SkuNick: s.Nick, Specification: s.Specification,
		PriceFen: s.PriceFen, MarketPriceFen: s.MarketPriceFen, Stock: s.Stock, Specs: specsProto(s.Specs),
	}
}

func shelfStatusProto(s commerce.ShelfStatus) gatewayv1.ShelfStatus {
	switch s {
	case commerce.ShelfOn:
		return gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF
	case commerce.ShelfOff:
		return gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF
	}
	return gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED
}

func shelfStatus(s gatewayv1.ShelfStatus) commerce.ShelfStatus {
	switch s {
	case gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF:
		return commerce.ShelfOn
	case gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF:
		return commerce.ShelfOff
	}
	return commerce.ShelfUnknown
}

func stockChange(c gatewayv1.StockChange) commerce.StockChange {
	switch c {
	case gatewayv1.StockChange_STOCK_CHANGE_ADD:
		return commerce.StockAdd
	case gatewayv1.StockChange_STOCK_CHANGE_REDUCE:
		return commerce.StockReduce
	}
	return commerce.StockChange(c) // refused by validation before it gets here
}

// Logistics.

func expressTemplateProto(t commerce.ExpressTemplate) *gatewayv1.ExpressTemplate {
	return &gatewayv1.ExpressTemplate{TemplateId: t.ID, Name: t.Name, Raw: t.Raw}
}

func sellerAddressProto(a commerce.SellerAddress) *gatewayv1.SellerAddress {
	return &gatewayv1.SellerAddress{
		AddressId:      a.ID,
		AddressType:    gatewayv1.SellerAddressType(a.Type),
		Consignee:      a.Consignee,
		Mobile:         a.Mobile,
		Province:       a.Province,
		City:           a.City,
		District:       a.District,
		Town:           a.Town,
		Address:        a.Address,
		DefaultAddress: a.Default,
		Raw:            a.Raw,
	}
}

func waybillPackage(p *gatewayv1.WaybillPackage) commerce.WaybillPackage {
	out := commerce.WaybillPackage{
		ExpressCompanyCode:   p.GetExpressCompanyCode(),
		OrderID:              p.GetOrderId(),
		PackageCode:          p.GetPackageCode(),
		TotalPackageQuantity: p.GetTotalPackageQuantity(),
		ExpressProductCode:   p.GetExpressProductCode(),
		SettleAccount:        p.GetSettleAccount(),
		NetSiteCode:          p.GetNetSiteCode(),
		TemplateURL:          p.GetTemplateUrl(),
		Sender:               waybillContact(p.GetSender()),
		SenderAddress:        waybillAddress(p.GetSenderAddress()),
		Receiver:             waybillContact(p.GetReceiver()),
		ReceiverAddress:      waybillAddress(p.GetReceiverAddress()),
	}
	if items := p.GetItems(); len(items) > 0 {
		out.Items = make([]commerce.WaybillItem, 0, len(items))
		for _, it := range items {
			out.Items = append(out.Items, commerce.WaybillItem{Title: it.GetTitle(), Quantity: it.GetQuantity()})
		}
	}
	return out
}

func waybillContact(c *gatewayv1.WaybillContact) commerce.WaybillContact {
	return commerce.WaybillContact{Name: c.GetName(), Mobile: c.GetMobile(), Telephone: c.GetTelephone()}
}

func waybillAddress(a *gatewayv1.WaybillAddress) commerce.WaybillAddress {
	return commerce.WaybillAddress{
		Province: a.GetProvince(), City: a.GetCity(), District: a.GetDistrict(), Street: a.GetStreet(), DetailAddress: a.GetDetailAddress(),
	}
}

func waybillResultProto(r commerce.WaybillResult) *gatewayv1.WaybillResult {
	out := &gatewayv1.WaybillResult{Success: r.Success, Message: r.Message, Raw: r.Raw}
	for _, w := range r.Waybills {
		out.Waybills = append(out.Waybills, waybillProto(w))
	}
	return out
}

func waybillProto(w commerce.Waybill) *gatewayv1.Waybill {
	return &gatewayv1.Waybill{
		WaybillCode: w.Code, ParentWaybillCode: w.ParentCode, PackageCode: w.PackageCode,
		PrintData: w.PrintData, Signature: w.Signature, Key: w.Key, Version: w.Version,
	}
}

// Shop.

func shopProto(s commerce.ShopInfo) *gatewayv1.Shop {
	return &gatewayv1.Shop{OpenId: s.OpenID, Name: s.Name, ShopType: s.ShopType, Seller: sellerProto(s.Seller), Raw: s.Raw}
}

func sellerProto(s commerce.Seller) *gatewayv1.Seller {
	return &gatewayv1.Seller{SellerId: s.ID, Name: s.Name, AvatarUrl: s.AvatarURL, Raw: s.Raw}
}
