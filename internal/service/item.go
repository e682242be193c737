package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListItems lists the shop's items.
func (s *Item) ListItems(ctx context.Context, req *gatewayv1.ListItemsRequest) (*gatewayv1.ListItemsResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListItems)
}

// GetItem returns one item.
func (s *Item) GetItem(ctx context.Context, req *gatewayv1.GetItemRequest) (*gatewayv1.GetItemResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.GetItem)
}

// UpdateSkuStock changes a SKU's stock, once per request_id.
func (s *Item) UpdateSkuStock(ctx context.Context, req *gatewayv1.UpdateSkuStockRequest) (*gatewayv1.UpdateSkuStockResponse, error) {
	return write(ctx, s.base, "ItemService-UpdateSkuStock", req, commerce.Shop.UpdateSkuStock)
}

// UpdateSkuPrice sets a SKU's price, once per request_id.
func (s *Item) UpdateSkuPrice(ctx context.Context, req *gatewayv1.UpdateSkuPriceRequest) (*gatewayv1.UpdateSkuPriceResponse, error) {
	return write(ctx, s.base, "ItemService-UpdateSkuPrice", req, commerce.Shop.UpdateSkuPrice)
}

// SetItemShelfStatus puts an item on or off the shelf, once per request_id.
func (s *Item) SetItemShelfStatus(ctx context.Context, req *gatewayv1.SetItemShelfStatusRequest) (*gatewayv1.SetItemShelfStatusResponse, error) {
	return write(ctx, s.base, "ItemService-SetItemShelfStatus", req, commerce.Shop.SetItemShelfStatus)
}
