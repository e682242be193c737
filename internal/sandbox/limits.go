package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
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

func (l Limits) clone() Limits {
	l.APIQPSByMethod = maps.Clone(l.APIQPSByMethod)
	l.UserQPSByMethod = maps.Clone(l.UserQPSByMethod)
	return l
}

// validate reports violations through bad.
func (l Limits) validate(bad func(format string, a ...any)) {
	for name, m := range map[string]map[string]int{"APIQPSByMethod": l.APIQPSByMethod, "UserQPSByMethod": l.UserQPSByMethod} {
		for k := range m {
			if !platform.ValidMethodName(k) {
				bad("Limits.%s: %q is not an API method name", name, k)
			}
		}
	}
}

// withDefaults replaces zero fields with the platform's numbers.
func (l Limits) withDefaults() Limits {
	l = l.clone()
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.TestUserDailyCalls, DefaultTestUserDailyCalls)
	def(&l.AppDailyCallsTest, DefaultAppDailyCallsTest)
	def(&l.AppDailyCallsOnline, DefaultAppDailyCallsOnline)
	def(&l.APIQPS, DefaultAPIQPS)
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

// limiter is the state of the limits; guarded by Sandbox.mu.
type limiter struct {
	appDay  window
	userDay map[int]*window
	qps     map[qpsKey]*window
}

type qpsKey struct {
	method string
	user   int // 0: the app-wide counter
}

func dayNumber(t time.Time) int64 {
	return (t.Unix() + 8*3600) / 86400 // days of UTC+8; Unix() is >= 0 for any sandbox time
}

// checkLimitsLocked applies the limits to one call (grant nil: app-level
// token) and counts it when it passes.
func (s *Sandbox) checkLimitsLocked(method string, g *grant, now time.Time) *apiError {
	l, lim := s.limits, &s.lim
	day, sec := dayNumber(now), now.Unix()
	appDaily := l.AppDailyCallsTest
	if s.appState == AppStateOnline {
		appDaily = l.AppDailyCallsOnline
	}
	if appDaily >= 0 && lim.appDay.count(day) >= appDaily {
		return apiErr(platform.ResultQuotaExceeded, msgAppQuota, s.cfg.AppKey)
	}
	var uid int
	var seller int64
	if g != nil {
		uid = g.userID
		seller = s.users[uid-1].SellerID
	}
	userDaily := uid != 0 && s.appState == AppStateTest && l.TestUserDailyCalls >= 0
	if userDaily && lim.userDay[uid].count(day) >= l.TestUserDailyCalls {
		return apiErr(platform.ResultQuotaExceeded, msgUserQuota, s.cfg.AppKey, seller)
	}
	appKey := qpsKey{method: method}
	if q := l.apiQPS(method); q >= 0 && lim.qps[appKey].count(sec) >= q {
		return apiErr(platform.ResultQPSExceeded, msgAPIQPS, method, s.cfg.AppKey, float64(q))
	}
	userKey := qpsKey{method: method, user: uid}
	uq := l.userQPS(method)
	perUser := uid != 0 && uq > 0
	if perUser && lim.qps[userKey].count(sec) >= uq {
		return apiErr(platform.ResultQPSExceeded, msgUserQPS, method, s.cfg.AppKey, seller, float64(uq))
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
	lim.qpsWindow(appKey, sec).add(sec)
	if perUser {
		lim.qpsWindow(userKey, sec).add(sec)
	}
	return nil
}

func (l *limiter) qpsWindow(k qpsKey, sec int64) *window {
	if l.qps == nil {
		l.qps = map[qpsKey]*window{}
	}
	w, ok := l.qps[k]
	if !ok {
		if len(l.qps) >= maxQPSWindows { // forget windows of past seconds
			for k, w := range l.qps {
				if w.at != sec {
					delete(l.qps, k)
				}
			}
		}
		w = &window{}
		l.qps[k] = w
	}
	return w
}

// maxQPSWindows bounds the per-second counters kept between prunings.
const maxQPSWindows = 4096

// Limits returns the limits in force, defaults filled in.
func (s *Sandbox) Limits() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.clone()
}

// SetLimits replaces the limits (zero fields = the platform's defaults).
// Counts so far are kept.
func (s *Sandbox) SetLimits(l Limits) error {
	var errs []error
	l.validate(func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l.withDefaults()
	return nil
}

// Usage reports today's counts.
func (s *Sandbox) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	day := dayNumber(now)
	u := Usage{Day: now.In(quotaZone).Format(time.DateOnly), AppCallsToday: s.lim.appDay.count(day), TestUserCalls: map[int]int{}}
	for _, tu := range s.users {
		u.TestUserCalls[tu.ID] = s.lim.userDay[tu.ID].count(day)
	}
	return u
}

// AppState is "test" or "online".
func (s *Sandbox) AppState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appState
}

// SetAppState switches the app between AppStateTest and AppStateOnline.
func (s *Sandbox) SetAppState(state string) error {
	if state != AppStateTest && state != AppStateOnline {
		return fmt.Errorf("%w: app state %q, want %q or %q", ErrInvalidConfig, state, AppStateTest, AppStateOnline)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appState = state
	return nil
}
