package commerce

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Logistics APIs.
const (
	apiTemplateList = "open.logistics.express.template.list"
	apiAddressList  = "open.address.seller.list"
	apiEbillGet     = "open.express.ebill.get"
	apiEbillCancel  = "open.express.ebill.cancel"
)

// ExpressTemplate is an express fee template.
type ExpressTemplate struct {
	ID   int64
	Name string
	// Raw is the platform's JSON of the template, compact.
	Raw string
}

// ListExpressTemplates pages through open.logistics.express.template.list
// (offset/limit paging; the token holds the offset). usedOnly keeps the
// templates items use.
func (s Shop) ListExpressTemplates(ctx context.Context, usedOnly bool, p Page) (Listing[ExpressTemplate], error) {
	filter := filterHash("templates", s.OpenID, strconv.FormatBool(usedOnly))
	tok, _, err := parseToken(p.Token, filter)
	if err != nil {
		return Listing[ExpressTemplate]{}, err
	}
	if tok.Offset < 0 || tok.Offset > 1<<31 {
		return Listing[ExpressTemplate]{}, fmt.Errorf("%w: offset out of range", ErrPageToken)
	}
	size := p.size()
	resp, err := s.read(ctx, apiTemplateList, map[string]any{"offset": tok.Offset, "limit": size, "searchUsed": usedOnly})
	if err != nil {
		return Listing[ExpressTemplate]{}, err
	}
	items, err := list(resp.Data, "templates", "templateList", "expressTemplateList", "list", "data")
	if err != nil {
		return Listing[ExpressTemplate]{}, badData(resp, apiTemplateList, err)
	}
	var meta struct {
		Total      i64 `json:"total"`
		TotalCount i64 `json:"totalCount"`
	}
	_ = decode(resp.Data, &meta) // data may be the array itself
	out := Listing[ExpressTemplate]{Items: make([]ExpressTemplate, 0, len(items)), TotalSize: int64(max(meta.Total, meta.TotalCount))}
	for _, raw := range items {
		var t struct {
			ID           i64 `json:"id"`
			TemplateID   i64 `json:"templateId"`
			Name         str `json:"name"`
			TemplateName str `json:"templateName"`
		}
		if err := decode(raw, &t); err != nil {
			return Listing[ExpressTemplate]{}, badData(resp, apiTemplateList, err)
		}
		out.Items = append(out.Items, ExpressTemplate{ID: int64(first(t.TemplateID, t.ID)), Name: string(first(t.TemplateName, t.Name)), Raw: rawString(raw)})
	}
	next := tok.Offset + int64(len(items))
	if len(items) >= size && (out.TotalSize == 0 || next < out.TotalSize) {
		out.NextPageToken = pageToken{V: tokenVersion, Filter: filter, Offset: next}.encode()
	}
	return out, nil
}

// SellerAddressType is the platform's addressType of a seller address.
type SellerAddressType int32

// Seller address types.
const (
	SellerAddressReturn   SellerAddressType = 2 // returns go here
	SellerAddressShipFrom SellerAddressType = 3
)

// SellerAddress is one of the seller's addresses.
type SellerAddress struct {
	ID        int64
	Type      SellerAddressType
	Consignee string
	Mobile    string
	Province  string
	City      string
	District  string
	Town      string
	Address   string
	Default   bool
	// Raw is the platform's JSON of the address, compact.
	Raw string
}

