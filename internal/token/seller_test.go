package token

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// sellerPlatform answers open.user.seller.get as the platform documents it:
// data per open_id, or an error the next fails[open_id] times. It takes the
// shop's token from the request's source, as the upstream client does.
type sellerPlatform struct {
	mu    sync.Mutex
	data  map[string]string
	fails map[string]int
	calls map[string]int
	apps  map[string]string // open_id → the app the source named
}

func (p *sellerPlatform) Do(ctx context.Context, r *platform.Request) (*platform.Response, error) {
	if r.Method != apiSeller || r.Token == nil {
		return nil, errors.New("unexpected request")
	}
	if _, err := r.Token.Token(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[r.OpenID]++
	if k, ok := r.Token.(interface{ AppKey() string }); ok {
		p.apps[r.OpenID] = k.AppKey()
	}
	if p.fails[r.OpenID] > 0 {
		p.fails[r.OpenID]--
		return nil, &platform.Error{Method: r.Method, Result: 802000, Msg: "service unavailable", Class: platform.ClassUpstream}
	}
	return &platform.Response{Result: platform.ResultSuccess, Data: json.RawMessage(p.data[r.OpenID])}, nil
}

func (p *sellerPlatform) count(openID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[openID]
}

// A shop's seller id is learnt after it authorizes, from open.user.seller.get
// through the upstream client: a main account and its sub-account (the
// answer with staffInfo) share it and so one test user; an answer without a
// valid sellerId, or a failed call, never fails the authorization, and the
// next refresh tries again.
func TestManagerSeller_LearntAfterAuthorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const seller = `9007199254740993` // above 2^53: kept exact
	p := &sellerPlatform{
		data: map[string]string{
			"boss":  `{"sellerId":` + seller + `,"openId":"boss","name":"店"}`,
			"clerk": `{"sellerId":` + seller + `,"openId":"boss","staffInfo":{"staffId":7,"openId":"clerk","name":"小王"}}`,
			"odd":   `{"sellerId":0,"openId":"odd"}`,
			"flaky": `{"sellerId":"42","openId":"flaky"}`,
		},
		fails: map[string]int{"flaky": 1}, calls: map[string]int{}, apps: map[string]string{},
	}
	m, err := New(Config{Apps: []App{{Key: "ksA", OAuth: e.oauth, TestApp: true}, {Key: "ksB", OAuth: newFakeOAuth()}},
		Store: e.ts, Caller: p, Now: e.oauth.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got := map[string]store.Authorization{}
	for _, id := range []string{"boss", "clerk", "odd", "flaky"} {
		a, err := m.AcceptApp(ctx, "ksA", id, store.SourceConsole)
		if err != nil {
			t.Fatalf("authorization of %s: %v", id, err)
		}
		got[id] = a
	}
	if got["boss"].SellerID != 9007199254740993 || got["boss"].MainOpenID != "" ||
		got["clerk"].SellerID != 9007199254740993 || got["clerk"].MainOpenID != "boss" || got["clerk"].MainAccount() != "boss" {
		t.Fatalf("boss %v, clerk %v", got["boss"], got["clerk"])
	}
	if got["odd"].SellerID != 0 || got["flaky"].SellerID != 0 || got["flaky"].Status != store.StatusActive {
		t.Fatalf("odd %v, flaky %v", got["odd"], got["flaky"])
	}
	if p.apps["clerk"] != "ksA" {
		t.Fatalf("the call went out as app %q", p.apps["clerk"])
	}
	if stored, _, _ := e.ts.Get(ctx, "clerk"); stored.SellerID != 9007199254740993 || stored.MainOpenID != "boss" || stored.AccessToken == "" {
		t.Fatalf("stored clerk %v", stored)
	}

	// Another replica reads the test users from the store.
	m2, err := New(Config{Apps: []App{{Key: "ksA", OAuth: newFakeOAuth()}, {Key: "ksB", OAuth: newFakeOAuth()}}, Store: e.ts})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"boss": "seller." + seller, "clerk": "seller." + seller, "odd": "odd", "unknown": "unknown"} {
		if got := m2.TestUser(ctx, id); got != want {
			t.Errorf("TestUser(%s) = %s, want %s", id, got, want)
		}
	}

	// A failed try is not repeated at once on use; the next refresh tries again.
	if got := m.TestUser(ctx, "flaky"); got != "flaky" {
		t.Fatalf("TestUser(flaky) = %s before its seller is known", got)
	}
	time.Sleep(50 * time.Millisecond)
	if n := p.count("flaky"); n != 1 {
		t.Fatalf("%d calls for flaky within the retry pause", n)
	}
	if _, err := m.Refresh(ctx, "flaky"); err != nil {
		t.Fatal(err)
	}
	// The lookup runs in the background after the refresh, and the manager's
	// view follows the store through its watch: wait for both.
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, _, err := e.ts.Get(ctx, "flaky")
		got := m.TestUser(ctx, "flaky")
		if err == nil && a.SellerID == 42 && got == "seller.42" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flaky after the refresh: stored %v %v, TestUser = %s, want seller.42", a, err, got)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A re-authorization keeps the known seller without asking again.
	before := p.count("clerk")
	again, err := m.AcceptApp(ctx, "ksA", "clerk", store.SourceConsole)
	if err != nil || again.SellerID != 9007199254740993 || again.MainOpenID != "boss" || p.count("clerk") != before {
		t.Fatalf("re-authorization: %v %v, calls %d → %d", again, err, before, p.count("clerk"))
	}
}

// parseSeller takes only a positive, exact sellerId; staffInfo marks a
// sub-account of the merchant the answer's openId names.
func TestParseSeller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		id   int64
		main string
		ok   bool
	}{
		{`{"sellerId":12,"openId":"shop"}`, 12, "", true},
		{`{"sellerId":"12","openId":"boss","staffInfo":{"openId":"shop"}}`, 12, "boss", true},
		{`{"sellerId":12,"openId":"shop","staffInfo":{"openId":"shop"}}`, 12, "", true},
		{`{"sellerId":12,"openId":"not an id","staffInfo":{}}`, 12, "", true},
		{`{"sellerId":12,"staffInfo":null}`, 12, "", true},
		{`{"sellerId":9223372036854775807}`, 9223372036854775807, "", true},
		{`{"sellerId":9223372036854775808}`, 0, "", false},
		{`{"sellerId":0}`, 0, "", false},
		{`{"sellerId":-3}`, 0, "", false},
		{`{"sellerId":1.5}`, 0, "", false},
		{`{"sellerId":"012"}`, 0, "", false},
		{`{"sellerId":1e3}`, 0, "", false},
		{`{}`, 0, "", false},
		{`null`, 0, "", false},
		{`[1]`, 0, "", false},
		{``, 0, "", false},
	} {
		s, err := parseSeller(json.RawMessage(tc.data), "shop")
		if (err == nil) != tc.ok || s.id != tc.id || s.main != tc.main {
			t.Errorf("%s: %+v %v", tc.data, s, err)
		}
	}
}
