package emulated

import (
	"encoding/base64"
	"encoding/json"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Logistics APIs (docs/sandbox.md, Emulated APIs): express (freight)
// templates, seller addresses and electronic waybills. Response shapes are
// UNCONFIRMED (the schemas were not readable); field names follow the
// platform's naming habits.

type templateListData struct {
	Total     int                     `json:"total"`
	Templates []*shop.ExpressTemplate `json:"templates"`
}

// expressTemplateList: open.logistics.express.template.list (offset >= 0,
// limit 1-100 default 20, searchUsed: only templates in use).
func expressTemplateList(c *api.Call) (any, *api.Error) {
	offset, e := c.OptInt("offset", 0)
	if e != nil {
		return nil, e
	}
	if offset < 0 {
		return nil, api.BadParam("param.offset must be >= 0")
	}
	limit, e := c.IntIn("limit", 20, 1, rules.TemplatePageMax)
	if e != nil {
		return nil, e
	}
	used, e := c.Bool("searchUsed")
	if e != nil {
		return nil, e
	}
	var all []*shop.ExpressTemplate
	for _, t := range c.Shop.Templates {
		if !used || t.Used {
			all = append(all, t)
		}
	}
	data := &templateListData{Total: len(all), Templates: []*shop.ExpressTemplate{}}
	for i := offset; i < offset+limit && i < int64(len(all)); i++ {
		data.Templates = append(data.Templates, all[i])
	}
	return data, nil
}

// sellerAddressList: open.address.seller.list (addressType 2 return, 3
// ship-from; absent = both). The data is the list itself.
func sellerAddressList(c *api.Call) (any, *api.Error) {
	typ, e := c.OptInt("addressType", 0)
	if e != nil {
		return nil, e
	}
	if typ != 0 && typ != shop.AddressReturn && typ != shop.AddressShipFrom {
		return nil, api.BadParam("param.addressType must be 2 (return) or 3 (ship-from)")
	}
	out := []*shop.SellerAddress{}
	for _, a := range c.Shop.Addresses {
		if typ == 0 || int64(a.AddressType) == typ {
			out = append(out, a)
		}
	}
	return out, nil
}

type ebillResult struct {
	WaybillCode        string `json:"waybillCode"`
	ExpressCompanyCode string `json:"expressCompanyCode"`
	TradeOrderCode     string `json:"tradeOrderCode"`
	ParentWaybillCode  string `json:"parentWaybillCode"`
	PrintData          string `json:"printData"` // base64 JSON, stands in for the encrypted print payload
}

// ebillGet: open.express.ebill.get (getEbillOrderRequest[] of
// {expressCompanyCode, tradeOrderCode, ...}, 1-10 per call). Issues one
// waybill per request; the data is the list of results.
func ebillGet(c *api.Call) (any, *api.Error) {
	reqs, e := c.Objects("getEbillOrderRequest")
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > rules.EbillBatchMax {
		return nil, api.BadParam("param.getEbillOrderRequest must hold 1 to %d requests", rules.EbillBatchMax)
	}
	type want struct{ company, trade string }
	wants := make([]want, len(reqs))
	for i, r := range reqs {
		company, e := r.Str("expressCompanyCode")
		if e != nil {
			return nil, e
		}
		if !shop.KnownExpressCompany(company) {
			return nil, api.BadParam("getEbillOrderRequest[%d].expressCompanyCode %q: want one of %s", i, company, shop.ExpressCompanies())
		}
		trade, e := r.Str("tradeOrderCode")
		if e != nil {
			return nil, e
		}
		wants[i] = want{company, trade}
	}
	out := make([]ebillResult, len(wants))
	for i, w := range wants {
		code := c.Shop.NewWaybillCode(w.company)
		c.Shop.Waybills[code] = &shop.Waybill{Code: code, Company: w.company, TradeOrderCode: w.trade}
		pd, _ := json.Marshal(map[string]any{"waybillCode": code, "cpCode": w.company, "sender": c.Shop.Seller.Name, "issuedAt": clock.Millis(c.Now)})
		out[i] = ebillResult{WaybillCode: code, ExpressCompanyCode: w.company, TradeOrderCode: w.trade, PrintData: base64.StdEncoding.EncodeToString(pd)}
	}
	return out, nil
}

// ebillCancel: open.express.ebill.cancel (expressCompanyCode,
// waybillCode). A waybill cancels once.
func ebillCancel(c *api.Call) (any, *api.Error) {
	company, e := c.Str("expressCompanyCode")
	if e != nil {
		return nil, e
	}
	code, e := c.Str("waybillCode")
	if e != nil {
		return nil, e
	}
	if company == "" || code == "" {
		return nil, api.BadParam("param.expressCompanyCode and param.waybillCode are required")
	}
	wb := c.Shop.Waybills[code]
	switch {
	case wb == nil || wb.Company != company:
		return nil, api.Err(rules.CodeWaybill, "waybill %s of %s not found", code, company)
	case wb.Cancelled:
		return nil, api.Err(rules.CodeWaybill, "waybill %s is already cancelled", code)
	}
	wb.Cancelled = true
	return nil, nil
}
