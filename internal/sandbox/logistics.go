package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Logistics data and APIs (docs/sandbox.md, Emulated APIs): express (freight)
// templates, seller addresses and electronic waybills. Response shapes are
// UNCONFIRMED (the schemas were not readable); field names follow the
// platform's naming habits.

type expressTemplate struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	SendProvinceName string `json:"sendProvinceName"`
	SendProvinceCode int    `json:"sendProvinceCode"`
	SendCityName     string `json:"sendCityName"`
	SendCityCode     int    `json:"sendCityCode"`
	SendDistrictName string `json:"sendDistrictName"`
	SendDistrictCode int    `json:"sendDistrictCode"`
	CalType          int    `json:"calType"` // 1 by piece, 2 by weight
	FreeShipping     bool   `json:"freeShipping"`
	Used             bool   `json:"used"` // some item uses it (searchUsed filter)
	CreateTime       int64  `json:"createTime"`
	UpdateTime       int64  `json:"updateTime"`
}

// Seller address types of open.address.seller.list [TS].
const (
	addressReturn   = 2
	addressShipFrom = 3
)

type sellerAddress struct {
	AddressID      int64  `json:"addressId"`
	AddressType    int    `json:"addressType"`
	DefaultAddress bool   `json:"defaultAddress"`
	Consignee      string `json:"consignee"`
	Mobile         string `json:"mobile"`
	ProvinceCode   int    `json:"provinceCode"`
	Province       string `json:"province"`
	CityCode       int    `json:"cityCode"`
	City           string `json:"city"`
	DistrictCode   int    `json:"districtCode"`
	District       string `json:"district"`
	TownCode       int    `json:"townCode"`
	Town           string `json:"town"`
	Address        string `json:"address"`
}

type waybill struct {
	code, company, tradeOrderCode string
	cancelled                     bool
}

var templateNames = []struct {
	name string
	free bool
	cal  int
}{{"全国包邮", true, 1}, {"偏远地区不包邮", false, 1}, {"按件计费（首件10元）", false, 1}, {"按重量计费", false, 2}}

// seedLogistics adds templates and addresses to a generated shop and gives
// it its runtime generator. It draws from its own streams, so the rest of
// the shop's data is the same as without it.
func seedLogistics(sh *shop, seed int64, start time.Time) {
	id := uint64(sh.user.ID)
	g := gen{rand.New(rand.NewPCG(uint64(seed), 0x6c6f6769*id+7))}
	sh.live = gen{rand.New(rand.NewPCG(uint64(seed), 0x6c697665*id+11))}
	sh.waybills = map[string]*waybill{}
	uid := int64(sh.user.ID)
	reg := regions[g.intn(len(regions))]
	for n, t := range templateNames[:2+g.intn(3)] {
		created := start.Add(-g.between(60*day, 200*day))
		sh.templates = append(sh.templates, &expressTemplate{
			ID: 50_000_000 + uid*1_000_000 + int64(n+1), Name: t.name, FreeShipping: t.free, CalType: t.cal,
			SendProvinceName: reg.province, SendProvinceCode: reg.pcode, SendCityName: reg.city, SendCityCode: reg.ccode,
			SendDistrictName: reg.district, SendDistrictCode: reg.dcode, Used: n < 2,
			CreateTime: ms(created), UpdateTime: ms(created.Add(g.between(0, 30*day))),
		})
	}
	mobile := func() string { return mobilePrefixes[g.intn(len(mobilePrefixes))] + g.digits(8) }
	add := func(typ int, def bool, r int) {
		rg := regions[r]
		sh.addresses = append(sh.addresses, &sellerAddress{
			AddressID: 60_000_000 + uid*1_000_000 + int64(len(sh.addresses)+1), AddressType: typ, DefaultAddress: def,
			Consignee: sh.seller.Name, Mobile: mobile(),
			ProvinceCode: rg.pcode, Province: rg.province, CityCode: rg.ccode, City: rg.city,
			DistrictCode: rg.dcode, District: rg.district, TownCode: rg.tcode, Town: rg.town,
			Address: fmt.Sprintf("%s%d号 %s仓", streets[g.intn(len(streets))], 1+g.intn(300), sh.info.ShopName),
		})
	}
	home := g.intn(len(regions))
	add(addressShipFrom, true, home)
	add(addressReturn, true, home)
	add(addressReturn, false, g.intn(len(regions)))
}

