package limit

import (
	"fmt"
	"strconv"
	"time"
)

// Kind names the limit that refused a call.
type Kind int

// Limit kinds.
const (
	KindQPS           Kind = iota + 1 // the app's per-API QPS
	KindUserQPS                       // a per-user QPS cap of one API
	KindDaily                         // the app's daily call quota
	KindTestUserDaily                 // a test user's daily call quota
	KindInFlight                      // this replica's cap on concurrent upstream calls
	KindUnavailable                   // the shared budget could not be reached (store down)
)

var kindNames = map[Kind]string{
	KindQPS: "qps", KindUserQPS: "user_qps", KindDaily: "daily_quota", KindTestUserDaily: "test_user_daily_quota",
	KindInFlight: "in_flight", KindUnavailable: "unavailable",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "unknown"
}

// Error is a call refused by a client-side limit before it reached the
// platform. It never holds secrets.
type Error struct {
	Kind       Kind
	Method     string        // platform API name
	Limit      float64       // the limit in force (per second, per day or calls in flight)
	RetryAfter time.Duration // when a retry may pass
	Priority   Priority
	Err        error // KindUnavailable: the store error
	Waited     bool  // the caller asked to wait for a slot (up to its deadline)
}

func (e *Error) Error() string {
	var what string
	switch e.Kind {
	case KindQPS:
		what = "the app's QPS budget for this API (" + num(e.Limit) + "/s across all replicas) is used"
	case KindUserQPS:
		what = "the shop's QPS budget for this API (" + num(e.Limit) + "/s) is used"
	case KindDaily:
		what = "the app's daily call quota (" + num(e.Limit) + ") is used"
	case KindTestUserDaily:
		what = "the test user's daily call quota (" + num(e.Limit) + ") is used"
	case KindInFlight:
		what = "too many upstream calls in flight (" + num(e.Limit) + ")"
	case KindUnavailable:
		what = "the shared limit store is unavailable"
	default:
		what = "limited"
	}
	if (e.Kind == KindDaily || e.Kind == KindTestUserDaily) && e.Priority != PriorityHigh {
		what += " for " + e.Priority.String() + "-priority calls (the rest is kept for higher priorities)"
	}
	s := fmt.Sprintf("limit: %s: %s; retry in %s", e.Method, what, e.RetryAfter.Round(time.Millisecond))
	switch {
	case (e.Kind == KindQPS || e.Kind == KindUserQPS) && e.Waited:
		s += " (the next free slot is past this call's deadline)"
	case e.Kind == KindQPS || e.Kind == KindUserQPS:
		s += " or send " + MetadataWait + ": true to wait for a slot"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
