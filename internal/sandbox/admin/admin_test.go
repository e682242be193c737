package admin_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

func TestAdmin(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{TestUsers: 4, PushURL: "http://127.0.0.1:1/push"})
	var users struct {
		TestUsers []sandbox.TestUser `json:"testUsers"`
	}
	c.Admin("GET", "/sandbox/v1/test-users", nil, &users)
	if len(users.TestUsers) != 4 || users.TestUsers[0].ID != 1 || len(users.TestUsers[0].OpenID) != 32 {
		t.Fatalf("users: %+v", users)
	}
	var u sandbox.TestUser
	if st := c.Admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "第五个"}, &u); st != http.StatusCreated || u.ID != 5 || u.Name != "第五个" {
		t.Fatalf("5th: %d %+v", st, u)
	}
	var e struct {
		Error string `json:"error"`
	}
	if st := c.Admin("POST", "/sandbox/v1/test-users", map[string]any{"name": "第六个"}, &e); st != http.StatusConflict || e.Error == "" {
		t.Fatalf("6th: %d %+v", st, e)
	}
	// The new user authorizes and has a shop.
	c.MustCall(c.Authorize(5).AccessToken, "open.shop.info.get", nil, nil)

	var app map[string]any
	c.Admin("GET", "/sandbox/v1/app", nil, &app)
	if app["appKey"] != c.AppKey || app["state"] != "test" {
		t.Fatalf("app: %v", app)
	}
	for k, v := range app {
		if sv, ok := v.(string); ok && (sv == c.AppSecret || sv == c.SignSecret) {
			t.Fatalf("app view leaks a secret in %s", k)
		}
	}
	var clk struct {
		Now int64 `json:"now"`
	}
	before := s.Now()
	if st := c.Admin("POST", "/sandbox/v1/clock:advance", map[string]any{"seconds": 3600}, &clk); st != 200 || clk.Now != before.Add(time.Hour).UnixMilli() {
		t.Fatalf("advance: %d %+v", st, clk)
	}
	if st := c.Admin("POST", "/sandbox/v1/clock:advance", map[string]any{"minutes": 1}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad advance body: %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1, "scopes": []string{"merchant_funds"}}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad scope code: %d", st)
	}
	if st := c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 6}, nil); st != http.StatusNotFound {
		t.Fatalf("unknown user code: %d", st)
	}
	c.Call("x", "open.shop.info.get", nil)
	var cnt sandbox.Counters
	c.Admin("GET", "/sandbox/v1/counters", nil, &cnt)
	if cnt.Calls["open.shop.info.get"] != 2 || cnt.CodeExchanges != 1 {
		t.Fatalf("counters: %+v", cnt)
	}
	if st := c.Admin("GET", "/sandbox/v1/nope", nil, nil); st != http.StatusNotFound {
		t.Fatalf("unknown admin path: %d", st)
	}
	if !slices.Contains(s.Config().Scopes, "merchant_order") {
		t.Fatal("default scopes")
	}
}
