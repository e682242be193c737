package emulated

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/ids"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Logistics APIs (docs/sandbox.md, Emulated APIs): express (freight)
// templates, seller addresses and electronic waybills. open.express.ebill.get
// answers in the catalog's shape; the templates' and addresses' shapes are
// UNCONFIRMED, their field names following the platform's naming habits.

// ebillRequestIDMax is the longest requestId of a waybill request (the
// catalog's maxLength).
const ebillRequestIDMax = 128

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

// ebillOrderResponse is one entry of open.express.ebill.get's data, in the
// catalog's shape (GetEbillOrderResponse): the request's requestId, whether
// it got a number, and the waybills issued for it.
type ebillOrderResponse struct {
	RequestID    string             `json:"requestId"`
	BaseResponse ebillBaseResponse  `json:"baseResponse"`
	Data         []ebillOrderResult `json:"data"`
}

type ebillBaseResponse struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Success bool   `json:"success"`
}

// ebillOrderResult is one waybill (GetEbillOrderDTO). printData stands in
// for the platform's encrypted print payload (base64 JSON); key, signature
// and version are what a print component needs beside it: a random key per
// waybill and the HMAC-SHA256 of printData under it.
type ebillOrderResult struct {
	Key               string `json:"key"`
	WaybillCode       string `json:"waybillCode"`
	ParentWaybillCode string `json:"parentWaybillCode,omitempty"`
	PrintData         string `json:"printData"`
	Signature         string `json:"signature"`
	Version           string `json:"version"`
}

// ebillPrintVersion is the version of the sandbox's print data.
const ebillPrintVersion = "1"

// ebillGet: open.express.ebill.get (getEbillOrderRequest[] of
// {requestId, expressCompanyCode, tradeOrderCode, ...}, 1-10 per call).
// Each request needs a requestId of at most 128 characters, unique in the
// call. Issues one waybill per request; the data has one entry per
// request, in order, echoing its requestId.
//
// The catalog documents requestId as the server's idempotence key
// ("服务端做幂等使用"): a requestId the shop has used before answers the
// waybill it got then, the same code and print data, without issuing
// another, whatever the rest of the request says and even once the waybill
// is cancelled (both UNCONFIRMED). The catalog's other rule, that the same
// tradeOrderCode and packageCode give the same waybill, is not emulated.
func ebillGet(c *api.Call) (any, *api.Error) {
	reqs, e := c.Objects("getEbillOrderRequest")
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > rules.EbillBatchMax {
		return nil, api.BadParam("param.getEbillOrderRequest must hold 1 to %d requests", rules.EbillBatchMax)
	}
	type want struct{ id, company, trade string }
	wants := make([]want, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		id, e := r.Str("requestId")
		if e != nil {
			return nil, e
		}
		switch {
		case id == "" || utf8.RuneCountInString(id) > ebillRequestIDMax:
			return nil, api.BadParam("getEbillOrderRequest[%d].requestId is required, at most %d characters", i, ebillRequestIDMax)
		case seen[id]:
			return nil, api.BadParam("getEbillOrderRequest[%d].requestId repeats an earlier request's", i)
		}
		seen[id] = true
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
		wants[i] = want{id, company, trade}
	}
	issued := issuedWaybills(c.Shop)
	out := make([]ebillOrderResponse, len(wants))
	for i, w := range wants {
		wb := issued[w.id]
		if wb == nil {
			code := c.Shop.NewWaybillCode(w.company)
			pd, _ := json.Marshal(map[string]any{"waybillCode": code, "cpCode": w.company, "sender": c.Shop.Seller.Name, "issuedAt": clock.Millis(c.Now)})
			wb = &shop.Waybill{
				Code: code, Company: w.company, TradeOrderCode: w.trade,
				RequestID: w.id, Key: ids.Hex(16), PrintData: base64.StdEncoding.EncodeToString(pd),
			}
			c.Shop.Waybills[code] = wb
		}
		out[i] = ebillOrderResponse{
			RequestID:    w.id,
			BaseResponse: ebillBaseResponse{Result: 1, Message: "success", Success: true},
			Data:         []ebillOrderResult{ebillResult(wb)},
		}
	}
	return out, nil
}

// issuedWaybills indexes the shop's waybills by the requestId they were
// issued for.
func issuedWaybills(sh *shop.Shop) map[string]*shop.Waybill {
	out := make(map[string]*shop.Waybill, len(sh.Waybills))
	for _, wb := range sh.Waybills {
		out[wb.RequestID] = wb
	}
	return out
}

// ebillResult is a waybill's entry of the answer: its code, print data and
// key, and the HMAC-SHA256 of the print data under the key.
func ebillResult(wb *shop.Waybill) ebillOrderResult {
	mac := hmac.New(sha256.New, []byte(wb.Key))
	mac.Write([]byte(wb.PrintData))
	return ebillOrderResult{
		Key: wb.Key, WaybillCode: wb.Code, PrintData: wb.PrintData,
		Signature: hex.EncodeToString(mac.Sum(nil)), Version: ebillPrintVersion,
	}
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
