package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

const (
	secAll   = "all-0123456789abcdef"
	secShop  = "shop-0123456789abcdef"
	secAdmin = "admin-0123456789abcdef"
	secHash  = "hashed-0123456789abcdef"
)

func hashOf(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func testKeys(t testing.TB) *Keys {
	t.Helper()
	ks, err := Parse(strings.Join([]string{
		"all:" + secAll,
		" shop:" + secShop + ":shop=shop-a:shop=shop-b:rpc=orders:rpc=messages:rpc=platform ",
		"admin:" + secAdmin + ":rpc=*",
		"hashed:sha256=" + hashOf(secHash) + ":rpc=stats",
	}, ","))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestParse(t *testing.T) {
	ks := testKeys(t)
	if ks.Len() != 4 {
		t.Fatalf("Len = %d", ks.Len())
	}
	tests := []struct {
		secret string
		name   string
		group  string
		shop   string
		allow  bool
	}{
		{secAll, "all", "orders", "any", true},
		{secAll, "all", GroupAdmin, "any", false}, // admin must be named
		{secAll, "all", "", "any", false},         // unknown services need rpc=*
		{secShop, "shop", "orders", "shop-a", true},
		{secShop, "shop", "orders", "shop-c", false},
		{secShop, "shop", "refunds", "shop-a", false},
		{secAdmin, "admin", GroupAdmin, "x", true},
		{secAdmin, "admin", "", "x", true},
		{secHash, "hashed", "stats", "x", true},
		{secHash, "hashed", "orders", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_"+tt.group+"_"+tt.shop, func(t *testing.T) {
			k := ks.Authenticate(tt.secret)
			if k == nil || k.Name != tt.name {
				t.Fatalf("Authenticate = %v, want %s", k, tt.name)
			}
			if got := k.AllowsGroup(tt.group) && k.AllowsShop(tt.shop); got != tt.allow {
				t.Fatalf("allowed = %v, want %v (%s)", got, tt.allow, k)
			}
			if strings.Contains(k.String(), tt.secret) {
				t.Fatal("String shows the secret")
			}
		})
	}
	for _, wrong := range []string{"", "x", secAll + "x", hashOf(secHash), "sha256=" + hashOf(secHash)} {
		if k := ks.Authenticate(wrong); k != nil {
			t.Fatalf("Authenticate(%q) = %s", wrong, k.Name)
		}
	}
	if ks, err := Parse("  "); err != nil || ks.Len() != 0 {
		t.Fatalf("empty: %v %d", err, ks.Len())
	}
}

func TestParse_Errors(t *testing.T) {
	const sec = "a-perfectly-good-secret-123"
	tests := []struct {
		name, in, want string
	}{
		{"no_secret", "lonely", "want name:secret"},
		{"short_secret", "a:short", "16 to 512 characters"},
		{"space_in_secret", "a:with space in the secret 123", "printable ASCII"},
		{"bad_name", "b@d:" + sec, "name must be"},
		{"duplicate_name", "a:" + sec + ",a:" + sec + "2", "duplicate name"},
		{"duplicate_secret", "a:" + sec + ",b:" + sec, "same secret as key a"},
		{"bad_scope", "a:" + sec + ":color=red", "scope 1"},
		{"bad_group", "a:" + sec + ":rpc=everything", "rpc=: want one of"},
		{"bad_hash", "a:sha256=abc", "64 hex digits"},
		{"empty_entry", "a:" + sec + ",,", "empty entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), sec) {
				t.Fatal("the error shows a secret")
			}
		})
	}
	// A secret misplaced into the scopes is not echoed either.
	if _, err := Parse("a:" + sec + ":" + sec); err == nil || strings.Contains(err.Error(), sec) {
		t.Fatalf("err = %v", err)
	}
	// Every violation is reported.
	_, err := Parse("a:short,b@d:" + sec)
	if err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestGroup(t *testing.T) {
	for method, want := range map[string]string{
		"/kwaishop.gateway.v1.OrderService/ShipOrder":                  "orders",
		"/kwaishop.gateway.v1.AuthorizationService/ListAuthorizations": "authorization",
		"/kwaishop.gateway.v1.AuthorizationService/RotateTokenKeys":    GroupAdmin,
		"/kwaishop.gateway.v1.NewService/Do":                           "",
	} {
		if got := Group(method); got != want {
			t.Errorf("Group(%s) = %q, want %q", method, got, want)
		}
	}
}

