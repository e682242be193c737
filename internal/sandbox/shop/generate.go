package shop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// The generator. Every test user owns one shop generated from (Seed, user
// id, AppKey, sandbox start time) alone, so the same inputs give byte-equal
// answers, and adding a user never changes another's data.

// New generates test user id's shop: its seller and items, 10-80 orders
// created in the 30 days before start, after-sale records, freight
// templates and addresses. emit receives the messages of later changes (nil:
// none).
func New(seed int64, id int, appKey string, start time.Time, emit Emitter) *Shop {
	sh := generateShop(seed, id, appKey, start)
	seedLogistics(sh, seed, start)
	sh.emit = emit
	return sh
}

// Generator vocabulary.

var (
	shopAdjectives = []string{"晨光", "山海", "小满", "拾月", "青禾", "好物", "知味", "悦己"}
	shopNouns      = []string{"生活馆", "优选店", "杂货铺", "旗舰店", "工坊", "小铺"}
	sellerNames    = []string{"林小满", "陈青禾", "王拾月", "赵晨光", "周山海"}
	buyerNicks     = []string{"快乐小鱼", "晴天", "阿飞", "柠檬不萌", "夜猫子", "小蘑菇", "大白", "橘子汽水", "风吹麦浪", "一只喵"}
	surnames       = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"}
	mobilePrefixes = []string{"138", "139", "150", "152", "158", "177", "186", "188", "199"}
	remarks        = []string{"", "", "", "请尽快发货", "不要放快递柜", "送人的，不要放发票", "周末送货"}
	refundReasons  = []string{"不想要了", "尺码不合适", "商品与描述不符", "质量问题", "少件/漏发", "七天无理由"}
	// expressCodes: a few of the platform's carrier codes (物流公司编号).
	expressCodes = []struct {
		code   int64
		prefix string
	}{{4, "SF"}, {9, "ZTO"}, {6, "YT"}, {11, "YD"}, {3, "STO"}, {109, "JT"}, {2, "EMS"}}
)

type catalogItem struct {
	title, category string
	categoryID      int64
	price           int64 // fen, base
	dims            [][]string
	dimNames        []string
}

var itemCatalog = []catalogItem{
	{"纯棉圆领短袖T恤", "男装/T恤", 1001, 5900, [][]string{{"白色", "黑色", "灰色"}, {"M", "L", "XL"}}, []string{"颜色", "尺码"}},
	{"加厚保暖连帽卫衣", "女装/卫衣", 1002, 12900, [][]string{{"燕麦色", "雾霾蓝"}, {"S", "M", "L"}}, []string{"颜色", "尺码"}},
	{"高腰直筒牛仔裤", "女装/牛仔裤", 1003, 15900, [][]string{{"浅蓝", "深蓝"}, {"26", "27", "28", "29"}}, []string{"颜色", "尺码"}},
	{"304不锈钢保温杯 500ml", "家居/水杯", 2001, 6900, [][]string{{"奶白", "墨绿", "樱花粉"}}, []string{"颜色"}},
	{"无线蓝牙耳机 降噪版", "数码/耳机", 3001, 19900, [][]string{{"标准版", "降噪版"}}, []string{"版本"}},
	{"云南古树普洱茶 357g", "食品/茶叶", 4001, 26800, [][]string{{"生茶", "熟茶"}}, []string{"口味"}},
	{"东北五常大米 5kg", "食品/粮油", 4002, 7990, [][]string{{"5kg", "10kg"}}, []string{"规格"}},
	{"手工红糖姜茶 12袋", "食品/冲饮", 4003, 2990, [][]string{{"原味", "红枣味"}}, []string{"口味"}},
	{"家用加厚珊瑚绒毛毯", "家纺/毛毯", 2002, 8900, [][]string{{"150x200cm", "180x200cm"}, {"米白", "浅灰"}}, []string{"尺寸", "颜色"}},
	{"儿童益智积木 200粒", "玩具/积木", 5001, 9900, [][]string{{"基础款", "豪华款"}}, []string{"款式"}},
	{"便携式充电宝 20000mAh", "数码/移动电源", 3002, 12900, [][]string{{"白色", "黑色"}}, []string{"颜色"}},
	{"草莓味果冻礼盒 1kg", "食品/零食", 4004, 3990, [][]string{{"1kg", "2kg"}}, []string{"规格"}},
}