type templateListData struct {
	Total     int                `json:"total"`
	Templates []*expressTemplate `json:"templates"`
}

// expressTemplateList: open.logistics.express.template.list (offset >= 0,
// limit 1-100 default 20, searchUsed: only templates in use).
func expressTemplateList(c *call) (any, *apiError) {
	offset, e := c.optInt("offset", 0)
	if e != nil {
		return nil, e
	}
	if offset < 0 {
		return nil, badParam("param.offset must be >= 0")
	}
	limit, e := c.intIn("limit", 20, 1, templatePageMax)
	if e != nil {
		return nil, e
	}
	used, e := c.bool("searchUsed")
	if e != nil {
		return nil, e
	}
	var all []*expressTemplate
	for _, t := range c.shop.templates {
		if !used || t.Used {
			all = append(all, t)
		}
	}
	data := &templateListData{Total: len(all), Templates: []*expressTemplate{}}
	for i := offset; i < offset+limit && i < int64(len(all)); i++ {
		data.Templates = append(data.Templates, all[i])
	}
	return data, nil
}

// sellerAddressList: open.address.seller.list (addressType 2 return, 3
// ship-from; absent = both). The data is the list itself.
func sellerAddressList(c *call) (any, *apiError) {
	typ, e := c.optInt("addressType", 0)
	if e != nil {
		return nil, e
	}
	if typ != 0 && typ != addressReturn && typ != addressShipFrom {
		return nil, badParam("param.addressType must be 2 (return) or 3 (ship-from)")
	}
	out := []*sellerAddress{}
	for _, a := range c.shop.addresses {
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

func knownCompany(code string) bool {
	for _, ex := range expressCodes {
		if ex.prefix == code {
			return true
		}
	}
	return false
}

func companyCodes() string {
	var b []string
	for _, ex := range expressCodes {
		b = append(b, ex.prefix)
	}
	return strings.Join(b, ", ")
}

// ebillGet: open.express.ebill.get (getEbillOrderRequest[] of
// {expressCompanyCode, tradeOrderCode, ...}, 1-10 per call). Issues one
// waybill per request; the data is the list of results.
func ebillGet(c *call) (any, *apiError) {
	reqs, e := c.objects("getEbillOrderRequest")
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > ebillBatchMax {
		return nil, badParam("param.getEbillOrderRequest must hold 1 to %d requests", ebillBatchMax)
	}
	type want struct{ company, trade string }
	wants := make([]want, len(reqs))
	for i, r := range reqs {
		company, e := r.str("expressCompanyCode")
		if e != nil {
			return nil, e
		}
		if !knownCompany(company) {
			return nil, badParam("getEbillOrderRequest[%d].expressCompanyCode %q: want one of %s", i, company, companyCodes())
		}
		trade, e := r.str("tradeOrderCode")
		if e != nil {
			return nil, e
		}
		wants[i] = want{company, trade}
	}
	out := make([]ebillResult, len(wants))
	for i, w := range wants {
		var code string
		for code == "" || c.shop.waybills[code] != nil {
			code = w.company + c.shop.live.digits(12)
		}
		c.shop.waybills[code] = &waybill{code: code, company: w.company, tradeOrderCode: w.trade}
		pd, _ := json.Marshal(map[string]any{"waybillCode": code, "cpCode": w.company, "sender": c.shop.seller.Name, "issuedAt": ms(c.now)})
		out[i] = ebillResult{WaybillCode: code, ExpressCompanyCode: w.company, TradeOrderCode: w.trade, PrintData: base64.StdEncoding.EncodeToString(pd)}
	}
	return out, nil
}

// ebillCancel: open.express.ebill.cancel (expressCompanyCode,
// waybillCode). A waybill cancels once.
func ebillCancel(c *call) (any, *apiError) {
	company, e := c.str("expressCompanyCode")
	if e != nil {
		return nil, e
	}
	code, e := c.str("waybillCode")
	if e != nil {
		return nil, e
	}
	if company == "" || code == "" {
		return nil, badParam("param.expressCompanyCode and param.waybillCode are required")
	}
	wb := c.shop.waybills[code]
	switch {
	case wb == nil || wb.company != company:
		return nil, apiErr(codeWaybill, "waybill %s of %s not found", code, company)
	case wb.cancelled:
		return nil, apiErr(codeWaybill, "waybill %s is already cancelled", code)
	}
	wb.cancelled = true
	return nil, nil
}
