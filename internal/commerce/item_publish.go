package commerce

import (
	"context"
	"fmt"
	"slices"
)

// Item writes (docs/items.md).
const (
	apiItemNew  = "open.item.new"
	apiItemEdit = "open.item.edit"
)

// SkuSpec is one specification of a SKU (颜色: 白色).
type SkuSpec struct {
	Name     string
	Value    string
	Main     bool
	ImageURL string
}

// NewSku is a SKU of a new item.
type NewSku struct {
	RelSkuID       int64
	Nick           string
	PriceFen       int64
	MarketPriceFen int64
	Stock          int64
	Specs          []SkuSpec
}

// NewItem is an item to create.
type NewItem struct {
	CategoryID        int64
	Title             string
	RelItemID         int64
	ImageURLs         []string
	DetailImageURLs   []string
	Details           string
	ExpressTemplateID int64
	RefundRule        int32
	Props             []PropInput
	Skus              []NewSku
}

// SkuRef pairs a SKU's platform id with the seller's.
type SkuRef struct {
	ID       int64
	RelSkuID int64
	Nick     string
}

// ItemRef is the answer of a create or an edit.
type ItemRef struct {
	ID        int64
	RelItemID int64
	Skus      []SkuRef
	RequestID string // the platform's
}

// specsParam renders skuProps: custom specifications (propVersion 1).
func specsParam(specs []SkuSpec) []map[string]any {
	out := make([]map[string]any, len(specs))
	for i, sp := range specs {
		main := 0
		if sp.Main {
			main = 1
		}
		m := map[string]any{"propName": sp.Name, "propValueName": sp.Value, "isMainProp": main, "propVersion": 1, "propSortNum": i + 1}
		if sp.ImageURL != "" {
			m["imageUrl"] = sp.ImageURL
		}
		out[i] = m
	}
	return out
}

// CreateItem checks it against the category's rules (cached in rules) and
// sends open.item.new. A rule problem is FieldErrors, with nothing sent.
func (s Shop) CreateItem(ctx context.Context, rules *RuleCache, it NewItem) (ItemRef, error) {
	r, err := rules.Get(ctx, s, it.CategoryID)
	if err != nil {
		return ItemRef{}, err
	}
	errs := r.Check("properties", it.Props)
	if len(r.RefundRules) > 0 && !slices.Contains(r.RefundRules, it.RefundRule) {
		errs = append(errs, &FieldError{Field: "refund_rule", Description: fmt.Sprintf("category %d allows the refund rules %v", it.CategoryID, r.RefundRules)})
	}
	if len(errs) > 0 {
		return ItemRef{}, errs
	}
	skus := make([]map[string]any, len(it.Skus))
	for i, k := range it.Skus {
		m := map[string]any{"relSkuId": k.RelSkuID, "skuSalePrice": k.PriceFen, "skuStock": k.Stock, "skuProps": specsParam(k.Specs)}
		if k.Nick != "" {
			m["skuNick"] = k.Nick
		}
		if k.MarketPriceFen > 0 {
			m["skuMarketPrice"] = k.MarketPriceFen
		}
		skus[i] = m
	}
	param := map[string]any{
		"categoryId": it.CategoryID, "title": it.Title, "relItemId": it.RelItemID, "imageUrls": it.ImageURLs,
		"detailImageUrls": it.DetailImageURLs, "details": it.Details, "expressTemplateId": it.ExpressTemplateID,
		"itemPropValues": platformProps(r, it.Props), "skuList": skus,
		"serviceRule": map[string]any{"refundRule": fmt.Sprint(it.RefundRule), "servicePromise": map[string]any{}},
	}
	return s.itemWrite(ctx, apiItemNew, param)
}

// UpdateSku changes one SKU of an item; nil members stay as they are.
type UpdateSku struct {
	ID             int64
	PriceFen       int64
	Stock          *int64
	MarketPriceFen *int64
	Nick           *string
}