var regions = []struct {
	province string
	pcode    int
	city     string
	ccode    int
	district string
	dcode    int
	town     string
	tcode    int
}{
	{"北京市", 110000, "北京市", 110100, "朝阳区", 110105, "望京街道", 110105026},
	{"上海市", 310000, "上海市", 310100, "浦东新区", 310115, "花木街道", 310115005},
	{"广东省", 440000, "广州市", 440100, "天河区", 440106, "石牌街道", 440106005},
	{"广东省", 440000, "深圳市", 440300, "南山区", 440305, "粤海街道", 440305007},
	{"浙江省", 330000, "杭州市", 330100, "西湖区", 330106, "文新街道", 330106013},
	{"四川省", 510000, "成都市", 510100, "武侯区", 510107, "玉林街道", 510107017},
	{"江苏省", 320000, "南京市", 320100, "鼓楼区", 320106, "宁海路街道", 320106001},
	{"湖北省", 420000, "武汉市", 420100, "洪山区", 420111, "珞南街道", 420111002},
}

// Status mix for orders beyond the first six (one of each status).
var statusWeights = []struct{ status, weight int }{
	{rules.OrderUnpaid, 1}, {rules.OrderPaid, 3}, {rules.OrderShipped, 3}, {rules.OrderReceived, 2}, {rules.OrderSucceeded, 4}, {rules.OrderClosed, 1},
}

const day = 24 * time.Hour

type gen struct{ r *rand.Rand }

