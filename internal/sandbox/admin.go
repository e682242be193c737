package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// The admin API under /sandbox/v1/ (JSON in, JSON out). It has no
// authentication: the sandbox is a development tool and never returns
// secrets or tokens here (codes still need app_secret to be exchanged).

func (s *Sandbox) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/v1/app", s.adminApp)
	mux.HandleFunc("GET /sandbox/v1/test-users", s.adminListUsers)
	mux.HandleFunc("POST /sandbox/v1/test-users", s.adminAddUser)
	mux.HandleFunc("POST /sandbox/v1/codes", s.adminCode)
	mux.HandleFunc("GET /sandbox/v1/clock", s.adminClock)
	mux.HandleFunc("POST /sandbox/v1/clock:advance", s.adminAdvance)
	mux.HandleFunc("GET /sandbox/v1/counters", s.adminCounters)
	mux.HandleFunc("POST /sandbox/v1/authorizations:revoke", s.adminRevoke)
	mux.HandleFunc("POST /sandbox/v1/app", s.adminSetApp)
	mux.HandleFunc("GET /sandbox/v1/limits", s.adminLimits)
	mux.HandleFunc("POST /sandbox/v1/limits", s.adminSetLimits)
	mux.HandleFunc("POST /sandbox/v1/orders", s.adminCreateOrder)
	mux.HandleFunc("POST /sandbox/v1/orders:advance", s.adminAdvanceOrder)
	mux.HandleFunc("POST /sandbox/v1/orders:changeAddress", s.adminChangeAddress)
	mux.HandleFunc("POST /sandbox/v1/refunds", s.adminCreateRefund)
	mux.HandleFunc("POST /sandbox/v1/refunds:return", s.adminReturnGoods)
	mux.HandleFunc("GET /sandbox/v1/pusher", s.adminPusher)
	mux.HandleFunc("POST /sandbox/v1/pusher", s.adminSetPusher)
	mux.HandleFunc("GET /sandbox/v1/pushes", s.adminPushes)
	mux.HandleFunc("GET /sandbox/v1/faults", s.adminFaults)
	mux.HandleFunc("POST /sandbox/v1/faults", s.adminAddFault)
	mux.HandleFunc("DELETE /sandbox/v1/faults", s.adminClearFaults)
	mux.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "no such admin endpoint: %s %s", r.Method, r.URL.Path)
	})
}

type adminErr struct {
	Error string `json:"error"`
}

func adminError(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, adminErr{Error: fmt.Sprintf(format, a...)})
}

// decodeBody reads a JSON object into v; an empty body leaves v unchanged.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		adminError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		return false
	}
	return true
}

type appView struct {
	AppKey string   `json:"appKey"`
	State  string   `json:"state"` // "test" or "online"
	Scopes []string `json:"scopes"`
	Now    int64    `json:"now"`
}

func (s *Sandbox) appView() appView {
	return appView{AppKey: s.cfg.AppKey, State: s.AppState(), Scopes: s.cfg.Scopes, Now: ms(s.Now())}
}

func (s *Sandbox) adminApp(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.appView())
}

