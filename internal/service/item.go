package service

import (
	"context"
	"encoding/json"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
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

// UploadImage stores an image on the platform (open.item.image.upload, a
// multipart upload of imgBytes) and returns its URL. Not a write of the
// idempotency store: a repeat only stores the image once more.
func (s *Item) UploadImage(ctx context.Context, req *gatewayv1.UploadImageRequest) (*gatewayv1.UploadImageResponse, error) {
	shop, err := s.base.shop(ctx, req.GetOpenId())
	if err != nil {
		return nil, s.base.status(ctx, err)
	}
	param, err := json.Marshal(struct {
		UploadType int32  `json:"uploadType"`
		ImgURL     string `json:"imgUrl"`
	}{int32(req.GetUploadType()), req.GetImageUrl()})
	if err != nil {
		return nil, s.base.status(ctx, err)
	}
	resp, err := shop.Caller.Do(ctx, &platform.Request{
		Method: uploadImageAPI,
		Param:  param,
		OpenID: shop.OpenID,
		Token:  shop.Token,
		Files:  []platform.File{{Field: "imgBytes", Content: req.GetImage()}},
	})
	if err != nil {
		return nil, fileStatus(ctx, s.base.cfg.Log, err, func(string) string { return "image" })
	}
	var img struct {
		KwaiImgURL   string `json:"kwaiImgUrl"`
		OriginImgURL string `json:"originImgUrl"`
	}
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		if err := json.Unmarshal(resp.Data, &img); err != nil {
			return nil, s.base.status(ctx, &platform.Error{Method: uploadImageAPI, Class: platform.ClassUpstream, Msg: "the answer's data is not an image object", Err: err})
		}
	}
	return &gatewayv1.UploadImageResponse{
		KwaiImageUrl:      img.KwaiImgURL,
		OriginImageUrl:    img.OriginImgURL,
		PlatformRequestId: resp.RequestID,
		Raw:               string(resp.Data),
	}, nil
}

// uploadImageAPI is the platform API of UploadImage.
const uploadImageAPI = "open.item.image.upload"
