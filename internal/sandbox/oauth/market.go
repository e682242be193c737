package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/clock"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// The service market (服务市场) of third-party apps (docs/sandbox.md): a
// merchant orders the app's service for a period on the sandbox clock and
// presses "use service" (使用服务), which redirects to the app's callback
// with a code and no state. Orders belong to main accounts.

// ServiceOrder is a merchant's order of a third-party app's service.
type ServiceOrder struct {
	// TestUser and OpenID are the main account's.
	TestUser int    `json:"testUser"`
	OpenID   string `json:"openId"`
	// Expiry is when the order ends (sandbox clock); ExpiresAt the same in
	// ms.
	Expiry    time.Time `json:"-"`
	ExpiresAt int64     `json:"expiresAt"`
	// Active: the order has not ended at the time asked.
	Active bool `json:"active"`
}

// OrderService orders, or renews, the app's service for the merchant
// testUser (a sub-account orders for its main account) for period
// (0 = rules.DefaultServicePeriod, at most rules.MaxServicePeriod): the order
// then ends period after its current end, or after now when it has none
// or it has ended. Self-use apps are not in the market (ErrNotThirdParty).
func (s *Server) OrderService(testUser int, period time.Duration) (ServiceOrder, error) {
	if !s.app.NeedsServiceOrder() {
		return ServiceOrder{}, ErrNotThirdParty
	}
	if period == 0 {
		period = rules.DefaultServicePeriod
	}
	if period < 0 || period > rules.MaxServicePeriod {
		return ServiceOrder{}, fmt.Errorf("%w: an order lasts more than 0 and at most %v", shop.ErrInvalidRequest, rules.MaxServicePeriod)
	}
	u, ok := s.users.TestUser(testUser)
	if !ok {
		return ServiceOrder{}, fmt.Errorf("%w: id %d", shop.ErrUnknownTestUser, testUser)
	}
	main, _ := s.users.TestUser(u.Main())
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	end := now
	if cur := s.orders[main.ID]; cur.After(now) {
		end = cur
	}
	s.orders[main.ID] = end.Add(period)
	return s.orderLocked(main, now), nil
}

// ServiceOrders lists the app's orders at now, by test user.
func (s *Server) ServiceOrders() []ServiceOrder {
	users := s.users.TestUsers()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := []ServiceOrder{}
	for _, u := range users {
		if _, ok := s.orders[u.ID]; ok {
			out = append(out, s.orderLocked(u, now))
		}
	}
	return out
}

func (s *Server) orderLocked(main shop.TestUser, now time.Time) ServiceOrder {
	end := s.orders[main.ID]
	return ServiceOrder{TestUser: main.ID, OpenID: main.OpenID, Expiry: end, ExpiresAt: clock.Millis(end), Active: now.Before(end)}
}

// UseService is "use service" (使用服务): the merchant testUser (a main
// account or a sub-account) authorizes the app with every scope it holds,
// and the platform redirects to the app's callback with the code and no
// state. It returns that URL. It needs a third-party app
// (ErrNotThirdParty) with a callback (ErrNoCallback) and the main
// account's live order (ErrNotOrdered).
func (s *Server) UseService(testUser int) (string, error) {
	if !s.app.NeedsServiceOrder() {
		return "", ErrNotThirdParty
	}
	u, ok := s.users.TestUser(testUser)
	if !ok {
		return "", fmt.Errorf("%w: id %d", shop.ErrUnknownTestUser, testUser)
	}
	cb := s.app.CallbackURL()
	if cb == "" {
		return "", ErrNoCallback
	}
	s.mu.Lock()
	now := s.clock.Now()
	if !s.subscribedLocked(u.Main(), now) {
		s.mu.Unlock()
		return "", ErrNotOrdered
	}
	code := s.newCodeLocked(u, slices.Clone(s.app.Scopes), now)
	s.mu.Unlock()
	target, err := url.Parse(cb) // validated when it was set
	if err != nil {
		return "", ErrNoCallback
	}
	q := target.Query()
	q.Del("state")
	q.Set("code", code)
	target.RawQuery = q.Encode()
	return target.String(), nil
}

// subscribedLocked reports whether the main account's authorizations may
// be used at now: always for apps outside the market, else while its
// order lasts.
func (s *Server) subscribedLocked(mainID int, now time.Time) bool {
	return !s.app.NeedsServiceOrder() || now.Before(s.orders[mainID])
}

// orderErrorLocked is the token endpoints' answer when the main account's
// order does not cover now (nil when it does).
func (s *Server) orderErrorLocked(mainID int, now time.Time) *oauthError {
	if s.subscribedLocked(mainID, now) {
		return nil
	}
	if _, had := s.orders[mainID]; had {
		return newOAuthError(rules.CodeNotOrdered, rules.MsgOrderExpired)
	}
	return newOAuthError(rules.CodeNotOrdered, rules.MsgNotOrdered)
}

