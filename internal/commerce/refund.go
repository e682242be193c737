package commerce

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
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

// RefundStatus is the platform's after-sale status (10 refund requested
// ... 60 succeeded, 70 closed). Values the gateway does not know pass
// through as their number; 0 is unset (as a filter: every status).
type RefundStatus int32

// RefundHandlingWay is how an after-sale request is handled (1 return and
// refund, 3 exchange, 10 refund only).
type RefundHandlingWay int32

// RefundNegotiateStatus is the state of a negotiation on the request (1
// pending, 2 agreed, 3 rejected).
type RefundNegotiateStatus int32

// Refund is one after-sale record. Zero times are unset.
type Refund struct {
	ID              int64
	OrderID         int64
	Status          RefundStatus
	HandlingWay     RefundHandlingWay
	NegotiateStatus RefundNegotiateStatus
	RefundFen       int64
	ItemID          int64
	SkuID           int64
	SkuNick         string
	Quantity        int64
	BuyerOpenID     string
	ReasonCode      int32
	Reason          string
	Description     string
	CreateTime      time.Time
	UpdateTime      time.Time
	ExpireTime      time.Time
	EndTime         time.Time
	// Version is the platform's refundVersion (its update time in ms), which
	// RejectRefund must echo.
	Version int64
	// ReturnLogistics is the buyer's return shipment; nil when none.
	ReturnLogistics *ReturnLogistics
	// SellerID and SpecialRefundType are the platform's sellerId and
	// specialRefundType where it includes them.
	SellerID          int64
	SpecialRefundType int64
	// Raw is the platform's JSON of the record, compact.
	Raw string
}

// ReturnLogistics is the buyer's return shipment.
type ReturnLogistics struct {
	ExpressCode int64
	ExpressNo   string
}

// platformRefund is the part of the platform's after-sale JSON the gateway
// models (list entries and details share it).
type platformRefund struct {
	RefundID          i64 `json:"refundId"`
	Oid               i64 `json:"oid"`
	OrderID           i64 `json:"orderId"` // some answers and messages say orderId
	Status            i64 `json:"status"`
	HandlingWay       i64 `json:"handlingWay"`
	NegotiateStatus   i64 `json:"negotiateStatus"`
	RefundFee         i64 `json:"refundFee"`
	ItemID            i64 `json:"itemId"`
	SkuID             i64 `json:"skuId"`
	SkuNick           str `json:"skuNick"`
	ProductNum        i64 `json:"productNum"`
	BuyerOpenID       str `json:"buyerOpenId"`
	SellerID          i64 `json:"sellerId"`
	SpecialRefundType i64 `json:"specialRefundType"`
	RefundReason      i64 `json:"refundReason"`
	RefundReasonDesc  str `json:"refundReasonDesc"`
	RefundDesc        str `json:"refundDesc"`
	CreateTime        i64 `json:"createTime"`
	UpdateTime        i64 `json:"updateTime"`
	ExpireTime        i64 `json:"expireTime"`
	EndTime           i64 `json:"endTime"`
	LogisticsInfo     *struct {
		ExpressNo   str `json:"expressNo"`
		ExpressCode i64 `json:"expressCode"`
	} `json:"logisticsInfo"`
}

// decodeRefund decodes one platform after-sale object.
func decodeRefund(raw []byte) (Refund, error) {
	var v platformRefund
	if err := decode(raw, &v); err != nil {
		return Refund{}, err
	}
	return v.refund(rawString(raw)), nil
}