// serve runs a gRPC server with the interceptors and unimplemented gateway
// services: a call the interceptors admit ends as Unimplemented.
func serve(t *testing.T, a *Authenticator) *grpc.ClientConn {
	t.Helper()
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(a.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(a.StreamServerInterceptor()))
	gatewayv1.RegisterOrderServiceServer(gs, gatewayv1.UnimplementedOrderServiceServer{})
	gatewayv1.RegisterPlatformServiceServer(gs, gatewayv1.UnimplementedPlatformServiceServer{})
	gatewayv1.RegisterAuthorizationServiceServer(gs, gatewayv1.UnimplementedAuthorizationServiceServer{})
	gatewayv1.RegisterMessageServiceServer(gs, gatewayv1.UnimplementedMessageServiceServer{})
	healthpb.RegisterHealthServer(gs, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestInterceptors(t *testing.T) {
	conn := serve(t, New(Config{Keys: testKeys(t), Log: quiet()}))
	orders := gatewayv1.NewOrderServiceClient(conn)
	platform := gatewayv1.NewPlatformServiceClient(conn)
	authz := gatewayv1.NewAuthorizationServiceClient(conn)
	msgs := gatewayv1.NewMessageServiceClient(conn)
	with := func(auth ...string) context.Context {
		ctx := context.Background()
		for _, a := range auth {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
		}
		return ctx
	}
	stream := func(ctx context.Context, openID string) error {
		s, err := authz.WatchAuthorizationEvents(ctx, &gatewayv1.WatchAuthorizationEventsRequest{OpenId: openID})
		if err != nil {
			return err
		}
		_, err = s.Recv()
		return err
	}
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"no_key", func() error {
			_, err := orders.GetOrder(with(), &gatewayv1.GetOrderRequest{OpenId: "shop-a"})
			return err
		}, codes.Unauthenticated},
		{"wrong_key", func() error {
			_, err := orders.GetOrder(with("Bearer nope-0123456789abcdef"), &gatewayv1.GetOrderRequest{OpenId: "shop-a"})
			return err
		}, codes.Unauthenticated},
		{"two_keys", func() error {
			_, err := orders.GetOrder(with("Bearer "+secAll, "Bearer "+secShop), &gatewayv1.GetOrderRequest{OpenId: "shop-a"})
			return err
		}, codes.Unauthenticated},
		{"basic_scheme", func() error {
			_, err := orders.GetOrder(with("Basic "+secAll), &gatewayv1.GetOrderRequest{OpenId: "shop-a"})
			return err
		}, codes.Unauthenticated},
		{"lowercase_bearer", func() error {
			_, err := orders.GetOrder(with("bearer "+secAll), &gatewayv1.GetOrderRequest{OpenId: "shop-a"})
			return err
		}, codes.Unimplemented},
		{"shop_key_own_shop", func() error {
			_, err := orders.GetOrder(with("Bearer "+secShop), &gatewayv1.GetOrderRequest{OpenId: "shop-b"})
			return err
		}, codes.Unimplemented},
		{"shop_key_other_shop", func() error {
			_, err := orders.GetOrder(with("Bearer "+secShop), &gatewayv1.GetOrderRequest{OpenId: "shop-c"})
			return err
		}, codes.PermissionDenied},
		{"shop_key_other_group", func() error {
			_, err := authz.GetAuthorization(with("Bearer "+secShop), &gatewayv1.GetAuthorizationRequest{OpenId: "shop-a"})
			return err
		}, codes.PermissionDenied},
		{"shop_key_shop_free_rpc", func() error {
			_, err := platform.ListApis(with("Bearer "+secShop), &gatewayv1.ListApisRequest{})
			return err
		}, codes.Unimplemented},
		{"shop_key_app_level_call", func() error {
			_, err := platform.Call(with("Bearer "+secShop), &gatewayv1.CallRequest{Method: "open.shop.info.get"})
			return err
		}, codes.PermissionDenied},
		{"shop_key_list_messages_own_shops", func() error {
			_, err := msgs.ListMessages(with("Bearer "+secShop), &gatewayv1.ListMessagesRequest{OpenIds: []string{"shop-a", "shop-b"}})
			return err
		}, codes.Unimplemented},
		{"shop_key_list_messages_one_foreign", func() error {
			_, err := msgs.ListMessages(with("Bearer "+secShop), &gatewayv1.ListMessagesRequest{OpenIds: []string{"shop-a", "shop-c"}})
			return err
		}, codes.PermissionDenied},
		{"shop_key_list_messages_all_shops", func() error {
			_, err := msgs.ListMessages(with("Bearer "+secShop), &gatewayv1.ListMessagesRequest{})
			return err
		}, codes.PermissionDenied},
		{"all_key_admin_rpc", func() error {
			_, err := authz.RotateTokenKeys(with("Bearer "+secAll), &gatewayv1.RotateTokenKeysRequest{})
			return err
		}, codes.PermissionDenied},
		{"admin_key_admin_rpc", func() error {
			_, err := authz.RotateTokenKeys(with("Bearer "+secAdmin), &gatewayv1.RotateTokenKeysRequest{})
			return err
		}, codes.Unimplemented},
		{"stream_no_key", func() error { return stream(with(), "shop-a") }, codes.Unauthenticated},
		{"stream_all_key", func() error { return stream(with("Bearer "+secAll), "") }, codes.Unimplemented},
		{"health_open", func() error {
			_, err := healthpb.NewHealthClient(conn).Check(with(), &healthpb.HealthCheckRequest{})
			return err
		}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			st := status.Convert(err)
			if st.Code() != tt.want {
				t.Fatalf("code %s (%s), want %s", st.Code(), st.Message(), tt.want)
			}
			for _, s := range []string{secAll, secShop, secAdmin} {
				if strings.Contains(st.Message(), s) {
					t.Fatal("the refusal shows a secret")
				}
			}
		})
	}
}

