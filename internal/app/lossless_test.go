package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// These tests hold docs/calls.md over real gRPC and HTTP against a running
// gateway: answers and params keep every digit, every top-level member of
// an answer reaches the caller, catalogued params are checked before the
// platform, and APIs are described.

// Keys of the fake-platform gateway: one for every RPC and shop, one for
// the platform and item RPCs of the authorized shop only.
const (
	llKeyAdmin = "lossless-admin-0123456789"
	llKeyShop  = "lossless-shop-0123456789"
)

// fakePlatform is the sandbox behind a recorder: it counts the API calls by
// path, keeps the param of the form and query calls, and answers the paths
// in intercept itself.
type fakePlatform struct {
	sb        *sandbox.Sandbox
	inner     http.Handler
	intercept map[string]http.HandlerFunc
	mu        sync.Mutex
	calls     map[string]int
	params    map[string][]string
}

func (f *fakePlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/open/") {
		f.inner.ServeHTTP(w, r)
		return
	}
	h := f.intercept[r.URL.Path]
	param := r.URL.Query().Get("param")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if form, err := url.ParseQuery(string(raw)); err == nil && form.Has("param") {
			param = form.Get("param")
		}
	}
	f.mu.Lock()
	f.calls[r.URL.Path]++
	f.params[r.URL.Path] = append(f.params[r.URL.Path], param)
	f.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	f.inner.ServeHTTP(w, r)
}

func (f *fakePlatform) count(api string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls["/"+strings.ReplaceAll(api, ".", "/")]
}

func (f *fakePlatform) lastParam(api string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := f.params["/"+strings.ReplaceAll(api, ".", "/")]
	if len(ps) == 0 {
		return ""
	}
	return ps[len(ps)-1]
}

// startFakePlatformGateway runs a gateway with API keys (llKeyAdmin,
// llKeyShop) in front of a fakePlatform, and authorizes the sandbox's test
// user 1, whose open_id it returns.
func startFakePlatformGateway(t *testing.T, intercept map[string]http.HandlerFunc) (*gateway, *fakePlatform, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Seed: 14})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	f := &fakePlatform{sb: sb, inner: sb.Handler(), intercept: intercept, calls: map[string]int{}, params: map[string][]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	user := sb.TestUsers()[0]
	sc := sb.Config()
	key, err := store.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.AppKey, cfg.AppSecret, cfg.SignSecret = sc.AppKey, secret.New(sc.AppSecret), secret.New(sc.SignSecret)
	cfg.APIBaseURL, cfg.AuthorizeURL, cfg.AppState = srv.URL, srv.URL+"/oauth/authorize", "test"
	mustSet(&cfg, "KWAISHOP_TOKEN_KEYS", key.Encode())
	mustSet(&cfg, "KWAISHOP_API_KEYS", "admin:"+llKeyAdmin+":rpc=*,shop:"+llKeyShop+":rpc=platform:rpc=items:rpc=decrypt:shop="+user.OpenID)
	cfg.Message.ReconcileInterval = 0
	g := startGatewayWith(t, cfg, Options{})
	ctx := bearer(context.Background(), llKeyAdmin)
	az := gatewayv1.NewAuthorizationServiceClient(g.conn)
	st, err := az.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: []string{"merchant_order", "merchant_item", "merchant_user"}})
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.IssueCode(user.ID, []string{"merchant_order", "merchant_item", "merchant_user"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := az.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: code, State: st.GetState()})
	if err != nil {
		t.Fatal(err)
	}
	if done.GetAuthorization().GetOpenId() != user.OpenID {
		t.Fatalf("authorized %q, want %q", done.GetAuthorization().GetOpenId(), user.OpenID)
	}
	return g, f, user.OpenID
}

// restKey sends a REST request with an API key and returns the status and
// the body's text.
func restKey(t *testing.T, g *gateway, method, path, body, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.info.HTTPAddr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// decodeExact decodes JSON keeping numbers as their text.
func decodeExact(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	return out
}

// at walks a decoded JSON value by member names and array indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

const bigInt = "1234567890123456789" // beyond 2^53: a double would make it …800

// bigAnswer is the fake platform's answer of open.widget.lossless.get: the
// integer in data, in a member beside data, and in the envelope's company.
const bigAnswer = `{"result":1,"error_msg":"","requestId":"r-big","code":"0",` +
	`"data":{"id":` + bigInt + `,"list":[` + bigInt + `,-` + bigInt + `],"f":1.50,"s":"x"},` +
	`"bigTop":{"n":` + bigInt + `},"total":` + bigInt + `}`

func bigIntPlatform() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"/open/widget/lossless/get": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, bigAnswer)
		},
	}
}

