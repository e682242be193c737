// Package rules is the one table of the sandbox's choices on points the
// platform's public sources leave open, do not confirm (UNCONFIRMED) or
// contradict (CONFLICT), beside the platform facts the sandbox follows.
// docs/sandbox.md summarises them; every other sandbox package reads these
// values, so correcting a choice here changes the whole sandbox. Facts a
// source confirms carry a short tag in brackets naming the platform document
// or SDK they come from; docs/architecture.md (The sandbox) lists the tags.
package rules

import (
	"errors"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// ErrInvalidConfig is wrapped by every refused setting: the sandbox's
// Config, the limits, an injected fault, the pusher's settings and the app
// state.
var ErrInvalidConfig = errors.New("sandbox: invalid config")

// Lifetimes and windows.
const (
	// DefaultTimestampWindow is the allowed |sandbox now - timestamp|. No
	// source states the platform's skew limit; 10 minutes is
	// the usual value of Chinese open-platform gateways (Taobao TOP uses it)
	// and is wide enough for unsynchronised laptops yet still rejects replays
	// of old captured requests.
	DefaultTimestampWindow = 10 * time.Minute

	// DefaultRefreshGrace is how long a rotated refresh token is still
	// accepted. [AUTH] says "within 5 minutes" in prose and "immediately" in
	// its table; the sandbox defaults to the prose (a gateway
	// whose two replicas refresh in parallel must not lose the authorization)
	// and lets tests choose NoRefreshGrace to see the strict behaviour.
	// Within the grace the old refresh token answers the SAME pair its first
	// use produced (idempotent replay, counted as ReplayedRefreshes), so a
	// parallel refresher ends up with the same tokens as the winner.
	DefaultRefreshGrace = 5 * time.Minute

	// NoRefreshGrace (any negative RefreshGrace) discards a rotated refresh
	// token immediately: every second use answers refreshToken.discarded.
	NoRefreshGrace time.Duration = -1

	// DefaultTestAuthorizationTTL: a test user's authorization is cancelled
	// automatically 10 days after it was granted; API calls
	// then answer 24 AUTHORIZATION_REVOKED and refreshes
	// refreshToken.revokedAuthorization. Negative disables the expiry.
	DefaultTestAuthorizationTTL = 10 * 24 * time.Hour

	CodeLifetime          = 2 * time.Minute        // [AUTH] single use
	AccessTokenLifetime   = 172800 * time.Second   // 48 h [AUTH]
	RefreshTokenLifetime  = 180 * 24 * time.Hour   // 15552000 s [AUTH] [TS]
	MaxTestUsers          = 5                      // per app
	MaxLookback           = 90 * 24 * time.Hour    // list APIs: beginTime within the last 90 days [TS] [GO1]
	OrderWindowMax        = 7 * 24 * time.Hour     // open.order.cursor.list [TS]
	OrderPageSizeMax      = 50                     // [TS] schema (GO1 says 100: CONFLICT)
	OrderPageSizeDefault  = 50                     // pageSize absent or 0
	RefundWindowMax       = 24 * time.Hour         // open.seller.order.refund.pcursor.list [TS] [GO1]
	RefundPageSizeMax     = 100                    // [TS] [GO1]
	RefundPageSizeDefault = 20                     // pageSize absent or 0
	ItemPageSizeMax       = 100                    // open.item.list.get [TS]
	ItemPageSizeDefault   = 10                     // pageSize absent or 0
	NoteMaxRunes          = 200                    // open.seller.order.note.add [TS]
	CursorEnd             = "nomore"               // end-of-list cursor [TS] [GO1]
	MaxRequestBody        = 10 << 20               // bytes; multipart uploads included
	APIVersion            = "1"                    // the only version [API]
	TokenTypeBearer       = "bearer"               // [TS] [GO2]
	RequestIDBytes        = 16                     // requestId = 32 hex chars (format unknown)
	OpenIDSalt            = "kwaishop-sandbox/v1/" // open_id derivation salt
)

// Choices about the signed-call check.
//
// Order of the checks (package gateway), each answering HTTP 200 with the
// JSON envelope: an injected fault, if any (package faults) → appkey (25) →
// method param == path (804001) → signMethod (27) → timestamp (27) → sign
// (27) → access_token known and unexpired (28) → authorization not revoked
// (24) → limits (1017 daily quotas, 1016 QPS; see below) → scope of the API
// family (22, catalog.Scope) → version (804001) → param is a JSON object
// (804001) → API known (804004) → the API's own checks (the schema-shaped
// ones: the catalog's, 804001). Both GET and POST are accepted
// on every API (the documented verb is not enforced: the sources disagree on
// it); an uppercase MD5 signature is accepted (sign.Verify).
const (
	// DefaultSignMethod applies when signMethod is absent: the official Java
	// helper treats signMethod as optional and signs without it, so the
	// sandbox then verifies an MD5 signature over the string without it.
	DefaultSignMethod = "MD5"
)

// Result codes chosen for each failure. All come from the one table in
// internal/platform/codes.go.
const (
	CodeAppKey       = platform.ResultAppKeyInvalid   // missing or unknown appkey
	CodeMethod       = platform.ResultParamInvalid    // method missing or != path
	CodeSignMethod   = platform.ResultSignInvalid     // signMethod neither MD5 nor HMAC_SHA256
	CodeTimestamp    = platform.ResultSignInvalid     // timestamp missing, not integer ms, outside window
	CodeSign         = platform.ResultSignInvalid     // sign missing or wrong
	CodeToken        = platform.ResultTokenInvalid    // access_token missing, unknown or expired
	CodeRevoked      = platform.ResultRevoked         // authorization revoked or test authorization expired
	CodeScope        = platform.ResultNoPermission    // token lacks the API family's scope; app token on a shop API
	CodeParam        = platform.ResultParamInvalid    // param not a JSON object; business params invalid; version != 1
	CodeUnknownAPI   = platform.ResultAPINotFound     // neither catalogued nor emulated
	CodeNotEmulated  = platform.ResultNotEmulated     // catalogued, no emulation
	CodeOrderReject  = platform.ResultOperationReject // order unknown or of another shop [K1006] (existence is not leaked)
	CodeOrderState   = platform.ResultBusinessRule    // ship/close in a wrong order status [K1009]
	CodeItemNotFound = platform.ResultParamInvalid    // kwaiItemId/skuId not in this shop (no confirmed code)
	CodeRefundAbsent = platform.ResultRefundNotFound  // refundId not in this shop [RC] 300011
)

// Permission groups (scopes) [AUTH], with the consent page's wording: the
// groups of catalog.Scopes, in its order.
var KnownScopes = []struct{ Name, Desc string }{
	{"user_base", "获取你的基本信息（昵称、头像）"},
	{"user_info", "获取你的用户信息"},
	{"merchant_user", "店铺与商家信息"},
	{"merchant_item", "商品信息"},
	{"merchant_order", "订单信息"},
	{"merchant_refund", "售后信息"},
	{"merchant_distribution", "分销信息"},
	{"merchant_logistics", "物流信息"},
	{"merchant_promotion", "营销信息"},
	{"merchant_cs", "客服信息"},
	{"merchant_comment", "评价信息"},
	{"merchant_servicemarket", "服务市场订购信息"},
}

// DefaultAppScopes are the permission groups the sandbox app holds when
// Config.Scopes is empty: all confirmed groups.
func DefaultAppScopes() []string {
	out := make([]string, len(KnownScopes))
	for i, s := range KnownScopes {
		out[i] = s.Name
	}
	return out
}

func IsKnownScope(s string) bool {
	for _, k := range KnownScopes {
		if k.Name == s {
			return true
		}
	}
	return false
}

// The scope each API needs is the one table's (catalog.Scope; the longest
// name prefix wins): a token needs that scope, and an app-level
// (client_credentials) token may call only APIs that need none.

// Order statuses [GO1 constant.go] [JUSER] and the OrderViewStatus filter of
// open.order.cursor.list [TS].
const (
	OrderUnpaid    = 10 // 待付款
	OrderPaid      = 30 // 已付款 (待发货)
	OrderShipped   = 40 // 已发货
	OrderReceived  = 50 // 已签收
	OrderSucceeded = 70 // 交易成功
	OrderClosed    = 80 // 交易关闭/失败
)

var OrderViewStatus = map[int64]int{ // 1 = all
	2: OrderUnpaid, 3: OrderPaid, 4: OrderShipped, 5: OrderReceived, 6: OrderSucceeded, 7: OrderClosed,
}

// OrderStatusNames name the order statuses in error messages.
var OrderStatusNames = map[int]string{
	OrderUnpaid: "待付款", OrderPaid: "已付款", OrderShipped: "已发货",
	OrderReceived: "已签收", OrderSucceeded: "交易成功", OrderClosed: "交易关闭",
}

// Refund statuses: the values both conflicting enums share.
const (
	RefundRequested     = 10 // 买家已申请，等待卖家同意
	RefundArbitration   = 20 // 协商纠纷，等待平台处理
	RefundAwaitReturn   = 30 // 卖家已同意，等待买家退货
	RefundReturned      = 40 // 买家已退货，等待卖家确认收货
	RefundAwaitExecute  = 50 // 卖家已同意，等待系统执行退款
	RefundSucceeded     = 60 // 退款成功
	RefundClosed        = 70 // 退款关闭
	RefundTypeWaiting   = 8  // pcursor.list type: waiting (not 60/70)
	RefundTypeAll       = 9  // pcursor.list type: all
	HandlingReturnGoods = 1  // 退货退款
	HandlingRefundOnly  = 10 // 仅退款
)

// RefundStatusNames name the refund statuses in error messages.
var RefundStatusNames = map[int]string{
	RefundRequested: "买家已申请", RefundArbitration: "等待平台处理", RefundAwaitReturn: "等待买家退货",
	RefundReturned: "等待卖家确认收货", RefundAwaitExecute: "等待系统退款", RefundSucceeded: "退款成功", RefundClosed: "退款关闭",
}

// RefundWaiting reports whether a refund in status is still open (neither
// refunded nor closed).
func RefundWaiting(status int) bool { return status != RefundSucceeded && status != RefundClosed }

// App state [FLOW]. A test-state app may be authorized only by its
// test users, each limited to TestUserDailyCalls a day, and the app to
// AppDailyCallsTest; an online app has AppDailyCallsOnline and no per-test-user
// cap. The sandbox only has test users' shops, so in both states the consent
// page offers (and only accepts) the test users. Choice: the 10-day
// test-authorization cut-off applies to authorizations granted while the app
// is in test state (an authorization keeps the expiry it was granted with).
const (
	AppStateTest   = "test"
	AppStateOnline = "online"
)

// Several apps, app types, the service market, console codes and
// sub-accounts (docs/sandbox.md, Several apps and the service market).
//
// Each app is a world of its own: its credentials, sign method, message
// key, test users (their shops are generated from the app's key, so
// open_ids differ per app), codes, tokens, limits and pushes. The API
// gateway picks the app by appkey, the OAuth pages and token endpoints by
// app_id; a token of one app is unknown to another (28), as a code is
// (100200105). Choice: open_ids per app (the platform's are per developer
// account, which the sandbox does not model).
//
// A self-use app (自用型) authorizes its test users through the consent
// page or a console code. A third-party app (服务商) needs a live
// service-market order of the merchant for every authorization, whatever
// the source of the code (UNCONFIRMED: whether the platform exempts
// third-party apps in test state): without one the token endpoints answer
// CodeNotOrdered. The order is checked at the token endpoints (code
// exchange and refresh), not on the consent page, so a gateway sees the
// answer where it classifies it; an order belongs to the main account and
// covers its sub-accounts. While an order has ended, API calls with a
// token that has not expired answer CodeOrderEndedAPI (the gateway's code
// table then asks the refresh endpoint, docs/oauth.md), no messages are
// pushed, and renewing the order makes the same tokens work again (an
// ended order revokes nothing).
const (
	AppTypeSelfUse    = "self_use"    // 自用型
	AppTypeThirdParty = "third_party" // 服务商 (ISV)

	// MaxApps bounds the apps of one sandbox.
	MaxApps = 16
	// DefaultServicePeriod is an order's length when none is given, on
	// the sandbox clock; a renewal adds it to the order's end (or to now,
	// when it has ended). MaxServicePeriod bounds one order or renewal.
	DefaultServicePeriod = 30 * 24 * time.Hour
	MaxServicePeriod     = 3 * 365 * 24 * time.Hour

	// CodeNotOrdered answers the token endpoints for a third-party app's
	// merchant without a live order (服务未订购) [AUTH]. Its messages never
	// name the app's credentials: the gateway reads such a 100200101 as the
	// app's own configuration (internal/platform/codes.go).
	CodeNotOrdered  = platform.ResultOAuthBadClient
	MsgNotOrdered   = "服务未订购"
	MsgOrderExpired = "服务已到期，请续费后使用"
	// CodeOrderEndedAPI answers an API call while the merchant's order has
	// ended (one knowledge-base article; platform.ResultRevoked's comment).
	CodeOrderEndedAPI = platform.ResultRevoked
	MsgOrderEndedAPI  = "服务已到期，授权不可用"

	// MaxSubAccounts bounds one main account's sub-accounts (子账号).
	// Sub-accounts do not count against MaxTestUsers: the test user is the
	// main account. Each authorizes with its own open_id and works on the
	// main account's shop; the test-user cap counts the main account and
	// all its sub-accounts as one user (primaryUserId is the main
	// account's sellerId, which sub-accounts share [API open.user.seller.get]).
	// open.user.seller.get with a sub-account's token names the main
	// account (openId, sellerId) and adds staffInfo {staffId, openId, name}
	// [API]; the token endpoints' answers have no such field.
	MaxSubAccounts = 20
)

// The callback rule: an app with a registered callback URL accepts on the
// consent page only a redirect_uri of the same origin (scheme, host and
// port; UNCONFIRMED: the platform's exact matching rule), and the service
// market's "use service" redirects to the callback itself; without one any
// absolute http(s) redirect_uri is accepted and "use service" is refused.

// NeedsServiceOrder reports whether an app's authorizations need a live
// service-market order of the merchant.
func NeedsServiceOrder(appType string) bool { return appType == AppTypeThirdParty }

// ConsoleCodes reports whether the developer console issues codes ("refresh
// code / copy code") for an app's test users: self-use apps, and any app in
// test state.
func ConsoleCodes(appType, state string) bool {
	return appType == AppTypeSelfUse || state == AppStateTest
}

// Default limits (the one table: internal/platform/limits.go).
const (
	DefaultTestUserDailyCalls  = platform.TestUserDailyCalls // per test user per day
	DefaultAppDailyCallsTest   = platform.DailyCallsTest     // app total per day before launch [FLOW]
	DefaultAppDailyCallsOnline = platform.DailyCallsOnline   // app total per day after launch, initial tier [FLOW]
	DefaultAPIQPS              = platform.DefaultAPIQPS      // per app per API [FLOW] [RL]; per-API rows: platform.APIQPS
)

// Limit choices. Days are calendar days in Beijing time (UTC+8) on the
// sandbox clock (the platform's reset hour is not documented; midnight
// China time is the natural one). QPS windows are whole seconds of the
// sandbox clock (a fixed window: with a frozen clock every call falls in
// the same second, which makes QPS limits testable). A call counts against
// the limits once its signature and access token have passed; calls refused
// by a limit do not count. Check order: app daily (1017) → test user daily
// (1017) → API QPS (1016) → user API QPS (1016), before the scope check.
// Error texts follow [K1008]; the per-user QPS text is the API QPS text
// with ";primaryUserId:<sellerId>" added (UNCONFIRMED), and primaryUserId is
// the test user's sellerId. The per-user-per-API daily quota of [K1008]
// (numbers unpublished) is not emulated.
var QuotaZone = time.FixedZone("UTC+8", 8*3600)

const (
	MsgAppQuota  = "Exceed quota limit, KEY [appkey:%s]"
	MsgUserQuota = "Exceed quota limit, KEY [appkey:%s;primaryUserId:%d]"
	MsgAPIQPS    = "Exceed qps limit, KEY [apiId:%s;appkey:%s], MAX_QPS [%.1f]"
	MsgUserQPS   = "Exceed qps limit, KEY [apiId:%s;appkey:%s;primaryUserId:%d], MAX_QPS [%.1f]"
)

// MsgDecryptQuota refuses a decrypt past the shop's daily allowance
// (UNCONFIRMED wording, the quota's result code 1017).
const MsgDecryptQuota = "Exceed decrypt quota limit, KEY [appkey:%s;primaryUserId:%d], %d entries a day"

// Message push (docs/sandbox.md, Messages).
const (
	// PushAckTimeout: success is HTTP 200 + {"result":1} within 3000 ms [MSG].
	PushAckTimeout = 3 * time.Second
	// DefaultHeartbeatInterval is the real-time period of {"test":true}
	// heartbeats [MSG] (period not documented; one a minute). Heartbeats are
	// encrypted like every message (UNCONFIRMED: [DEMO] and [JUSER]
	// decrypt every body before looking at "test"). Setting a push URL sends
	// one at once, as saving the URL in the console does [MSG].
	DefaultHeartbeatInterval = time.Minute
	// PushParallel bounds concurrent deliveries.
	PushParallel = 8
	// MaxPushes bounds the push log; the oldest finished messages go first.
	MaxPushes = 10_000
)

// PushRetries are the delays between attempts after a failure: 5 retries at
// 5, 10, 20, 30 and 60 minutes [MSG] [K4002], on the sandbox clock. Each
// delay counts from the previous attempt's scheduled time, so the retries of
// a message created at t are due at t+5m, t+15m, t+35m, t+65m and t+125m
// whenever the clock is advanced; after the 5th failed retry the message is
// "failed". Choice: a failing heartbeat does not pause pushes (the platform
// pauses unhealthy URLs [K4001]; the threshold is not documented).
var PushRetries = []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 60 * time.Minute}

