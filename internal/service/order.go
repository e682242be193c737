package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListOrders lists orders over any range, walking the platform's 7-day
// windows behind one page token.
func (s *Order) ListOrders(ctx context.Context, req *gatewayv1.ListOrdersRequest) (*gatewayv1.ListOrdersResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListOrders)
}

// GetOrder returns one order.
func (s *Order) GetOrder(ctx context.Context, req *gatewayv1.GetOrderRequest) (*gatewayv1.GetOrderResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.GetOrder)
}

// ShipOrder ships an order, once per request_id.
func (s *Order) ShipOrder(ctx context.Context, req *gatewayv1.ShipOrderRequest) (*gatewayv1.ShipOrderResponse, error) {
	return write(ctx, s.base, "OrderService-ShipOrder", req, commerce.Shop.ShipOrder)
}

// UpdateOrderLogistics changes a shipment's tracking data, once per request_id.
func (s *Order) UpdateOrderLogistics(ctx context.Context, req *gatewayv1.UpdateOrderLogisticsRequest) (*gatewayv1.UpdateOrderLogisticsResponse, error) {
	return write(ctx, s.base, "OrderService-UpdateOrderLogistics", req, commerce.Shop.UpdateOrderLogistics)
}

// CloseOrder closes an unpaid order, once per request_id.
func (s *Order) CloseOrder(ctx context.Context, req *gatewayv1.CloseOrderRequest) (*gatewayv1.CloseOrderResponse, error) {
	return write(ctx, s.base, "OrderService-CloseOrder", req, commerce.Shop.CloseOrder)
}

// AddOrderNote adds a seller note, once per request_id.
func (s *Order) AddOrderNote(ctx context.Context, req *gatewayv1.AddOrderNoteRequest) (*gatewayv1.AddOrderNoteResponse, error) {
	return write(ctx, s.base, "OrderService-AddOrderNote", req, commerce.Shop.AddOrderNote)
}