func (g gen) intn(n int) int         { return g.r.IntN(n) }
func (g gen) int64n(n int64) int64   { return g.r.Int64N(n) }
func (g gen) pick(s []string) string { return s[g.r.IntN(len(s))] }
func (g gen) hex(nbytes int) string  { return hex.EncodeToString(g.bytes(nbytes)) }
func (g gen) chance(p float64) bool  { return g.r.Float64() < p }
func (g gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}
func (g gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

// between is a uniform duration in [lo, hi), at millisecond resolution.
func (g gen) between(lo, hi time.Duration) time.Duration {
	span := int64((hi - lo) / time.Millisecond)
	if span <= 0 {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(span))*time.Millisecond
}

// uniqueID draws base+offset ids not yet in used.
func (g gen) uniqueID(used map[int64]bool, base, span int64) int64 {
	for {
		id := base + g.r.Int64N(span)
		if !used[id] {
			used[id] = true
			return id
		}
	}
}

// generateShop builds test user id's shop: 5-12 items with SKUs and stock,
// 10-80 orders created in the 30 days before start (each status at least
// once) and after-sale records on some shipped orders.
func generateShop(seed int64, id int, appKey string, start time.Time) *Shop {
	g := gen{rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15*uint64(id)+1))}
	uid := int64(id)
	sh := &Shop{
		ItemByID:   map[int64]*Item{},
		OrderByID:  map[int64]*Order{},
		RefundByID: map[int64]*Refund{},
		nextID:     9_000_000_000_000 + uid*100_000_000_000,
	}
	openID := openIDFor(appKey, seed, id)
	sellerID := 1_000_000_000 + uid*100_000_000 + g.int64n(100_000_000)
	shopName := g.pick(shopAdjectives) + g.pick(shopNouns)
	sellerName := sellerNames[(id-1)%len(sellerNames)]
	sh.User = TestUser{ID: id, OpenID: openID, Name: "测试用户" + strconv.Itoa(id) + "·" + sellerName, SellerID: sellerID, ShopName: shopName}
	sh.Info = ShopInfo{
		ShopName: shopName, ShopType: 1 + g.intn(2),
		ShopScoreInfo: ShopScoreInfo{
			Score: score(g), GoodsScore: score(g), ServiceScore: score(g), LogisticsScore: score(g),
		},
	}
	sh.Seller = SellerInfo{
		Name: sellerName, SellerID: sellerID, OpenID: openID,
		Head:    fmt.Sprintf("https://img.sandbox.invalid/head/%d.jpg", sellerID),
		BigHead: fmt.Sprintf("https://img.sandbox.invalid/head/%d_big.jpg", sellerID),
	}

	// Items.
	usedItem, usedSku := map[int64]bool{}, map[int64]bool{}
	perm := g.r.Perm(len(itemCatalog))
	for n, idx := range perm[:5+g.intn(8)] {
		c := itemCatalog[idx]
		it := &Item{ItemBase: ItemBase{
			KwaiItemID:   g.uniqueID(usedItem, 20_000_000_000+uid*1_000_000_000, 1_000_000_000),
			RelItemID:    int64(100000*id + n + 1),
			Title:        c.title,
			CategoryID:   c.categoryID,
			CategoryName: c.category,
			ItemType:     1,
			ShelfStatus:  1,
			AuditStatus:  1,
			Details:      c.title + "，沙盒示例商品，数据为模拟生成。",
		}}
		if g.chance(0.15) {
			it.ShelfStatus = 0
		}
		it.MainImageURL = fmt.Sprintf("https://img.sandbox.invalid/item/%d/main.jpg", it.KwaiItemID)
		it.ImageURLs = []string{it.MainImageURL, fmt.Sprintf("https://img.sandbox.invalid/item/%d/1.jpg", it.KwaiItemID)}
		created := start.Add(-g.between(40*day, 180*day))
		it.CreateTime, it.UpdateTime = clock.Millis(created), clock.Millis(created.Add(g.between(0, 30*day)))
		for j, spec := range combos(c.dimNames, c.dims) {
			if j >= 6 {
				break
			}
			price := c.price + 100*g.int64n(c.price/500+1)
			it.SKUs = append(it.SKUs, &SKU{
				SkuID:          g.uniqueID(usedSku, 30_000_000_000+uid*1_000_000_000, 1_000_000_000),
				RelSkuID:       int64(1000*(100000*id+n+1) + j + 1),
				SkuNick:        fmt.Sprintf("SBX-%d-%02d-%02d", id, n+1, j+1),
				Specification:  spec,
				SkuSalePrice:   price,
				SkuMarketPrice: price * 12 / 10 / 100 * 100,
				SkuStock:       g.int64n(500),
			})
		}
		it.Price = it.SKUs[0].SkuSalePrice
		for _, s := range it.SKUs {
			it.Price = min(it.Price, s.SkuSalePrice)
		}
		sh.Items = append(sh.Items, it)
		sh.ItemByID[it.KwaiItemID] = it
	}

	// Orders.
	usedOid, usedRefund := map[int64]bool{}, map[int64]bool{}
	n := 10 + g.intn(71)
	for i := range n {
		status := []int{rules.OrderUnpaid, rules.OrderPaid, rules.OrderShipped, rules.OrderReceived, rules.OrderSucceeded, rules.OrderClosed}[min(i, 5)]
		if i >= 6 {
			status = weightedStatus(g)
		}
		o := generateOrder(g, sh, status, start, usedOid)
		sh.Orders = append(sh.Orders, o)
		sh.OrderByID[o.BaseInfo.Oid] = o
		if (status == rules.OrderShipped || status == rules.OrderReceived || status == rules.OrderSucceeded) && i >= 6 && g.chance(0.3) {
			rf := generateRefund(g, sh, o, start, usedRefund)
			sh.Refunds = append(sh.Refunds, rf)
			sh.RefundByID[rf.RefundID] = rf
			o.RefundList = []OrderRefund{{RefundID: rf.RefundID, RefundStatus: rf.Status, HandlingWay: rf.HandlingWay}}
		}
	}
	slices.SortStableFunc(sh.Orders, func(a, b *Order) int {
		return CompareTimeID(a.BaseInfo.CreateTime, a.BaseInfo.Oid, b.BaseInfo.CreateTime, b.BaseInfo.Oid)
	})
	slices.SortStableFunc(sh.Refunds, func(a, b *Refund) int {
		return CompareTimeID(a.CreateTime, a.RefundID, b.CreateTime, b.RefundID)
	})
	return sh
}

func score(g gen) float64 { return float64(420+g.intn(81)) / 100 }

