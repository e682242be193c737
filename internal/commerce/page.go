package commerce

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Paging limits of the gateway's list RPCs.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// maxCallsPerPage bounds the platform calls one gateway page may make
	// (a 90-day refund range has 90 one-day windows, most of them empty).
	// A page that hits it is returned short, with a next_page_token.
	maxCallsPerPage = 24
	// maxCallsPerWindow bounds the platform pages a walk reads from one
	// window: a platform whose cursor keeps moving without end must not
	// keep a walk busy forever.
	maxCallsPerWindow = 10_000
	// Lookback is how far back the platform's list APIs reach (beginTime
	// within the last 90 days).
	Lookback = 90 * 24 * time.Hour

	cursorEnd    = "nomore" // the platform's end-of-list cursor
	tokenVersion = 1
)

// Page asks for one page of a list.
type Page struct {
	// Size is the most records the page holds: 0 selects DefaultPageSize,
	// more than MaxPageSize is cut to it.
	Size int
	// Token is "" for the first page, else the previous page's
	// NextPageToken (sent with the same query).
	Token string
}

func (p Page) size() int {
	if p.Size <= 0 {
		return DefaultPageSize
	}
	return min(p.Size, MaxPageSize)
}

// Listing is one page of a list.
type Listing[T any] struct {
	Items []T
	// NextPageToken continues the list; "" on its last page.
	NextPageToken string
	// TotalSize is the platform's count of all records where the API
	// reports one (items, express templates), else 0.
	TotalSize int64
}

// TimeField selects the time a range of orders or refunds applies to.
type TimeField int8

// Time fields.
const (
	ByCreateTime TimeField = iota // the default
	ByUpdateTime
)

// queryType is the platform's queryType parameter (1 create, 2 update).
func (f TimeField) queryType() int {
	if f == ByUpdateTime {
		return 2
	}
	return 1
}

// Direction orders a walk through a time range.
type Direction int8

// Directions.
const (
	// NewestFirst walks the newest window first and asks the platform for
	// the newest records first (the list RPCs' order).
	NewestFirst Direction = iota
	// OldestFirst walks the oldest window first, oldest records first: a
	// caller that records its progress after each window (the reconciler)
	// never skips a change.
	OldestFirst
)

// sort is the platform's sort parameter (1 newest first, 2 oldest first).
func (d Direction) sort() int {
	if d == OldestFirst {
		return 2
	}
	return 1
}

// Batch is what a walk hands its caller for each platform page.
type Batch[T any] struct {
	// Records are the page's records whose time lies in the window.
	Records []T
	// WindowStart and WindowEnd bound the window, [start, end).
	WindowStart, WindowEnd time.Time
	// WindowDone reports the window's last page: every record of the
	// window has been handed over.
	WindowDone bool
}

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