// An integer beyond 2^53 in params and in an answer arrives exact on both
// transports: params as written, the answer verbatim in body_json, and
// over REST data and members written with the platform's digits.
func TestLossless_BigIntegers(t *testing.T) {
	g, f, openID := startFakePlatformGateway(t, bigIntPlatform())
	const api = "open.widget.lossless.get" // not catalogued: no schema check
	ctx := bearer(context.Background(), llKeyShop)
	c := gatewayv1.NewPlatformServiceClient(g.conn)

	t.Run("grpc", func(t *testing.T) {
		resp, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: api, ParamsJson: `{"id": ` + bigInt + `, "ids":[` + bigInt + `]}`})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.lastParam(api); got != `{"id":`+bigInt+`,"ids":[`+bigInt+`]}` {
			t.Fatalf("param reached the platform as %s", got)
		}
		if resp.GetBodyJson() != bigAnswer {
			t.Fatalf("body_json %s, want the answer verbatim", resp.GetBodyJson())
		}
		m := resp.GetMembers().GetFields()
		if len(m) != 2 || m["bigTop"].GetStructValue() == nil || m["total"] == nil {
			t.Fatalf("members %v", m)
		}
		if resp.GetRequestId() != "r-big" || resp.GetData().GetStructValue().GetFields()["s"].GetStringValue() != "x" {
			t.Fatalf("response %v", resp)
		}
		// The Value form cannot carry it: a double is sent with its own digits.
		v, _ := structpb.NewValue(map[string]any{"id": 1234567890123456789.0})
		if _, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: api, Params: v}); err != nil {
			t.Fatal(err)
		}
		if got := f.lastParam(api); got != `{"id":1234567890123456768}` {
			t.Fatalf("a double reached the platform as %s", got)
		}
	})

	t.Run("rest", func(t *testing.T) {
		code, raw := restKey(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"`+api+`","params":{"id":`+bigInt+`,"nested":{"n":[-`+bigInt+`]}}}`, llKeyShop)
		if code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", code, raw)
		}
		if got := f.lastParam(api); got != `{"id":`+bigInt+`,"nested":{"n":[-`+bigInt+`]}}` {
			t.Fatalf("param reached the platform as %s", got)
		}
		body := decodeExact(t, raw)
		for _, p := range [][]any{{"data", "id"}, {"data", "list", 0}, {"members", "bigTop", "n"}, {"members", "total"}} {
			if n, _ := at(body, p...).(json.Number); strings.TrimPrefix(string(n), "-") != bigInt {
				t.Errorf("%v = %v, want %s: %s", p, at(body, p...), bigInt, raw)
			}
		}
		if n, _ := at(body, "data", "f").(json.Number); n != "1.50" {
			t.Errorf("data.f = %v: the platform's text is kept", at(body, "data", "f"))
		}
		if at(body, "body_json") != bigAnswer || at(body, "request_id") != "r-big" {
			t.Fatalf("body %s", raw)
		}
		// params_json over REST is the same exact form.
		code, raw = restKey(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"`+api+`","params_json":"{\"id\":`+bigInt+`}"}`, llKeyShop)
		if code != http.StatusOK || f.lastParam(api) != `{"id":`+bigInt+`}` {
			t.Fatalf("params_json: HTTP %d %s; sent %s", code, raw, f.lastParam(api))
		}
	})

	t.Run("node_client", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("no node: CI must install Node 20+")
			}
			t.Skip("no node on PATH")
		}
		// Node 20 cannot show a JSON.parse reviver the number's source text,
		// so the client quotes every integer literal of 16 or more digits
		// (outside strings) before parsing: the digits it compares are the
		// ones in the JSON text it read. A plain JSON.parse is shown beside,
		// to prove the difference is real.
		script := filepath.Join(t.TempDir(), "exact.mjs")
		if err := os.WriteFile(script, []byte(nodeExactScript), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, script)
		cmd.Env = append(os.Environ(), "GATEWAY=http://"+g.info.HTTPAddr, "KEY="+llKeyShop, "OPEN_ID="+openID, "BIG="+bigInt)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var got struct {
			Status  int    `json:"status"`
			Data    string `json:"data"`
			Member  string `json:"member"`
			Naive   string `json:"naive"`
			Sent    string `json:"sent"`
			Request string `json:"request"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(out), &got); err != nil {
			t.Fatalf("node printed %s", out)
		}
		if got.Status != 200 || got.Data != bigInt || got.Member != bigInt || got.Naive == bigInt {
			t.Fatalf("node read %+v", got)
		}
		if sent := f.lastParam(api); sent != `{"id":`+bigInt+`}` {
			t.Fatalf("the node client's params reached the platform as %s", sent)
		}
	})
}

const nodeExactScript = `
// Quote integer literals of 16+ digits outside JSON strings.
function quoteBigInts(text) {
  let out = "", inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") { out += text[++i]; } else if (c === '"') { inString = false; }
      continue;
    }
    if (c === '"') { inString = true; out += c; continue; }
    if (c === "-" || (c >= "0" && c <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      const lit = text.slice(i, j);
      out += /^-?[0-9]{16,}$/.test(lit) ? '"' + lit + '"' : lit;
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}
const big = process.env.BIG;
const resp = await fetch(process.env.GATEWAY + "/v1/call", {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: "Bearer " + process.env.KEY },
  body: '{"open_id":"' + process.env.OPEN_ID + '","method":"open.widget.lossless.get","params":{"id":' + big + '}}',
});
const text = await resp.text();
const exact = JSON.parse(quoteBigInts(text));
const naive = JSON.parse(text);
console.log(JSON.stringify({
  status: resp.status,
  data: String(exact.data.id),
  member: String(exact.members.bigTop.n),
  naive: String(naive.data.id),
}));
`

// open.order.decrypt.batch answers its list beside data: it reaches the
// caller in members on both transports.
func TestLossless_DecryptBatch(t *testing.T) {
	g, f, openID := startFakePlatformGateway(t, nil)
	ctx := bearer(context.Background(), llKeyShop)
	admin := bearer(context.Background(), llKeyAdmin)
	orders, err := gatewayv1.NewOrderServiceClient(g.conn).ListOrders(admin, &gatewayv1.ListOrdersRequest{OpenId: openID, PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	var o *gatewayv1.Order
	for _, x := range orders.GetOrders() {
		if x.GetAddress().GetEncryptedConsignee() != "" {
			o = x
			break
		}
	}
	if o == nil {
		t.Fatalf("no order with an encrypted consignee among %d", len(orders.GetOrders()))
	}
	oid := strconv.FormatInt(o.GetOrderId(), 10)
	enc, _ := json.Marshal(o.GetAddress().GetEncryptedConsignee())
	params := `{"batchDecryptList":[{"bizId":"` + oid + `","encryptedData":` + string(enc) + `}]}`

	resp, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.order.decrypt.batch", ParamsJson: params})
	if err != nil {
		t.Fatal(err)
	}
	list := resp.GetMembers().GetFields()["batchDecryptResultList"].GetListValue().GetValues()
	if len(list) != 1 || list[0].GetStructValue().GetFields()["decryptedData"].GetStringValue() == "" {
		t.Fatalf("gRPC members %v (body %s)", resp.GetMembers(), resp.GetBodyJson())
	}
	code, raw := restKey(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"open.order.decrypt.batch","params":`+params+`}`, llKeyShop)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, raw)
	}
	body := decodeExact(t, raw)
	if d, _ := at(body, "members", "batchDecryptResultList", 0, "decryptedData").(string); d == "" || at(body, "members", "batchDecryptResultList", 0, "bizId") != oid {
		t.Fatalf("REST body %s", raw)
	}
	if n := f.count("open.order.decrypt.batch"); n != 2 {
		t.Fatalf("%d decrypt calls reached the platform, want 2", n)
	}
}

