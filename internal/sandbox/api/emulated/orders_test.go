package emulated_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

type wireOrder struct {
	OrderBaseInfo struct {
		Oid          int64  `json:"oid"`
		Status       int    `json:"status"`
		CreateTime   int64  `json:"createTime"`
		UpdateTime   int64  `json:"updateTime"`
		PayTime      int64  `json:"payTime"`
		SendTime     int64  `json:"sendTime"`
		TotalFee     int64  `json:"totalFee"`
		SellerOpenID string `json:"sellerOpenId"`
		BuyerOpenID  string `json:"buyerOpenId"`
	} `json:"orderBaseInfo"`
	OrderItemInfo struct {
		ItemID int64 `json:"itemId"`
		SkuID  int64 `json:"skuId"`
		Num    int64 `json:"num"`
		Price  int64 `json:"price"`
	} `json:"orderItemInfo"`
	OrderLogisticsInfo []shop.OrderLogistics `json:"orderLogisticsInfo"`
	OrderAddress       shop.OrderAddress     `json:"orderAddress"`
}

type wireOrderList struct {
	Cursor    string      `json:"cursor"`
	OrderList []wireOrder `json:"orderList"`
	PageSize  int         `json:"pageSize"`
	BeginTime int64       `json:"beginTime"`
	EndTime   int64       `json:"endTime"`
}

// pageAll pages one window with the given param template to the end.
func pageAll(t *testing.T, c *sandboxtest.SDK, tok string, p map[string]any) []wireOrder {
	t.Helper()
	var all []wireOrder
	p["cursor"] = ""
	for range 1000 {
		var page wireOrderList
		c.MustCall(tok, "open.order.cursor.list", p, &page)
		if len(page.OrderList) > p["pageSize"].(int) {
			t.Fatalf("page of %d > pageSize", len(page.OrderList))
		}
		all = append(all, page.OrderList...)
		if page.Cursor == "nomore" {
			return all
		}
		if page.Cursor == "" {
			t.Fatal("empty cursor before the end")
		}
		p["cursor"] = page.Cursor
	}
	t.Fatal("paging did not end")
	return nil
}

