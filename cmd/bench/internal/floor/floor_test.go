package floor

import (
	"context"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kwaishop-gateway/kwaishop-gateway/cmd/bench/internal/bench"
	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// The floor against the real sandbox: the floor is only a floor if it is a
// correct Call (signed, the shop's token, data converted), so the
// comparison in `make bench` measures the same work.
func TestServer_Call_against_sandbox(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	ctx := context.Background()
	cfg := sb.Config()
	admin := &bench.Admin{BaseURL: srv.URL, HTTP: srv.Client()}
	tok, err := admin.AccessToken(ctx, cfg.AppKey, cfg.AppSecret, 1)
	if err != nil {
		t.Fatal(err)
	}
	base := Config{GRPCAddr: "unused", BaseURL: srv.URL, AppKey: cfg.AppKey, SignSecret: cfg.SignSecret, AccessToken: tok}
	empty := structpb.NewStructValue(&structpb.Struct{})
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		params *structpb.Value
		want   codes.Code
	}{
		{"ok", func(*Config) {}, empty, codes.OK},
		{"no_params", func(*Config) {}, nil, codes.OK},
		{"bad_signature", func(c *Config) { c.SignSecret = "wrong" }, empty, codes.FailedPrecondition},
		{"bad_token", func(c *Config) { c.AccessToken = "nope" }, empty, codes.FailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			s, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.Call(ctx, &gatewayv1.CallRequest{Method: "open.shop.info.get", Params: tc.params})
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code = %v (%v), want %v", got, err, tc.want)
			}
			if tc.want == codes.OK && (resp.GetResult() != 1 || resp.GetData().GetStructValue() == nil) {
				t.Fatalf("response = %v, want result 1 with an object in data", resp)
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	if err := (Config{}).Validate(); err == nil {
		t.Fatal("empty config accepted")
	}
}
