package emulated

import (
	"slices"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// After-sale (售后) APIs (docs/sandbox.md, Emulated APIs).

type refundListData struct {
	CurrentPage         int64          `json:"currentPage"`
	PageSize            int64          `json:"pageSize"`
	TotalPage           int64          `json:"totalPage"`
	TotalSize           int64          `json:"totalSize"`
	BeginTime           int64          `json:"beginTime"`
	EndTime             int64          `json:"endTime"`
	Pcursor             string         `json:"pcursor"`
	RefundOrderInfoList []*shop.Refund `json:"refundOrderInfoList"`
}

// refundList: open.seller.order.refund.pcursor.list. Window <= 1 day on
// create (queryType 1) or update (2) time, type 8 waiting / 9 all, optional
// status and orderId filters, pcursor paging ("" first, "nomore" at the end).
// currentPage is echoed; paging is by pcursor only.
func refundList(c *api.Call) (any, *api.Error) {
	begin, end, e := c.TimeRange(rules.RefundWindowMax, "1 day")
	if e != nil {
		return nil, e
	}
	typ, e := c.IntIn("type", rules.RefundTypeAll, rules.RefundTypeWaiting, rules.RefundTypeAll)
	if e != nil {
		return nil, e
	}
	pageSize, e := c.IntIn("pageSize", rules.RefundPageSizeDefault, 1, rules.RefundPageSizeMax)
	if e != nil {
		return nil, e
	}
	currentPage, e := c.OptInt("currentPage", 1)
	if e != nil {
		return nil, e
	}
	if currentPage <= 0 {
		currentPage = 1
	}
	sortOrder, e := c.IntIn("sort", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	queryType, e := c.IntIn("queryType", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	status, e := c.OptInt("status", 0)
	if e != nil {
		return nil, e
	}
	orderID, e := c.OptInt("orderId", 0)
	if e != nil {
		return nil, e
	}
	if _, e := c.OptInt("negotiateStatus", 0); e != nil {
		return nil, e
	}
	pcursor, e := c.Str("pcursor")
	if e != nil {
		return nil, e
	}
	key := func(r *shop.Refund) pageKey {
		if queryType == 2 {
			return pageKey{r.UpdateTime, r.RefundID}
		}
		return pageKey{r.CreateTime, r.RefundID}
	}
	var recs []*shop.Refund
	for _, r := range c.Shop.Refunds {
		if t := key(r).t; t < begin || t >= end {
			continue
		}
		if (typ == rules.RefundTypeWaiting && !rules.RefundWaiting(r.Status)) || (status != 0 && int64(r.Status) != status) ||
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
		page = []*shop.Refund{}
	}
	return &refundListData{
		CurrentPage: currentPage, PageSize: pageSize, TotalSize: total, TotalPage: (total + pageSize - 1) / pageSize,
		BeginTime: begin, EndTime: end, Pcursor: next, RefundOrderInfoList: page,
	}, nil
}

// refundDetail: open.seller.order.refund.detail (param refundId). Unknown
// ids and ids of other shops answer 300011 [RC].
func refundDetail(c *api.Call) (any, *api.Error) {
	id, e := c.ReqInt("refundId")
	if e != nil {
		return nil, e
	}
	r, ok := c.Shop.RefundByID[id]
	if !ok {
		return nil, api.Err(rules.CodeRefundAbsent, "refund %d not found", id)
	}
	return r, nil
}

// refundOf finds a refund of the calling shop (300011 otherwise [RC]).
func refundOf(c *api.Call) (*shop.Refund, *api.Error) {
	id, e := c.ReqInt("refundId")
	if e != nil {
		return nil, e
	}
	r, ok := c.Shop.RefundByID[id]
	if !ok {
		return nil, api.Err(rules.CodeRefundAbsent, "refund %d not found", id)
	}
	return r, nil
}

func refundStateErr(r *shop.Refund, op string) *api.Error {
	return api.Err(rules.CodeRefundState, "refund %d is %d (%s): %s is not allowed in this status", r.RefundID, r.Status, rules.RefundStatusNames[r.Status], op)
}

// refundAmount reads refundAmount (fen): required, 1..refundFee.
func refundAmount(c *api.Call, r *shop.Refund) *api.Error {
	amt, e := c.ReqInt("refundAmount")
	if e != nil {
		return e
	}
	if amt < 1 || amt > r.RefundFee {
		return api.BadParam("param.refundAmount must be between 1 and the refund's refundFee (%d fen)", r.RefundFee)
	}
	return nil
}

// refundApprove: open.seller.order.refund.approve (refundId, refundAmount,
// opt. desc, status, negotiateStatus, refundHandingWay). 10, 20 or 40 → 60.
func refundApprove(c *api.Call) (any, *api.Error) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if e := refundAmount(c, r); e != nil {
		return nil, e
	}
	for _, k := range []string{"status", "negotiateStatus", "refundHandingWay"} {
		if _, e := c.OptInt(k, 0); e != nil {
			return nil, e
		}
	}
	if !slices.Contains(rules.RefundApproveFrom, r.Status) {
		return nil, refundStateErr(r, "approving the refund")
	}
	c.Shop.SetRefundStatus(r, rules.RefundSucceeded, rules.RefundEventAgreeRefund, c.Now)
	return nil, nil
}

// refundReturnGoodsApprove: open.seller.order.refund.returngoods.approve
// (refundId, refundAmount, opt. addressId of a return address). A return
// request (handlingWay 1) in 10 → 30, the buyer now sends the goods back.
func refundReturnGoodsApprove(c *api.Call) (any, *api.Error) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if e := refundAmount(c, r); e != nil {
		return nil, e
	}
	addr, e := c.OptInt("addressId", 0)
	if e != nil {
		return nil, e
	}
	if addr != 0 && !slices.ContainsFunc(c.Shop.Addresses, func(a *shop.SellerAddress) bool { return a.AddressID == addr && a.AddressType == shop.AddressReturn }) {
		return nil, api.BadParam("param.addressId %d is not a return address (addressType 2) of this shop", addr)
	}
	if r.HandlingWay != rules.HandlingReturnGoods || r.Status != rules.RefundRequested {
		return nil, refundStateErr(r, "approving the return of goods (handlingWay 1 only)")
	}
	c.Shop.SetRefundStatus(r, rules.RefundAwaitReturn, rules.RefundEventAgreeReturn, c.Now)
	return nil, nil
}

// refundConfirmReceipt: open.seller.order.refund.confirm.receipt (refundId,
// opt. status and return-freight fields). A returned parcel (40) → 60.
func refundConfirmReceipt(c *api.Call) (any, *api.Error) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	if _, e := c.OptInt("status", 0); e != nil {
		return nil, e
	}
	if r.HandlingWay != rules.HandlingReturnGoods || r.Status != rules.RefundReturned {
		return nil, refundStateErr(r, "confirming receipt of the returned goods")
	}
	c.Shop.SetRefundStatus(r, rules.RefundSucceeded, rules.RefundEventConfirmed, c.Now)
	return nil, nil
}