// ListSellerAddresses reads open.address.seller.list.
func (s Shop) ListSellerAddresses(ctx context.Context, typ SellerAddressType) ([]SellerAddress, error) {
	resp, err := s.read(ctx, apiAddressList, map[string]any{"addressType": int32(typ)})
	if err != nil {
		return nil, err
	}
	items, err := list(resp.Data, "addressList", "sellerAddressList", "addresses", "list", "data")
	if err != nil {
		return nil, badData(resp, apiAddressList, err)
	}
	out := make([]SellerAddress, 0, len(items))
	for _, raw := range items {
		var a struct {
			AddressID      i64  `json:"addressId"`
			ID             i64  `json:"id"`
			AddressType    i64  `json:"addressType"`
			Consignee      str  `json:"consignee"`
			ContactName    str  `json:"contactName"`
			Mobile         str  `json:"mobile"`
			Province       str  `json:"province"`
			ProvinceName   str  `json:"provinceName"`
			City           str  `json:"city"`
			CityName       str  `json:"cityName"`
			District       str  `json:"district"`
			DistrictName   str  `json:"districtName"`
			Town           str  `json:"town"`
			StreetName     str  `json:"streetName"`
			Address        str  `json:"address"`
			DetailAddress  str  `json:"detailAddress"`
			DefaultAddress flag `json:"defaultAddress"`
			IsDefault      flag `json:"isDefault"`
		}
		if err := decode(raw, &a); err != nil {
			return nil, badData(resp, apiAddressList, err)
		}
		out = append(out, SellerAddress{
			ID:        int64(first(a.AddressID, a.ID)),
			Type:      SellerAddressType(first(a.AddressType, i64(typ))),
			Consignee: string(first(a.Consignee, a.ContactName)),
			Mobile:    string(a.Mobile),
			Province:  string(first(a.Province, a.ProvinceName)),
			City:      string(first(a.City, a.CityName)),
			District:  string(first(a.District, a.DistrictName)),
			Town:      string(first(a.Town, a.StreetName)),
			Address:   string(first(a.Address, a.DetailAddress)),
			Default:   bool(a.DefaultAddress || a.IsDefault),
			Raw:       rawString(raw),
		})
	}
	return out, nil
}

