package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// BenchmarkGatewayCall measures one Call round trip through the whole
// gateway (gRPC or REST → service → token → sign → HTTP → in-process sandbox
// → back), with the sandbox, the gateway and the client sharing the machine.
func BenchmarkGatewayCall(b *testing.B) {
	g := startGateway(b)
	openID := g.info.SandboxOpenID
	ctx := context.Background()
	client := gatewayv1.NewPlatformServiceClient(g.conn)
	req := &gatewayv1.CallRequest{OpenId: openID, Method: "open.shop.info.get", Params: structpb.NewStructValue(&structpb.Struct{})}
	orderParams, _ := structpb.NewValue(orderParams(time.Now(), 1))
	orders := &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.cursor.list", Params: orderParams}

	b.Run("grpc/shop_info", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Call(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc/shop_info/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.Call(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("grpc/order_list_1d", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Call(ctx, orders); err != nil {
				b.Fatal(err)
			}
		}
	})
	body := `{"open_id":"` + openID + `","method":"open.shop.info.get","params":{}}`
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Run("rest/shop_info", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := hc.Post("http://"+g.info.HTTPAddr+"/v1/call", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	})
}