// The market's pages: GET /market?app_id= lists the test users with their
// orders, POST /market/order (app_id, test_user, days) orders and returns
// to the list, GET /market/use?app_id=&test_user= is "use service".

type marketRow struct {
	User    shop.TestUser
	Expiry  string // UTC+8, empty without an order
	Active  bool
	CanUse  bool
	IsOwner bool // a main account (orders are its)
}

type marketPage struct {
	AppID, Callback string
	DefaultDays     int
	Rows            []marketRow
}

// marketApp picks the third-party app the request names, or answers an
// error page.
func (f *front) marketApp(w http.ResponseWriter, p url.Values) (*Server, bool) {
	id, _ := wire.First(p, "app_id")
	s, ok := f.apps(strings.TrimSpace(id))
	switch {
	case id == "":
		f.renderError(w, http.StatusBadRequest, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: app_id"), "")
	case !ok:
		f.renderError(w, http.StatusNotFound, nil, "app_id not found")
	case !s.app.NeedsServiceOrder():
		f.renderError(w, http.StatusConflict, nil, ErrNotThirdParty.Error())
	default:
		return s, true
	}
	return nil, false
}

func (f *front) handleMarketPage(w http.ResponseWriter, r *http.Request) {
	s, ok := f.marketApp(w, r.URL.Query())
	if !ok {
		return
	}
	orders := map[int]ServiceOrder{}
	for _, o := range s.ServiceOrders() {
		orders[o.TestUser] = o
	}
	page := marketPage{AppID: s.app.Key, Callback: s.app.CallbackURL(), DefaultDays: int(rules.DefaultServicePeriod / (24 * time.Hour))}
	for _, u := range s.users.TestUsers() {
		o, has := orders[u.Main()]
		row := marketRow{User: u, Active: o.Active, IsOwner: u.MainID == 0}
		if has {
			row.Expiry = o.Expiry.In(rules.QuotaZone).Format(time.DateTime)
		}
		row.CanUse = o.Active && page.Callback != ""
		page.Rows = append(page.Rows, row)
	}
	f.render(w, http.StatusOK, "market", page)
}

func (f *front) handleMarketOrder(w http.ResponseWriter, r *http.Request) {
	params, err := wire.Params(w, r)
	if err != nil {
		f.renderError(w, http.StatusBadRequest, nil, err.Error())
		return
	}
	s, ok := f.marketApp(w, params)
	if !ok {
		return
	}
	id, idErr := formInt(params, "test_user")
	days, daysErr := formInt(params, "days")
	maxDays := int(rules.MaxServicePeriod / (24 * time.Hour))
	if idErr != nil || daysErr != nil || days < 0 || days > maxDays {
		f.renderError(w, http.StatusBadRequest, nil, fmt.Sprintf("want test_user and days (1-%d, empty = %d)", maxDays, int(rules.DefaultServicePeriod/(24*time.Hour))))
		return
	}
	if _, err := s.OrderService(id, time.Duration(days)*24*time.Hour); err != nil {
		f.renderError(w, marketStatus(err), nil, err.Error())
		return
	}
	http.Redirect(w, r, "/market?"+url.Values{"app_id": {s.app.Key}}.Encode(), http.StatusSeeOther)
}

func (f *front) handleUseService(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s, ok := f.marketApp(w, q)
	if !ok {
		return
	}
	id, err := formInt(q, "test_user")
	if err != nil || id == 0 {
		f.renderError(w, http.StatusBadRequest, nil, "want test_user")
		return
	}
	target, err := s.UseService(id)
	if errors.Is(err, ErrNotOrdered) {
		f.renderError(w, http.StatusForbidden, newOAuthError(rules.CodeNotOrdered, rules.MsgNotOrdered), "")
		return
	} else if err != nil {
		f.renderError(w, marketStatus(err), nil, err.Error())
		return
	}
	f.log.Debug("sandbox use service", "test_user", id)
	// The target is the app's registered callback URL (configuration) with a
	// fresh code appended: the request only chooses the app and test user.
	http.Redirect(w, r, target, http.StatusFound) //nolint:gosec // G710: not request-controlled, see above

}

// formInt reads an optional non-negative integer parameter (absent = 0).
func formInt(p url.Values, key string) (int, error) {
	v, _ := wire.First(p, key)
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer", key)
	}
	return n, nil
}

func marketStatus(err error) int {
	switch {
	case errors.Is(err, shop.ErrUnknownTestUser):
		return http.StatusNotFound
	case errors.Is(err, ErrNotThirdParty), errors.Is(err, ErrNoCallback):
		return http.StatusConflict
	case errors.Is(err, ErrNotOrdered):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}
