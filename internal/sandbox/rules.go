package sandbox

import (
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// This file is the ONE table of sandbox choices on points that
// platform-protocol.md leaves open or marks UNCONFIRMED/CONFLICT. Every other
// file reads these values; correct a choice here and the whole sandbox
// follows. Facts the protocol confirms carry their source tag.

// Lifetimes and windows.
const (
	// DefaultTimestampWindow is the allowed |sandbox now - timestamp|. No
	// source states the platform's skew limit (protocol §8.8); 10 minutes is
	// the usual value of Chinese open-platform gateways (Taobao TOP uses it)
	// and is wide enough for unsynchronised laptops yet still rejects replays
	// of old captured requests.
	DefaultTimestampWindow = 10 * time.Minute

	// DefaultRefreshGrace is how long a rotated refresh token is still
	// accepted. [AUTH] says "within 5 minutes" in prose and "immediately" in
	// its table (protocol §8.5); the sandbox defaults to the prose (a gateway
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
	// automatically 10 days after it was granted [DEVG] [K0006]; API calls
	// then answer 24 AUTHORIZATION_REVOKED and refreshes
	// refreshToken.revokedAuthorization. Negative disables the expiry.
	DefaultTestAuthorizationTTL = 10 * 24 * time.Hour

	codeLifetime         = 2 * time.Minute        // [AUTH] single use
	accessTokenLifetime  = 172800 * time.Second   // 48 h [AUTH]
	refreshTokenLifetime = 180 * 24 * time.Hour   // 15552000 s [AUTH] [TS]
	maxTestUsers         = 5                      // [DEVG] [K1008]
	maxLookback          = 90 * 24 * time.Hour    // list APIs: beginTime within the last 90 days [TS] [GO1]
	orderWindowMax       = 7 * 24 * time.Hour     // open.order.cursor.list [TS]
	orderPageSizeMax     = 50                     // [TS] schema (GO1 says 100: CONFLICT, §8.13)
	orderPageSizeDefault = 50                     // pageSize absent or 0
	refundWindowMax      = 24 * time.Hour         // open.seller.order.refund.pcursor.list [TS] [GO1]
	refundPageSizeMax    = 100                    // [TS] [GO1]
	refundPageSizeDef    = 20                     // pageSize absent or 0
	itemPageSizeMax      = 100                    // open.item.list.get [TS]
	itemPageSizeDefault  = 10                     // pageSize absent or 0
	noteMaxRunes         = 200                    // open.seller.order.note.add [TS]
	cursorEnd            = "nomore"               // end-of-list cursor [TS] [GO1]
	maxRequestBody       = 10 << 20               // bytes; multipart uploads included
	apiVersion           = "1"                    // the only version [API]
	tokenTypeBearer      = "bearer"               // [TS] [GO2]
	appEnvironment       = "test"                 // the sandbox app is never "online": only test users may authorize [K0010]
	requestIDBytes       = 16                     // requestId = 32 hex chars (format unknown, §8.10)
	openIDSalt           = "kwaishop-sandbox/v1/" // open_id derivation salt
)

// Choices about the signed-call check (platform-protocol.md §1, §4).
//
// Order of the checks (Sandbox.dispatch), each answering HTTP 200 with the
// JSON envelope: appkey (25) → method param == path (804001) → signMethod
// (27) → timestamp (27) → sign (27) → access_token known and unexpired (28)
// → authorization not revoked (24) → scope of the API family (22) → version
// (804001) → param is a JSON object (804001) → API known (804004) and
// emulated (804005) → the API's own checks. Both GET and POST are accepted
// on every API (the documented verb is not enforced, protocol §8.12); an
// uppercase MD5 signature is accepted (sign.Verify, protocol §8.9).
const (
	// defaultSignMethod applies when signMethod is absent: the official Java
	// helper treats signMethod as optional and signs without it, so the
	// sandbox then verifies an MD5 signature over the string without it.
	defaultSignMethod = "MD5"
)

// Result codes chosen for each failure. All come from the one table in
// internal/platform/codes.go except sandboxResult* below.
const (
	codeAppKey       = platform.ResultAppKeyInvalid   // missing or unknown appkey
	codeMethod       = platform.ResultParamInvalid    // method missing or != path
	codeSignMethod   = platform.ResultSignInvalid     // signMethod neither MD5 nor HMAC_SHA256
	codeTimestamp    = platform.ResultSignInvalid     // timestamp missing, not integer ms, outside window
	codeSign         = platform.ResultSignInvalid     // sign missing or wrong
	codeToken        = platform.ResultTokenInvalid    // access_token missing, unknown or expired
	codeRevoked      = platform.ResultRevoked         // authorization revoked or test authorization expired
	codeScope        = platform.ResultNoPermission    // token lacks the API family's scope; app token on a shop API
	codeParam        = platform.ResultParamInvalid    // param not a JSON object; business params invalid; version != 1
	codeUnknownAPI   = platform.ResultAPINotFound     // neither catalogued nor emulated
	codeNotEmulated  = platform.ResultNotEmulated     // catalogued, no emulation
	codeOrderReject  = platform.ResultOperationReject // order unknown or of another shop [K1006] (existence is not leaked)
	codeOrderState   = platform.ResultBusinessRule    // ship/close in a wrong order status [K1009]
	codeItemNotFound = platform.ResultParamInvalid    // kwaiItemId/skuId not in this shop (no confirmed code)
	codeRefundAbsent = platform.ResultRefundNotFound  // refundId not in this shop [RC] 300011
)

// Permission groups (scopes) [AUTH] §2.8, with the consent page's wording.
var knownScopes = []struct{ Name, Desc string }{
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

// defaultAppScopes are the permission groups the sandbox app holds when
// Config.Scopes is empty: all confirmed groups.
func defaultAppScopes() []string {
	out := make([]string, len(knownScopes))
	for i, s := range knownScopes {
		out[i] = s.Name
	}
	return out
}

func isKnownScope(s string) bool {
	for _, k := range knownScopes {
		if k.Name == s {
			return true
		}
	}
	return false
}

// scopeRules maps API families to the scopes that allow them: the token needs
// ANY ONE of the listed scopes. First match wins, so "*refund*" comes first
// (open.seller.order.refund.* is a refund API, not an order API). Names that
// match no rule need no scope (none of them is emulated). A client_credentials
// (app-level) token may call only names that match no rule.
var scopeRules = []struct {
	prefix   string // method name prefix ("" = use contains)
	contains string
	scopes   []string
}{
	{contains: "refund", scopes: []string{"merchant_refund"}},
	{prefix: "open.order.", scopes: []string{"merchant_order"}},
	{prefix: "open.seller.order.", scopes: []string{"merchant_order"}},
	{prefix: "open.item.", scopes: []string{"merchant_item"}},
	{prefix: "open.logistics.", scopes: []string{"merchant_logistics"}},
	{prefix: "open.express.", scopes: []string{"merchant_logistics"}},
	{prefix: "open.address.", scopes: []string{"merchant_logistics"}},
	{prefix: "open.shop.", scopes: []string{"merchant_user"}},
	{prefix: "open.user.", scopes: []string{"merchant_user", "user_info", "user_base"}},
	{prefix: "open.distribution.", scopes: []string{"merchant_distribution"}},
	{prefix: "open.promotion.", scopes: []string{"merchant_promotion"}},
	{prefix: "open.comment.", scopes: []string{"merchant_comment"}},
	{prefix: "open.subcomment.", scopes: []string{"merchant_comment"}},
	{prefix: "open.service.market.", scopes: []string{"merchant_servicemarket"}},
}

// requiredScopes returns the scopes (any one suffices) an API needs, or nil.
func requiredScopes(method string) []string {
	for _, r := range scopeRules {
		if r.prefix != "" && strings.HasPrefix(method, r.prefix) {
			return r.scopes
		}
		if r.contains != "" && strings.Contains(method, r.contains) {
			return r.scopes
		}
	}
	return nil
}

// Order statuses [GO1 constant.go] [JUSER] and the orderViewStatus filter of
// open.order.cursor.list [TS].
const (
	orderUnpaid    = 10 // 待付款
	orderPaid      = 30 // 已付款 (待发货)
	orderShipped   = 40 // 已发货
	orderReceived  = 50 // 已签收
	orderSucceeded = 70 // 交易成功
	orderClosed    = 80 // 交易关闭/失败
)

var orderViewStatus = map[int64]int{ // 1 = all
	2: orderUnpaid, 3: orderPaid, 4: orderShipped, 5: orderReceived, 6: orderSucceeded, 7: orderClosed,
}

// Refund statuses: the values both conflicting enums share (§8.14).
const (
	refundRequested     = 10 // 买家已申请，等待卖家同意
	refundArbitration   = 20 // 协商纠纷，等待平台处理
	refundAwaitReturn   = 30 // 卖家已同意，等待买家退货
	refundReturned      = 40 // 买家已退货，等待卖家确认收货
	refundAwaitExecute  = 50 // 卖家已同意，等待系统执行退款
	refundSucceeded     = 60 // 退款成功
	refundClosed        = 70 // 退款关闭
	refundTypeWaiting   = 8  // pcursor.list type: waiting (not 60/70)
	refundTypeAll       = 9  // pcursor.list type: all
	handlingReturnGoods = 1  // 退货退款
	handlingRefundOnly  = 10 // 仅退款
)

func refundWaiting(status int) bool { return status != refundSucceeded && status != refundClosed }
