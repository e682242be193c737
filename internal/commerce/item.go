package commerce

import (
	"context"
	"fmt"
	"time"
)

// Item APIs.
const (
	apiItemList        = "open.item.list.get"
	apiItemGet         = "open.item.get"
	apiItemStockUpdate = "open.item.sku.stock.update"
	apiItemPriceUpdate = "open.item.sku.price.update"
	apiItemShelfUpdate = "open.item.shelf.status.update"

	// open.item.list.get takes pageSize 10-100 (the TypeScript SDK's
	// limits); smaller gateway pages are cut from a 10-item platform page.
	itemPageMin = 10
	itemPageMax = 100
)

// ShelfStatus is whether an item is on sale.
type ShelfStatus int8

// Shelf statuses.
const (
	ShelfUnknown ShelfStatus = iota // absent, or a value the gateway does not know (see Raw)
	ShelfOn
	ShelfOff
)

// Item is one item (商品) with its SKUs. Zero times are unset.
type Item struct {
	ID           int64 // the platform's kwaiItemId
	RelItemID    int64 // the seller's own id
	Title        string
	PriceFen     int64
	ShelfStatus  ShelfStatus
	AuditStatus  int32
	CategoryID   int64
	CategoryName string
	MainImageURL string
	ImageURLs    []string
	CreateTime   time.Time
	UpdateTime   time.Time
	Skus         []Sku
	// Props are the category properties (itemPropValues, details only).
	Props           []ItemProp
	DetailImageURLs []string
	Details         string
	// Raw is the platform's JSON of the item, compact.
	Raw string
}

// ItemProp is an item's value of one property, with the property's name.
type ItemProp struct {
	PropInput
	Name string
}

// Sku is one SKU of an item.
type Sku struct {
	ID             int64
	RelSkuID       int64
	Nick           string
	Specification  string
	PriceFen       int64
	MarketPriceFen int64
	Stock          int64
	Specs          []SkuSpec
}

type platformSkuProp struct {
	PropName      str `json:"propName"`
	PropValueName str `json:"propValueName"`
	IsMainProp    i64 `json:"isMainProp"`
	ImageURL      str `json:"imageUrl"`
}

type platformItemProp struct {
	PropID                 i64                 `json:"propId"`
	PropName               str                 `json:"propName"`
	TextPropValue          str                 `json:"textPropValue"`
	RadioPropValue         *platformPropValue  `json:"radioPropValue"`
	CheckBoxPropValuesList []platformPropValue `json:"checkBoxPropValuesList"`
	ImagePropValues        strList             `json:"imagePropValues"`
	DatetimeTimestamp      i64                 `json:"datetimeTimestamp"`
	DateRange              *struct {
		Start i64 `json:"startTimeTimestamp"`
		End   i64 `json:"endTimeTimestamp"`
	} `json:"dateRange"`
}

func (p *platformItemProp) prop() ItemProp {
	out := ItemProp{Name: string(p.PropName), PropInput: PropInput{
		PropID: int64(p.PropID), Text: string(p.TextPropValue), ImageURLs: p.ImagePropValues, Time: msTime(p.DatetimeTimestamp),
	}}
	if p.RadioPropValue != nil {
		out.Values = append(out.Values, PropValue{ID: int64(p.RadioPropValue.PropValueID), Value: string(p.RadioPropValue.PropValue)})
	}
	out.Values = append(out.Values, propValues(p.CheckBoxPropValuesList)...)
	if len(out.Values) == 0 {
		out.Values = nil
	}
	if p.DateRange != nil {
		out.Time, out.EndTime = msTime(p.DateRange.Start), msTime(p.DateRange.End)
	}
	return out
}

type platformSku struct {
	SkuID          i64 `json:"skuId"`
	RelSkuID       i64 `json:"relSkuId"`
	SkuNick        str `json:"skuNick"`
	Specification  str `json:"specification"`
	SkuSalePrice   i64 `json:"skuSalePrice"`
	SkuMarketPrice i64 `json:"skuMarketPrice"`
	SkuStock       i64 `json:"skuStock"`
	// The schema's names: kwaiSkuId, and skuProp in reads (skuProps in
	// writes).
	KwaiSkuID i64               `json:"kwaiSkuId"`
	SkuProp   []platformSkuProp `json:"skuProp"`
	SkuProps  []platformSkuProp `json:"skuProps"`
}