func TestOrders_PagingEveryOrderExactlyOnce(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 42, TestUsers: 2})
	tok := c.Authorize(2, "merchant_order").AccessToken
	want := c.SeededShop(2).Orders // the generator's list
	if len(want) < 10 || len(want) > 80 {
		t.Fatalf("%d orders seeded", len(want))
	}
	statuses := map[int]bool{}
	for _, o := range want {
		statuses[o.BaseInfo.Status] = true
	}
	if len(statuses) != 6 {
		t.Fatalf("statuses seeded: %v", statuses)
	}
	now := s.Now()
	for _, tc := range []struct {
		name            string
		queryType, sort int
	}{{"create_desc", 1, 1}, {"create_asc", 1, 2}, {"update_desc", 2, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			c2 := c.For(t)
			seen := map[int64]int{}
			begin := now.Add(-30 * 24 * time.Hour)
			for w := begin; w.Before(now.Add(time.Millisecond)); w = w.Add(7 * 24 * time.Hour) {
				end := w.Add(7 * 24 * time.Hour)
				p := map[string]any{"beginTime": w.UnixMilli(), "endTime": end.UnixMilli(), "pageSize": 7, "orderViewStatus": 1, "queryType": tc.queryType, "sort": tc.sort}
				got := pageAll(t, c2, tok, p)
				for i, o := range got {
					ts := o.OrderBaseInfo.CreateTime
					if tc.queryType == 2 {
						ts = o.OrderBaseInfo.UpdateTime
					}
					if ts < w.UnixMilli() || ts >= end.UnixMilli() {
						t.Errorf("order %d (t=%d) outside [%d,%d)", o.OrderBaseInfo.Oid, ts, w.UnixMilli(), end.UnixMilli())
					}
					if i > 0 {
						prev := got[i-1].OrderBaseInfo.CreateTime
						if tc.queryType == 2 {
							prev = got[i-1].OrderBaseInfo.UpdateTime
						}
						if (tc.sort == 1 && prev < ts) || (tc.sort == 2 && prev > ts) {
							t.Errorf("not sorted at %d", i)
						}
					}
					seen[o.OrderBaseInfo.Oid]++
				}
			}
			if len(seen) != len(want) {
				t.Errorf("paged %d distinct orders, seeded %d", len(seen), len(want))
			}
			for _, o := range want {
				if seen[o.BaseInfo.Oid] != 1 {
					t.Errorf("order %d seen %d times", o.BaseInfo.Oid, seen[o.BaseInfo.Oid])
				}
			}
		})
	}

	t.Run("status_filter", func(t *testing.T) {
		c2 := c.For(t)
		for view, status := range rules.OrderViewStatus {
			n := 0
			for _, o := range want {
				if o.BaseInfo.Status == status {
					n++
				}
			}
			got := 0
			for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(7 * 24 * time.Hour) {
				for _, o := range pageAll(t, c2, tok, map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(7 * 24 * time.Hour).UnixMilli(), "pageSize": 50, "orderViewStatus": view}) {
					if o.OrderBaseInfo.Status != status {
						t.Fatalf("view %d returned status %d", view, o.OrderBaseInfo.Status)
					}
					got++
				}
			}
			if got != n {
				t.Errorf("view %d: %d orders, want %d", view, got, n)
			}
		}
	})

	t.Run("invalid_params", func(t *testing.T) {
		c2 := c.For(t)
		b, e := now.Add(-8*24*time.Hour).UnixMilli(), now.UnixMilli()
		for _, tc := range []struct {
			p    map[string]any
			want string
		}{
			{map[string]any{"beginTime": b, "endTime": e}, "7 days"},
			{map[string]any{"endTime": e}, "beginTime is required"},
			{map[string]any{"beginTime": e, "endTime": e}, "greater"},
			{map[string]any{"beginTime": e - 1000, "endTime": e, "pageSize": 51}, "pageSize"},
			{map[string]any{"beginTime": e - 1000, "endTime": e, "orderViewStatus": 8}, "orderViewStatus"},
			{map[string]any{"beginTime": e - 1000, "endTime": e, "cursor": "%%%"}, "cursor"},
			{map[string]any{"beginTime": e - 1000, "endTime": e, "pageSize": "x"}, "integer"},
			{map[string]any{"beginTime": now.Add(-91 * 24 * time.Hour).UnixMilli(), "endTime": now.Add(-90 * 24 * time.Hour).UnixMilli()}, "90 days"},
		} {
			r := c2.Call(tok, "open.order.cursor.list", tc.p)
			if r.Result != platform.ResultParamInvalid || !strings.Contains(r.ErrorMsg, tc.want) {
				t.Errorf("%v: got %d %q, want 804001 with %q", tc.p, r.Result, r.ErrorMsg, tc.want)
			}
		}
		// String-encoded numbers are accepted, as several SDKs send them.
		c2.MustCall(tok, "open.order.cursor.list", map[string]any{"beginTime": strconv.FormatInt(e-1000, 10), "endTime": strconv.FormatInt(e, 10), "pageSize": "5"}, nil)
	})
}

