package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
)

// upload checks the file parts of a call (their names are the API's file
// fields: check ran first): each must be an image by its content, the
// types the gateway sends (platform.SniffImage). The answer's URL members
// then all name the stored image: URLBase + "images/" + the first 32 hex
// digits of the SHA-256 of the first file's bytes + its type, so the same
// bytes always get the same URL.
func (g *gen) upload(files map[string][]byte) *api.Error {
	names := slices.Sorted(maps.Keys(files))
	for _, n := range names {
		b := files[n]
		if len(b) == 0 {
			return api.BadParam("%s: the file is empty", n)
		}
		t, ok := platform.SniffImage(b)
		if !ok {
			return api.BadParam("%s: not an image (JPEG, PNG, GIF, WebP or BMP): its content reads as %s", n, t)
		}
		if g.fileURL == "" {
			sum := sha256.Sum256(b)
			g.fileURL = URLBase + "images/" + hex.EncodeToString(sum[:16]) + "." + strings.TrimPrefix(t, "image/")
		}
	}
	return nil
}