// ItemUpdate is a change of an item; nil and empty members stay as they
// are.
type ItemUpdate struct {
	ItemID          int64
	Title           *string
	CategoryID      int64 // 0: unchanged
	ImageURLs       []string
	DetailImageURLs []string
	Details         *string
	UpdateProps     bool
	Props           []PropInput
	Skus            []UpdateSku
}

// UpdateItem sends open.item.edit. With UpdateProps the properties are
// checked first against the rules of the item's category (the new one, or
// the current one read with open.item.get).
func (s Shop) UpdateItem(ctx context.Context, rules *RuleCache, u ItemUpdate) (ItemRef, error) {
	param := map[string]any{"itemId": u.ItemID}
	if u.UpdateProps {
		cat := u.CategoryID
		if cat == 0 {
			cur, err := s.GetItem(ctx, u.ItemID)
			if err != nil {
				return ItemRef{}, err
			}
			cat = cur.CategoryID
		}
		r, err := rules.Get(ctx, s, cat)
		if err != nil {
			return ItemRef{}, err
		}
		if errs := r.Check("properties", u.Props); len(errs) > 0 {
			return ItemRef{}, errs
		}
		param["updateItemPropValues"] = true
		param["itemPropValues"] = platformProps(r, u.Props)
	}
	if u.Title != nil {
		param["title"] = *u.Title
	}
	if u.CategoryID != 0 {
		param["categoryId"] = u.CategoryID
	}
	if len(u.ImageURLs) > 0 {
		param["imageUrls"] = u.ImageURLs
	}
	if len(u.DetailImageURLs) > 0 {
		param["detailImageUrls"] = u.DetailImageURLs
		param["updateDetailImageUrls"] = true
	}
	if u.Details != nil {
		param["details"] = *u.Details
	}
	if len(u.Skus) > 0 {
		skus := make([]map[string]any, len(u.Skus))
		for i, k := range u.Skus {
			// skuChangeStock and skuStockChangeType are required: an
			// unchanged stock is an add of 0.
			m := map[string]any{"skuId": k.ID, "skuSalePrice": k.PriceFen, "skuChangeStock": 0, "skuStockChangeType": 1}
			if k.Stock != nil {
				m["skuChangeStock"], m["skuStockChangeType"] = *k.Stock, 3
			}
			if k.MarketPriceFen != nil {
				m["skuMarketPrice"] = *k.MarketPriceFen
			}
			if k.Nick != nil {
				m["skuNick"] = *k.Nick
			}
			skus[i] = m
		}
		param["skuList"] = skus
	}
	return s.itemWrite(ctx, apiItemEdit, param)
}

// itemWrite sends open.item.new or open.item.edit and decodes the answer
// {kwaiItemId, relItemId, skuIdMapping}.
func (s Shop) itemWrite(ctx context.Context, api string, param map[string]any) (ItemRef, error) {
	resp, err := s.write(ctx, api, param)
	if err != nil {
		return ItemRef{}, err
	}
	var data struct {
		KwaiItemID   i64 `json:"kwaiItemId"`
		RelItemID    i64 `json:"relItemId"`
		SkuIDMapping []struct {
			KwaiSkuID i64 `json:"kwaiSkuId"`
			RelSkuID  i64 `json:"relSkuId"`
			SkuNick   str `json:"skuNick"`
		} `json:"skuIdMapping"`
	}
	if err := decodeData(resp, api, &data); err != nil {
		return ItemRef{}, err
	}
	out := ItemRef{ID: int64(data.KwaiItemID), RelItemID: int64(data.RelItemID), RequestID: resp.RequestID}
	for _, m := range data.SkuIDMapping {
		out.Skus = append(out.Skus, SkuRef{ID: int64(m.KwaiSkuID), RelSkuID: int64(m.RelSkuID), Nick: string(m.SkuNick)})
	}
	return out, nil
}
