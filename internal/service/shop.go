package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// GetShop returns the shop with its seller.
func (s *Shop) GetShop(ctx context.Context, req *gatewayv1.GetShopRequest) (*gatewayv1.GetShopResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.GetShopResponse, error) {
		info, err := shop.GetShop(ctx)
		if err != nil {
			return nil, err
		}
		return &gatewayv1.GetShopResponse{Shop: shopProto(info)}, nil
	})
}
