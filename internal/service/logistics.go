package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListExpressTemplates lists express fee templates.
func (s *Logistics) ListExpressTemplates(ctx context.Context, req *gatewayv1.ListExpressTemplatesRequest) (*gatewayv1.ListExpressTemplatesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListExpressTemplatesResponse, error) {
		l, err := shop.ListExpressTemplates(ctx, req.GetUsedOnly(), page(req.GetPageSize(), req.GetPageToken()))
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.ListExpressTemplatesResponse{
			Templates: make([]*gatewayv1.ExpressTemplate, len(l.Items)), NextPageToken: l.NextPageToken, TotalSize: l.TotalSize,
		}
		for i, t := range l.Items {
			out.Templates[i] = expressTemplateProto(t)
		}
		return out, nil
	})
}

// ListSellerAddresses lists return or ship-from addresses.
func (s *Logistics) ListSellerAddresses(ctx context.Context, req *gatewayv1.ListSellerAddressesRequest) (*gatewayv1.ListSellerAddressesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListSellerAddressesResponse, error) {
		addrs, err := shop.ListSellerAddresses(ctx, commerce.SellerAddressType(req.GetAddressType()))
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.ListSellerAddressesResponse{Addresses: make([]*gatewayv1.SellerAddress, len(addrs))}
		for i, a := range addrs {
			out.Addresses[i] = sellerAddressProto(a)
		}
		return out, nil
	})
}

// CreateWaybills gets waybill numbers, once per request_id.
func (s *Logistics) CreateWaybills(ctx context.Context, req *gatewayv1.CreateWaybillsRequest) (*gatewayv1.CreateWaybillsResponse, error) {
	return write(ctx, s.base, "LogisticsService-CreateWaybills", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.CreateWaybillsResponse, error) {
		pkgs := make([]commerce.WaybillPackage, len(req.GetPackages()))
		for i, p := range req.GetPackages() {
			pkgs[i] = waybillPackage(p)
		}
		results, id, err := shop.CreateWaybills(ctx, req.GetRequestId(), pkgs)
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.CreateWaybillsResponse{Results: make([]*gatewayv1.WaybillResult, len(results)), PlatformRequestId: id}
		for i, r := range results {
			out.Results[i] = waybillResultProto(r)
		}
		return out, nil
	})
}

// CancelWaybill cancels a waybill number, once per request_id.
func (s *Logistics) CancelWaybill(ctx context.Context, req *gatewayv1.CancelWaybillRequest) (*gatewayv1.CancelWaybillResponse, error) {
	return write(ctx, s.base, "LogisticsService-CancelWaybill", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.CancelWaybillResponse, error) {
		id, err := shop.CancelWaybill(ctx, req.GetExpressCompanyCode(), req.GetWaybillCode())
		if err != nil {
			return nil, err
		}
		return &gatewayv1.CancelWaybillResponse{WaybillCode: req.GetWaybillCode(), PlatformRequestId: id}, nil
	})
}
