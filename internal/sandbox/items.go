package sandbox

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Item APIs (docs/sandbox.md, Emulated APIs).

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

// itemOf finds an item of the calling shop by the given parameter.
func itemOf(c *call, keys ...string) (*item, *apiError) {
	var id int64
	var e *apiError
	for _, k := range keys {
		var ok bool
		if id, ok, e = c.int(k); e != nil || ok {
			break
		}
	}
	if e != nil {
		return nil, e
	}
	if id == 0 {
		return nil, badParam("param.%s is required", keys[0])
	}
	it, ok := c.shop.itemByID[id]
	if !ok {
		return nil, apiErr(codeItemNotFound, "item %d not found in this shop", id)
	}
	return it, nil
}

func skuOf(c *call, it *item) (*sku, *apiError) {
	id, e := c.reqInt("skuId")
	if e != nil {
		return nil, e
	}
	for _, s := range it.skus {
		if s.SkuID == id {
			return s, nil
		}
	}
	return nil, apiErr(codeItemNotFound, "sku %d is not a sku of item %d", id, it.KwaiItemID)
}

func (it *item) touch(now int64) {
	it.UpdateTime = max(now, it.UpdateTime)
	it.Price = it.skus[0].SkuSalePrice
	for _, s := range it.skus {
		it.Price = min(it.Price, s.SkuSalePrice)
	}
}

// itemSkuStockUpdate: open.item.sku.stock.update (kwaiItemId, skuId,
// skuChangeStock > 0, changeType 1 add / 2 reduce). Stock never goes below
// 0. Pushes kwaishop_item_stockChange.
func itemSkuStockUpdate(c *call) (any, *apiError) {
	it, e := itemOf(c, "kwaiItemId")
	if e != nil {
		return nil, e
	}
	sk, e := skuOf(c, it)
	if e != nil {
		return nil, e
	}
	n, e := c.reqInt("skuChangeStock")
	if e != nil {
		return nil, e
	}
	if n <= 0 || n > 10_000_000 {
		return nil, badParam("param.skuChangeStock must be between 1 and 10000000")
	}
	typ, e := c.reqInt("changeType")
	if e != nil {
		return nil, e
	}
	before := sk.SkuStock
	switch typ {
	case 1:
		sk.SkuStock += n
	case 2:
		if n > sk.SkuStock {
			return nil, badParam("stock of sku %d is %d: cannot reduce it by %d", sk.SkuID, sk.SkuStock, n)
		}
		sk.SkuStock -= n
	default:
		return nil, badParam("param.changeType must be 1 (add) or 2 (reduce)")
	}
	it.touch(ms(c.now))
	c.emit(EventItemStock, it.KwaiItemID, itemStockInfo{
		KwaiItemID: it.KwaiItemID, SkuID: sk.SkuID, SellerID: c.shop.user.SellerID, ChangeType: typ,
		SkuChangeStock: n, BeforeStock: before, Stock: sk.SkuStock, UpdateTime: it.UpdateTime,
	})
	return nil, nil
}

// itemSkuPriceUpdate: open.item.sku.price.update (itemId — kwaiItemId is
// accepted too —, skuId, price in fen, 1-9999999). Pushes
// kwaishop_item_priceChange.
func itemSkuPriceUpdate(c *call) (any, *apiError) {
	it, e := itemOf(c, "itemId", "kwaiItemId")
	if e != nil {
		return nil, e
	}
	sk, e := skuOf(c, it)
	if e != nil {
		return nil, e
	}
	price, e := c.reqInt("price")
	if e != nil {
		return nil, e
	}
	if price < 1 || price > 9_999_999 {
		return nil, badParam("param.price must be between 1 and 9999999 (fen)")
	}
	before := sk.SkuSalePrice
	sk.SkuSalePrice = price
	it.touch(ms(c.now))
	c.emit(EventItemPrice, it.KwaiItemID, itemPriceInfo{
		KwaiItemID: it.KwaiItemID, SkuID: sk.SkuID, SellerID: c.shop.user.SellerID, BeforePrice: before, Price: price, UpdateTime: it.UpdateTime,
	})
	return nil, nil
}