func weightedStatus(g gen) int {
	total := 0
	for _, w := range statusWeights {
		total += w.weight
	}
	x := g.intn(total)
	for _, w := range statusWeights {
		if x < w.weight {
			return w.status
		}
		x -= w.weight
	}
	return rules.OrderSucceeded
}

// combos lists "颜色:白色;尺码:M" style specifications of every combination.
func combos(names []string, dims [][]string) []string {
	out := []string{""}
	for d, vals := range dims {
		var next []string
		for _, prefix := range out {
			for _, v := range vals {
				sep := ""
				if prefix != "" {
					sep = ";"
				}
				next = append(next, prefix+sep+names[d]+":"+v)
			}
		}
		out = next
	}
	return out
}

// generateOrder draws one order whose lifecycle fits before start: the
// creation window depends on how far the status is along.
func generateOrder(g gen, sh *Shop, status int, start time.Time, used map[int64]bool) *Order {
	uid := int64(sh.User.ID)
	var created time.Time
	switch status {
	case rules.OrderUnpaid:
		created = start.Add(-g.between(time.Minute, time.Hour))
	case rules.OrderPaid:
		created = start.Add(-g.between(time.Hour, 3*day))
	case rules.OrderShipped:
		created = start.Add(-g.between(2*day, 10*day))
	case rules.OrderReceived:
		created = start.Add(-g.between(6*day, 20*day))
	case rules.OrderSucceeded:
		created = start.Add(-g.between(14*day, 30*day))
	default: // closed: unpaid and cancelled 30 minutes later
		created = start.Add(-g.between(time.Hour, 30*day))
	}
	it := sh.Items[g.intn(len(sh.Items))]
	sk := it.SKUs[g.intn(len(it.SKUs))]
	num := 1 + g.int64n(3)
	discount := []int64{0, 0, 0, 300, 500, 1000}[g.intn(6)]
	expressFee := []int64{0, 0, 0, 600, 1000}[g.intn(5)]
	total := sk.SkuSalePrice*num - discount + expressFee
	reg := regions[g.intn(len(regions))]
	surname := g.pick(surnames)
	mobileTail := g.digits(4)
	oid := g.uniqueID(used, 2_600_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000)

	o := &Order{
		BaseInfo: OrderBaseInfo{
			Oid: oid, Status: status, CreateTime: clock.Millis(created), UpdateTime: clock.Millis(created),
			TotalFee: total, ExpressFee: expressFee, DiscountFee: discount,
			BuyerOpenID: g.hex(16), BuyerNick: g.pick(buyerNicks) + g.digits(3),
			SellerOpenID: sh.User.OpenID, SellerNick: sh.Seller.Name,
			Remark: g.pick(remarks), PayType: 1, PayChannel: "",
		},
		ItemInfo: OrderItemInfo{
			OrderItemID: oid*10 + 1, ItemID: it.KwaiItemID, SkuID: sk.SkuID, RelItemID: it.RelItemID, RelSkuID: sk.RelSkuID,
			ItemTitle: it.Title, ItemPicURL: it.MainImageURL,
			ItemLinkURL: fmt.Sprintf("https://app.sandbox.invalid/item/%d", it.KwaiItemID),
			ItemType:    1, SkuDesc: sk.Specification, SkuNick: sk.SkuNick, Num: num,
			OriginalPrice: sk.SkuMarketPrice, Price: sk.SkuSalePrice, DiscountFee: discount,
		},
		RefundList:    []OrderRefund{},
		LogisticsInfo: []OrderLogistics{},
		Note:          OrderNote{OrderNoteInfo: []OrderNoteInfo{}},
		Address: OrderAddress{
			Province: reg.province, ProvinceCode: reg.pcode, City: reg.city, CityCode: reg.ccode,
			District: reg.district, DistrictCode: reg.dcode, Town: reg.town, TownCode: reg.tcode,
			EncryptedConsignee:   encrypted(g),
			DesensitiseConsignee: surname + "**",
			EncryptedMobile:      encrypted(g),
			DesensitiseMobile:    g.pick(mobilePrefixes) + "****" + mobileTail,
			EncryptedAddress:     encrypted(g),
			DesensitiseAddress:   reg.province + reg.city + reg.district + reg.town + "****",
		},
	}
	b := &o.BaseInfo
	if status == rules.OrderClosed {
		b.UpdateTime = clock.Millis(created.Add(30 * time.Minute))
		return o
	}
	if status == rules.OrderUnpaid {
		return o
	}
	paid := created.Add(g.between(time.Minute, 30*time.Minute))
	b.PayTime, b.UpdateTime = clock.Millis(paid), clock.Millis(paid)
	b.PayChannel = []string{"WECHAT", "ALIPAY"}[g.intn(2)]
	b.ValidPromiseShipmentTimeStamp = clock.Millis(paid.Add(48 * time.Hour))
	if status == rules.OrderPaid {
		return o
	}
	sent := paid.Add(g.between(2*time.Hour, 36*time.Hour))
	b.SendTime, b.UpdateTime = clock.Millis(sent), clock.Millis(sent)
	ex := expressCodes[g.intn(len(expressCodes))]
	sh.nextID++
	o.LogisticsInfo = []OrderLogistics{{LogisticsID: sh.nextID, ExpressCode: ex.code, ExpressNo: ex.prefix + g.digits(12)}}
	o.DeliveryInfo = OrderDeliveryInfo{DeliveryStatus: 1, DeliveryNum: 1, PackageNum: 1}
	if status == rules.OrderShipped {
		return o
	}
	recv := sent.Add(g.between(day, 3*day))
	b.RecvTime, b.UpdateTime = clock.Millis(recv), clock.Millis(recv)
	if status == rules.OrderReceived {
		return o
	}
	done := recv.Add(g.between(3*day, 7*day))
	b.UpdateTime = clock.Millis(done)
	return o
}

