package emulated

import (
	"fmt"
	"slices"
	"strconv"
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
	SkuList []skuAnswer `json:"skuList"`
	itemCommon
	FromType                int    `json:"fromType"`
	ItemStatus              int    `json:"itemStatus"`
	Status                  int    `json:"status"`
	ShelfStatusUpdateReason string `json:"shelfStatusUpdateReason"`
	UserID                  int64  `json:"userId"`
	Volume                  int    `json:"volume"`
}

// itemCommon holds the members list entries and details share beyond
// ItemBase (the catalog's response schemas).
type itemCommon struct {
	AppKey            string      `json:"appkey"`
	AuditReason       string      `json:"auditReason"`
	ExpressTemplateID int64       `json:"expressTemplateId"`
	LinkURL           string      `json:"linkUrl"`
	ServiceRule       serviceRule `json:"serviceRule"`
}

type serviceRule struct {
	RefundRule string `json:"refundRule"`
}

type itemDetail struct {
	shop.ItemBase
	SkuInfos []skuAnswer `json:"skuInfos"`
	itemCommon
	ItemID             int64            `json:"itemId"`
	CreatedTime        int64            `json:"createdTime"`
	DetailImageURLs    []string         `json:"detailImageUrls"`
	DuplicationReason  string           `json:"duplicationReason"`
	DuplicationStatus  int              `json:"duplicationStatus"`
	LimitCount         int              `json:"limitCount"`
	OfflineReason      string           `json:"offlineReason"`
	OnOfflineStatus    int              `json:"onOfflineStatus"`
	ParentCategoryID   int64            `json:"parentCategoryId"`
	ParentCategoryList []categoryEntry  `json:"parentCategoryList"`
	ParentCategoryName string           `json:"parentCategoryName"`
	PurchaseLimit      bool             `json:"purchaseLimit"`
	RootCategoryID     int64            `json:"rootCategoryId"`
	RootCategoryName   string           `json:"rootCategoryName"`
	TimeOfSale         int64            `json:"timeOfSale"`
	ItemPropValues     []map[string]any `json:"itemPropValues"`
}

// skuAnswer is a SKU as the item reads answer it.
type skuAnswer struct {
	*shop.SKU
	KwaiSkuID  int64          `json:"kwaiSkuId"`
	KwaiItemID int64          `json:"kwaiItemId"`
	AppKey     string         `json:"appkey"`
	CreateTime int64          `json:"createTime"`
	UpdateTime int64          `json:"updateTime"`
	ImageURL   string         `json:"imageUrl"`
	IsValid    int            `json:"isValid"`
	SkuProp    []shop.SkuSpec `json:"skuProp"`
	Volume     int            `json:"volume"`
}

func skuAnswers(c *api.Call, it *shop.Item) []skuAnswer {
	out := make([]skuAnswer, len(it.SKUs))
	for i, s := range it.SKUs {
		img := it.MainImageURL
		for _, sp := range s.Specs {
			if sp.Main == 1 && sp.ImageURL != "" {
				img = sp.ImageURL
			}
		}
		out[i] = skuAnswer{SKU: s, KwaiSkuID: s.SkuID, KwaiItemID: it.KwaiItemID, AppKey: c.AppKey, CreateTime: it.CreateTime,
			UpdateTime: it.UpdateTime, ImageURL: img, IsValid: 1, SkuProp: append([]shop.SkuSpec{}, s.Specs...)}
	}
	return out
}

func commonOf(c *api.Call, it *shop.Item) itemCommon {
	rule := it.Published.RefundRule
	if rule == "" {
		rule = "1"
	}
	return itemCommon{AppKey: c.AppKey, ExpressTemplateID: it.Published.ExpressTemplateID, ServiceRule: serviceRule{RefundRule: rule},
		LinkURL: fmt.Sprintf("https://app.kwaixiaodian.com/merchant/shop/detail?id=%d", it.KwaiItemID)}
}

