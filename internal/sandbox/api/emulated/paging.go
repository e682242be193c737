package emulated

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// pageKey positions a record in a listing sorted by (time, id).
type pageKey struct{ t, id int64 }

// encodeCursor makes the opaque cursor of a page's last record. Paging by
// key (not by offset) is stable: records created while paging never shift
// the window, so a window is returned exactly once.
func encodeCursor(k pageKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.t, 10) + "_" + strconv.FormatInt(k.id, 10)))
}

func decodeCursor(c string) (pageKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return pageKey{}, false
	}
	ts, ids, ok := strings.Cut(string(b), "_")
	if !ok {
		return pageKey{}, false
	}
	t, err1 := strconv.ParseInt(ts, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	return pageKey{t, id}, err1 == nil && err2 == nil
}

// pageByKey sorts recs by key (descending if desc), skips past cursor and
// returns one page plus the next cursor (rules.CursorEnd when nothing follows).
func pageByKey[T any](recs []T, key func(T) pageKey, desc bool, cursor string, size int) ([]T, string, *api.Error) {
	cmp := func(a, b pageKey) int {
		c := shop.CompareTimeID(a.t, a.id, b.t, b.id)
		if desc {
			return -c
		}
		return c
	}
	slices.SortFunc(recs, func(a, b T) int { return cmp(key(a), key(b)) })
	switch cursor {
	case "", "0": // first page ([GO1]: "" or "0")
	case rules.CursorEnd:
		return recs[:0], rules.CursorEnd, nil
	default:
		after, ok := decodeCursor(cursor)
		if !ok {
			return nil, "", api.BadParam("cursor invalid: pass \"\" for the first page, then the cursor of the previous answer")
		}
		i, _ := slices.BinarySearchFunc(recs, after, func(r T, k pageKey) int { return cmp(key(r), k) })
		for i < len(recs) && cmp(key(recs[i]), after) <= 0 {
			i++
		}
		recs = recs[i:]
	}
	if len(recs) <= size {
		return recs, rules.CursorEnd, nil
	}
	return recs[:size], encodeCursor(key(recs[size-1])), nil
}
