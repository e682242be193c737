package commerce

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Shop APIs.
const (
	apiShopInfo   = "open.shop.info.get"
	apiSellerInfo = "open.user.seller.get"
)

// ShopInfo is an authorized shop with its seller.
type ShopInfo struct {
	OpenID   string
	Name     string
	ShopType int32
	Seller   Seller
	// Raw is the platform's JSON of the shop, compact.
	Raw string
}

// Seller is the user who owns a shop.
type Seller struct {
	ID        int64
	Name      string
	AvatarURL string
	// Raw is the platform's JSON of the seller, compact.
	Raw string
}

// GetShop reads open.shop.info.get and open.user.seller.get (in parallel).
func (s Shop) GetShop(ctx context.Context) (ShopInfo, error) {
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
		return ShopInfo{}, err
	}
	var si struct {
		ShopName str `json:"shopName"`
		ShopType i64 `json:"shopType"`
	}
	if err := decodeData(info, apiShopInfo, &si); err != nil {
		return ShopInfo{}, err
	}
	var se struct {
		Name     str `json:"name"`
		SellerID i64 `json:"sellerId"`
		Head     str `json:"head"`
	}
	if err := decodeData(seller, apiSellerInfo, &se); err != nil {
		return ShopInfo{}, err
	}
	return ShopInfo{
		OpenID:   s.OpenID,
		Name:     string(si.ShopName),
		ShopType: int32(si.ShopType),
		Raw:      rawString(info.Data),
		Seller:   Seller{ID: int64(se.SellerID), Name: string(se.Name), AvatarURL: string(se.Head), Raw: rawString(seller.Data)},
	}, nil
}