func (s *Sandbox) adminSetApp(w http.ResponseWriter, r *http.Request) {
	var body struct {
		State string `json:"state"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if err := s.SetAppState(body.State); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, s.appView())
}

type limitsView struct {
	Limits Limits `json:"limits"`
	Usage  Usage  `json:"usage"`
}

func (s *Sandbox) adminLimits(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, limitsView{s.Limits(), s.Usage()})
}

// adminSetLimits decodes the body over the limits in force: fields present
// replace (0 = the platform's default, negative = unlimited), map entries
// are merged.
func (s *Sandbox) adminSetLimits(w http.ResponseWriter, r *http.Request) {
	l := s.Limits()
	if !decodeBody(w, r, &l) {
		return
	}
	if err := s.SetLimits(l); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, limitsView{s.Limits(), s.Usage()})
}

// adminStatus maps the sandbox's errors to HTTP statuses.
func adminStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownTestUser):
		return http.StatusNotFound
	case errors.Is(err, ErrState):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// adminWrite answers with a live record encoded under the sandbox lock.
func (s *Sandbox) adminWrite(w http.ResponseWriter, status int, f func() (any, error)) {
	s.mu.Lock()
	v, err := f()
	var b []byte
	if err == nil {
		b, err = json.Marshal(v)
	}
	s.mu.Unlock()
	if err != nil {
		adminError(w, adminStatus(err), "%v", err)
		return
	}
	writeJSONBytes(w, status, b)
}

func (s *Sandbox) adminCreateOrder(w http.ResponseWriter, r *http.Request) {
	var spec OrderSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	s.adminWrite(w, http.StatusCreated, func() (any, error) { return s.createOrderLocked(spec) })
}

func (s *Sandbox) adminAdvanceOrder(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OrderID int64 `json:"orderId"`
		Status  int   `json:"status"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	s.adminWrite(w, http.StatusOK, func() (any, error) { return s.advanceOrderLocked(body.OrderID, body.Status) })
}

func (s *Sandbox) adminChangeAddress(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OrderID int64 `json:"orderId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	s.adminWrite(w, http.StatusOK, func() (any, error) { return s.changeAddressLocked(body.OrderID) })
}

func (s *Sandbox) adminCreateRefund(w http.ResponseWriter, r *http.Request) {
	var spec RefundSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	s.adminWrite(w, http.StatusCreated, func() (any, error) { return s.createRefundLocked(spec) })
}

func (s *Sandbox) adminReturnGoods(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RefundID    int64  `json:"refundId"`
		ExpressCode int64  `json:"expressCode"`
		ExpressNo   string `json:"expressNo"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	s.adminWrite(w, http.StatusOK, func() (any, error) { return s.returnGoodsLocked(body.RefundID, body.ExpressCode, body.ExpressNo) })
}

func (s *Sandbox) adminPusher(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Pusher())
}

func (s *Sandbox) adminSetPusher(w http.ResponseWriter, r *http.Request) {
	var u PusherUpdate
	if !decodeBody(w, r, &u) {
		return
	}
	if _, err := s.SetPusher(u); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, s.Pusher())
}

// adminPushes lists messages, optionally filtered by ?status= and ?event=.
func (s *Sandbox) adminPushes(w http.ResponseWriter, r *http.Request) {
	status, event := r.URL.Query().Get("status"), r.URL.Query().Get("event")
	out := []Push{}
	for _, p := range s.Pushes() {
		if (status == "" || p.Status == status) && (event == "" || p.Event == event) {
			out = append(out, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pushes": out})
}

func (s *Sandbox) adminFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
}

func (s *Sandbox) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeBody(w, r, &f) {
		return
	}
	f, err := s.InjectFault(f)
	if err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Sandbox) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int{"cleared": s.ClearFaults()})
}

func (s *Sandbox) adminListUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"testUsers": s.TestUsers()})
}

func (s *Sandbox) adminAddUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	u, err := s.AddTestUser(body.Name)
	switch {
	case errors.Is(err, ErrTestUserLimit):
		adminError(w, http.StatusConflict, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusCreated, u)
	}
}

func (s *Sandbox) adminCode(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TestUser int      `json:"testUser"`
		Scopes   []string `json:"scopes"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	code, err := s.IssueCode(body.TestUser, body.Scopes)
	switch {
	case errors.Is(err, ErrUnknownTestUser):
		adminError(w, http.StatusNotFound, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"code": code, "expiresIn": int64(codeLifetime / time.Second)})
	}
}

func (s *Sandbox) adminClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{"now": ms(s.Now())})
}

func (s *Sandbox) adminAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seconds *float64 `json:"seconds"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Seconds == nil || math.IsNaN(*body.Seconds) || math.Abs(*body.Seconds) > 100*365*24*3600 {
		adminError(w, http.StatusBadRequest, `want {"seconds": n} (negative moves the clock back)`)
		return
	}
	s.Advance(time.Duration(*body.Seconds * float64(time.Second)))
	writeJSON(w, http.StatusOK, map[string]int64{"now": ms(s.Now())})
}

func (s *Sandbox) adminCounters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Counters())
}

func (s *Sandbox) adminRevoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TestUser int    `json:"testUser"`
		OpenID   string `json:"openId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.TestUser == 0 && body.OpenID == "" {
		adminError(w, http.StatusBadRequest, `want {"testUser": id} or {"openId": "..."}`)
		return
	}
	n, err := s.Revoke(body.TestUser, body.OpenID)
	if err != nil {
		adminError(w, http.StatusNotFound, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
