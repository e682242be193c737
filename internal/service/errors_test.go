package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

func TestToStatus_EveryPlatformClass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		result   int64
		msg      string
		class    platform.Class
		code     codes.Code
		http     int
		reason   gatewayv1.ErrorReason
		retryDel bool
	}{
		{platform.ResultTokenInvalid, "access_token invalid", platform.ClassAuth, codes.FailedPrecondition, http.StatusBadRequest, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_AUTH, false},
		{platform.ResultRevoked, platform.MsgRevoked, platform.ClassRevoked, codes.FailedPrecondition, http.StatusBadRequest, gatewayv1.ErrorReason_ERROR_REASON_AUTHORIZATION_REVOKED, false},
		{platform.ResultNoPermission, "no scope", platform.ClassPermission, codes.PermissionDenied, http.StatusForbidden, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_PERMISSION, false},
		{platform.ResultSignInvalid, "sign check failed", platform.ClassSignature, codes.Internal, http.StatusInternalServerError, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_SIGNATURE, false},
		{platform.ResultQPSExceeded, "Exceed qps limit", platform.ClassRateLimit, codes.Unavailable, http.StatusServiceUnavailable, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED, true},
		{platform.ResultQuotaExceeded, "exceed quota limit", platform.ClassQuota, codes.ResourceExhausted, http.StatusTooManyRequests, gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED, false},
		{platform.ResultParamInvalid, "param invalid", platform.ClassInvalidArgument, codes.InvalidArgument, http.StatusBadRequest, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_INVALID_ARGUMENT, false},
		{300011, "refund not found", platform.ClassBusiness, codes.FailedPrecondition, http.StatusBadRequest, gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_BUSINESS, false},
		{0, "", platform.ClassUpstream, codes.Unavailable, http.StatusServiceUnavailable, gatewayv1.ErrorReason_ERROR_REASON_UPSTREAM_UNAVAILABLE, false},
		{platform.ResultOAuthBadClient, "服务未订购", platform.ClassSubscription, codes.FailedPrecondition, http.StatusBadRequest, gatewayv1.ErrorReason_ERROR_REASON_SUBSCRIPTION_EXPIRED, false},
	} {
		t.Run(tc.class.String(), func(t *testing.T) {
			t.Parallel()
			if tc.result != 0 {
				if got := platform.Classify(tc.result, tc.msg); got != tc.class {
					t.Fatalf("Classify(%d) = %s, want %s", tc.result, got, tc.class)
				}
			}
			perr := &platform.Error{Result: tc.result, Msg: tc.msg, Class: tc.class, RequestID: "req-1", Method: "open.order.detail"}
			err := ToStatus(context.Background(), slog.New(slog.DiscardHandler), fmt.Errorf("wrapped: %w", perr))
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code = %s, want %s", st.Code(), tc.code)
			}
			if got := runtime.HTTPStatusFromCode(st.Code()); got != tc.http {
				t.Fatalf("REST status = %d, want %d", got, tc.http)
			}
			var info *errdetails.ErrorInfo
			var retry *errdetails.RetryInfo
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = d
				case *errdetails.RetryInfo:
					retry = d
				}
			}
			if info == nil || info.GetReason() != tc.reason.String() || info.GetDomain() != DomainPlatform {
				t.Fatalf("ErrorInfo = %v", info)
			}
			if info.GetMetadata()["result"] != fmt.Sprint(tc.result) || info.GetMetadata()["request_id"] != "req-1" || info.GetMetadata()["error_msg"] != tc.msg {
				t.Fatalf("metadata = %v", info.GetMetadata())
			}
			if (retry != nil) != tc.retryDel {
				t.Fatalf("RetryInfo present = %v, want %v", retry != nil, tc.retryDel)
			}
		})
	}
}

