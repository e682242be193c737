package platform

// The platform's call limits, as its developer documentation states them
// (flow control, rate limits, developer guide, error 1008). This is the one
// table of them: the gateway's
// client-side limits, its quota view and the sandbox all read it.
const (
	DefaultAPIQPS        = 100       // per app per API, before and right after launch
	DailyCallsTest       = 100_000   // app total per day before launch
	DailyCallsOnline     = 1_000_000 // app total per day after launch (initial tier)
	TestUserDailyCalls   = 2_000     // per test user per day
	QuotaWarningFraction = 0.9       // the platform alerts at 90 % of a quota or QPS
)

// QPS is an API's QPS cap: App for the whole app, User per merchant (0 = none).
type QPS struct{ App, User int }

// qpsRows are the APIs whose caps differ from DefaultAPIQPS with no user cap.
var qpsRows = map[string]QPS{
	"open.item.new":                 {App: 100, User: 50},
	"open.item.edit":                {App: 100, User: 50},
	"open.item.autopass.edit":       {App: 100, User: 50},
	"open.item.shelf.status.update": {App: 100, User: 50},
	"open.item.delete":              {App: 100, User: 50},
	"open.order.cursor.list":        {App: 300, User: 300},
	"open.order.decrypt.batch":      {App: 100, User: 100},
}

// APIQPS returns an API's QPS caps.
func APIQPS(method string) QPS {
	if r, ok := qpsRows[method]; ok {
		return r
	}
	return QPS{App: DefaultAPIQPS}
}

// QPSRows returns a copy of the APIs with their own caps.
func QPSRows() map[string]QPS {
	out := make(map[string]QPS, len(qpsRows))
	for k, v := range qpsRows {
		out[k] = v
	}
	return out
}