// generateRefund draws an after-sale record for a shipped order.
func generateRefund(g gen, sh *Shop, o *Order, start time.Time, used map[int64]bool) *Refund {
	uid := int64(sh.User.ID)
	b := &o.BaseInfo
	earliest := time.UnixMilli(b.SendTime).Add(time.Hour)
	created := earliest.Add(g.between(0, start.Sub(earliest)/2))
	updated := created.Add(g.between(0, start.Sub(created)))
	way := rules.HandlingReturnGoods
	statuses := []int{rules.RefundRequested, rules.RefundAwaitReturn, rules.RefundReturned, rules.RefundAwaitExecute, rules.RefundSucceeded, rules.RefundClosed, rules.RefundArbitration}
	if g.chance(0.4) {
		way = rules.HandlingRefundOnly
		statuses = []int{rules.RefundRequested, rules.RefundAwaitExecute, rules.RefundSucceeded, rules.RefundClosed}
	}
	status := statuses[g.intn(len(statuses))]
	rf := &Refund{
		RefundID: g.uniqueID(used, 2_100_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000),
		Oid:      b.Oid, ItemID: o.ItemInfo.ItemID, SkuID: o.ItemInfo.SkuID,
		RelItemID: o.ItemInfo.RelItemID, RelSkuID: o.ItemInfo.RelSkuID, SkuNick: o.ItemInfo.SkuNick,
		SellerID: sh.User.SellerID, BuyerOpenID: b.BuyerOpenID, ProductNum: o.ItemInfo.Num,
		RefundFee: b.TotalFee - b.ExpressFee, Status: status, HandlingWay: way, RefundType: 1,
		RefundReason: 1 + g.intn(len(refundReasons)), RefundDesc: "",
		CreateTime: clock.Millis(created), SubmitTime: clock.Millis(created), UpdateTime: clock.Millis(updated), NegotiateUpdateTime: clock.Millis(updated),
	}
	rf.RefundReasonDesc = refundReasons[rf.RefundReason-1]
	if rules.RefundWaiting(status) {
		rf.ExpireTime = clock.Millis(updated.Add(48 * time.Hour))
	} else {
		rf.EndTime = clock.Millis(updated)
	}
	if way == rules.HandlingReturnGoods && (status == rules.RefundReturned || status == rules.RefundAwaitExecute || status == rules.RefundSucceeded) {
		ex := expressCodes[g.intn(len(expressCodes))]
		rf.LogisticsInfo = RefundLogistics{ExpressCode: ex.code, ExpressNo: ex.prefix + g.digits(12)}
	}
	if status == rules.RefundSucceeded {
		b.RefundTime = clock.Millis(updated)
	}
	return rf
}

