package emulated

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Item APIs (docs/sandbox.md, Emulated APIs).

type itemListEntry struct {
	shop.ItemBase
	SkuList []*shop.SKU `json:"skuList"`
}

type itemDetail struct {
	shop.ItemBase
	SkuInfos []*shop.SKU `json:"skuInfos"`
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
func itemList(c *api.Call) (any, *api.Error) {
	pageNumber, e := c.OptInt("pageNumber", 1)
	if e != nil {
		return nil, e
	}
	if pageNumber == 0 {
		pageNumber = 1
	}
	if pageNumber < 1 {
		return nil, api.BadParam("param.pageNumber must be at least 1")
	}
	pageSize, e := c.IntIn("pageSize", rules.ItemPageSizeDefault, 1, rules.ItemPageSizeMax)
	if e != nil {
		return nil, e
	}
	kwaiItemID, e := c.OptInt("kwaiItemId", 0)
	if e != nil {
		return nil, e
	}
	relItemID, e := c.OptInt("relItemId", 0)
	if e != nil {
		return nil, e
	}
	var all []*shop.Item
	for _, it := range c.Shop.Items {
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
		data.Items = append(data.Items, &itemListEntry{ItemBase: all[i].ItemBase, SkuList: all[i].SKUs})
	}
	data.CurrentPageItemCount = len(data.Items)
	return data, nil
}

// itemGet: open.item.get (param kwaiItemId).
func itemGet(c *api.Call) (any, *api.Error) {
	id, e := c.ReqInt("kwaiItemId")
	if e != nil {
		return nil, e
	}
	it, ok := c.Shop.ItemByID[id]
	if !ok {
		return nil, api.Err(rules.CodeItemNotFound, "item %d not found in this shop", id)
	}
	return &itemDetail{ItemBase: it.ItemBase, SkuInfos: it.SKUs}, nil
}

// itemOf finds an item of the calling shop by the given parameter.
func itemOf(c *api.Call, keys ...string) (*shop.Item, *api.Error) {
	var id int64
	var e *api.Error
	for _, k := range keys {
		var ok bool
		if id, ok, e = c.Int(k); e != nil || ok {
			break
		}
	}
	if e != nil {
		return nil, e
	}
	if id == 0 {
		return nil, api.BadParam("param.%s is required", keys[0])
	}
	it, ok := c.Shop.ItemByID[id]
	if !ok {
		return nil, api.Err(rules.CodeItemNotFound, "item %d not found in this shop", id)
	}
	return it, nil
}

func skuOf(c *api.Call, it *shop.Item) (*shop.SKU, *api.Error) {
	id, e := c.ReqInt("skuId")
	if e != nil {
		return nil, e
	}
	for _, s := range it.SKUs {
		if s.SkuID == id {
			return s, nil
		}
	}
	return nil, api.Err(rules.CodeItemNotFound, "sku %d is not a sku of item %d", id, it.KwaiItemID)
}

// itemSkuStockUpdate: open.item.sku.stock.update (kwaiItemId, skuId,
// skuChangeStock > 0, changeType 1 add / 2 reduce). Stock never goes below
// 0. Pushes kwaishop_item_stockChange.
func itemSkuStockUpdate(c *api.Call) (any, *api.Error) {
	it, e := itemOf(c, "kwaiItemId")
	if e != nil {
		return nil, e
	}
	sk, e := skuOf(c, it)
	if e != nil {
		return nil, e
	}
	n, e := c.ReqInt("skuChangeStock")
	if e != nil {
		return nil, e
	}
	if n <= 0 || n > 10_000_000 {
		return nil, api.BadParam("param.skuChangeStock must be between 1 and 10000000")
	}
	typ, e := c.ReqInt("changeType")
	if e != nil {
		return nil, e
	}
	before := sk.SkuStock
	switch typ {
	case 1:
		sk.SkuStock += n
	case 2:
		if n > sk.SkuStock {
			return nil, api.BadParam("stock of sku %d is %d: cannot reduce it by %d", sk.SkuID, sk.SkuStock, n)
		}
		sk.SkuStock -= n
	default:
		return nil, api.BadParam("param.changeType must be 1 (add) or 2 (reduce)")
	}
	it.Touch(clock.Millis(c.Now))
	c.Shop.Emit(rules.EventItemStock, it.KwaiItemID, shop.ItemStockInfo{
		KwaiItemID: it.KwaiItemID, SkuID: sk.SkuID, SellerID: c.Shop.User.SellerID, ChangeType: typ,
		SkuChangeStock: n, BeforeStock: before, Stock: sk.SkuStock, UpdateTime: it.UpdateTime,
	}, c.Now)
	return nil, nil
}

// itemSkuPriceUpdate: open.item.sku.price.update (itemId — kwaiItemId is
// accepted too —, skuId, price in fen, 1-9999999). Pushes
// kwaishop_item_priceChange.
func itemSkuPriceUpdate(c *api.Call) (any, *api.Error) {
	it, e := itemOf(c, "itemId", "kwaiItemId")
	if e != nil {
		return nil, e
	}
	sk, e := skuOf(c, it)
	if e != nil {
		return nil, e
	}
	price, e := c.ReqInt("price")
	if e != nil {
		return nil, e
	}
	if price < 1 || price > 9_999_999 {
		return nil, api.BadParam("param.price must be between 1 and 9999999 (fen)")
	}
	before := sk.SkuSalePrice
	sk.SkuSalePrice = price
	it.Touch(clock.Millis(c.Now))
	c.Shop.Emit(rules.EventItemPrice, it.KwaiItemID, shop.ItemPriceInfo{
		KwaiItemID: it.KwaiItemID, SkuID: sk.SkuID, SellerID: c.Shop.User.SellerID, BeforePrice: before, Price: price, UpdateTime: it.UpdateTime,
	}, c.Now)
	return nil, nil
}

// itemShelfStatusUpdate: open.item.shelf.status.update (kwaiItemId,
// shelfStatus 0 off / 1 on). Pushes kwaishop_item_shelfStatusChange when the
// status changes.
func itemShelfStatusUpdate(c *api.Call) (any, *api.Error) {
	it, e := itemOf(c, "kwaiItemId")
	if e != nil {
		return nil, e
	}
	st, ok, e := c.Int("shelfStatus")
	if e != nil {
		return nil, e
	}
	if !ok || (st != 0 && st != 1) {
		return nil, api.BadParam("param.shelfStatus must be 0 (off shelf) or 1 (on shelf)")
	}
	if int64(it.ShelfStatus) == st {
		return nil, nil
	}
	it.ShelfStatus = int(st)
	it.Touch(clock.Millis(c.Now))
	c.Shop.Emit(rules.EventItemShelf, it.KwaiItemID, shop.ItemShelfInfo{
		KwaiItemID: it.KwaiItemID, SellerID: c.Shop.User.SellerID, ShelfStatus: it.ShelfStatus, UpdateTime: it.UpdateTime,
	}, c.Now)
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
func readItemText(c *api.Call, it *shop.Item) *api.Error {
	for _, f := range []struct {
		key string
		dst *string
		max int
	}{{"title", &it.Title, rules.ItemTitleMax}, {"details", &it.Details, 5000}, {"mainImageUrl", &it.MainImageURL, 1024}} {
		if _, ok := c.Param[f.key]; !ok {
			continue
		}
		v, e := c.Str(f.key)
		if e != nil {
			return e
		}
		if v = strings.TrimSpace(v); v == "" || utf8.RuneCountInString(v) > f.max {
			return api.BadParam("param.%s must be 1 to %d characters", f.key, f.max)
		}
		*f.dst = v
	}
	urls, e := c.Strings("imageUrls")
	if e != nil {
		return e
	}
	if urls != nil {
		it.ImageURLs = urls
	}
	if v, ok, e := c.Int("categoryId"); e != nil {
		return e
	} else if ok {
		it.CategoryID = v
	}
	return nil
}

// readSku reads one skuList entry onto s (price and stock required when
// create is set).
func readSku(c *api.Call, s *shop.SKU, create bool) *api.Error {
	price, ok, e := c.Int("skuSalePrice")
	if e != nil {
		return e
	}
	if ok || create {
		if price < 1 || price > 9_999_999 {
			return api.BadParam("skuList[].skuSalePrice must be between 1 and 9999999 (fen)")
		}
		s.SkuSalePrice = price
	}
	stock, ok, e := c.Int("skuStock")
	if e != nil {
		return e
	}
	if ok {
		if stock < 0 || stock > 10_000_000 {
			return api.BadParam("skuList[].skuStock must be between 0 and 10000000")
		}
		s.SkuStock = stock
	}
	if v, ok, e := c.Int("skuMarketPrice"); e != nil {
		return e
	} else if ok {
		s.SkuMarketPrice = v
	}
	if v, ok, e := c.Int("relSkuId"); e != nil {
		return e
	} else if ok {
		s.RelSkuID = v
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"skuNick", &s.SkuNick}, {"specification", &s.Specification}} {
		v, e := c.Str(f.key)
		if e != nil {
			return e
		}
		if v != "" {
			if utf8.RuneCountInString(v) > 100 {
				return api.BadParam("skuList[].%s must be at most 100 characters", f.key)
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
func itemNew(c *api.Call) (any, *api.Error) {
	sh := c.Shop
	it := &shop.Item{ItemBase: shop.ItemBase{ItemType: 1, AuditStatus: 1, ShelfStatus: 0, ImageURLs: []string{}}}
	if _, ok := c.Param["title"]; !ok {
		return nil, api.BadParam("param.title is required")
	}
	if e := readItemText(c, it); e != nil {
		return nil, e
	}
	rel, e := c.OptInt("relItemId", 0)
	if e != nil {
		return nil, e
	}
	skus, e := c.Objects("skuList")
	if e != nil {
		return nil, e
	}
	if len(skus) == 0 || len(skus) > rules.ItemSKUsMax {
		return nil, api.BadParam("param.skuList must hold 1 to %d skus", rules.ItemSKUsMax)
	}
	for _, sc := range skus {
		s := &shop.SKU{}
		if e := readSku(sc, s, true); e != nil {
			return nil, e
		}
		it.SKUs = append(it.SKUs, s)
	}
	// Ids only after validation, so a refused call leaves no trace.
	itemID, skuIDs := sh.NewItemIDs(len(it.SKUs))
	it.KwaiItemID = itemID
	it.RelItemID = rel
	now := clock.Millis(c.Now)
	it.CreateTime, it.UpdateTime = now, now
	if it.MainImageURL == "" {
		it.MainImageURL = fmt.Sprintf("https://img.sandbox.invalid/item/%d/main.jpg", it.KwaiItemID)
	}
	data := &itemNewData{KwaiItemID: it.KwaiItemID, RelItemID: rel, SkuIDMapping: []skuMapping{}}
	for i, s := range it.SKUs {
		s.SkuID = skuIDs[i]
		data.SkuIDMapping = append(data.SkuIDMapping, skuMapping{KwaiSkuID: s.SkuID, RelSkuID: s.RelSkuID, SkuNick: s.SkuNick})
	}
	it.Touch(now)
	sh.Items = append(sh.Items, it)
	sh.ItemByID[it.KwaiItemID] = it
	sh.ItemChanged(it, rules.EventItemAdd, c.Now)
	return data, nil
}

// itemEdit: open.item.edit, minimal: itemId (or kwaiItemId) plus any of title,
// details, mainImageUrl, imageUrls, categoryId and skuList[] entries naming
// an existing skuId (price, stock, nick, specification, market price).
// Pushes kwaishop_item_updateItem.
func itemEdit(c *api.Call) (any, *api.Error) {
	it, e := itemOf(c, "itemId", "kwaiItemId")
	if e != nil {
		return nil, e
	}
	draft := *it
	draft.SKUs = make([]*shop.SKU, len(it.SKUs))
	for i, s := range it.SKUs {
		cp := *s
		draft.SKUs[i] = &cp
	}
	if e := readItemText(c, &draft); e != nil {
		return nil, e
	}
	skus, e := c.Objects("skuList")
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
	it.Touch(clock.Millis(c.Now))
	c.Shop.ItemChanged(it, rules.EventItemUpdate, c.Now)
	return nil, nil
}
