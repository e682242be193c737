// Package faults provides fault injection: the next calls of an API (or of
// every API, or of a token endpoint) fail the way a real upstream can, with
// a result code, an HTTP 5xx, a delay, a malformed body or a dropped
// connection.
package faults

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// Faults are checked before anything else, so they also hit calls that
// would have failed the signature check, and calls they answer count in
// Counters.Calls but not against the limits.

// Fault is one injected failure (POST /sandbox/v1/faults).
type Fault struct {
	// ID is assigned by the sandbox.
	ID int `json:"id"`
	// Method is the API name ("" = every gateway API); "oauth2.access_token"
	// and "oauth2.refresh_token" target the token endpoints.
	Method string `json:"method"`
	// Count is how many matching calls fail (0 = every call until cleared).
	Count int `json:"count"`
	// Kind is result, http5xx, delay, malformed or drop (package rules).
	Kind string `json:"kind"`
	// Result and ErrorMsg are the answer of a "result" fault (ErrorMsg
	// empty = the code's text in codes.go).
	Result   int64  `json:"result,omitempty"`
	ErrorMsg string `json:"errorMsg,omitempty"`
	// DelayMs is the wait of a "delay" fault (1-60000 ms).
	DelayMs int `json:"delayMs,omitempty"`
	// HTTPStatus is the status of an "http5xx" fault (500-599, default 503).
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Hits counts the calls the fault has answered so far.
	Hits int `json:"hits"`
}

// The method names of the token endpoints' faults.
const (
	OAuthToken   = "oauth2.access_token"
	OAuthRefresh = "oauth2.refresh_token"
)

func (f *Fault) normalize() error {
	var errs []string
	switch f.Kind {
	case rules.FaultResult:
		if f.Result == 0 || f.Result == platform.ResultSuccess {
			errs = append(errs, "a result fault needs a result code other than 0 and 1")
		}
	case rules.FaultHTTP5xx:
		if f.HTTPStatus == 0 {
			f.HTTPStatus = http.StatusServiceUnavailable
		}
		if f.HTTPStatus < 500 || f.HTTPStatus > 599 {
			errs = append(errs, "httpStatus must be 500-599")
		}
	case rules.FaultDelay:
		if f.DelayMs < 1 || f.DelayMs > 60000 {
			errs = append(errs, "delayMs must be 1-60000")
		}
	case rules.FaultMalformed, rules.FaultDrop:
	default:
		errs = append(errs, fmt.Sprintf("kind %q: want %s, %s, %s, %s or %s", f.Kind, rules.FaultResult, rules.FaultHTTP5xx, rules.FaultDelay, rules.FaultMalformed, rules.FaultDrop))
	}
	if f.Method != "" && f.Method != OAuthToken && f.Method != OAuthRefresh && !platform.ValidMethodName(f.Method) {
		errs = append(errs, fmt.Sprintf("method %q is not an API name", f.Method))
	}
	if f.Count < 0 {
		errs = append(errs, "count must be >= 0 (0 = until cleared)")
	}
	if len(f.ErrorMsg) > 1000 {
		errs = append(errs, "errorMsg longer than 1000 bytes")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: fault: %s", rules.ErrInvalidConfig, strings.Join(errs, "; "))
	}
	f.Hits = 0
	return nil
}

// Injector holds the active faults. It is safe for concurrent use and never
// takes another lock while holding its own.
type Injector struct {
	log      *slog.Logger
	counters *counters.Set

	mu     sync.Mutex // guards everything below
	faults []*Fault
	seq    int
}

// New returns an injector without faults; it counts the calls it answers
// in c.
func New(log *slog.Logger, c *counters.Set) *Injector {
	return &Injector{log: log, counters: c}
}

// Inject adds a fault and returns it with its ID.
func (s *Injector) Inject(f Fault) (Fault, error) {
	if err := f.normalize(); err != nil {
		return Fault{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	f.ID = s.seq
	s.faults = append(s.faults, &f)
	return f, nil
}

// List lists the active faults, oldest first.
func (s *Injector) List() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return out
}

// Clear removes every fault and returns how many there were.
func (s *Injector) Clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = nil
	return n
}

// takeLocked returns the first fault matching a call and uses it up.
func (s *Injector) takeLocked(method string, oauth bool) (Fault, bool) {
	for i, f := range s.faults {
		if f.Method != method && (f.Method != "" || oauth) {
			continue
		}
		f.Hits++
		out := *f
		if f.Count > 0 && f.Hits >= f.Count {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		s.counters.Add(func(c *counters.Counters) { c.Faults++ })
		return out, true
	}
	return Fault{}, false
}

// ResultWriter answers a "result" fault in the shape of the endpoint: the
// API envelope or the OAuth error.
type ResultWriter func(w http.ResponseWriter, code int64, msg string)

// apply answers the call as the fault says; false means the call goes on
// normally (after a delay).
func (s *Injector) apply(w http.ResponseWriter, r *http.Request, f Fault, reqID string, result ResultWriter) bool {
	s.log.Debug("sandbox fault", "method", f.Method, "kind", f.Kind, "fault_id", f.ID)
	switch f.Kind {
	case rules.FaultDelay:
		t := time.NewTimer(time.Duration(f.DelayMs) * time.Millisecond)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		return false
	case rules.FaultResult:
		msg := f.ErrorMsg
		if msg == "" {
			msg = platform.CodeMessage(f.Result)
		}
		result(w, f.Result, msg)
	case rules.FaultHTTP5xx:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.HTTPStatus)
		_, _ = io.WriteString(w, http.StatusText(f.HTTPStatus)+" (sandbox fault injection)\n")
	case rules.FaultMalformed:
		wire.WriteJSONBytes(w, http.StatusOK, []byte(`{"result":1,"error_msg":"","requestId":"`+reqID+`","data":{"`))
	case rules.FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	return true
}

// Intercept runs the fault matching a call, if any; true means it
// answered. oauth marks the token endpoints, which only faults naming them
// match; reqID is the API call's requestId ("" on the token endpoints) and
// result writes a "result" fault's answer.
func (s *Injector) Intercept(w http.ResponseWriter, r *http.Request, method string, oauth bool, reqID string, result ResultWriter) bool {
	s.mu.Lock()
	f, ok := s.takeLocked(method, oauth)
	s.mu.Unlock()
	return ok && s.apply(w, r, f, reqID, result)
}