func TestOrders_DetailAndShip(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 5, TestUsers: 2})
	tok := c.Authorize(1, "merchant_order").AccessToken
	other := c.Authorize(2, "merchant_order").AccessToken
	var paid int64
	for _, o := range c.SeededShop(1).Orders {
		if o.BaseInfo.Status == rules.OrderPaid {
			paid = o.BaseInfo.Oid
			break
		}
	}
	var before wireOrder
	c.MustCall(tok, "open.order.detail", map[string]any{"oid": paid}, &before)
	if before.OrderBaseInfo.Status != 30 || before.OrderBaseInfo.SendTime != 0 || len(before.OrderLogisticsInfo) != 0 || before.OrderAddress.Province == "" {
		t.Fatalf("before: %+v", before)
	}
	// Another shop cannot see or ship it.
	if r := c.Call(other, "open.order.detail", map[string]any{"oid": paid}); r.Result != platform.ResultOperationReject || r.ErrorMsg != "order operation reject" {
		t.Fatalf("other shop detail: %+v", r)
	}
	ship := map[string]any{"orderId": paid, "expressCode": 4, "expressNo": "SF1234567890"}
	if r := c.Call(other, "open.seller.order.goods.deliver", ship); r.Result != platform.ResultOperationReject {
		t.Fatalf("other shop ship: %+v", r)
	}
	c.Post = true
	s.Advance(time.Hour)
	r := c.MustCall(tok, "open.seller.order.goods.deliver", ship, nil)
	if _, ok := r.Raw["data"]; ok {
		t.Error("deliver answered data")
	}
	var after wireOrder
	c.MustCall(tok, "open.order.detail", map[string]any{"oid": paid}, &after)
	if after.OrderBaseInfo.Status != 40 || after.OrderBaseInfo.SendTime != s.Now().UnixMilli() || after.OrderBaseInfo.UpdateTime != s.Now().UnixMilli() ||
		len(after.OrderLogisticsInfo) != 1 || after.OrderLogisticsInfo[0].ExpressNo != "SF1234567890" || after.OrderLogisticsInfo[0].ExpressCode != 4 {
		t.Fatalf("after: %+v", after)
	}
	again := c.Call(tok, "open.seller.order.goods.deliver", ship)
	if again.Result != platform.ResultBusinessRule || !strings.Contains(again.ErrorMsg, "only paid orders") {
		t.Fatalf("second ship: %+v", again)
	}
	for _, p := range []map[string]any{
		{"orderId": paid, "expressNo": "x"},
		{"orderId": paid, "expressCode": 4},
		{"expressCode": 4, "expressNo": "x"},
	} {
		if r := c.Call(tok, "open.seller.order.goods.deliver", p); r.Result != platform.ResultParamInvalid {
			t.Errorf("%v: %+v", p, r)
		}
	}
	// Shipping shows up in an update-time query at the sandbox's now.
	got := pageAll(t, c, tok, map[string]any{"beginTime": s.Now().Add(-time.Minute).UnixMilli(), "endTime": s.Now().Add(time.Minute).UnixMilli(), "queryType": 2, "pageSize": 10})
	if len(got) != 1 || got[0].OrderBaseInfo.Oid != paid {
		t.Fatalf("update-time query: %+v", got)
	}

	// Close: only unpaid orders.
	var unpaid int64
	for _, o := range c.SeededShop(1).Orders {
		if o.BaseInfo.Status == rules.OrderUnpaid {
			unpaid = o.BaseInfo.Oid
		}
	}
	c.MustCall(tok, "open.seller.order.close", map[string]any{"orderId": unpaid}, nil)
	if r := c.Call(tok, "open.seller.order.close", map[string]any{"orderId": unpaid}); r.Result != platform.ResultBusinessRule {
		t.Fatalf("second close: %+v", r)
	}
	c.MustCall(tok, "open.seller.order.note.add", map[string]any{"orderId": paid, "note": "加急", "flag": 1}, nil)
	if r := c.Call(tok, "open.seller.order.note.add", map[string]any{"orderId": paid, "note": strings.Repeat("长", 201)}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("long note: %+v", r)
	}
}

