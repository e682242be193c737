package commerce

import (
	"context"
	"errors"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// open.refund.reject.reason's data is the list of reasons in the catalog's
// shape (MerchantRefundRejectReasonView); numbers and flags may come as
// strings.
func TestShop_ListRefundRejectReasons(t *testing.T) {
	t.Parallel()
	const refundID = int64(9007199254740993) // 2^53+1: exact only as an integer
	const data = `[{"code": 1, "desc": "买家未退货", "requiredRejectDesc": false, "requiredRejectImage": true, "tip": "请上传物流凭证", "more": {}},
  {"code": "5", "desc": "其他", "requiredRejectDesc": "true"}]`
	c := &recordingCaller{answer: func(string, map[string]any) string { return data }}
	s := Shop{Caller: c, OpenID: "shop"}
	reasons, raw, err := s.ListRefundRejectReasons(context.Background(), refundID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.methods) != 1 || c.methods[0] != apiRefundRejectReasons || num(t, c.params[0]["refundId"]) != refundID {
		t.Fatalf("calls %v %v", c.methods, c.params)
	}
	want := []RejectReason{
		{Code: 1, Description: "买家未退货", RequiresImage: true, Tip: "请上传物流凭证"},
		{Code: 5, Description: "其他", RequiresDescription: true},
	}
	if len(reasons) != len(want) || reasons[0] != want[0] || reasons[1] != want[1] {
		t.Fatalf("reasons %+v, want %+v", reasons, want)
	}
	if raw != compactJSON(t, data) {
		t.Fatalf("raw %s", raw)
	}

	// No reasons at all is an empty list.
	c.answer = func(string, map[string]any) string { return `null` }
	if reasons, _, err := s.ListRefundRejectReasons(context.Background(), 1); err != nil || len(reasons) != 0 {
		t.Fatalf("null data: %v %v", reasons, err)
	}
	// Any other shape, or a code RejectRefund could not send back, is an
	// upstream failure with the platform's request id.
	for _, bad := range []string{
		`{"reasons": [{"code": 1, "desc": "x"}]}`,
		`[1, 2]`,
		`[{"code": 2147483648, "desc": "x"}]`,
		`[{"code": -2147483649, "desc": "x"}]`,
	} {
		c.answer = func(string, map[string]any) string { return bad }
		_, _, err := s.ListRefundRejectReasons(context.Background(), 1)
		var pe *platform.Error
		if !errors.As(err, &pe) || pe.Class != platform.ClassUpstream || pe.RequestID != "req-1" || pe.Method != apiRefundRejectReasons {
			t.Errorf("data %s: err = %v, want an upstream *platform.Error", bad, err)
		}
	}
}
