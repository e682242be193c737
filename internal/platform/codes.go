package platform

import "strings"

// Class groups platform result codes by what the caller can do about them.
type Class int

// Error classes. The zero value is ClassUnknown.
const (
	ClassUnknown         Class = iota
	ClassAuth                  // our credentials or the shop's token were rejected (expired, invalid)
	ClassRevoked               // the merchant's authorization is gone (revoked, expired test user)
	ClassPermission            // the token lacks the scope or the object is not the merchant's
	ClassSignature             // the request signature or timestamp was rejected
	ClassRateLimit             // a QPS limit; retry after a pause
	ClassQuota                 // a daily quota; retry tomorrow
	ClassInvalidArgument       // the business parameters were rejected
	ClassBusiness              // a business rule refused the operation
	ClassUpstream              // the platform failed (5xx, malformed body, transport, server_error)
	ClassSubscription          // the merchant's service-market order is missing or ended (100200101 at the OAuth endpoints)
)

var classNames = [...]string{"unknown", "auth", "revoked", "permission", "signature", "rate_limit", "quota", "invalid_argument", "business", "upstream", "subscription"}

func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// Retryable reports whether a call failing with this class may be sent again
// unchanged after a pause: a rate limit or a failure of the platform itself.
func (c Class) Retryable() bool { return c == ClassRateLimit || c == ClassUpstream }

// Result codes the gateway and the sandbox name explicitly. Entries marked
// UNCONFIRMED are not confirmed by the platform's documentation: they are
// choices recorded here, in one place, so they can be corrected together.
const (
	ResultSuccess          int64 = 1
	ResultBusinessRule     int64 = 11 // delivery blocked by shipping rules [K1009]
	ResultOperationReject  int64 = 21 // "order operation reject" [K1006]
	ResultNoPermission     int64 = 22 // UNCONFIRMED [PHP]: token lacks the API's scope
	ResultRevoked          int64 = 24 // AUTHORIZATION_REVOKED: the merchant revoked it, or a test user's authorization ended (UNCONFIRMED, one knowledge-base article: or the service-market order ended; see ClassSubscription)
	ResultAppKeyInvalid    int64 = 25 // UNCONFIRMED [PHP]: unknown or disabled appkey
	ResultSignInvalid      int64 = 27 // UNCONFIRMED [PHP]: sign or timestamp check failed
	ResultTokenInvalid     int64 = 28 // UNCONFIRMED [PHP]: access_token unknown or expired
	ResultQPSExceeded      int64 = 1016
	ResultQuotaExceeded    int64 = 1017   // [K1008]
	ResultParamInvalid     int64 = 804001 // UNCONFIRMED family 8040xx: malformed parameter
	ResultAPINotFound      int64 = 804004 // UNCONFIRMED: unknown method name
	ResultNotEmulated      int64 = 804005 // sandbox only: catalogued API without an emulation
	ResultThrottled        int64 = 802001 // UNCONFIRMED family 8020xx: throttling protection
	ResultRefundNotFound   int64 = 300011 // after-sale record not found [RC]
	ResultRefundUpdated    int64 = 300014 // after-sale record changed since refundVersion: refresh and retry [RC]
	ResultRefundState      int64 = 300002 // UNCONFIRMED (3000xx family [RC], number chosen by the sandbox): after-sale status does not allow the operation
	ResultRefundRange      int64 = 300019 // after-sale time range over limit [RC]
	ResultOAuthInvalidReq  int64 = 100200100
	ResultOAuthBadClient   int64 = 100200101 // unauthorized_client: the app is unknown, in a wrong status, or (third-party apps) the merchant has not ordered the service or the order ended (服务未订购)
	ResultOAuthDenied      int64 = 100200102
	ResultOAuthRespType    int64 = 100200103
	ResultOAuthGrantType   int64 = 100200104
	ResultOAuthInvalidCode int64 = 100200105
	ResultOAuthScope       int64 = 100200106
	ResultOAuthOpenID      int64 = 100200107
	ResultOAuthServerError int64 = 100200500
)

// Error messages with a fixed meaning (error_msg values).
const (
	MsgRefreshDiscarded = "refreshToken.discarded"
	MsgRefreshRevoked   = "refreshToken.revokedAuthorization"
	MsgRevoked          = "AUTHORIZATION_REVOKED"
)

type codeInfo struct {
	class Class
	name  string // short description, as the platform's error_msg would say it
}

