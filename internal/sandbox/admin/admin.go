// Package admin provides the sandbox's admin API under /sandbox/v1/ (JSON
// in, JSON out): the apps, test users and sub-accounts, console codes, the
// service market, the clock, revocation, limits, buyer-side changes of
// orders and refunds, the pusher, faults and counters (docs/sandbox.md,
// Admin API).
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// The admin API has no authentication: the sandbox is a development tool
// and never returns secrets or tokens here (codes still need app_secret to
// be exchanged).

// Backend is the sandbox as the admin API drives it: the Go methods of
// sandbox.Sandbox it answers with, the per-app ones acting on one app.
type Backend interface {
	Now() time.Time
	Advance(d time.Duration)
	AppState() string
	SetAppState(state string) error
	SetCallbackURL(u string) error
	Limits() limits.Limits
	SetLimits(l limits.Limits) error
	Usage() limits.Usage
	TestUsers() []shop.TestUser
	AddTestUser(name string) (shop.TestUser, error)
	AddSubAccount(mainID int, name string) (shop.TestUser, error)
	IssueCode(testUser int, scopes []string) (string, error)
	Revoke(testUser int, openID string) (int, error)
	OrderService(testUser int, period time.Duration) (oauth.ServiceOrder, error)
	ServiceOrders() []oauth.ServiceOrder
	UseService(testUser int) (string, error)
	Counters() counters.Counters
	Pusher() pusher.Status
	SetPusher(u pusher.Update) (pusher.Settings, error)
	Pushes() []pusher.Push
	Faults() []faults.Fault
	InjectFault(f faults.Fault) (faults.Fault, error)
	ClearFaults() int
}

// Target is one app as the admin API drives it: the backend acting on it,
// the app (its key and settings for the app view) and its shops (buyer-side
// changes, answered with the changed record).
type Target struct {
	Backend Backend
	App     *app.App
	Shops   *shop.Shops
}

// Directory finds the app a request names with ?app=<appKey>.
type Directory struct {
	// Lookup finds an app by key; "" is the first app.
	Lookup func(appKey string) (Target, bool)
	// Keys lists the apps' keys, the first app first.
	Keys func() []string
}

// server serves the admin endpoints.
type server struct{ d Directory }

// handler is an admin endpoint of the app the request names.
type handler func(w http.ResponseWriter, r *http.Request, t Target)

// Register adds the admin endpoints to mux. Every endpoint takes an
// optional ?app=<appKey> (default: the first app); the clock, counters and
// faults are the whole sandbox's whichever app is named.
func Register(mux *http.ServeMux, d Directory) {
	s := &server{d: d}
	for pattern, h := range map[string]handler{
		"GET /sandbox/v1/apps":                   s.adminApps,
		"GET /sandbox/v1/app":                    s.adminApp,
		"POST /sandbox/v1/app":                   s.adminSetApp,
		"GET /sandbox/v1/test-users":             s.adminListUsers,
		"POST /sandbox/v1/test-users":            s.adminAddUser,
		"POST /sandbox/v1/sub-accounts":          s.adminAddSubAccount,
		"POST /sandbox/v1/codes":                 s.adminCode,
		"GET /sandbox/v1/market/orders":          s.adminServiceOrders,
		"POST /sandbox/v1/market/orders":         s.adminOrderService,
		"POST /sandbox/v1/market:use":            s.adminUseService,
		"GET /sandbox/v1/clock":                  s.adminClock,
		"POST /sandbox/v1/clock:advance":         s.adminAdvance,
		"GET /sandbox/v1/counters":               s.adminCounters,
		"POST /sandbox/v1/authorizations:revoke": s.adminRevoke,
		"GET /sandbox/v1/limits":                 s.adminLimits,
		"POST /sandbox/v1/limits":                s.adminSetLimits,
		"POST /sandbox/v1/orders":                s.adminCreateOrder,
		"POST /sandbox/v1/orders:advance":        s.adminAdvanceOrder,
		"POST /sandbox/v1/orders:changeAddress":  s.adminChangeAddress,
		"POST /sandbox/v1/refunds":               s.adminCreateRefund,
		"POST /sandbox/v1/refunds:return":        s.adminReturnGoods,
		"GET /sandbox/v1/pusher":                 s.adminPusher,
		"POST /sandbox/v1/pusher":                s.adminSetPusher,
		"GET /sandbox/v1/pushes":                 s.adminPushes,
		"GET /sandbox/v1/faults":                 s.adminFaults,
		"POST /sandbox/v1/faults":                s.adminAddFault,
		"DELETE /sandbox/v1/faults":              s.adminClearFaults,
		"GET /sandbox/v1/security-logs":          s.adminSecurityLogs,
	} {
		mux.HandleFunc(pattern, s.withTarget(h))
	}
	mux.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "no such admin endpoint: %s %s", r.Method, r.URL.Path)
	})
}

