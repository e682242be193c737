package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
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
	OrderLogisticsInfo []orderLogistics `json:"orderLogisticsInfo"`
	OrderAddress       orderAddress     `json:"orderAddress"`
}

type wireOrderList struct {
	Cursor    string      `json:"cursor"`
	OrderList []wireOrder `json:"orderList"`
	PageSize  int         `json:"pageSize"`
	BeginTime int64       `json:"beginTime"`
	EndTime   int64       `json:"endTime"`
}

// pageAll pages one window with the given param template to the end.
func pageAll(t *testing.T, c *sdk, tok string, p map[string]any) []wireOrder {
	t.Helper()
	var all []wireOrder
	p["cursor"] = ""
	for range 1000 {
		var page wireOrderList
		c.mustCall(tok, "open.order.cursor.list", p, &page)
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
	s, c := setup(t, Config{Seed: 42, TestUsers: 2})
	tok := c.authorize(2, "merchant_order").AccessToken
	want := s.shops[2].orders // the generator's list
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
			c2 := *c
			c2.t = t
			seen := map[int64]int{}
			begin := now.Add(-30 * 24 * time.Hour)
			for w := begin; w.Before(now.Add(time.Millisecond)); w = w.Add(7 * 24 * time.Hour) {
				end := w.Add(7 * 24 * time.Hour)
				p := map[string]any{"beginTime": w.UnixMilli(), "endTime": end.UnixMilli(), "pageSize": 7, "orderViewStatus": 1, "queryType": tc.queryType, "sort": tc.sort}
				got := pageAll(t, &c2, tok, p)
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
		c2 := *c
		c2.t = t
		for view, status := range orderViewStatus {
			n := 0
			for _, o := range want {
				if o.BaseInfo.Status == status {
					n++
				}
			}
			got := 0
			for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(7 * 24 * time.Hour) {
				for _, o := range pageAll(t, &c2, tok, map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(7 * 24 * time.Hour).UnixMilli(), "pageSize": 50, "orderViewStatus": view}) {
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
		c2 := *c
		c2.t = t
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
			r := c2.call(tok, "open.order.cursor.list", tc.p)
			if r.Result != platform.ResultParamInvalid || !strings.Contains(r.ErrorMsg, tc.want) {
				t.Errorf("%v: got %d %q, want 804001 with %q", tc.p, r.Result, r.ErrorMsg, tc.want)
			}
		}
		// String-encoded numbers are accepted, as several SDKs send them.
		c2.mustCall(tok, "open.order.cursor.list", map[string]any{"beginTime": strconv.FormatInt(e-1000, 10), "endTime": strconv.FormatInt(e, 10), "pageSize": "5"}, nil)
	})
}

func TestOrders_DetailAndShip(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Seed: 5, TestUsers: 2})
	tok := c.authorize(1, "merchant_order").AccessToken
	other := c.authorize(2, "merchant_order").AccessToken
	var paid int64
	for _, o := range s.shops[1].orders {
		if o.BaseInfo.Status == orderPaid {
			paid = o.BaseInfo.Oid
			break
		}
	}
	var before wireOrder
	c.mustCall(tok, "open.order.detail", map[string]any{"oid": paid}, &before)
	if before.OrderBaseInfo.Status != 30 || before.OrderBaseInfo.SendTime != 0 || len(before.OrderLogisticsInfo) != 0 || before.OrderAddress.Province == "" {
		t.Fatalf("before: %+v", before)
	}
	// Another shop cannot see or ship it.
	if r := c.call(other, "open.order.detail", map[string]any{"oid": paid}); r.Result != platform.ResultOperationReject || r.ErrorMsg != "order operation reject" {
		t.Fatalf("other shop detail: %+v", r)
	}
	ship := map[string]any{"orderId": paid, "expressCode": 4, "expressNo": "SF1234567890"}
	if r := c.call(other, "open.seller.order.goods.deliver", ship); r.Result != platform.ResultOperationReject {
		t.Fatalf("other shop ship: %+v", r)
	}
	c.post = true
	s.Advance(time.Hour)
	r := c.mustCall(tok, "open.seller.order.goods.deliver", ship, nil)
	if _, ok := r.Raw["data"]; ok {
		t.Error("deliver answered data")
	}
	var after wireOrder
	c.mustCall(tok, "open.order.detail", map[string]any{"oid": paid}, &after)
	if after.OrderBaseInfo.Status != 40 || after.OrderBaseInfo.SendTime != s.Now().UnixMilli() || after.OrderBaseInfo.UpdateTime != s.Now().UnixMilli() ||
		len(after.OrderLogisticsInfo) != 1 || after.OrderLogisticsInfo[0].ExpressNo != "SF1234567890" || after.OrderLogisticsInfo[0].ExpressCode != 4 {
		t.Fatalf("after: %+v", after)
	}
	again := c.call(tok, "open.seller.order.goods.deliver", ship)
	if again.Result != platform.ResultBusinessRule || !strings.Contains(again.ErrorMsg, "only paid orders") {
		t.Fatalf("second ship: %+v", again)
	}
	for _, p := range []map[string]any{
		{"orderId": paid, "expressNo": "x"},
		{"orderId": paid, "expressCode": 4},
		{"expressCode": 4, "expressNo": "x"},
	} {
		if r := c.call(tok, "open.seller.order.goods.deliver", p); r.Result != platform.ResultParamInvalid {
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
	for _, o := range s.shops[1].orders {
		if o.BaseInfo.Status == orderUnpaid {
			unpaid = o.BaseInfo.Oid
		}
	}
	c.mustCall(tok, "open.seller.order.close", map[string]any{"orderId": unpaid}, nil)
	if r := c.call(tok, "open.seller.order.close", map[string]any{"orderId": unpaid}); r.Result != platform.ResultBusinessRule {
		t.Fatalf("second close: %+v", r)
	}
	c.mustCall(tok, "open.seller.order.note.add", map[string]any{"orderId": paid, "note": "加急", "flag": 1}, nil)
	if r := c.call(tok, "open.seller.order.note.add", map[string]any{"orderId": paid, "note": strings.Repeat("长", 201)}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("long note: %+v", r)
	}
}

func TestItemsRefundsShop(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Seed: 11})
	tok := c.authorize(1).AccessToken
	sh := s.shops[1]

	var list struct {
		TotalItemCount       int `json:"totalItemCount"`
		CurrentPageItemCount int `json:"currentPageItemCount"`
		CurrentPageNumber    int `json:"currentPageNumber"`
		TotalPage            int `json:"totalPage"`
		Items                []struct {
			KwaiItemID int64 `json:"kwaiItemId"`
			SkuList    []sku `json:"skuList"`
		} `json:"items"`
	}
	var ids []int64
	for page := 1; ; page++ {
		c.mustCall(tok, "open.item.list.get", map[string]any{"pageNumber": page, "pageSize": 3}, &list)
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
	if list.TotalItemCount != len(sh.items) || len(ids) != len(sh.items) {
		t.Fatalf("listed %d of %d items", len(ids), len(sh.items))
	}
	var detail struct {
		KwaiItemID int64 `json:"kwaiItemId"`
		Title      string
		SkuInfos   []sku `json:"skuInfos"`
	}
	c.mustCall(tok, "open.item.get", map[string]any{"kwaiItemId": ids[0]}, &detail)
	if detail.KwaiItemID != ids[0] || len(detail.SkuInfos) == 0 || detail.Title == "" {
		t.Fatalf("item.get: %+v", detail)
	}
	if r := c.call(tok, "open.item.get", map[string]any{"kwaiItemId": 1}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("unknown item: %+v", r)
	}

	// Refunds: 30 one-day windows with pcursor paging return every record once.
	seen := map[int64]int{}
	now := s.Now()
	for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(24 * time.Hour) {
		p := map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(24 * time.Hour).UnixMilli(), "type": 9, "pageSize": 1, "pcursor": ""}
		for {
			var page struct {
				Pcursor             string   `json:"pcursor"`
				TotalSize           int      `json:"totalSize"`
				RefundOrderInfoList []refund `json:"refundOrderInfoList"`
			}
			c.mustCall(tok, "open.seller.order.refund.pcursor.list", p, &page)
			for _, r := range page.RefundOrderInfoList {
				seen[r.RefundID]++
			}
			if page.Pcursor == "nomore" {
				break
			}
			p["pcursor"] = page.Pcursor
		}
	}
	if len(seen) != len(sh.refunds) {
		t.Fatalf("paged %d refunds, seeded %d", len(seen), len(sh.refunds))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("refund %d seen %d times", id, n)
		}
	}
	if len(sh.refunds) > 0 {
		rf := sh.refunds[0]
		var d refund
		c.mustCall(tok, "open.seller.order.refund.detail", map[string]any{"refundId": rf.RefundID}, &d)
		if d.RefundID != rf.RefundID || d.Oid != rf.Oid || d.Status != rf.Status {
			t.Fatalf("refund detail: %+v", d)
		}
		var o wireOrder
		c.mustCall(tok, "open.order.detail", map[string]any{"oid": rf.Oid}, &o)
	}
	if r := c.call(tok, "open.seller.order.refund.detail", map[string]any{"refundId": 1}); r.Result != platform.ResultRefundNotFound {
		t.Fatalf("unknown refund: %+v", r)
	}
	if r := c.call(tok, "open.seller.order.refund.pcursor.list", map[string]any{"beginTime": now.Add(-25 * time.Hour).UnixMilli(), "endTime": now.UnixMilli()}); r.Result != platform.ResultParamInvalid || !strings.Contains(r.ErrorMsg, "1 day") {
		t.Fatalf("2-day refund window: %+v", r)
	}

	var seller sellerInfo
	c.mustCall(tok, "open.user.seller.get", nil, &seller)
	if seller.OpenID != sh.user.OpenID || seller.SellerID != sh.user.SellerID || seller.Name == "" {
		t.Fatalf("seller: %+v", seller)
	}
	var info shopInfo
	c.mustCall(tok, "open.shop.info.get", nil, &info)
	if info.ShopName != sh.user.ShopName || info.ShopScoreInfo.Score == 0 {
		t.Fatalf("shop: %+v", info)
	}
}