// Push statuses.
const (
	PushPending   = "pending"
	PushDelivered = "delivered"
	PushFailed    = "failed"
	PushDropped   = "dropped"
)

// Event names [MSG] [GO1]. The item events are the sandbox's own
// names: the platform has item messages but no source names them.
// Messages go only to shops with a live authorization holding the event's
// scope [K4001] (order → merchant_order, aftersales → merchant_refund,
// item → merchant_item). Choice: the sandbox pushes for test-state apps too
// (the platform pushes only to online apps), or it could not be tested.
const (
	EventOrderAdd        = "kwaishop_order_addOrder"
	EventOrderPaid       = "kwaishop_order_paySuccess"
	EventOrderDelivering = "kwaishop_order_delivering"
	EventOrderDelivered  = "kwaishop_order_deliverySuccess"
	EventOrderSuccess    = "kwaishop_order_orderSuccess"
	EventOrderFail       = "kwaishop_order_orderFail"
	EventOrderAddress    = "kwaishop_order_addressChange"
	EventRefundAdd       = "kwaishop_aftersales_addRefund"
	EventRefundUpdate    = "kwaishop_aftersales_updateRefund"
	EventItemAdd         = "kwaishop_item_addItem"
	EventItemUpdate      = "kwaishop_item_updateItem"
	EventItemStock       = "kwaishop_item_stockChange"
	EventItemPrice       = "kwaishop_item_priceChange"
	EventItemShelf       = "kwaishop_item_shelfStatusChange"
)

