package sandbox

import (
	"slices"
	"unicode/utf8"
)

// After-sale (售后) APIs (docs/sandbox.md, Emulated APIs).

type refundListData struct {
	CurrentPage         int64     `json:"currentPage"`
	PageSize            int64     `json:"pageSize"`
	TotalPage           int64     `json:"totalPage"`
	TotalSize           int64     `json:"totalSize"`
	BeginTime           int64     `json:"beginTime"`
	EndTime             int64     `json:"endTime"`
	Pcursor             string    `json:"pcursor"`
	RefundOrderInfoList []*refund `json:"refundOrderInfoList"`
}

// refundList: open.seller.order.refund.pcursor.list. Window <= 1 day on
// create (queryType 1) or update (2) time, type 8 waiting / 9 all, optional
// status and orderId filters, pcursor paging ("" first, "nomore" at the end).
// currentPage is echoed; paging is by pcursor only.
func refundList(c *call) (any, *apiError) {
	begin, end, e := c.timeRange(refundWindowMax, "1 day")
	if e != nil {
		return nil, e
	}
	typ, e := c.intIn("type", refundTypeAll, refundTypeWaiting, refundTypeAll)
	if e != nil {
		return nil, e
	}
	pageSize, e := c.intIn("pageSize", refundPageSizeDef, 1, refundPageSizeMax)
	if e != nil {
		return nil, e
	}
	currentPage, e := c.optInt("currentPage", 1)
	if e != nil {
		return nil, e
	}
	if currentPage <= 0 {
		currentPage = 1
	}
	sortOrder, e := c.intIn("sort", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	queryType, e := c.intIn("queryType", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	status, e := c.optInt("status", 0)
	if e != nil {
		return nil, e
	}
	orderID, e := c.optInt("orderId", 0)
	if e != nil {
		return nil, e
	}
	if _, e := c.optInt("negotiateStatus", 0); e != nil {
		return nil, e
	}
	pcursor, e := c.str("pcursor")
	if e != nil {
		return nil, e
	}
	key := func(r *refund) pageKey {
		if queryType == 2 {
			return pageKey{r.UpdateTime, r.RefundID}
		}
		return pageKey{r.CreateTime, r.RefundID}
	}
	var recs []*refund
	for _, r := range c.shop.refunds {
		if t := key(r).t; t < begin || t >= end {
			continue
		}
		if (typ == refundTypeWaiting && !refundWaiting(r.Status)) || (status != 0 && int64(r.Status) != status) ||
			(orderID != 0 && r.Oid != orderID) {
			continue
		}
		recs = append(recs, r)
	}
	total := int64(len(recs))
	page, next, e := pageByKey(recs, key, sortOrder == 1, pcursor, int(pageSize))
	if e != nil {
		return nil, e
	}
	if page == nil {
		page = []*refund{}
	}
	return &refundListData{
		CurrentPage: currentPage, PageSize: pageSize, TotalSize: total, TotalPage: (total + pageSize - 1) / pageSize,
		BeginTime: begin, EndTime: end, Pcursor: next, RefundOrderInfoList: page,
	}, nil
}

// refundDetail: open.seller.order.refund.detail (param refundId). Unknown
// ids and ids of other shops answer 300011 [RC].
func refundDetail(c *call) (any, *apiError) {
	id, e := c.reqInt("refundId")
	if e != nil {
		return nil, e
	}
	r, ok := c.shop.refundByID[id]
	if !ok {
		return nil, apiErr(codeRefundAbsent, "refund %d not found", id)
	}
	return r, nil
}

// refundOf finds a refund of the calling shop (300011 otherwise [RC]).
func refundOf(c *call) (*refund, *apiError) {
	id, e := c.reqInt("refundId")
	if e != nil {
		return nil, e
	}
	r, ok := c.shop.refundByID[id]
	if !ok {
		return nil, apiErr(codeRefundAbsent, "refund %d not found", id)
	}
	return r, nil
}

var refundStatusNames = map[int]string{
	refundRequested: "买家已申请", refundArbitration: "等待平台处理", refundAwaitReturn: "等待买家退货",
	refundReturned: "等待卖家确认收货", refundAwaitExecute: "等待系统退款", refundSucceeded: "退款成功", refundClosed: "退款关闭",
}

func refundStateErr(r *refund, op string) *apiError {
	return apiErr(codeRefundState, "refund %d is %d (%s): %s is not allowed in this status", r.RefundID, r.Status, refundStatusNames[r.Status], op)
}

// refundAmount reads refundAmount (fen): required, 1..refundFee.
func refundAmount(c *call, r *refund) *apiError {
	amt, e := c.reqInt("refundAmount")
	if e != nil {
		return e
	}
	if amt < 1 || amt > r.RefundFee {
		return badParam("param.refundAmount must be between 1 and the refund's refundFee (%d fen)", r.RefundFee)
	}
	return nil
}

// refundApprove: open.seller.order.refund.approve (refundId, refundAmount,
// opt. desc, status, negotiateStatus, refundHandingWay). 10, 20 or 40 → 60.
func refundApprove(c *call) (any, *apiError) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if e := refundAmount(c, r); e != nil {
		return nil, e
	}
	for _, k := range []string{"status", "negotiateStatus", "refundHandingWay"} {
		if _, e := c.optInt(k, 0); e != nil {
			return nil, e
		}
	}
	if !slices.Contains(refundApproveFrom, r.Status) {
		return nil, refundStateErr(r, "approving the refund")
	}
	c.sb.setRefundStatusLocked(c.shop, r, refundSucceeded, refundEventAgreeRefund, c.now)
	return nil, nil
}

// refundReturnGoodsApprove: open.seller.order.refund.returngoods.approve
// (refundId, refundAmount, opt. addressId of a return address). A return
// request (handlingWay 1) in 10 → 30, the buyer now sends the goods back.
func refundReturnGoodsApprove(c *call) (any, *apiError) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if e := refundAmount(c, r); e != nil {
		return nil, e
	}
	addr, e := c.optInt("addressId", 0)
	if e != nil {
		return nil, e
	}
	if addr != 0 && !slices.ContainsFunc(c.shop.addresses, func(a *sellerAddress) bool { return a.AddressID == addr && a.AddressType == addressReturn }) {
		return nil, badParam("param.addressId %d is not a return address (addressType 2) of this shop", addr)
	}
	if r.HandlingWay != handlingReturnGoods || r.Status != refundRequested {
		return nil, refundStateErr(r, "approving the return of goods (handlingWay 1 only)")
	}
	c.sb.setRefundStatusLocked(c.shop, r, refundAwaitReturn, refundEventAgreeReturn, c.now)
	return nil, nil
}