// refund converts the decoded JSON; raw is its compact text.
func (r *platformRefund) refund(raw string) Refund {
	oid := r.Oid
	if oid == 0 {
		oid = r.OrderID
	}
	out := Refund{
		ID:                int64(r.RefundID),
		OrderID:           int64(oid),
		Status:            RefundStatus(r.Status),
		HandlingWay:       RefundHandlingWay(r.HandlingWay),
		NegotiateStatus:   RefundNegotiateStatus(r.NegotiateStatus),
		RefundFen:         int64(r.RefundFee),
		ItemID:            int64(r.ItemID),
		SkuID:             int64(r.SkuID),
		SkuNick:           string(r.SkuNick),
		Quantity:          int64(r.ProductNum),
		BuyerOpenID:       string(r.BuyerOpenID),
		ReasonCode:        int32(r.RefundReason),
		Reason:            string(r.RefundReasonDesc),
		Description:       string(r.RefundDesc),
		CreateTime:        msTime(r.CreateTime),
		UpdateTime:        msTime(r.UpdateTime),
		ExpireTime:        msTime(r.ExpireTime),
		EndTime:           msTime(r.EndTime),
		Version:           int64(r.UpdateTime),
		SellerID:          int64(r.SellerID),
		SpecialRefundType: int64(r.SpecialRefundType),
		Raw:               raw,
	}
	if l := r.LogisticsInfo; l != nil && (l.ExpressNo != "" || l.ExpressCode != 0) {
		out.ReturnLogistics = &ReturnLogistics{ExpressCode: int64(l.ExpressCode), ExpressNo: string(l.ExpressNo)}
	}
	return out
}

// RefundQuery selects after-sale records by time and status.
type RefundQuery struct {
	// Start and End bound the range [Start, End) of TimeField. A zero End
	// is now, a zero Start is End - RefundWindow. Start must lie within
	// Lookback.
	Start, End time.Time
	TimeField  TimeField
	Status     RefundStatus // 0: every status
	// PendingOnly keeps the records waiting for someone to act.
	PendingOnly bool
}

// refundWalker walks open.seller.order.refund.pcursor.list for q.
func (s Shop) refundWalker(q RefundQuery, dir Direction) walker[Refund] {
	queryType := q.TimeField.queryType()
	typ := refundTypeAll
	if q.PendingOnly {
		typ = refundTypeWaiting
	}
	status := int(q.Status)
	timeOf := func(r Refund) int64 { return r.CreateTime.UnixMilli() }
	if q.TimeField == ByUpdateTime {
		timeOf = func(r Refund) int64 { return r.UpdateTime.UnixMilli() }
	}
	return walker[Refund]{
		window:  RefundWindow,
		maxPage: refundPageMax,
		dir:     dir,
		timeOf:  timeOf,
		fetch: func(ctx context.Context, win span, cursor string, size int) ([]Refund, string, error) {
			p := map[string]any{
				"beginTime": win.Begin, "endTime": win.End, "type": typ, "pageSize": size, "currentPage": 1,
				"sort": dir.sort(), "queryType": queryType, "pcursor": cursor,
			}
			if status != 0 {
				p["status"] = status
			}
			resp, err := s.read(ctx, apiRefundList, p)
			if err != nil {
				return nil, "", err
			}
			var data struct {
				Pcursor str              `json:"pcursor"`
				List    []platformRefund `json:"refundOrderInfoList"`
			}
			if err := decodeData(resp, apiRefundList, &data); err != nil {
				return nil, "", err
			}
			raws, err := rawElements(resp.Data, "refundOrderInfoList", len(data.List))
			if err != nil {
				return nil, "", badData(resp, apiRefundList, err)
			}
			out := make([]Refund, len(data.List))
			for i := range data.List {
				out[i] = data.List[i].refund(raws[i])
			}
			return out, string(data.Pcursor), nil
		},
	}
}

// ListRefunds returns one page of the after-sale records of q, newest
// first, walking the platform's 1-day windows behind the page token.
func (s Shop) ListRefunds(ctx context.Context, q RefundQuery, p Page) (Listing[Refund], error) {
	typ := refundTypeAll
	if q.PendingOnly {
		typ = refundTypeWaiting
	}
	filter := filterHash("refunds", s.OpenID, tsKey(q.Start), tsKey(q.End),
		strconv.Itoa(q.TimeField.queryType()), strconv.Itoa(typ), strconv.Itoa(int(q.Status)))
	refunds, next, err := listWindows(ctx, s.refundWalker(q, NewestFirst), filter, p.Token, q.Start, q.End, s.now(), p.size())
	if err != nil {
		return Listing[Refund]{}, err
	}
	return Listing[Refund]{Items: refunds, NextPageToken: next}, nil
}

