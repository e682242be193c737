// Package admin provides the sandbox's admin API under /sandbox/v1/ (JSON
// in, JSON out): the app, test users, codes, the clock, revocation, limits,
// buyer-side changes of orders and refunds, the pusher, faults and
// counters (docs/sandbox.md, Admin API).
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// The admin API has no authentication: the sandbox is a development tool
// and never returns secrets or tokens here (codes still need app_secret to
// be exchanged).

// Backend is the sandbox as the admin API drives it: the Go methods of
// sandbox.Sandbox it answers with.
type Backend interface {
	Now() time.Time
	Advance(d time.Duration)
	AppState() string
	SetAppState(state string) error
	Limits() limits.Limits
	SetLimits(l limits.Limits) error
	Usage() limits.Usage
	TestUsers() []shop.TestUser
	AddTestUser(name string) (shop.TestUser, error)
	IssueCode(testUser int, scopes []string) (string, error)
	Revoke(testUser int, openID string) (int, error)
	Counters() counters.Counters
	Pusher() pusher.Status
	SetPusher(u pusher.Update) (pusher.Settings, error)
	Pushes() []pusher.Push
	Faults() []faults.Fault
	InjectFault(f faults.Fault) (faults.Fault, error)
	ClearFaults() int
}

// server serves the admin endpoints.
type server struct {
	b     Backend
	app   *app.App    // key and scopes of the app view
	shops *shop.Shops // buyer-side changes, answered with the changed record
}

// Register adds the admin endpoints to mux: b answers them, a names the app
// and shops takes the buyer-side changes.
func Register(mux *http.ServeMux, b Backend, a *app.App, shops *shop.Shops) {
	s := &server{b: b, app: a, shops: shops}
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
	wire.WriteJSON(w, status, adminErr{Error: fmt.Sprintf(format, a...)})
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

func (s *server) appView() appView {
	return appView{AppKey: s.app.Key, State: s.b.AppState(), Scopes: s.app.Scopes, Now: clock.Millis(s.b.Now())}
}

func (s *server) adminApp(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, s.appView())
}

func (s *server) adminSetApp(w http.ResponseWriter, r *http.Request) {
	var body struct {
		State string `json:"state"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if err := s.b.SetAppState(body.State); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, s.appView())
}

type limitsView struct {
	Limits limits.Limits `json:"limits"`
	Usage  limits.Usage  `json:"usage"`
}

func (s *server) adminLimits(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, limitsView{s.b.Limits(), s.b.Usage()})
}

// adminSetLimits decodes the body over the limits in force: fields present
// replace (0 = the platform's default, negative = unlimited), map entries
// are merged.
func (s *server) adminSetLimits(w http.ResponseWriter, r *http.Request) {
	l := s.b.Limits()
	if !decodeBody(w, r, &l) {
		return
	}
	if err := s.b.SetLimits(l); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, limitsView{s.b.Limits(), s.b.Usage()})
}

// adminStatus maps the sandbox's errors to HTTP statuses.
func adminStatus(err error) int {
	switch {
	case errors.Is(err, shop.ErrNotFound), errors.Is(err, shop.ErrUnknownTestUser):
		return http.StatusNotFound
	case errors.Is(err, shop.ErrState):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// adminWrite answers with the record a change returned (a copy taken
// under the shops' lock).
func adminWrite[T any](w http.ResponseWriter, status int, v T, err error) {
	var b []byte
	if err == nil {
		b, err = json.Marshal(v)
	}
	if err != nil {
		adminError(w, adminStatus(err), "%v", err)
		return
	}
	wire.WriteJSONBytes(w, status, b)
}

func (s *server) adminCreateOrder(w http.ResponseWriter, r *http.Request) {
	var spec shop.OrderSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	o, err := s.shops.CreateOrder(spec)
	adminWrite(w, http.StatusCreated, o, err)
}

func (s *server) adminAdvanceOrder(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OrderID int64 `json:"orderId"`
		Status  int   `json:"status"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	o, err := s.shops.AdvanceOrder(body.OrderID, body.Status)
	adminWrite(w, http.StatusOK, o, err)
}

func (s *server) adminChangeAddress(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OrderID int64 `json:"orderId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	o, err := s.shops.ChangeOrderAddress(body.OrderID)
	adminWrite(w, http.StatusOK, o, err)
}

func (s *server) adminCreateRefund(w http.ResponseWriter, r *http.Request) {
	var spec shop.RefundSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	rf, err := s.shops.CreateRefund(spec)
	adminWrite(w, http.StatusCreated, rf, err)
}

func (s *server) adminReturnGoods(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RefundID    int64  `json:"refundId"`
		ExpressCode int64  `json:"expressCode"`
		ExpressNo   string `json:"expressNo"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	rf, err := s.shops.ReturnGoods(body.RefundID, body.ExpressCode, body.ExpressNo)
	adminWrite(w, http.StatusOK, rf, err)
}

func (s *server) adminPusher(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, s.b.Pusher())
}

func (s *server) adminSetPusher(w http.ResponseWriter, r *http.Request) {
	var u pusher.Update
	if !decodeBody(w, r, &u) {
		return
	}
	if _, err := s.b.SetPusher(u); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, s.b.Pusher())
}

// adminPushes lists messages, optionally filtered by ?status= and ?event=.
func (s *server) adminPushes(w http.ResponseWriter, r *http.Request) {
	status, event := r.URL.Query().Get("status"), r.URL.Query().Get("event")
	out := []pusher.Push{}
	for _, p := range s.b.Pushes() {
		if (status == "" || p.Status == status) && (event == "" || p.Event == event) {
			out = append(out, p)
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"pushes": out})
}

func (s *server) adminFaults(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"faults": s.b.Faults()})
}

func (s *server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var f faults.Fault
	if !decodeBody(w, r, &f) {
		return
	}
	f, err := s.b.InjectFault(f)
	if err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusCreated, f)
}

func (s *server) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, map[string]int{"cleared": s.b.ClearFaults()})
}

func (s *server) adminListUsers(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"testUsers": s.b.TestUsers()})
}

func (s *server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	u, err := s.b.AddTestUser(body.Name)
	switch {
	case errors.Is(err, shop.ErrTestUserLimit):
		adminError(w, http.StatusConflict, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		wire.WriteJSON(w, http.StatusCreated, u)
	}
}

func (s *server) adminCode(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TestUser int      `json:"testUser"`
		Scopes   []string `json:"scopes"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	code, err := s.b.IssueCode(body.TestUser, body.Scopes)
	switch {
	case errors.Is(err, shop.ErrUnknownTestUser):
		adminError(w, http.StatusNotFound, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		wire.WriteJSON(w, http.StatusOK, map[string]any{"code": code, "expiresIn": int64(rules.CodeLifetime / time.Second)})
	}
}

func (s *server) adminClock(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, map[string]int64{"now": clock.Millis(s.b.Now())})
}

func (s *server) adminAdvance(w http.ResponseWriter, r *http.Request) {
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
	s.b.Advance(time.Duration(*body.Seconds * float64(time.Second)))
	wire.WriteJSON(w, http.StatusOK, map[string]int64{"now": clock.Millis(s.b.Now())})
}

func (s *server) adminCounters(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, s.b.Counters())
}

func (s *server) adminRevoke(w http.ResponseWriter, r *http.Request) {
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
	n, err := s.b.Revoke(body.TestUser, body.OpenID)
	if err != nil {
		adminError(w, http.StatusNotFound, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
