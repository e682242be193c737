package message

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const vectorKey = "AAECAwQFBgcICQoLDA0ODw==" // bytes 0x00..0x0f (the key of testdata/message-vectors.json)

type vector struct {
	Name, MessageKey, Plaintext, Body string
}

func loadVectors(t *testing.T) map[string]vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/message-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Message []vector }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]vector{}
	for _, v := range f.Message {
		out[v.Name] = v
	}
	if len(out) < 2 {
		t.Fatalf("want the M1 and M2 vectors, got %d", len(out))
	}
	return out
}

func mustKey(t testing.TB, app, b64 string) Key {
	t.Helper()
	k, err := NewKey(app, b64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDecode_Vectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			k := mustKey(t, "", v.MessageKey)
			plain, hb, err := Decode([]Key{k}, []byte(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != v.Plaintext {
				t.Fatalf("plaintext\n got %s\nwant %s", plain, v.Plaintext)
			}
			if want := strings.Contains(v.Plaintext, `"test":true`); hb != want {
				t.Fatalf("heartbeat = %v, want %v", hb, want)
			}
			if got := k.Encrypt([]byte(v.Plaintext)); got != v.Body {
				t.Fatalf("Encrypt\n got %s\nwant %s", got, v.Body)
			}
		})
	}
	m2 := loadVectors(t)["M2-order-paid"]
	plain, _, _ := Decode([]Key{mustKey(t, "", vectorKey)}, []byte(m2.Body))
	p, err := ParsePush(plain)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Message()
	st, ok := m.Payload.(*OrderStatus)
	if p.EventID != "267_2345_147402" || m.BizID != 2617801683312294 || !ok || st.Oid != 2617801683312294 ||
		st.Status != 30 || st.UpdateTime.UnixMilli() != 1700000300000 || m.AppKey != "ks123456789012345678" {
		t.Fatalf("M2 decoded wrong: %+v", m)
	}
	if got, want := p.DedupeID(), "chg:order:2617801683312294:30:1700000300000:"+p.OpenID; got != want || p.OpenID == "" {
		t.Fatalf("DedupeID = %s, want %s", got, want)
	}
}

func TestDecode_Refusals(t *testing.T) {
	k := mustKey(t, "ks1", vectorKey)
	other := mustKey(t, "ks2", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")))
	m2 := loadVectors(t)["M2-order-paid"]
	good := m2.Body
	ct, _ := base64.StdEncoding.DecodeString(good)
	truncated := base64.StdEncoding.EncodeToString(ct[:len(ct)-5])
	blockTruncated := base64.StdEncoding.EncodeToString(ct[:len(ct)-16])
	msgFor := func(appKey string) string {
		return fmt.Sprintf(`{"eventId":"e1","bizId":1,"openId":"o","appKey":%q,"event":"kwaishop_order_addOrder","info":"{}","createTime":1}`, appKey)
	}
	tests := []struct {
		name   string
		keys   []Key
		body   string
		reason string
	}{
		{"not_base64", []Key{k}, "%%% not base64 %%%", ReasonNotBase64},
		{"truncated_mid_block", []Key{k}, truncated, ReasonUndecryptable},
		{"truncated_whole_block", []Key{k}, blockTruncated, ReasonUndecryptable},
		{"wrong_key", []Key{other}, good, ReasonUndecryptable},
		{"empty", []Key{k}, "", ReasonUndecryptable},
		{"clear_text_message", []Key{k}, msgFor("ks1"), ReasonMalformed},
		{"clear_text_not_json", []Key{k}, "{nope", ReasonMalformed},
		{"encrypted_not_json", []Key{k}, k.Encrypt([]byte("hello, world")), ReasonUndecryptable},
		{"app_key_of_other_app", []Key{k, other}, other.Encrypt([]byte(msgFor("ks1"))), ReasonWrongKey},
		{"no_key_configured", nil, good, ReasonNoKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(tc.keys, []byte(tc.body))
			var re *RejectError
			if !errors.As(err, &re) || re.Reason != tc.reason {
				t.Fatalf("err = %v, want reason %s", err, tc.reason)
			}
			if strings.Contains(err.Error(), tc.body) && tc.body != "" {
				t.Fatalf("error quotes the body: %v", err)
			}
		})
	}

	t.Run("second_key_by_app", func(t *testing.T) {
		plain, _, err := Decode([]Key{k, other}, []byte(other.Encrypt([]byte(msgFor("ks2")))))
		if err != nil || !strings.Contains(string(plain), `"ks2"`) {
			t.Fatalf("plain=%s err=%v", plain, err)
		}
	})
	t.Run("heartbeats", func(t *testing.T) {
		for _, body := range []string{`{"test":true}`, " {\"test\": true}\n", k.Encrypt([]byte(`{"test":true}`))} {
			if _, hb, err := Decode([]Key{k}, []byte(body)); err != nil || !hb {
				t.Fatalf("%q: heartbeat=%v err=%v", body, hb, err)
			}
		}
	})
}

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys("ks1:" + vectorKey + ", " + vectorKey)
	if err != nil || len(keys) != 2 || keys[0].AppKey != "ks1" || keys[1].AppKey != "" {
		t.Fatalf("keys=%v err=%v", keys, err)
	}
	if s := fmt.Sprintf("%v %+v %#v", keys[0], keys[0], keys[0]); strings.Contains(s, vectorKey) || !strings.Contains(s, "REDACTED") {
		t.Fatalf("key formats its secret: %s", s)
	}
	if _, err := ParseKeys("ks1:nope,ks2:" + base64.StdEncoding.EncodeToString([]byte("short"))); err == nil ||
		!strings.Contains(err.Error(), "entry 1") || !strings.Contains(err.Error(), "entry 2") {
		t.Fatalf("want both entries reported, got %v", err)
	}
}

