package commerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

func TestTolerantScalars(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{`123`, 123},
		{`"123"`, 123},
		{`" 42 "`, 42},
		{`9223372036854775807`, 9223372036854775807},
		{`"9007199254740993"`, 9007199254740993}, // 2^53+1: lost by float64
		{`1.0e3`, 1000},
		{`-5`, -5},
		{`null`, 0},
		{`true`, 0},
		{`{"a":1}`, 0},
		{`"abc"`, 0},
		{`1.5`, 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v struct {
				N i64 `json:"n"`
			}
			if err := json.Unmarshal([]byte(`{"n":`+tc.in+`}`), &v); err != nil {
				t.Fatalf("decode failed: %v", err)
			}
			if int64(v.N) != tc.want {
				t.Fatalf("i64(%s) = %d, want %d", tc.in, v.N, tc.want)
			}
		})
	}
	var s struct {
		A, B, C, D str
		F, G, H    flag
		O, P       opt64
	}
	if err := json.Unmarshal([]byte(`{"A":"x","B":12345678901234567890,"C":null,"D":[1],"F":1,"G":"true","H":false,"O":0}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.A != "x" || s.B != "12345678901234567890" || s.C != "" || s.D != "" || !bool(s.F) || !bool(s.G) || bool(s.H) ||
		!s.O.Set || s.O.V != 0 || s.P.Set {
		t.Fatalf("decoded %+v", s)
	}
}

// A platform order with the shapes the sources disagree on: string numbers,
// extra members everywhere, an id beyond float64 precision.
const sampleOrder = `{
  "orderBaseInfo": {"oid": 9007199254740993, "status": "40", "createTime": 1700000000000, "updateTime": 1700000100000,
    "payTime": 1700000001000, "sendTime": 0, "totalFee": "5900", "expressFee": 600, "discountFee": null,
    "buyerOpenId": "b1", "buyerNick": "晴天", "remark": "尽快", "someNewField": {"x": [1, 2]}},
  "orderItemInfo": {"itemId": 20000000001, "skuId": "30000000001", "num": 2, "price": 2950, "itemTitle": "T恤", "extra": true},
  "orderRefundList": [{"refundId": 7, "refundStatus": 23, "handlingWay": 3}],
  "orderLogisticsInfo": [{"expressNo": "2215900041470428", "expressCode": "9999"}],
  "orderNote": {"sellerNote": [], "orderNoteInfo": [{"note": "n", "flag": 2, "createTime": 1700000200000}]},
  "orderAddress": {"province": "北京市", "desensitiseMobile": "138****0000", "encryptedMobile": "#abc#"},
  "orderFlag": {"flag": ["grey_flag_tag_order"]}
}`

func TestOrderProto(t *testing.T) {
	t.Parallel()
	o, err := OrderProto(json.RawMessage(sampleOrder))
	if err != nil {
		t.Fatal(err)
	}
	if o.GetOrderId() != 9007199254740993 || o.GetStatus() != gatewayv1.OrderStatus_ORDER_STATUS_SHIPPED ||
		o.GetTotalFen() != 5900 || o.GetExpressFeeFen() != 600 || o.GetDiscountFen() != 0 || o.GetShipTime() != nil ||
		!o.GetCreateTime().AsTime().Equal(time.UnixMilli(1700000000000)) || o.GetBuyerNick() != "晴天" {
		t.Fatalf("base fields: %v", o)
	}
	if o.GetItem().GetSkuId() != 30000000001 || o.GetItem().GetQuantity() != 2 || o.GetItem().GetPriceFen() != 2950 {
		t.Fatalf("item: %v", o.GetItem())
	}
	// An unknown refund status passes through as its number.
	if r := o.GetRefunds()[0]; r.GetStatus() != 23 || r.GetHandlingWay() != gatewayv1.RefundHandlingWay_REFUND_HANDLING_WAY_EXCHANGE {
		t.Fatalf("refunds: %v", o.GetRefunds())
	}
	if l := o.GetLogistics()[0]; l.GetExpressCode() != 9999 || l.GetExpressNo() != "2215900041470428" {
		t.Fatalf("logistics: %v", l)
	}
	if n := o.GetNotes(); len(n) != 1 || n[0].GetFlag() != 2 {
		t.Fatalf("notes: %v", n)
	}
	if o.GetAddress().GetMaskedMobile() != "138****0000" || o.GetAddress().GetEncryptedMobile() != "#abc#" {
		t.Fatalf("address: %v", o.GetAddress())
	}
	for _, want := range []string{`"oid":9007199254740993`, `"orderFlag":{"flag":["grey_flag_tag_order"]}`, `"someNewField":{"x":[1,2]}`} {
		if !strings.Contains(o.GetRaw(), want) {
			t.Fatalf("raw lacks %s: %s", want, o.GetRaw())
		}
	}
	if _, err := OrderProto(json.RawMessage(`"not an object"`)); err == nil {
		t.Fatal("a string decoded as an order")
	}
}

func TestItemProto_ShelfStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		want gatewayv1.ShelfStatus
	}{
		{`{"kwaiItemId":1,"shelfStatus":1}`, gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF},
		{`{"kwaiItemId":1,"shelfStatus":0}`, gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF},
		{`{"kwaiItemId":1,"shelfStatus":"0"}`, gatewayv1.ShelfStatus_SHELF_STATUS_OFF_SHELF},
		{`{"kwaiItemId":1}`, gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED},
		{`{"kwaiItemId":1,"shelfStatus":5}`, gatewayv1.ShelfStatus_SHELF_STATUS_UNSPECIFIED},
	} {
		t.Run(tc.json, func(t *testing.T) {
			it, err := ItemProto(json.RawMessage(tc.json))
			if err != nil || it.GetShelfStatus() != tc.want {
				t.Fatalf("shelf = %v, %v; want %v", it.GetShelfStatus(), err, tc.want)
			}
		})
	}
	it, err := ItemProto(json.RawMessage(`{"kwaiItemId":1,"skuList":[{"skuId":2,"skuStock":3}],"skuInfos":[{"skuId":4,"skuSalePrice":"990"}]}`))
	if err != nil || len(it.GetSkus()) != 1 || it.GetSkus()[0].GetSkuId() != 4 || it.GetSkus()[0].GetPriceFen() != 990 {
		t.Fatalf("details prefer skuInfos: %v %v", it, err)
	}
}

func TestPageToken(t *testing.T) {
	t.Parallel()
	f := filterHash("orders", "shop", "1", "2")
	tok := pageToken{V: tokenVersion, Filter: f, Begin: 1, End: 10, WBegin: 3, WEnd: 10, Cursor: "abc"}
	got, ok, err := parseToken(tok.encode(), f)
	if err != nil || !ok || got != tok {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	if _, ok, err := parseToken("", f); ok || err != nil {
		t.Fatal("empty token must mean the first page")
	}
	for name, s := range map[string]string{
		"other_filters": tok.encode(),
		"garbage":       "not-base64!",
		"not_json":      "bm90IGpzb24",
		"old_version":   pageToken{V: 99, Filter: f}.encode(),
	} {
		t.Run(name, func(t *testing.T) {
			filter := f
			if name == "other_filters" {
				filter = filterHash("orders", "shop", "1", "3")
			}
			if _, _, err := parseToken(s, filter); !errors.Is(err, ErrPageToken) {
				t.Fatalf("parseToken = %v, want ErrPageToken", err)
			}
		})
	}
	if filterHash("a", "bc") == filterHash("ab", "c") {
		t.Fatal("filter parts are not separated")
	}
}

func TestResolveRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ts := timestamppb.New
	for _, tc := range []struct {
		name       string
		start, end *timestamppb.Timestamp
		want       span
		field      string
	}{
		{"defaults", nil, nil, span{now.Add(-OrderWindow).UnixMilli(), now.UnixMilli()}, ""},
		{"end_only", nil, ts(now.Add(-time.Hour)), span{now.Add(-time.Hour - OrderWindow).UnixMilli(), now.Add(-time.Hour).UnixMilli()}, ""},
		{"sub_ms_rounds_up", ts(now.Add(time.Microsecond - time.Hour)), ts(now.Add(time.Microsecond)),
			span{now.Add(-time.Hour).UnixMilli() + 1, now.UnixMilli() + 1}, ""},
		{"empty", ts(now), ts(now), span{}, "end_time"},
		{"reversed", ts(now), ts(now.Add(-time.Hour)), span{}, "end_time"},
		{"same_ms", ts(now.Add(time.Microsecond)), ts(now.Add(2 * time.Microsecond)), span{}, "end_time"},
		{"too_old", ts(now.Add(-91 * 24 * time.Hour)), nil, span{}, "start_time"},
		{"invalid", &timestamppb.Timestamp{Seconds: 1, Nanos: -1}, nil, span{}, "start_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveRange(tc.start, tc.end, now, OrderWindow)
			var fe *FieldError
			if tc.field != "" {
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("err = %v, want a %s FieldError", err, tc.field)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("resolveRange = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// fakePlatform is a list API over records at given times, with a window
// limit, a page size limit and a cursor. inclusive makes windows include
// both ends, as some platforms do; the walk must still return each record
// once.
type fakePlatform struct {
	times     []int64 // record i has time times[i] and id i
	window    int64
	maxPage   int
	inclusive bool
	calls     int
}

type rec struct{ id, t int64 }

func (p *fakePlatform) fetch(_ context.Context, w span, cursor string, size int) ([]rec, string, error) {
	p.calls++
	if w.End-w.Begin > p.window {
		return nil, "", fmt.Errorf("window %d > %d", w.End-w.Begin, p.window)
	}
	if size < 1 || size > p.maxPage {
		return nil, "", fmt.Errorf("page size %d", size)
	}
	var in []rec
	for i, t := range p.times {
		if t >= w.Begin && (t < w.End || (p.inclusive && t == w.End)) {
			in = append(in, rec{int64(i), t})
		}
	}
	slices.SortFunc(in, func(a, b rec) int { return cmpDesc(a, b) })
	from := 0
	if cursor != "" {
		from, _ = strconv.Atoi(cursor)
	}
	if from >= len(in) {
		return nil, cursorEnd, nil
	}
	to := min(len(in), from+size)
	next := strconv.Itoa(to)
	if to == len(in) {
		next = cursorEnd
	}
	return in[from:to], next, nil
}

func cmpDesc(a, b rec) int {
	if a.t != b.t {
		return int(b.t - a.t)
	}
	return int(b.id - a.id)
}

func TestListWindows_EachRecordOnce(t *testing.T) {
	t.Parallel()
	const day = int64(24 * time.Hour / time.Millisecond)
	now := time.UnixMilli(100 * day)
	start, end := now.Add(-30*24*time.Hour), now
	r := rand.New(rand.NewPCG(1, 2))
	var times []int64
	for range 300 {
		times = append(times, start.UnixMilli()+r.Int64N(end.UnixMilli()-start.UnixMilli()))
	}
	// Records exactly on window boundaries and on the range ends.
	for w := end.UnixMilli(); w >= start.UnixMilli(); w -= 7 * day {
		times = append(times, w, w, w-1)
	}
	times = append(times, start.UnixMilli()-1, end.UnixMilli()+1)
	var want []rec
	for i, tm := range times {
		if tm >= start.UnixMilli() && tm < end.UnixMilli() {
			want = append(want, rec{int64(i), tm})
		}
	}
	slices.SortStableFunc(want, func(a, b rec) int { return int(b.t - a.t) })

	for _, inclusive := range []bool{false, true} {
		for _, size := range []int{1, 7, 20, 50, 100} {
			t.Run(fmt.Sprintf("inclusive=%v/size=%d", inclusive, size), func(t *testing.T) {
				p := &fakePlatform{times: times, window: 7 * day, maxPage: 50, inclusive: inclusive}
				w := walker[rec]{window: 7 * 24 * time.Hour, maxPage: 50, fetch: p.fetch, timeOf: func(x rec) int64 { return x.t }}
				var got []rec
				token := ""
				for pages := 0; ; pages++ {
					if pages > 1000 {
						t.Fatal("no end")
					}
					recs, next, err := listWindows(context.Background(), w, "f", token, timestamppb.New(start), timestamppb.New(end), now, size)
					if err != nil {
						t.Fatal(err)
					}
					if len(recs) > size {
						t.Fatalf("page of %d, size %d", len(recs), size)
					}
					got = append(got, recs...)
					if token = next; token == "" {
						break
					}
				}
				seen := map[int64]bool{}
				for _, x := range got {
					if seen[x.id] {
						t.Fatalf("record %d (t=%d) returned twice", x.id, x.t)
					}
					seen[x.id] = true
				}
				if len(got) != len(want) {
					t.Fatalf("%d records, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i].t != want[i].t {
						t.Fatalf("record %d at %d, want time %d (newest first)", i, got[i].t, want[i].t)
					}
				}
			})
		}
	}
}

func TestListWindows_EmptyWindowsBoundCallsPerPage(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	now := time.UnixMilli(int64(100 * day / time.Millisecond))
	start := now.Add(-80 * day)
	// One record at the very start: 79 empty one-day windows come first.
	p := &fakePlatform{times: []int64{start.UnixMilli()}, window: int64(day / time.Millisecond), maxPage: 100}
	w := walker[rec]{window: day, maxPage: 100, fetch: p.fetch, timeOf: func(x rec) int64 { return x.t }}
	recs, next, err := listWindows(context.Background(), w, "f", "", timestamppb.New(start), timestamppb.New(now), now, 20)
	if err != nil || len(recs) != 0 || next == "" || p.calls != maxCallsPerPage {
		t.Fatalf("first page: %d records, token %q, %d calls, err %v", len(recs), next, p.calls, err)
	}
	var all []rec
	for next != "" {
		recs, next, err = listWindows(context.Background(), w, "f", next, timestamppb.New(start), timestamppb.New(now), now, 20)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	if len(all) != 1 || p.calls != 80 {
		t.Fatalf("%d records after %d calls, want 1 after 80", len(all), p.calls)
	}
}

func TestListWindows_StuckCursorEndsTheWindow(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_000_000_000)
	calls := 0
	w := walker[rec]{window: time.Hour, maxPage: 10, timeOf: func(x rec) int64 { return x.t },
		fetch: func(_ context.Context, win span, cursor string, _ int) ([]rec, string, error) {
			calls++
			return []rec{{int64(calls), win.End - 1}}, "same", nil // never advances past "same"
		}}
	recs, next, err := listWindows(context.Background(), w, "f", "", timestamppb.New(now.Add(-time.Hour)), timestamppb.New(now), now, 100)
	if err != nil || next != "" || len(recs) != 2 || calls != 2 {
		t.Fatalf("%d records, token %q, %d calls, err %v", len(recs), next, calls, err)
	}
}

func TestListWindows_TokenOutsideRange(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_000_000_000)
	w := walker[rec]{window: time.Hour, maxPage: 10, timeOf: func(x rec) int64 { return x.t },
		fetch: func(context.Context, span, string, int) ([]rec, string, error) { return nil, cursorEnd, nil }}
	bad := pageToken{V: tokenVersion, Filter: "f", Begin: 0, End: 100, WBegin: 0, WEnd: 100 + int64(time.Hour/time.Millisecond)}
	if _, _, err := listWindows(context.Background(), w, "f", bad.encode(), nil, nil, now, 10); !errors.Is(err, ErrPageToken) {
		t.Fatalf("err = %v, want ErrPageToken", err)
	}
}

func TestCheckFreight(t *testing.T) {
	t.Parallel()
	agree, reject := gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_AGREE, gatewayv1.ReturnFreightDecision_RETURN_FREIGHT_DECISION_REJECT
	for _, tc := range []struct {
		name  string
		req   *gatewayv1.ConfirmReturnReceiptRequest
		field string
	}{
		{"none", &gatewayv1.ConfirmReturnReceiptRequest{}, ""},
		{"agree", &gatewayv1.ConfirmReturnReceiptRequest{ReturnFreightDecision: agree, ReturnFreightAmountFen: 800}, ""},
		{"agree_no_amount", &gatewayv1.ConfirmReturnReceiptRequest{ReturnFreightDecision: agree}, "return_freight_amount_fen"},
		{"reject", &gatewayv1.ConfirmReturnReceiptRequest{ReturnFreightDecision: reject, ReturnFreightRejectDescription: "no"}, ""},
		{"reject_no_reason", &gatewayv1.ConfirmReturnReceiptRequest{ReturnFreightDecision: reject}, "return_freight_reject_description"},
		{"fields_without_decision", &gatewayv1.ConfirmReturnReceiptRequest{ReturnFreightAmountFen: 1}, "return_freight_decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFreight(tc.req)
			var fe *FieldError
			if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Fatalf("checkFreight = %v, want field %q", err, tc.field)
			}
		})
	}
}
