package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// Protocol vectors (internal/platform/sign/testdata/platform-vectors.json,
// "message"): AES-128-CBC, zero IV, PKCS#7, standard base64.
const (
	fuzzKey       = "AAECAwQFBgcICQoLDA0ODw=="
	fuzzHeartbeat = "vftmsTE4kncTlrYRCUwCMg=="
	fuzzOrderPaid = "vOSNICXB99JlR2R/J/TRNZls+d8+x6roPXCcPgJFrEp2ITNjxKRStWolScufM/CldzZT83zKZWoTDZFU4V4vXZQ0a+wk9te4quy0voUVLdMoax954cmpy5lVytJ4NZiXhTQ5eVrG9WWR9HHs3OkKj3oLxUbc2icQPGa2AHIxr8HIN66hsODIqW7F1HIeenVOJGm8oMeuZk/MrGHk63fSxVuDNHWmnLpLrND8U+MooJOIgi7CVgmJIycozUlYM6F50EyBianAOnszzwVR8pEmvFR0s9B6bj21E6s5n5ew7oIP9getAQGwIbiSOikJ5CjBazKOXeqoS9voVilqHnbzcO2AaeLtqMrTxs2bukIRvPD3SBBsLf8ZlyGUl6rLWLmkorEtNc66ttwADLfMCZGUKwVAp4z5w+1wXQYZ0I8WSw++sDMK9OjD6qxa5YeEWYfS"
	fuzzPlainPaid = `{"eventId":"267_2345_147402","bizId":2617801683312294,"userId":1234567,"openId":"f195d4c1ad4f4a8b8a2b1c3d4e5f6a7b","appKey":"ks123456789012345678","event":"kwaishop_order_paySuccess","info":"{\"oid\":2617801683312294,\"sellerId\":1234567,\"status\":30,\"updateTime\":1700000300000}","createTime":1700000300000,"test":false}`
)

var fuzzReasons = []string{ReasonOversized, ReasonNotBase64, ReasonUndecryptable, ReasonWrongKey, ReasonMalformed, ReasonNoKey}

func fuzzKeys(f *testing.F) []Key {
	f.Helper()
	k, err := NewKey("", fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	bound, err := NewKey("ks-other-app", "AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=")
	if err != nil {
		f.Fatal(err)
	}
	return []Key{bound, k}
}

// FuzzDecode decrypts arbitrary push bodies: it never panics; a refusal is
// a *RejectError with a known reason whose text carries no body byte
// beyond the fixed description; an accepted body decrypts to a JSON object
// (or is the clear-text heartbeat), and re-encrypting that plaintext with the
// key gives a body that decodes to the same plaintext. Seeds: the protocol
// vectors, truncated and corrupted forms.
func FuzzDecode(f *testing.F) {
	keys := fuzzKeys(f)
	for _, s := range []string{
		fuzzHeartbeat, fuzzOrderPaid, fuzzOrderPaid[:len(fuzzOrderPaid)-4], fuzzOrderPaid[:24],
		`{"test":true}`, `{"test":false}`, ` {"test":true} `, "", "====", "AAAAAAAAAAAAAAAAAAAAAA==", "not base64!",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		plain, heartbeat, err := Decode(keys, body)
		if !bytes.Equal(body, orig) {
			t.Fatal("Decode modified the body")
		}
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) || !slices.Contains(fuzzReasons, re.Reason) {
				t.Fatalf("err = %v, want a *RejectError with a known reason", err)
			}
			if plain != nil || heartbeat {
				t.Fatalf("refused body returned plain %q heartbeat %v", plain, heartbeat)
			}
			return
		}
		trimmed := bytes.TrimSpace(plain)
		if !json.Valid(plain) || len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("accepted plaintext %q is not a JSON object", plain)
		}
		var head struct {
			Test bool `json:"test"`
		}
		_ = json.Unmarshal(plain, &head)
		if heartbeat != head.Test {
			t.Fatalf("heartbeat = %v, plaintext test = %v", heartbeat, head.Test)
		}
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			return // clear-text heartbeat
		}
		for _, k := range keys {
			again, _, err := Decode([]Key{k}, []byte(k.Encrypt(plain)))
			if err == nil && !bytes.Equal(again, plain) {
				t.Fatalf("re-encrypted plaintext decodes to %q, want %q", again, plain)
			}
		}
		// ParsePush must not panic on whatever decrypted.
		_, _ = ParsePush(plain)
	})
}

// FuzzEncryptDecode: every JSON object plaintext survives Encrypt → Decode
// with an unbound key, byte for byte.
func FuzzEncryptDecode(f *testing.F) {
	keys := fuzzKeys(f)
	f.Add([]byte(`{"test":true}`))
	f.Add([]byte(fuzzPlainPaid))
	f.Add([]byte(`{"a":"` + string(bytes.Repeat([]byte("x"), 15)) + `"}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		trimmed := bytes.TrimSpace(plain)
		if !json.Valid(plain) || len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		k := keys[1]
		got, _, err := Decode([]Key{k}, []byte(k.Encrypt(plain)))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Decode(Encrypt(%q)) = %q, %v", plain, got, err)
		}
	})
}

// FuzzParsePush parses arbitrary plaintexts: it never panics; a refusal is
// a malformed *RejectError; an accepted message has an event id and an
// event within the limits and an info that is JSON. Seed: the protocol's
// order-paid message.
func FuzzParsePush(f *testing.F) {
	f.Add([]byte(fuzzPlainPaid))
	f.Add([]byte(`{"test":true}`))
	f.Add([]byte(`{"eventId":"e","event":"kwaishop_item_x","bizId":"12","createTime":1.7e12,"info":{"oid":"1"}}`))
	f.Add([]byte(`{"eventId":"e","event":"x","info":"not json"}`))
	f.Add([]byte(`{"eventId":"e","event":"x","bizId":{},"userId":[],"info":null}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		p, err := ParsePush(plain)
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) || re.Reason != ReasonMalformed {
				t.Fatalf("err = %v, want a malformed *RejectError", err)
			}
			return
		}
		if p.EventID == "" || len(p.EventID) > maxEventIDLen || p.Event == "" || len(p.Event) > maxEventLen || len(p.OpenID) > maxOpenIDLen {
			t.Fatalf("accepted push %+v breaks the envelope limits", p)
		}
		if len(p.Info) > 0 && !json.Valid(p.Info) {
			t.Fatalf("accepted info %q is not JSON", p.Info)
		}
		_, _ = p.info()
	})
}
