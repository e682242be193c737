package service

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
)

// AccessLog records accesses to order data for the platform's security
// logs (implemented by *securitylog.Recorder; docs/security-logs.md).
type AccessLog interface {
	// OrderAccess records that orderIDs of the shop openID were read;
	// access names the RPC or platform API.
	OrderAccess(ctx context.Context, openID string, orderIDs []int64, access string) error
	// OrderQuery records an access to orders without their ids.
	OrderQuery(ctx context.Context, openID, data string, total int64, access string) error
}

// logOrders records an order access when an AccessLog is set. It returns
// the refusal of the read when the access could not be recorded: order
// data is answered only once its access is stored (docs/security-logs.md,
// When the stream is full).
func logOrders(ctx context.Context, l AccessLog, openID string, ids []int64, access string) error {
	if l == nil || len(ids) == 0 {
		return nil
	}
	return notRecorded(l.OrderAccess(ctx, openID, ids, access))
}

// searchIndexData describes a search-index access, which names no order
// (the typed and the generic path report the same).
const searchIndexData = "search index of receiver values"

// logQuery records an access to orders without their ids when an
// AccessLog is set; an error is logOrders'.
func logQuery(ctx context.Context, l AccessLog, openID, data, access string) error {
	if l == nil {
		return nil
	}
	return notRecorded(l.OrderQuery(ctx, openID, data, 0, access))
}

// Retry delays suggested when an access could not be recorded: a full
// stream empties only as the platform accepts the stored entries.
const (
	securityLogFullRetryDelay  = 30 * time.Second
	securityLogStoreRetryDelay = time.Second
)

// notRecorded is the refusal of a read whose access was not stored (nil
// for nil): UNAVAILABLE with a retry delay, the cause in the ErrorInfo's
// security_log (full, or unavailable). The recorder logged and counted it.
func notRecorded(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, securitylog.ErrFull):
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
			"the security log is full (KWAISHOP_SECURITY_LOG_MAX_BYTES): order data is not answered while its access cannot "+
				"be recorded; retry later (docs/security-logs.md)", map[string]string{"security_log": "full"}, retryInfo(securityLogFullRetryDelay))
	default:
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
			"the access could not be recorded in the security log: order data is not answered; retry later (docs/security-logs.md)",
			map[string]string{"security_log": "unavailable"}, retryInfo(securityLogStoreRetryDelay))
	}
}

// answeredOrders are the order ids of the entries the platform answered
// with a value: the orders whose receiver data was read. Refused entries
// (another shop's ciphertext, a failed platform request) read nothing.
func answeredOrders(in []commerce.Ciphertext, res []commerce.EntryResult) []int64 {
	var ids []int64
	for i, r := range res {
		if r.Err == nil && i < len(in) {
			ids = append(ids, in[i].OrderID)
		}
	}
	return ids
}

// answered reports whether any entry got a value.
func answered(res []commerce.EntryResult) bool {
	for _, r := range res {
		if r.Err == nil {
			return true
		}
	}
	return false
}

// logCall records the order access of a successful generic call of an
// order-reading API (securitylog.CallOrderIDs names them); an error is
// logOrders'.
func logCall(ctx context.Context, l AccessLog, openID, method string, params, data json.RawMessage) error {
	if l == nil || openID == "" {
		return nil
	}
	ids, ok := securitylog.CallOrderIDs(method, params, data)
	switch {
	case !ok:
		return nil
	case len(ids) > 0:
		return logOrders(ctx, l, openID, ids, method)
	case method == "open.order.search.index.batch":
		return logQuery(ctx, l, openID, searchIndexData, method)
	}
	return nil
}

// WithAccessLog makes the PlatformService record the order accesses of
// generic calls (nil: none).
func WithAccessLog(l AccessLog) PlatformOption {
	return func(p *Platform) { p.accessLog = l }
}

// SecurityLogUnary reads the end user a call is made for
// (x-kwaishop-user-ip, x-kwaishop-user-url, x-kwaishop-operation) into the
// context; an invalid value is InvalidArgument before anything else runs.
func SecurityLogUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, err := securitylog.FromMetadata(ctx)
		if err != nil {
			return nil, attributionStatus(err)
		}
		return h(ctx, req)
	}
}

// SecurityLogStream is SecurityLogUnary for streams.
func SecurityLogStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, err := securitylog.FromMetadata(ss.Context())
		if err != nil {
			return attributionStatus(err)
		}
		return h(srv, &attributedStream{ServerStream: ss, ctx: ctx})
	}
}

type attributedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *attributedStream) Context() context.Context { return s.ctx }

func attributionStatus(err error) error {
	var fe *securitylog.FieldError
	if errors.As(err, &fe) {
		return InvalidArgument(FieldViolation{Field: fe.Field, Description: fe.Description})
	}
	return InvalidArgument(FieldViolation{Description: "invalid end-user attribution"})
}
