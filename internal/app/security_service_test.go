package app

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// SecurityService end to end: the whole gateway on the embedded sandbox,
// every RPC over gRPC and REST (docs/security-service.md).

const securityDecryptAPI = "open.order.decrypt.batch"

// securityCase is one entry with the values the sandbox must answer.
type securityCase struct {
	entry          *gatewayv1.ReceiverCiphertext
	plain, masked  string
	province, city string
}

// securityCases returns n entries over the shop's orders (name, phone and
// address of each in turn), created in the sandbox as needed.
func securityCases(t *testing.T, g *gateway, n int) []securityCase {
	t.Helper()
	ctx := context.Background()
	order := gatewayv1.NewOrderServiceClient(g.conn)
	for range (n + 2) / 3 {
		g.newOrder(t, 30)
	}
	var out []securityCase
	req := &gatewayv1.ListOrdersRequest{OpenId: g.info.SandboxOpenID, PageSize: 100,
		StartTime: timestamppb.New(time.Now().Add(-time.Hour)), EndTime: timestamppb.New(time.Now().Add(time.Hour))}
	for len(out) < n {
		page, err := order.ListOrders(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.GetOrders() {
			a := o.GetAddress()
			if a == nil {
				continue
			}
			pii := &shop.Order{Address: shop.OrderAddress{Province: a.GetProvince(), City: a.GetCity(), District: a.GetDistrict(), Town: a.GetTown(),
				EncryptedConsignee: a.GetEncryptedConsignee(), DesensitiseConsignee: a.GetMaskedConsignee(),
				EncryptedMobile: a.GetEncryptedMobile(), DesensitiseMobile: a.GetMaskedMobile(),
				EncryptedAddress: a.GetEncryptedAddress(), DesensitiseAddress: a.GetMaskedAddress()}}
			for _, f := range []struct {
				field       gatewayv1.ReceiverField
				enc, masked string
			}{
				{gatewayv1.ReceiverField_RECEIVER_FIELD_NAME, a.GetEncryptedConsignee(), a.GetMaskedConsignee()},
				{gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE, a.GetEncryptedMobile(), a.GetMaskedMobile()},
				{gatewayv1.ReceiverField_RECEIVER_FIELD_ADDRESS, a.GetEncryptedAddress(), a.GetMaskedAddress()},
			} {
				plain, ok := pii.DecryptPII(f.enc)
				if !ok {
					t.Fatalf("order %d: no plaintext for its %s", o.GetOrderId(), f.field)
				}
				out = append(out, securityCase{
					entry: &gatewayv1.ReceiverCiphertext{OrderId: o.GetOrderId(), Ciphertext: f.enc, Field: f.field},
					plain: plain, masked: f.masked, province: a.GetProvince(), city: a.GetCity(),
				})
			}
		}
		if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(out) < n {
		t.Fatalf("%d receiver fields in the sandbox shop, want %d", len(out), n)
	}
	return out[:n]
}

func valueOf(v *gatewayv1.ReceiverValue, f gatewayv1.ReceiverField) (string, bool) {
	switch f {
	case gatewayv1.ReceiverField_RECEIVER_FIELD_NAME:
		x, ok := v.GetValue().(*gatewayv1.ReceiverValue_Name)
		return v.GetName(), ok && x != nil
	case gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE:
		x, ok := v.GetValue().(*gatewayv1.ReceiverValue_Phone)
		return v.GetPhone(), ok && x != nil
	}
	x, ok := v.GetValue().(*gatewayv1.ReceiverValue_Address)
	return v.GetAddress(), ok && x != nil
}

// checkResults asserts one result per case, in order, each value in its
// field's member and equal to want(case).
func checkResults(t *testing.T, how string, cases []securityCase, got []*gatewayv1.ReceiverResult, want func(securityCase) string) {
	t.Helper()
	if len(got) != len(cases) {
		t.Fatalf("%s: %d results for %d entries", how, len(got), len(cases))
	}
	bad := 0
	for i, c := range cases {
		r := got[i]
		v, ok := valueOf(r.GetValue(), c.entry.GetField())
		if r.GetError() != nil || !ok || v != want(c) || r.GetOrderId() != c.entry.GetOrderId() || r.GetField() != c.entry.GetField() {
			if bad++; bad <= 3 {
				// The expected value stays out of the message: a test log is a log too.
				t.Errorf("%s: entry %d (order %d, %s): wrong result (error %v, typed member %v)", how, i, c.entry.GetOrderId(), c.entry.GetField(), r.GetError(), ok)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d entries wrong", how, bad, len(cases))
	}
}

func entriesOf(cases []securityCase) []*gatewayv1.ReceiverCiphertext {
	out := make([]*gatewayv1.ReceiverCiphertext, len(cases))
	for i, c := range cases {
		out[i] = c.entry
	}
	return out
}

// otherShopCiphertext adds a second test user, creates an order in its
// shop and returns the order id and its encrypted mobile.
func otherShopCiphertext(t *testing.T, g *gateway) (int64, string) {
	t.Helper()
	var u struct {
		ID int `json:"id"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/test-users", map[string]any{}, &u)
	var o struct {
		Base struct {
			Oid json.Number `json:"oid"`
		} `json:"orderBaseInfo"`
		Address struct {
			EncryptedMobile string `json:"encryptedMobile"`
		} `json:"orderAddress"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/orders", map[string]any{"testUser": u.ID, "status": 30}, &o)
	id, err := o.Base.Oid.Int64()
	if err != nil || o.Address.EncryptedMobile == "" || u.ID == 0 {
		t.Fatalf("other shop's order: user %d, %+v: %v", u.ID, o, err)
	}
	return id, o.Address.EncryptedMobile
}

func TestSecurityService_EndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir, cfg.Store.NATSListen = "127.0.0.1:0", "127.0.0.1:0", dir, "127.0.0.1:0"
	cfg.LogLevel = "debug"
	g := startGatewayWith(t, cfg, Options{})
	ctx := context.Background()
	sec := gatewayv1.NewSecurityServiceClient(g.conn)
	openID := g.info.SandboxOpenID
	cases := securityCases(t, g, 250)
	var plaintexts []string // every plaintext the sandbox produced or the test sent
	for _, c := range cases {
		plaintexts = append(plaintexts, c.plain)
	}

	t.Run("Decrypt250InThreeCalls", func(t *testing.T) {
		before := g.calls(t, securityDecryptAPI)
		resp, err := sec.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: entriesOf(cases)})
		if err != nil {
			t.Fatal(err)
		}
		if n := g.calls(t, securityDecryptAPI) - before; n != 3 {
			t.Errorf("gRPC: %d platform calls for 250 entries, want 3", n)
		}
		checkResults(t, "gRPC decrypt", cases, resp.GetResults(), func(c securityCase) string { return c.plain })

		before = g.calls(t, securityDecryptAPI)
		var rest gatewayv1.DecryptReceiversResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders:decrypt"), &gatewayv1.DecryptReceiversRequest{Entries: entriesOf(cases)}, &rest)
		if n := g.calls(t, securityDecryptAPI) - before; n != 3 {
			t.Errorf("REST: %d platform calls for 250 entries, want 3", n)
		}
		checkResults(t, "REST decrypt", cases, rest.GetResults(), func(c securityCase) string { return c.plain })
	})

	t.Run("Desensitise", func(t *testing.T) {
		before := g.calls(t, "open.order.desensitise.batch")
		resp, err := sec.DesensitiseReceivers(ctx, &gatewayv1.DesensitiseReceiversRequest{OpenId: openID, Entries: entriesOf(cases)})
		if err != nil {
			t.Fatal(err)
		}
		if n := g.calls(t, "open.order.desensitise.batch") - before; n != 3 {
			t.Errorf("%d platform calls, want 3", n)
		}
		checkResults(t, "gRPC desensitise", cases, resp.GetResults(), func(c securityCase) string { return c.masked })
		var rest gatewayv1.DesensitiseReceiversResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders:desensitise"), &gatewayv1.DesensitiseReceiversRequest{Entries: entriesOf(cases[:7])}, &rest)
		checkResults(t, "REST desensitise", cases[:7], rest.GetResults(), func(c securityCase) string { return c.masked })
		for _, r := range resp.GetResults() {
			if v, _ := valueOf(r.GetValue(), r.GetField()); !strings.Contains(v, "*") {
				t.Fatalf("masked value without a mask: entry of order %d", r.GetOrderId())
			}
		}
	})

	t.Run("SearchIndex", func(t *testing.T) {
		seller := g.info.Sandbox.TestUsers()[0].SellerID
		var in []*gatewayv1.SearchInput
		for _, c := range cases[:30] {
			in = append(in, &gatewayv1.SearchInput{Plaintext: c.plain, Field: c.entry.GetField()})
		}
		search := "13900001111" // a phone number as a buyer would give it on the phone
		plaintexts = append(plaintexts, search)
		in = append(in, &gatewayv1.SearchInput{Plaintext: search, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE})
		resp, err := sec.SearchIndex(ctx, &gatewayv1.SearchIndexRequest{OpenId: openID, Entries: in})
		if err != nil {
			t.Fatal(err)
		}
		var rest gatewayv1.SearchIndexResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders:searchIndex"), &gatewayv1.SearchIndexRequest{Entries: in}, &rest)
		if len(resp.GetResults()) != len(in) || len(rest.GetResults()) != len(in) {
			t.Fatalf("%d and %d results for %d entries", len(resp.GetResults()), len(rest.GetResults()), len(in))
		}
		for i, e := range in {
			// The order's field matches: its index is the index of its
			// decrypted value, the same on every call and transport.
			want := emulated.SearchIndex(seller, int(e.GetField()), e.GetPlaintext())
			r := resp.GetResults()[i]
			if r.GetError() != nil || r.GetSearchIndex() != want || rest.GetResults()[i].GetSearchIndex() != want || r.GetField() != e.GetField() {
				t.Fatalf("entry %d: index %q / %q, error %v; want the sandbox's index", i, r.GetSearchIndex(), rest.GetResults()[i].GetSearchIndex(), r.GetError())
			}
			if strings.Contains(r.GetSearchIndex(), e.GetPlaintext()) {
				t.Fatalf("entry %d: the index contains the plaintext", i)
			}
		}
	})

	t.Run("OtherShopRefusedPerEntry", func(t *testing.T) {
		oid, enc := otherShopCiphertext(t, g)
		entries := []*gatewayv1.ReceiverCiphertext{
			cases[0].entry,
			{OrderId: oid, Ciphertext: enc, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE},
			{OrderId: cases[1].entry.GetOrderId(), Ciphertext: enc, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE},
			cases[1].entry,
		}
		resp, err := sec.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		var rest gatewayv1.DecryptReceiversResponse
		g.restOK(t, http.MethodPost, shopPath(openID, "/orders:decrypt"), &gatewayv1.DecryptReceiversRequest{Entries: entries}, &rest)
		for _, rs := range [][]*gatewayv1.ReceiverResult{resp.GetResults(), rest.GetResults()} {
			checkResults(t, "own entries", []securityCase{cases[0], cases[1]}, []*gatewayv1.ReceiverResult{rs[0], rs[3]}, func(c securityCase) string { return c.plain })
			for _, r := range rs[1:3] {
				if r.GetError().GetCode() != code.Code_INVALID_ARGUMENT || r.GetValue() != nil || r.GetError().GetMessage() == "" {
					t.Errorf("another shop's ciphertext: %v", r)
				}
			}
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		_, err := sec.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID})
		statusOf(t, err, codes.InvalidArgument)
		_, err = sec.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: []*gatewayv1.ReceiverCiphertext{{OrderId: 1, Ciphertext: "#x#"}}})
		statusOf(t, err, codes.InvalidArgument) // field unset
		big := make([]*gatewayv1.ReceiverCiphertext, 5001)
		for i := range big {
			big[i] = &gatewayv1.ReceiverCiphertext{OrderId: 1, Ciphertext: "#x#", Field: gatewayv1.ReceiverField_RECEIVER_FIELD_NAME}
		}
		_, err = sec.DecryptReceivers(ctx, &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: big})
		statusOf(t, err, codes.InvalidArgument)
		if code, raw, _ := g.restCall(t, http.MethodPost, shopPath(openID, "/orders:searchIndex"), `{"entries":[{"plaintext":"a","field":"RECEIVER_FIELD_NAME","x":1}]}`, nil); code != http.StatusBadRequest {
			t.Errorf("unknown member: %d %s", code, raw)
		}
	})

	// Last: nothing the gateway (or its embedded sandbox) wrote anywhere
	// holds a plaintext value.
	t.Run("NoPlaintextAnywhere", func(t *testing.T) {
		resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(metrics), "kwaishop") {
			t.Fatalf("/metrics: %d", resp.StatusCode)
		}
		g.stop() // flush the store and the spans
		places := map[string]string{"logs": g.logs.String(), "/metrics": string(metrics)}
		var spans strings.Builder
		for _, s := range g.spans.Ended() {
			spans.WriteString(s.Name() + "\n")
			for _, a := range s.Attributes() {
				spans.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
			}
			for _, e := range s.Events() {
				spans.WriteString(e.Name + "\n")
				for _, a := range e.Attributes {
					spans.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
				}
			}
			spans.WriteString(s.Status().Description + "\n")
		}
		places["spans"] = spans.String()
		if !strings.Contains(places["logs"], "DecryptReceivers") || !strings.Contains(places["spans"], "DecryptReceivers") || len(g.spans.Ended()) == 0 {
			t.Fatalf("the decrypts left no log line or span to search: the test would prove nothing")
		}
		files := 0
		err = filepath.WalkDir(g.dataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			places["file "+path] = string(b)
			return nil
		})
		if err != nil || files == 0 {
			t.Fatalf("data dir: %d files: %v", files, err)
		}
		for where, text := range places {
			for _, p := range plaintexts {
				if strings.Contains(text, p) {
					t.Errorf("%s holds a plaintext receiver value (%d characters)", where, len([]rune(p)))
					break
				}
			}
		}
	})
}

