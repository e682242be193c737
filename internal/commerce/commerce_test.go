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

func TestDecodeOrder(t *testing.T) {
	t.Parallel()
	o, err := decodeOrder([]byte(sampleOrder))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != 9007199254740993 || o.Status != OrderStatusShipped || o.TotalFen != 5900 || o.ExpressFeeFen != 600 ||
		o.DiscountFen != 0 || !o.ShipTime.IsZero() || !o.CreateTime.Equal(time.UnixMilli(1700000000000)) || o.BuyerNick != "晴天" {
		t.Fatalf("base fields: %+v", o)
	}
	if o.Item == nil || o.Item.SkuID != 30000000001 || o.Item.Quantity != 2 || o.Item.PriceFen != 2950 {
		t.Fatalf("item: %+v", o.Item)
	}
	// An unknown refund status passes through as its number.
	if len(o.Refunds) != 1 || o.Refunds[0].Status != 23 || o.Refunds[0].HandlingWay != 3 {
		t.Fatalf("refunds: %+v", o.Refunds)
	}
	if len(o.Logistics) != 1 || o.Logistics[0].ExpressCode != 9999 || o.Logistics[0].ExpressNo != "2215900041470428" {
		t.Fatalf("logistics: %+v", o.Logistics)
	}
	if len(o.Notes) != 1 || o.Notes[0].Flag != 2 || !o.Notes[0].CreateTime.Equal(time.UnixMilli(1700000200000)) {
		t.Fatalf("notes: %+v", o.Notes)
	}
	if o.Address == nil || o.Address.MaskedMobile != "138****0000" || o.Address.EncryptedMobile != "#abc#" {
		t.Fatalf("address: %+v", o.Address)
	}
	for _, want := range []string{`"oid":9007199254740993`, `"orderFlag":{"flag":["grey_flag_tag_order"]}`, `"someNewField":{"x":[1,2]}`} {
		if !strings.Contains(o.Raw, want) {
			t.Fatalf("raw lacks %s: %s", want, o.Raw)
		}
	}
	if _, err := decodeOrder([]byte(`"not an object"`)); err == nil {
		t.Fatal("a string decoded as an order")
	}
}

func TestDecodeItem_ShelfStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		want ShelfStatus
	}{
		{`{"kwaiItemId":1,"shelfStatus":1}`, ShelfOn},
		{`{"kwaiItemId":1,"shelfStatus":0}`, ShelfOff},
		{`{"kwaiItemId":1,"shelfStatus":"0"}`, ShelfOff},
		{`{"kwaiItemId":1}`, ShelfUnknown},
		{`{"kwaiItemId":1,"shelfStatus":5}`, ShelfUnknown},
	} {
		t.Run(tc.json, func(t *testing.T) {
			it, err := decodeItem([]byte(tc.json))
			if err != nil || it.ShelfStatus != tc.want {
				t.Fatalf("shelf = %v, %v; want %v", it.ShelfStatus, err, tc.want)
			}
		})
	}
	it, err := decodeItem([]byte(`{"kwaiItemId":1,"skuList":[{"skuId":2,"skuStock":3}],"skuInfos":[{"skuId":4,"skuSalePrice":"990"}]}`))
	if err != nil || len(it.Skus) != 1 || it.Skus[0].ID != 4 || it.Skus[0].PriceFen != 990 {
		t.Fatalf("details prefer skuInfos: %+v %v", it, err)
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
	var unset time.Time
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       span
		field      string
	}{
		{"defaults", unset, unset, span{now.Add(-OrderWindow).UnixMilli(), now.UnixMilli()}, ""},
		{"end_only", unset, now.Add(-time.Hour), span{now.Add(-time.Hour - OrderWindow).UnixMilli(), now.Add(-time.Hour).UnixMilli()}, ""},
		{"unix_epoch_is_set", time.Unix(0, 0), unset, span{}, "start_time"},
		{"sub_ms_rounds_up", now.Add(time.Microsecond - time.Hour), now.Add(time.Microsecond),
			span{now.Add(-time.Hour).UnixMilli() + 1, now.UnixMilli() + 1}, ""},
		{"empty", now, now, span{}, "end_time"},
		{"reversed", now, now.Add(-time.Hour), span{}, "end_time"},
		{"same_ms", now.Add(time.Microsecond), now.Add(2 * time.Microsecond), span{}, "end_time"},
		{"too_old", now.Add(-91 * 24 * time.Hour), unset, span{}, "start_time"},
		{"end_too_old", unset, now.Add(-85 * 24 * time.Hour), span{}, "end_time"},
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
					recs, next, err := listWindows(context.Background(), w, "f", token, start, end, now, size)
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
	recs, next, err := listWindows(context.Background(), w, "f", "", start, now, now, 20)
	if err != nil || len(recs) != 0 || next == "" || p.calls != maxCallsPerPage {
		t.Fatalf("first page: %d records, token %q, %d calls, err %v", len(recs), next, p.calls, err)
	}
	var all []rec
	for next != "" {
		recs, next, err = listWindows(context.Background(), w, "f", next, start, now, now, 20)
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
	recs, next, err := listWindows(context.Background(), w, "f", "", now.Add(-time.Hour), now, now, 100)
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
	if _, _, err := listWindows(context.Background(), w, "f", bad.encode(), time.Time{}, time.Time{}, now, 10); !errors.Is(err, ErrPageToken) {
		t.Fatalf("err = %v, want ErrPageToken", err)
	}
}

func TestCheckFreight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rr    ReturnReceipt
		field string
	}{
		{"none", ReturnReceipt{}, ""},
		{"agree", ReturnReceipt{Freight: FreightAgree, FreightAmountFen: 800}, ""},
		{"agree_no_amount", ReturnReceipt{Freight: FreightAgree}, "return_freight_amount_fen"},
		{"agree_with_reason", ReturnReceipt{Freight: FreightAgree, FreightAmountFen: 800, FreightRejectDescription: "x"}, "return_freight_reject_description"},
		{"reject", ReturnReceipt{Freight: FreightReject, FreightRejectDescription: "no"}, ""},
		{"reject_no_reason", ReturnReceipt{Freight: FreightReject}, "return_freight_reject_description"},
		{"reject_with_amount", ReturnReceipt{Freight: FreightReject, FreightRejectDescription: "no", FreightAmountFen: 1}, "return_freight_amount_fen"},
		{"fields_without_decision", ReturnReceipt{FreightAmountFen: 1}, "return_freight_decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFreight(tc.rr)
			var fe *FieldError
			if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Fatalf("checkFreight = %v, want field %q", err, tc.field)
			}
		})
	}
}
