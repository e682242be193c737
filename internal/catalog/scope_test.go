package catalog

import (
	"strings"
	"testing"
)

func TestScope(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"open.item.list.get":                     "merchant_item",
		"open.order.cursor.list":                 "merchant_order",
		"open.seller.order.pcursor.list":         "merchant_order",
		"open.seller.order.refund.pcursor.list":  "merchant_refund", // the longer prefix wins
		"open.refund.reject":                     "merchant_refund",
		"open.user.info.get":                     "user_info",
		"open.user.fans.check":                   "user_info",
		"open.user.seller.get":                   "merchant_user",
		"open.shop.info.get":                     "merchant_user",
		"open.address.seller.list":               "merchant_logistics",
		"open.express.ebill.get":                 "merchant_logistics",
		"open.logistics.express.template.list":   "merchant_logistics",
		"open.service.market.order.list":         "merchant_servicemarket",
		"open.distribution.cps.pid.create.batch": "merchant_distribution",
		"open.promotion.coupon.create":           "merchant_promotion",
		"open.subcomment.list.get":               "merchant_comment",
		"open.funds.center.account.info":         "", // no known group
		"open.sms.send":                          "",
		"open.itemx.list":                        "", // a prefix is a whole name segment
		"open.item":                              "",
		"":                                       "",
	} {
		if got := Scope(name); got != want {
			t.Errorf("Scope(%q) = %q, want %q", name, got, want)
		}
	}
	for _, r := range scopeRows {
		if !IsScope(r.scope) || !strings.HasSuffix(r.prefix, ".") {
			t.Errorf("row %q → %q: not a permission group, or not a whole segment", r.prefix, r.scope)
		}
	}
	// Every scope but the unmapped ones (user_base, merchant_cs: no API of
	// the catalog names them) belongs to some catalogued API.
	used := map[string]int{}
	for _, a := range All() {
		used[Scope(a.Name)]++
	}
	for _, s := range Scopes() {
		if used[s] == 0 && s != "user_base" && s != "merchant_cs" {
			t.Errorf("no catalogued API needs %s", s)
		}
	}
	if used["merchant_distribution"] != 82 || used["merchant_refund"] != 11 {
		t.Errorf("APIs per scope: %v", used)
	}
	if len(Scopes()) != 12 || !IsScope("merchant_servicemarket") || IsScope("merchant") || IsScope("") {
		t.Errorf("Scopes() = %v", Scopes())
	}
	s := Scopes()
	s[0] = "changed"
	if Scopes()[0] != "user_base" {
		t.Error("Scopes returns shared storage")
	}
}