// EventScope is the permission group a message family needs [K4001].
func EventScope(event string) string {
	switch {
	case strings.HasPrefix(event, "kwaishop_order_"):
		return "merchant_order"
	case strings.HasPrefix(event, "kwaishop_aftersales_"):
		return "merchant_refund"
	}
	return "merchant_item"
}

// updateRefund eventType values (UNCONFIRMED: [GO1] names the field, no
// source lists its values).
const (
	RefundEventAgreeRefund   = "SELLER_AGREE_REFUND"
	RefundEventAgreeReturn   = "SELLER_AGREE_RETURN"
	RefundEventReject        = "SELLER_REJECT_REFUND"
	RefundEventBuyerReturned = "BUYER_RETURN_GOODS"
	RefundEventConfirmed     = "SELLER_CONFIRM_RECEIPT"
)

// Refund state machine (the sandbox's choice; statuses are the
// values both conflicting enums share):
//
//	open.seller.order.refund.approve               10, 20 or 40 → 60 (the refund executes at once)
//	open.seller.order.refund.returngoods.approve   10 (handlingWay 1) → 30
//	admin refunds:return (the buyer ships back)     30 → 40
//	open.seller.order.refund.confirm.receipt       40 (handlingWay 1) → 60
//	open.refund.reject                             10 or 40 → 20 (the buyer asks the platform to arbitrate)
//
// Any other status answers 300002 (UNCONFIRMED code, codes.go); a
// refundVersion that is not the record's updateTime answers 300014 [RC].
// Every change sets updateTime to the sandbox now and pushes
// kwaishop_aftersales_updateRefund.
var (
	RefundApproveFrom = []int{RefundRequested, RefundArbitration, RefundReturned}
	RefundRejectFrom  = []int{RefundRequested, RefundReturned}
)

