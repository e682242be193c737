package store

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Authorization statuses.
const (
	StatusActive        = "active"
	StatusRefreshFailed = "refresh_failed"
	StatusRevoked       = "revoked"
	StatusExpired       = "expired"
	// StatusSubscriptionExpired: the platform answered 100200101 ("service
	// not ordered") to a refresh or code exchange; the merchant's
	// service-market order is missing or ended.
	StatusSubscriptionExpired = "subscription_expired"
)

// Statuses lists every authorization status (metrics report each one).
var Statuses = []string{StatusActive, StatusRefreshFailed, StatusRevoked, StatusExpired, StatusSubscriptionExpired}

// Authorization sources: how the last consent reached the gateway.
const (
	SourceOAuthFlow     = "oauth_flow"     // a state the gateway issued came back with the code
	SourceServiceMarket = "service_market" // the platform redirected to the callback with a code and no state
	SourceConsole       = "console"        // an admin completed a code without a state (the console's copied code)
)

// Authorization is one merchant's (or, for app.* records, the app's
// client_credentials) OAuth grant. AccessToken and RefreshToken are
// secrets: they are sealed at rest, excluded from encoding/json
// (json:"-"), and redacted by String, GoString and LogValue, so %v, %+v,
// %#v and slog never print them.
type Authorization struct {
	OpenID   string
	AppKey   string
	Scopes   []string
	Status   string // StatusActive, StatusRefreshFailed, StatusRevoked, StatusExpired, StatusSubscriptionExpired
	Source   string // SourceOAuthFlow, SourceServiceMarket, SourceConsole; "" if not recorded
	TestUser bool
	// SellerID is the merchant's sellerId as open.user.seller.get answers
	// it, shared by a main account and its sub-accounts: the test user whose
	// cap the shop's calls count against (TestUserKey). 0 = not learnt yet.
	SellerID int64
	// MainOpenID is the main account's open_id when the shop is a
	// sub-account (open.user.seller.get answered with staffInfo; the
	// answer's openId names the merchant); "" = the shop is its own main
	// account, or not learnt yet (MainAccount).
	MainOpenID    string
	AccessToken   string `json:"-"` // secret
	RefreshToken  string `json:"-"` // secret
	AccessExpiry  time.Time
	RefreshExpiry time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastRefresh   time.Time
	LeaseOwner    string // refresh lease holder (replica id), "" when free
	LeaseExpiry   time.Time
}

const redacted = "[REDACTED]"

func secretMark(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// String prints identifying metadata and expiries, never the tokens.
func (a Authorization) String() string {
	var b strings.Builder
	b.WriteString("Authorization{")
	fmt.Fprintf(&b, "OpenID:%s AppKey:%s Status:%s Source:%s TestUser:%t Scopes:%v", a.OpenID, a.AppKey, a.Status, a.Source, a.TestUser, a.Scopes)
	if a.SellerID != 0 {
		fmt.Fprintf(&b, " SellerID:%d", a.SellerID)
	}
	if a.MainOpenID != "" {
		fmt.Fprintf(&b, " MainOpenID:%s", a.MainOpenID)
	}
	fmt.Fprintf(&b, " AccessToken:%s RefreshToken:%s", secretMark(a.AccessToken), secretMark(a.RefreshToken))
	fmt.Fprintf(&b, " AccessExpiry:%s RefreshExpiry:%s UpdatedAt:%s LastRefresh:%s",
		fmtTime(a.AccessExpiry), fmtTime(a.RefreshExpiry), fmtTime(a.UpdatedAt), fmtTime(a.LastRefresh))
	if a.LeaseOwner != "" {
		fmt.Fprintf(&b, " LeaseOwner:%s LeaseExpiry:%s", a.LeaseOwner, fmtTime(a.LeaseExpiry))
	}
	b.WriteString("}")
	return b.String()
}

// GoString (for %#v) is the redacted String form.
func (a Authorization) GoString() string { return "store." + a.String() }

// LogValue implements slog.LogValuer without the tokens.
func (a Authorization) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("open_id", a.OpenID),
		slog.String("app_key", a.AppKey),
		slog.String("status", a.Status),
		slog.String("source", a.Source),
		slog.Bool("test_user", a.TestUser),
		slog.Any("scopes", a.Scopes),
		slog.Bool("has_access_token", a.AccessToken != ""),
		slog.Bool("has_refresh_token", a.RefreshToken != ""),
		slog.Time("access_expiry", a.AccessExpiry),
		slog.Time("refresh_expiry", a.RefreshExpiry),
		slog.Time("updated_at", a.UpdatedAt),
	}
	if a.SellerID != 0 {
		attrs = append(attrs, slog.Int64("seller_id", a.SellerID))
	}
	if a.MainOpenID != "" {
		attrs = append(attrs, slog.String("main_open_id", a.MainOpenID))
	}
	if a.LeaseOwner != "" {
		attrs = append(attrs, slog.String("lease_owner", a.LeaseOwner), slog.Time("lease_expiry", a.LeaseExpiry))
	}
	return slog.GroupValue(attrs...)
}

var (
	_ fmt.Stringer   = Authorization{}
	_ fmt.GoStringer = Authorization{}
	_ slog.LogValuer = Authorization{}
)

// MainAccount is the open_id of the shop's main account: MainOpenID (a
// sub-account's open.user.seller.get answer names it), or the shop itself.
// A main account and its sub-accounts are one test user.
func (a Authorization) MainAccount() string {
	if a.MainOpenID != "" {
		return a.MainOpenID
	}
	return a.OpenID
}

// TestUserKey names the test user whose daily cap the shop's calls count
// against: "seller.<sellerId>" once the seller id is known (a main account
// and its sub-accounts share it), otherwise the shop's open_id (a shop is
// its own test user until then). An open_id never contains a dot, so the
// two forms never collide.
func (a Authorization) TestUserKey() string {
	return TestUserKey(a.OpenID, a.SellerID)
}

// TestUserKey is Authorization.TestUserKey of a shop and its seller id
// (0 = unknown).
func TestUserKey(openID string, sellerID int64) string {
	if sellerID > 0 {
		return "seller." + strconv.FormatInt(sellerID, 10)
	}
	return openID
}
