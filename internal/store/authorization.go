package store

import (
	"fmt"
	"log/slog"
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
	OpenID        string
	AppKey        string
	Scopes        []string
	Status        string // StatusActive, StatusRefreshFailed, StatusRevoked, StatusExpired, StatusSubscriptionExpired
	Source        string // SourceOAuthFlow, SourceServiceMarket, SourceConsole; "" if not recorded
	TestUser      bool
	MainOpenID    string // the main account of a sub-account (MainAccount); "" = the shop is its own
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

// MainAccount is the open_id of the shop's main account: MainOpenID (the
// platform's token answer names it for a sub-account), or the shop itself.
// A main account and its sub-accounts are one test user.
func (a Authorization) MainAccount() string {
	if a.MainOpenID != "" {
		return a.MainOpenID
	}
	return a.OpenID
}
