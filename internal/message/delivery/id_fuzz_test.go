package delivery

import (
	"bytes"
	"testing"
)

// FuzzDeliveryID: no input other than an id the server sealed opens (and
// opening never panics); an id that opens is exactly the sealed form of
// what it holds; sealed ids round-trip.
func FuzzDeliveryID(f *testing.F) {
	g := &Groups{idKey: bytes.Repeat([]byte{7}, deliveryKeyLen)}
	valid := g.deliveryID("$JS.ACK.KWAISHOP_MESSAGES.g.1.2.2.1700000000000000000.0", "f195d4c1ad4f4a8b8a2b1c3d4e5f6a7b")
	f.Add(valid, "$JS.ACK.KWAISHOP_MESSAGES.g.1.2.2.1700000000000000000.0", "shop")
	f.Add(valid[:len(valid)-1]+"A", "", "")
	f.Add("JEpTLkFDSy5LV0FJU0hPUF9NRVNTQUdFUy5nLjEuMi4yLjE3MDAwMDAwMDAwMDAwMDAwMDAuMA", "x", "")
	f.Add("AQAA", "", "")
	f.Fuzz(func(t *testing.T, id, reply, openID string) {
		if r, o, ok := g.openDeliveryID(id); ok && g.deliveryID(r, o) != id {
			t.Fatalf("%q opened to (%q, %q), which seals to another id", id, r, o)
		}
		sealed := g.deliveryID(reply, openID)
		r, o, ok := g.openDeliveryID(sealed)
		if len(sealed) <= maxDeliveryIDLen && (!ok || r != reply || o != openID) {
			t.Fatalf("(%q, %q) sealed to %q, opened to (%q, %q, %v)", reply, openID, sealed, r, o, ok)
		}
	})
}
