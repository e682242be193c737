package sandbox

// Shop and seller APIs (docs/sandbox.md, Emulated APIs). Both take param {}.

func shopInfoGet(c *call) (any, *apiError) { return &c.shop.info, nil }

func sellerGet(c *call) (any, *apiError) { return &c.shop.seller, nil }