// WalkRefunds hands every after-sale record of q to fn, window by window
// in direction dir, one platform page per call. It stops at fn's first
// error and returns it.
func (s Shop) WalkRefunds(ctx context.Context, q RefundQuery, dir Direction, fn func(Batch[Refund]) error) error {
	return walkRange(ctx, s.refundWalker(q, dir), q.Start, q.End, s.now(), fn)
}

// GetRefund reads open.seller.order.refund.detail.
func (s Shop) GetRefund(ctx context.Context, refundID int64) (Refund, error) {
	resp, err := s.read(ctx, apiRefundDetail, map[string]any{"refundId": refundID})
	if err != nil {
		return Refund{}, err
	}
	rf, err := decodeRefund(resp.Data)
	if err != nil {
		return Refund{}, badData(resp, apiRefundDetail, err)
	}
	return rf, nil
}

// RefundApproval approves a refund-only request.
type RefundApproval struct {
	RefundID    int64
	AmountFen   int64
	Description string // optional: the seller's remark
	// ExpectedStatus (optional) makes the platform refuse the approval
	// unless the request is in this status.
	ExpectedStatus RefundStatus
}

// ApproveRefund sends open.seller.order.refund.approve and returns the
// platform's request id.
func (s Shop) ApproveRefund(ctx context.Context, a RefundApproval) (string, error) {
	p := map[string]any{"refundId": a.RefundID, "refundAmount": a.AmountFen}
	if a.Description != "" {
		p["desc"] = a.Description
	}
	if a.ExpectedStatus != 0 {
		p["status"] = int32(a.ExpectedStatus)
	}
	return s.writeID(ctx, apiRefundApprove, p)
}

// RefundRejection rejects an after-sale request.
type RefundRejection struct {
	RefundID    int64
	ReasonCode  int32 // one of ListRefundRejectReasons
	Version     int64 // the record's Version
	Description string
	ImageURLs   []string
}

// RejectRefund sends open.refund.reject and returns the platform's request
// id.
func (s Shop) RejectRefund(ctx context.Context, r RefundRejection) (string, error) {
	p := map[string]any{"refundId": r.RefundID, "reasonCode": r.ReasonCode, "refundVersion": r.Version}
	if r.Description != "" {
		p["rejectDesc"] = r.Description
	}
	if len(r.ImageURLs) > 0 {
		p["rejectImages"] = r.ImageURLs
	}
	return s.writeID(ctx, apiRefundReject, p)
}

// RejectReason is a reason a seller may give to reject a request.
type RejectReason struct {
	Code        int32
	Description string
	// RequiresDescription and RequiresImage say whether a rejection with
	// this reason must carry a description or an image.
	RequiresDescription bool
	RequiresImage       bool
	// Tip is the platform's advice on the reason; empty when none.
	Tip string
}

// platformRejectReason is one entry of open.refund.reject.reason's data
// (the catalog's MerchantRefundRejectReasonView).
type platformRejectReason struct {
	Code                i64  `json:"code"`
	Desc                str  `json:"desc"`
	RequiredRejectDesc  flag `json:"requiredRejectDesc"`
	RequiredRejectImage flag `json:"requiredRejectImage"`
	Tip                 str  `json:"tip"`
}