func detailOf(c *api.Call, it *shop.Item) *itemDetail {
	d := &itemDetail{ItemBase: it.ItemBase, SkuInfos: skuAnswers(c, it), itemCommon: commonOf(c, it), ItemID: it.KwaiItemID,
		CreatedTime: it.CreateTime, DetailImageURLs: it.Published.DetailImageURLs, OnOfflineStatus: it.ShelfStatus,
		ParentCategoryList: []categoryEntry{}, ItemPropValues: it.Published.Props}
	if d.DetailImageURLs == nil {
		d.DetailImageURLs = []string{}
	}
	if d.ItemPropValues == nil {
		d.ItemPropValues = []map[string]any{}
	}
	if cat, ok := shop.CategoryByID(it.CategoryID); ok {
		path := cat.Path()
		d.RootCategoryID, d.RootCategoryName = path[0].ID, path[0].Name
		for _, p := range path[:len(path)-1] {
			d.ParentCategoryList = append(d.ParentCategoryList, categoryEntryOf(p))
		}
		if len(path) > 1 {
			d.ParentCategoryID, d.ParentCategoryName = path[len(path)-2].ID, path[len(path)-2].Name
		}
	}
	return d
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
		it := all[i]
		data.Items = append(data.Items, &itemListEntry{ItemBase: it.ItemBase, SkuList: skuAnswers(c, it), itemCommon: commonOf(c, it),
			FromType: 1, ItemStatus: 1, Status: 1, UserID: c.Shop.User.SellerID})
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
	return detailOf(c, it), nil
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
		if len(urls) > 0 {
			it.MainImageURL = urls[0]
		}
	}
	return nil
}

