package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListRefunds lists after-sale records over any range, walking the
// platform's 1-day windows behind one page token.
func (s *Refund) ListRefunds(ctx context.Context, req *gatewayv1.ListRefundsRequest) (*gatewayv1.ListRefundsResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListRefunds)
}

// GetRefund returns one after-sale record.
func (s *Refund) GetRefund(ctx context.Context, req *gatewayv1.GetRefundRequest) (*gatewayv1.GetRefundResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.GetRefund)
}

// ListRefundRejectReasons lists the reasons a seller may give.
func (s *Refund) ListRefundRejectReasons(ctx context.Context, req *gatewayv1.ListRefundRejectReasonsRequest) (*gatewayv1.ListRefundRejectReasonsResponse, error) {
	return read(ctx, s.base, req, commerce.Shop.ListRefundRejectReasons)
}

// ApproveRefund approves a refund-only request, once per request_id.
func (s *Refund) ApproveRefund(ctx context.Context, req *gatewayv1.ApproveRefundRequest) (*gatewayv1.ApproveRefundResponse, error) {
	return write(ctx, s.base, "RefundService-ApproveRefund", req, commerce.Shop.ApproveRefund)
}

// RejectRefund rejects an after-sale request, once per request_id.
func (s *Refund) RejectRefund(ctx context.Context, req *gatewayv1.RejectRefundRequest) (*gatewayv1.RejectRefundResponse, error) {
	return write(ctx, s.base, "RefundService-RejectRefund", req, commerce.Shop.RejectRefund)
}

// ApproveReturn approves a return, once per request_id.
func (s *Refund) ApproveReturn(ctx context.Context, req *gatewayv1.ApproveReturnRequest) (*gatewayv1.ApproveReturnResponse, error) {
	return write(ctx, s.base, "RefundService-ApproveReturn", req, commerce.Shop.ApproveReturn)
}

// ConfirmReturnReceipt confirms returned goods arrived, once per request_id.
func (s *Refund) ConfirmReturnReceipt(ctx context.Context, req *gatewayv1.ConfirmReturnReceiptRequest) (*gatewayv1.ConfirmReturnReceiptResponse, error) {
	return write(ctx, s.base, "RefundService-ConfirmReturnReceipt", req, commerce.Shop.ConfirmReturnReceipt)
}