// ListRefundRejectReasons reads open.refund.reject.reason, whose data is
// the list of reasons. raw is the platform's data, compact.
func (s Shop) ListRefundRejectReasons(ctx context.Context, refundID int64) (reasons []RejectReason, raw string, err error) {
	resp, err := s.read(ctx, apiRefundRejectReasons, map[string]any{"refundId": refundID})
	if err != nil {
		return nil, "", err
	}
	var data []platformRejectReason
	if err := decodeData(resp, apiRefundRejectReasons, &data); err != nil {
		return nil, "", err
	}
	reasons = make([]RejectReason, 0, len(data))
	for _, r := range data {
		if r.Code < math.MinInt32 || r.Code > math.MaxInt32 {
			return nil, "", badData(resp, apiRefundRejectReasons, fmt.Errorf("reason code %d is out of range", r.Code))
		}
		reasons = append(reasons, RejectReason{
			Code: int32(r.Code), Description: string(r.Desc), RequiresDescription: bool(r.RequiredRejectDesc),
			RequiresImage: bool(r.RequiredRejectImage), Tip: string(r.Tip),
		})
	}
	return reasons, rawString(resp.Data), nil
}

// ReturnApproval approves a return: the buyer may send the goods back.
type ReturnApproval struct {
	RefundID  int64
	AmountFen int64
	AddressID int64 // optional: the seller address the goods go back to
}

// ApproveReturn sends open.seller.order.refund.returngoods.approve and
// returns the platform's request id.
func (s Shop) ApproveReturn(ctx context.Context, a ReturnApproval) (string, error) {
	p := map[string]any{"refundId": a.RefundID, "refundAmount": a.AmountFen}
	if a.AddressID != 0 {
		p["addressId"] = a.AddressID
	}
	return s.writeID(ctx, apiRefundReturnApprove, p)
}

// FreightDecision is the seller's answer to a return-freight claim.
type FreightDecision int8

// Freight decisions.
const (
	FreightNone   FreightDecision = iota // no decision: no freight fields
	FreightAgree                         // pay the buyer's return freight
	FreightReject                        // refuse it, with a reason
)

// ReturnReceipt confirms that returned goods arrived.
type ReturnReceipt struct {
	RefundID int64
	// ExpectedStatus (optional) makes the platform refuse the confirmation
	// unless the request is in this status.
	ExpectedStatus RefundStatus
	Freight        FreightDecision
	// FreightAmountFen is required when agreeing, 0 otherwise.
	FreightAmountFen int64
	// FreightRejectDescription is required when refusing, empty otherwise;
	// FreightRejectImageURLs may back it.
	FreightRejectDescription string
	FreightRejectImageURLs   []string
}

// ConfirmReturnReceipt sends open.seller.order.refund.confirm.receipt and
// returns the platform's request id.
func (s Shop) ConfirmReturnReceipt(ctx context.Context, rr ReturnReceipt) (string, error) {
	if err := checkFreight(rr); err != nil {
		return "", err
	}
	p := map[string]any{"refundId": rr.RefundID}
	if rr.ExpectedStatus != 0 {
		p["status"] = int32(rr.ExpectedStatus)
	}
	switch rr.Freight {
	case FreightAgree:
		p["returnFreightHandlingAdvice"] = 1
		p["returnFreightAmount"] = rr.FreightAmountFen
	case FreightReject:
		p["returnFreightHandlingAdvice"] = 2
		p["returnFreightRejectDesc"] = rr.FreightRejectDescription
		if len(rr.FreightRejectImageURLs) > 0 {
			p["returnFreightRejectImages"] = rr.FreightRejectImageURLs
		}
	}
	return s.writeID(ctx, apiRefundConfirmRecv, p)
}

// checkFreight enforces the platform's rules for the return-freight fields
// of confirm.receipt: an amount when agreeing, a reason when rejecting,
// nothing without a decision.
func checkFreight(rr ReturnReceipt) error {
	amount, desc, imgs := rr.FreightAmountFen, rr.FreightRejectDescription, len(rr.FreightRejectImageURLs)
	switch rr.Freight {
	case FreightAgree:
		if amount <= 0 {
			return &FieldError{"return_freight_amount_fen", "is required when agreeing to pay the return freight"}
		}
		if desc != "" || imgs > 0 {
			return &FieldError{"return_freight_reject_description", "must be empty when agreeing to pay the return freight"}
		}
	case FreightReject:
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
