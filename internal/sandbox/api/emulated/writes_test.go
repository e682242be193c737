package emulated_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// The write APIs and the buyer-side admin actions, over HTTP.

// Answers of the item, decrypt and logistics APIs, decoded as an outside SDK
// would.
type (
	itemDetail struct {
		shop.ItemBase
		SkuInfos []*shop.SKU `json:"skuInfos"`
	}
	itemNewData struct {
		KwaiItemID   int64 `json:"kwaiItemId"`
		RelItemID    int64 `json:"relItemId"`
		SkuIDMapping []struct {
			KwaiSkuID int64  `json:"kwaiSkuId"`
			RelSkuID  int64  `json:"relSkuId"`
			SkuNick   string `json:"skuNick"`
		} `json:"skuIdMapping"`
	}
	itemListData struct {
		TotalItemCount int `json:"totalItemCount"`
		Items          []struct {
			shop.ItemBase
			SkuList []shop.SKU `json:"skuList"`
		} `json:"items"`
	}
	templateListData struct {
		Total     int                    `json:"total"`
		Templates []shop.ExpressTemplate `json:"templates"`
	}
	ebillResult struct {
		RequestID    string `json:"requestId"`
		BaseResponse struct {
			Result  int    `json:"result"`
			Message string `json:"message"`
			Success bool   `json:"success"`
		} `json:"baseResponse"`
		Data []struct {
			Key         string `json:"key"`
			WaybillCode string `json:"waybillCode"`
			PrintData   string `json:"printData"`
			Signature   string `json:"signature"`
			Version     string `json:"version"`
		} `json:"data"`
	}
	rejectReason struct {
		Code                int    `json:"code"`
		Desc                string `json:"desc"`
		RequiredRejectDesc  *bool  `json:"requiredRejectDesc"`
		RequiredRejectImage *bool  `json:"requiredRejectImage"`
		Tip                 string `json:"tip"`
	}
	decryptResult struct {
		BizID         string `json:"bizId"`
		EncryptedData string `json:"encryptedData"`
		DecryptedData string `json:"decryptedData"`
		ErrorCode     int    `json:"errorCode"`
		ErrorMsg      string `json:"errorMsg"`
	}
)