func TestItemsRefundsShop(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 11})
	tok := c.Authorize(1).AccessToken
	sh := c.SeededShop(1)

	var list struct {
		TotalItemCount       int `json:"totalItemCount"`
		CurrentPageItemCount int `json:"currentPageItemCount"`
		CurrentPageNumber    int `json:"currentPageNumber"`
		TotalPage            int `json:"totalPage"`
		Items                []struct {
			KwaiItemID int64      `json:"kwaiItemId"`
			SkuList    []shop.SKU `json:"skuList"`
		} `json:"items"`
	}
	var ids []int64
	for page := 1; ; page++ {
		c.MustCall(tok, "open.item.list.get", map[string]any{"pageNumber": page, "pageSize": 3}, &list)
		for _, it := range list.Items {
			ids = append(ids, it.KwaiItemID)
			if len(it.SkuList) == 0 || it.SkuList[0].SkuID == 0 {
				t.Fatalf("item without skus: %+v", it)
			}
		}
		if page >= list.TotalPage {
			break
		}
	}
	if list.TotalItemCount != len(sh.Items) || len(ids) != len(sh.Items) {
		t.Fatalf("listed %d of %d items", len(ids), len(sh.Items))
	}
	var detail struct {
		KwaiItemID int64 `json:"kwaiItemId"`
		Title      string
		SkuInfos   []shop.SKU `json:"skuInfos"`
	}
	c.MustCall(tok, "open.item.get", map[string]any{"kwaiItemId": ids[0]}, &detail)
	if detail.KwaiItemID != ids[0] || len(detail.SkuInfos) == 0 || detail.Title == "" {
		t.Fatalf("item.get: %+v", detail)
	}
	if r := c.Call(tok, "open.item.get", map[string]any{"kwaiItemId": 1}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("unknown item: %+v", r)
	}

	// Refunds: 30 one-day windows with pcursor paging return every record once.
	seen := map[int64]int{}
	now := s.Now()
	for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(24 * time.Hour) {
		p := map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(24 * time.Hour).UnixMilli(), "type": 9, "pageSize": 1, "pcursor": ""}
		for {
			var page struct {
				Pcursor             string        `json:"pcursor"`
				TotalSize           int           `json:"totalSize"`
				RefundOrderInfoList []shop.Refund `json:"refundOrderInfoList"`
			}
			c.MustCall(tok, "open.seller.order.refund.pcursor.list", p, &page)
			for _, r := range page.RefundOrderInfoList {
				seen[r.RefundID]++
			}
			if page.Pcursor == "nomore" {
				break
			}
			p["pcursor"] = page.Pcursor
		}
	}
	if len(seen) != len(sh.Refunds) {
		t.Fatalf("paged %d refunds, seeded %d", len(seen), len(sh.Refunds))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("refund %d seen %d times", id, n)
		}
	}
	if len(sh.Refunds) > 0 {
		rf := sh.Refunds[0]
		var d shop.Refund
		c.MustCall(tok, "open.seller.order.refund.detail", map[string]any{"refundId": rf.RefundID}, &d)
		if d.RefundID != rf.RefundID || d.Oid != rf.Oid || d.Status != rf.Status {
			t.Fatalf("refund detail: %+v", d)
		}
		var o wireOrder
		c.MustCall(tok, "open.order.detail", map[string]any{"oid": rf.Oid}, &o)
	}
	if r := c.Call(tok, "open.seller.order.refund.detail", map[string]any{"refundId": 1}); r.Result != platform.ResultRefundNotFound {
		t.Fatalf("unknown refund: %+v", r)
	}
	if r := c.Call(tok, "open.seller.order.refund.pcursor.list", map[string]any{"beginTime": now.Add(-25 * time.Hour).UnixMilli(), "endTime": now.UnixMilli()}); r.Result != platform.ResultParamInvalid || !strings.Contains(r.ErrorMsg, "1 day") {
		t.Fatalf("2-day refund window: %+v", r)
	}

	var seller shop.SellerInfo
	c.MustCall(tok, "open.user.seller.get", nil, &seller)
	if seller.OpenID != sh.User.OpenID || seller.SellerID != sh.User.SellerID || seller.Name == "" {
		t.Fatalf("seller: %+v", seller)
	}
	var info shop.ShopInfo
	c.MustCall(tok, "open.shop.info.get", nil, &info)
	if info.ShopName != sh.User.ShopName || info.ShopScoreInfo.Score == 0 {
		t.Fatalf("shop: %+v", info)
	}
}

func TestData_Deterministic(t *testing.T) {
	t.Parallel()
	dump := func(seed int64) string {
		_, c := sandboxtest.Setup(t, sandbox.Config{Seed: seed, AppKey: "ks123456789012345678", TestUsers: 3})
		var b strings.Builder
		for u := 1; u <= 3; u++ {
			tok := c.Authorize(u).AccessToken
			for _, m := range []string{"open.shop.info.get", "open.user.seller.get", "open.item.list.get"} {
				b.Write(c.MustCall(tok, m, map[string]any{"pageSize": 100}, nil).Data)
			}
			now := c.Now()
			for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(7 * 24 * time.Hour) {
				b.Write(c.MustCall(tok, "open.order.cursor.list", map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(7 * 24 * time.Hour).UnixMilli()}, nil).Data)
			}
		}
		return b.String()
	}
	a, b, other := dump(99), dump(99), dump(100)
	if a != b {
		t.Fatal("same seed gave different data")
	}
	if a == other {
		t.Fatal("different seeds gave the same data")
	}
}
