package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListExpressTemplates lists express fee templates.
func (s *Logistics) ListExpressTemplates(ctx context.Context, req *gatewayv1.ListExpressTemplatesRequest) (*gatewayv1.ListExpressTemplatesResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListExpressTemplates)
}

// ListSellerAddresses lists return or ship-from addresses.
func (s *Logistics) ListSellerAddresses(ctx context.Context, req *gatewayv1.ListSellerAddressesRequest) (*gatewayv1.ListSellerAddressesResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListSellerAddresses)
}

// CreateWaybills gets waybill numbers, once per request_id.
func (s *Logistics) CreateWaybills(ctx context.Context, req *gatewayv1.CreateWaybillsRequest) (*gatewayv1.CreateWaybillsResponse, error) {
	return write(ctx, s.base, "LogisticsService-CreateWaybills", req, commerce.Shop.CreateWaybills)
}

// CancelWaybill cancels a waybill number, once per request_id.
func (s *Logistics) CancelWaybill(ctx context.Context, req *gatewayv1.CancelWaybillRequest) (*gatewayv1.CancelWaybillResponse, error) {
	return write(ctx, s.base, "LogisticsService-CancelWaybill", req, commerce.Shop.CancelWaybill)
}