type platformItem struct {
	KwaiItemID   i64           `json:"kwaiItemId"`
	ItemID       i64           `json:"itemId"` // open.item.get's name
	RelItemID    i64           `json:"relItemId"`
	Title        str           `json:"title"`
	Price        i64           `json:"price"`
	ShelfStatus  opt64         `json:"shelfStatus"`
	AuditStatus  i64           `json:"auditStatus"`
	CategoryID   i64           `json:"categoryId"`
	CategoryName str           `json:"categoryName"`
	MainImageURL str           `json:"mainImageUrl"`
	ImageURLs    strList       `json:"imageUrls"`
	CreateTime   i64           `json:"createTime"`
	CreatedTime  i64           `json:"createdTime"` // open.item.get's name
	UpdateTime   i64           `json:"updateTime"`
	SkuList      []platformSku `json:"skuList"`  // list entries
	SkuInfos     []platformSku `json:"skuInfos"` // details

	ItemPropValues  []platformItemProp `json:"itemPropValues"`
	DetailImageURLs strList            `json:"detailImageUrls"`
	Details         str                `json:"details"`
}

// shelfStatus maps the platform's 1 on / 0 off; anything else (or absent)
// is ShelfUnknown, with the value still in Raw.
func shelfStatus(o opt64) ShelfStatus {
	switch {
	case o.Set && o.V == 1:
		return ShelfOn
	case o.Set && o.V == 0:
		return ShelfOff
	}
	return ShelfUnknown
}

// decodeItem decodes one platform item object (list entry or detail).
func decodeItem(raw []byte) (Item, error) {
	var v platformItem
	if err := decode(raw, &v); err != nil {
		return Item{}, err
	}
	return v.item(rawString(raw)), nil
}

// item converts the decoded JSON; raw is its compact text.
func (it *platformItem) item(raw string) Item {
	id, created := it.KwaiItemID, it.CreateTime
	if id == 0 {
		id = it.ItemID
	}
	if created == 0 {
		created = it.CreatedTime
	}
	out := Item{
		ID:           int64(id),
		RelItemID:    int64(it.RelItemID),
		Title:        string(it.Title),
		PriceFen:     int64(it.Price),
		ShelfStatus:  shelfStatus(it.ShelfStatus),
		AuditStatus:  int32(it.AuditStatus),
		CategoryID:   int64(it.CategoryID),
		CategoryName: string(it.CategoryName),
		MainImageURL: string(it.MainImageURL),
		ImageURLs:    it.ImageURLs,
		CreateTime:   msTime(created),
		UpdateTime:   msTime(it.UpdateTime),
		Raw:          raw,

		DetailImageURLs: it.DetailImageURLs,
		Details:         string(it.Details),
	}
	for i := range it.ItemPropValues {
		out.Props = append(out.Props, it.ItemPropValues[i].prop())
	}
	skus := it.SkuInfos
	if len(skus) == 0 {
		skus = it.SkuList
	}
	if len(skus) > 0 {
		out.Skus = make([]Sku, 0, len(skus))
		for _, s := range skus {
			id := s.SkuID
			if id == 0 {
				id = s.KwaiSkuID
			}
			sku := Sku{
				ID: int64(id), RelSkuID: int64(s.RelSkuID), Nick: string(s.SkuNick), Specification: string(s.Specification),
				PriceFen: int64(s.SkuSalePrice), MarketPriceFen: int64(s.SkuMarketPrice), Stock: int64(s.SkuStock),
			}
			props := s.SkuProp
			if len(props) == 0 {
				props = s.SkuProps
			}
			for _, p := range props {
				sku.Specs = append(sku.Specs, SkuSpec{Name: string(p.PropName), Value: string(p.PropValueName), Main: p.IsMainProp == 1, ImageURL: string(p.ImageURL)})
			}
			out.Skus = append(out.Skus, sku)
		}
	}
	return out
}