// encrypted stands in for the platform's encrypted PII (opaque to clients;
// the decrypt APIs are not emulated).
func encrypted(g gen) string {
	return "#" + base64.RawURLEncoding.EncodeToString(g.bytes(24)) + "#"
}

// CompareTimeID orders records by (time, id) ascending, as every listing
// sorts them.
func CompareTimeID(t1, id1, t2, id2 int64) int {
	switch {
	case t1 < t2:
		return -1
	case t1 > t2:
		return 1
	case id1 < id2:
		return -1
	case id1 > id2:
		return 1
	}
	return 0
}

var templateNames = []struct {
	name string
	free bool
	cal  int
}{{"全国包邮", true, 1}, {"偏远地区不包邮", false, 1}, {"按件计费（首件10元）", false, 1}, {"按重量计费", false, 2}}

// seedLogistics adds templates and addresses to a generated shop and gives
// it its runtime generator. It draws from its own streams, so the rest of
// the shop's data is the same as without it.
func seedLogistics(sh *Shop, seed int64, start time.Time) {
	id := uint64(sh.User.ID)
	g := gen{rand.New(rand.NewPCG(uint64(seed), 0x6c6f6769*id+7))}
	sh.live = gen{rand.New(rand.NewPCG(uint64(seed), 0x6c697665*id+11))}
	sh.Waybills = map[string]*Waybill{}
	uid := int64(sh.User.ID)
	reg := regions[g.intn(len(regions))]
	for n, t := range templateNames[:2+g.intn(3)] {
		created := start.Add(-g.between(60*day, 200*day))
		sh.Templates = append(sh.Templates, &ExpressTemplate{
			ID: 50_000_000 + uid*1_000_000 + int64(n+1), Name: t.name, FreeShipping: t.free, CalType: t.cal,
			SendProvinceName: reg.province, SendProvinceCode: reg.pcode, SendCityName: reg.city, SendCityCode: reg.ccode,
			SendDistrictName: reg.district, SendDistrictCode: reg.dcode, Used: n < 2,
			CreateTime: clock.Millis(created), UpdateTime: clock.Millis(created.Add(g.between(0, 30*day))),
		})
	}
	mobile := func() string { return mobilePrefixes[g.intn(len(mobilePrefixes))] + g.digits(8) }
	add := func(typ int, def bool, r int) {
		rg := regions[r]
		sh.Addresses = append(sh.Addresses, &SellerAddress{
			AddressID: 60_000_000 + uid*1_000_000 + int64(len(sh.Addresses)+1), AddressType: typ, DefaultAddress: def,
			Consignee: sh.Seller.Name, Mobile: mobile(),
			ProvinceCode: rg.pcode, Province: rg.province, CityCode: rg.ccode, City: rg.city,
			DistrictCode: rg.dcode, District: rg.district, TownCode: rg.tcode, Town: rg.town,
			Address: fmt.Sprintf("%s%d号 %s仓", streets[g.intn(len(streets))], 1+g.intn(300), sh.Info.ShopName),
		})
	}
	home := g.intn(len(regions))
	add(AddressShipFrom, true, home)
	add(AddressReturn, true, home)
	add(AddressReturn, false, g.intn(len(regions)))
}

// openIDFor is the test user's open_id for this app: 32 lowercase hex,
// stable for the same AppKey, Seed and user id (the platform's open_id is
// the user's unique id for this developer).
func openIDFor(appKey string, seed int64, id int) string {
	sum := sha256.Sum256([]byte(rules.OpenIDSalt + appKey + "/" + strconv.FormatInt(seed, 10) + "/" + strconv.Itoa(id)))
	return hex.EncodeToString(sum[:16])
}

// staffIDFor is a sub-account's staffId for this app: 10 digits, stable
// for the same AppKey, Seed and account id.
func staffIDFor(appKey string, seed int64, id int) int64 {
	sum := sha256.Sum256([]byte(rules.OpenIDSalt + "staff/" + appKey + "/" + strconv.FormatInt(seed, 10) + "/" + strconv.Itoa(id)))
	return 1_000_000_000 + int64(binary.BigEndian.Uint64(sum[:8])%9_000_000_000)
}