// readPublished applies what item publishing sets: categoryId (a leaf of
// the seeded tree; its name follows), itemPropValues (checked against the
// leaf's properties when create or updateItemPropValues; a create without
// categoryId is the sandbox's minimal item and takes none), detailImageUrls,
// expressTemplateId and serviceRule.refundRule.
func readPublished(c *api.Call, it *shop.Item, create bool) *api.Error {
	catChanged := false
	if _, ok := c.Param["categoryId"]; ok {
		cat, e := leafOf(c)
		if e != nil {
			return e
		}
		it.CategoryID, it.CategoryName, catChanged = cat.ID, cat.Name, it.CategoryID != cat.ID
	}
	update, e := c.Bool("updateItemPropValues")
	if e != nil {
		return e
	}
	if cat, ok := shop.CategoryByID(it.CategoryID); ok && cat.Leaf && ((create && catChanged) || update) {
		props, e := checkProps(c, cat)
		if e != nil {
			return e
		}
		it.Published.Props = props
	}
	if urls, e := c.Strings("detailImageUrls"); e != nil {
		return e
	} else if urls != nil {
		it.Published.DetailImageURLs = urls
	}
	if v, ok, e := c.Int("expressTemplateId"); e != nil {
		return e
	} else if ok {
		it.Published.ExpressTemplateID = v
	}
	if m, ok := c.Param["serviceRule"].(map[string]any); ok {
		sr := &api.Call{Param: m}
		rule, e := sr.Str("refundRule")
		if e != nil {
			return e
		}
		if cat, ok := shop.CategoryByID(it.CategoryID); ok && cat.Leaf && rule != "" && !slices.Contains(cat.RefundRules, atoi(rule)) {
			return api.BadParam("退款规则 %s 不适用于类目 %d", rule, cat.ID)
		}
		it.Published.RefundRule = rule
	}
	return nil
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// checkProps checks itemPropValues against a leaf's properties the way the
// platform refuses them: an unknown or repeated property, a value not of
// the property, too many values, an empty or out-of-limit text, a missing
// required property. It answers the entries as they will be read back.
func checkProps(c *api.Call, cat *shop.Category) ([]map[string]any, *api.Error) {
	entries, e := c.Objects("itemPropValues")
	if e != nil {
		return nil, e
	}
	seen := map[int64]bool{}
	out := make([]map[string]any, 0, len(entries))
	for i, pc := range entries {
		id, e := pc.ReqInt("propId")
		if e != nil {
			return nil, e
		}
		p, ok := cat.Prop(id)
		if !ok {
			return nil, api.BadParam("类目属性不存在: itemPropValues[%d].propId %d is not a property of category %d", i, id, cat.ID)
		}
		if seen[id] {
			return nil, api.BadParam("类目属性不允许重复: propId %d", id)
		}
		seen[id] = true
		entry := map[string]any{"propId": id, "propName": p.Name, "sortNum": p.SortNum}
		switch p.Input {
		case "RADIO", "CHECKBOX":
			var vals []*api.Call
			if p.Input == "RADIO" {
				m, ok := pc.Param["radioPropValue"].(map[string]any)
				if !ok {
					return nil, api.BadParam("类目属性[%s]的值必填: radioPropValue", p.Name)
				}
				vals = []*api.Call{{Param: m}}
			} else if vals, e = pc.Objects("checkBoxPropValuesList"); e != nil {
				return nil, e
			}
			if len(vals) == 0 || (p.MaxValues > 0 && len(vals) > p.MaxValues) {
				return nil, api.BadParam("类目属性[%s]的值数量必须在 1 到 %d 之间", p.Name, max(p.MaxValues, 1))
			}
			var got []shop.PropValue
			for _, vc := range vals {
				vid, e := vc.ReqInt("propValueId")
				if e != nil {
					return nil, e
				}
				v, ok := propValue(p, vid)
				if !ok {
					return nil, api.BadParam("类目属性[%s]的值 %d 不存在", p.Name, vid)
				}
				got = append(got, v)
			}
			if p.Input == "RADIO" {
				entry["radioPropValue"], entry["inputType"] = got[0], 8
			} else {
				entry["checkBoxPropValuesList"], entry["inputType"] = got, 2
			}
		case "DATETIME":
			v, e := pc.ReqInt("datetimeTimestamp")
			if e != nil {
				return nil, e
			}
			entry["datetimeTimestamp"], entry["inputType"] = v, 5
		case "IMAGE":
			urls, e := pc.Strings("imagePropValues")
			if e != nil {
				return nil, e
			}
			if len(urls) == 0 {
				return nil, api.BadParam("类目属性[%s]的图片必填", p.Name)
			}
			entry["imagePropValues"], entry["inputType"] = urls, 9
		default:
			t, e := pc.Str("textPropValue")
			if e != nil {
				return nil, e
			}
			n := utf8.RuneCountInString(t)
			if strings.TrimSpace(t) == "" || (p.MaxLen > 0 && (n < p.MinLen || n > p.MaxLen)) {
				return nil, api.BadParam("类目属性[%s]的文本长度不合法", p.Name)
			}
			if p.Input == "NUMBER" {
				if _, err := strconv.ParseFloat(t, 64); err != nil {
					return nil, api.BadParam("类目属性[%s]必须是数字", p.Name)
				}
			}
			entry["textPropValue"], entry["inputType"] = t, textInputType[p.Input]
		}
		out = append(out, entry)
	}
	for _, p := range cat.Props {
		if p.Required && !seen[p.ID] {
			return nil, api.BadParam("类目属性[%s]必填: itemPropValues lacks propId %d", p.Name, p.ID)
		}
	}
	return out, nil
}

var textInputType = map[string]int{"TEXT": 1, "NUMBER": 3, "EMAIL": 4, "URL": 6}

func propValue(p *shop.CategoryProp, id int64) (shop.PropValue, bool) {
	for _, v := range p.Values {
		if v.ID == id {
			return v, true
		}
	}
	return shop.PropValue{}, false
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
	specs, e := c.Objects("skuProps")
	if e != nil {
		return e
	}
	if specs != nil {
		s.Specs = s.Specs[:0:0]
		var parts []string
		for _, sc := range specs {
			var sp shop.SkuSpec
			if sp.Name, e = sc.Str("propName"); e != nil {
				return e
			}
			if sp.Value, e = sc.Str("propValueName"); e != nil {
				return e
			}
			if sp.ImageURL, e = sc.Str("imageUrl"); e != nil {
				return e
			}
			main, e := sc.OptInt("isMainProp", 0)
			if e != nil {
				return e
			}
			sp.Main = int(main)
			s.Specs = append(s.Specs, sp)
			parts = append(parts, sp.Name+":"+sp.Value)
		}
		s.Specification = strings.Join(parts, ";")
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
	if e := readPublished(c, it, true); e != nil {
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
	if e := readPublished(c, &draft, false); e != nil {
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
		if e := changeStock(sc, target); e != nil {
			return nil, e
		}
	}
	*it = draft
	it.Touch(clock.Millis(c.Now))
	c.Shop.ItemChanged(it, rules.EventItemUpdate, c.Now)
	data := &itemNewData{KwaiItemID: it.KwaiItemID, RelItemID: it.RelItemID, SkuIDMapping: []skuMapping{}}
	for _, s := range it.SKUs {
		data.SkuIDMapping = append(data.SkuIDMapping, skuMapping{KwaiSkuID: s.SkuID, RelSkuID: s.RelSkuID, SkuNick: s.SkuNick})
	}
	return data, nil
}

// changeStock applies an edit's skuChangeStock by skuStockChangeType (1
// add, 2 reduce, 3 set; absent: no change).
func changeStock(c *api.Call, s *shop.SKU) *api.Error {
	typ, ok, e := c.Int("skuStockChangeType")
	if e != nil || !ok {
		return e
	}
	n, e := c.OptInt("skuChangeStock", 0)
	if e != nil {
		return e
	}
	if n < 0 || n > 10_000_000 {
		return api.BadParam("skuList[].skuChangeStock must be between 0 and 10000000")
	}
	switch typ {
	case 1:
		s.SkuStock += n
	case 2:
		if n > s.SkuStock {
			return api.BadParam("stock of sku %d is %d: cannot reduce it by %d", s.SkuID, s.SkuStock, n)
		}
		s.SkuStock -= n
	case 3:
		s.SkuStock = n
	default:
		return api.BadParam("skuList[].skuStockChangeType must be 1, 2 or 3")
	}
	return nil
}