// itemShelfStatusUpdate: open.item.shelf.status.update (kwaiItemId,
// shelfStatus 0 off / 1 on). Pushes kwaishop_item_shelfStatusChange when the
// status changes.
func itemShelfStatusUpdate(c *call) (any, *apiError) {
	it, e := itemOf(c, "kwaiItemId")
	if e != nil {
		return nil, e
	}
	st, ok, e := c.int("shelfStatus")
	if e != nil {
		return nil, e
	}
	if !ok || (st != 0 && st != 1) {
		return nil, badParam("param.shelfStatus must be 0 (off shelf) or 1 (on shelf)")
	}
	if int64(it.ShelfStatus) == st {
		return nil, nil
	}
	it.ShelfStatus = int(st)
	it.touch(ms(c.now))
	c.emit(EventItemShelf, it.KwaiItemID, itemShelfInfo{
		KwaiItemID: it.KwaiItemID, SellerID: c.shop.user.SellerID, ShelfStatus: it.ShelfStatus, UpdateTime: it.UpdateTime,
	})
	return nil, nil
}

type skuMapping struct {
	KwaiSkuID int64  `json:"kwaiSkuId"`
	RelSkuID  int64  `json:"relSkuId"`
	SkuNick   string `json:"skuNick"`
}

type itemNewData struct {
	KwaiItemID   int64        `json:"kwaiItemId"`
	RelItemID    int64        `json:"relItemId"`
	SkuIDMapping []skuMapping `json:"skuIdMapping"`
}

// readItemText applies the optional text fields shared by new and edit.
func readItemText(c *call, it *item) *apiError {
	for _, f := range []struct {
		key string
		dst *string
		max int
	}{{"title", &it.Title, itemTitleMax}, {"details", &it.Details, 5000}, {"mainImageUrl", &it.MainImageURL, 1024}} {
		if _, ok := c.param[f.key]; !ok {
			continue
		}
		v, e := c.str(f.key)
		if e != nil {
			return e
		}
		if v = strings.TrimSpace(v); v == "" || utf8.RuneCountInString(v) > f.max {
			return badParam("param.%s must be 1 to %d characters", f.key, f.max)
		}
		*f.dst = v
	}
	urls, e := c.strings("imageUrls")
	if e != nil {
		return e
	}
	if urls != nil {
		it.ImageURLs = urls
	}
	if v, ok, e := c.int("categoryId"); e != nil {
		return e
	} else if ok {
		it.CategoryID = v
	}
	return nil
}

// readSku reads one skuList entry onto s (price and stock required when
// create is set).
func readSku(c *call, s *sku, create bool) *apiError {
	price, ok, e := c.int("skuSalePrice")
	if e != nil {
		return e
	}
	if ok || create {
		if price < 1 || price > 9_999_999 {
			return badParam("skuList[].skuSalePrice must be between 1 and 9999999 (fen)")
		}
		s.SkuSalePrice = price
	}
	stock, ok, e := c.int("skuStock")
	if e != nil {
		return e
	}
	if ok {
		if stock < 0 || stock > 10_000_000 {
			return badParam("skuList[].skuStock must be between 0 and 10000000")
		}
		s.SkuStock = stock
	}
	if v, ok, e := c.int("skuMarketPrice"); e != nil {
		return e
	} else if ok {
		s.SkuMarketPrice = v
	}
	if v, ok, e := c.int("relSkuId"); e != nil {
		return e
	} else if ok {
		s.RelSkuID = v
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"skuNick", &s.SkuNick}, {"specification", &s.Specification}} {
		v, e := c.str(f.key)
		if e != nil {
			return e
		}
		if v != "" {
			if utf8.RuneCountInString(v) > 100 {
				return badParam("skuList[].%s must be at most 100 characters", f.key)
			}
			*f.dst = v
		}
	}
	return nil
}

