package limits_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// Each platform rule on authorization, call limits and test users
// (docs/sandbox.md, The platform's rules), shown the way an SDK sees it.

// limitsView is the answer of GET and POST /sandbox/v1/limits.
type limitsView struct {
	Limits sandbox.Limits `json:"limits"`
	Usage  sandbox.Usage  `json:"usage"`
}

func TestRules_TestUserDailyQuota(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2})
	one, two := c.Authorize(1).AccessToken, c.Authorize(2).AccessToken
	seller := s.TestUsers()[0].SellerID
	for i := range sandbox.DefaultTestUserDailyCalls {
		if i%90 == 89 {
			s.Advance(time.Second) // stay under the 100 QPS of the API
		}
		if r := c.Call(one, "open.user.seller.get", nil); r.Result != 1 {
			t.Fatalf("call %d: %+v", i+1, r)
		}
	}
	r := c.Call(one, "open.user.seller.get", nil)
	want := fmt.Sprintf("Exceed quota limit, KEY [appkey:%s;primaryUserId:%d]", c.AppKey, seller)
	if r.Result != platform.ResultQuotaExceeded || r.ErrorMsg != want {
		t.Fatalf("call 2001: got %d %q, want 1017 %q", r.Result, r.ErrorMsg, want)
	}
	if r := c.Call(one, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("the cap is per user, not per API: %+v", r)
	}
	c.MustCall(two, "open.user.seller.get", nil, nil) // another test user has their own 2000

	var lv limitsView
	c.Admin("GET", "/sandbox/v1/limits", nil, &lv)
	if lv.Usage.TestUserCalls[1] != 2000 || lv.Usage.TestUserCalls[2] != 1 || lv.Usage.AppCallsToday != 2001 {
		t.Fatalf("usage: %+v", lv.Usage)
	}
	// Midnight in Beijing (UTC+8) starts a new day.
	now := s.Now().In(rules.QuotaZone)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, rules.QuotaZone)
	s.Advance(midnight.Sub(now) - time.Millisecond)
	if r := c.Call(one, "open.user.seller.get", nil); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("23:59:59.999: %+v", r)
	}
	s.Advance(time.Millisecond)
	c.MustCall(one, "open.user.seller.get", nil, nil)
}

func TestRules_AppDailyQuotaAndState(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2})
	var lv limitsView
	c.Admin("GET", "/sandbox/v1/limits", nil, &lv)
	if l := lv.Limits; l.TestUserDailyCalls != 2000 || l.AppDailyCallsTest != 100_000 || l.AppDailyCallsOnline != 1_000_000 || l.APIQPS != 100 {
		t.Fatalf("default limits: %+v", l)
	}
	if st := c.Admin("POST", "/sandbox/v1/limits", map[string]any{"appDailyCallsTest": 3, "appDailyCallsOnline": 5, "testUserDailyCalls": 2}, &lv); st != 200 ||
		lv.Limits.AppDailyCallsTest != 3 || lv.Limits.APIQPS != 100 {
		t.Fatalf("set limits: %d %+v", st, lv)
	}
	one, two := c.Authorize(1).AccessToken, c.Authorize(2).AccessToken
	c.MustCall(one, "open.shop.info.get", nil, nil)
	c.MustCall(one, "open.shop.info.get", nil, nil)
	if r := c.Call(one, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || !strings.Contains(r.ErrorMsg, ";primaryUserId:") {
		t.Fatalf("test user cap 2: %+v", r)
	}
	c.MustCall(two, "open.shop.info.get", nil, nil) // app total now 3
	r := c.Call(two, "open.shop.info.get", nil)
	if want := "Exceed quota limit, KEY [appkey:" + c.AppKey + "]"; r.Result != platform.ResultQuotaExceeded || r.ErrorMsg != want {
		t.Fatalf("app quota: got %d %q, want 1017 %q", r.Result, r.ErrorMsg, want)
	}

	// Online: the online quota applies and test users have no own cap.
	var app struct {
		State string `json:"state"`
	}
	if st := c.Admin("POST", "/sandbox/v1/app", map[string]any{"state": "online"}, &app); st != 200 || app.State != sandbox.AppStateOnline {
		t.Fatalf("go online: %d %+v", st, app)
	}
	c.MustCall(one, "open.shop.info.get", nil, nil) // user 1 beyond its test cap
	c.MustCall(one, "open.shop.info.get", nil, nil) // app total 5
	if r := c.Call(two, "open.shop.info.get", nil); r.Result != platform.ResultQuotaExceeded || strings.Contains(r.ErrorMsg, "primaryUserId") {
		t.Fatalf("online app quota: %+v", r)
	}
	if st := c.Admin("POST", "/sandbox/v1/app", map[string]any{"state": "live"}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad state: %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/limits", map[string]any{"apiQpsByMethod": map[string]int{"not a method": 1}}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad limits: %d", st)
	}
	// Zero restores the default; negative lifts the limit.
	c.Admin("POST", "/sandbox/v1/limits", map[string]any{"appDailyCallsOnline": 0, "testUserDailyCalls": -1}, &lv)
	if lv.Limits.AppDailyCallsOnline != sandbox.DefaultAppDailyCallsOnline || lv.Limits.TestUserDailyCalls != -1 || s.Config().Limits.AppDailyCallsTest != 3 {
		t.Fatalf("limits: %+v", lv.Limits)
	}
	c.MustCall(two, "open.shop.info.get", nil, nil)
}