// codes is the one table of platform result codes.
//
// Subscriptions: the OAuth endpoints answer 100200101 (unauthorized_client)
// for a bad app, an app in a wrong status, and, for a third-party app, a
// merchant without a service-market order (服务未订购). 100200101 is
// ClassSubscription: a refresh or code exchange answering it moves the shop
// to its own status (internal/token), distinct from revoked and from a
// failed refresh. A message naming the app's id or secret is the app's own
// credentials (Classify: ClassAuth), and so is 100200101 at the
// client_credentials grant, where no merchant takes part (internal/platform/oauth).
// In API calls an ended order is said (by one knowledge-base article only)
// to answer 24 AUTHORIZATION_REVOKED; 24 stays ClassRevoked, and the token
// manager asks the refresh endpoint, whose answers are documented, which of
// the two it is (docs/oauth.md).
var codes = map[int64]codeInfo{
	ResultBusinessRule:     {ClassBusiness, "operation blocked by platform rules"},
	ResultOperationReject:  {ClassPermission, "order operation reject"},
	ResultNoPermission:     {ClassPermission, "no permission: token has no scope for this api"},
	ResultRevoked:          {ClassRevoked, MsgRevoked},
	ResultAppKeyInvalid:    {ClassAuth, "appkey invalid"},
	ResultSignInvalid:      {ClassSignature, "sign check failed"},
	ResultTokenInvalid:     {ClassAuth, "access_token invalid or expired"},
	ResultQPSExceeded:      {ClassRateLimit, "Exceed qps limit"},
	ResultQuotaExceeded:    {ClassQuota, "exceed quota limit"},
	ResultParamInvalid:     {ClassInvalidArgument, "param invalid"},
	ResultAPINotFound:      {ClassInvalidArgument, "api not exist"},
	ResultNotEmulated:      {ClassInvalidArgument, "api not emulated by the sandbox"},
	ResultThrottled:        {ClassRateLimit, "throttled"},
	3401:                   {ClassBusiness, "item may only be edited in the shop app"},
	ResultRefundNotFound:   {ClassBusiness, "refund not found"},
	ResultRefundUpdated:    {ClassBusiness, "refund updated, refresh and retry"},
	ResultRefundState:      {ClassBusiness, "refund status does not allow this operation"},
	ResultRefundRange:      {ClassInvalidArgument, "time range over limit"},
	ResultOAuthInvalidReq:  {ClassInvalidArgument, "invalid_request"},
	ResultOAuthBadClient:   {ClassSubscription, "unauthorized_client"},
	ResultOAuthDenied:      {ClassAuth, "access_denied"},
	ResultOAuthRespType:    {ClassInvalidArgument, "unsupported_response_type"},
	ResultOAuthGrantType:   {ClassInvalidArgument, "unsupported_grant_type"},
	ResultOAuthInvalidCode: {ClassAuth, "invalid_grant"},
	ResultOAuthScope:       {ClassPermission, "invalid_scope"},
	ResultOAuthOpenID:      {ClassAuth, "invalid_openid"},
	ResultOAuthServerError: {ClassUpstream, "server_error"},
}

// OAuthErrorName is the OAuth "error" field for a 1002001xx result.
func OAuthErrorName(result int64) string {
	if result/1000 == 100200 {
		return codes[result].name
	}
	return ""
}

// CodeMessage is the default error_msg for a result code.
func CodeMessage(result int64) string {
	if c, ok := codes[result]; ok {
		return c.name
	}
	return "error"
}

// Classify returns the class of a result code. msg refines codes whose class
// depends on the sub-reason: access_denied with refreshToken.revokedAuthorization
// means the merchant revoked the authorization, and unauthorized_client whose
// message names the app's id or secret is the app's credentials (ClassAuth),
// not a merchant's service-market order.
func Classify(result int64, msg string) Class {
	if result == ResultSuccess {
		return ClassUnknown
	}
	if result == ResultOAuthDenied && strings.Contains(msg, MsgRefreshRevoked) {
		return ClassRevoked
	}
	if result == ResultOAuthBadClient && namesAppCredentials(msg) {
		return ClassAuth // the app's id or secret, not a merchant's order
	}
	if c, ok := codes[result]; ok {
		return c.class
	}
	switch {
	case result >= 300000 && result < 301000: // after-sale business errors [RC]
		return ClassBusiness
	case result/100 == 8020:
		return ClassRateLimit
	case result/100 == 8040:
		return ClassInvalidArgument
	case result >= 15 && result <= 17: // UNCONFIRMED [PHP]
		return ClassRateLimit
	case result == 26: // UNCONFIRMED [PHP]
		return ClassAuth
	}
	return ClassBusiness
}

// namesAppCredentials reports whether an unauthorized_client message is about
// the app's own credentials (app_id not found, app_secret invalid, …).
func namesAppCredentials(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"app_id", "appid", "app_key", "appkey", "app_secret", "appsecret", "secret"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}
