package commerce

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// After-sale APIs.
const (
	apiRefundList          = "open.seller.order.refund.pcursor.list"
	apiRefundDetail        = "open.seller.order.refund.detail"
	apiRefundApprove       = "open.seller.order.refund.approve"
	apiRefundReject        = "open.refund.reject"
	apiRefundRejectReasons = "open.refund.reject.reason"
	apiRefundReturnApprove = "open.seller.order.refund.returngoods.approve"
	apiRefundConfirmRecv   = "open.seller.order.refund.confirm.receipt"

	// RefundWindow is the longest range the refund list answers.
	RefundWindow  = 24 * time.Hour
	refundPageMax = 100
	// pcursor.list type: 8 waiting for someone, 9 all.
	refundTypeWaiting = 8
	refundTypeAll     = 9
)

// platformRefund is the part of the platform's after-sale JSON the proto
// models (list entries and details share it).
type platformRefund struct {
	RefundID         i64 `json:"refundId"`
	Oid              i64 `json:"oid"`
	OrderID          i64 `json:"orderId"` // some answers and messages say orderId
	Status           i64 `json:"status"`
	HandlingWay      i64 `json:"handlingWay"`
	NegotiateStatus  i64 `json:"negotiateStatus"`
	RefundFee        i64 `json:"refundFee"`
	ItemID           i64 `json:"itemId"`
	SkuID            i64 `json:"skuId"`
	SkuNick          str `json:"skuNick"`
	ProductNum       i64 `json:"productNum"`
	BuyerOpenID      str `json:"buyerOpenId"`
	RefundReason     i64 `json:"refundReason"`
	RefundReasonDesc str `json:"refundReasonDesc"`
	RefundDesc       str `json:"refundDesc"`
	CreateTime       i64 `json:"createTime"`
	UpdateTime       i64 `json:"updateTime"`
	ExpireTime       i64 `json:"expireTime"`
	EndTime          i64 `json:"endTime"`
	LogisticsInfo    *struct {
		ExpressNo   str `json:"expressNo"`
		ExpressCode i64 `json:"expressCode"`
	} `json:"logisticsInfo"`
}

// RefundProto converts one platform after-sale object.
func RefundProto(raw json.RawMessage) (*gatewayv1.Refund, error) {
	var r platformRefund
	if err := decode(raw, &r); err != nil {
		return nil, err
	}
	oid := r.Oid
	if oid == 0 {
		oid = r.OrderID
	}
	out := &gatewayv1.Refund{
		RefundId:        int64(r.RefundID),
		OrderId:         int64(oid),
		Status:          gatewayv1.RefundStatus(r.Status),
		HandlingWay:     gatewayv1.RefundHandlingWay(r.HandlingWay),
		NegotiateStatus: gatewayv1.RefundNegotiateStatus(r.NegotiateStatus),
		RefundFen:       int64(r.RefundFee),
		ItemId:          int64(r.ItemID),
		SkuId:           int64(r.SkuID),
		SkuNick:         string(r.SkuNick),
		Quantity:        int64(r.ProductNum),
		BuyerOpenId:     string(r.BuyerOpenID),
		ReasonCode:      int32(r.RefundReason),
		Reason:          string(r.RefundReasonDesc),
		Description:     string(r.RefundDesc),
		CreateTime:      msTime(r.CreateTime),
		UpdateTime:      msTime(r.UpdateTime),
		ExpireTime:      msTime(r.ExpireTime),
		EndTime:         msTime(r.EndTime),
		Version:         int64(r.UpdateTime),
		Raw:             rawString(raw),
	}
	if l := r.LogisticsInfo; l != nil && (l.ExpressNo != "" || l.ExpressCode != 0) {
		out.ReturnLogistics = &gatewayv1.ReturnLogistics{ExpressCode: int64(l.ExpressCode), ExpressNo: string(l.ExpressNo)}
	}
	return out, nil
}

type refundRecord struct {
	raw json.RawMessage
	t   int64
}