// RefundRejectReasons answer open.refund.reject.reason (UNCONFIRMED codes,
// texts, required evidence and tips; api/emulated answers them in the
// catalog's shape, and open.refund.reject refuses a rejection without the
// description or image its reason requires).
type RejectReason struct {
	Code                        int
	Desc                        string
	RequiresDesc, RequiresImage bool
	Tip                         string
}

var RefundRejectReasons = []RejectReason{
	{Code: 1, Desc: "买家未退货"},
	{Code: 2, Desc: "退回商品影响二次销售", RequiresImage: true, Tip: "请上传商品影响二次销售的凭证图片"},
	{Code: 3, Desc: "商品已发出，请拒收后申请"},
	{Code: 4, Desc: "与买家协商一致不退款"},
	{Code: 5, Desc: "其他", RequiresDesc: true},
}

// Other API choices.
const (
	CodeRefundState   = platform.ResultRefundState   // refund status does not allow the operation
	CodeRefundVersion = platform.ResultRefundUpdated // refundVersion != updateTime
	CodeWaybill       = platform.ResultParamInvalid  // unknown or cancelled waybill (no confirmed code)
	DecryptBatchMax   = 100                          // open.order.decrypt.batch [TS]
	EbillBatchMax     = 10                           // open.express.ebill.get requests per call (UNCONFIRMED)
	TemplatePageMax   = 100                          // open.logistics.express.template.list limit (UNCONFIRMED)
	ItemTitleMax      = 60                           // open.item.new/edit title characters (UNCONFIRMED)
	ItemSKUsMax       = 100                          // SKUs per item (UNCONFIRMED)
	// SecurityItemOK is the per-entry errorCode of a success of the
	// decrypt, desensitise and search index APIs (the catalog: "1成功，其他失败").
	SecurityItemOK = 1
	// DecryptItemFailed is their per-entry errorCode of a refused entry: a
	// ciphertext that is not the order's, a bad type (UNCONFIRMED number).
	DecryptItemFailed = 2
	// DefaultDecryptDailyEntries is a shop's daily decrypt allowance in
	// entries (UNCONFIRMED: the platform sets one per app and shop without
	// publishing it); sandbox.Config.DecryptDailyEntries changes it.
	DefaultDecryptDailyEntries = 10000
	// SearchPlainMaxRunes caps a search index plainText (UNCONFIRMED).
	SearchPlainMaxRunes = 256
)

// Fault kinds (POST /sandbox/v1/faults).
const (
	FaultResult    = "result"    // answer HTTP 200 with the given result code and error_msg
	FaultHTTP5xx   = "http5xx"   // answer an HTTP 5xx (default 503) with a plain-text body
	FaultDelay     = "delay"     // wait delayMs, then answer normally
	FaultMalformed = "malformed" // answer HTTP 200 with a truncated JSON body
	FaultDrop      = "drop"      // close the connection without answering
)
