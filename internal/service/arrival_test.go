package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

func errorInfoOf(t *testing.T, err error) (*status.Status, map[string]string, string) {
	t.Helper()
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(interface {
			GetReason() string
			GetMetadata() map[string]string
		}); ok {
			return st, info.GetMetadata(), info.GetReason()
		}
	}
	t.Fatalf("no ErrorInfo in %v", st)
	return nil, nil, ""
}

func TestToStatus_SubscriptionExpired(t *testing.T) {
	t.Parallel()
	err := ToStatus(context.Background(), slog.New(slog.DiscardHandler),
		fmt.Errorf("platform: open.order.detail: %w", &token.SubscriptionError{OpenID: "shop1", ReauthorizeURL: "https://gw.example/oauth/start?open_id=shop1"}))
	st, md, reason := errorInfoOf(t, err)
	if st.Code() != codes.FailedPrecondition || reason != gatewayv1.ErrorReason_ERROR_REASON_SUBSCRIPTION_EXPIRED.String() {
		t.Fatalf("%s %s", st.Code(), reason)
	}
	if md["open_id"] != "shop1" || md["status"] != store.StatusSubscriptionExpired || !strings.Contains(md["action"], "服务市场") || md["reauthorize_url"] == "" {
		t.Fatalf("metadata %v", md)
	}
	if reason == gatewayv1.ErrorReason_ERROR_REASON_AUTHORIZATION_REVOKED.String() || reason == gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_AUTH.String() {
		t.Fatal("an ended order looks like a revocation or a token failure")
	}
}

func TestToStatus_MissingScope(t *testing.T) {
	t.Parallel()
	perr := &platform.Error{Method: "open.item.list.get", Result: platform.ResultNoPermission, Msg: "no permission", Class: platform.ClassPermission, RequestID: "r1"}
	url := "https://gw.example/oauth/start?open_id=shop1&scope=merchant_order%2Cmerchant_item"
	err := ToStatus(context.Background(), slog.New(slog.DiscardHandler),
		&token.ScopeError{OpenID: "shop1", Missing: "merchant_item", Granted: []string{"merchant_order"}, ReauthorizeURL: url, Err: perr})
	st, md, reason := errorInfoOf(t, err)
	if st.Code() != codes.PermissionDenied || reason != gatewayv1.ErrorReason_ERROR_REASON_PLATFORM_PERMISSION.String() {
		t.Fatalf("%s %s", st.Code(), reason)
	}
	if md["reauthorize_url"] != url || md["missing_scope"] != "merchant_item" || md["granted_scopes"] != "merchant_order" || md["result"] != "22" || md["request_id"] != "r1" {
		t.Fatalf("metadata %v", md)
	}
	if !strings.Contains(st.Message(), "merchant_item") {
		t.Fatalf("message %q does not name the missing scope", st.Message())
	}
	// Unknown missing scope: the platform's error, no URL that cannot help.
	err = ToStatus(context.Background(), slog.New(slog.DiscardHandler), &token.ScopeError{OpenID: "shop1", Granted: []string{"merchant_order"}, Err: perr})
	if _, md, _ := errorInfoOf(t, err); md["reauthorize_url"] != "" || md["missing_scope"] != "" {
		t.Fatalf("metadata %v", md)
	}
}
