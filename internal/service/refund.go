package service

import (
	"context"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// ListRefunds lists after-sale records over any range, walking the
// platform's 1-day windows behind one page token.
func (s *Refund) ListRefunds(ctx context.Context, req *gatewayv1.ListRefundsRequest) (*gatewayv1.ListRefundsResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListRefundsResponse, error) {
		q, err := refundQuery(req)
		if err != nil {
			return nil, err
		}
		l, err := shop.ListRefunds(ctx, q, page(req.GetPageSize(), req.GetPageToken()))
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ListRefundsResponse{Refunds: refundProtos(l.Items), NextPageToken: l.NextPageToken}, nil
	})
}

// GetRefund returns one after-sale record.
func (s *Refund) GetRefund(ctx context.Context, req *gatewayv1.GetRefundRequest) (*gatewayv1.GetRefundResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.GetRefundResponse, error) {
		rf, err := shop.GetRefund(ctx, req.GetRefundId())
		if err != nil {
			return nil, err
		}
		return &gatewayv1.GetRefundResponse{Refund: refundProto(&rf)}, nil
	})
}

// ListRefundRejectReasons lists the reasons a seller may give.
func (s *Refund) ListRefundRejectReasons(ctx context.Context, req *gatewayv1.ListRefundRejectReasonsRequest) (*gatewayv1.ListRefundRejectReasonsResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListRefundRejectReasonsResponse, error) {
		reasons, raw, err := shop.ListRefundRejectReasons(ctx, req.GetRefundId())
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.ListRefundRejectReasonsResponse{Reasons: make([]*gatewayv1.RefundRejectReason, len(reasons)), Raw: raw}
		for i, r := range reasons {
			out.Reasons[i] = rejectReasonProto(r)
		}
		return out, nil
	})
}

// ApproveRefund approves a refund-only request, once per request_id.
func (s *Refund) ApproveRefund(ctx context.Context, req *gatewayv1.ApproveRefundRequest) (*gatewayv1.ApproveRefundResponse, error) {
	return write(ctx, s.base, "RefundService-ApproveRefund", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ApproveRefundResponse, error) {
		id, err := shop.ApproveRefund(ctx, commerce.RefundApproval{
			RefundID: req.GetRefundId(), AmountFen: req.GetRefundAmountFen(), Description: req.GetDescription(),
			ExpectedStatus: commerce.RefundStatus(req.GetExpectedStatus()),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ApproveRefundResponse{RefundId: req.GetRefundId(), PlatformRequestId: id}, nil
	})
}

// RejectRefund rejects an after-sale request, once per request_id.
func (s *Refund) RejectRefund(ctx context.Context, req *gatewayv1.RejectRefundRequest) (*gatewayv1.RejectRefundResponse, error) {
	return write(ctx, s.base, "RefundService-RejectRefund", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.RejectRefundResponse, error) {
		id, err := shop.RejectRefund(ctx, commerce.RefundRejection{
			RefundID: req.GetRefundId(), ReasonCode: req.GetReasonCode(), Version: req.GetRefundVersion(),
			Description: req.GetDescription(), ImageURLs: req.GetImageUrls(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.RejectRefundResponse{RefundId: req.GetRefundId(), PlatformRequestId: id}, nil
	})
}

// ApproveReturn approves a return, once per request_id.
func (s *Refund) ApproveReturn(ctx context.Context, req *gatewayv1.ApproveReturnRequest) (*gatewayv1.ApproveReturnResponse, error) {
	return write(ctx, s.base, "RefundService-ApproveReturn", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ApproveReturnResponse, error) {
		id, err := shop.ApproveReturn(ctx, commerce.ReturnApproval{
			RefundID: req.GetRefundId(), AmountFen: req.GetRefundAmountFen(), AddressID: req.GetAddressId(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ApproveReturnResponse{RefundId: req.GetRefundId(), PlatformRequestId: id}, nil
	})
}

// ConfirmReturnReceipt confirms returned goods arrived, once per request_id.
func (s *Refund) ConfirmReturnReceipt(ctx context.Context, req *gatewayv1.ConfirmReturnReceiptRequest) (*gatewayv1.ConfirmReturnReceiptResponse, error) {
	return write(ctx, s.base, "RefundService-ConfirmReturnReceipt", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ConfirmReturnReceiptResponse, error) {
		id, err := shop.ConfirmReturnReceipt(ctx, commerce.ReturnReceipt{
			RefundID:                 req.GetRefundId(),
			ExpectedStatus:           commerce.RefundStatus(req.GetExpectedStatus()),
			Freight:                  freightDecision(req.GetReturnFreightDecision()),
			FreightAmountFen:         req.GetReturnFreightAmountFen(),
			FreightRejectDescription: req.GetReturnFreightRejectDescription(),
			FreightRejectImageURLs:   req.GetReturnFreightRejectImageUrls(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ConfirmReturnReceiptResponse{RefundId: req.GetRefundId(), PlatformRequestId: id}, nil
	})
}