// ListRefunds pages through open.seller.order.refund.pcursor.list (see
// RefundService.ListRefunds).
func (s Shop) ListRefunds(ctx context.Context, req *gatewayv1.ListRefundsRequest) (*gatewayv1.ListRefundsResponse, error) {
	queryType := 1
	if req.GetTimeField() == gatewayv1.RefundTimeField_REFUND_TIME_FIELD_UPDATE_TIME {
		queryType = 2
	}
	typ := refundTypeAll
	if req.GetPendingOnly() {
		typ = refundTypeWaiting
	}
	status := int(req.GetStatus())
	w := walker[refundRecord]{
		window:  RefundWindow,
		maxPage: refundPageMax,
		timeOf:  func(r refundRecord) int64 { return r.t },
		fetch: func(ctx context.Context, win span, cursor string, size int) ([]refundRecord, string, error) {
			p := map[string]any{
				"beginTime": win.Begin, "endTime": win.End, "type": typ, "pageSize": size, "currentPage": 1,
				"sort": 1, "queryType": queryType, "pcursor": cursor,
			}
			if status != 0 {
				p["status"] = status
			}
			resp, err := s.read(ctx, apiRefundList, p)
			if err != nil {
				return nil, "", err
			}
			var data struct {
				Pcursor str               `json:"pcursor"`
				List    []json.RawMessage `json:"refundOrderInfoList"`
			}
			if err := decodeData(resp, apiRefundList, &data); err != nil {
				return nil, "", err
			}
			recs := make([]refundRecord, 0, len(data.List))
			for _, raw := range data.List {
				var t struct {
					CreateTime i64 `json:"createTime"`
					UpdateTime i64 `json:"updateTime"`
				}
				if err := decode(raw, &t); err != nil {
					return nil, "", badData(resp, apiRefundList, err)
				}
				rt := t.CreateTime
				if queryType == 2 {
					rt = t.UpdateTime
				}
				recs = append(recs, refundRecord{raw: raw, t: int64(rt)})
			}
			return recs, string(data.Pcursor), nil
		},
	}
	filter := filterHash("refunds", s.OpenID, tsKey(req.GetStartTime()), tsKey(req.GetEndTime()),
		strconv.Itoa(queryType), strconv.Itoa(typ), strconv.Itoa(status))
	recs, next, err := listWindows(ctx, w, filter, req.GetPageToken(), req.GetStartTime(), req.GetEndTime(), s.now(), pageSize(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &gatewayv1.ListRefundsResponse{Refunds: make([]*gatewayv1.Refund, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		rf, err := RefundProto(r.raw)
		if err != nil {
			return nil, err
		}
		out.Refunds = append(out.Refunds, rf)
	}
	return out, nil
}

// GetRefund reads open.seller.order.refund.detail.
func (s Shop) GetRefund(ctx context.Context, req *gatewayv1.GetRefundRequest) (*gatewayv1.GetRefundResponse, error) {
	resp, err := s.read(ctx, apiRefundDetail, map[string]any{"refundId": req.GetRefundId()})
	if err != nil {
		return nil, err
	}
	rf, err := RefundProto(resp.Data)
	if err != nil {
		return nil, badData(resp, apiRefundDetail, err)
	}
	return &gatewayv1.GetRefundResponse{Refund: rf}, nil
}

// ApproveRefund sends open.seller.order.refund.approve.
func (s Shop) ApproveRefund(ctx context.Context, req *gatewayv1.ApproveRefundRequest) (*gatewayv1.ApproveRefundResponse, error) {
	p := map[string]any{"refundId": req.GetRefundId(), "refundAmount": req.GetRefundAmountFen()}
	if req.GetDescription() != "" {
		p["desc"] = req.GetDescription()
	}
	if req.GetExpectedStatus() != gatewayv1.RefundStatus_REFUND_STATUS_UNSPECIFIED {
		p["status"] = int32(req.GetExpectedStatus())
	}
	resp, err := s.write(ctx, apiRefundApprove, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.ApproveRefundResponse{RefundId: req.GetRefundId(), PlatformRequestId: resp.RequestID}, nil
}

// RejectRefund sends open.refund.reject.
func (s Shop) RejectRefund(ctx context.Context, req *gatewayv1.RejectRefundRequest) (*gatewayv1.RejectRefundResponse, error) {
	p := map[string]any{"refundId": req.GetRefundId(), "reasonCode": req.GetReasonCode(), "refundVersion": req.GetRefundVersion()}
	if req.GetDescription() != "" {
		p["rejectDesc"] = req.GetDescription()
	}
	if len(req.GetImageUrls()) > 0 {
		p["rejectImages"] = req.GetImageUrls()
	}
	resp, err := s.write(ctx, apiRefundReject, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.RejectRefundResponse{RefundId: req.GetRefundId(), PlatformRequestId: resp.RequestID}, nil
}

// ListRefundRejectReasons reads open.refund.reject.reason.
func (s Shop) ListRefundRejectReasons(ctx context.Context, req *gatewayv1.ListRefundRejectReasonsRequest) (*gatewayv1.ListRefundRejectReasonsResponse, error) {
	resp, err := s.read(ctx, apiRefundRejectReasons, map[string]any{"refundId": req.GetRefundId()})
	if err != nil {
		return nil, err
	}
	items, err := list(resp.Data, "rejectReasonList", "reasonList", "reasons", "rejectReasons", "list")
	if err != nil {
		return nil, badData(resp, apiRefundRejectReasons, err)
	}
	out := &gatewayv1.ListRefundRejectReasonsResponse{Reasons: make([]*gatewayv1.RefundRejectReason, 0, len(items)), Raw: rawString(resp.Data)}
	for _, raw := range items {
		var r struct {
			ReasonCode i64 `json:"reasonCode"`
			Code       i64 `json:"code"`
			ReasonDesc str `json:"reasonDesc"`
			Desc       str `json:"desc"`
			Reason     str `json:"reason"`
		}
		if err := decode(raw, &r); err != nil {
			return nil, badData(resp, apiRefundRejectReasons, err)
		}
		code, desc := r.ReasonCode, r.ReasonDesc
		if code == 0 {
			code = r.Code
		}
		for _, d := range []str{r.Desc, r.Reason} {
			if desc == "" {
				desc = d
			}
		}
		out.Reasons = append(out.Reasons, &gatewayv1.RefundRejectReason{Code: int32(code), Description: string(desc)})
	}
	return out, nil
}

// ApproveReturn sends open.seller.order.refund.returngoods.approve.
func (s Shop) ApproveReturn(ctx context.Context, req *gatewayv1.ApproveReturnRequest) (*gatewayv1.ApproveReturnResponse, error) {
	p := map[string]any{"refundId": req.GetRefundId(), "refundAmount": req.GetRefundAmountFen()}
	if req.GetAddressId() != 0 {
		p["addressId"] = req.GetAddressId()
	}
	resp, err := s.write(ctx, apiRefundReturnApprove, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.ApproveReturnResponse{RefundId: req.GetRefundId(), PlatformRequestId: resp.RequestID}, nil
}

// ConfirmReturnReceipt sends open.seller.order.refund.confirm.receipt.
func (s Shop) ConfirmReturnReceipt(ctx context.Context, req *gatewayv1.ConfirmReturnReceiptRequest) (*gatewayv1.ConfirmReturnReceiptResponse, error) {
	p := map[string]any{"refundId": req.GetRefundId()}
	if req.GetExpectedStatus() != gatewayv1.RefundStatus_REFUND_STATUS_UNSPECIFIED {
		p["status"] = int32(req.GetExpectedStatus())
	}
	if err := checkFreight(req); err != nil {
		return nil, err
	}
	switch req.GetReturnFreightDecision() {
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE:
		p["returnFreightHandlingAdvice"] = 1
		p["returnFreightAmount"] = req.GetReturnFreightAmountFen()
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_REJECT:
		p["returnFreightHandlingAdvice"] = 2
		p["returnFreightRejectDesc"] = req.GetReturnFreightRejectDescription()
		if len(req.GetReturnFreightRejectImageUrls()) > 0 {
			p["returnFreightRejectImages"] = req.GetReturnFreightRejectImageUrls()
		}
	}
	resp, err := s.write(ctx, apiRefundConfirmRecv, p)
	if err != nil {
		return nil, err
	}
	return &gatewayv1.ConfirmReturnReceiptResponse{RefundId: req.GetRefundId(), PlatformRequestId: resp.RequestID}, nil
}

// checkFreight enforces the platform's rules for the return-freight fields
// of confirm.receipt: an amount when agreeing, a reason when rejecting,
// nothing without a decision.
func checkFreight(req *gatewayv1.ConfirmReturnReceiptRequest) error {
	amount, desc := req.GetReturnFreightAmountFen(), req.GetReturnFreightRejectDescription()
	imgs := len(req.GetReturnFreightRejectImageUrls())
	switch req.GetReturnFreightDecision() {
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE:
		if amount <= 0 {
			return &FieldError{"return_freight_amount_fen", "is required when agreeing to pay the return freight"}
		}
		if desc != "" || imgs > 0 {
			return &FieldError{"return_freight_reject_description", "must be empty when agreeing to pay the return freight"}
		}
	case gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_REJECT:
		if desc == "" {
			return &FieldError{"return_freight_reject_description", "is required when refusing the return freight"}
		}
		if amount != 0 {
			return &FieldError{"return_freight_amount_fen", "must be 0 when refusing the return freight"}
		}
	default:
		if amount != 0 || desc != "" || imgs > 0 {
			return &FieldError{"return_freight_decision", "is required when return freight fields are set"}
		}
	}
	return nil
}
