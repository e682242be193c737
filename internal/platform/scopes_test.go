package platform

import (
	"context"
	"errors"
	"testing"
)

func TestScopeFor(t *testing.T) {
	t.Parallel()
	for method, want := range map[string]string{
		"open.item.list.get":                     "merchant_item",
		"open.order.cursor.list":                 "merchant_order",
		"open.seller.order.pcursor.list":         "merchant_order",
		"open.seller.order.refund.pcursor.list":  "merchant_refund", // the longer prefix wins
		"open.refund.reject":                     "merchant_refund",
		"open.user.info.get":                     "user_info",
		"open.user.seller.get":                   "merchant_user",
		"open.express.ebill.get":                 "merchant_logistics",
		"open.service.market.order.list":         "merchant_servicemarket",
		"open.funds.center.account.info":         "", // no known group
		"open.itemx.list":                        "", // a prefix is a whole name segment
		"":                                       "",
		"open.distribution.cps.pid.create.batch": "merchant_distribution",
	} {
		if got := ScopeFor(method); got != want {
			t.Errorf("ScopeFor(%q) = %q, want %q", method, got, want)
		}
	}
}

func TestMissingScope(t *testing.T) {
	t.Parallel()
	granted := []string{"merchant_order"}
	for _, tc := range []struct{ method, msg, want string }{
		{"open.item.list.get", "no permission", "merchant_item"},
		{"open.item.list.get", "token中无scope权限: open.item.list.get needs scope merchant_item", "merchant_item"},
		{"open.funds.center.account.info", "needs scope merchant_promotion", "merchant_promotion"}, // the message's word first
		{"open.item.list.get", "needs scope merchant_order", "merchant_item"},                      // a granted group in the message is not the missing one
		{"open.order.detail", "no permission", ""},                                                 // granted: another cause
		{"open.funds.center.account.info", "no permission", ""},
		{"open.item.list.get", "needs Merchant_Item_Extra", "merchant_item"},
	} {
		if got := MissingScope(tc.method, tc.msg, granted); got != tc.want {
			t.Errorf("MissingScope(%q, %q) = %q, want %q", tc.method, tc.msg, got, tc.want)
		}
	}
}

func TestClassify_UnauthorizedClient(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]Class{
		"":                    ClassSubscription,
		"服务未订购":               ClassSubscription,
		"service not ordered": ClassSubscription,
		"app_id not found":    ClassAuth, // the app's credentials, not a merchant's order
		"app_secret invalid":  ClassAuth,
		"AppSecret error":     ClassAuth,
	} {
		if got := Classify(ResultOAuthBadClient, msg); got != want {
			t.Errorf("Classify(100200101, %q) = %s, want %s", msg, got, want)
		}
	}
	if ClassSubscription.Retryable() {
		t.Error("a missing order is not retryable")
	}
	if ClassSubscription.String() != "subscription" {
		t.Errorf("name %q", ClassSubscription.String())
	}
}

// explainer wraps result 22 in its own error.
type explainer struct {
	countingToken
	got *Error
}

type explained struct{ err *Error }

func (e *explained) Error() string { return "explained: " + e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

func (x *explainer) ExplainPermission(_ context.Context, err *Error) error {
	x.got = err
	return &explained{err}
}

func TestClient_PermissionExplainer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body      string
		explained bool
	}{
		{`{"result":22,"error_msg":"no permission"}`, true},
		{`{"result":21,"error_msg":"order operation reject"}`, false}, // permission class, but not a missing scope
		{`{"result":1,"data":{}}`, false},
	} {
		up := newUpstream(t, okJSON(tc.body))
		c := newTestClient(t, up.URL)
		x := &explainer{}
		_, err := c.Do(context.Background(), &Request{Method: "open.item.list.get", Token: x})
		var ex *explained
		if got := errors.As(err, &ex); got != tc.explained {
			t.Fatalf("%s: explained = %v (%v), want %v", tc.body, got, err, tc.explained)
		}
		if tc.explained && (x.got == nil || x.got.Method != "open.item.list.get" || !IsClass(err, ClassPermission)) {
			t.Fatalf("%s: explainer saw %+v; the platform error must stay reachable: %v", tc.body, x.got, err)
		}
	}
}
