package emulated

import (
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Shop and seller APIs (docs/sandbox.md, Emulated APIs). Both take param {}.

func shopInfoGet(c *api.Call) (any, *api.Error) { return &c.Shop.Info, nil }

// sellerGet names the shop's main account; a sub-account's token also gets
// staffInfo, the sub-account [API].
func sellerGet(c *api.Call) (any, *api.Error) {
	staff := c.User.Staff()
	if staff == nil {
		return &c.Shop.Seller, nil
	}
	return &struct {
		*shop.SellerInfo
		StaffInfo *shop.StaffInfo `json:"staffInfo"`
	}{&c.Shop.Seller, staff}, nil
}
