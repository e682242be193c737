package service

import (
	"context"
	"testing"
	"time"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// BenchmarkPlatformCall is the service's share of one Call of
// open.order.cursor.list (params as the README's example, an answer of one
// page of 10 orders): with the catalog check (validated), without it
// (skip_validation), and with the exact params form. The difference of the
// first two is the validation cost per call (docs/benchmarks.md).
func BenchmarkPlatformCall(b *testing.B) {
	resp, err := platform.CheckResponse(200, []byte(`{"result":1,"error_msg":"","requestId":"r-1","data":`+orderPageJSON(10, time.UnixMilli(1717804800000))+`}`), "open.order.cursor.list")
	if err != nil {
		b.Fatal(err)
	}
	s := NewPlatform(pageCaller{resp: resp}, staticTokens{}, nil)
	const params = `{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"beginTime":1717200000000,"endTime":1717804800000,"cursor":""}`
	for _, bc := range []struct {
		name string
		req  *gatewayv1.CallRequest
	}{
		{"validated", &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.order.cursor.list", ParamsJson: params}},
		{"skip_validation", &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.order.cursor.list", ParamsJson: params, SkipValidation: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Call(ctx, bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckCatalog is the validation alone, per call.
func BenchmarkCheckCatalog(b *testing.B) {
	param := []byte(`{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"beginTime":1717200000000,"endTime":1717804800000,"cursor":""}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkCatalog("open.order.cursor.list", param, nil); err != nil {
			b.Fatal(err)
		}
	}
}