// refundConfirmReceipt: open.seller.order.refund.confirm.receipt (refundId,
// opt. status and return-freight fields). A returned parcel (40) → 60.
func refundConfirmReceipt(c *call) (any, *apiError) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if _, e := c.optInt("status", 0); e != nil {
		return nil, e
	}
	if r.HandlingWay != handlingReturnGoods || r.Status != refundReturned {
		return nil, refundStateErr(r, "confirming receipt of the returned goods")
	}
	c.sb.setRefundStatusLocked(c.shop, r, refundSucceeded, refundEventConfirmed, c.now)
	return nil, nil
}

// refundReject: open.refund.reject (refundId, reasonCode from
// open.refund.reject.reason, refundVersion = the refund's updateTime, opt.
// rejectDesc, rejectImages[]). 10 or 40 → 20. A stale refundVersion
// answers 300014 [RC].
func refundReject(c *call) (any, *apiError) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	reason, e := c.reqInt("reasonCode")
	if e != nil {
		return nil, e
	}
	if !slices.ContainsFunc(refundRejectReasons, func(x rejectReason) bool { return int64(x.Code) == reason }) {
		return nil, badParam("param.reasonCode %d is not a reason of open.refund.reject.reason", reason)
	}
	version, e := c.reqInt("refundVersion")
	if e != nil {
		return nil, e
	}
	desc, e := c.str("rejectDesc")
	if e != nil {
		return nil, e
	}
	if utf8.RuneCountInString(desc) > 500 {
		return nil, badParam("param.rejectDesc must be at most 500 characters")
	}
	if _, e := c.strings("rejectImages"); e != nil {
		return nil, e
	}
	if version != r.UpdateTime {
		return nil, apiErr(codeRefundVersion, "refund %d has been updated (refundVersion %d, current %d): refresh and retry", r.RefundID, version, r.UpdateTime)
	}
	if !slices.Contains(refundRejectFrom, r.Status) {
		return nil, refundStateErr(r, "rejecting the refund")
	}
	c.sb.setRefundStatusLocked(c.shop, r, refundArbitration, refundEventReject, c.now)
	return nil, nil
}

// refundRejectReason: open.refund.reject.reason (refundId) lists the
// reasons a seller may give (rules.go refundRejectReasons).
func refundRejectReason(c *call) (any, *apiError) {
	if _, e := refundOf(c); e != nil {
		return nil, e
	}
	return map[string]any{"reasons": refundRejectReasons}, nil
}
