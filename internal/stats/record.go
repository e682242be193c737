package stats

import (
	"errors"
	"strconv"
	"strings"
)

// recordVersion is written into every record; records of another version
// are skipped when read.
const recordVersion = 1

// Shop segments of a record key that are not open_ids. '=' never occurs in
// an open_id ([A-Za-z0-9_-]) but is allowed in NATS KV keys.
const (
	shopAll     = "=all"     // every call of the replica in the period
	shopApp     = "=app"     // app-level (client_credentials) calls
	shopInvalid = "=invalid" // an open_id that is not a valid key token
	appPrefix   = "=all="    // + app key: every call of one app (appSegment)
)

// appSegment is the key segment of one app's totals.
func appSegment(appKey string) string { return appPrefix + appKey }

// totals reports whether a segment holds totals (all calls, or one app's),
// which keep the reached calls per shop and per second.
func totals(seg string) bool { return seg == shopAll || strings.HasPrefix(seg, appPrefix) }

// cell is what one replica saw of one API in one period (and one shop, or
// all of them).
type cell struct {
	Calls    int64            `json:"c"`
	Failures int64            `json:"f,omitempty"`
	Reached  int64            `json:"r,omitempty"` // attempts the platform answered (an HTTP response arrived)
	SumMS    float64          `json:"s,omitempty"`
	MaxMS    float64          `json:"x,omitempty"`
	Hist     histogram        `json:"h"`
	Classes  map[string]int64 `json:"ec,omitempty"`
	Results  map[int64]int64  `json:"er,omitempty"`
}

func newCell() *cell { return &cell{Hist: newHistogram()} }

func (c *cell) observe(ms float64, failed bool, reached bool, class string, result int64) {
	c.Calls++
	if reached {
		c.Reached++
	}
	c.SumMS += ms
	if ms > c.MaxMS {
		c.MaxMS = ms
	}
	c.Hist[bucketOf(ms)]++
	if failed {
		c.Failures++
		if c.Classes == nil {
			c.Classes = map[string]int64{}
			c.Results = map[int64]int64{}
		}
		c.Classes[class]++
		c.Results[result]++
	}
}

func (c *cell) add(o *cell) {
	c.Calls += o.Calls
	c.Failures += o.Failures
	c.Reached += o.Reached
	c.SumMS += o.SumMS
	if o.MaxMS > c.MaxMS {
		c.MaxMS = o.MaxMS
	}
	c.Hist.add(o.Hist)
	for k, n := range o.Classes {
		if c.Classes == nil {
			c.Classes = map[string]int64{}
		}
		c.Classes[k] += n
	}
	for k, n := range o.Results {
		if c.Results == nil {
			c.Results = map[int64]int64{}
		}
		c.Results[k] += n
	}
}

// msgCounts are pushed-message counters.
type msgCounts struct {
	Received     int64 `json:"rcv,omitempty"`
	Duplicated   int64 `json:"dup,omitempty"`
	Delivered    int64 `json:"dlv,omitempty"`
	DeadLettered int64 `json:"dlq,omitempty"`
}

// lagValue is a consumer's pending count as last reported.
type lagValue struct {
	Pending int64 `json:"p"`
	At      int64 `json:"t"` // unix milliseconds
}

// record is one replica's cumulative view of one period (a minute or an
// hour) for one shop segment. The replica overwrites it on every flush, so
// writes are idempotent and only its owner ever writes the key.
type record struct {
	V       int                        `json:"v"`
	Replica string                     `json:"replica"`
	Start   int64                      `json:"start"` // unix seconds of the period start
	APIs    map[string]*cell           `json:"apis,omitempty"`
	Shops   map[string]int64           `json:"shops,omitempty"` // totals only: reached calls per open_id ("" = app-level)
	QPS     map[string]map[int64]int64 `json:"qps,omitempty"`   // totals' minutes only: API → second offset → reached calls
	Msgs    msgCounts                  `json:"msgs,omitzero"`   // totals only (all apps, or one app's)
	Lag     map[string]lagValue        `json:"lag,omitempty"`   // shopAll only
}

func (r *record) cell(api string) *cell {
	if r.APIs == nil {
		r.APIs = map[string]*cell{}
	}
	c := r.APIs[api]
	if c == nil {
		c = newCell()
		r.APIs[api] = c
	}
	return c
}

// recordKey is the KV key of a record: <start>.<replica>.<shop>.
func recordKey(start int64, replica, shop string) string {
	return strconv.FormatInt(start, 10) + "." + replica + "." + shop
}

// parseRecordKey splits a record key.
func parseRecordKey(key string) (start int64, replica, shop string, err error) {
	parts := strings.SplitN(key, ".", 3)
	if len(parts) != 3 {
		return 0, "", "", errors.New("stats: malformed record key")
	}
	start, err = strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", "", errors.New("stats: malformed record key")
	}
	return start, parts[1], parts[2], nil
}

// shopSegment is the key segment of an open_id.
func shopSegment(openID string) string {
	if openID == "" {
		return shopApp
	}
	if !validToken(openID) {
		return shopInvalid
	}
	return openID
}

// validToken reports whether s may be one KV key token: [A-Za-z0-9_-]+.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
