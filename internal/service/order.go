package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListOrders lists orders over any range, walking the platform's 7-day
// windows behind one page token.
func (s *Order) ListOrders(ctx context.Context, req *gatewayv1.ListOrdersRequest) (*gatewayv1.ListOrdersResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListOrdersResponse, error) {
		q, err := orderQuery(req)
		if err != nil {
			return nil, err
		}
		l, err := shop.ListOrders(ctx, q, page(req.GetPageSize(), req.GetPageToken()))
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(l.Items))
		for i := range l.Items {
			ids[i] = l.Items[i].ID
		}
		if err := logOrders(ctx, s.base.cfg.AccessLog, req.GetOpenId(), ids, "OrderService.ListOrders"); err != nil {
			return nil, err
		}
		return &gatewayv1.ListOrdersResponse{Orders: orderProtos(l.Items), NextPageToken: l.NextPageToken}, nil
	})
}

// GetOrder returns one order.
func (s *Order) GetOrder(ctx context.Context, req *gatewayv1.GetOrderRequest) (*gatewayv1.GetOrderResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.GetOrderResponse, error) {
		o, err := shop.GetOrder(ctx, req.GetOrderId())
		if err != nil {
			return nil, err
		}
		if err := logOrders(ctx, s.base.cfg.AccessLog, req.GetOpenId(), []int64{o.ID}, "OrderService.GetOrder"); err != nil {
			return nil, err
		}
		return &gatewayv1.GetOrderResponse{Order: orderProto(&o)}, nil
	})
}

// ShipOrder ships an order, once per request_id.
func (s *Order) ShipOrder(ctx context.Context, req *gatewayv1.ShipOrderRequest) (*gatewayv1.ShipOrderResponse, error) {
	return write(ctx, s.base, "OrderService-ShipOrder", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ShipOrderResponse, error) {
		id, err := shop.ShipOrder(ctx, commerce.Shipment{
			OrderID: req.GetOrderId(), ExpressCode: req.GetExpressCode(), ExpressNo: req.GetExpressNo(), ReturnAddressID: req.GetReturnAddressId(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ShipOrderResponse{OrderId: req.GetOrderId(), PlatformRequestId: id}, nil
	})
}

// UpdateOrderLogistics changes a shipment's tracking data, once per request_id.
func (s *Order) UpdateOrderLogistics(ctx context.Context, req *gatewayv1.UpdateOrderLogisticsRequest) (*gatewayv1.UpdateOrderLogisticsResponse, error) {
	return write(ctx, s.base, "OrderService-UpdateOrderLogistics", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.UpdateOrderLogisticsResponse, error) {
		id, err := shop.UpdateOrderLogistics(ctx, commerce.TrackingUpdate{
			OrderID: req.GetOrderId(), ExpressCode: req.GetExpressCode(), ExpressNo: req.GetExpressNo(), LogisticsID: req.GetLogisticsId(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.UpdateOrderLogisticsResponse{OrderId: req.GetOrderId(), PlatformRequestId: id}, nil
	})
}

// CloseOrder closes an unpaid order, once per request_id.
func (s *Order) CloseOrder(ctx context.Context, req *gatewayv1.CloseOrderRequest) (*gatewayv1.CloseOrderResponse, error) {
	return write(ctx, s.base, "OrderService-CloseOrder", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.CloseOrderResponse, error) {
		id, err := shop.CloseOrder(ctx, req.GetOrderId())
		if err != nil {
			return nil, err
		}
		return &gatewayv1.CloseOrderResponse{OrderId: req.GetOrderId(), PlatformRequestId: id}, nil
	})
}

// AddOrderNote adds a seller note, once per request_id.
func (s *Order) AddOrderNote(ctx context.Context, req *gatewayv1.AddOrderNoteRequest) (*gatewayv1.AddOrderNoteResponse, error) {
	return write(ctx, s.base, "OrderService-AddOrderNote", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.AddOrderNoteResponse, error) {
		id, err := shop.AddOrderNote(ctx, commerce.SellerNote{
			OrderID: req.GetOrderId(), Note: req.GetNote(), Flag: req.GetFlag(), StaffID: req.GetStaffId(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.AddOrderNoteResponse{OrderId: req.GetOrderId(), PlatformRequestId: id}, nil
	})
}