// itemNew: open.item.new, minimal: title and skuList[] {skuSalePrice,
// skuStock, relSkuId, skuNick, specification, skuMarketPrice} required;
// relItemId, categoryId, details, mainImageUrl, imageUrls optional. The
// item is created approved and off shelf. Answers {kwaiItemId, relItemId,
// skuIdMapping[]} and pushes kwaishop_item_addItem.
func itemNew(c *call) (any, *apiError) {
	sh := c.shop
	it := &item{itemBase: itemBase{ItemType: 1, AuditStatus: 1, ShelfStatus: 0, ImageURLs: []string{}}}
	if _, ok := c.param["title"]; !ok {
		return nil, badParam("param.title is required")
	}
	if e := readItemText(c, it); e != nil {
		return nil, e
	}
	rel, e := c.optInt("relItemId", 0)
	if e != nil {
		return nil, e
	}
	skus, e := c.objects("skuList")
	if e != nil {
		return nil, e
	}
	if len(skus) == 0 || len(skus) > itemSkusMax {
		return nil, badParam("param.skuList must hold 1 to %d skus", itemSkusMax)
	}
	for _, sc := range skus {
		s := &sku{}
		if e := readSku(sc, s, true); e != nil {
			return nil, e
		}
		it.skus = append(it.skus, s)
	}
	// Ids only after validation, so a refused call leaves no trace.
	usedItems, usedSkus := map[int64]bool{}, map[int64]bool{}
	for _, x := range sh.items {
		usedItems[x.KwaiItemID] = true
		for _, s := range x.skus {
			usedSkus[s.SkuID] = true
		}
	}
	uid := int64(sh.user.ID)
	it.KwaiItemID = sh.live.uniqueID(usedItems, 20_000_000_000+uid*1_000_000_000, 1_000_000_000)
	it.RelItemID = rel
	now := ms(c.now)
	it.CreateTime, it.UpdateTime = now, now
	if it.MainImageURL == "" {
		it.MainImageURL = fmt.Sprintf("https://img.sandbox.invalid/item/%d/main.jpg", it.KwaiItemID)
	}
	data := &itemNewData{KwaiItemID: it.KwaiItemID, RelItemID: rel, SkuIDMapping: []skuMapping{}}
	for _, s := range it.skus {
		s.SkuID = sh.live.uniqueID(usedSkus, 30_000_000_000+uid*1_000_000_000, 1_000_000_000)
		data.SkuIDMapping = append(data.SkuIDMapping, skuMapping{KwaiSkuID: s.SkuID, RelSkuID: s.RelSkuID, SkuNick: s.SkuNick})
	}
	it.touch(now)
	sh.items = append(sh.items, it)
	sh.itemByID[it.KwaiItemID] = it
	c.sb.itemChangedLocked(sh, it, EventItemAdd, c.now)
	return data, nil
}

// itemEdit: open.item.edit, minimal: kwaiItemId plus any of title,
// details, mainImageUrl, imageUrls, categoryId and skuList[] entries naming
// an existing skuId (price, stock, nick, specification, market price).
// Pushes kwaishop_item_updateItem.
func itemEdit(c *call) (any, *apiError) {
	it, e := itemOf(c, "kwaiItemId")
	if e != nil {
		return nil, e
	}
	draft := *it
	draft.skus = make([]*sku, len(it.skus))
	for i, s := range it.skus {
		cp := *s
		draft.skus[i] = &cp
	}
	if e := readItemText(c, &draft); e != nil {
		return nil, e
	}
	skus, e := c.objects("skuList")
	if e != nil {
		return nil, e
	}
	for _, sc := range skus {
		target, e := skuOf(sc, &draft)
		if e != nil {
			return nil, e
		}
		if e := readSku(sc, target, false); e != nil {
			return nil, e
		}
	}
	*it = draft
	it.touch(ms(c.now))
	c.sb.itemChangedLocked(c.shop, it, EventItemUpdate, c.now)
	return nil, nil
}
