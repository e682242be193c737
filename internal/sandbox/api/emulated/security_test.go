package emulated_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

type securityEntry struct {
	BizID            string `json:"bizId"`
	DecryptedData    string `json:"decryptedData"`
	DesensitisedData string `json:"desensitisedData"`
	SearchIndex      string `json:"searchIndex"`
	ErrorCode        int    `json:"errorCode"`
	ErrorMsg         string `json:"errorMsg"`
}

func entries(t *testing.T, r sandboxtest.APIResp, key string, n int) []securityEntry {
	t.Helper()
	var out []securityEntry
	if err := json.Unmarshal(r.Raw[key], &out); err != nil || len(out) != n {
		t.Fatalf("%s: %v, %d entries, want %d: %s", key, err, len(out), n, r.Raw[key])
	}
	return out
}

// Desensitise and search index answer per entry, only for the shop's own
// ciphertexts; the index is deterministic per seller and type.
func TestSecurity_DesensitiseAndSearchIndex(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 31, TestUsers: 2})
	c.Post = true
	tok := c.Authorize(1).AccessToken
	other := c.Authorize(2).AccessToken
	o := c.SeededShop(1).Orders[0]
	a := o.Address
	biz := strconv.FormatInt(o.BaseInfo.Oid, 10)

	list := []map[string]any{
		{"bizId": biz, "encryptedData": a.EncryptedConsignee},
		{"bizId": biz, "encryptedData": a.EncryptedMobile},
		{"bizId": biz, "encryptedData": a.EncryptedAddress},
		{"bizId": biz, "encryptedData": "#not-ours#"},
	}
	got := entries(t, c.MustCall(tok, "open.order.desensitise.batch", map[string]any{"batchDesensitiseList": list}, nil), "batchDesensitiseResultList", 4)
	for i, want := range []string{a.DesensitiseConsignee, a.DesensitiseMobile, a.DesensitiseAddress} {
		if got[i].ErrorCode != rules.SecurityItemOK || got[i].DesensitisedData != want {
			t.Errorf("entry %d: %+v, want %q", i, got[i], want)
		}
	}
	if got[3].ErrorCode != rules.DecryptItemFailed || got[3].DesensitisedData != "" {
		t.Errorf("bogus ciphertext masked: %+v", got[3])
	}
	if got := entries(t, c.MustCall(other, "open.order.desensitise.batch", map[string]any{"batchDesensitiseList": list[:1]}, nil), "batchDesensitiseResultList", 1); got[0].ErrorCode != rules.DecryptItemFailed {
		t.Errorf("another shop masked the ciphertext: %+v", got[0])
	}

	dec := entries(t, c.MustCall(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": list[1:2]}, nil), "batchDecryptResultList", 1)
	phone := dec[0].DecryptedData
	idx := []map[string]any{{"plainText": phone, "type": 3}, {"plainText": phone, "type": 3}, {"plainText": phone, "type": 2}, {"plainText": phone, "type": 9}}
	ix := entries(t, c.MustCall(tok, "open.order.search.index.batch", map[string]any{"indexParamList": idx}, nil), "indexResultList", 4)
	seller := c.SeededShop(1).User.SellerID
	if ix[0].ErrorCode != rules.SecurityItemOK || ix[0].SearchIndex == "" || ix[0].SearchIndex != ix[1].SearchIndex ||
		ix[0].SearchIndex != emulated.SearchIndex(seller, 3, phone) {
		t.Errorf("phone index not deterministic: %+v", ix)
	}
	if ix[2].SearchIndex == ix[0].SearchIndex || ix[3].ErrorCode != rules.DecryptItemFailed {
		t.Errorf("type not part of the index, or bad type accepted: %+v", ix)
	}
	oix := entries(t, c.MustCall(other, "open.order.search.index.batch", map[string]any{"indexParamList": idx[:1]}, nil), "indexResultList", 1)
	if oix[0].SearchIndex == ix[0].SearchIndex {
		t.Error("two sellers share an index")
	}
	if r := c.Call(tok, "open.order.search.index.batch", map[string]any{"indexParamList": []any{}}); r.Result != platform.ResultParamInvalid {
		t.Errorf("empty index batch: %+v", r)
	}
}

// The daily decrypt allowance counts entries per shop; the call that would
// pass it is refused whole with the quota result.
func TestSecurity_DecryptAllowance(t *testing.T) {
	t.Parallel()
	_, c := sandboxtest.Setup(t, sandbox.Config{Seed: 32, TestUsers: 2, DecryptDailyEntries: 3})
	c.Post = true
	tok := c.Authorize(1).AccessToken
	other := c.Authorize(2).AccessToken
	o := c.SeededShop(1).Orders[0]
	e := map[string]any{"bizId": strconv.FormatInt(o.BaseInfo.Oid, 10), "encryptedData": o.Address.EncryptedMobile}
	c.MustCall(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{e, e}}, nil)
	if r := c.Call(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{e, e}}); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("past the allowance: result %d %s", r.Result, r.ErrorMsg)
	}
	c.MustCall(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{e}}, nil) // the third entry still fits
	if r := c.Call(tok, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{e}}); r.Result != platform.ResultQuotaExceeded {
		t.Fatalf("fourth entry: result %d", r.Result)
	}
	// Another shop has its own allowance.
	c.MustCall(other, "open.order.decrypt.batch", map[string]any{"batchDecryptList": []any{e}}, nil)
}
