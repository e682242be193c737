package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Each platform rule on authorization, call limits and test users
// (docs/sandbox.md, The platform's rules), shown the way an SDK sees it.

func TestRules_TestUserDailyQuota(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 2})
	one, two := c.authorize(1).AccessToken, c.authorize(2).AccessToken
	seller := s.TestUsers()[0].SellerID
	for i := range DefaultTestUserDailyCalls {
		if i%90 == 89 {
			s.Advance(time.Second) // stay under the 100 QPS of the API
		}
		if r := c.call(one, "open.user.seller.get", nil); r.Result != 1 {
			t.Fatalf("call %d: %+v", i+1, r)
		}
	}
	r := c.call(one, "open.user.seller.get", nil)
	want := fmt.Sprintf("Exceed quota limit, KEY [appkey:%s;primaryUserId:%d]", c.appKey, seller)
	if r.Result != platform.ResultQuotaExceeded || r.ErrorMsg != want {
		t.Fatalf("call 2001: got %d %q, want 1017 %q", r.Result, r.ErrorMsg, want)
	}
	if r := c.call(one, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("the cap is per user, not per API: %+v", r)
	}
	c.mustCall(two, "open.user.seller.get", nil, nil) // another test user has their own 2000

	var lv limitsView
	c.admin("GET", "/sandbox/v1/limits", nil, &lv)
	if lv.Usage.TestUserCalls[1] != 2000 || lv.Usage.TestUserCalls[2] != 1 || lv.Usage.AppCallsToday != 2001 {
		t.Fatalf("usage: %+v", lv.Usage)
	}
	// Midnight in Beijing (UTC+8) starts a new day.
	now := s.Now().In(quotaZone)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, quotaZone)
	s.Advance(midnight.Sub(now) - time.Millisecond)
	if r := c.call(one, "open.user.seller.get", nil); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("23:59:59.999: %+v", r)
	}
	s.Advance(time.Millisecond)
	c.mustCall(one, "open.user.seller.get", nil, nil)
}