// refundReject: open.refund.reject (refundId, reasonCode from
// open.refund.reject.reason, refundVersion = the refund's updateTime, opt.
// rejectDesc, rejectImages[]). 10 or 40 → 20. A stale refundVersion
// answers 300014 [RC].
func refundReject(c *api.Call) (any, *api.Error) {
	r, e := refundOf(c)
	if e != nil {
		return nil, e
	}
	reason, e := c.ReqInt("reasonCode")
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(rules.RefundRejectReasons, func(x rules.RejectReason) bool { return int64(x.Code) == reason })
	if i < 0 {
		return nil, api.BadParam("param.reasonCode %d is not a reason of open.refund.reject.reason", reason)
	}
	why := rules.RefundRejectReasons[i]
	version, e := c.ReqInt("refundVersion")
	if e != nil {
		return nil, e
	}
	desc, e := c.Str("rejectDesc")
	if e != nil {
		return nil, e
	}
	if utf8.RuneCountInString(desc) > 500 {
		return nil, api.BadParam("param.rejectDesc must be at most 500 characters")
	}
	images, e := c.Strings("rejectImages")
	if e != nil {
		return nil, e
	}
	switch {
	case why.RequiresDesc && desc == "":
		return nil, api.BadParam("param.rejectDesc is required with reasonCode %d", reason)
	case why.RequiresImage && len(images) == 0:
		return nil, api.BadParam("param.rejectImages is required with reasonCode %d", reason)
	}
	if version != r.UpdateTime {
		return nil, api.Err(rules.CodeRefundVersion, "refund %d has been updated (refundVersion %d, current %d): refresh and retry", r.RefundID, version, r.UpdateTime)
	}
	if !slices.Contains(rules.RefundRejectFrom, r.Status) {
		return nil, refundStateErr(r, "rejecting the refund")
	}
	c.Shop.SetRefundStatus(r, rules.RefundArbitration, rules.RefundEventReject, c.Now)
	return nil, nil
}

// rejectReasonView is one entry of open.refund.reject.reason's data, in the
// catalog's shape (MerchantRefundRejectReasonView): the code to pass to
// open.refund.reject, its text, whether a description or an image must back
// it, and the platform's tip (empty when none).
type rejectReasonView struct {
	Code                int    `json:"code"`
	Desc                string `json:"desc"`
	RequiredRejectDesc  bool   `json:"requiredRejectDesc"`
	RequiredRejectImage bool   `json:"requiredRejectImage"`
	Tip                 string `json:"tip,omitempty"`
}

// refundRejectReason: open.refund.reject.reason (refundId). The data is the
// list of reasons a seller may give (rules.RefundRejectReasons), as the
// catalog documents it.
func refundRejectReason(c *api.Call) (any, *api.Error) {
	if _, e := refundOf(c); e != nil {
		return nil, e
	}
	out := make([]rejectReasonView, len(rules.RefundRejectReasons))
	for i, r := range rules.RefundRejectReasons {
		out[i] = rejectReasonView{Code: r.Code, Desc: r.Desc, RequiredRejectDesc: r.RequiresDesc, RequiredRejectImage: r.RequiresImage, Tip: r.Tip}
	}
	return out, nil
}
