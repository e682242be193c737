package shop

import "strings"

// The records of a shop. JSON field names follow the platform schemas
// [TS api.declaration.ts] [GO1 api/*.go]; money is in fen, times are ms
// epochs, ids are int64.

// Shop is one test user's shop. Its records are live: read and change them
// only inside Shops.Do (or a Shops method), which holds the lock.
type Shop struct {
	User    TestUser
	Info    ShopInfo
	Seller  SellerInfo
	Items   []*Item
	Orders  []*Order // createTime ascending
	Refunds []*Refund

	ItemByID   map[int64]*Item
	OrderByID  map[int64]*Order
	RefundByID map[int64]*Refund

	Templates []*ExpressTemplate
	Addresses []*SellerAddress
	Waybills  map[string]*Waybill // by waybill code

	nextID int64 // logistics ids issued by the ship API
	live   gen   // draws of runtime writes (new ids, waybills); see seedLogistics
	emit   Emitter
}

// ShopInfo is the answer of open.shop.info.get.
type ShopInfo struct {
	ShopName      string        `json:"shopName"`
	ShopType      int           `json:"shopType"` // UNCONFIRMED enum: 1 personal, 2 enterprise
	ShopScoreInfo ShopScoreInfo `json:"shopScoreInfo"`
}

// ShopScoreInfo fields are UNCONFIRMED (the schema was not readable).
type ShopScoreInfo struct {
	Score          float64 `json:"score"`
	GoodsScore     float64 `json:"goodsScore"`
	ServiceScore   float64 `json:"serviceScore"`
	LogisticsScore float64 `json:"logisticsScore"`
}

// SellerInfo is the answer of open.user.seller.get.
type SellerInfo struct {
	Name     string `json:"name"`
	SellerID int64  `json:"sellerId"`
	OpenID   string `json:"openId"`
	Head     string `json:"head"`
	BigHead  string `json:"bigHead"`
}