// Decrypting needs a key that names the decrypt group, and a key limited to
// other shops may not decrypt this shop's ciphertexts (gRPC and REST).
func TestSecurityService_Auth(t *testing.T) {
	const (
		keyPlain = "plain-secret-0123456789"   // every group but admin and decrypt
		keyDec   = "decrypt-secret-0123456789" // rpc=decrypt, every shop
		keyOther = "other-secret-0123456789"   // rpc=decrypt, another shop only
	)
	g := startLimitedGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "plain:"+keyPlain+",dec:"+keyDec+":rpc=decrypt,other:"+keyOther+":rpc=decrypt:shop=another-shop")
	})
	openID := g.info.SandboxOpenID
	var o struct {
		Base struct {
			Oid json.Number `json:"oid"`
		} `json:"orderBaseInfo"`
		Address struct {
			EncryptedMobile string `json:"encryptedMobile"`
		} `json:"orderAddress"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/orders", map[string]any{"openId": openID, "status": 30}, &o)
	oid, _ := o.Base.Oid.Int64()
	req := &gatewayv1.DecryptReceiversRequest{OpenId: openID, Entries: []*gatewayv1.ReceiverCiphertext{
		{OrderId: oid, Ciphertext: o.Address.EncryptedMobile, Field: gatewayv1.ReceiverField_RECEIVER_FIELD_PHONE}}}
	sec := gatewayv1.NewSecurityServiceClient(g.conn)
	body := `{"entries":[{"orderId":"` + o.Base.Oid.String() + `","ciphertext":"` + o.Address.EncryptedMobile + `","field":"RECEIVER_FIELD_PHONE"}]}`
	for _, k := range []struct {
		key  string
		want codes.Code
		http int
	}{{keyPlain, codes.PermissionDenied, http.StatusForbidden}, {keyOther, codes.PermissionDenied, http.StatusForbidden}, {keyDec, codes.OK, http.StatusOK}} {
		resp, err := sec.DecryptReceivers(bearer(context.Background(), k.key), req)
		if k.want == codes.OK {
			if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetError() != nil {
				t.Errorf("decrypt key: %v %v", resp, err)
			}
		} else {
			statusOf(t, err, k.want)
		}
		if code, _, _ := restWith(t, g, http.MethodPost, shopPath(openID, "/orders:decrypt"), body, map[string]string{"Authorization": "Bearer " + k.key}); code != k.http {
			t.Errorf("REST with key %.5s…: %d, want %d", k.key, code, k.http)
		}
	}
}