// tsKey is a range end as given ("-" when unset), as seconds.nanos: the
// form tokens issued before the service spoke Go types were bound to.
func tsKey(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return strconv.FormatInt(t.Unix(), 10) + "." + strconv.Itoa(t.Nanosecond())
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

// resolveRange applies the defaults (a zero end is now, a zero start is
// end - defaultSpan) and checks the range against the platform's lookback.
func resolveRange(start, end time.Time, now time.Time, defaultSpan time.Duration) (span, error) {
	e := now
	if !end.IsZero() {
		e = end
	}
	s := e.Add(-defaultSpan)
	if !start.IsZero() {
		s = start
	}
	if !s.Before(e) {
		return span{}, &FieldError{"end_time", "must be after start_time"}
	}
	if s.Before(now.Add(-Lookback)) {
		if start.IsZero() {
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
// window at a time, window by window in direction dir, cursor by cursor
// inside each window. The list RPCs (a page at a time, behind a page
// token) and the walks (every record, for the reconciler) share it.
type walker[T any] struct {
	window  time.Duration
	maxPage int // the platform's page size limit
	dir     Direction
	// fetch gets one platform page of the window w after cursor ("" =
	// first): the records and the next cursor ("" or "nomore" = the window
	// is done).
	fetch func(ctx context.Context, w span, cursor string, size int) ([]T, string, error)
	// timeOf is a record's filtered time (ms). Records outside the window
	// are dropped, so a platform whose windows include both ends can never
	// return a boundary record twice.
	timeOf func(T) int64
}

func (w walker[T]) windowMs() int64 { return w.window.Milliseconds() }

// firstWindow is the window of r a walk starts with.
func (w walker[T]) firstWindow(r span) span {
	if w.dir == OldestFirst {
		return span{r.Begin, min(r.End, r.Begin+w.windowMs())}
	}
	return span{max(r.Begin, r.End-w.windowMs()), r.End}
}

// nextWindow is the window after win; ok is false when win was r's last.
func (w walker[T]) nextWindow(r, win span) (next span, ok bool) {
	if w.dir == OldestFirst {
		if win.End >= r.End {
			return span{}, false
		}
		return span{win.End, min(r.End, win.End+w.windowMs())}, true
	}
	if win.Begin <= r.Begin {
		return span{}, false
	}
	return span{max(r.Begin, win.Begin-w.windowMs()), win.Begin}, true
}

// start is the position of a walk's first call.
func (w walker[T]) start(r span, filter string) pageToken {
	first := w.firstWindow(r)
	return pageToken{V: tokenVersion, Filter: filter, Begin: r.Begin, End: r.End, WBegin: first.Begin, WEnd: first.End}
}

// step reads the platform page at pos and moves pos past it. It returns
// the page's records inside the window, whether that was the window's last
// page, and whether it was the range's last (pos is then left as it was).
func (w walker[T]) step(ctx context.Context, r span, pos *pageToken, size int) (recs []T, windowDone, rangeDone bool, err error) {
	win := span{pos.WBegin, pos.WEnd}
	page, next, err := w.fetch(ctx, win, pos.Cursor, size)
	if err != nil {
		return nil, false, false, err
	}
	recs = page[:0]
	for _, rec := range page {
		if t := w.timeOf(rec); t >= win.Begin && t < win.End {
			recs = append(recs, rec)
		}
	}
	// The window is done at the end cursor, and also when the cursor does
	// not move (a platform bug must not loop forever).
	if next != "" && next != cursorEnd && next != pos.Cursor {
		pos.Cursor = next
		return recs, false, false, nil
	}
	nw, ok := w.nextWindow(r, win)
	if !ok {
		return recs, true, true, nil
	}
	pos.WBegin, pos.WEnd, pos.Cursor = nw.Begin, nw.End, ""
	return recs, true, false, nil
}

// walk collects up to size records starting at tok's position and returns
// them with the position to continue from (nil when the range is done).
func (w walker[T]) walk(ctx context.Context, r span, tok pageToken, size int) ([]T, *pageToken, error) {
	out := make([]T, 0, size)
	for range maxCallsPerPage {
		recs, _, done, err := w.step(ctx, r, &tok, min(size-len(out), w.maxPage))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, recs...)
		if done {
			return out, nil, nil
		}
		if len(out) >= size {
			break
		}
	}
	return out, &tok, nil
}

// walkAll hands every record of r to fn, one platform page at a time.
func (w walker[T]) walkAll(ctx context.Context, r span, fn func(Batch[T]) error) error {
	pos := w.start(r, "")
	calls := 0
	for {
		win := span{pos.WBegin, pos.WEnd}
		recs, windowDone, done, err := w.step(ctx, r, &pos, w.maxPage)
		if err != nil {
			return err
		}
		err = fn(Batch[T]{Records: recs, WindowStart: time.UnixMilli(win.Begin), WindowEnd: time.UnixMilli(win.End), WindowDone: windowDone})
		if err != nil || done {
			return err
		}
		if calls++; windowDone {
			calls = 0
		} else if calls == maxCallsPerWindow {
			return errors.New("commerce: the platform's listing of one window did not end")
		}
	}
}

// checkWindow validates a decoded token's window against the range.
func (w walker[T]) checkWindow(r span, t pageToken) error {
	if t.Begin != r.Begin || t.End != r.End || t.WBegin < r.Begin || t.WEnd > r.End || t.WBegin >= t.WEnd ||
		t.WEnd-t.WBegin > w.windowMs() || len(t.Cursor) > 512 || strings.ContainsAny(t.Cursor, "\x00") {
		return fmt.Errorf("%w: its position lies outside the requested range", ErrPageToken)
	}
	return nil
}

// listWindows is the common body of ListOrders and ListRefunds: resolve the
// range (from the token on later pages), walk, and encode the next token.
func listWindows[T any](ctx context.Context, w walker[T], filter, token string, start, end time.Time,
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
		tok = w.start(r, filter)
	}
	recs, next, err := w.walk(ctx, r, tok, size)
	if err != nil || next == nil {
		return recs, "", err
	}
	return recs, next.encode(), nil
}

// walkRange is the common body of WalkOrders and WalkRefunds.
func walkRange[T any](ctx context.Context, w walker[T], start, end, now time.Time, fn func(Batch[T]) error) error {
	r, err := resolveRange(start, end, now, w.window)
	if err != nil {
		return err
	}
	return w.walkAll(ctx, r, fn)
}