func TestData_Deterministic(t *testing.T) {
	t.Parallel()
	dump := func(seed int64) string {
		_, c := setup(t, Config{Seed: seed, AppKey: "ks123456789012345678", TestUsers: 3})
		var b strings.Builder
		for u := 1; u <= 3; u++ {
			tok := c.authorize(u).AccessToken
			for _, m := range []string{"open.shop.info.get", "open.user.seller.get", "open.item.list.get"} {
				b.Write(c.mustCall(tok, m, map[string]any{"pageSize": 100}, nil).Data)
			}
			now := c.now()
			for w := now.Add(-30 * 24 * time.Hour); w.Before(now); w = w.Add(7 * 24 * time.Hour) {
				b.Write(c.mustCall(tok, "open.order.cursor.list", map[string]any{"beginTime": w.UnixMilli(), "endTime": w.Add(7 * 24 * time.Hour).UnixMilli()}, nil).Data)
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

func TestAdmin(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 4, PushURL: "http://127.0.0.1:1/push"})
	var users struct {
		TestUsers []TestUser `json:"testUsers"`
	}
	c.admin("GET", "/sandbox/v1/test-users", nil, &users)
	if len(users.TestUsers) != 4 || users.TestUsers[0].ID != 1 || len(users.TestUsers[0].OpenID) != 32 {
		t.Fatalf("users: %+v", users)
	}
	var u TestUser
	if st := c.admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "第五个"}, &u); st != http.StatusCreated || u.ID != 5 || u.Name != "第五个" {
		t.Fatalf("5th: %d %+v", st, u)
	}
	var e struct {
		Error string `json:"error"`
	}
	if st := c.admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "第六个"}, &e); st != http.StatusConflict || e.Error == "" {
		t.Fatalf("6th: %d %+v", st, e)
	}
	// The new user authorizes and has a shop.
	c.mustCall(c.authorize(5).AccessToken, "open.shop.info.get", nil, nil)

	var app map[string]any
	c.admin("GET", "/sandbox/v1/app", nil, &app)
	if app["appKey"] != c.appKey || app["state"] != "test" {
		t.Fatalf("app: %v", app)
	}
	for k, v := range app {
		if sv, ok := v.(string); ok && (sv == c.appSecret || sv == c.signSecret) {
			t.Fatalf("app view leaks a secret in %s", k)
		}
	}
	var clk struct {
		Now int64 `json:"now"`
	}
	before := s.Now()
	if st := c.admin("POST", "/sandbox/v1/clock:advance", map[string]any{"seconds": 3600}, &clk); st != 200 || clk.Now != before.Add(time.Hour).UnixMilli() {
		t.Fatalf("advance: %d %+v", st, clk)
	}
	if st := c.admin("POST", "/sandbox/v1/clock:advance", map[string]any{"minutes": 1}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad advance body: %d", st)
	}
	if st := c.admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1, "scopes": []string{"merchant_funds"}}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad scope code: %d", st)
	}
	if st := c.admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 6}, nil); st != http.StatusNotFound {
		t.Fatalf("unknown user code: %d", st)
	}
	c.call("x", "open.shop.info.get", nil)
	var cnt Counters
	c.admin("GET", "/sandbox/v1/counters", nil, &cnt)
	if cnt.Calls["open.shop.info.get"] != 2 || cnt.CodeExchanges != 1 {
		t.Fatalf("counters: %+v", cnt)
	}
	if st := c.admin("GET", "/sandbox/v1/nope", nil, nil); st != http.StatusNotFound {
		t.Fatalf("unknown admin path: %d", st)
	}
	if !slices.Contains(s.Config().Scopes, "merchant_order") {
		t.Fatal("default scopes")
	}
}
