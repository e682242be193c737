package catalog

import (
	"slices"
	"strings"
)

// Permission groups (scopes). A merchant grants an app scopes on the
// platform's consent page (authorize?scope=a,b); a call whose access token
// lacks the scope of its API answers result 22. The platform's groups:
//
//	user_base               the account's basic profile (nickname, avatar)
//	user_info               the account's user information
//	merchant_user           the shop and the seller
//	merchant_item           items
//	merchant_order          orders
//	merchant_refund         after-sale requests (refunds)
//	merchant_distribution   distribution (CPS, investment activities)
//	merchant_logistics      logistics: addresses, freight templates, waybills
//	merchant_promotion      promotions: coupons, crowds
//	merchant_cs             customer service
//	merchant_comment        reviews
//	merchant_servicemarket  the app's orders in the service market
//
// scopeNames lists them in this order.
var scopeNames = []string{
	"user_base", "user_info", "merchant_user", "merchant_item", "merchant_order", "merchant_refund",
	"merchant_distribution", "merchant_logistics", "merchant_promotion", "merchant_cs", "merchant_comment",
	"merchant_servicemarket",
}

// scopeRows is the one table from API name prefix to the scope the API
// needs; the longest matching prefix wins (open.seller.order.refund. before
// open.seller.order.). A prefix ends at a name segment ("open.item." does
// not match open.itemx.*). The rows follow the API families of the
// platform's documentation; the groups of open.user. and open.shop. are
// UNCONFIRMED choices. APIs matching no row (supply chain, funds, SMS,
// video, …) have no known scope: the gateway then cannot name a missing
// one, and the sandbox lets an app-level (client_credentials) token call
// them.
var scopeRows = []struct{ prefix, scope string }{
	{"open.user.", "user_info"},
	{"open.user.seller.", "merchant_user"},
	{"open.shop.", "merchant_user"},
	{"open.item.", "merchant_item"},
	{"open.order.", "merchant_order"},
	{"open.seller.order.", "merchant_order"},
	{"open.seller.order.refund.", "merchant_refund"},
	{"open.refund.", "merchant_refund"},
	{"open.distribution.", "merchant_distribution"},
	{"open.logistics.", "merchant_logistics"},
	{"open.express.", "merchant_logistics"},
	{"open.address.", "merchant_logistics"},
	{"open.promotion.", "merchant_promotion"},
	{"open.comment.", "merchant_comment"},
	{"open.subcomment.", "merchant_comment"},
	{"open.service.market.", "merchant_servicemarket"},
}

// Scope returns the permission group an API needs (catalogued or not: the
// table goes by name prefix), or "" when no group is known for it.
func Scope(apiName string) string {
	best, scope := 0, ""
	for _, r := range scopeRows {
		if len(r.prefix) > best && strings.HasPrefix(apiName, r.prefix) {
			best, scope = len(r.prefix), r.scope
		}
	}
	return scope
}

// Scopes returns the platform's permission groups, in the order of the
// list above (a copy).
func Scopes() []string { return slices.Clone(scopeNames) }

// IsScope reports whether s is one of the platform's permission groups.
func IsScope(s string) bool { return slices.Contains(scopeNames, s) }
