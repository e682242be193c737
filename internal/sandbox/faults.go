package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Fault injection: the next Count calls of an API (or of every API) fail
// the way a real upstream can. Faults are checked before anything else, so
// they also hit calls that would have failed the signature check, and calls
// they answer count in Counters.Calls but not against the limits.

// Fault is one injected failure (POST /sandbox/v1/faults).
type Fault struct {
	// ID is assigned by the sandbox.
	ID int `json:"id"`
	// Method is the API name ("" = every gateway API); "oauth2.access_token"
	// and "oauth2.refresh_token" target the token endpoints.
	Method string `json:"method"`
	// Count is how many matching calls fail (0 = every call until cleared).
	Count int `json:"count"`
	// Kind is result, http5xx, delay, malformed or drop (rules.go).
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

const (
	faultOAuthToken   = "oauth2.access_token"
	faultOAuthRefresh = "oauth2.refresh_token"
)

func (f *Fault) normalize() error {
	var errs []string
	switch f.Kind {
	case FaultResult:
		if f.Result == 0 || f.Result == platform.ResultSuccess {
			errs = append(errs, "a result fault needs a result code other than 0 and 1")
		}
	case FaultHTTP5xx:
		if f.HTTPStatus == 0 {
			f.HTTPStatus = http.StatusServiceUnavailable
		}
		if f.HTTPStatus < 500 || f.HTTPStatus > 599 {
			errs = append(errs, "httpStatus must be 500-599")
		}
	case FaultDelay:
		if f.DelayMs < 1 || f.DelayMs > 60000 {
			errs = append(errs, "delayMs must be 1-60000")
		}
	case FaultMalformed, FaultDrop:
	default:
		errs = append(errs, fmt.Sprintf("kind %q: want %s, %s, %s, %s or %s", f.Kind, FaultResult, FaultHTTP5xx, FaultDelay, FaultMalformed, FaultDrop))
	}
	if f.Method != "" && f.Method != faultOAuthToken && f.Method != faultOAuthRefresh && !platform.ValidMethodName(f.Method) {
		errs = append(errs, fmt.Sprintf("method %q is not an API name", f.Method))
	}
	if f.Count < 0 {
		errs = append(errs, "count must be >= 0 (0 = until cleared)")
	}
	if len(f.ErrorMsg) > 1000 {
		errs = append(errs, "errorMsg longer than 1000 bytes")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: fault: %s", ErrInvalidConfig, strings.Join(errs, "; "))
	}
	f.Hits = 0
	return nil
}

// InjectFault adds a fault and returns it with its ID.
func (s *Sandbox) InjectFault(f Fault) (Fault, error) {
	if err := f.normalize(); err != nil {
		return Fault{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	f.ID = s.faultSeq
	s.faults = append(s.faults, &f)
	return f, nil
}

// Faults lists the active faults, oldest first.
func (s *Sandbox) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return out
}

// ClearFaults removes every fault and returns how many there were.
func (s *Sandbox) ClearFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = nil
	return n
}

// takeFaultLocked returns the first fault matching a call and uses it up.
func (s *Sandbox) takeFaultLocked(method string, oauth bool) (Fault, bool) {
	for i, f := range s.faults {
		if f.Method != method && (f.Method != "" || oauth) {
			continue
		}
		f.Hits++
		out := *f
		if f.Count > 0 && f.Hits >= f.Count {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		s.counters.Faults++
		return out, true
	}
	return Fault{}, false
}

// applyFault answers the call as the fault says; false means the call goes
// on normally (after a delay).
func (s *Sandbox) applyFault(w http.ResponseWriter, r *http.Request, f Fault, reqID string, oauth bool) bool {
	s.log.Debug("sandbox fault", "method", f.Method, "kind", f.Kind, "fault_id", f.ID)
	switch f.Kind {
	case FaultDelay:
		t := time.NewTimer(time.Duration(f.DelayMs) * time.Millisecond)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		return false
	case FaultResult:
		msg := f.ErrorMsg
		if msg == "" {
			msg = platform.CodeMessage(f.Result)
		}
		if oauth {
			writeJSON(w, http.StatusOK, &oauthError{Result: f.Result, Error: platform.OAuthErrorName(f.Result), ErrorMsg: msg})
		} else {
			writeJSONBytes(w, http.StatusOK, encodeEnvelope(reqID, &apiError{code: f.Result, msg: msg}, nil))
		}
	case FaultHTTP5xx:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.HTTPStatus)
		_, _ = io.WriteString(w, http.StatusText(f.HTTPStatus)+" (sandbox fault injection)\n")
	case FaultMalformed:
		writeJSONBytes(w, http.StatusOK, []byte(`{"result":1,"error_msg":"","requestId":"`+reqID+`","data":{"`))
	case FaultDrop:
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

// fault runs the fault matching a call, if any; true means it answered.
func (s *Sandbox) fault(w http.ResponseWriter, r *http.Request, method string, oauth bool, reqID string) bool {
	s.mu.Lock()
	f, ok := s.takeFaultLocked(method, oauth)
	s.mu.Unlock()
	return ok && s.applyFault(w, r, f, reqID, oauth)
}
