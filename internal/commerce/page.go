package commerce

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Paging limits of the gateway's list RPCs.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// maxCallsPerPage bounds the platform calls one gateway page may make
	// (a 90-day refund range has 90 one-day windows, most of them empty).
	// A page that hits it is returned short, with a next_page_token.
	maxCallsPerPage = 24
	// Lookback is how far back the platform's list APIs reach (beginTime
	// within the last 90 days).
	Lookback = 90 * 24 * time.Hour

	cursorEnd    = "nomore" // the platform's end-of-list cursor
	tokenVersion = 1
)

// pageToken is the opaque AIP-158 page token: base64url of this JSON. It
// carries the resolved range (so a default "now" stays fixed across pages),
// the window being walked, the platform's cursor inside it, and a hash of
// the request's filters; a token used with other filters is refused.
type pageToken struct {
	V      int    `json:"v"`
	Filter string `json:"f"`
	Begin  int64  `json:"b,omitempty"`  // range, ms
	End    int64  `json:"e,omitempty"`  // range, ms (exclusive)
	WBegin int64  `json:"wb,omitempty"` // current window, ms
	WEnd   int64  `json:"we,omitempty"` // current window, ms (exclusive)
	Cursor string `json:"c,omitempty"`  // platform cursor inside the window
	Offset int64  `json:"o,omitempty"`  // records already returned (offset-paged APIs)
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // plain struct: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseToken decodes s; filter is the hash of the current request's
// filters. An empty s gives ok=false and no error.
func parseToken(s, filter string) (t pageToken, ok bool, err error) {
	if s == "" {
		return pageToken{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.V != tokenVersion {
		return pageToken{}, false, fmt.Errorf("%w: not a token this gateway issued", ErrPageToken)
	}
	if t.Filter != filter {
		return pageToken{}, false, fmt.Errorf("%w: the token belongs to a request with other filters; send the same filters as for the first page", ErrPageToken)
	}
	return t, true, nil
}

// filterHash hashes the fields a page token is bound to.
func filterHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// tsKey is a Timestamp as given (absent and zero differ).
func tsKey(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return strconv.FormatInt(t.GetSeconds(), 10) + "." + strconv.Itoa(int(t.GetNanos()))
}

// pageSize applies the default.
func pageSize(n int32) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return min(int(n), MaxPageSize)
}

// span is a half-open time range in platform milliseconds.
type span struct{ Begin, End int64 }

// ceilMs is the first millisecond at or after t: a record at platform
// millisecond m lies in [start, end) exactly when ceilMs(start) <= m <
// ceilMs(end).
func ceilMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// resolveRange applies the defaults (end = now, start = end - defaultSpan)
// and checks the range against the platform's lookback.
func resolveRange(start, end *timestamppb.Timestamp, now time.Time, defaultSpan time.Duration) (span, error) {
	e := now
	if end != nil {
		if err := end.CheckValid(); err != nil {
			return span{}, &FieldError{"end_time", "must be a valid timestamp"}
		}
		e = end.AsTime()
	}
	s := e.Add(-defaultSpan)
	if start != nil {
		if err := start.CheckValid(); err != nil {
			return span{}, &FieldError{"start_time", "must be a valid timestamp"}
		}
		s = start.AsTime()
	}
	if !s.Before(e) {
		return span{}, &FieldError{"end_time", "must be after start_time"}
	}
	if s.Before(now.Add(-Lookback)) {
		if start == nil {
			return span{}, &FieldError{"end_time", "must be within the last 90 days (the platform's limit)"}
		}
		return span{}, &FieldError{"start_time", "must be within the last 90 days (the platform's limit)"}
	}
	r := span{ceilMs(s), ceilMs(e)}
	if r.Begin >= r.End {
		return span{}, &FieldError{"end_time", "must be at least 1 ms after start_time"}
	}
	return r, nil
}

// walker pages through a time range that the platform serves at most
// window at a time, newest window first, cursor by cursor inside each
// window.
type walker[T any] struct {
	window  time.Duration
	maxPage int // the platform's page size limit
	// fetch gets one platform page of the window w after cursor ("" =
	// first): the records and the next cursor ("" or "nomore" = the window
	// is done).
	fetch func(ctx context.Context, w span, cursor string, size int) ([]T, string, error)
	// timeOf is a record's filtered time (ms). Records outside the window
	// are dropped, so a platform whose windows include both ends can never
	// return a boundary record twice.
	timeOf func(T) int64
}

// firstWindow is the newest window of r.
func (w walker[T]) firstWindow(r span) span {
	return span{max(r.Begin, r.End-w.window.Milliseconds()), r.End}
}

// walk collects up to size records starting at tok's position and returns
// them with the position to continue from (nil when the range is done).
func (w walker[T]) walk(ctx context.Context, r span, tok pageToken, size int) ([]T, *pageToken, error) {
	out := make([]T, 0, size)
	for calls := 0; ; calls++ {
		if calls == maxCallsPerPage {
			return out, &tok, nil
		}
		win := span{tok.WBegin, tok.WEnd}
		recs, next, err := w.fetch(ctx, win, tok.Cursor, min(size-len(out), w.maxPage))
		if err != nil {
			return nil, nil, err
		}
		for _, rec := range recs {
			if t := w.timeOf(rec); t >= win.Begin && t < win.End {
				out = append(out, rec)
			}
		}
		// The window is done at the end cursor, and also when the cursor
		// does not move (a platform bug must not loop forever).
		if next == "" || next == cursorEnd || next == tok.Cursor {
			if win.Begin <= r.Begin {
				return out, nil, nil
			}
			tok.WEnd, tok.WBegin, tok.Cursor = win.Begin, max(r.Begin, win.Begin-w.window.Milliseconds()), ""
		} else {
			tok.Cursor = next
		}
		if len(out) >= size {
			return out, &tok, nil
		}
	}
}

// checkWindow validates a decoded token's window against the range.
func (w walker[T]) checkWindow(r span, t pageToken) error {
	if t.Begin != r.Begin || t.End != r.End || t.WBegin < r.Begin || t.WEnd > r.End || t.WBegin >= t.WEnd ||
		t.WEnd-t.WBegin > w.window.Milliseconds() || len(t.Cursor) > 512 || strings.ContainsAny(t.Cursor, "\x00") {
		return fmt.Errorf("%w: its position lies outside the requested range", ErrPageToken)
	}
	return nil
}

// listWindows is the common body of ListOrders and ListRefunds: resolve the
// range (from the token on later pages), walk, and encode the next token.
func listWindows[T any](ctx context.Context, w walker[T], filter, token string, start, end *timestamppb.Timestamp,
	now time.Time, size int) ([]T, string, error) {
	tok, ok, err := parseToken(token, filter)
	if err != nil {
		return nil, "", err
	}
	var r span
	if ok {
		r = span{tok.Begin, tok.End}
		if err := w.checkWindow(r, tok); err != nil {
			return nil, "", err
		}
	} else {
		if r, err = resolveRange(start, end, now, w.window); err != nil {
			return nil, "", err
		}
		first := w.firstWindow(r)
		tok = pageToken{V: tokenVersion, Filter: filter, Begin: r.Begin, End: r.End, WBegin: first.Begin, WEnd: first.End}
	}
	recs, next, err := w.walk(ctx, r, tok, size)
	if err != nil || next == nil {
		return recs, "", err
	}
	return recs, next.encode(), nil
}
