package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListItems lists the shop's items.
func (s *Item) ListItems(ctx context.Context, req *gatewayv1.ListItemsRequest) (*gatewayv1.ListItemsResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListItemsResponse, error) {
		l, err := shop.ListItems(ctx, page(req.GetPageSize(), req.GetPageToken()))
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.ListItemsResponse{Items: make([]*gatewayv1.Item, len(l.Items)), NextPageToken: l.NextPageToken, TotalSize: l.TotalSize}
		for i := range l.Items {
			out.Items[i] = itemProto(&l.Items[i])
		}
		return out, nil
	})
}

// GetItem returns one item.
func (s *Item) GetItem(ctx context.Context, req *gatewayv1.GetItemRequest) (*gatewayv1.GetItemResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.GetItemResponse, error) {
		it, err := shop.GetItem(ctx, req.GetItemId())
		if err != nil {
			return nil, err
		}
		return &gatewayv1.GetItemResponse{Item: itemProto(&it)}, nil
	})
}

// UpdateSkuStock changes a SKU's stock, once per request_id.
func (s *Item) UpdateSkuStock(ctx context.Context, req *gatewayv1.UpdateSkuStockRequest) (*gatewayv1.UpdateSkuStockResponse, error) {
	return write(ctx, s.base, "ItemService-UpdateSkuStock", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.UpdateSkuStockResponse, error) {
		id, err := shop.UpdateSkuStock(ctx, commerce.StockUpdate{
			ItemID: req.GetItemId(), SkuID: req.GetSkuId(), Change: stockChange(req.GetChange()), Quantity: req.GetQuantity(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.UpdateSkuStockResponse{ItemId: req.GetItemId(), SkuId: req.GetSkuId(), PlatformRequestId: id}, nil
	})
}

// UpdateSkuPrice sets a SKU's price, once per request_id.
func (s *Item) UpdateSkuPrice(ctx context.Context, req *gatewayv1.UpdateSkuPriceRequest) (*gatewayv1.UpdateSkuPriceResponse, error) {
	return write(ctx, s.base, "ItemService-UpdateSkuPrice", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.UpdateSkuPriceResponse, error) {
		id, err := shop.UpdateSkuPrice(ctx, commerce.PriceUpdate{ItemID: req.GetItemId(), SkuID: req.GetSkuId(), PriceFen: req.GetPriceFen()})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.UpdateSkuPriceResponse{ItemId: req.GetItemId(), SkuId: req.GetSkuId(), PlatformRequestId: id}, nil
	})
}

// SetItemShelfStatus puts an item on or off the shelf, once per request_id.
func (s *Item) SetItemShelfStatus(ctx context.Context, req *gatewayv1.SetItemShelfStatusRequest) (*gatewayv1.SetItemShelfStatusResponse, error) {
	return write(ctx, s.base, "ItemService-SetItemShelfStatus", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.SetItemShelfStatusResponse, error) {
		id, err := shop.SetItemShelfStatus(ctx, req.GetItemId(), shelfStatus(req.GetShelfStatus()))
		if err != nil {
			return nil, err
		}
		return &gatewayv1.SetItemShelfStatusResponse{ItemId: req.GetItemId(), PlatformRequestId: id}, nil
	})
}
