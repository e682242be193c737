package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog/catalogtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/schema/schematest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

// unlimited lifts the call limits: a walk makes hundreds of calls at once.
var unlimited = sandbox.Limits{APIQPS: -1, TestUserDailyCalls: -1, AppDailyCallsTest: -1}

// send posts a signed call (a form, or multipart with files) and returns
// the answer's body.
func send(t testing.TB, c *sandboxtest.SDK, tok, method string, params json.RawMessage, files map[string][]byte) []byte {
	t.Helper()
	fields := c.Params(tok, method, string(params))
	u := c.Base + "/" + strings.ReplaceAll(method, ".", "/")
	var resp *http.Response
	var err error
	if len(files) == 0 {
		v := url.Values{}
		for k, x := range fields {
			v.Set(k, x)
		}
		resp, err = c.HC.PostForm(u, v)
	} else {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, x := range fields {
			_ = mw.WriteField(k, x)
		}
		for k, b := range files {
			fw, _ := mw.CreateFormFile(k, k+".bin")
			_, _ = fw.Write(b)
		}
		_ = mw.Close()
		resp, err = c.HC.Post(u, mw.FormDataContentType(), &body)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d %v: %s", method, resp.StatusCode, err, b)
	}
	return b
}

// envelope decodes an answer's result and error_msg.
func envelope(t testing.TB, body []byte) (int64, string) {
	t.Helper()
	var e struct {
		Result   int64  `json:"result"`
		ErrorMsg string `json:"error_msg"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return e.Result, e.ErrorMsg
}

// members is an answer without its requestId.
func members(t testing.TB, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "requestId")
	return m
}

// The acceptance at the sandbox's level: every catalogued API answers
// result 1 to params generated from its request schema (the emulated ones
// with the shop's records), and every answer has the members and types its
// response schema says; the schema-shaped answers carry no member the
// schema does not list.
func TestSchema_EveryCatalogedAPI(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 11, Limits: unlimited})
	tok := c.Authorize(1).AccessToken
	call := func(method string, params json.RawMessage, files map[string][]byte) ([]byte, error) {
		return send(t, c, tok, method, params, files), nil
	}
	plan, err := schematest.Fixture{Shop: s, TestUser: 1, Now: s.Now(), Call: call}.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	emulated := sandbox.EmulatedAPIs()
	all := catalog.All()
	if len(all) != 278 {
		t.Fatalf("%d catalogued APIs", len(all))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, a := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			body := send(t, c, tok, a.Name, plan.Params(a), catalogtest.Files(a))
			if r, msg := envelope(t, body); r != 1 {
				t.Errorf("%s: result %d %q", a.Name, r, msg)
				return
			}
			closed := !slices.Contains(emulated, a.Name)
			err := catalogtest.CheckAnswer(a, body, catalogtest.CheckOptions{Closed: closed})
			switch _, deviates := schematest.Deviations[a.Name]; {
			case deviates && err == nil:
				t.Errorf("%s follows its schema now: take it out of schematest.Deviations", a.Name)
			case !deviates && err != nil:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The checker can fail: a wrong type, a missing member, an extra one.
	a, _ := catalog.Lookup("open.item.image.upload")
	for _, bad := range []string{
		`{"result":1,"data":{"kwaiImgUrl":1,"originImgUrl":"u"}}`,
		`{"result":1,"data":{"kwaiImgUrl":"u"}}`,
		`{"result":1}`,
		`{"result":1,"data":{"kwaiImgUrl":"u","originImgUrl":"u"},"extra":1}`,
		`{"result":804001,"data":{"kwaiImgUrl":"u","originImgUrl":"u"}}`,
	} {
		if catalogtest.CheckAnswer(a, []byte(bad), catalogtest.CheckOptions{}) == nil {
			t.Errorf("CheckAnswer accepted %s", bad)
		}
	}
	if err := catalogtest.CheckAnswer(a, []byte(`{"result":1,"data":{"kwaiImgUrl":"u","originImgUrl":"u","more":1}}`), catalogtest.CheckOptions{Closed: true}); err == nil {
		t.Error("a closed check accepted a member the schema does not list")
	}
}

// A call without a required field answers the parameter error naming it,
// for every API the schema handler answers.
func TestSchema_MissingRequiredField(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 12, Limits: unlimited})
	tok := c.Authorize(1).AccessToken
	emulated := sandbox.EmulatedAPIs()
	n := 0
	for _, a := range catalog.All() {
		field := catalogtest.RequiredParam(a)
		if field == "" || slices.Contains(emulated, a.Name) {
			continue
		}
		n++
		params := catalogtest.Params(a, catalogtest.Options{Omit: []string{field}})
		r, msg := envelope(t, send(t, c, tok, a.Name, params, catalogtest.Files(a)))
		if want := "param." + field + ": required field is missing"; r != platform.ResultParamInvalid || msg != want {
			t.Errorf("%s without %s: %d %q, want %d %q", a.Name, field, r, msg, platform.ResultParamInvalid, want)
		}
	}
	if n < 150 {
		t.Errorf("only %d APIs have a required field", n)
	}
	for _, tc := range []struct {
		method string
		params string
		want   string
	}{
		{"open.item.delete", `{"kwaiItemId":1,"kwaiItemID":2}`, `param.kwaiItemID: unknown field "kwaiItemID"; did you mean "kwaiItemId"?`},
		{"open.item.delete", `{"kwaiItemId":"one"}`, "param.kwaiItemId: want integer, got string"},
		{"open.item.delete", `{"kwaiItemId":1.5}`, "param.kwaiItemId: want integer, got a number with a fraction or an exponent"},
		{"open.item.delete", `{"kwaiItemId":92233720368547758070}`, "param.kwaiItemId: want integer, got one outside the 64-bit range"},
		{"open.sms.batch.send", `{}`, "param."},
	} {
		r, msg := envelope(t, send(t, c, tok, tc.method, json.RawMessage(tc.params), nil))
		if r != platform.ResultParamInvalid || !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s %s: %d %q, want %q", tc.method, tc.params, r, msg, tc.want)
		}
	}
}

// idsOf collects the integers above 2^53 of an answer, exactly.
func idsOf(t testing.TB, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	limit := new(big.Int).Lsh(big.NewInt(1), 53)
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case json.Number:
			if n, ok := new(big.Int).SetString(x.String(), 10); ok && n.Cmp(limit) > 0 {
				out = append(out, x.String())
			}
		}
	}
	walk(v)
	return out
}

// The same call answers the same thing; another shop's answer has other
// ids; ids are above 2^53 and exact.
func TestSchema_SeededByShopAndParams(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 13, TestUsers: 2, Limits: unlimited})
	one, two := c.Authorize(1).AccessToken, c.Authorize(2).AccessToken
	for _, name := range []string{"open.distribution.cps.leader.order.detail", "open.order.buyer.order.list", "open.item.sku.list.get", "open.promotion.coupon.create"} {
		a, _ := catalog.Lookup(name)
		params := catalogtest.Params(a, catalogtest.Options{Optional: true})
		first := send(t, c, one, name, params, nil)
		again := send(t, c, one, name, params, nil)
		other := send(t, c, two, name, params, nil)
		if !jsonEqual(members(t, first), members(t, again)) {
			t.Errorf("%s: two answers to one call:\n%s\n%s", name, first, again)
		}
		ids1, ids2 := idsOf(t, first), idsOf(t, other)
		if len(ids1) == 0 {
			t.Errorf("%s: no integer above 2^53 in %s", name, first)
		}
		for _, id := range ids1 {
			if slices.Contains(ids2, id) {
				t.Errorf("%s: shop 2 sees shop 1's id %s", name, id)
			}
		}
		if err := catalogtest.CheckAnswer(a, other, catalogtest.CheckOptions{Closed: true}); err != nil {
			t.Error(err)
		}
	}
	// Other params, other data.
	a, _ := catalog.Lookup("open.distribution.cps.leader.order.detail")
	x := send(t, c, one, a.Name, catalogtest.Params(a, catalogtest.Options{}), nil)
	y := send(t, c, one, a.Name, catalogtest.Params(a, catalogtest.Options{Optional: true}), nil)
	if jsonEqual(members(t, x), members(t, y)) {
		t.Errorf("other params, same answer: %s", x)
	}
}

func jsonEqual(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// A recursive tree is cut at its second level; arrays have 1–3 entries.
func TestSchema_TreesBounded(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 14, Limits: unlimited})
	tok := c.Authorize(1).AccessToken
	var d struct {
		Data struct {
			Districts []struct {
				Children []struct {
					Children []json.RawMessage `json:"children"`
				} `json:"children"`
			} `json:"districts"`
		} `json:"data"`
	}
	a, _ := catalog.Lookup("open.address.district.list")
	body := send(t, c, tok, a.Name, catalogtest.Params(a, catalogtest.Options{}), nil)
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if n := len(d.Data.Districts); n < 1 || n > 3 {
		t.Fatalf("%d districts: %s", n, body)
	}
	for _, top := range d.Data.Districts {
		if len(top.Children) == 0 {
			t.Errorf("a district without children: %s", body)
		}
		for _, ch := range top.Children {
			if ch.Children == nil || len(ch.Children) != 0 {
				t.Errorf("the second level has children %v: %s", ch.Children, body)
			}
		}
	}
}

// An app-level (client_credentials) token calls the APIs that need no
// scope (answered for the app, without a shop), not the others.
func TestSchema_AppLevel(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 15, Limits: unlimited})
	app := c.OAuth("/oauth2/access_token", false, url.Values{
		"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"client_credentials"},
	}).AccessToken
	shopTok := c.Authorize(1).AccessToken
	a, _ := catalog.Lookup("open.sms.send")
	params := catalogtest.Params(a, catalogtest.Options{})
	body := send(t, c, app, a.Name, params, nil)
	if err := catalogtest.CheckAnswer(a, body, catalogtest.CheckOptions{Closed: true}); err != nil {
		t.Fatal(err)
	}
	if shopBody := send(t, c, shopTok, a.Name, params, nil); jsonEqual(members(t, body), members(t, shopBody)) {
		t.Error("the app and a shop drew the same answer")
	}
	r, msg := envelope(t, send(t, c, app, "open.item.delete", json.RawMessage(`{"kwaiItemId":1}`), nil))
	if r != platform.ResultNoPermission || !strings.Contains(msg, "client_credentials") {
		t.Errorf("app token on a shop API: %d %q", r, msg)
	}
}

// The seller address writes change the records the emulated
// open.address.seller.list reads.
func TestSchema_AddressWritesVisible(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 16, Limits: unlimited})
	tok := c.Authorize(1).AccessToken
	type addr struct {
		AddressID      json.Number `json:"addressId"`
		AddressType    int         `json:"addressType"`
		DefaultAddress bool        `json:"defaultAddress"`
		Consignee      string      `json:"consignee"`
		CityCode       int         `json:"cityCode"`
	}
	list := func() []addr {
		var out []addr
		c.MustCall(tok, "open.address.seller.list", map[string]any{"addressType": 3}, &out)
		return out
	}
	before := list()
	base := map[string]any{"address": "1 Road", "city": "City", "cityCode": 3301, "consignee": "Walker", "district": "D",
		"districtCode": 330101, "mobile": "13800000000", "province": "P", "provinceCode": 33}
	create := map[string]any{"addressType": 3, "defaultAddress": true, "baseInfo": base}
	var created struct {
		AddressID json.Number `json:"addressId"`
	}
	c.MustCall(tok, "open.address.seller.create", create, &created)
	c.MustCall(tok, "open.address.seller.create", create, nil) // the same call: the same address, once
	after := list()
	if len(after) != len(before)+1 {
		t.Fatalf("%d addresses, then %d", len(before), len(after))
	}
	i := slices.IndexFunc(after, func(a addr) bool { return a.AddressID == created.AddressID })
	if i < 0 || !after[i].DefaultAddress || after[i].Consignee != "Walker" || after[i].CityCode != 3301 {
		t.Fatalf("created %s, listed %+v", created.AddressID, after)
	}
	for _, a := range after {
		if a.DefaultAddress && a.AddressID != created.AddressID {
			t.Errorf("two default ship-from addresses: %+v", after)
		}
	}
	base["consignee"] = "Updated"
	c.MustCall(tok, "open.address.seller.update", map[string]any{"addressId": created.AddressID, "defaultAddress": false, "baseInfo": base}, nil)
	if got := list(); got[slices.IndexFunc(got, func(a addr) bool { return a.AddressID == created.AddressID })].Consignee != "Updated" {
		t.Errorf("update not visible: %+v", got)
	}
	c.MustCall(tok, "open.address.seller.delete", map[string]any{"addressId": created.AddressID}, nil)
	if got := list(); len(got) != len(before) || slices.ContainsFunc(got, func(a addr) bool { return a.AddressID == created.AddressID }) {
		t.Errorf("delete not visible: %+v", got)
	}
	r, msg := envelope(t, send(t, c, tok, "open.address.seller.create", json.RawMessage(fmt.Sprintf(`{"addressType":7,"defaultAddress":false,"baseInfo":%s}`, mustJSON(base))), nil))
	if r != platform.ResultParamInvalid || !strings.Contains(msg, "addressType") {
		t.Errorf("addressType 7: %d %q", r, msg)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
