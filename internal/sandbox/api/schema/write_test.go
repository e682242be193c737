package schema

import (
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
)

func TestIsWrite(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"open.item.delete":                                             true,
		"open.address.seller.create":                                   true,
		"open.distribution.distribution.plan.add.promoter":             true,
		"open.distribution.investment.activity.adjustActivityPromoter": true,
		"open.refund.direct.refund":                                    true,
		"open.sms.send":                                                true,
		"open.item.image.upload":                                       true,
		"open.sms.send.result":                                         false,
		"open.distribution.seller.activity.apply.list":                 false,
		"open.distribution.cps.kwaimoney.new.promotion.effect.detail":  false,
		"open.seller.order.refund.detail":                              false,
		"open.item.standard.apply.query":                               false,
		"open.order.cursor.list":                                       false,
		"open.shop.info.get":                                           false,
	} {
		if got := isWrite(name); got != want {
			t.Errorf("isWrite(%s) = %v", name, got)
		}
	}
	n := 0
	for _, a := range catalog.All() {
		if isWrite(a.Name) {
			n++
		}
	}
	if n < 80 || n > 130 {
		t.Errorf("%d of 278 APIs are writes", n)
	}
}

// An app-level call (no shop) reaches only APIs without a scope: none of
// the rule-emulated ones may be among them, for they need a shop.
func TestEmulatedAPIsNeedAScope(t *testing.T) {
	t.Parallel()
	for _, name := range emulated.Names() {
		if catalog.Scope(name) == "" && !emulated.AppLevel[name] {
			t.Errorf("%s is emulated and needs no scope: an app-level token would reach it without a shop", name)
		}
		if _, ok := Lookup(name); !ok {
			t.Errorf("%s is not catalogued", name)
		}
	}
	if _, ok := Lookup("open.nothing.here"); ok {
		t.Error("Lookup answers an uncatalogued name")
	}
}
