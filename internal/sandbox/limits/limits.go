// Package limits provides the platform's call limits: daily quotas of the
// app and of each test user, and QPS caps per API, counted in fixed windows
// of the sandbox clock.
package limits

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Limits are the platform's call limits (internal/platform/limits.go). In
// every field 0 means the platform's default and a negative value means no
// limit, so tests can use small numbers and the zero value is the platform.
type Limits struct {
	// TestUserDailyCalls caps each test user's calls a day while the app is
	// in test state (default 2000).
	TestUserDailyCalls int `json:"testUserDailyCalls"`
	// AppDailyCallsTest and AppDailyCallsOnline cap the app's calls a day in
	// each state (defaults 100 000 and 1 000 000).
	AppDailyCallsTest   int `json:"appDailyCallsTest"`
	AppDailyCallsOnline int `json:"appDailyCallsOnline"`
	// APIQPS caps calls per second per API for the app (default 100).
	APIQPS int `json:"apiQps"`
	// APIQPSByMethod and UserQPSByMethod override the app and per-user QPS
	// of single APIs; the defaults are the rows of platform.APIQPS
	// (e.g. open.order.cursor.list 300/300).
	APIQPSByMethod  map[string]int `json:"apiQpsByMethod,omitempty"`
	UserQPSByMethod map[string]int `json:"userQpsByMethod,omitempty"`
}

// Clone copies l, its maps included.
func (l Limits) Clone() Limits {
	l.APIQPSByMethod = maps.Clone(l.APIQPSByMethod)
	l.UserQPSByMethod = maps.Clone(l.UserQPSByMethod)
	return l
}

// Validate reports every violation, joined; each wraps
// rules.ErrInvalidConfig.
func (l Limits) Validate() error {
	var errs []error
	for name, m := range map[string]map[string]int{"APIQPSByMethod": l.APIQPSByMethod, "UserQPSByMethod": l.UserQPSByMethod} {
		for k := range m {
			if !platform.ValidMethodName(k) {
				errs = append(errs, fmt.Errorf("%w: Limits.%s: %q is not an API method name", rules.ErrInvalidConfig, name, k))
			}
		}
	}
	return errors.Join(errs...)
}

// WithDefaults replaces zero fields with the platform's numbers.
func (l Limits) WithDefaults() Limits {
	l = l.Clone()
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.TestUserDailyCalls, rules.DefaultTestUserDailyCalls)
	def(&l.AppDailyCallsTest, rules.DefaultAppDailyCallsTest)
	def(&l.AppDailyCallsOnline, rules.DefaultAppDailyCallsOnline)
	def(&l.APIQPS, rules.DefaultAPIQPS)
	return l
}

func (l Limits) apiQPS(method string) int {
	if v := l.APIQPSByMethod[method]; v != 0 {
		return v
	}
	if r, ok := platform.QPSRows()[method]; ok {
		return r.App
	}
	return l.APIQPS
}

// userQPS is the per-user cap of method (0: none).
func (l Limits) userQPS(method string) int {
	if v := l.UserQPSByMethod[method]; v != 0 {
		return v
	}
	return platform.APIQPS(method).User
}

// Usage is what the limits have counted so far (today = the sandbox clock's
// day in UTC+8).
type Usage struct {
	Day           string      `json:"day"` // YYYY-MM-DD
	AppCallsToday int         `json:"appCallsToday"`
	TestUserCalls map[int]int `json:"testUserCallsToday"` // by test user id
}

// window counts events in one fixed window (a day or a second).
type window struct {
	at int64 // day or second number
	n  int
}

func (w *window) count(at int64) int {
	if w == nil || w.at != at {
		return 0
	}
	return w.n
}

func (w *window) add(at int64) {
	if w.at != at {
		w.at, w.n = at, 0
	}
	w.n++
}

// Limiter applies one app's limits and keeps their counts. It is safe for
// concurrent use and takes only the app's lock while holding its own.
type Limiter struct {
	app *app.App

	mu      sync.Mutex // guards everything below
	limits  Limits
	appDay  window
	userDay map[int]*window
	qps     map[qpsKey]*window
}

