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
	Status        string // StatusActive, StatusRefreshFailed, StatusRevoked, StatusExpired
	TestUser      bool
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
	fmt.Fprintf(&b, "OpenID:%s AppKey:%s Status:%s TestUser:%t Scopes:%v", a.OpenID, a.AppKey, a.Status, a.TestUser, a.Scopes)
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
		slog.Bool("test_user", a.TestUser),
		slog.Any("scopes", a.Scopes),
		slog.Bool("has_access_token", a.AccessToken != ""),
		slog.Bool("has_refresh_token", a.RefreshToken != ""),
		slog.Time("access_expiry", a.AccessExpiry),
		slog.Time("refresh_expiry", a.RefreshExpiry),
		slog.Time("updated_at", a.UpdatedAt),
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
