// Package securitylog writes the platform's security access logs for the
// gateway's callers (docs/security-logs.md): every access to order data
// through the gateway becomes an order-access entry attributed to the end
// user the caller names, stored durably in the JetStream stream
// KWAISHOP_SECURITY_LOGS, and a sender batches the entries per shop and
// sends them through open.security.log.* at least once.
package securitylog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"
)

// Metadata names the caller sets to attribute an access to its end user
// (gRPC metadata; REST headers of the same names).
const (
	MetadataUserIP    = "x-kwaishop-user-ip"
	MetadataUserURL   = "x-kwaishop-user-url"
	MetadataOperation = "x-kwaishop-operation"
)

// Bounds of the attribution and of one access.
const (
	maxIPLen = 64
	// MaxURLLen bounds x-kwaishop-user-url.
	MaxURLLen = 2048
	// MaxOperation bounds x-kwaishop-operation: the platform's operation
	// is a small code; the catalog does not list them (docs/security-logs.md).
	MaxOperation = 9999
	// MaxOrderIDsPerEntry is the platform's cap of order ids in one entry
	// (open.security.log.order, orderIds maxItems).
	MaxOrderIDsPerEntry = 100
	// MaxOrderIDsPerAccess bounds the order ids one access records.
	MaxOrderIDsPerAccess = 10000
	// DefaultOperation is reported when the caller names none.
	DefaultOperation = 1
)

// Kinds of entries: the platform API each is sent through.
const (
	KindOrder = "order" // open.security.log.order
	KindLogin = "login" // open.security.log.login
	KindBatch = "batch" // open.security.log.batch (exports: order ids, or filter and total)
)

// Entry is one stored security-log entry. Order entries hold at most
// MaxOrderIDsPerEntry order ids.
type Entry struct {
	Kind      string  `json:"kind"`
	OpenID    string  `json:"openId"`
	OrderIDs  []int64 `json:"orderIds,omitempty"`
	UserIP    string  `json:"userIp"`
	URL       string  `json:"url,omitempty"`
	Operation int     `json:"operation,omitempty"`
	Time      int64   `json:"time"` // Unix ms
	// Data and OrderTotal describe an access to many orders without their
	// ids (an export: its filter and how many orders).
	Data       string `json:"data,omitempty"`
	OrderTotal int64  `json:"orderTotal,omitempty"`
	// LoginResult and LoginMessage are a login entry's.
	LoginResult  string `json:"loginResult,omitempty"`
	LoginMessage string `json:"loginMessage,omitempty"`
	// Defaulted: the caller named no end user (the gateway's identity).
	Defaulted bool `json:"defaulted,omitempty"`
}

// Attribution is the end user an access is attributed to.
type Attribution struct {
	UserIP    string
	URL       string
	Operation int
	// Named: the caller set at least one of the metadata; false means the
	// gateway's defaults are reported.
	Named bool
}

// FieldError is an invalid attribution: Field names the metadata.
type FieldError struct{ Field, Description string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Description }

type attributionKey struct{}

// WithAttribution returns ctx carrying a.
func WithAttribution(ctx context.Context, a Attribution) context.Context {
	return context.WithValue(ctx, attributionKey{}, a)
}

// AttributionFrom returns the attribution FromMetadata stored in ctx.
func AttributionFrom(ctx context.Context) (Attribution, bool) {
	a, ok := ctx.Value(attributionKey{}).(Attribution)
	return a, ok
}

// FromMetadata reads and checks the attribution metadata of an incoming
// call and returns ctx carrying it. An invalid value is a *FieldError; the
// values are never quoted back (they may be anything a caller sent).
func FromMetadata(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var a Attribution
	one := func(name string) (string, bool, error) {
		vs := md.Get(name)
		switch len(vs) {
		case 0:
			return "", false, nil
		case 1:
			return vs[0], true, nil
		}
		return "", false, &FieldError{Field: name, Description: "must be given once"}
	}
	ip, ok, err := one(MetadataUserIP)
	if err != nil {
		return ctx, err
	}
	if ok {
		addr, err := parseIP(ip)
		if err != nil {
			return ctx, &FieldError{Field: MetadataUserIP, Description: "want the end user's IPv4 or IPv6 address"}
		}
		a.UserIP, a.Named = addr.String(), true
	}
	u, ok, err := one(MetadataUserURL)
	if err != nil {
		return ctx, err
	}
	if ok {
		if err := checkURL(u); err != nil {
			return ctx, &FieldError{Field: MetadataUserURL, Description: err.Error()}
		}
		a.URL, a.Named = u, true
	}
	op, ok, err := one(MetadataOperation)
	if err != nil {
		return ctx, err
	}
	if ok {
		n, err := strconv.Atoi(strings.TrimSpace(op))
		if err != nil || n < 1 || n > MaxOperation {
			return ctx, &FieldError{Field: MetadataOperation, Description: fmt.Sprintf("want the platform's operation code, an integer from 1 to %d", MaxOperation)}
		}
		a.Operation, a.Named = n, true
	}
	return WithAttribution(ctx, a), nil
}

// checkURL accepts a non-empty printable UTF-8 text of at most MaxURLLen
// bytes (the platform takes any URL, or a domain for clients without one).
// Invalid UTF-8 would reach the platform altered (JSON replaces it).
func checkURL(u string) error {
	if u == "" || len(u) > MaxURLLen {
		return fmt.Errorf("want a URL of 1 to %d bytes", MaxURLLen)
	}
	if !utf8.ValidString(u) {
		return fmt.Errorf("want a URL in UTF-8")
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("want a URL without control characters")
		}
	}
	return nil
}

// millis is t in Unix ms.
func millis(t time.Time) int64 { return t.UnixMilli() }