// ListItems pages through open.item.list.get. The platform numbers its
// pages; the gateway's token holds an item offset, so the page size may
// change between pages.
func (s Shop) ListItems(ctx context.Context, p Page) (Listing[Item], error) {
	filter := filterHash("items", s.OpenID)
	tok, _, err := parseToken(p.Token, filter)
	if err != nil {
		return Listing[Item]{}, err
	}
	if tok.Offset < 0 || tok.Offset > 1<<31 {
		return Listing[Item]{}, fmt.Errorf("%w: offset out of range", ErrPageToken)
	}
	size := p.size()
	platSize := int64(min(max(size, itemPageMin), itemPageMax))
	out := Listing[Item]{Items: make([]Item, 0, size)}
	pos, done := tok.Offset, false
	for len(out.Items) < size && !done {
		resp, err := s.read(ctx, apiItemList, map[string]any{"pageNumber": pos/platSize + 1, "pageSize": platSize})
		if err != nil {
			return Listing[Item]{}, err
		}
		var data struct {
			TotalItemCount i64            `json:"totalItemCount"`
			Items          []platformItem `json:"items"`
		}
		if err := decodeData(resp, apiItemList, &data); err != nil {
			return Listing[Item]{}, err
		}
		raws, err := rawElements(resp.Data, "items", len(data.Items))
		if err != nil {
			return Listing[Item]{}, badData(resp, apiItemList, err)
		}
		out.TotalSize = int64(data.TotalItemCount)
		skip := int(pos % platSize)
		if skip >= len(data.Items) {
			done = true
			break
		}
		take := data.Items[skip:min(len(data.Items), skip+size-len(out.Items))]
		for i := range take {
			out.Items = append(out.Items, take[i].item(raws[skip+i]))
		}
		pos += int64(len(take))
		done = int64(len(data.Items)) < platSize || (out.TotalSize > 0 && pos >= out.TotalSize)
		if skip+len(take) < len(data.Items) {
			done = false // stopped inside this platform page: more follow
		}
	}
	if !done {
		out.NextPageToken = pageToken{V: tokenVersion, Filter: filter, Offset: pos}.encode()
	}
	return out, nil
}

// GetItem reads open.item.get.
func (s Shop) GetItem(ctx context.Context, itemID int64) (Item, error) {
	resp, err := s.read(ctx, apiItemGet, map[string]any{"kwaiItemId": itemID})
	if err != nil {
		return Item{}, err
	}
	it, err := decodeItem(resp.Data)
	if err != nil {
		return Item{}, badData(resp, apiItemGet, err)
	}
	return it, nil
}

// StockChange is the direction of a stock update.
type StockChange int8

// Stock changes (the platform's changeType).
const (
	StockAdd    StockChange = 1
	StockReduce StockChange = 2
)

// StockUpdate adds to or takes from a SKU's stock.
type StockUpdate struct {
	ItemID   int64
	SkuID    int64
	Change   StockChange
	Quantity int64
}

// UpdateSkuStock sends open.item.sku.stock.update and returns the
// platform's request id.
func (s Shop) UpdateSkuStock(ctx context.Context, u StockUpdate) (string, error) {
	return s.writeID(ctx, apiItemStockUpdate, map[string]any{
		"kwaiItemId": u.ItemID, "skuId": u.SkuID, "skuChangeStock": u.Quantity, "changeType": int32(u.Change),
	})
}

// PriceUpdate sets a SKU's price.
type PriceUpdate struct {
	ItemID   int64
	SkuID    int64
	PriceFen int64
}

// UpdateSkuPrice sends open.item.sku.price.update and returns the
// platform's request id.
func (s Shop) UpdateSkuPrice(ctx context.Context, u PriceUpdate) (string, error) {
	return s.writeID(ctx, apiItemPriceUpdate, map[string]any{"itemId": u.ItemID, "skuId": u.SkuID, "price": u.PriceFen})
}

// SetItemShelfStatus sends open.item.shelf.status.update (the platform's 1
// on, 0 off) and returns the platform's request id.
func (s Shop) SetItemShelfStatus(ctx context.Context, itemID int64, status ShelfStatus) (string, error) {
	shelf := 0
	if status == ShelfOn {
		shelf = 1
	}
	return s.writeID(ctx, apiItemShelfUpdate, map[string]any{"kwaiItemId": itemID, "shelfStatus": shelf})
}
