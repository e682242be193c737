package sandbox

import (
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
)

// The Go face of the admin API: every admin action as a method. The
// per-app ones act on this value's app (App picks another).

// TestUsers lists the app's test users, sub-accounts included.
func (s *Sandbox) TestUsers() []TestUser { return s.shops.TestUsers() }

// AddTestUser adds a test user with a freshly seeded shop (name empty = a
// generated one). A sixth user is refused with ErrTestUserLimit.
func (s *Sandbox) AddTestUser(name string) (TestUser, error) { return s.shops.AddTestUser(name) }

// AddSubAccount adds a sub-account (子账号) of the main account mainID
// (name empty = a generated one): it authorizes with its own open_id, works
// on the main account's shop, and its calls count against the main
// account's test-user cap. Beyond MaxSubAccounts: ErrSubAccountLimit.
func (s *Sandbox) AddSubAccount(mainID int, name string) (TestUser, error) {
	return s.shops.AddSubAccount(mainID, name)
}

// IssueCode is the developer console's "refresh code / copy code": it
// authorizes the app for a test user without the consent page or any
// redirect and returns the authorization code (valid 2 minutes, single
// use). Empty scopes means every scope the app holds. A third-party app
// that is online gets none (ErrConsoleCodes), and a third-party app's code
// is exchanged only with the merchant's live order.
func (s *Sandbox) IssueCode(testUser int, scopes []string) (string, error) {
	return s.oauth.IssueCode(testUser, scopes)
}

// OrderService orders, or renews, a third-party app's service in the
// service market for the merchant testUser (a sub-account orders for its
// main account), for period on the sandbox clock (0 = DefaultServicePeriod,
// 30 days): the order then ends period after its current end, or after now
// when it has none or it has ended. Self-use apps: ErrNotThirdParty.
func (s *Sandbox) OrderService(testUser int, period time.Duration) (ServiceOrder, error) {
	return s.oauth.OrderService(testUser, period)
}

// ServiceOrders lists the app's service-market orders.
func (s *Sandbox) ServiceOrders() []ServiceOrder { return s.oauth.ServiceOrders() }

// UseService is the service market's "use service" (使用服务): it returns
// the URL the platform redirects the merchant to, the app's callback with
// a code (every scope the app holds) and no state. It needs a third-party
// app with a callback URL and the merchant's live order (ErrNotThirdParty,
// ErrNoCallback, ErrNotOrdered).
func (s *Sandbox) UseService(testUser int) (string, error) { return s.oauth.UseService(testUser) }

// SetCallbackURL registers the app's callback ("" = none): consent
// redirects must then be on its origin, and "use service" redirects to it.
func (s *Sandbox) SetCallbackURL(u string) error { return s.app.SetCallbackURL(u) }

// Revoke cancels every authorization of the test user with this id or open
// id (pass 0 or "" for the other): calls then answer 24
// AUTHORIZATION_REVOKED and refreshes refreshToken.revokedAuthorization.
// It returns the number of authorizations cancelled.
func (s *Sandbox) Revoke(testUser int, openID string) (int, error) {
	return s.oauth.Revoke(testUser, openID)
}

// AppState is "test" or "online".
func (s *Sandbox) AppState() string { return s.app.State() }

// SetAppState switches the app between AppStateTest and AppStateOnline.
func (s *Sandbox) SetAppState(state string) error { return s.app.SetState(state) }

// Limits returns the limits in force, defaults filled in.
func (s *Sandbox) Limits() Limits { return s.limits.Limits() }

// SetLimits replaces the limits (zero fields = the platform's defaults).
// Counts so far are kept.
func (s *Sandbox) SetLimits(l Limits) error { return s.limits.Set(l) }

// Usage reports today's counts; the test users' are by main account (its
// sub-accounts' calls included).
func (s *Sandbox) Usage() Usage {
	var ids []int
	for _, u := range s.shops.TestUsers() {
		if u.MainID == 0 {
			ids = append(ids, u.ID)
		}
	}
	return s.limits.Usage(s.clock.Now(), ids)
}

// InjectFault adds a fault and returns it with its ID.
func (s *Sandbox) InjectFault(f Fault) (Fault, error) { return s.faults.Inject(f) }

// Faults lists the active faults, oldest first.
func (s *Sandbox) Faults() []Fault { return s.faults.List() }

// ClearFaults removes every fault and returns how many there were.
func (s *Sandbox) ClearFaults() int { return s.faults.Clear() }

// Pushes lists every message the pusher produced, oldest first, with its
// delivery attempts.
func (s *Sandbox) Pushes() []Push { return s.push.List() }

// Pusher reports the pusher's settings and counts.
func (s *Sandbox) Pusher() PusherStatus { return s.push.Status() }

// SetPusher changes the pusher's settings (nil fields unchanged). Setting a
// URL starts the pusher and sends a heartbeat at once.
func (s *Sandbox) SetPusher(u PusherUpdate) (PusherSettings, error) { return s.push.Set(u) }

// CreateOrder creates an order for a test user and returns its id.
func (s *Sandbox) CreateOrder(spec OrderSpec) (int64, error) {
	o, err := s.shops.CreateOrder(spec)
	return o.BaseInfo.Oid, err
}

// AdvanceOrder moves an order as its buyer or the platform would
// (status 30, 50, 70 or 80).
func (s *Sandbox) AdvanceOrder(orderID int64, status int) error {
	_, err := s.shops.AdvanceOrder(orderID, status)
	return err
}

// ChangeOrderAddress gives an unshipped order a new buyer address.
func (s *Sandbox) ChangeOrderAddress(orderID int64) error {
	_, err := s.shops.ChangeOrderAddress(orderID)
	return err
}

// CreateRefund opens an after-sale request and returns its refundId.
func (s *Sandbox) CreateRefund(spec RefundSpec) (int64, error) {
	rf, err := s.shops.CreateRefund(spec)
	return rf.RefundID, err
}

// ReturnGoods records the buyer's return parcel of a refund in status 30
// (expressCode 0 and expressNo "" pick defaults).
func (s *Sandbox) ReturnGoods(refundID, expressCode int64, expressNo string) error {
	_, err := s.shops.ReturnGoods(refundID, expressCode, expressNo)
	return err
}

// SecurityLogs returns the open.security.log.* entries the test user
// openID reported, oldest first (GET /sandbox/v1/security-logs).
func (s *Sandbox) SecurityLogs(openID string) []SecurityLogEntry {
	out, _ := emulated.ShopSecurityLogs(s.shops, openID)
	return out
}
