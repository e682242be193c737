package commerce

import (
	"context"
	"fmt"
	"strconv"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// Logistics APIs.
const (
	apiTemplateList = "open.logistics.express.template.list"
	apiAddressList  = "open.address.seller.list"
	apiEbillGet     = "open.express.ebill.get"
	apiEbillCancel  = "open.express.ebill.cancel"
)

// ListExpressTemplates pages through open.logistics.express.template.list
// (offset/limit paging; the token holds the offset).
func (s Shop) ListExpressTemplates(ctx context.Context, req *gatewayv1.ListExpressTemplatesRequest) (*gatewayv1.ListExpressTemplatesResponse, error) {
	filter := filterHash("templates", s.OpenID, strconv.FormatBool(req.GetUsedOnly()))
	tok, _, err := parseToken(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	if tok.Offset < 0 || tok.Offset > 1<<31 {
		return nil, fmt.Errorf("%w: offset out of range", ErrPageToken)
	}
	size := pageSize(req.GetPageSize())
	resp, err := s.read(ctx, apiTemplateList, map[string]any{"offset": tok.Offset, "limit": size, "searchUsed": req.GetUsedOnly()})
	if err != nil {
		return nil, err
	}
	items, err := list(resp.Data, "templates", "templateList", "expressTemplateList", "list", "data")
	if err != nil {
		return nil, badData(resp, apiTemplateList, err)
	}
	var meta struct {
		Total      i64 `json:"total"`
		TotalCount i64 `json:"totalCount"`
	}
	_ = decode(resp.Data, &meta) // data may be the array itself
	out := &gatewayv1.ListExpressTemplatesResponse{Templates: make([]*gatewayv1.ExpressTemplate, 0, len(items))}
	out.TotalSize = int64(max(meta.Total, meta.TotalCount))
	for _, raw := range items {
		var t struct {
			ID           i64 `json:"id"`
			TemplateID   i64 `json:"templateId"`
			Name         str `json:"name"`
			TemplateName str `json:"templateName"`
		}
		if err := decode(raw, &t); err != nil {
			return nil, badData(resp, apiTemplateList, err)
		}
		id, name := t.TemplateID, t.TemplateName
		if id == 0 {
			id = t.ID
		}
		if name == "" {
			name = t.Name
		}
		out.Templates = append(out.Templates, &gatewayv1.ExpressTemplate{TemplateId: int64(id), Name: string(name), Raw: rawString(raw)})
	}
	next := tok.Offset + int64(len(items))
	if len(items) >= size && (out.TotalSize == 0 || next < out.TotalSize) {
		out.NextPageToken = pageToken{V: tokenVersion, Filter: filter, Offset: next}.encode()
	}
	return out, nil
}

// ListSellerAddresses reads open.address.seller.list.
func (s Shop) ListSellerAddresses(ctx context.Context, req *gatewayv1.ListSellerAddressesRequest) (*gatewayv1.ListSellerAddressesResponse, error) {
	resp, err := s.read(ctx, apiAddressList, map[string]any{"addressType": int32(req.GetAddressType())})
	if err != nil {
		return nil, err
	}
	items, err := list(resp.Data, "addressList", "sellerAddressList", "addresses", "list", "data")
	if err != nil {
		return nil, badData(resp, apiAddressList, err)
	}
	out := &gatewayv1.ListSellerAddressesResponse{Addresses: make([]*gatewayv1.SellerAddress, 0, len(items))}
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
		typ := a.AddressType
		if typ == 0 {
			typ = i64(req.GetAddressType())
		}
		out.Addresses = append(out.Addresses, &gatewayv1.SellerAddress{
			AddressId:      int64(first(a.AddressID, a.ID)),
			AddressType:    gatewayv1.SellerAddressType(typ),
			Consignee:      string(first(a.Consignee, a.ContactName)),
			Mobile:         string(a.Mobile),
			Province:       string(first(a.Province, a.ProvinceName)),
			City:           string(first(a.City, a.CityName)),
			District:       string(first(a.District, a.DistrictName)),
			Town:           string(first(a.Town, a.StreetName)),
			Address:        string(first(a.Address, a.DetailAddress)),
			DefaultAddress: bool(a.DefaultAddress || a.IsDefault),
			Raw:            rawString(raw),
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

// CreateWaybills sends open.express.ebill.get with one getEbillOrderRequest
// per package. Each package's requestId is the gateway request_id and its
// index, so the answers map back to the packages.
func (s Shop) CreateWaybills(ctx context.Context, req *gatewayv1.CreateWaybillsRequest) (*gatewayv1.CreateWaybillsResponse, error) {
	pkgs := make([]map[string]any, 0, len(req.GetPackages()))
	ids := make(map[string]int, len(req.GetPackages()))
	for i, p := range req.GetPackages() {
		reqID := req.GetRequestId() + "-" + strconv.Itoa(i)
		ids[reqID] = i
		code := p.GetPackageCode()
		if code == "" {
			code = strconv.FormatInt(p.GetOrderId(), 10)
		}
		items := make([]map[string]any, 0, len(p.GetItems()))
		for _, it := range p.GetItems() {
			items = append(items, map[string]any{"itemTitle": it.GetTitle(), "itemQuantity": it.GetQuantity()})
		}
		m := map[string]any{
			"merchantCode":         s.OpenID,
			"expressCompanyCode":   p.GetExpressCompanyCode(),
			"tradeOrderCode":       strconv.FormatInt(p.GetOrderId(), 10),
			"packageCode":          code,
			"totalPackageQuantity": max(p.GetTotalPackageQuantity(), 1),
			"senderContract":       contact(p.GetSender()),
			"senderAddress":        address(p.GetSenderAddress()),
			"receiverContract":     contact(p.GetReceiver()),
			"receiverAddress":      address(p.GetReceiverAddress()),
			"itemList":             items,
			"requestId":            reqID,
		}
		for k, v := range map[string]string{
			"expressProductCode": p.GetExpressProductCode(), "settleAccount": p.GetSettleAccount(),
			"netSiteCode": p.GetNetSiteCode(), "templateUrl": p.GetTemplateUrl(),
		} {
			if v != "" {
				m[k] = v
			}
		}
		pkgs = append(pkgs, m)
	}
	resp, err := s.write(ctx, apiEbillGet, map[string]any{"getEbillOrderRequest": pkgs})
	if err != nil {
		return nil, err
	}
	results, err := list(resp.Data, "results", "list", "data")
	if err != nil {
		return nil, badData(resp, apiEbillGet, err)
	}
	out := &gatewayv1.CreateWaybillsResponse{Results: make([]*gatewayv1.WaybillResult, len(pkgs)), PlatformRequestId: resp.RequestID}
	for i, raw := range results {
		// Two shapes are known: {requestId, baseResponse{result, message,
		// success}, data[{waybillCode, ...}]} ([GO2]) and a flat
		// {waybillCode, parentWaybillCode, printData, ...} per package.
		var r struct {
			RequestID    str `json:"requestId"`
			BaseResponse *struct {
				Result  i64  `json:"result"`
				Message str  `json:"message"`
				Success flag `json:"success"`
			} `json:"baseResponse"`
			Data []platformWaybill `json:"data"`
			platformWaybill
		}
		if err := decode(raw, &r); err != nil {
			return nil, badData(resp, apiEbillGet, err)
		}
		idx, ok := ids[string(r.RequestID)]
		if !ok {
			idx = i // no (known) requestId echoed: answers are in request order
		}
		if idx >= len(out.Results) || out.Results[idx] != nil {
			continue
		}
		if r.WaybillCode != "" {
			r.Data = append(r.Data, r.platformWaybill)
		}
		res := &gatewayv1.WaybillResult{Raw: rawString(raw)}
		if b := r.BaseResponse; b != nil {
			res.Success = bool(b.Success) || b.Result == 1
			res.Message = string(b.Message)
		} else {
			res.Success = len(r.Data) > 0
		}
		for _, w := range r.Data {
			res.Waybills = append(res.Waybills, &gatewayv1.Waybill{
				WaybillCode: string(w.WaybillCode), ParentWaybillCode: string(w.ParentWaybillCode),
				PrintData: string(w.PrintData), Signature: string(w.Signature),
			})
		}
		out.Results[idx] = res
	}
	for i, r := range out.Results {
		if r == nil {
			out.Results[i] = &gatewayv1.WaybillResult{Message: "the platform returned no result for this package"}
		}
	}
	return out, nil
}

type platformWaybill struct {
	WaybillCode       str `json:"waybillCode"`
	ParentWaybillCode str `json:"parentWaybillCode"`
	PrintData         str `json:"printData"`
	Signature         str `json:"signature"`
}

func contact(c *gatewayv1.WaybillContact) map[string]any {
	m := map[string]any{"name": c.GetName(), "mobile": c.GetMobile()}
	if c.GetTelephone() != "" {
		m["telephone"] = c.GetTelephone()
	}
	return m
}

func address(a *gatewayv1.WaybillAddress) map[string]any {
	return map[string]any{
		"provinceName": a.GetProvince(), "cityName": a.GetCity(), "districtName": a.GetDistrict(),
		"streetName": a.GetStreet(), "detailAddress": a.GetDetailAddress(),
	}
}

// CancelWaybill sends open.express.ebill.cancel (as POST: it is a write).
func (s Shop) CancelWaybill(ctx context.Context, req *gatewayv1.CancelWaybillRequest) (*gatewayv1.CancelWaybillResponse, error) {
	resp, err := s.write(ctx, apiEbillCancel, map[string]any{
		"expressCompanyCode": req.GetExpressCompanyCode(), "waybillCode": req.GetWaybillCode(),
	})
	if err != nil {
		return nil, err
	}
	return &gatewayv1.CancelWaybillResponse{WaybillCode: req.GetWaybillCode(), PlatformRequestId: resp.RequestID}, nil
}