func TestWrites_OrderLifecycle(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 21, TestUsers: 2})
	c.Post = true
	tok := c.Authorize(1).AccessToken
	other := c.Authorize(2).AccessToken

	var o wireOrder
	if st := c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 1, "status": 30, "num": 2}, &o); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	oid := o.OrderBaseInfo.Oid
	it := c.SeededShop(1).Items[0]
	if o.OrderBaseInfo.Status != 30 || o.OrderBaseInfo.CreateTime != s.Now().UnixMilli() || o.OrderItemInfo.ItemID != it.KwaiItemID ||
		o.OrderItemInfo.Num != 2 || o.OrderBaseInfo.PayTime == 0 || o.OrderBaseInfo.SellerOpenID != s.TestUsers()[0].OpenID {
		t.Fatalf("created: %+v", o)
	}
	var listed wireOrderList
	c.MustCall(tok, "open.order.cursor.list", map[string]any{"beginTime": s.Now().Add(-time.Minute).UnixMilli(), "endTime": s.Now().Add(time.Minute).UnixMilli(), "orderViewStatus": 3}, &listed)
	if len(listed.OrderList) != 1 || listed.OrderList[0].OrderBaseInfo.Oid != oid {
		t.Fatalf("new paid order not listed: %+v", listed)
	}

	// Decrypt the buyer's address.
	var detail struct {
		OrderAddress shop.OrderAddress `json:"orderAddress"`
	}
	c.MustCall(tok, "open.order.detail", map[string]any{"oid": oid}, &detail)
	a := detail.OrderAddress
	r := c.MustCall(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []map[string]any{
		{"bizId": strconv.FormatInt(oid, 10), "encryptedData": a.EncryptedMobile},
		{"bizId": strconv.FormatInt(oid, 10), "encryptedData": a.EncryptedConsignee},
		{"bizId": strconv.FormatInt(oid, 10), "encryptedData": "#bogus#"},
	}}, nil)
	if _, ok := r.Raw["data"]; ok {
		t.Error("decrypt.batch answered under data")
	}
	var dec []decryptResult
	if err := json.Unmarshal(r.Raw["batchDecryptResultList"], &dec); err != nil || len(dec) != 3 {
		t.Fatalf("batchDecryptResultList: %v %s", err, r.Raw["batchDecryptResultList"])
	}
	prefix, tail, _ := strings.Cut(a.DesensitiseMobile, "****")
	if dec[0].ErrorCode != rules.SecurityItemOK || len(dec[0].DecryptedData) != 11 || !strings.HasPrefix(dec[0].DecryptedData, prefix) || !strings.HasSuffix(dec[0].DecryptedData, tail) {
		t.Errorf("mobile: %+v (desensitised %s)", dec[0], a.DesensitiseMobile)
	}
	if dec[1].ErrorCode != rules.SecurityItemOK || !strings.HasPrefix(a.DesensitiseConsignee, string([]rune(dec[1].DecryptedData)[0])) {
		t.Errorf("consignee: %+v", dec[1])
	}
	if dec[2].ErrorCode != rules.DecryptItemFailed || dec[2].DecryptedData != "" {
		t.Errorf("bogus ciphertext decrypted: %+v", dec[2])
	}
	if r := c.Call(other, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []map[string]any{{"bizId": strconv.FormatInt(oid, 10), "encryptedData": a.EncryptedMobile}}}); r.Result != 1 || !strings.Contains(string(r.Raw["batchDecryptResultList"]), `"errorCode":2`) {
		t.Errorf("another shop decrypted: %+v", r.Raw)
	}
	if r := c.Call(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{}}); r.Result != platform.ResultParamInvalid {
		t.Errorf("empty batch: %+v", r)
	}

	// Ship, then fix the tracking number.
	if r := c.Call(tok, "open.seller.order.logistics.update", map[string]any{"orderId": oid, "expressCode": 9, "expressNo": "ZTO1"}); r.Result != platform.ResultBusinessRule {
		t.Fatalf("logistics update before shipping: %+v", r)
	}
	c.MustCall(tok, "open.seller.order.goods.deliver", map[string]any{"orderId": oid, "expressCode": 4, "expressNo": "SF1"}, nil)
	s.Advance(time.Minute)
	c.MustCall(tok, "open.seller.order.logistics.update", map[string]any{"orderId": oid, "expressCode": 9, "expressNo": "ZTO123"}, nil)
	c.MustCall(tok, "open.order.detail", map[string]any{"oid": oid}, &o)
	if len(o.OrderLogisticsInfo) != 1 || o.OrderLogisticsInfo[0].ExpressCode != 9 || o.OrderLogisticsInfo[0].ExpressNo != "ZTO123" || o.OrderBaseInfo.UpdateTime != s.Now().UnixMilli() {
		t.Fatalf("after logistics update: %+v", o)
	}
	if r := c.Call(tok, "open.seller.order.logistics.update", map[string]any{"orderId": oid, "expressCode": 9, "expressNo": "x", "logisticsId": 1}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("unknown logisticsId: %+v", r)
	}

	// The buyer receives, the order succeeds.
	for _, st := range []int{50, 70} {
		if code := c.Admin("POST", "/sandbox/v1/orders:advance", map[string]any{"orderId": oid, "status": st}, &o); code != 200 || o.OrderBaseInfo.Status != st {
			t.Fatalf("advance to %d: %d %+v", st, code, o)
		}
	}
	for _, tc := range []struct {
		body map[string]any
		code int
	}{
		{map[string]any{"orderId": oid, "status": 30}, http.StatusConflict},
		{map[string]any{"orderId": oid, "status": 40}, http.StatusBadRequest},
		{map[string]any{"orderId": 1, "status": 30}, http.StatusNotFound},
		{map[string]any{"orderId": oid}, http.StatusBadRequest},
	} {
		if code := c.Admin("POST", "/sandbox/v1/orders:advance", tc.body, nil); code != tc.code {
			t.Errorf("advance %v: %d, want %d", tc.body, code, tc.code)
		}
	}

	// Unpaid order: address change, then the buyer cancels.
	var u wireOrder
	c.Admin("POST", "/sandbox/v1/orders", map[string]any{"openId": s.TestUsers()[1].OpenID}, &u)
	if u.OrderBaseInfo.Status != 10 || u.OrderBaseInfo.SellerOpenID != s.TestUsers()[1].OpenID {
		t.Fatalf("unpaid order of user 2: %+v", u)
	}
	before := u.OrderAddress
	if code := c.Admin("POST", "/sandbox/v1/orders:changeAddress", map[string]any{"orderId": u.OrderBaseInfo.Oid}, &u); code != 200 || u.OrderAddress.EncryptedAddress == before.EncryptedAddress {
		t.Fatalf("address change: %d %+v", code, u.OrderAddress)
	}
	if code := c.Admin("POST", "/sandbox/v1/orders:changeAddress", map[string]any{"orderId": oid}, nil); code != http.StatusConflict {
		t.Fatalf("address change after delivery: %d", code)
	}
	if code := c.Admin("POST", "/sandbox/v1/orders:advance", map[string]any{"orderId": u.OrderBaseInfo.Oid, "status": 80}, &u); code != 200 || u.OrderBaseInfo.Status != 80 {
		t.Fatalf("cancel: %d %+v", code, u)
	}
	for _, body := range []map[string]any{{"testUser": 9}, {"testUser": 1, "status": 40}, {"testUser": 1, "kwaiItemId": 1}, {"testUser": 1, "num": 100}, {"testUser": 1, "bogus": 1}} {
		if code := c.Admin("POST", "/sandbox/v1/orders", body, nil); code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("create %v: %d", body, code)
		}
	}
}

