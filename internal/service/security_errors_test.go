package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/breaker"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
)

func TestToStatus_SecurityErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("platform: open.order.detail: %w", err) }
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		http   int
		reason gatewayv1.ErrorReason
		retry  bool
	}{
		{"unauthenticated", &auth.Error{Code: codes.Unauthenticated, Msg: "unknown API key"}, codes.Unauthenticated, 401, gatewayv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED, false},
		{"permission", &auth.Error{Code: codes.PermissionDenied, Key: "billing", Msg: "no"}, codes.PermissionDenied, 403, gatewayv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED, false},
		{"qps", wrap(&limit.Error{Kind: limit.KindQPS, Method: "open.order.detail", Limit: 20, RetryAfter: 300 * time.Millisecond}), codes.ResourceExhausted, 429, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED, true},
		{"daily", wrap(&limit.Error{Kind: limit.KindDaily, Method: "open.order.detail", Limit: 100000, RetryAfter: time.Hour}), codes.ResourceExhausted, 429, gatewayv1.ErrorReason_ERROR_REASON_QUOTA_EXCEEDED, true},
		{"in_flight", wrap(&limit.Error{Kind: limit.KindInFlight, Method: "open.order.detail", RetryAfter: 100 * time.Millisecond}), codes.ResourceExhausted, 429, gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED, true},
		{"store_down", wrap(&limit.Error{Kind: limit.KindUnavailable, Method: "open.order.detail", RetryAfter: time.Second, Err: errors.New("nats: connection closed")}), codes.Unavailable, 503, gatewayv1.ErrorReason_ERROR_REASON_UPSTREAM_UNAVAILABLE, true},
		{"breaker", wrap(&breaker.OpenError{Method: "open.order.detail", RetryAfter: 5 * time.Second}), codes.Unavailable, 503, gatewayv1.ErrorReason_ERROR_REASON_CIRCUIT_OPEN, true},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(ToStatus(context.Background(), log, tt.err))
			if st.Code() != tt.code || runtime.HTTPStatusFromCode(st.Code()) != tt.http {
				t.Fatalf("code %s (HTTP %d), want %s (%d)", st.Code(), runtime.HTTPStatusFromCode(st.Code()), tt.code, tt.http)
			}
			var reason, domain string
			var retry bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason, domain = d.GetReason(), d.GetDomain()
				case *errdetails.RetryInfo:
					retry = d.GetRetryDelay().AsDuration() > 0
				}
			}
			if reason != tt.reason.String() || domain != DomainGateway || retry != tt.retry {
				t.Fatalf("details: reason %s domain %s retry %v", reason, domain, retry)
			}
			if tt.name == "store_down" && st.Message() != "limit: open.order.detail: the shared limit store is unavailable; retry shortly" {
				t.Fatalf("message %q", st.Message())
			}
		})
	}
}