func TestRules_AppDailyQuotaAndState(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 2})
	var lv limitsView
	c.admin("GET", "/sandbox/v1/limits", nil, &lv)
	if l := lv.Limits; l.TestUserDailyCalls != 2000 || l.AppDailyCallsTest != 100_000 || l.AppDailyCallsOnline != 1_000_000 || l.APIQPS != 100 {
		t.Fatalf("default limits: %+v", l)
	}
	if st := c.admin("POST", "/sandbox/v1/limits", map[string]any{"appDailyCallsTest": 3, "appDailyCallsOnline": 5, "testUserDailyCalls": 2}, &lv); st != 200 ||
		lv.Limits.AppDailyCallsTest != 3 || lv.Limits.APIQPS != 100 {
		t.Fatalf("set limits: %d %+v", st, lv)
	}
	one, two := c.authorize(1).AccessToken, c.authorize(2).AccessToken
	c.mustCall(one, "open.shop.info.get", nil, nil)
	c.mustCall(one, "open.shop.info.get", nil, nil)
	if r := c.call(one, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || !strings.Contains(r.ErrorMsg, ";primaryUserId:") {
		t.Fatalf("test user cap 2: %+v", r)
	}
	c.mustCall(two, "open.shop.info.get", nil, nil) // app total now 3
	r := c.call(two, "open.shop.info.get", nil)
	if want := "Exceed quota limit, KEY [appkey:" + c.appKey + "]"; r.Result != platform.ResultQuotaExceeded || r.ErrorMsg != want {
		t.Fatalf("app quota: got %d %q, want 1017 %q", r.Result, r.ErrorMsg, want)
	}

	// Online: the online quota applies and test users have no own cap.
	var app appView
	if st := c.admin("POST", "/sandbox/v1/app", map[string]any{"state": "online"}, &app); st != 200 || app.State != AppStateOnline {
		t.Fatalf("go online: %d %+v", st, app)
	}
	c.mustCall(one, "open.shop.info.get", nil, nil) // user 1 beyond its test cap
	c.mustCall(one, "open.shop.info.get", nil, nil) // app total 5
	if r := c.call(two, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || strings.Contains(r.ErrorMsg, "primaryUserId") {
		t.Fatalf("online app quota: %+v", r)
	}
	if st := c.admin("POST", "/sandbox/v1/app", map[string]any{"state": "live"}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad state: %d", st)
	}
	if st := c.admin("POST", "/sandbox/v1/limits", map[string]any{"apiQpsByMethod": map[string]int{"not a method": 1}}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad limits: %d", st)
	}
	// Zero restores the default; negative lifts the limit.
	c.admin("POST", "/sandbox/v1/limits", map[string]any{"appDailyCallsOnline": 0, "testUserDailyCalls": -1}, &lv)
	if lv.Limits.AppDailyCallsOnline != DefaultAppDailyCallsOnline || lv.Limits.TestUserDailyCalls != -1 || s.Config().Limits.AppDailyCallsTest != 3 {
		t.Fatalf("limits: %+v", lv.Limits)
	}
	c.mustCall(two, "open.shop.info.get", nil, nil)
}

func TestRules_QPS(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 2, Limits: Limits{APIQPSByMethod: map[string]int{"open.shop.info.get": 3}}})
	one, two := c.authorize(1).AccessToken, c.authorize(2).AccessToken

	t.Run("api_qps", func(t *testing.T) {
		c := *c
		c.t = t
		for range 3 {
			c.mustCall(one, "open.shop.info.get", nil, nil)
		}
		r := c.call(two, "open.shop.info.get", nil) // per app: every user counts
		want := "Exceed qps limit, KEY [apiId:open.shop.info.get;appkey:" + c.appKey + "], MAX_QPS [3.0]"
		if r.Result != platform.ResultQPSExceeded || r.ErrorMsg != want {
			t.Fatalf("got %d %q, want 1016 %q", r.Result, r.ErrorMsg, want)
		}
		c.mustCall(one, "open.user.seller.get", nil, nil) // per API
	})
	s.Advance(time.Second)

	t.Run("order_cursor_list_300", func(t *testing.T) {
		c := *c
		c.t = t
		p := map[string]any{"beginTime": s.Now().Add(-time.Hour).UnixMilli(), "endTime": s.Now().UnixMilli(), "pageSize": 1}
		for i := range 300 {
			if r := c.call(one, "open.order.cursor.list", p); r.Result != 1 {
				t.Fatalf("call %d: %+v", i+1, r)
			}
		}
		r := c.call(one, "open.order.cursor.list", p)
		if r.Result != platform.ResultQPSExceeded || !strings.HasSuffix(r.ErrorMsg, "MAX_QPS [300.0]") || !strings.Contains(r.ErrorMsg, "apiId:open.order.cursor.list;") {
			t.Fatalf("call 301: %+v", r)
		}
		s.Advance(time.Second) // the next second has a fresh window
		c.mustCall(one, "open.order.cursor.list", p, nil)
	})

	t.Run("per_user_row", func(t *testing.T) { // open.item.shelf.status.update: 100 per app, 50 per user [RL]
		c := *c
		c.t = t
		id := s.shops[1].items[0].KwaiItemID
		p := map[string]any{"kwaiItemId": id, "shelfStatus": 1}
		for range 50 {
			c.mustCall(one, "open.item.shelf.status.update", p, nil)
		}
		r := c.call(one, "open.item.shelf.status.update", p)
		want := fmt.Sprintf("Exceed qps limit, KEY [apiId:open.item.shelf.status.update;appkey:%s;primaryUserId:%d], MAX_QPS [50.0]", c.appKey, s.TestUsers()[0].SellerID)
		if r.Result != platform.ResultQPSExceeded || r.ErrorMsg != want {
			t.Fatalf("got %d %q, want 1016 %q", r.Result, r.ErrorMsg, want)
		}
		p2 := map[string]any{"kwaiItemId": s.shops[2].items[0].KwaiItemID, "shelfStatus": 1}
		c.mustCall(two, "open.item.shelf.status.update", p2, nil) // the other user has their own 50
	})
}

