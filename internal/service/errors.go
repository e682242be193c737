// Package service implements the gateway's gRPC services. It validates input,
// calls internal/platform and the stores, converts to proto, and maps every
// error to a gRPC status once, here.
package service

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/breaker"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// ErrorInfo domains.
const (
	DomainPlatform = "kwaixiaodian.com"
	DomainGateway  = "kwaishop-gateway"
)

// RateLimitRetryDelay is the RetryInfo delay suggested after a platform QPS
// limit (the limit is per second).
const RateLimitRetryDelay = time.Second

// StateStoreFullRetryDelay is the RetryInfo delay suggested when the OAuth
// state store is at its cap (room comes back as states are used or expire).
const StateStoreFullRetryDelay = time.Minute

// classMapping is the one table from platform error class to gRPC code and
// ErrorInfo reason. grpc-gateway derives the REST status from the code.
var classMapping = map[platform.Class]struct {
	code   codes.Code
	reason gatewayv1.ErrorReason
}{
	platform.ClassAuth:            {codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_AUTH},
	platform.ClassRevoked:         {codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_AUTHORIZATION_REVOKED},
	platform.ClassPermission:      {codes.PermissionDenied, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_PERMISSION},
	platform.ClassSignature:       {codes.Internal, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_SIGNATURE},
	platform.ClassRateLimit:       {codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED},
	platform.ClassQuota:           {codes.ResourceExhausted, gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED},
	platform.ClassInvalidArgument: {codes.InvalidArgument, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_INVALID_ARGUMENT},
	platform.ClassBusiness:        {codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_BUSINESS},
	platform.ClassUpstream:        {codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_UPSTREAM_UNAVAILABLE},
	platform.ClassSubscription:    {codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_SUBSCRIPTION_EXPIRED},
	platform.ClassUnknown:         {codes.Unknown, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_BUSINESS},
}

// ToStatus converts any error from the layers below into a gRPC status error.
// Errors that are already statuses pass through.
func ToStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var perr *platform.Error
	var rerr *token.RevokedError
	var serr *token.SubscriptionError
	var scerr *token.ScopeError
	var aerr *auth.Error
	var lerr *limit.Error
	var berr *breaker.OpenError
	var ierr *token.InvalidError
	switch {
	case errors.As(err, &aerr):
		return authStatus(aerr)
	case errors.As(err, &lerr):
		return limitStatus(lerr)
	case errors.As(err, &berr):
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_CIRCUIT_OPEN, berr.Error(),
			map[string]string{"method": berr.Method}, retryInfo(berr.RetryAfter))
	case errors.As(err, &rerr):
		md := map[string]string{"open_id": rerr.OpenID, "status": rerr.Status}
		if rerr.ReauthorizeURL != "" {
			md["reauthorize_url"] = rerr.ReauthorizeURL
		}
		return gatewayStatus(codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_AUTHORIZATION_REVOKED,
			"the shop's authorization is "+rerr.Status+"; the merchant must authorize again (see reauthorize_url)", md)
	case errors.As(err, &serr):
		md := map[string]string{"open_id": serr.OpenID, "status": store.StatusSubscriptionExpired, "action": token.SubscriptionAction}
		if serr.ReauthorizeURL != "" {
			md["reauthorize_url"] = serr.ReauthorizeURL
		}
		return gatewayStatus(codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_SUBSCRIPTION_EXPIRED,
			"the shop has no active service-market order of the app (platform result 100200101); the merchant must "+token.SubscriptionAction, md)
	case errors.As(err, &scerr):
		md := map[string]string{"open_id": scerr.OpenID, "granted_scopes": strings.Join(scerr.Granted, ",")}
		if scerr.Missing != "" {
			md["missing_scope"] = scerr.Missing
		}
		if scerr.ReauthorizeURL != "" {
			md["reauthorize_url"] = scerr.ReauthorizeURL
		}
		return platformStatus(ctx, scerr.Err, md)
	case errors.Is(err, token.ErrStateInvalid), errors.Is(err, token.ErrStateExpired):
		return InvalidArgument(FieldViolation{Field: "state", Description: strings.TrimPrefix(err.Error(), "token: ")})
	case errors.As(err, &ierr): // a refused OAuth start; nothing was stored
		vs := make([]FieldViolation, 0, len(ierr.Violations))
		for _, v := range ierr.Violations {
			vs = append(vs, FieldViolation{Field: v.Field, Description: v.Reason})
		}
		return InvalidArgument(vs...)
	case errors.Is(err, store.ErrStateStoreFull): // a capacity limit, not a failure: no ERROR log
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED,
			"too many authorizations are pending; retry later", nil, retryInfo(StateStoreFullRetryDelay))
	case errors.As(err, &perr):
		return platformStatus(ctx, perr, nil)
	case errors.Is(err, store.ErrNotFound):
		return gatewayStatus(codes.NotFound, gatewayv1.ErrorReason_ERROR_REASON_AUTHORIZATION_NOT_FOUND, "no authorization is stored for this open_id", nil)
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	// Unknown failures are logged (messages from the layers below never hold
	// secrets) and reported without detail.
	log.ErrorContext(ctx, "internal error", "err", err)
	return gatewayStatus(codes.Internal, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL, "internal error", nil)
}

