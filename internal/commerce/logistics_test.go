package commerce

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// open.express.ebill.get answers one entry per request in the catalog's
// shape (GetEbillOrderResponse: requestId, baseResponse, data[] of
// GetEbillOrderDTO); CreateWaybills maps each back to its package by the
// requestId it sent, whatever the order.
func TestShop_CreateWaybills(t *testing.T) {
	t.Parallel()
	pkg := WaybillPackage{
		ExpressCompanyCode: "SF", OrderID: 9007199254740993,
		Sender: WaybillContact{Name: "s", Mobile: "1"}, Receiver: WaybillContact{Name: "#n#", Mobile: "#m#"},
		Items: []WaybillItem{{Title: "T恤", Quantity: 1}},
	}
	pkgs := []WaybillPackage{pkg, pkg, pkg}
	pkgs[1].ExpressCompanyCode = "ZTO"
	// Package 1 fails, package 0 gets a parent and a child number, package 2
	// is not answered; the answers come in reverse order, and one names a
	// request that was never sent.
	answers := []string{
		`{"requestId": "rq-1", "baseResponse": {"result": 2, "message": "网点不可达", "success": false}, "data": []}`,
		`{"requestId": "rq-0", "baseResponse": {"result": "1", "message": "success", "success": true}, "data": [
  {"key": "k1", "waybillCode": "SF1", "printData": "p1", "signature": "s1", "version": "1", "extra": 1},
  {"key": "k2", "waybillCode": "SF2", "parentWaybillCode": "SF1", "waybillPackageCode": "P2", "printData": "p2", "signature": "s2", "version": "1"}]}`,
		`{"requestId": "rq-9", "baseResponse": {"result": 1, "message": "", "success": true}, "data": []}`,
	}
	c := &recordingCaller{answer: func(string, map[string]any) string {
		return fmt.Sprintf("[%s, %s, %s]", answers[0], answers[1], answers[2])
	}}
	s := Shop{Caller: c, OpenID: "shop-open-id"}
	results, reqID, err := s.CreateWaybills(context.Background(), "rq", pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if reqID != "req-1" || len(c.methods) != 1 || c.methods[0] != apiEbillGet {
		t.Fatalf("request id %q, calls %v", reqID, c.methods)
	}
	sent, _ := c.params[0]["getEbillOrderRequest"].([]any)
	if len(sent) != 3 {
		t.Fatalf("sent %v", c.params[0])
	}
	for i, r := range sent {
		m := r.(map[string]any)
		if m["requestId"] != fmt.Sprintf("rq-%d", i) || m["tradeOrderCode"] != "9007199254740993" || m["merchantCode"] != "shop-open-id" ||
			m["expressCompanyCode"] != pkgs[i].ExpressCompanyCode {
			t.Fatalf("request %d: %v", i, m)
		}
	}
	want := []WaybillResult{
		{Success: true, Message: "success", Raw: compactJSON(t, answers[1]), Waybills: []Waybill{
			{Code: "SF1", PrintData: "p1", Signature: "s1", Key: "k1", Version: "1"},
			{Code: "SF2", ParentCode: "SF1", PackageCode: "P2", PrintData: "p2", Signature: "s2", Key: "k2", Version: "1"},
		}},
		{Success: false, Message: "网点不可达", Raw: compactJSON(t, answers[0])},
		{Message: "the platform returned no result for this package"},
	}
	if !reflect.DeepEqual(results, want) {
		t.Fatalf("results\n%+v\nwant\n%+v", results, want)
	}

	// Without requestIds, the answers are taken in request order.
	c.answer = func(string, map[string]any) string {
		return `[{"baseResponse": {"result": 1, "message": "ok", "success": true}, "data": [{"waybillCode": "A"}]}]`
	}
	results, _, err = s.CreateWaybills(context.Background(), "rq", pkgs[:1])
	if err != nil || len(results) != 1 || !results[0].Success || len(results[0].Waybills) != 1 || results[0].Waybills[0].Code != "A" {
		t.Fatalf("in order: %+v %v", results, err)
	}

	// Any other shape is an upstream failure with the platform's request id.
	for _, bad := range []string{
		`{"results": []}`,
		`[{"waybillCode": "A"}, 1]`,
		`"SF1"`,
	} {
		c.answer = func(string, map[string]any) string { return bad }
		_, _, err := s.CreateWaybills(context.Background(), "rq", pkgs[:1])
		var pe *platform.Error
		if !errors.As(err, &pe) || pe.Class != platform.ClassUpstream || pe.RequestID != "req-1" || pe.Method != apiEbillGet {
			t.Errorf("data %s: err = %v, want an upstream *platform.Error", bad, err)
		}
	}
}