// Three misspelt params are three field violations with suggestions on
// both transports, and the platform sees nothing; skip_validation sends
// them; an uncatalogued API passes through.
func TestLossless_Validation(t *testing.T) {
	g, f, openID := startFakePlatformGateway(t, bigIntPlatform())
	ctx := bearer(context.Background(), llKeyShop)
	c := gatewayv1.NewPlatformServiceClient(g.conn)
	const api = "open.order.cursor.list"
	params := `{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"cursor":"","begintime":1,"endtime":2,"pagesize":3}`
	want := map[string]string{
		"params.begintime": `did you mean "beginTime"?`,
		"params.endtime":   `did you mean "endTime"?`,
		"params.pagesize":  `did you mean "pageSize"?`,
	}
	_, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: api, ParamsJson: params})
	_, br := statusOf(t, err, codes.InvalidArgument)
	for field, sug := range want {
		found := false
		for _, v := range br.GetFieldViolations() {
			found = found || v.GetField() == field && strings.Contains(v.GetDescription(), sug)
		}
		if !found {
			t.Errorf("gRPC: no violation on %s suggesting %s: %v", field, sug, br)
		}
	}
	code, raw := restKey(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"`+api+`","params":`+params+`}`, llKeyShop)
	if code != http.StatusBadRequest {
		t.Fatalf("REST HTTP %d: %s", code, raw)
	}
	_, _, rbr := parseRESTError(t, raw)
	for field, sug := range want {
		found := false
		for _, v := range rbr.GetFieldViolations() {
			found = found || v.GetField() == field && strings.Contains(v.GetDescription(), sug)
		}
		if !found {
			t.Errorf("REST: no violation on %s suggesting %s: %s", field, sug, raw)
		}
	}
	if n := f.count(api); n != 0 {
		t.Fatalf("invalid params reached the platform %d times", n)
	}
	// skip_validation sends them (the sandbox refuses the call itself).
	_, _ = c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: api, ParamsJson: params, SkipValidation: true})
	if n := f.count(api); n != 1 {
		t.Fatalf("skip_validation: %d calls reached the platform, want 1", n)
	}
	// Duplicate names are refused on any API, catalogued or not.
	for _, m := range []string{api, "open.widget.lossless.get"} {
		_, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: m, ParamsJson: `{"a":1,"a":2}`, SkipValidation: true})
		if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "params_json") {
			t.Fatalf("%s: duplicate names: %v", m, err)
		}
	}
	if n := f.count("open.widget.lossless.get"); n != 0 {
		t.Fatalf("duplicate names reached the platform")
	}
}
