package platform

import (
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
)

// ScopeFor returns the permission group an API needs, or "" if the table
// does not know it. The platform's groups and the one table from API name to
// group are in internal/catalog (catalog.Scopes, catalog.Scope).
func ScopeFor(method string) string { return catalog.Scope(method) }

// MissingScope names the permission group a call refused with result 22
// lacked: a group the platform's message names that is not among granted
// (the platform's own word first), else the group of the API if it is not
// granted. "" means unknown, or already granted (then authorizing again
// would not help: the refusal has another cause).
func MissingScope(method, msg string, granted []string) string {
	for _, word := range strings.FieldsFunc(msg, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
		if catalog.IsScope(word) && !slices.Contains(granted, word) {
			return word
		}
	}
	if s := ScopeFor(method); s != "" && !slices.Contains(granted, s) {
		return s
	}
	return ""
}
