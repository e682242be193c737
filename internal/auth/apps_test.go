package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

const (
	secAppA     = "appa-0123456789abcdef"
	secAppAShop = "appashop-0123456789abcdef"
)

// shopsOfApps is a ShopApp over a fixed table; an unknown shop is
// store.ErrNotFound, as the token manager answers.
func shopsOfApps(m map[string]string) ShopApp {
	return func(_ context.Context, openID string) (string, error) {
		if app, ok := m[openID]; ok {
			return app, nil
		}
		return "", fmt.Errorf("%w: shop.%s", store.ErrNotFound, openID)
	}
}

func TestParse_AppScopes(t *testing.T) {
	ks, err := Parse("a:" + secAppA + ":app=ksA:app=ksC,b:" + secAppAShop + ":app=*:shop=s1")
	if err != nil {
		t.Fatal(err)
	}
	a, b := ks.Authenticate(secAppA), ks.Authenticate(secAppAShop)
	if a.AllApps() || a.AllShops() || !a.AllowsApp("ksA") || !a.AllowsApp("ksC") || a.AllowsApp("ksB") {
		t.Fatalf("app=ksA:app=ksC: %s", a)
	}
	// Outside a call's context the key cannot tell a shop's app: no shop.
	if a.AllowsShop("anything") {
		t.Fatal("a key limited to apps allowed a shop it cannot place")
	}
	if !b.AllApps() || b.AllShops() || !b.AllowsShop("s1") {
		t.Fatalf("app=*: %s", b)
	}
	if !strings.Contains(a.String(), "apps: ksA,ksC") || strings.Contains(a.String(), secAppA) {
		t.Fatalf("String = %s", a)
	}
	for _, bad := range []string{"a:" + secAppA + ":app=", "a:" + secAppA + ":app=k.s", "a:" + secAppA + ":app=" + strings.Repeat("k", 65)} {
		if _, err := Parse(bad); err == nil || strings.Contains(err.Error(), secAppA) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A key limited to app A acts for A's shops and names A; another app's
// shop gets the very answer an unknown shop gets (it cannot probe), another
// app named is PermissionDenied, and an RPC that spans shops must name the
// shop or the app.
func TestInterceptors_AppLimitedKeys(t *testing.T) {
	ks, err := Parse("appa:" + secAppA + ":app=ksA,appashop:" + secAppAShop + ":app=ksA:shop=a1:shop=b1,all:" + secAll)
	if err != nil {
		t.Fatal(err)
	}
	notFound := func(_ context.Context, err error) error { // the service's mapping (internal/service ToStatus)
		var e *Error
		switch {
		case errors.As(err, &e):
			return status.Error(e.Code, e.Error())
		case errors.Is(err, store.ErrNotFound):
			return status.Error(codes.NotFound, "no authorization is stored for this open_id")
		}
		return status.Error(codes.Internal, "internal error")
	}
	conn := serve(t, New(Config{Keys: ks, Log: quiet(), Status: notFound,
		ShopApp: shopsOfApps(map[string]string{"a1": "ksA", "a2": "ksA", "b1": "ksB"})}))
	orders := gatewayv1.NewOrderServiceClient(conn)
	platform := gatewayv1.NewPlatformServiceClient(conn)
	authz := gatewayv1.NewAuthorizationServiceClient(conn)
	msgs := gatewayv1.NewMessageServiceClient(conn)
	key := func(sec string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+sec)
	}
	getOrder := func(sec, openID string) error {
		_, err := orders.GetOrder(key(sec), &gatewayv1.GetOrderRequest{OpenId: openID, OrderId: 1})
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want codes.Code
	}{
		{"own_app_shop", getOrder(secAppA, "a2"), codes.Unimplemented},
		{"other_app_shop", getOrder(secAppA, "b1"), codes.NotFound},
		{"unknown_shop", getOrder(secAppA, "zz"), codes.NotFound},
		{"all_key_other_app_shop", getOrder(secAll, "b1"), codes.Unimplemented},
		{"app_and_shop_key_own", getOrder(secAppAShop, "a1"), codes.Unimplemented},
		{"app_and_shop_key_shop_of_other_app", getOrder(secAppAShop, "b1"), codes.NotFound},
		{"app_and_shop_key_other_shop_of_app", getOrder(secAppAShop, "a2"), codes.PermissionDenied},
		{"app_level_call_naming_own_app", func() error {
			_, err := platform.Call(key(secAppA), &gatewayv1.CallRequest{Method: "open.shop.info.get", AppKey: "ksA"})
			return err
		}(), codes.Unimplemented},
		{"app_level_call_naming_other_app", func() error {
			_, err := platform.Call(key(secAppA), &gatewayv1.CallRequest{Method: "open.shop.info.get", AppKey: "ksB"})
			return err
		}(), codes.PermissionDenied},
		{"app_level_call_naming_no_app", func() error {
			_, err := platform.Call(key(secAppA), &gatewayv1.CallRequest{Method: "open.shop.info.get"})
			return err
		}(), codes.PermissionDenied},
		{"shop_call_naming_other_app", func() error {
			_, err := platform.Call(key(secAppA), &gatewayv1.CallRequest{Method: "open.shop.info.get", OpenId: "a1", AppKey: "ksB"})
			return err
		}(), codes.PermissionDenied},
		{"start_own_app", func() error {
			_, err := authz.StartAuthorization(key(secAppA), &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}, AppKey: "ksA"})
			return err
		}(), codes.Unimplemented},
		{"start_no_app", func() error {
			_, err := authz.StartAuthorization(key(secAppA), &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order"}})
			return err
		}(), codes.PermissionDenied},
		{"list_own_app", func() error {
			_, err := authz.ListAuthorizations(key(secAppA), &gatewayv1.ListAuthorizationsRequest{AppKey: "ksA"})
			return err
		}(), codes.Unimplemented},
		{"list_every_app", func() error {
			_, err := authz.ListAuthorizations(key(secAppA), &gatewayv1.ListAuthorizationsRequest{})
			return err
		}(), codes.PermissionDenied},
		{"shop_and_app_key_list_by_app", func() error { // limited to shops too: the app spans shops
			_, err := authz.ListAuthorizations(key(secAppAShop), &gatewayv1.ListAuthorizationsRequest{AppKey: "ksA"})
			return err
		}(), codes.PermissionDenied},
		{"messages_mixing_apps", func() error {
			_, err := msgs.ListMessages(key(secAppA), &gatewayv1.ListMessagesRequest{OpenIds: []string{"a1", "b1"}})
			return err
		}(), codes.NotFound},
	} {
		if got := status.Code(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.want)
		}
	}
	// Another app's shop and no shop at all: the same answer, word for word.
	other, unknown := status.Convert(getOrder(secAppA, "b1")), status.Convert(getOrder(secAppA, "zz"))
	if other.Code() != unknown.Code() || other.Message() != unknown.Message() || len(other.Details()) != len(unknown.Details()) {
		t.Fatalf("other app's shop %v, unknown shop %v: they differ", other, unknown)
	}
}

// The key of a call's context can tell a shop's app (AllowsShop), for the
// services that check shops themselves (message acknowledgements).
func TestKeyFrom_AppLimitedKeyPlacesShops(t *testing.T) {
	ks, err := Parse("appa:" + secAppA + ":app=ksA")
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Keys: ks, Log: quiet(), ShopApp: shopsOfApps(map[string]string{"a1": "ksA", "b1": "ksB"})})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+secAppA))
	ctx, k, err := a.admit(ctx, "/kwaishop.gateway.v1.MessageService/AckMessages")
	if err != nil {
		t.Fatal(err)
	}
	if got := KeyFrom(ctx); got != k || !got.AllowsShop("a1") || got.AllowsShop("b1") || got.AllowsShop("zz") {
		t.Fatalf("the context's key placed shops wrongly: a1 %v, b1 %v, zz %v", got.AllowsShop("a1"), got.AllowsShop("b1"), got.AllowsShop("zz"))
	}
	if ks.Authenticate(secAppA).AllowsShop("a1") {
		t.Fatal("the configured key (not bound) allowed a shop")
	}
}