// notFound names, per get-by-id RPC, the platform result that means the
// object asked for does not exist (for orders: or is another shop's; the
// platform does not say which). Such a failure is NotFound (HTTP 404), with
// the platform's ErrorInfo as for any platform failure. Elsewhere — a write
// on the same object, the raw relay of PlatformService.Call — the result
// keeps its class's code: only a read of one object by id can say "there
// is no such object".
var notFound = map[string]int64{
	gatewayv1.OrderService_GetOrder_FullMethodName:   platform.ResultOperationReject,
	gatewayv1.RefundService_GetRefund_FullMethodName: platform.ResultRefundNotFound,
}

// platformStatus is the status of a platform failure; extra adds ErrorInfo
// metadata (a missing scope's reauthorize_url).
func platformStatus(ctx context.Context, e *platform.Error, extra map[string]string) error {
	m, ok := classMapping[e.Class]
	if !ok {
		m = classMapping[platform.ClassUnknown]
	}
	if method, ok := grpc.Method(ctx); ok && notFound[method] == e.Result && e.Result != 0 {
		m.code = codes.NotFound
	}
	msg := e.Msg
	if msg == "" {
		msg = platform.CodeMessage(e.Result)
	}
	if s := extra["missing_scope"]; s != "" && extra["reauthorize_url"] != "" {
		msg += "; the shop has not granted " + s + ": the merchant grants it at reauthorize_url"
	}
	st := status.New(m.code, "platform: "+e.Method+": "+msg)
	md := map[string]string{
		"result":     strconv.FormatInt(e.Result, 10),
		"error_msg":  e.Msg,
		"request_id": e.RequestID,
		"method":     e.Method,
		"class":      e.Class.String(),
	}
	if e.SubCode != "" {
		md["sub_code"] = e.SubCode
	}
	if e.HTTPStatus != 0 {
		md["http_status"] = strconv.Itoa(e.HTTPStatus)
	}
	maps.Copy(md, extra)
	details := []protoadapter{&errdetails.ErrorInfo{Reason: m.reason.String(), Domain: DomainPlatform, Metadata: md}}
	if e.Class == platform.ClassRateLimit {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(RateLimitRetryDelay)})
	}
	return withDetails(st, details...)
}

// authStatus: no or unknown key → Unauthenticated (HTTP 401); a key outside
// its groups or shops → PermissionDenied (HTTP 403).
func authStatus(e *auth.Error) error {
	reason := gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED
	if e.Code == codes.Unauthenticated {
		reason = gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED
	}
	var md map[string]string
	if e.Key != "" {
		md = map[string]string{"key": e.Key}
	}
	return gatewayStatus(e.Code, reason, e.Error(), md)
}

// limitStatus: a client-side limit refused the call before the platform saw
// it → ResourceExhausted (HTTP 429) with RetryInfo; the shared limit store
// unreachable → Unavailable (HTTP 503) with RetryInfo.
func limitStatus(e *limit.Error) error {
	code, reason := codes.ResourceExhausted, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED
	switch e.Kind {
	case limit.KindDaily, limit.KindTestUserDaily:
		reason = gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED
	case limit.KindUnavailable:
		code, reason = codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_UPSTREAM_UNAVAILABLE
	}
	md := map[string]string{"method": e.Method, "limit": e.Kind.String()}
	if e.Limit > 0 {
		md["limit_value"] = strconv.FormatFloat(e.Limit, 'f', -1, 64)
	}
	if e.Priority != 0 {
		md["priority"] = e.Priority.String()
	}
	msg := e.Error()
	if e.Kind == limit.KindUnavailable {
		msg = "limit: " + e.Method + ": the shared limit store is unavailable; retry shortly" // not the store's error text
	}
	return gatewayStatus(code, reason, msg, md, retryInfo(e.RetryAfter))
}

func retryInfo(d time.Duration) *errdetails.RetryInfo {
	return &errdetails.RetryInfo{RetryDelay: durationpb.New(max(d, time.Millisecond).Round(time.Millisecond))}
}

// FieldViolation names one invalid request field.
type FieldViolation struct{ Field, Description string }

// InvalidArgument builds an InvalidArgument status with BadRequest field
// violations and an INVALID_REQUEST ErrorInfo.
func InvalidArgument(vs ...FieldViolation) error {
	br := &errdetails.BadRequest{}
	msg := "invalid request"
	for i, v := range vs {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		switch {
		case i > 0:
		case v.Field == "": // no one field: the request as a whole
			msg += ": " + v.Description
		default:
			msg += ": " + v.Field + ": " + v.Description
		}
	}
	if len(vs) > 1 {
		msg += " (and " + strconv.Itoa(len(vs)-1) + " more)"
	}
	return gatewayStatus(codes.InvalidArgument, gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST, msg, nil, br)
}

func gatewayStatus(c codes.Code, reason gatewayv1.ErrorReason, msg string, md map[string]string, extra ...protoadapter) error {
	st := status.New(c, msg)
	return withDetails(st, append([]protoadapter{&errdetails.ErrorInfo{Reason: reason.String(), Domain: DomainGateway, Metadata: md}}, extra...)...)
}