func TestToStatus_GatewayErrors(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	if c := status.Code(ToStatus(ctx, log, fmt.Errorf("x: %w", store.ErrNotFound))); c != codes.NotFound {
		t.Fatalf("not found → %s", c)
	}
	if c := status.Code(ToStatus(ctx, log, context.DeadlineExceeded)); c != codes.DeadlineExceeded {
		t.Fatalf("deadline → %s", c)
	}
	st := status.Convert(ToStatus(ctx, log, errors.New("boom with details")))
	if st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Fatalf("unknown → %s %q", st.Code(), st.Message())
	}
	in := status.Error(codes.Aborted, "x")
	if ToStatus(ctx, log, in) != in {
		t.Fatal("status errors must pass through")
	}
}

func TestInvalidArgument_FieldViolations(t *testing.T) {
	t.Parallel()
	st := status.Convert(InvalidArgument(FieldViolation{"params", "must be a JSON object"}, FieldViolation{"method", "required"}))
	if st.Code() != codes.InvalidArgument {
		t.Fatal(st.Code())
	}
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		if b, ok := d.(*errdetails.BadRequest); ok {
			br = b
		}
	}
	if br == nil || len(br.GetFieldViolations()) != 2 || br.GetFieldViolations()[0].GetField() != "params" {
		t.Fatalf("BadRequest = %v", br)
	}
}

func TestParamsJSON_RejectsNonFinite(t *testing.T) {
	t.Parallel()
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		v := structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"a": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(bad)}}),
		}})
		_, err := ParamsJSON("params", v)
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "params.a[0]") {
			t.Fatalf("%v: %v", bad, err)
		}
	}
	ok, err := ParamsJSON("params", structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"t": structpb.NewNumberValue(1700000000000)}}))
	if err != nil || string(ok) != `{"t":1700000000000}` {
		t.Fatalf("%s %v", ok, err)
	}
}

// rpcStream is the server transport stream of a call to method (what
// grpc.Method reads); the header and trailer calls are not used here.
type rpcStream struct{ method string }

func (s rpcStream) Method() string             { return s.method }
func (rpcStream) SetHeader(metadata.MD) error  { return nil }
func (rpcStream) SendHeader(metadata.MD) error { return nil }
func (rpcStream) SetTrailer(metadata.MD) error { return nil }
func inRPC(method string) context.Context {
	return grpc.NewContextWithServerTransportStream(context.Background(), rpcStream{method})
}

// A platform "no such object" is NotFound in the get-by-id RPCs only, with
// the platform's ErrorInfo kept.
func TestToStatus_NotFoundForGetByID(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	reject := &platform.Error{Result: platform.ResultOperationReject, Msg: "order operation reject", Class: platform.ClassPermission, Method: "open.order.detail"}
	refund := &platform.Error{Result: platform.ResultRefundNotFound, Msg: "refund not found", Class: platform.ClassBusiness, Method: "open.seller.order.refund.detail"}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  *platform.Error
		want codes.Code
	}{
		{"get_order", inRPC(gatewayv1.OrderService_GetOrder_FullMethodName), reject, codes.NotFound},
		{"get_refund", inRPC(gatewayv1.RefundService_GetRefund_FullMethodName), refund, codes.NotFound},
		{"close_order", inRPC(gatewayv1.OrderService_CloseOrder_FullMethodName), reject, codes.PermissionDenied},
		{"raw_call", inRPC(gatewayv1.PlatformService_Call_FullMethodName), reject, codes.PermissionDenied},
		{"get_order_other_result", inRPC(gatewayv1.OrderService_GetOrder_FullMethodName), refund, codes.FailedPrecondition},
		{"get_refund_order_result", inRPC(gatewayv1.RefundService_GetRefund_FullMethodName), reject, codes.PermissionDenied},
		{"no_rpc", context.Background(), reject, codes.PermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := status.Convert(ToStatus(tc.ctx, log, tc.err))
			if st.Code() != tc.want {
				t.Fatalf("code %s, want %s", st.Code(), tc.want)
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info.GetDomain() != DomainPlatform || info.GetMetadata()["result"] != fmt.Sprint(tc.err.Result) {
				t.Fatalf("ErrorInfo %v", info)
			}
		})
	}
}