func TestInterceptors_StreamShopsChecked(t *testing.T) {
	ks, err := Parse("s:" + secShop + ":shop=shop-a")
	if err != nil {
		t.Fatal(err)
	}
	conn := serve(t, New(Config{Keys: ks, Log: quiet()}))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secShop)
	for openID, want := range map[string]codes.Code{"shop-a": codes.Unimplemented, "shop-b": codes.PermissionDenied, "": codes.PermissionDenied} {
		s, err := gatewayv1.NewAuthorizationServiceClient(conn).WatchAuthorizationEvents(ctx, &gatewayv1.WatchAuthorizationEventsRequest{OpenId: openID})
		if err == nil {
			_, err = s.Recv()
		}
		if got := status.Code(err); got != want {
			t.Errorf("open_id %q: %s, want %s", openID, got, want)
		}
	}
}

func TestInterceptors_NoKeysAllowsAll(t *testing.T) {
	conn := serve(t, New(Config{Keys: &Keys{}, Log: quiet()}))
	_, err := gatewayv1.NewOrderServiceClient(conn).GetOrder(context.Background(), &gatewayv1.GetOrderRequest{OpenId: "x"})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("without keys: %v", err)
	}
}

func TestHTTP(t *testing.T) {
	a := New(Config{Keys: testKeys(t), Log: quiet()})
	h := a.HTTP("stats", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if KeyFrom(r.Context()) == nil {
			t.Error("no key in the request context")
		}
		_, _ = io.WriteString(w, "ok")
	}))
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no_key", "", 401},
		{"wrong_key", "Bearer nope-0123456789abcdef", 401},
		{"all_groups_but_admin", "Bearer " + secAll, 200},
		{"hashed_stats_key", "Bearer " + secHash, 200},
		{"shop_limited", "Bearer " + secShop, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without a WWW-Authenticate challenge")
			}
			if tt.want >= 400 && !strings.Contains(w.Body.String(), `"code"`) {
				t.Fatalf("body is not a status: %s", w.Body)
			}
		})
	}
}

// BenchmarkAuthenticate measures the per-call cost of checking a key: one
// SHA-256 and a constant-time comparison with every key.
func BenchmarkAuthenticate(b *testing.B) {
	var entries []string
	for i := range 20 {
		entries = append(entries, "k"+string(rune('a'+i))+":secret-number-"+string(rune('a'+i))+"-0123456789")
	}
	ks, err := Parse(strings.Join(entries, ","))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ks.Authenticate("secret-number-t-0123456789") == nil {
			b.Fatal("not found")
		}
	}
}
