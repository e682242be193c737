package rules

import (
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
)

// The consent page's groups are the platform's groups of the one table.
func TestKnownScopes_AreTheCatalogs(t *testing.T) {
	t.Parallel()
	want := catalog.Scopes()
	if len(KnownScopes) != len(want) {
		t.Fatalf("%d known scopes, catalog has %d", len(KnownScopes), len(want))
	}
	for i, k := range KnownScopes {
		if k.Name != want[i] || k.Desc == "" || !IsKnownScope(k.Name) {
			t.Errorf("scope %d: %q (%q), catalog says %q", i, k.Name, k.Desc, want[i])
		}
	}
	if IsKnownScope("merchant") {
		t.Error("IsKnownScope(merchant)")
	}
}
