package emulated

import "github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"

// Shop and seller APIs (docs/sandbox.md, Emulated APIs). Both take param {}.

func shopInfoGet(c *api.Call) (any, *api.Error) { return &c.Shop.Info, nil }

func sellerGet(c *api.Call) (any, *api.Error) { return &c.Shop.Seller, nil }