// withTarget runs h on the app ?app= names.
func (s *server) withTarget(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		keys := r.URL.Query()["app"]
		if len(keys) > 1 {
			adminError(w, http.StatusBadRequest, "name one app (?app=<appKey>)")
			return
		}
		key := ""
		if len(keys) == 1 {
			key = keys[0]
		}
		t, ok := s.d.Lookup(key)
		if !ok {
			adminError(w, http.StatusNotFound, "no app %.64q", key)
			return
		}
		h(w, r, t)
	}
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
	AppKey      string   `json:"appKey"`
	Type        string   `json:"type"`  // "self_use" or "third_party"
	State       string   `json:"state"` // "test" or "online"
	SignMethod  string   `json:"signMethod,omitempty"`
	CallbackURL string   `json:"callbackUrl"`
	Scopes      []string `json:"scopes"`
	Now         int64    `json:"now"`
}

func viewOf(t Target) appView {
	return appView{
		AppKey: t.App.Key, Type: t.App.Type, State: t.Backend.AppState(), SignMethod: t.App.SignMethod,
		CallbackURL: t.App.CallbackURL(), Scopes: t.App.Scopes, Now: clock.Millis(t.Backend.Now()),
	}
}

func (s *server) adminApps(w http.ResponseWriter, r *http.Request, _ Target) {
	out := []appView{}
	for _, k := range s.d.Keys() {
		if t, ok := s.d.Lookup(k); ok {
			out = append(out, viewOf(t))
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"apps": out})
}

func (s *server) adminApp(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, viewOf(t))
}

// adminSetApp changes the app's state and/or callback URL.
func (s *server) adminSetApp(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		State       *string `json:"state"`
		CallbackURL *string `json:"callbackUrl"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.State == nil && body.CallbackURL == nil {
		adminError(w, http.StatusBadRequest, `want {"state": "test"|"online"} and/or {"callbackUrl": "..."}`)
		return
	}
	if body.State != nil {
		if err := t.Backend.SetAppState(*body.State); err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	if body.CallbackURL != nil {
		if err := t.Backend.SetCallbackURL(*body.CallbackURL); err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	wire.WriteJSON(w, http.StatusOK, viewOf(t))
}

type limitsView struct {
	Limits limits.Limits `json:"limits"`
	Usage  limits.Usage  `json:"usage"`
}

func (s *server) adminLimits(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, limitsView{t.Backend.Limits(), t.Backend.Usage()})
}

// adminSetLimits decodes the body over the limits in force: fields present
// replace (0 = the platform's default, negative = unlimited), map entries
// are merged.
func (s *server) adminSetLimits(w http.ResponseWriter, r *http.Request, t Target) {
	l := t.Backend.Limits()
	if !decodeBody(w, r, &l) {
		return
	}
	if err := t.Backend.SetLimits(l); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, limitsView{t.Backend.Limits(), t.Backend.Usage()})
}

// adminStatus maps the sandbox's errors to HTTP statuses.
func adminStatus(err error) int {
	switch {
	case errors.Is(err, shop.ErrNotFound), errors.Is(err, shop.ErrUnknownTestUser):
		return http.StatusNotFound
	case errors.Is(err, shop.ErrState), errors.Is(err, shop.ErrTestUserLimit), errors.Is(err, shop.ErrSubAccountLimit),
		errors.Is(err, oauth.ErrConsoleCodes), errors.Is(err, oauth.ErrNotThirdParty), errors.Is(err, oauth.ErrNotOrdered),
		errors.Is(err, oauth.ErrNoCallback):
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

func (s *server) adminCreateOrder(w http.ResponseWriter, r *http.Request, t Target) {
	var spec shop.OrderSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	o, err := t.Shops.CreateOrder(spec)
	adminWrite(w, http.StatusCreated, o, err)
}

func (s *server) adminAdvanceOrder(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		OrderID int64 `json:"orderId"`
		Status  int   `json:"status"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	o, err := t.Shops.AdvanceOrder(body.OrderID, body.Status)
	adminWrite(w, http.StatusOK, o, err)
}

func (s *server) adminChangeAddress(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		OrderID int64 `json:"orderId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	o, err := t.Shops.ChangeOrderAddress(body.OrderID)
	adminWrite(w, http.StatusOK, o, err)
}

func (s *server) adminCreateRefund(w http.ResponseWriter, r *http.Request, t Target) {
	var spec shop.RefundSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	rf, err := t.Shops.CreateRefund(spec)
	adminWrite(w, http.StatusCreated, rf, err)
}

func (s *server) adminReturnGoods(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		RefundID    int64  `json:"refundId"`
		ExpressCode int64  `json:"expressCode"`
		ExpressNo   string `json:"expressNo"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	rf, err := t.Shops.ReturnGoods(body.RefundID, body.ExpressCode, body.ExpressNo)
	adminWrite(w, http.StatusOK, rf, err)
}

func (s *server) adminPusher(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, t.Backend.Pusher())
}

func (s *server) adminSetPusher(w http.ResponseWriter, r *http.Request, t Target) {
	var u pusher.Update
	if !decodeBody(w, r, &u) {
		return
	}
	if _, err := t.Backend.SetPusher(u); err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, t.Backend.Pusher())
}

