package sandbox

// Item APIs (platform-protocol.md §6).

type itemListEntry struct {
	itemBase
	SkuList []*sku `json:"skuList"`
}

type itemDetail struct {
	itemBase
	SkuInfos []*sku `json:"skuInfos"`
}

type itemListData struct {
	TotalItemCount       int              `json:"totalItemCount"`
	CurrentPageItemCount int              `json:"currentPageItemCount"`
	CurrentPageNumber    int64            `json:"currentPageNumber"`
	TotalPage            int64            `json:"totalPage"`
	Items                []*itemListEntry `json:"items"`
}

// itemList: open.item.list.get. Page-numbered (pageNumber from 1, pageSize
// 1-100, default 10); optional kwaiItemId / relItemId filters. Other filters
// (itemStatus, itemType, onOfflineStatus) are accepted and ignored.
func itemList(c *call) (any, *apiError) {
	pageNumber, e := c.optInt("pageNumber", 1)
	if e != nil {
		return nil, e
	}
	if pageNumber == 0 {
		pageNumber = 1
	}
	if pageNumber < 1 {
		return nil, badParam("param.pageNumber must be at least 1")
	}
	pageSize, e := c.intIn("pageSize", itemPageSizeDefault, 1, itemPageSizeMax)
	if e != nil {
		return nil, e
	}
	kwaiItemID, e := c.optInt("kwaiItemId", 0)
	if e != nil {
		return nil, e
	}
	relItemID, e := c.optInt("relItemId", 0)
	if e != nil {
		return nil, e
	}
	var all []*item
	for _, it := range c.shop.items {
		if (kwaiItemID != 0 && it.KwaiItemID != kwaiItemID) || (relItemID != 0 && it.RelItemID != relItemID) {
			continue
		}
		all = append(all, it)
	}
	data := &itemListData{
		TotalItemCount:    len(all),
		CurrentPageNumber: pageNumber,
		TotalPage:         (int64(len(all)) + pageSize - 1) / pageSize,
		Items:             []*itemListEntry{},
	}
	from := (pageNumber - 1) * pageSize
	for i := from; i < from+pageSize && i < int64(len(all)); i++ {
		data.Items = append(data.Items, &itemListEntry{itemBase: all[i].itemBase, SkuList: all[i].skus})
	}
	data.CurrentPageItemCount = len(data.Items)
	return data, nil
}

// itemGet: open.item.get (param kwaiItemId).
func itemGet(c *call) (any, *apiError) {
	id, e := c.reqInt("kwaiItemId")
	if e != nil {
		return nil, e
	}
	it, ok := c.shop.itemByID[id]
	if !ok {
		return nil, apiErr(codeItemNotFound, "item %d not found in this shop", id)
	}
	return &itemDetail{itemBase: it.itemBase, SkuInfos: it.skus}, nil
}