// ItemBase holds an item's fields shared by every item API.
type ItemBase struct {
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

// SKU is one stock-keeping unit of an item.
type SKU struct {
	SkuID          int64  `json:"skuId"`
	RelSkuID       int64  `json:"relSkuId"`
	SkuNick        string `json:"skuNick"`
	Specification  string `json:"specification"`
	SkuSalePrice   int64  `json:"skuSalePrice"`
	SkuMarketPrice int64  `json:"skuMarketPrice"`
	SkuStock       int64  `json:"skuStock"`
	// Specs are the SKU's specifications (skuProps; catalog.go).
	Specs []SkuSpec `json:"-"`
}

// Item is an item with its SKUs (the APIs answer the SKUs under their own
// field names).
type Item struct {
	ItemBase
	SKUs []*SKU `json:"-"`
	// Published is what open.item.new/edit set beyond ItemBase (catalog.go).
	Published Published `json:"-"`
}

// Order is one order as open.order.detail answers it.
type Order struct {
	BaseInfo      OrderBaseInfo     `json:"orderBaseInfo"`
	ItemInfo      OrderItemInfo     `json:"orderItemInfo"`
	RefundList    []OrderRefund     `json:"orderRefundList"`
	LogisticsInfo []OrderLogistics  `json:"orderLogisticsInfo"`
	Note          OrderNote         `json:"orderNote"`
	Address       OrderAddress      `json:"orderAddress"`
	DeliveryInfo  OrderDeliveryInfo `json:"orderDeliveryInfo"`
}

// OrderBaseInfo is an order's status, times, money and parties.
type OrderBaseInfo struct {
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

// OrderItemInfo is the goods of an order (one SKU).
type OrderItemInfo struct {
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

// OrderRefund is an after-sale record as its order lists it.
type OrderRefund struct {
	RefundID          int64 `json:"refundId"`
	RefundStatus      int   `json:"refundStatus"`
	HandlingWay       int   `json:"handlingWay"`
	SpecialRefundType int   `json:"specialRefundType"`
}

// OrderLogistics is one parcel of a shipped order.
type OrderLogistics struct {
	LogisticsID int64  `json:"logisticsId"`
	ExpressNo   string `json:"expressNo"`
	ExpressCode int64  `json:"expressCode"`
}

// OrderNote's shape is UNCONFIRMED: a list of seller notes.
type OrderNote struct {
	OrderNoteInfo []OrderNoteInfo `json:"orderNoteInfo"`
}

// OrderNoteInfo is one seller note.
type OrderNoteInfo struct {
	Note       string `json:"note"`
	Flag       int    `json:"flag"`
	CreateTime int64  `json:"createTime"`
}

// OrderAddress is the buyer's address: encrypted and desensitised.
type OrderAddress struct {
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

// OrderDeliveryInfo summarises an order's shipping.
type OrderDeliveryInfo struct {
	DeliveryStatus     int  `json:"deliveryStatus"` // UNCONFIRMED: 0 not shipped, 1 shipped
	DeliveryNum        int  `json:"deliveryNum"`
	PackageNum         int  `json:"packageNum"`
	SplitDeliveryOrder bool `json:"splitDeliveryOrder"`
}

// Refund is one after-sale record as open.seller.order.refund.detail answers it.
type Refund struct {
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
	LogisticsInfo       RefundLogistics `json:"logisticsInfo"`
}

// RefundLogistics is the buyer's return parcel.
type RefundLogistics struct {
	ExpressNo   string `json:"expressNo"`
	ExpressCode int64  `json:"expressCode"`
}

// Logistics records: express (freight) templates, seller addresses and
// electronic waybills. Their shapes are UNCONFIRMED (the schemas were not
// readable); field names follow the platform's naming habits.

type ExpressTemplate struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	SendProvinceName string `json:"sendProvinceName"`
	SendProvinceCode int    `json:"sendProvinceCode"`
	SendCityName     string `json:"sendCityName"`
	SendCityCode     int    `json:"sendCityCode"`
	SendDistrictName string `json:"sendDistrictName"`
	SendDistrictCode int    `json:"sendDistrictCode"`
	CalType          int    `json:"calType"` // 1 by piece, 2 by weight
	FreeShipping     bool   `json:"freeShipping"`
	Used             bool   `json:"used"` // some item uses it (searchUsed filter)
	CreateTime       int64  `json:"createTime"`
	UpdateTime       int64  `json:"updateTime"`
}

// Seller address types of open.address.seller.list [TS].
const (
	AddressReturn   = 2
	AddressShipFrom = 3
)

// SellerAddress is one ship-from or return address.
type SellerAddress struct {
	AddressID      int64  `json:"addressId"`
	AddressType    int    `json:"addressType"`
	DefaultAddress bool   `json:"defaultAddress"`
	Consignee      string `json:"consignee"`
	Mobile         string `json:"mobile"`
	ProvinceCode   int    `json:"provinceCode"`
	Province       string `json:"province"`
	CityCode       int    `json:"cityCode"`
	City           string `json:"city"`
	DistrictCode   int    `json:"districtCode"`
	District       string `json:"district"`
	TownCode       int    `json:"townCode"`
	Town           string `json:"town"`
	Address        string `json:"address"`
}

// Waybill is an electronic waybill issued by open.express.ebill.get.
type Waybill struct {
	Code, Company, TradeOrderCode string
	Cancelled                     bool
	// RequestID is the requestId it was issued for; Key and PrintData are
	// its print data, answered again to that requestId.
	RequestID, Key, PrintData string
}

// TestUser is one of the app's test users: a Kuaishou account that
// may authorize the app before it is online. Each main account owns one
// seeded shop; a sub-account (子账号, MainID set) works on its main
// account's shop with its own open_id.
type TestUser struct {
	ID       int    `json:"id"`
	OpenID   string `json:"openId"`
	Name     string `json:"name"`
	SellerID int64  `json:"sellerId"` // a sub-account's is its main account's
	ShopName string `json:"shopName"`
	// MainID is the main account of a sub-account (0: a main account).
	MainID int `json:"mainId,omitempty"`
	// StaffID is a sub-account's staffId (0: a main account).
	StaffID int64 `json:"staffId,omitempty"`
}

// Main is the id of the account's main account: its own for a main account.
func (u TestUser) Main() int {
	if u.MainID != 0 {
		return u.MainID
	}
	return u.ID
}

// StaffInfo is open.user.seller.get's staffInfo: present only when a
// sub-account's token calls it [API].
type StaffInfo struct {
	StaffID int64  `json:"staffId"`
	OpenID  string `json:"openId"`
	Name    string `json:"name"`
}

// Staff is the sub-account's staffInfo (nil for a main account).
func (u TestUser) Staff() *StaffInfo {
	if u.MainID == 0 {
		return nil
	}
	return &StaffInfo{StaffID: u.StaffID, OpenID: u.OpenID, Name: u.Name}
}

// NextLogisticsID issues the id of a new parcel record.
func (sh *Shop) NextLogisticsID() int64 {
	sh.nextID++
	return sh.nextID
}

// NewItemIDs draws the kwaiItemId of a new item and the skuIds of its n SKUs,
// none used by the shop's items yet.
func (sh *Shop) NewItemIDs(n int) (int64, []int64) {
	usedItems, usedSkus := map[int64]bool{}, map[int64]bool{}
	for _, x := range sh.Items {
		usedItems[x.KwaiItemID] = true
		for _, s := range x.SKUs {
			usedSkus[s.SkuID] = true
		}
	}
	uid := int64(sh.User.ID)
	item := sh.live.uniqueID(usedItems, 20_000_000_000+uid*1_000_000_000, 1_000_000_000)
	skus := make([]int64, n)
	for i := range skus {
		skus[i] = sh.live.uniqueID(usedSkus, 30_000_000_000+uid*1_000_000_000, 1_000_000_000)
	}
	return item, skus
}

// NewWaybillCode draws a waybill code of company (its code letters and 12
// digits) not issued yet.
func (sh *Shop) NewWaybillCode(company string) string {
	var code string
	for code == "" || sh.Waybills[code] != nil {
		code = company + sh.live.digits(12)
	}
	return code
}

// KnownExpressCompany reports whether code (SF, ZTO, ...) is a carrier the
// sandbox knows.
func KnownExpressCompany(code string) bool {
	for _, ex := range expressCodes {
		if ex.prefix == code {
			return true
		}
	}
	return false
}

// ExpressCompanies lists the carriers' codes, comma separated.
func ExpressCompanies() string {
	var b []string
	for _, ex := range expressCodes {
		b = append(b, ex.prefix)
	}
	return strings.Join(b, ", ")
}

// Touch records a change of the item at now (ms; updateTime never moves
// back) and recomputes its price, the lowest SKU price.
func (it *Item) Touch(now int64) {
	it.UpdateTime = max(now, it.UpdateTime)
	it.Price = it.SKUs[0].SkuSalePrice
	for _, s := range it.SKUs {
		it.Price = min(it.Price, s.SkuSalePrice)
	}
}