func TestPush_Change(t *testing.T) {
	tests := []struct {
		name, event, info, dedupe string
	}{
		{"add_order", EventOrderCreated, `{"oid":5,"sellerId":1,"openId":"o","buyerOpenId":"b","createTime":1000}`, "chg:order:5:10:1000:o"},
		{"paid", EventOrderPaid, `{"oid":5,"sellerId":1,"status":30,"updateTime":2000}`, "chg:order:5:30:2000:o"},
		{"failed_string_numbers", EventOrderFailed, `{"oid":"5","status":"80","updateTime":"3000"}`, "chg:order:5:80:3000:o"},
		{"add_refund", EventRefundCreated, `{"orderId":5,"refundId":9,"status":10,"createTime":4000}`, "chg:refund:9:10:4000:o"},
		{"update_refund_text_event_type", EventRefundUpdated, `{"orderId":5,"refundId":9,"status":60,"eventType":"REFUND_SUCCESS","updateTime":5000}`, "chg:refund:9:60:5000:o"},
		{"address_change_uses_event_id", EventOrderAddressChange, `{"oid":5,"seller_id":1,"updateTime":6000}`, "evt:e1"},
		{"status_missing_uses_event_id", EventOrderPaid, `{"oid":5}`, "evt:e1"},
		{"unknown_event", "kwaishop_something_new", `{"x":1}`, "evt:e1"},
		{"item_event", "kwaishop_item_stockChange", `{"kwaiItemId":7,"skuId":8,"stock":3,"beforeStock":4,"updateTime":1}`, "evt:e1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]any{"eventId": "e1", "bizId": 5, "openId": "o", "event": tc.event, "info": tc.info, "createTime": 1})
			p, err := ParsePush(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.DedupeID(); got != tc.dedupe {
				t.Fatalf("DedupeID = %s, want %s", got, tc.dedupe)
			}
			m := p.Message()
			if m.Info != tc.info {
				t.Fatalf("info = %s", m.Info)
			}
			if strings.HasPrefix(tc.event, "kwaishop_") && tc.event != "kwaishop_something_new" && m.Payload == nil {
				t.Fatalf("no typed payload for %s", tc.event)
			}
		})
	}
	t.Run("refund_event_type_text", func(t *testing.T) {
		raw := []byte(`{"eventId":"e","event":"kwaishop_aftersales_updateRefund","info":"{\"refundId\":9,\"eventType\":\"REFUND_SUCCESS\",\"status\":60}"}`)
		p, err := ParsePush(raw)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := p.Message().Payload.(*Refund); !ok || r.EventType != "REFUND_SUCCESS" || r.Status != 60 || r.RefundID != 9 {
			t.Fatalf("refund payload %+v", p.Message().Payload)
		}
	})
	t.Run("synthesized_matches_push", func(t *testing.T) {
		c := Change{Kind: "order", ID: 5, Status: 30, At: 2000}
		if c.EventID() != "rc_order_5_30_2000" || c.DedupeID() != "chg:order:5:30:2000" {
			t.Fatalf("change ids %s %s", c.EventID(), c.DedupeID())
		}
	})
	for _, bad := range []string{`[]`, `{"event":"x"}`, `{"eventId":"e"}`, `{"eventId":"e","event":"x","info":"{nope"}`} {
		if _, err := ParsePush([]byte(bad)); err == nil {
			t.Errorf("ParsePush(%s) accepted", bad)
		}
	}
}
