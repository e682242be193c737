package commerce

import (
	"context"
	"encoding/json"
	"fmt"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// Item APIs.
const (
	apiItemList        = "open.item.list.get"
	apiItemGet         = "open.item.get"
	apiItemStockUpdate = "open.item.sku.stock.update"
	apiItemPriceUpdate = "open.item.sku.price.update"
	apiItemShelfUpdate = "open.item.shelf.status.update"

	// open.item.list.get takes pageSize 10-100 ([TS]); smaller gateway pages
	// are cut from a 10-item platform page.
	itemPageMin = 10
	itemPageMax = 100
)

type platformSku struct {
	SkuID          i64 `json:"skuId"`
	RelSkuID       i64 `json:"relSkuId"`
	SkuNick        str `json:"skuNick"`
	Specification  str `json:"specification"`
	SkuSalePrice   i64 `json:"skuSalePrice"`
	SkuMarketPrice i64 `json:"skuMarketPrice"`
	SkuStock       i64 `json:"skuStock"`
}

type platformItem struct {
	KwaiItemID   i64           `json:"kwaiItemId"`
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
	UpdateTime   i64           `json:"updateTime"`
	SkuList      []platformSku `json:"skuList"`  // list entries
	SkuInfos     []platformSku `json:"skuInfos"` // details
}

// shelfStatus maps the platform's 1 on / 0 off; anything else (or absent)
// is UNSPECIFIED, with the value still in raw.
func shelfStatus(o opt64) gatewayv1.ShelfStatus {
	switch {
	case o.Set && o.V == 1:
		return gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF
	case o.Set && o.V == 0:
		return gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF
	}
	return gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED
}

// ItemProto converts one platform item object (list entry or detail).
func ItemProto(raw json.RawMessage) (*gatewayv1.Item, error) {
	var it platformItem
	if err := decode(raw, &it); err != nil {
		return nil, err
	}
	out := &gatewayv1.Item{
		ItemId:       int64(it.KwaiItemID),
		RelItemId:    int64(it.RelItemID),
		Title:        string(it.Title),
		PriceFen:     int64(it.Price),
		ShelfStatus:  shelfStatus(it.ShelfStatus),
		AuditStatus:  int32(it.AuditStatus),
		CategoryId:   int64(it.CategoryID),
		CategoryName: string(it.CategoryName),
		MainImageUrl: string(it.MainImageURL),
		ImageUrls:    it.ImageURLs,
		CreateTime:   msTime(it.CreateTime),
		UpdateTime:   msTime(it.UpdateTime),
		Raw:          rawString(raw),
	}
	skus := it.SkuInfos
	if len(skus) == 0 {
		skus = it.SkuList
	}
	for _, s := range skus {
		out.Skus = append(out.Skus, &gatewayv1.Sku{
			SkuId: int64(s.SkuID), RelSkuId: int64(s.RelSkuID), SkuNick: string(s.SkuNick), Specification: string(s.Specification),
			PriceFen: int64(s.SkuSalePrice), MarketPriceFen: int64(s.SkuMarketPrice), Stock: int64(s.SkuStock),
		})
	}
	return out, nil
}

// ListItems pages through open.item.list.get. The platform numbers its
// pages; the gateway's token holds an item offset, so page_size may change
// between pages.
func (s Shop) ListItems(ctx context.Context, req *gatewayv1.ListItemsRequest) (*gatewayv1.ListItemsResponse, error) {
	filter := filterHash("items", s.OpenID)
	tok, _, err := parseToken(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	if tok.Offset < 0 || tok.Offset > 1<<31 {
		return nil, fmt.Errorf("%w: offset out of range", ErrPageToken)
	}
	size := pageSize(req.GetPageSize())
	platSize := int64(min(max(size, itemPageMin), itemPageMax))
	out := &gatewayv1.ListItemsResponse{Items: make([]*gatewayv1.Item, 0, size)}
	pos, done := tok.Offset, false
	for len(out.Items) < size && !done {
		resp, err := s.read(ctx, apiItemList, map[string]any{"pageNumber": pos/platSize + 1, "pageSize": platSize})
		if err != nil {
			return nil, err
		}
		var data struct {
			TotalItemCount i64               `json:"totalItemCount"`
			Items          []json.RawMessage `json:"items"`
		}
		if err := decodeData(resp, apiItemList, &data); err != nil {
			return nil, err
		}
		out.TotalSize = int64(data.TotalItemCount)
		skip := int(pos % platSize)
		if skip >= len(data.Items) {
			done = true
			break
		}
		take := data.Items[skip:min(len(data.Items), skip+size-len(out.Items))]
		for _, raw := range take {
			it, err := ItemProto(raw)
			if err != nil {
				return nil, badData(resp, apiItemList, err)
			}
			out.Items = append(out.Items, it)
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
func (s Shop) GetItem(ctx context.Context, req *gatewayv1.GetItemRequest) (*gatewayv1.GetItemResponse, error) {
	resp, err := s.read(ctx, apiItemGet, map[string]any{"kwaiItemId": req.GetItemId()})
	if err != nil {
		return nil, err
	}
	it, err := ItemProto(resp.Data)
	if err != nil {
		return nil, badData(resp, apiItemGet, err)
	}
	return &gatewayv1.GetItemResponse{Item: it}, nil
}

// UpdateSkuStock sends open.item.sku.stock.update (changeType 1 add, 2
// reduce).
func (s Shop) UpdateSkuStock(ctx context.Context, req *gatewayv1.UpdateSkuStockRequest) (*gatewayv1.UpdateSkuStockResponse, error) {
	resp, err := s.write(ctx, apiItemStockUpdate, map[string]any{
		"kwaiItemId": req.GetItemId(), "skuId": req.GetSkuId(), "skuChangeStock": req.GetQuantity(), "changeType": int32(req.GetChange()),
	})
	if err != nil {
		return nil, err
	}
	return &gatewayv1.UpdateSkuStockResponse{ItemId: req.GetItemId(), SkuId: req.GetSkuId(), PlatformRequestId: resp.RequestID}, nil
}

// UpdateSkuPrice sends open.item.sku.price.update.
func (s Shop) UpdateSkuPrice(ctx context.Context, req *gatewayv1.UpdateSkuPriceRequest) (*gatewayv1.UpdateSkuPriceResponse, error) {
	resp, err := s.write(ctx, apiItemPriceUpdate, map[string]any{
		"itemId": req.GetItemId(), "skuId": req.GetSkuId(), "price": req.GetPriceFen(),
	})
	if err != nil {
		return nil, err
	}
	return &gatewayv1.UpdateSkuPriceResponse{ItemId: req.GetItemId(), SkuId: req.GetSkuId(), PlatformRequestId: resp.RequestID}, nil
}

// SetItemShelfStatus sends open.item.shelf.status.update (1 on, 0 off).
func (s Shop) SetItemShelfStatus(ctx context.Context, req *gatewayv1.SetItemShelfStatusRequest) (*gatewayv1.SetItemShelfStatusResponse, error) {
	shelf := 0
	if req.GetShelfStatus() == gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF {
		shelf = 1
	}
	resp, err := s.write(ctx, apiItemShelfUpdate, map[string]any{"kwaiItemId": req.GetItemId(), "shelfStatus": shelf})
	if err != nil {
		return nil, err
	}
	return &gatewayv1.SetItemShelfStatusResponse{ItemId: req.GetItemId(), PlatformRequestId: resp.RequestID}, nil
}
