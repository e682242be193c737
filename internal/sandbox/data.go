package sandbox

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Seeded shop data. Every test user owns one shop generated from (Seed, user
// id, AppKey, sandbox start time) alone, so the same inputs give byte-equal
// answers, and adding a user never changes another's data. JSON field names
// follow the platform schemas [TS api.declaration.ts] [GO1 api/*.go]; money
// is in fen, times are ms epochs, ids are int64.

type shop struct {
	user    TestUser
	info    shopInfo
	seller  sellerInfo
	items   []*item
	orders  []*order // createTime ascending
	refunds []*refund

	itemByID   map[int64]*item
	orderByID  map[int64]*order
	refundByID map[int64]*refund
	nextID     int64 // logistics ids issued by the ship API

	templates []*expressTemplate
	addresses []*sellerAddress
	waybills  map[string]*waybill
	live      gen // draws of runtime writes (new ids, waybills); see seedLogistics
}

type shopInfo struct {
	ShopName      string        `json:"shopName"`
	ShopType      int           `json:"shopType"` // UNCONFIRMED enum: 1 personal, 2 enterprise
	ShopScoreInfo shopScoreInfo `json:"shopScoreInfo"`
}

// shopScoreInfo fields are UNCONFIRMED (the schema was not readable).
type shopScoreInfo struct {
	Score          float64 `json:"score"`
	GoodsScore     float64 `json:"goodsScore"`
	ServiceScore   float64 `json:"serviceScore"`
	LogisticsScore float64 `json:"logisticsScore"`
}

type sellerInfo struct {
	Name     string `json:"name"`
	SellerID int64  `json:"sellerId"`
	OpenID   string `json:"openId"`
	Head     string `json:"head"`
	BigHead  string `json:"bigHead"`
}

type itemBase struct {
	KwaiItemID   int64    `json:"kwaiItemId"`
	RelItemID    int64    `json:"relItemId"`
	Title        string   `json:"title"`
	Price        int64    `json:"price"` // lowest SKU price
	Details      string   `json:"details"`
	MainImageURL string   `json:"mainImageUrl"`
	ImageURLs    []string `json:"imageUrls"`
	CategoryID   int64    `json:"categoryId"`
	CategoryName string   `json:"categoryName"`
	ItemType     int      `json:"itemType"`
	ShelfStatus  int      `json:"shelfStatus"` // 1 on shelf, 0 off
	AuditStatus  int      `json:"auditStatus"`
	CreateTime   int64    `json:"createTime"`
	UpdateTime   int64    `json:"updateTime"`
}

type sku struct {
	SkuID          int64  `json:"skuId"`
	RelSkuID       int64  `json:"relSkuId"`
	SkuNick        string `json:"skuNick"`
	Specification  string `json:"specification"`
	SkuSalePrice   int64  `json:"skuSalePrice"`
	SkuMarketPrice int64  `json:"skuMarketPrice"`
	SkuStock       int64  `json:"skuStock"`
}

type item struct {
	itemBase
	skus []*sku
}

type order struct {
	BaseInfo      orderBaseInfo     `json:"orderBaseInfo"`
	ItemInfo      orderItemInfo     `json:"orderItemInfo"`
	RefundList    []orderRefund     `json:"orderRefundList"`
	LogisticsInfo []orderLogistics  `json:"orderLogisticsInfo"`
	Note          orderNote         `json:"orderNote"`
	Address       orderAddress      `json:"orderAddress"`
	DeliveryInfo  orderDeliveryInfo `json:"orderDeliveryInfo"`
}

type orderBaseInfo struct {
	Oid                           int64  `json:"oid"`
	Status                        int    `json:"status"`
	CreateTime                    int64  `json:"createTime"`
	UpdateTime                    int64  `json:"updateTime"`
	PayTime                       int64  `json:"payTime"`
	SendTime                      int64  `json:"sendTime"`
	RecvTime                      int64  `json:"recvTime"`
	TotalFee                      int64  `json:"totalFee"`
	ExpressFee                    int64  `json:"expressFee"`
	DiscountFee                   int64  `json:"discountFee"`
	BuyerOpenID                   string `json:"buyerOpenId"`
	BuyerNick                     string `json:"buyerNick"`
	BuyerImage                    string `json:"buyerImage"`
	SellerOpenID                  string `json:"sellerOpenId"`
	SellerNick                    string `json:"sellerNick"`
	Remark                        string `json:"remark"`
	PayType                       int    `json:"payType"`
	PayChannel                    string `json:"payChannel"`
	CpsType                       int    `json:"cpsType"`
	PreSale                       int    `json:"preSale"`
	RefundTime                    int64  `json:"refundTime"`
	ValidPromiseShipmentTimeStamp int64  `json:"validPromiseShipmentTimeStamp"`
	CommentStatus                 int    `json:"commentStatus"`
}

type orderItemInfo struct {
	OrderItemID   int64  `json:"orderItemId"`
	ItemID        int64  `json:"itemId"`
	SkuID         int64  `json:"skuId"`
	RelItemID     int64  `json:"relItemId"`
	RelSkuID      int64  `json:"relSkuId"`
	ItemTitle     string `json:"itemTitle"`
	ItemPicURL    string `json:"itemPicUrl"`
	ItemLinkURL   string `json:"itemLinkUrl"`
	ItemType      int    `json:"itemType"`
	SkuDesc       string `json:"skuDesc"`
	SkuNick       string `json:"skuNick"`
	Num           int64  `json:"num"`
	OriginalPrice int64  `json:"originalPrice"`
	Price         int64  `json:"price"`
	DiscountFee   int64  `json:"discountFee"`
}

type orderRefund struct {
	RefundID          int64 `json:"refundId"`
	RefundStatus      int   `json:"refundStatus"`
	HandlingWay       int   `json:"handlingWay"`
	SpecialRefundType int   `json:"specialRefundType"`
}

type orderLogistics struct {
	LogisticsID int64  `json:"logisticsId"`
	ExpressNo   string `json:"expressNo"`
	ExpressCode int64  `json:"expressCode"`
}

// orderNote's shape is UNCONFIRMED: a list of seller notes.
type orderNote struct {
	OrderNoteInfo []orderNoteInfo `json:"orderNoteInfo"`
}

type orderNoteInfo struct {
	Note       string `json:"note"`
	Flag       int    `json:"flag"`
	CreateTime int64  `json:"createTime"`
}

type orderAddress struct {
	Province             string `json:"province"`
	ProvinceCode         int    `json:"provinceCode"`
	City                 string `json:"city"`
	CityCode             int    `json:"cityCode"`
	District             string `json:"district"`
	DistrictCode         int    `json:"districtCode"`
	Town                 string `json:"town"`
	TownCode             int    `json:"townCode"`
	EncryptedConsignee   string `json:"encryptedConsignee"`
	DesensitiseConsignee string `json:"desensitiseConsignee"`
	EncryptedMobile      string `json:"encryptedMobile"`
	DesensitiseMobile    string `json:"desensitiseMobile"`
	EncryptedAddress     string `json:"encryptedAddress"`
	DesensitiseAddress   string `json:"desensitiseAddress"`
}

type orderDeliveryInfo struct {
	DeliveryStatus     int  `json:"deliveryStatus"` // UNCONFIRMED: 0 not shipped, 1 shipped
	DeliveryNum        int  `json:"deliveryNum"`
	PackageNum         int  `json:"packageNum"`
	SplitDeliveryOrder bool `json:"splitDeliveryOrder"`
}

type refund struct {
	RefundID            int64           `json:"refundId"`
	Oid                 int64           `json:"oid"`
	ItemID              int64           `json:"itemId"`
	SkuID               int64           `json:"skuId"`
	RelItemID           int64           `json:"relItemId"`
	RelSkuID            int64           `json:"relSkuId"`
	SkuNick             string          `json:"skuNick"`
	SellerID            int64           `json:"sellerId"`
	BuyerOpenID         string          `json:"buyerOpenId"`
	ProductNum          int64           `json:"productNum"`
	RefundFee           int64           `json:"refundFee"`
	Status              int             `json:"status"`
	NegotiateStatus     int             `json:"negotiateStatus"`
	HandlingWay         int             `json:"handlingWay"`
	RefundType          int             `json:"refundType"`
	RefundReason        int             `json:"refundReason"`
	RefundReasonDesc    string          `json:"refundReasonDesc"`
	RefundDesc          string          `json:"refundDesc"`
	ReceiptStatus       int             `json:"receiptStatus"`
	SpecialRefundType   int             `json:"specialRefundType"`
	CreateTime          int64           `json:"createTime"`
	SubmitTime          int64           `json:"submitTime"`
	UpdateTime          int64           `json:"updateTime"`
	NegotiateUpdateTime int64           `json:"negotiateUpdateTime"`
	ExpireTime          int64           `json:"expireTime"`
	EndTime             int64           `json:"endTime"`
	LogisticsInfo       refundLogistics `json:"logisticsInfo"`
}

type refundLogistics struct {
	ExpressNo   string `json:"expressNo"`
	ExpressCode int64  `json:"expressCode"`
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
	{orderUnpaid, 1}, {orderPaid, 3}, {orderShipped, 3}, {orderReceived, 2}, {orderSucceeded, 4}, {orderClosed, 1},
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
func generateShop(seed int64, id int, appKey string, start time.Time) *shop {
	g := gen{rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15*uint64(id)+1))}
	uid := int64(id)
	sh := &shop{
		itemByID:   map[int64]*item{},
		orderByID:  map[int64]*order{},
		refundByID: map[int64]*refund{},
		nextID:     9_000_000_000_000 + uid*100_000_000_000,
	}
	openID := openIDFor(appKey, seed, id)
	sellerID := 1_000_000_000 + uid*100_000_000 + g.int64n(100_000_000)
	shopName := g.pick(shopAdjectives) + g.pick(shopNouns)
	sellerName := sellerNames[(id-1)%len(sellerNames)]
	sh.user = TestUser{ID: id, OpenID: openID, Name: "测试用户" + strconv.Itoa(id) + "·" + sellerName, SellerID: sellerID, ShopName: shopName}
	sh.info = shopInfo{
		ShopName: shopName, ShopType: 1 + g.intn(2),
		ShopScoreInfo: shopScoreInfo{
			Score: score(g), GoodsScore: score(g), ServiceScore: score(g), LogisticsScore: score(g),
		},
	}
	sh.seller = sellerInfo{
		Name: sellerName, SellerID: sellerID, OpenID: openID,
		Head:    fmt.Sprintf("https://img.sandbox.invalid/head/%d.jpg", sellerID),
		BigHead: fmt.Sprintf("https://img.sandbox.invalid/head/%d_big.jpg", sellerID),
	}

	// Items.
	usedItem, usedSku := map[int64]bool{}, map[int64]bool{}
	perm := g.r.Perm(len(itemCatalog))
	for n, idx := range perm[:5+g.intn(8)] {
		c := itemCatalog[idx]
		it := &item{itemBase: itemBase{
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
		it.CreateTime, it.UpdateTime = ms(created), ms(created.Add(g.between(0, 30*day)))
		for j, spec := range combos(c.dimNames, c.dims) {
			if j >= 6 {
				break
			}
			price := c.price + 100*g.int64n(c.price/500+1)
			it.skus = append(it.skus, &sku{
				SkuID:          g.uniqueID(usedSku, 30_000_000_000+uid*1_000_000_000, 1_000_000_000),
				RelSkuID:       int64(1000*(100000*id+n+1) + j + 1),
				SkuNick:        fmt.Sprintf("SBX-%d-%02d-%02d", id, n+1, j+1),
				Specification:  spec,
				SkuSalePrice:   price,
				SkuMarketPrice: price * 12 / 10 / 100 * 100,
				SkuStock:       g.int64n(500),
			})
		}
		it.Price = it.skus[0].SkuSalePrice
		for _, s := range it.skus {
			it.Price = min(it.Price, s.SkuSalePrice)
		}
		sh.items = append(sh.items, it)
		sh.itemByID[it.KwaiItemID] = it
	}

	// Orders.
	usedOid, usedRefund := map[int64]bool{}, map[int64]bool{}
	n := 10 + g.intn(71)
	for i := range n {
		status := []int{orderUnpaid, orderPaid, orderShipped, orderReceived, orderSucceeded, orderClosed}[min(i, 5)]
		if i >= 6 {
			status = weightedStatus(g)
		}
		o := generateOrder(g, sh, status, start, usedOid)
		sh.orders = append(sh.orders, o)
		sh.orderByID[o.BaseInfo.Oid] = o
		if (status == orderShipped || status == orderReceived || status == orderSucceeded) && i >= 6 && g.chance(0.3) {
			rf := generateRefund(g, sh, o, start, usedRefund)
			sh.refunds = append(sh.refunds, rf)
			sh.refundByID[rf.RefundID] = rf
			o.RefundList = []orderRefund{{RefundID: rf.RefundID, RefundStatus: rf.Status, HandlingWay: rf.HandlingWay}}
		}
	}
	slices.SortStableFunc(sh.orders, func(a, b *order) int {
		return cmpKey(a.BaseInfo.CreateTime, a.BaseInfo.Oid, b.BaseInfo.CreateTime, b.BaseInfo.Oid)
	})
	slices.SortStableFunc(sh.refunds, func(a, b *refund) int {
		return cmpKey(a.CreateTime, a.RefundID, b.CreateTime, b.RefundID)
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
	return orderSucceeded
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
func generateOrder(g gen, sh *shop, status int, start time.Time, used map[int64]bool) *order {
	uid := int64(sh.user.ID)
	var created time.Time
	switch status {
	case orderUnpaid:
		created = start.Add(-g.between(time.Minute, time.Hour))
	case orderPaid:
		created = start.Add(-g.between(time.Hour, 3*day))
	case orderShipped:
		created = start.Add(-g.between(2*day, 10*day))
	case orderReceived:
		created = start.Add(-g.between(6*day, 20*day))
	case orderSucceeded:
		created = start.Add(-g.between(14*day, 30*day))
	default: // closed: unpaid and cancelled 30 minutes later
		created = start.Add(-g.between(time.Hour, 30*day))
	}
	it := sh.items[g.intn(len(sh.items))]
	sk := it.skus[g.intn(len(it.skus))]
	num := 1 + g.int64n(3)
	discount := []int64{0, 0, 0, 300, 500, 1000}[g.intn(6)]
	expressFee := []int64{0, 0, 0, 600, 1000}[g.intn(5)]
	total := sk.SkuSalePrice*num - discount + expressFee
	reg := regions[g.intn(len(regions))]
	surname := g.pick(surnames)
	mobileTail := g.digits(4)
	oid := g.uniqueID(used, 2_600_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000)

	o := &order{
		BaseInfo: orderBaseInfo{
			Oid: oid, Status: status, CreateTime: ms(created), UpdateTime: ms(created),
			TotalFee: total, ExpressFee: expressFee, DiscountFee: discount,
			BuyerOpenID: g.hex(16), BuyerNick: g.pick(buyerNicks) + g.digits(3),
			SellerOpenID: sh.user.OpenID, SellerNick: sh.seller.Name,
			Remark: g.pick(remarks), PayType: 1, PayChannel: "",
		},
		ItemInfo: orderItemInfo{
			OrderItemID: oid*10 + 1, ItemID: it.KwaiItemID, SkuID: sk.SkuID, RelItemID: it.RelItemID, RelSkuID: sk.RelSkuID,
			ItemTitle: it.Title, ItemPicURL: it.MainImageURL,
			ItemLinkURL: fmt.Sprintf("https://app.sandbox.invalid/item/%d", it.KwaiItemID),
			ItemType:    1, SkuDesc: sk.Specification, SkuNick: sk.SkuNick, Num: num,
			OriginalPrice: sk.SkuMarketPrice, Price: sk.SkuSalePrice, DiscountFee: discount,
		},
		RefundList:    []orderRefund{},
		LogisticsInfo: []orderLogistics{},
		Note:          orderNote{OrderNoteInfo: []orderNoteInfo{}},
		Address: orderAddress{
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
	if status == orderClosed {
		b.UpdateTime = ms(created.Add(30 * time.Minute))
		return o
	}
	if status == orderUnpaid {
		return o
	}
	paid := created.Add(g.between(time.Minute, 30*time.Minute))
	b.PayTime, b.UpdateTime = ms(paid), ms(paid)
	b.PayChannel = []string{"WECHAT", "ALIPAY"}[g.intn(2)]
	b.ValidPromiseShipmentTimeStamp = ms(paid.Add(48 * time.Hour))
	if status == orderPaid {
		return o
	}
	sent := paid.Add(g.between(2*time.Hour, 36*time.Hour))
	b.SendTime, b.UpdateTime = ms(sent), ms(sent)
	ex := expressCodes[g.intn(len(expressCodes))]
	sh.nextID++
	o.LogisticsInfo = []orderLogistics{{LogisticsID: sh.nextID, ExpressCode: ex.code, ExpressNo: ex.prefix + g.digits(12)}}
	o.DeliveryInfo = orderDeliveryInfo{DeliveryStatus: 1, DeliveryNum: 1, PackageNum: 1}
	if status == orderShipped {
		return o
	}
	recv := sent.Add(g.between(day, 3*day))
	b.RecvTime, b.UpdateTime = ms(recv), ms(recv)
	if status == orderReceived {
		return o
	}
	done := recv.Add(g.between(3*day, 7*day))
	b.UpdateTime = ms(done)
	return o
}

// generateRefund draws an after-sale record for a shipped order.
func generateRefund(g gen, sh *shop, o *order, start time.Time, used map[int64]bool) *refund {
	uid := int64(sh.user.ID)
	b := &o.BaseInfo
	earliest := time.UnixMilli(b.SendTime).Add(time.Hour)
	created := earliest.Add(g.between(0, start.Sub(earliest)/2))
	updated := created.Add(g.between(0, start.Sub(created)))
	way := handlingReturnGoods
	statuses := []int{refundRequested, refundAwaitReturn, refundReturned, refundAwaitExecute, refundSucceeded, refundClosed, refundArbitration}
	if g.chance(0.4) {
		way = handlingRefundOnly
		statuses = []int{refundRequested, refundAwaitExecute, refundSucceeded, refundClosed}
	}
	status := statuses[g.intn(len(statuses))]
	rf := &refund{
		RefundID: g.uniqueID(used, 2_100_000_000_000_000+uid*10_000_000_000_000, 10_000_000_000_000),
		Oid:      b.Oid, ItemID: o.ItemInfo.ItemID, SkuID: o.ItemInfo.SkuID,
		RelItemID: o.ItemInfo.RelItemID, RelSkuID: o.ItemInfo.RelSkuID, SkuNick: o.ItemInfo.SkuNick,
		SellerID: sh.user.SellerID, BuyerOpenID: b.BuyerOpenID, ProductNum: o.ItemInfo.Num,
		RefundFee: b.TotalFee - b.ExpressFee, Status: status, HandlingWay: way, RefundType: 1,
		RefundReason: 1 + g.intn(len(refundReasons)), RefundDesc: "",
		CreateTime: ms(created), SubmitTime: ms(created), UpdateTime: ms(updated), NegotiateUpdateTime: ms(updated),
	}
	rf.RefundReasonDesc = refundReasons[rf.RefundReason-1]
	if refundWaiting(status) {
		rf.ExpireTime = ms(updated.Add(48 * time.Hour))
	} else {
		rf.EndTime = ms(updated)
	}
	if way == handlingReturnGoods && (status == refundReturned || status == refundAwaitExecute || status == refundSucceeded) {
		ex := expressCodes[g.intn(len(expressCodes))]
		rf.LogisticsInfo = refundLogistics{ExpressCode: ex.code, ExpressNo: ex.prefix + g.digits(12)}
	}
	if status == refundSucceeded {
		b.RefundTime = ms(updated)
	}
	return rf
}

// encrypted stands in for the platform's encrypted PII (opaque to clients;
// the decrypt APIs are not emulated).
func encrypted(g gen) string {
	return "#" + base64.RawURLEncoding.EncodeToString(g.bytes(24)) + "#"
}

// cmpKey orders by (time, id) ascending.
func cmpKey(t1, id1, t2, id2 int64) int {
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
