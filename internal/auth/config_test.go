package auth

import (
	"strings"
	"testing"
)

// The edge extends a copy of the configured host set with its own
// addresses; the configuration's set stays as given.
func TestHosts_CloneIsIndependent(t *testing.T) {
	t.Parallel()
	var h Hosts
	if err := h.UnmarshalText([]byte("gw.example.com")); err != nil {
		t.Fatal(err)
	}
	c := h.Clone()
	c.Add("10.0.0.1:8080")
	c.Add("tunnel.example.net:8443")
	if !c.Allows("tunnel.example.net:8443") || !c.Allows("gw.example.com:1") || !c.Allows("localhost") {
		t.Fatal("the clone lost or missed hosts")
	}
	if h.Allows("tunnel.example.net:8443") {
		t.Fatal("Add on the clone changed the original")
	}
	var none *Hosts
	if n := none.Clone(); !n.Allows("localhost:9") || n.Allows("gw.example.com") {
		t.Fatal("the clone of no hosts is not localhost only")
	}
}

func TestSettings_Parse(t *testing.T) {
	t.Parallel()
	var ks Keys
	if err := ks.UnmarshalText([]byte("a:0123456789abcdef0123,b:short")); err == nil || strings.Contains(err.Error(), "0123456789abcdef") || ks.Len() != 0 {
		t.Fatalf("bad keys: len %d, err %v", ks.Len(), err)
	}
	if err := ks.UnmarshalText([]byte("a:0123456789abcdef0123")); err != nil || ks.Len() != 1 {
		t.Fatalf("keys: len %d, err %v", ks.Len(), err)
	}
	var o Origins
	if err := o.UnmarshalText([]byte("https://a.example.com/path")); err == nil {
		t.Fatal("an origin with a path was accepted")
	}
	if err := (Settings{MaxStreamsPerKey: 0}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "KWAISHOP_MAX_STREAMS_PER_KEY: ") {
		t.Fatalf("Validate = %v", err)
	}
}
