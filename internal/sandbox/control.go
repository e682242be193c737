package sandbox

// The Go face of the admin API: every admin action as a method.

// TestUsers lists the app's test users.
func (s *Sandbox) TestUsers() []TestUser { return s.shops.TestUsers() }

// AddTestUser adds a test user with a freshly seeded shop (name empty = a
// generated one). A sixth user is refused with ErrTestUserLimit.
func (s *Sandbox) AddTestUser(name string) (TestUser, error) { return s.shops.AddTestUser(name) }

// IssueCode authorizes the app for a test user without the consent page and
// returns the authorization code (valid 2 minutes, single use). Empty scopes
// means every scope the app holds.
func (s *Sandbox) IssueCode(testUser int, scopes []string) (string, error) {
	return s.oauth.IssueCode(testUser, scopes)
}

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

// Usage reports today's counts.
func (s *Sandbox) Usage() Usage {
	users := s.shops.TestUsers()
	ids := make([]int, len(users))
	for i, u := range users {
		ids[i] = u.ID
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
