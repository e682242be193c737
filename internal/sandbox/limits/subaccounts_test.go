package limits_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// A main account and its sub-accounts are one test user to the daily cap:
// the 2 001st call across them is refused, naming the main account.
func TestRules_SubAccountsShareTheTestUserCap(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2, Limits: sandbox.Limits{APIQPS: -1}}) // about the daily cap, not QPS
	main := s.TestUsers()[0]
	var sub sandbox.TestUser
	if st := c.Admin("POST", "/sandbox/v1/sub-accounts", map[string]any{"mainId": 1, "name": "仓管"}, &sub); st != http.StatusCreated {
		t.Fatalf("sub-account: HTTP %d", st)
	}
	if sub.MainID != 1 || sub.ID == 1 || sub.OpenID == main.OpenID || len(sub.OpenID) != 32 || sub.SellerID != main.SellerID || sub.StaffID == 0 || sub.Name != "仓管" {
		t.Fatalf("sub-account: %+v (main %+v)", sub, main)
	}
	mainTok := c.Authorize(1)
	subTok := c.Authorize(sub.ID)
	if subTok.OpenID != sub.OpenID {
		t.Fatalf("the sub-account authorizes with its own open_id: %+v", subTok)
	}

	// open.user.seller.get names the main account; the sub-account's token
	// adds staffInfo.
	var seller struct {
		OpenID    string           `json:"openId"`
		SellerID  int64            `json:"sellerId"`
		StaffInfo *json.RawMessage `json:"staffInfo"`
	}
	c.MustCall(mainTok.AccessToken, "open.user.seller.get", nil, &seller)
	if seller.OpenID != main.OpenID || seller.StaffInfo != nil {
		t.Fatalf("main account's seller: %+v", seller)
	}
	c.MustCall(subTok.AccessToken, "open.user.seller.get", nil, &seller)
	var staff sandbox.StaffInfo
	if seller.StaffInfo != nil {
		_ = json.Unmarshal(*seller.StaffInfo, &staff)
	}
	if seller.OpenID != main.OpenID || seller.SellerID != main.SellerID || staff != (sandbox.StaffInfo{StaffID: sub.StaffID, OpenID: sub.OpenID, Name: sub.Name}) {
		t.Fatalf("sub-account's seller: %+v %+v", seller, staff)
	}
	// The sub-account works on the main account's shop.
	var shopInfo, subShop json.RawMessage
	c.MustCall(mainTok.AccessToken, "open.shop.info.get", nil, &shopInfo)
	c.MustCall(subTok.AccessToken, "open.shop.info.get", nil, &subShop)
	if string(shopInfo) != string(subShop) {
		t.Fatalf("shops differ: %s / %s", shopInfo, subShop)
	}

	// 4 calls so far; 1000 more by each makes 2004 > 2000: the calls are
	// refused from the 2 001st on, whoever makes it.
	calls := 4
	for i := 0; calls < sandbox.DefaultTestUserDailyCalls; i++ {
		tok := mainTok.AccessToken
		if i%2 == 1 {
			tok = subTok.AccessToken
		}
		if r := c.Call(tok, "open.user.seller.get", nil); r.Result != 1 {
			t.Fatalf("call %d: %+v", calls+1, r)
		}
		calls++
	}
	want := fmt.Sprintf("Exceed quota limit, KEY [appkey:%s;primaryUserId:%d]", c.AppKey, main.SellerID)
	for _, tok := range []string{subTok.AccessToken, mainTok.AccessToken} {
		if r := c.Call(tok, "open.user.seller.get", nil); r.Result != platform.ResultQuotaExceeded || r.ErrorMsg != want {
			t.Fatalf("call 2001: %d %q, want 1017 %q", r.Result, r.ErrorMsg, want)
		}
	}
	// Another main account has its own cap; usage is by main account.
	c.MustCall(c.Authorize(2).AccessToken, "open.user.seller.get", nil, nil)
	if u := s.Usage(); u.TestUserCalls[1] != 2000 || u.TestUserCalls[2] != 1 || len(u.TestUserCalls) != 2 {
		t.Fatalf("usage: %+v", u.TestUserCalls)
	}
}

func TestSubAccounts_Refusals(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	sub, err := s.AddSubAccount(1, "")
	if err != nil || sub.Name == "" {
		t.Fatalf("sub-account: %+v %v", sub, err)
	}
	for body, want := range map[string]int{
		`{"mainId":0}`:                       http.StatusBadRequest,
		`{"mainId":9}`:                       http.StatusNotFound,
		fmt.Sprintf(`{"mainId":%d}`, sub.ID): http.StatusNotFound, // a sub-account has no sub-accounts
		`{"mainId":1,"name":"` + strings.Repeat("名", 65) + `"}`: http.StatusBadRequest,
		`{"mainId":1,"staff":true}`:                             http.StatusBadRequest,
	} {
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		if st := c.Admin("POST", "/sandbox/v1/sub-accounts", v, nil); st != want {
			t.Errorf("%s: HTTP %d, want %d", body, st, want)
		}
	}
	for i := 1; i < sandbox.MaxSubAccounts; i++ {
		if _, err := s.AddSubAccount(1, ""); err != nil {
			t.Fatalf("sub-account %d: %v", i+1, err)
		}
	}
	if st := c.Admin("POST", "/sandbox/v1/sub-accounts", map[string]any{"mainId": 1}, nil); st != http.StatusConflict {
		t.Fatalf("sub-account %d: HTTP %d", sandbox.MaxSubAccounts+1, st)
	}
	// Sub-accounts do not take the places of test users.
	for i := 2; i <= 5; i++ {
		if _, err := s.AddTestUser(""); err != nil {
			t.Fatalf("test user %d beside sub-accounts: %v", i, err)
		}
	}
}