func TestRules_QPS(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 2, Limits: sandbox.Limits{APIQPSByMethod: map[string]int{"open.shop.info.get": 3}}})
	one, two := c.Authorize(1).AccessToken, c.Authorize(2).AccessToken

	t.Run("api_qps", func(t *testing.T) {
		c := c.For(t)
		for range 3 {
			c.MustCall(one, "open.shop.info.get", nil, nil)
		}
		r := c.Call(two, "open.shop.info.get", nil) // per app: every user counts
		want := "Exceed qps limit, KEY [apiId:open.shop.info.get;appkey:" + c.AppKey + "], MAX_QPS [3.0]"
		if r.Result != platform.ResultQPSExceeded || r.ErrorMsg != want {
			t.Fatalf("got %d %q, want 1016 %q", r.Result, r.ErrorMsg, want)
		}
		c.MustCall(one, "open.user.seller.get", nil, nil) // per API
	})
	s.Advance(time.Second)

	t.Run("order_cursor_list_300", func(t *testing.T) {
		c := c.For(t)
		p := map[string]any{"beginTime": s.Now().Add(-time.Hour).UnixMilli(), "endTime": s.Now().UnixMilli(), "pageSize": 1}
		for i := range 300 {
			if r := c.Call(one, "open.order.cursor.list", p); r.Result != 1 {
				t.Fatalf("call %d: %+v", i+1, r)
			}
		}
		r := c.Call(one, "open.order.cursor.list", p)
		if r.Result != platform.ResultQPSExceeded || !strings.HasSuffix(r.ErrorMsg, "MAX_QPS [300.0]") || !strings.Contains(r.ErrorMsg, "apiId:open.order.cursor.list;") {
			t.Fatalf("call 301: %+v", r)
		}
		s.Advance(time.Second) // the next second has a fresh window
		c.MustCall(one, "open.order.cursor.list", p, nil)
	})

	t.Run("per_user_row", func(t *testing.T) { // open.item.shelf.status.update: 100 per app, 50 per user [RL]
		c := c.For(t)
		id := c.SeededShop(1).Items[0].KwaiItemID
		p := map[string]any{"kwaiItemId": id, "shelfStatus": 1}
		for range 50 {
			c.MustCall(one, "open.item.shelf.status.update", p, nil)
		}
		r := c.Call(one, "open.item.shelf.status.update", p)
		want := fmt.Sprintf("Exceed qps limit, KEY [apiId:open.item.shelf.status.update;appkey:%s;primaryUserId:%d], MAX_QPS [50.0]", c.AppKey, s.TestUsers()[0].SellerID)
		if r.Result != platform.ResultQPSExceeded || r.ErrorMsg != want {
			t.Fatalf("got %d %q, want 1016 %q", r.Result, r.ErrorMsg, want)
		}
		p2 := map[string]any{"kwaiItemId": c.SeededShop(2).Items[0].KwaiItemID, "shelfStatus": 1}
		c.MustCall(two, "open.item.shelf.status.update", p2, nil) // the other user has their own 50
	})
}
