package message

import (
	"testing"
)

// Ids beyond 2^53 keep every digit, sent as numbers or as strings; fields
// of a surprising shape read as zero without failing the message.
func TestPush_ExactAndTolerant(t *testing.T) {
	raw := []byte(`{"eventId":"e","bizId":9223372036854775807,"userId":"9007199254740993","event":"kwaishop_order_paySuccess",` +
		`"info":"{\"oid\":\"9007199254740995\",\"sellerId\":9007199254740997,\"status\":\"30\",\"updateTime\":\"1700000300000\"}",` +
		`"createTime":"1700000300000"}`)
	p, err := ParsePush(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Message()
	st, ok := m.Payload.(*OrderStatus)
	if !ok || m.BizID != 9223372036854775807 || m.UserID != 9007199254740993 || st.Oid != 9007199254740995 ||
		st.SellerID != 9007199254740997 || st.Status != 30 || st.UpdateTime.UnixMilli() != 1700000300000 ||
		m.CreateTime.UnixMilli() != 1700000300000 {
		t.Fatalf("decoded %+v %+v", m, m.Payload)
	}
	if got, want := p.DedupeID(), "chg:order:9007199254740995:30:1700000300000"; got != want {
		t.Fatalf("DedupeID = %s, want %s", got, want)
	}

	hostile := []byte(`{"eventId":"e","bizId":{"x":1},"userId":[1],"event":"kwaishop_order_addNote","createTime":true,` +
		`"info":{"oid":1.5,"note":{"a":1},"flag":"12abc","type":1e400,"operatorName":false,"updateTime":"1e3"}}`)
	p, err = ParsePush(hostile)
	if err != nil {
		t.Fatal(err)
	}
	m = p.Message()
	n, ok := m.Payload.(*OrderNote)
	if !ok || m.BizID != 0 || m.UserID != 0 || !m.CreateTime.IsZero() || n.Oid != 0 || n.Note != "" || n.Flag != 0 ||
		n.Type != 0 || n.OperatorName != "" || n.UpdateTime.UnixMilli() != 1000 {
		t.Fatalf("hostile fields: %+v %+v", m, n)
	}
}
