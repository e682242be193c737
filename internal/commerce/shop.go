package commerce

import (
	"context"

	"golang.org/x/sync/errgroup"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Shop APIs.
const (
	apiShopInfo   = "open.shop.info.get"
	apiSellerInfo = "open.user.seller.get"
)

// GetShop reads open.shop.info.get and open.user.seller.get (in parallel).
func (s Shop) GetShop(ctx context.Context, _ *gatewayv1.GetShopRequest) (*gatewayv1.GetShopResponse, error) {
	var info, seller *platform.Response
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		info, err = s.read(gctx, apiShopInfo, struct{}{})
		return err
	})
	g.Go(func() (err error) {
		seller, err = s.read(gctx, apiSellerInfo, struct{}{})
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var si struct {
		ShopName str `json:"shopName"`
		ShopType i64 `json:"shopType"`
	}
	if err := decodeData(info, apiShopInfo, &si); err != nil {
		return nil, err
	}
	var se struct {
		Name     str `json:"name"`
		SellerID i64 `json:"sellerId"`
		Head     str `json:"head"`
	}
	if err := decodeData(seller, apiSellerInfo, &se); err != nil {
		return nil, err
	}
	return &gatewayv1.GetShopResponse{Shop: &gatewayv1.Shop{
		OpenId:   s.OpenID,
		Name:     string(si.ShopName),
		ShopType: int32(si.ShopType),
		Raw:      rawString(info.Data),
		Seller: &gatewayv1.Seller{
			SellerId: int64(se.SellerID), Name: string(se.Name), AvatarUrl: string(se.Head), Raw: rawString(seller.Data),
		},
	}}, nil
}