// New returns a limiter of the app's calls with limits l (defaults filled
// in by the caller) and no counts.
func New(a *app.App, l Limits) *Limiter {
	return &Limiter{app: a, limits: l.Clone()}
}

type qpsKey struct {
	method string
	user   int // 0: the app-wide counter
}

func dayNumber(t time.Time) int64 {
	return (t.Unix() + 8*3600) / 86400 // days of UTC+8; Unix() is >= 0 for any sandbox time
}

// Exceeded is a call refused by a limit: the platform's result code (1017
// quota, 1016 QPS) and its error_msg.
type Exceeded struct {
	Code int64
	Msg  string
}

func exceeded(code int64, format string, a ...any) *Exceeded {
	return &Exceeded{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Check applies the limits to one call of method by test user uid whose
// sellerId is seller (uid 0: an app-level token) and counts it when it
// passes; nil means it passed. uid is the caller's main account: a main
// account and all its sub-accounts are one test user (primaryUserId) to
// the test-user cap and the per-user QPS.
func (lim *Limiter) Check(method string, uid int, seller int64, now time.Time) *Exceeded {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	l, state, appKey := lim.limits, lim.app.State(), lim.app.Key
	day, sec := dayNumber(now), now.Unix()
	appDaily := l.AppDailyCallsTest
	if state == rules.AppStateOnline {
		appDaily = l.AppDailyCallsOnline
	}
	if appDaily >= 0 && lim.appDay.count(day) >= appDaily {
		return exceeded(platform.ResultQuotaExceeded, rules.MsgAppQuota, appKey)
	}
	userDaily := uid != 0 && state == rules.AppStateTest && l.TestUserDailyCalls >= 0
	if userDaily && lim.userDay[uid].count(day) >= l.TestUserDailyCalls {
		return exceeded(platform.ResultQuotaExceeded, rules.MsgUserQuota, appKey, seller)
	}
	appQPS := qpsKey{method: method}
	if q := l.apiQPS(method); q >= 0 && lim.qps[appQPS].count(sec) >= q {
		return exceeded(platform.ResultQPSExceeded, rules.MsgAPIQPS, method, appKey, float64(q))
	}
	userQPS := qpsKey{method: method, user: uid}
	uq := l.userQPS(method)
	perUser := uid != 0 && uq > 0
	if perUser && lim.qps[userQPS].count(sec) >= uq {
		return exceeded(platform.ResultQPSExceeded, rules.MsgUserQPS, method, appKey, seller, float64(uq))
	}

	lim.appDay.add(day)
	if userDaily {
		if lim.userDay == nil {
			lim.userDay = map[int]*window{}
		}
		if lim.userDay[uid] == nil {
			lim.userDay[uid] = &window{}
		}
		lim.userDay[uid].add(day)
	}
	lim.qpsWindow(appQPS, sec).add(sec)
	if perUser {
		lim.qpsWindow(userQPS, sec).add(sec)
	}
	return nil
}

func (lim *Limiter) qpsWindow(k qpsKey, sec int64) *window {
	if lim.qps == nil {
		lim.qps = map[qpsKey]*window{}
	}
	w, ok := lim.qps[k]
	if !ok {
		if len(lim.qps) >= maxQPSWindows { // forget windows of past seconds
			for k, w := range lim.qps {
				if w.at != sec {
					delete(lim.qps, k)
				}
			}
		}
		w = &window{}
		lim.qps[k] = w
	}
	return w
}

// maxQPSWindows bounds the per-second counters kept between prunings.
const maxQPSWindows = 4096

// Limits returns the limits in force, defaults filled in.
func (lim *Limiter) Limits() Limits {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.limits.Clone()
}

// Set replaces the limits (zero fields = the platform's defaults). Counts so
// far are kept.
func (lim *Limiter) Set(l Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	lim.limits = l.WithDefaults()
	return nil
}

// Usage reports the counts of the day of now for the given test users.
func (lim *Limiter) Usage(now time.Time, testUsers []int) Usage {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	day := dayNumber(now)
	u := Usage{Day: now.In(rules.QuotaZone).Format(time.DateOnly), AppCallsToday: lim.appDay.count(day), TestUserCalls: map[int]int{}}
	for _, id := range testUsers {
		u.TestUserCalls[id] = lim.userDay[id].count(day)
	}
	return u
}
