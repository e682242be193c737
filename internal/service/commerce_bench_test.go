package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// pageCaller answers every call with the same platform response.
type pageCaller struct{ resp *platform.Response }

func (c pageCaller) Do(context.Context, *platform.Request) (*platform.Response, error) {
	return c.resp, nil
}

type staticTokens struct{}

func (staticTokens) Shop(context.Context, string) (platform.TokenSource, error) {
	return platform.TokenSourceFunc(func(context.Context) (string, error) { return "t", nil }), nil
}
func (staticTokens) App() platform.TokenSource { return nil }

type noWrites struct{}

func (noWrites) Claim(context.Context, string, string) (store.WriteRecord, uint64, bool, error) {
	return store.WriteRecord{}, 0, false, store.ErrNotFound
}
func (noWrites) Complete(context.Context, string, uint64, store.WriteRecord, []byte) error {
	return store.ErrNotFound
}
func (noWrites) Release(context.Context, string, uint64) error { return store.ErrNotFound }
func (noWrites) Wait(context.Context, string, time.Duration) (store.WriteRecord, bool, error) {
	return store.WriteRecord{}, false, store.ErrNotFound
}

// orderPageJSON is an open.order.cursor.list answer of n orders shaped
// like the sandbox's (every member the platform documents), created
// within the hour before end.
func orderPageJSON(n int, end time.Time) string {
	var b strings.Builder
	b.WriteString(`{"cursor":"nomore","orderList":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		created := end.Add(-time.Duration(i+1) * time.Minute).UnixMilli()
		oid := 2600000000000000 + int64(i)
		fmt.Fprintf(&b, `{"orderBaseInfo":{"oid":%d,"status":40,"createTime":%d,"updateTime":%d,"payTime":%d,"sendTime":%d,"recvTime":0,`+
			`"totalFee":5900,"expressFee":600,"discountFee":300,"buyerOpenId":"f3a9c2d4e5b6a7c8","buyerNick":"晴天小猪%03d","buyerImage":"",`+
			`"sellerOpenId":"sandbox_open_id","sellerNick":"沙盒小店","remark":"请尽快发货","payType":1,"payChannel":"WECHAT","cpsType":0,`+
			`"preSale":0,"refundTime":0,"validPromiseShipmentTimeStamp":%d,"commentStatus":0},`+
			`"orderItemInfo":{"orderItemId":%d,"itemId":20000000001,"skuId":30000000001,"relItemId":0,"relSkuId":0,"itemTitle":"纯棉短袖T恤 夏季新款",`+
			`"itemPicUrl":"https://img.sandbox.invalid/item/1.jpg","itemLinkUrl":"https://app.sandbox.invalid/item/20000000001","itemType":1,`+
			`"skuDesc":"颜色:白色;尺码:L","skuNick":"white-L","num":2,"originalPrice":3900,"price":2950,"discountFee":300},`+
			`"orderRefundList":[],"orderLogisticsInfo":[{"logisticsId":%d,"expressNo":"SF1234567890123","expressCode":4}],`+
			`"orderNote":{"orderNoteInfo":[]},"orderAddress":{"province":"北京市","provinceCode":110000,"city":"北京市","cityCode":110100,`+
			`"district":"朝阳区","districtCode":110105,"town":"望京街道","townCode":110105001,"encryptedConsignee":"#enc#consignee#v1#",`+
			`"desensitiseConsignee":"张**","encryptedMobile":"#enc#mobile#v1#","desensitiseMobile":"138****0000",`+
			`"encryptedAddress":"#enc#address#v1#","desensitiseAddress":"北京市北京市朝阳区望京街道****"},`+
			`"orderDeliveryInfo":{"deliveryStatus":1,"deliveryNum":1,"packageNum":1,"splitDeliveryOrder":false}}`,
			oid, created, created+3_600_000, created+60_000, created+3_600_000, i, created+48*3_600_000, oid*10+1, 1000+i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkOrder_ListOrders measures the typed commerce path of one page of
// 20 orders without the network: the request's edge conversion, the page
// token, decoding the platform page and building the response messages.
//
//	go test -run '^$' -bench BenchmarkOrder_ListOrders -benchmem ./internal/service/
func BenchmarkOrder_ListOrders(b *testing.B) {
	end := time.Now()
	resp := &platform.Response{Data: []byte(orderPageJSON(20, end)), RequestID: "r"}
	c, err := NewCommerce(CommerceConfig{Caller: pageCaller{resp}, Tokens: staticTokens{}, Writes: noWrites{}, Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	req := &gatewayv1.ListOrdersRequest{OpenId: "shop", StartTime: timestamppb.New(end.Add(-24 * time.Hour)), EndTime: timestamppb.New(end), PageSize: 20}
	ctx := context.Background()
	out, err := c.Order.ListOrders(ctx, req)
	if err != nil || len(out.GetOrders()) != 20 || out.GetNextPageToken() != "" {
		b.Fatalf("%d orders, token %q, err %v", len(out.GetOrders()), out.GetNextPageToken(), err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Order.ListOrders(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