func TestRules_TestUsersAndAuthorizations(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{TestUsers: 5})
	// A sixth test user is refused.
	var e struct {
		Error string `json:"error"`
	}
	if st := c.admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "六"}, &e); st != http.StatusConflict || !strings.Contains(e.Error, "at most 5") {
		t.Fatalf("6th test user: %d %+v", st, e)
	}
	if _, err := s.AddTestUser(""); err != ErrTestUserLimit {
		t.Fatalf("AddTestUser: %v", err)
	}
	// Only test users may authorize a test-state app.
	form := url.Values{"app_id": {c.appKey}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"},
		"scope": {"merchant_order"}, "test_user": {"6"}}
	resp, err := noRedirect(c).PostForm(c.base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Fatal("a non-test user authorized the app")
	}

	// The 10-day cut-off ends authorizations granted in test state only.
	test := c.authorize(1)
	s.SetAppState(AppStateOnline)
	online := c.authorize(2)
	s.Advance(9 * 24 * time.Hour)
	test, online = c.refresh(test.RefreshToken), c.refresh(online.RefreshToken) // fresh 48 h access tokens
	s.Advance(24*time.Hour + time.Minute)
	if r := c.call(test.AccessToken, "open.shop.info.get", nil); r.Result != platform.ResultRevoked || r.ErrorMsg != platform.MsgRevoked {
		t.Fatalf("test-state grant after 10 days: %+v", r)
	}
	if tr := c.refresh(test.RefreshToken); tr.ErrorMsg != platform.MsgRefreshRevoked {
		t.Fatalf("test-state refresh after 10 days: %+v", tr)
	}
	c.mustCall(online.AccessToken, "open.shop.info.get", nil, nil)
	tr := c.refresh(online.RefreshToken)
	if tr.Result != 1 {
		t.Fatalf("online grant refresh after 10 days: %+v", tr)
	}
	c.mustCall(tr.AccessToken, "open.shop.info.get", nil, nil)
}

func TestRules_Scopes(t *testing.T) {
	t.Parallel()
	_, c := setup(t, Config{Scopes: []string{"merchant_user", "merchant_order", "merchant_item"}})
	// The app does not hold merchant_refund: no code, no consent.
	if st := c.admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1, "scopes": []string{"merchant_refund"}}, nil); st != http.StatusBadRequest {
		t.Fatalf("code for a scope the app lacks: %d", st)
	}
	full := c.authorize(1) // every scope the app holds
	if strings.Join(full.Scopes, ",") != "merchant_user,merchant_order,merchant_item" {
		t.Fatalf("granted scopes: %v", full.Scopes)
	}
	r := c.call(full.AccessToken, "open.seller.order.refund.detail", map[string]any{"refundId": 1})
	if r.Result != platform.ResultNoPermission || !strings.Contains(r.ErrorMsg, "token中无scope权限") || !strings.Contains(r.ErrorMsg, "merchant_refund") {
		t.Fatalf("refund API without merchant_refund: %+v", r)
	}
	// The user confirmed only merchant_item on consent.
	itemOnly := c.authorize(1, "merchant_item").AccessToken
	for _, m := range []string{"open.order.cursor.list", "open.seller.order.goods.deliver", "open.shop.info.get", "open.address.seller.list"} {
		if r := c.call(itemOnly, m, nil); r.Result != platform.ResultNoPermission || !strings.HasPrefix(r.ErrorMsg, "token中无scope权限") {
			t.Errorf("%s: %+v", m, r)
		}
	}
	c.mustCall(itemOnly, "open.item.list.get", nil, nil)
}