func TestWrites_Items(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 8})
	c.Post = true
	tok := c.Authorize(1, "merchant_item").AccessToken
	it := c.SeededShop(1).Items[0]
	sk := it.SKUs[0]
	get := func() itemDetail {
		t.Helper()
		var d struct {
			shop.ItemBase
			SkuInfos []shop.SKU `json:"skuInfos"`
		}
		c.MustCall(tok, "open.item.get", map[string]any{"kwaiItemId": it.KwaiItemID}, &d)
		out := itemDetail{ItemBase: d.ItemBase}
		for i := range d.SkuInfos {
			out.SkuInfos = append(out.SkuInfos, &d.SkuInfos[i])
		}
		return out
	}
	stock := sk.SkuStock
	c.MustCall(tok, "open.item.sku.stock.update", map[string]any{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": 7, "changeType": 1}, nil)
	c.MustCall(tok, "open.item.sku.stock.update", map[string]any{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": 2, "changeType": 2}, nil)
	if got := get().SkuInfos[0].SkuStock; got != stock+5 {
		t.Fatalf("stock %d, want %d", got, stock+5)
	}
	for _, p := range []map[string]any{
		{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": stock + 6, "changeType": 2},
		{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": 1, "changeType": 3},
		{"kwaiItemId": it.KwaiItemID, "skuId": sk.SkuID, "skuChangeStock": 0, "changeType": 1},
		{"kwaiItemId": it.KwaiItemID, "skuId": 1, "skuChangeStock": 1, "changeType": 1},
		{"kwaiItemId": 1, "skuId": sk.SkuID, "skuChangeStock": 1, "changeType": 1},
	} {
		if r := c.Call(tok, "open.item.sku.stock.update", p); r.Result != platform.ResultParamInvalid {
			t.Errorf("stock %v: %+v", p, r)
		}
	}

	c.MustCall(tok, "open.item.sku.price.update", map[string]any{"itemId": it.KwaiItemID, "skuId": sk.SkuID, "price": 1}, nil)
	if d := get(); d.SkuInfos[0].SkuSalePrice != 1 || d.Price != 1 {
		t.Fatalf("price: sku %d item %d", d.SkuInfos[0].SkuSalePrice, d.Price)
	}
	if r := c.Call(tok, "open.item.sku.price.update", map[string]any{"itemId": it.KwaiItemID, "skuId": sk.SkuID, "price": -5}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("negative price: %+v", r)
	}

	for _, st := range []int{0, 1, 0} {
		c.MustCall(tok, "open.item.shelf.status.update", map[string]any{"kwaiItemId": it.KwaiItemID, "shelfStatus": st}, nil)
		if got := get().ShelfStatus; got != st {
			t.Fatalf("shelf %d, want %d", got, st)
		}
	}
	if r := c.Call(tok, "open.item.shelf.status.update", map[string]any{"kwaiItemId": it.KwaiItemID, "shelfStatus": 2}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("shelf 2: %+v", r)
	}

	var created itemNewData
	c.MustCall(tok, "open.item.new", map[string]any{"title": "沙盒新品 短袖", "relItemId": 777, "skuList": []map[string]any{
		{"relSkuId": 7771, "skuSalePrice": 1990, "skuStock": 10, "skuNick": "N-1", "specification": "颜色:红"},
		{"relSkuId": 7772, "skuSalePrice": 2990, "skuStock": 0},
	}}, &created)
	if created.KwaiItemID == 0 || created.RelItemID != 777 || len(created.SkuIDMapping) != 2 || created.SkuIDMapping[0].RelSkuID != 7771 || created.SkuIDMapping[0].KwaiSkuID == 0 {
		t.Fatalf("item.new: %+v", created)
	}
	var list itemListData
	c.MustCall(tok, "open.item.list.get", map[string]any{"kwaiItemId": created.KwaiItemID}, &list)
	if list.TotalItemCount != 1 || list.Items[0].Title != "沙盒新品 短袖" || list.Items[0].Price != 1990 || list.Items[0].ShelfStatus != 0 {
		t.Fatalf("new item listed: %+v", list)
	}
	for _, p := range []map[string]any{
		{"skuList": []map[string]any{{"skuSalePrice": 1}}},
		{"title": "x", "skuList": []map[string]any{}},
		{"title": "x", "skuList": []map[string]any{{"skuSalePrice": 0}}},
		{"title": strings.Repeat("长", 61), "skuList": []map[string]any{{"skuSalePrice": 1}}},
	} {
		if r := c.Call(tok, "open.item.new", p); r.Result != platform.ResultParamInvalid {
			t.Errorf("item.new %v: %+v", p, r)
		}
	}
	c.MustCall(tok, "open.item.edit", map[string]any{"kwaiItemId": created.KwaiItemID, "title": "改名", "skuList": []map[string]any{{"skuId": created.SkuIDMapping[1].KwaiSkuID, "skuStock": 5}}}, nil)
	c.MustCall(tok, "open.item.list.get", map[string]any{"kwaiItemId": created.KwaiItemID}, &list)
	if list.Items[0].Title != "改名" || list.Items[0].SkuList[1].SkuStock != 5 {
		t.Fatalf("edited: %+v", list.Items[0])
	}
	if r := c.Call(tok, "open.item.edit", map[string]any{"kwaiItemId": created.KwaiItemID, "title": "不该生效", "skuList": []map[string]any{{"skuId": 1}}}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("edit unknown sku: %+v", r)
	}
	c.MustCall(tok, "open.item.list.get", map[string]any{"kwaiItemId": created.KwaiItemID}, &list)
	if list.Items[0].Title != "改名" {
		t.Fatal("a refused edit changed the item")
	}
}

type wireRefund struct {
	RefundID      int64                `json:"refundId"`
	Oid           int64                `json:"oid"`
	Status        int                  `json:"status"`
	HandlingWay   int                  `json:"handlingWay"`
	RefundFee     int64                `json:"refundFee"`
	UpdateTime    int64                `json:"updateTime"`
	EndTime       int64                `json:"endTime"`
	LogisticsInfo shop.RefundLogistics `json:"logisticsInfo"`
}

func TestWrites_Refunds(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 4, TestUsers: 2})
	c.Post = true
	tok := c.Authorize(1).AccessToken
	other := c.Authorize(2).AccessToken

	newOrder := func(status int) int64 {
		t.Helper()
		var o wireOrder
		if st := c.Admin("POST", "/sandbox/v1/orders", map[string]any{"testUser": 1, "status": 30}, &o); st != http.StatusCreated {
			t.Fatalf("order: %d", st)
		}
		if status == 40 {
			c.MustCall(tok, "open.seller.order.goods.deliver", map[string]any{"orderId": o.OrderBaseInfo.Oid, "expressCode": 4, "expressNo": "SF9"}, nil)
		}
		return o.OrderBaseInfo.Oid
	}
	newRefund := func(oid int64, way int) wireRefund {
		t.Helper()
		var r wireRefund
		if st := c.Admin("POST", "/sandbox/v1/refunds", map[string]any{"orderId": oid, "handlingWay": way}, &r); st != http.StatusCreated || r.Status != 10 || r.HandlingWay != way {
			t.Fatalf("refund: %d %+v", st, r)
		}
		return r
	}
	detail := func(id int64) wireRefund {
		t.Helper()
		var r wireRefund
		c.MustCall(tok, "open.seller.order.refund.detail", map[string]any{"refundId": id}, &r)
		return r
	}

	t.Run("refund_only_approve", func(t *testing.T) {
		c := c.For(t)
		oid := newOrder(30)
		rf := newRefund(oid, 10)
		if st := c.Admin("POST", "/sandbox/v1/refunds", map[string]any{"orderId": oid}, nil); st != http.StatusConflict {
			t.Fatalf("second open refund: %d", st)
		}
		if r := c.Call(other, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 1}); r.Result != platform.ResultRefundNotFound {
			t.Fatalf("another shop's refund: %+v", r)
		}
		if r := c.Call(tok, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": rf.RefundFee + 1}); r.Result != platform.ResultParamInvalid {
			t.Fatalf("amount over refundFee: %+v", r)
		}
		c.MustCall(tok, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": rf.RefundFee}, nil)
		if d := detail(rf.RefundID); d.Status != 60 || d.EndTime == 0 {
			t.Fatalf("after approve: %+v", d)
		}
		if r := c.Call(tok, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 1}); r.Result != platform.ResultRefundState || !strings.Contains(r.ErrorMsg, "60") {
			t.Fatalf("approve twice: %+v", r)
		}
		var o wireOrder
		c.MustCall(tok, "open.order.detail", map[string]any{"oid": oid}, &o)
		var full struct {
			OrderRefundList []shop.OrderRefund `json:"orderRefundList"`
		}
		c.MustCall(tok, "open.order.detail", map[string]any{"oid": oid}, &full)
		if len(full.OrderRefundList) != 1 || full.OrderRefundList[0].RefundStatus != 60 {
			t.Fatalf("order's refund list: %+v", full.OrderRefundList)
		}
	})

	t.Run("return_goods", func(t *testing.T) {
		c := c.For(t)
		rf := newRefund(newOrder(40), 1)
		if r := c.Call(tok, "open.seller.order.refund.confirm.receipt", map[string]any{"refundId": rf.RefundID}); r.Result != platform.ResultRefundState {
			t.Fatalf("confirm before return: %+v", r)
		}
		var ret []shop.SellerAddress
		c.MustCall(tok, "open.address.seller.list", map[string]any{"addressType": 2}, &ret)
		if r := c.Call(tok, "open.seller.order.refund.returngoods.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 100, "addressId": 1}); r.Result != platform.ResultParamInvalid {
			t.Fatalf("unknown return address: %+v", r)
		}
		c.MustCall(tok, "open.seller.order.refund.returngoods.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 100, "addressId": ret[0].AddressID}, nil)
		if d := detail(rf.RefundID); d.Status != 30 {
			t.Fatalf("after returngoods.approve: %+v", d)
		}
		var got wireRefund
		if st := c.Admin("POST", "/sandbox/v1/refunds:return", map[string]any{"refundId": rf.RefundID, "expressCode": 9, "expressNo": "ZTO7"}, &got); st != 200 || got.Status != 40 || got.LogisticsInfo.ExpressNo != "ZTO7" {
			t.Fatalf("buyer return: %d %+v", st, got)
		}
		if st := c.Admin("POST", "/sandbox/v1/refunds:return", map[string]any{"refundId": rf.RefundID}, nil); st != http.StatusConflict {
			t.Fatalf("return twice: %d", st)
		}
		c.MustCall(tok, "open.seller.order.refund.confirm.receipt", map[string]any{"refundId": rf.RefundID}, nil)
		if d := detail(rf.RefundID); d.Status != 60 {
			t.Fatalf("after confirm.receipt: %+v", d)
		}
	})

	t.Run("reject_with_version", func(t *testing.T) {
		c := c.For(t)
		rf := newRefund(newOrder(40), 10)
		var reasons []rejectReason // data is the list itself
		c.MustCall(tok, "open.refund.reject.reason", map[string]any{"refundId": rf.RefundID}, &reasons)
		if len(reasons) != len(rules.RefundRejectReasons) {
			t.Fatalf("reasons: %+v", reasons)
		}
		for i, r := range reasons {
			if want := rules.RefundRejectReasons[i]; r.Code != want.Code || r.Desc != want.Desc || r.RequiredRejectDesc == nil || r.RequiredRejectImage == nil ||
				*r.RequiredRejectDesc != want.RequiresDesc || *r.RequiredRejectImage != want.RequiresImage || r.Tip != want.Tip {
				t.Fatalf("reason %d: %+v, want %+v with both required flags", i, r, want)
			}
		}
		// A reason that requires a description or an image refuses a
		// rejection without it.
		for _, want := range rules.RefundRejectReasons {
			if !want.RequiresDesc && !want.RequiresImage {
				continue
			}
			p := map[string]any{"refundId": rf.RefundID, "reasonCode": want.Code, "refundVersion": rf.UpdateTime}
			if want.RequiresImage {
				p["rejectDesc"] = "已发货"
			}
			if r := c.Call(tok, "open.refund.reject", p); r.Result != platform.ResultParamInvalid {
				t.Fatalf("reason %d without its evidence: %+v", want.Code, r)
			}
		}
		p := map[string]any{"refundId": rf.RefundID, "reasonCode": reasons[0].Code, "refundVersion": rf.UpdateTime - 1, "rejectDesc": "已发货"}
		if r := c.Call(tok, "open.refund.reject", p); r.Result != platform.ResultRefundUpdated {
			t.Fatalf("stale refundVersion: got %+v, want 300014", r)
		}
		p["reasonCode"] = 999
		if r := c.Call(tok, "open.refund.reject", p); r.Result != platform.ResultParamInvalid {
			t.Fatalf("unknown reason: %+v", r)
		}
		p["reasonCode"], p["refundVersion"] = reasons[0].Code, rf.UpdateTime
		c.MustCall(tok, "open.refund.reject", p, nil)
		d := detail(rf.RefundID)
		if d.Status != 20 || d.UpdateTime <= rf.UpdateTime {
			t.Fatalf("after reject: %+v (version must move on)", d)
		}
		p["refundVersion"] = d.UpdateTime
		if r := c.Call(tok, "open.refund.reject", p); r.Result != platform.ResultRefundState {
			t.Fatalf("reject in 20: %+v", r)
		}
		c.MustCall(tok, "open.seller.order.refund.approve", map[string]any{"refundId": rf.RefundID, "refundAmount": 1}, nil) // the seller may still agree
		if r := c.Call(tok, "open.refund.reject.reason", map[string]any{"refundId": 5}); r.Result != platform.ResultRefundNotFound {
			t.Fatalf("reasons of unknown refund: %+v", r)
		}
	})

	// Refund windows see the new records.
	var page struct {
		RefundOrderInfoList []wireRefund `json:"refundOrderInfoList"`
	}
	c.MustCall(tok, "open.seller.order.refund.pcursor.list", map[string]any{"beginTime": s.Now().Add(-time.Hour).UnixMilli(), "endTime": s.Now().Add(time.Hour).UnixMilli(), "queryType": 2}, &page)
	if len(page.RefundOrderInfoList) != 3 {
		t.Fatalf("refunds updated in the last hour: %d", len(page.RefundOrderInfoList))
	}
	for _, body := range []map[string]any{{"orderId": 1}, {"orderId": newOrder(30), "handlingWay": 1}, {"orderId": newOrder(30), "handlingWay": 3}, {"orderId": newOrder(30), "refundFee": -1}} {
		if st := c.Admin("POST", "/sandbox/v1/refunds", body, nil); st < 400 {
			t.Errorf("refund %v: %d", body, st)
		}
	}
}

func TestWrites_Logistics(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 13, TestUsers: 2})
	tok := c.Authorize(1, "merchant_logistics").AccessToken
	other := c.Authorize(2, "merchant_logistics").AccessToken

	var all, used templateListData
	c.MustCall(tok, "open.logistics.express.template.list", map[string]any{"offset": 0, "limit": 100}, &all)
	c.MustCall(tok, "open.logistics.express.template.list", map[string]any{"searchUsed": true}, &used)
	if all.Total < 2 || len(all.Templates) != all.Total || used.Total != 2 || all.Templates[0].Name == "" || all.Templates[0].SendProvinceName == "" {
		t.Fatalf("templates: %+v / used %+v", all, used)
	}
	var paged templateListData
	c.MustCall(tok, "open.logistics.express.template.list", map[string]any{"offset": 1, "limit": 1}, &paged)
	if len(paged.Templates) != 1 || paged.Templates[0].ID != all.Templates[1].ID {
		t.Fatalf("offset paging: %+v", paged)
	}
	var addrs, ret, ship []shop.SellerAddress
	c.MustCall(tok, "open.address.seller.list", nil, &addrs)
	c.MustCall(tok, "open.address.seller.list", map[string]any{"addressType": 2}, &ret)
	c.MustCall(tok, "open.address.seller.list", map[string]any{"addressType": 3}, &ship)
	if len(addrs) != 3 || len(ret) != 2 || len(ship) != 1 || !ship[0].DefaultAddress || ship[0].Province == "" || ret[0].AddressType != 2 {
		t.Fatalf("addresses: all %+v return %+v ship %+v", addrs, ret, ship)
	}
	if r := c.Call(tok, "open.address.seller.list", map[string]any{"addressType": 1}); r.Result != platform.ResultParamInvalid {
		t.Fatalf("addressType 1: %+v", r)
	}

	c.Post = true
	var bills []ebillResult
	c.MustCall(tok, "open.express.ebill.get", map[string]any{"getEbillOrderRequest": []map[string]any{
		{"requestId": "r-sf", "expressCompanyCode": "SF", "tradeOrderCode": "T1"}, {"requestId": "r-zto", "expressCompanyCode": "ZTO", "tradeOrderCode": "T2"},
	}}, &bills)
	if len(bills) != 2 || bills[0].RequestID != "r-sf" || bills[1].RequestID != "r-zto" {
		t.Fatalf("ebill.get: %+v", bills)
	}
	for i, prefix := range []string{"SF", "ZTO"} {
		b := bills[i]
		if !b.BaseResponse.Success || b.BaseResponse.Result != 1 || len(b.Data) != 1 || !strings.HasPrefix(b.Data[0].WaybillCode, prefix) ||
			b.Data[0].PrintData == "" || b.Data[0].Key == "" || b.Data[0].Signature == "" || b.Data[0].Version == "" {
			t.Fatalf("ebill.get result %d: %+v", i, b)
		}
	}
	if bills[0].Data[0].Key == bills[1].Data[0].Key {
		t.Fatalf("two waybills share a key: %+v", bills)
	}
	for _, b := range bills { // the signature is printData's HMAC-SHA256 under the key
		mac := hmac.New(sha256.New, []byte(b.Data[0].Key))
		mac.Write([]byte(b.Data[0].PrintData))
		if hex.EncodeToString(mac.Sum(nil)) != b.Data[0].Signature {
			t.Fatalf("signature of %+v", b.Data[0])
		}
	}
	// requestId is the platform's idempotence key: a requestId used before
	// answers the same waybill, however the request differs; a new one
	// in the same call gets a new waybill.
	var again []ebillResult
	c.MustCall(tok, "open.express.ebill.get", map[string]any{"getEbillOrderRequest": []map[string]any{
		{"requestId": "r-new", "expressCompanyCode": "SF", "tradeOrderCode": "T3"}, {"requestId": "r-sf", "expressCompanyCode": "ZTO", "tradeOrderCode": "T9"},
	}}, &again)
	if len(again) != 2 || again[1].RequestID != "r-sf" || !slices.Equal(again[1].Data, bills[0].Data) {
		t.Fatalf("the same requestId again: %+v, first answered %+v", again, bills[0])
	}
	if len(again[0].Data) != 1 || slices.Contains([]string{bills[0].Data[0].WaybillCode, bills[1].Data[0].WaybillCode}, again[0].Data[0].WaybillCode) ||
		again[0].Data[0].Key == bills[0].Data[0].Key {
		t.Fatalf("a new requestId got an issued waybill: %+v", again[0])
	}
	var otherBills []ebillResult // requestIds are the shop's own
	c.MustCall(other, "open.express.ebill.get", map[string]any{"getEbillOrderRequest": []map[string]any{
		{"requestId": "r-sf", "expressCompanyCode": "SF", "tradeOrderCode": "T1"},
	}}, &otherBills)
	if len(otherBills) != 1 || len(otherBills[0].Data) != 1 || otherBills[0].Data[0].WaybillCode == bills[0].Data[0].WaybillCode {
		t.Fatalf("another shop's requestId r-sf: %+v", otherBills)
	}
	for name, reqs := range map[string][]map[string]any{
		"unknown company":     {{"requestId": "r1", "expressCompanyCode": "NOPE"}},
		"no requestId":        {{"expressCompanyCode": "SF"}},
		"long requestId":      {{"requestId": strings.Repeat("r", 129), "expressCompanyCode": "SF"}},
		"repeated requestId":  {{"requestId": "r1", "expressCompanyCode": "SF"}, {"requestId": "r1", "expressCompanyCode": "ZTO"}},
		"non-string requests": {{"requestId": []int{1}, "expressCompanyCode": "SF"}},
	} {
		if r := c.Call(tok, "open.express.ebill.get", map[string]any{"getEbillOrderRequest": reqs}); r.Result != platform.ResultParamInvalid {
			t.Errorf("%s: %+v", name, r)
		}
	}
	cancel := map[string]any{"expressCompanyCode": "SF", "waybillCode": bills[0].Data[0].WaybillCode}
	if r := c.Call(other, "open.express.ebill.cancel", cancel); r.Result == 1 {
		t.Fatal("another shop cancelled the waybill")
	}
	c.Post = false // documented GET by [TS], POST by [PHP]: both work
	c.MustCall(tok, "open.express.ebill.cancel", cancel, nil)
	if r := c.Call(tok, "open.express.ebill.cancel", cancel); r.Result == 1 || !strings.Contains(r.ErrorMsg, "already cancelled") {
		t.Fatalf("cancel twice: %+v", r)
	}
	c.Post = true // a cancelled waybill's requestId still answers it
	c.MustCall(tok, "open.express.ebill.get", map[string]any{"getEbillOrderRequest": []map[string]any{
		{"requestId": "r-sf", "expressCompanyCode": "SF", "tradeOrderCode": "T1"},
	}}, &again)
	if len(again) != 1 || !slices.Equal(again[0].Data, bills[0].Data) {
		t.Fatalf("requestId of a cancelled waybill: %+v", again)
	}
	if !slices.Contains(sandbox.EmulatedAPIs(), "open.express.ebill.cancel") || !slices.Equal(sandbox.EmulatedAPIs(), emulated.Names()) {
		t.Fatal("EmulatedAPIs")
	}
}