// adminPushes lists messages, optionally filtered by ?status= and ?event=.
func (s *server) adminPushes(w http.ResponseWriter, r *http.Request, t Target) {
	status, event := r.URL.Query().Get("status"), r.URL.Query().Get("event")
	out := []pusher.Push{}
	for _, p := range t.Backend.Pushes() {
		if (status == "" || p.Status == status) && (event == "" || p.Event == event) {
			out = append(out, p)
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"pushes": out})
}

func (s *server) adminFaults(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"faults": t.Backend.Faults()})
}

func (s *server) adminAddFault(w http.ResponseWriter, r *http.Request, t Target) {
	var f faults.Fault
	if !decodeBody(w, r, &f) {
		return
	}
	f, err := t.Backend.InjectFault(f)
	if err != nil {
		adminError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusCreated, f)
}

func (s *server) adminClearFaults(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, map[string]int{"cleared": t.Backend.ClearFaults()})
}

func (s *server) adminListUsers(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"testUsers": t.Backend.TestUsers()})
}

func (s *server) adminAddUser(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	u, err := t.Backend.AddTestUser(body.Name)
	adminWrite(w, http.StatusCreated, u, err)
}

func (s *server) adminAddSubAccount(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		MainID int    `json:"mainId"`
		Name   string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.MainID <= 0 {
		adminError(w, http.StatusBadRequest, `want {"mainId": <main account's test user id>, "name": "..."}`)
		return
	}
	u, err := t.Backend.AddSubAccount(body.MainID, body.Name)
	adminWrite(w, http.StatusCreated, u, err)
}

// adminCode is the console's "refresh code / copy code".
func (s *server) adminCode(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		TestUser int      `json:"testUser"`
		Scopes   []string `json:"scopes"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	code, err := t.Backend.IssueCode(body.TestUser, body.Scopes)
	adminWrite(w, http.StatusOK, map[string]any{"code": code, "expiresIn": int64(rules.CodeLifetime / time.Second)}, err)
}

func (s *server) adminServiceOrders(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"orders": t.Backend.ServiceOrders()})
}

// maxServiceDays bounds an order's days (rules.MaxServicePeriod).
const maxServiceDays = int(rules.MaxServicePeriod / (24 * time.Hour))

// adminOrderService orders or renews the service for a merchant.
func (s *server) adminOrderService(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		TestUser int    `json:"testUser"`
		OpenID   string `json:"openId"`
		Days     int    `json:"days"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if (body.TestUser == 0 && body.OpenID == "") || body.Days < 0 || body.Days > maxServiceDays {
		adminError(w, http.StatusBadRequest, `want {"testUser": id} or {"openId": "..."}, and "days" 1-%d (0 or absent: %d)`,
			maxServiceDays, int(rules.DefaultServicePeriod/(24*time.Hour)))
		return
	}
	u, ok := t.Shops.Find(body.TestUser, body.OpenID)
	if !ok {
		adminError(w, http.StatusNotFound, "%v", shop.ErrUnknownTestUser)
		return
	}
	o, err := t.Backend.OrderService(u.ID, time.Duration(body.Days)*24*time.Hour)
	adminWrite(w, http.StatusOK, o, err)
}

// adminUseService answers the "use service" redirect's target as JSON
// (GET /market/use answers it as a 302).
func (s *server) adminUseService(w http.ResponseWriter, r *http.Request, t Target) {
	var body struct {
		TestUser int `json:"testUser"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	loc, err := t.Backend.UseService(body.TestUser)
	adminWrite(w, http.StatusOK, map[string]string{"location": loc}, err)
}

func (s *server) adminClock(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, map[string]int64{"now": clock.Millis(t.Backend.Now())})
}

func (s *server) adminAdvance(w http.ResponseWriter, r *http.Request, t Target) {
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
	t.Backend.Advance(time.Duration(*body.Seconds * float64(time.Second)))
	wire.WriteJSON(w, http.StatusOK, map[string]int64{"now": clock.Millis(t.Backend.Now())})
}

func (s *server) adminCounters(w http.ResponseWriter, r *http.Request, t Target) {
	wire.WriteJSON(w, http.StatusOK, t.Backend.Counters())
}

func (s *server) adminRevoke(w http.ResponseWriter, r *http.Request, t Target) {
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
	n, err := t.Backend.Revoke(body.TestUser, body.OpenID)
	if err != nil {
		adminError(w, http.StatusNotFound, "%v", err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

// adminSecurityLogs lists the open.security.log.* entries a test user
// reported: ?open_id= (required).
func (s *server) adminSecurityLogs(w http.ResponseWriter, r *http.Request, t Target) {
	openID := r.URL.Query().Get("open_id")
	if openID == "" || len(openID) > 256 {
		adminError(w, http.StatusBadRequest, "open_id is required")
		return
	}
	logs, ok := emulated.ShopSecurityLogs(t.Shops, openID)
	if !ok {
		adminError(w, http.StatusNotFound, "no test user with this open_id")
		return
	}
	if logs == nil {
		logs = []emulated.SecurityLogEntry{}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"securityLogs": logs})
}
