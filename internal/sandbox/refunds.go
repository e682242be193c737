package sandbox

// After-sale (售后) APIs (platform-protocol.md §6).

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
