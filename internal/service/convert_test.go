package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

func newTestCommerce(t *testing.T, data string, now time.Time) *Commerce {
	t.Helper()
	c, err := NewCommerce(CommerceConfig{
		Caller: pageCaller{&platform.Response{Data: []byte(data), RequestID: "r"}}, Tokens: staticTokens{}, Writes: noWrites{},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ListOrders turns the platform's page into Order messages at the edge:
// every modelled field, unset times as absent, the raw JSON of each order.
func TestOrder_ListOrders_ConvertsAtTheEdge(t *testing.T) {
	t.Parallel()
	end := time.UnixMilli(1_750_000_000_000)
	c := newTestCommerce(t, orderPageJSON(3, end), end)
	resp, err := c.Order.ListOrders(context.Background(), &gatewayv1.ListOrdersRequest{OpenId: "shop", PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetOrders()) != 3 || resp.GetNextPageToken() != "" {
		t.Fatalf("%d orders, token %q", len(resp.GetOrders()), resp.GetNextPageToken())
	}
	o := resp.GetOrders()[1]
	created := end.Add(-2 * time.Minute).UnixMilli()
	if o.GetOrderId() != 2600000000000001 || o.GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_SHIPPED ||
		o.GetCreateTime().AsTime().UnixMilli() != created || o.GetPayTime().AsTime().UnixMilli() != created+60_000 ||
		o.GetReceiveTime() != nil || o.GetTotalFen() != 5900 || o.GetDiscountFen() != 300 || o.GetBuyerNick() != "晴天小猪001" {
		t.Fatalf("order %v", o)
	}
	if o.GetItem().GetTitle() != "纯棉短袖T恤 夏季新款" || o.GetItem().GetSkuId() != 30000000001 || o.GetItem().GetPriceFen() != 2950 ||
		o.GetAddress().GetMaskedMobile() != "138****0000" || o.GetAddress().GetEncryptedAddress() != "#enc#address#v1#" ||
		len(o.GetLogistics()) != 1 || o.GetLogistics()[0].GetExpressCode() != 4 || o.GetRefunds() != nil || o.GetNotes() != nil {
		t.Fatalf("order parts %v", o)
	}
	if !strings.HasPrefix(o.GetRaw(), `{"orderBaseInfo":{"oid":2600000000000001,`) || !strings.HasSuffix(o.GetRaw(), `"splitDeliveryOrder":false}}`) {
		t.Fatalf("raw %s", o.GetRaw())
	}
}

func TestOrder_ListOrders_RefusesInvalidRangeEnds(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_750_000_000_000)
	c := newTestCommerce(t, `{"cursor":"nomore","orderList":[]}`, now)
	for _, tc := range []struct {
		name  string
		req   *gatewayv1.ListOrdersRequest
		field string
	}{
		{"invalid_start", &gatewayv1.ListOrdersRequest{OpenId: "shop", StartTime: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}}, "start_time"},
		{"invalid_end", &gatewayv1.ListOrdersRequest{OpenId: "shop", EndTime: &timestamppb.Timestamp{Seconds: 1 << 40}}, "end_time"},
		{"year_one_start", &gatewayv1.ListOrdersRequest{OpenId: "shop", StartTime: timestamppb.New(time.Time{})}, "start_time"},
		{"too_old", &gatewayv1.ListOrdersRequest{OpenId: "shop", StartTime: timestamppb.New(now.Add(-100 * 24 * time.Hour))}, "start_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Order.ListOrders(context.Background(), tc.req)
			st := status.Convert(err)
			var field string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
					field = br.GetFieldViolations()[0].GetField()
				}
			}
			if st.Code() != codes.InvalidArgument || field != tc.field {
				t.Fatalf("err = %v (field %q), want INVALID_ARGUMENT on %s", err, field, tc.field)
			}
		})
	}
}

func TestEnumConverters(t *testing.T) {
	t.Parallel()
	for _, s := range []gatewayv1.ShelfStatus{
		gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED, gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF, gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF,
	} {
		if got := shelfStatusProto(shelfStatus(s)); got != s {
			t.Errorf("shelf status %v comes back as %v", s, got)
		}
	}
	if freightDecision(gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE) != commerce.FreightAgree ||
		freightDecision(gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_REJECT) != commerce.FreightReject ||
		freightDecision(gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_UNSPECIFIED) != commerce.FreightNone {
		t.Error("freight decisions")
	}
	if stockChange(gatewayv1.StockChange_STOCK_CHANGE_ADD) != commerce.StockAdd || stockChange(gatewayv1.StockChange_STOCK_CHANGE_REDUCE) != commerce.StockReduce {
		t.Error("stock changes")
	}
	// Statuses keep the platform's numbers on both sides.
	if gatewayv1.OrderStatus(commerce.OrderStatusClosed) != gatewayv1.OrderStatus_ORDER_STATUS_CLOSED ||
		gatewayv1.OrderStatus(commerce.OrderStatusSucceeded) != gatewayv1.OrderStatus_ORDER_STATUS_SUCCEEDED ||
		gatewayv1.SellerAddressType(commerce.SellerAddressShipFrom) != gatewayv1.SellerAddressType_SELLER_ADDRESS_TYPE_SHIP_FROM {
		t.Error("status numbers differ")
	}
}

// A waybill keeps everything the print component needs and a reject
// reason the evidence it requires: every field of the Go type reaches the
// message.
func TestWaybillAndRejectReason_KeepEveryField(t *testing.T) {
	t.Parallel()
	w := commerce.Waybill{Code: "JD1", ParentCode: "JD0", PackageCode: "JD1-1-1", PrintData: "pd", Signature: "sig", Key: "k", Version: "2"}
	want := &gatewayv1.Waybill{WaybillCode: "JD1", ParentWaybillCode: "JD0", PackageCode: "JD1-1-1", PrintData: "pd", Signature: "sig", Key: "k", Version: "2"}
	if got := waybillProto(w); !proto.Equal(got, want) {
		t.Errorf("waybill %+v converts to %v, want %v", w, got, want)
	}
	r := commerce.RejectReason{Code: 5, Description: "其他", RequiresDescription: true, RequiresImage: true, Tip: "tip"}
	wantR := &gatewayv1.RefundRejectReason{Code: 5, Description: "其他", RequiresDescription: true, RequiresImage: true, Tip: "tip"}
	if got := rejectReasonProto(r); !proto.Equal(got, wantR) {
		t.Errorf("reason %+v converts to %v, want %v", r, got, wantR)
	}
}

// A record may carry any number of milliseconds; a time a Timestamp cannot
// hold converts to unset instead of making the answer unencodable (a 500).
func TestTimestamp_OutOfRangeIsUnset(t *testing.T) {
	for _, ms := range []int64{9e18, -9e18, 253402300800000 /* year 10000 */} {
		if got := timestamp(time.UnixMilli(ms)); got != nil {
			t.Errorf("timestamp(%d ms) = %v, want nil", ms, got)
		}
	}
	ok := time.UnixMilli(1700000000123)
	if got := timestamp(ok); got == nil || !got.AsTime().Equal(ok) {
		t.Errorf("timestamp(%v) = %v", ok, got)
	}
	if timestamp(time.Time{}) != nil {
		t.Error("the zero time must stay unset")
	}
	m := &gatewayv1.Order{UpdateTime: timestamp(time.UnixMilli(9e18))}
	if _, err := protojson.Marshal(m); err != nil {
		t.Fatalf("an order with an absurd time must still encode: %v", err)
	}
}
