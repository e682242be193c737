package commerce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// The package speaks Go types: proto messages exist only at the service
// edge, so no file here may import the generated packages.
func TestPackage_ImportsNoGeneratedCode(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "/kwaishop-gateway/gen/") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

func TestWalkAll_EachRecordOnceInWindowOrder(t *testing.T) {
	t.Parallel()
	const day = int64(24 * time.Hour / time.Millisecond)
	begin, end := 10*day+123, 30*day+7
	var times []int64
	for m := begin - 1; m <= end+1; m += day / 3 {
		times = append(times, m)
	}
	// Records on window boundaries: an inclusive platform returns them in
	// two windows.
	for w := begin; w <= end; w += 7 * day {
		times = append(times, w, w-1)
	}
	want := 0
	for _, tm := range times {
		if tm >= begin && tm < end {
			want++
		}
	}
	for _, dir := range []Direction{OldestFirst, NewestFirst} {
		t.Run(fmt.Sprint("dir=", dir), func(t *testing.T) {
			p := &fakePlatform{times: times, window: 7 * day, maxPage: 5, inclusive: true}
			w := walker[rec]{window: 7 * 24 * time.Hour, maxPage: 5, dir: dir, fetch: p.fetch, timeOf: func(x rec) int64 { return x.t }}
			seen := map[int64]bool{}
			var windows []span
			var cur span
			curDone := true
			err := w.walkAll(context.Background(), span{begin, end}, func(b Batch[rec]) error {
				win := span{b.WindowStart.UnixMilli(), b.WindowEnd.UnixMilli()}
				if win != cur {
					if !curDone {
						t.Fatalf("window %v began before window %v was done", win, cur)
					}
					cur = win
				}
				curDone = b.WindowDone
				for _, x := range b.Records {
					if x.t < win.Begin || x.t >= win.End || seen[x.id] {
						t.Fatalf("record %+v in window %v (seen before: %v)", x, win, seen[x.id])
					}
					seen[x.id] = true
				}
				if b.WindowDone {
					windows = append(windows, win)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != want {
				t.Fatalf("%d records, want %d", len(seen), want)
			}
			// The windows tile the range in the walk's direction.
			if dir == NewestFirst {
				slices.Reverse(windows)
			}
			if len(windows) != 3 || windows[0].Begin != begin || windows[len(windows)-1].End != end {
				t.Fatalf("windows %v do not cover [%d, %d) in 3 steps", windows, begin, end)
			}
			for i := 1; i < len(windows); i++ {
				if windows[i].Begin != windows[i-1].End {
					t.Fatalf("windows %v leave a gap", windows)
				}
			}
		})
	}
}

func TestWalkAll_StopsAtTheCallersError(t *testing.T) {
	t.Parallel()
	p := &fakePlatform{times: []int64{5, 50, 500}, window: 100, maxPage: 10}
	w := walker[rec]{window: 100 * time.Millisecond, maxPage: 10, dir: OldestFirst, fetch: p.fetch, timeOf: func(x rec) int64 { return x.t }}
	stop := fmt.Errorf("stop")
	err := w.walkAll(context.Background(), span{0, 1000}, func(b Batch[rec]) error {
		if len(b.Records) > 0 {
			return stop
		}
		return nil
	})
	if err != stop || p.calls != 1 {
		t.Fatalf("err = %v after %d calls; want the caller's error after 1", err, p.calls)
	}
}

// recordingCaller answers each call with answer(request) and keeps the
// requests' business parameters.
type recordingCaller struct {
	params  []map[string]any
	methods []string
	answer  func(method string, param map[string]any) string
}

func (c *recordingCaller) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	var p map[string]any
	d := json.NewDecoder(bytes.NewReader(r.Param))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return nil, err
	}
	c.params, c.methods = append(c.params, p), append(c.methods, r.Method)
	return &platform.Response{Data: json.RawMessage(c.answer(r.Method, p)), RequestID: "req-1"}, nil
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return n
}

// orderJSON is a platform order created and updated at the given times,
// laid out with whitespace as a platform may send it.
func orderJSON(oid, created, updated int64) string {
	return fmt.Sprintf(`{ "orderBaseInfo": { "oid": %d, "status": 40, "createTime": %d, "updateTime": %d, "buyerNick": "a \"b\" [c]" },
  "orderItemInfo": {"itemTitle": "T恤 {L}"} }`, oid, created, updated)
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestShop_ListOrders(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(100 * 24 * 3600 * 1000)
	c := &recordingCaller{answer: func(string, map[string]any) string {
		return `{"cursor": "nomore", "orderList": [` + orderJSON(2, now.UnixMilli()-10, now.UnixMilli()-5) + `, ` +
			orderJSON(1, now.UnixMilli()-20, now.UnixMilli()-1) + `]}`
	}}
	s := Shop{Caller: c, OpenID: "shop", Now: func() time.Time { return now }}
	l, err := s.ListOrders(context.Background(), OrderQuery{TimeField: ByUpdateTime, Status: OrderStatusPaid}, Page{Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.params) != 1 || c.methods[0] != apiOrderList {
		t.Fatalf("calls %v", c.methods)
	}
	p := c.params[0]
	if num(t, p["sort"]) != 1 || num(t, p["queryType"]) != 2 || num(t, p["orderViewStatus"]) != 3 || num(t, p["pageSize"]) != 5 ||
		num(t, p["endTime"]) != now.UnixMilli() || num(t, p["beginTime"]) != now.Add(-OrderWindow).UnixMilli() {
		t.Fatalf("params %v", p)
	}
	if len(l.Items) != 2 || l.NextPageToken != "" || l.Items[0].ID != 2 || l.Items[1].ID != 1 ||
		l.Items[0].BuyerNick != `a "b" [c]` || l.Items[0].Item.Title != "T恤 {L}" {
		t.Fatalf("listing %+v", l)
	}
	// Raw is each order's own text, compact.
	if got, want := l.Items[1].Raw, compactJSON(t, orderJSON(1, now.UnixMilli()-20, now.UnixMilli()-1)); got != want {
		t.Fatalf("raw %s, want %s", got, want)
	}
}

func TestShop_WalkOrders_OldestFirst(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	now := time.UnixMilli(int64(100 * day / time.Millisecond))
	begin, end := now.Add(-10*day), now.Add(-time.Minute)
	// One order per day, updated at noon; the platform answers two a page
	// (fewer than asked for, as it may).
	var orders []int64
	for ts := begin.Add(12 * time.Hour); ts.Before(end); ts = ts.Add(day) {
		orders = append(orders, ts.UnixMilli())
	}
	c := &recordingCaller{}
	c.answer = func(_ string, p map[string]any) string {
		b, e := num(t, p["beginTime"]), num(t, p["endTime"])
		var in []string
		for i, u := range orders {
			if u >= b && u < e {
				in = append(in, orderJSON(int64(i+1), u-1000, u))
			}
		}
		if num(t, p["pageSize"]) != orderPageMax {
			t.Errorf("pageSize %v", p["pageSize"])
		}
		from, _ := strconv.Atoi(p["cursor"].(string))
		to := min(len(in), from+2)
		next := strconv.Itoa(to)
		if to >= len(in) {
			next = "nomore"
		}
		return `{"cursor":"` + next + `","orderList":[` + strings.Join(in[from:to], ",") + `]}`
	}
	s := Shop{Caller: c, OpenID: "shop", Now: func() time.Time { return now }}
	var got []int64
	var windowEnds []int64
	err := s.WalkOrders(context.Background(), OrderQuery{Start: begin, End: end, TimeField: ByUpdateTime}, OldestFirst, func(b Batch[Order]) error {
		for _, o := range b.Records {
			got = append(got, o.UpdateTime.UnixMilli())
		}
		if b.WindowDone {
			windowEnds = append(windowEnds, b.WindowEnd.UnixMilli())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, orders) {
		t.Fatalf("walked %v, want %v", got, orders)
	}
	if want := []int64{begin.Add(7 * day).UnixMilli(), end.UnixMilli()}; !slices.Equal(windowEnds, want) {
		t.Fatalf("windows ended at %v, want %v", windowEnds, want)
	}
	for _, p := range c.params {
		if num(t, p["sort"]) != 2 || num(t, p["queryType"]) != 2 || num(t, p["endTime"])-num(t, p["beginTime"]) > OrderWindow.Milliseconds() {
			t.Fatalf("params %v", p)
		}
	}
}

func TestRawElements(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"compact", `{"cursor":"x","list":[{"a":1},{"b":"]}"}]}`, []string{`{"a":1}`, `{"b":"]}"}`}},
		{"spaced", "{ \"list\" : [ {\"a\": [1, 2]} ,\n {\"b\": \"x y\"} ], \"n\": 2 }", []string{`{"a":[1,2]}`, `{"b":"x y"}`}},
		{"escaped_quotes", `{"k\"list":1,"list":[{"s":"a\\"},{"s":"\"}{"}]}`, []string{`{"s":"a\\"}`, `{"s":"\"}{"}`}},
		{"other_spelling", `{"List":[{"a":1}]}`, []string{`{"a":1}`}},
		{"empty", `{"list":[]}`, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				List []json.RawMessage `json:"list"`
			}
			if err := json.Unmarshal([]byte(tc.data), &v); err != nil {
				t.Fatal(err)
			}
			got, err := rawElements([]byte(tc.data), "list", len(v.List))
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("rawElements = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMembers_AgreesWithTheDecoder(t *testing.T) {
	t.Parallel()
	// Every testdata-like page the decoder reads, members splits the same.
	pages := []string{
		`{"orderList":[` + orderJSON(1, 1, 2) + `,` + orderJSON(2, 3, 4) + `],"cursor":"c"}`,
		`{"a":{"orderList":[1]},"orderList":[[],{},"x",1.5e3,null,true]}`,
	}
	for _, page := range pages {
		var v struct {
			List []json.RawMessage `json:"orderList"`
		}
		if err := json.Unmarshal([]byte(page), &v); err != nil {
			t.Fatal(err)
		}
		elems, ok := members([]byte(page), "orderList")
		if !ok || len(elems) != len(v.List) {
			t.Fatalf("members(%s) = %d elements, ok=%v; decoder %d", page, len(elems), ok, len(v.List))
		}
		for i := range elems {
			if string(elems[i]) != string(v.List[i]) {
				t.Fatalf("element %d: %s, decoder %s", i, elems[i], v.List[i])
			}
		}
	}
}