// first returns the first non-zero value.
func first[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// WaybillPackage is one package to get a waybill number for.
type WaybillPackage struct {
	ExpressCompanyCode string
	OrderID            int64
	// PackageCode defaults to the order id.
	PackageCode string
	// TotalPackageQuantity defaults to 1.
	TotalPackageQuantity int32
	// Optional carrier fields; empty ones are not sent.
	ExpressProductCode string
	SettleAccount      string
	NetSiteCode        string
	TemplateURL        string
	Sender             WaybillContact
	SenderAddress      WaybillAddress
	Receiver           WaybillContact
	ReceiverAddress    WaybillAddress
	Items              []WaybillItem
}

// WaybillContact is a sender or receiver.
type WaybillContact struct {
	Name      string
	Mobile    string
	Telephone string // optional
}

// WaybillAddress is a sender's or receiver's address.
type WaybillAddress struct {
	Province      string
	City          string
	District      string
	Street        string
	DetailAddress string
}

// WaybillItem is a line of a package's contents.
type WaybillItem struct {
	Title    string
	Quantity int64
}

// WaybillResult is the platform's answer for one package.
type WaybillResult struct {
	Success  bool
	Message  string
	Waybills []Waybill
	// Raw is the platform's JSON of the answer, compact.
	Raw string
}

// Waybill is one waybill number with its print data.
type Waybill struct {
	Code       string
	ParentCode string
	// PackageCode is the carrier's package number (JD only).
	PackageCode string
	// PrintData, Signature, Key and Version are what the platform's print
	// component takes to print the waybill.
	PrintData string
	Signature string
	Key       string
	Version   string
}

// CreateWaybills sends open.express.ebill.get with one getEbillOrderRequest
// per package and returns one result per package, in order, with the
// platform's request id. Each package's requestId is requestID and its
// index, so the answers map back to the packages.
func (s Shop) CreateWaybills(ctx context.Context, requestID string, pkgs []WaybillPackage) ([]WaybillResult, string, error) {
	params := make([]map[string]any, 0, len(pkgs))
	ids := make(map[string]int, len(pkgs))
	for i, p := range pkgs {
		reqID := requestID + "-" + strconv.Itoa(i)
		ids[reqID] = i
		code := p.PackageCode
		if code == "" {
			code = strconv.FormatInt(p.OrderID, 10)
		}
		items := make([]map[string]any, 0, len(p.Items))
		for _, it := range p.Items {
			items = append(items, map[string]any{"itemTitle": it.Title, "itemQuantity": it.Quantity})
		}
		m := map[string]any{
			"merchantCode":         s.OpenID,
			"expressCompanyCode":   p.ExpressCompanyCode,
			"tradeOrderCode":       strconv.FormatInt(p.OrderID, 10),
			"packageCode":          code,
			"totalPackageQuantity": max(p.TotalPackageQuantity, 1),
			"senderContract":       p.Sender.param(),
			"senderAddress":        p.SenderAddress.param(),
			"receiverContract":     p.Receiver.param(),
			"receiverAddress":      p.ReceiverAddress.param(),
			"itemList":             items,
			"requestId":            reqID,
		}
		for k, v := range map[string]string{
			"expressProductCode": p.ExpressProductCode, "settleAccount": p.SettleAccount,
			"netSiteCode": p.NetSiteCode, "templateUrl": p.TemplateURL,
		} {
			if v != "" {
				m[k] = v
			}
		}
		params = append(params, m)
	}
	resp, err := s.write(ctx, apiEbillGet, map[string]any{"getEbillOrderRequest": params})
	if err != nil {
		return nil, "", err
	}
	// The data is one answer per request; each names its requestId.
	var answers []json.RawMessage
	if err := decodeData(resp, apiEbillGet, &answers); err != nil {
		return nil, "", err
	}
	out := make([]WaybillResult, len(pkgs))
	seen := make([]bool, len(pkgs))
	for i, raw := range answers {
		var r platformWaybillAnswer
		if err := decode(raw, &r); err != nil {
			return nil, "", badData(resp, apiEbillGet, err)
		}
		idx, ok := ids[string(r.RequestID)]
		switch {
		case r.RequestID == "":
			idx = i // no requestId echoed: answers are in request order
		case !ok:
			continue // a request this call did not send
		}
		if idx >= len(out) || seen[idx] {
			continue
		}
		res := WaybillResult{Raw: rawString(raw)}
		if b := r.BaseResponse; b != nil {
			res.Success = bool(b.Success) || b.Result == 1
			res.Message = string(b.Message)
		} else {
			res.Success = len(r.Data) > 0
		}
		for _, w := range r.Data {
			res.Waybills = append(res.Waybills, Waybill{
				Code: string(w.WaybillCode), ParentCode: string(w.ParentWaybillCode), PackageCode: string(w.WaybillPackageCode),
				PrintData: string(w.PrintData), Signature: string(w.Signature), Key: string(w.Key), Version: string(w.Version),
			})
		}
		out[idx], seen[idx] = res, true
	}
	for i := range out {
		if !seen[i] {
			out[i] = WaybillResult{Message: "the platform returned no result for this package"}
		}
	}
	return out, resp.RequestID, nil
}

// platformWaybillAnswer is one entry of open.express.ebill.get's data (the
// catalog's GetEbillOrderResponse): the request's requestId, whether it got
// a number, and its waybills.
type platformWaybillAnswer struct {
	RequestID    str `json:"requestId"`
	BaseResponse *struct {
		Result  i64  `json:"result"`
		Message str  `json:"message"`
		Success flag `json:"success"`
	} `json:"baseResponse"`
	Data []platformWaybill `json:"data"`
}

// platformWaybill is one waybill of an answer (GetEbillOrderDTO).
type platformWaybill struct {
	WaybillCode        str `json:"waybillCode"`
	ParentWaybillCode  str `json:"parentWaybillCode"`
	WaybillPackageCode str `json:"waybillPackageCode"`
	PrintData          str `json:"printData"`
	Signature          str `json:"signature"`
	Key                str `json:"key"`
	Version            str `json:"version"`
}

func (c WaybillContact) param() map[string]any {
	m := map[string]any{"name": c.Name, "mobile": c.Mobile}
	if c.Telephone != "" {
		m["telephone"] = c.Telephone
	}
	return m
}

func (a WaybillAddress) param() map[string]any {
	return map[string]any{
		"provinceName": a.Province, "cityName": a.City, "districtName": a.District,
		"streetName": a.Street, "detailAddress": a.DetailAddress,
	}
}

// CancelWaybill sends open.express.ebill.cancel (as POST: it is a write)
// and returns the platform's request id.
func (s Shop) CancelWaybill(ctx context.Context, expressCompanyCode, waybillCode string) (string, error) {
	return s.writeID(ctx, apiEbillCancel, map[string]any{"expressCompanyCode": expressCompanyCode, "waybillCode": waybillCode})
}
