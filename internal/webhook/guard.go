package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits on endpoint URLs and answers.
const (
	// MaxURLLen caps an endpoint URL.
	MaxURLLen = 2048
	// MaxResponseBytes is the most of an answer's body the gateway reads;
	// the rest is never read (the connection is closed).
	MaxResponseBytes = 64 << 10
	maxHostLen       = 253
)

// ErrDestinationRefused: the address a URL resolved to is not allowed
// (loopback, private, link-local, ... without AllowPrivate).
var ErrDestinationRefused = errors.New("webhook: destination address not allowed")

// Guard decides which URLs and addresses endpoints may point at: the SSRF
// defence. URLs are checked when an endpoint is created or changed; the
// address every connection actually dials is checked again (a host name may
// resolve anywhere, and again differently later).
type Guard struct {
	// AllowPrivate permits loopback, private (RFC 1918, ULA), link-local,
	// shared (RFC 6598) and other special-purpose addresses. Unspecified,
	// multicast and broadcast addresses are never dialed.
	AllowPrivate bool
	// AllowHTTP permits http:// URLs (default: https only).
	AllowHTTP bool
}

// special are the special-purpose ranges refused without AllowPrivate
// besides those netip classifies (loopback, private, link-local).
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved
		"100::/64",        // discard-only
		"2001:db8::/32",   // documentation
		"fec0::/10",       // site-local (deprecated)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// allowedAddr reports whether the gateway may connect to ip, and why not.
func (g Guard) allowedAddr(ip netip.Addr) (bool, string) {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return false, "not an IP address"
	case ip.IsUnspecified():
		return false, "unspecified address"
	case ip.IsMulticast() || ip == broadcast:
		return false, "multicast or broadcast address"
	case ip.Zone() != "":
		return false, "scoped (zoned) address"
	}
	if g.AllowPrivate {
		return true, ""
	}
	// Addresses that carry an IPv4 address inside (NAT64, 6to4) are judged
	// by it.
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		return g.allowedAddr(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if ip.Is6() && sixToFour.Contains(ip) {
		b := ip.As16()
		return g.allowedAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	switch {
	case ip.IsLoopback():
		return false, "loopback address"
	case ip.IsPrivate():
		return false, "private address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return false, "link-local address"
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false, "special-purpose address"
		}
	}
	return true, ""
}

// CheckURL validates an endpoint URL: absolute https (or http with
// AllowHTTP), a host name or a permitted IP address, no user info, no
// fragment. It returns the URL in canonical form. The error text is safe to
// show the caller (it never repeats the URL).
func (g Guard) CheckURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required")
	}
	if len(raw) > MaxURLLen {
		return "", fmt.Errorf("longer than %d bytes", MaxURLLen)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", errors.New("contains spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.AllowHTTP:
	case u.Scheme == "http":
		return "", errors.New("must be https (this server does not allow http endpoints: KWAISHOP_WEBHOOK_ALLOW_HTTP)")
	default:
		return "", errors.New("must be an absolute https URL")
	}
	switch {
	case u.Opaque != "":
		return "", errors.New("must be an absolute https URL")
	case u.User != nil:
		return "", errors.New("must not hold user info (user:password@)")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", errors.New("must not have a fragment")
	case u.Host == "":
		return "", errors.New("must name a host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("port must be 1-65535")
		}
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if ok, why := g.allowedAddr(ip); !ok {
			return "", fmt.Errorf("points at a %s (refused unless the server allows private targets: KWAISHOP_WEBHOOK_ALLOW_PRIVATE)", why)
		}
		return u.String(), nil
	}
	if why := badHostName(host); why != "" {
		return "", errors.New(why)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if !g.AllowPrivate && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return "", errors.New("points at localhost (refused unless the server allows private targets: KWAISHOP_WEBHOOK_ALLOW_PRIVATE)")
	}
	return u.String(), nil
}

// badHostName says what is wrong with a DNS host name ("" = nothing).
func badHostName(h string) string {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > maxHostLen {
		return "host name is empty or too long"
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "host name is not valid"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "host name is not valid (use the ASCII/punycode form)"
			}
		}
	}
	// "127.1", "0x7f.1", "2130706433": some resolvers read these as IPv4
	// addresses; refuse rather than guess.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(strings.ToLower(last), "0x") {
		return "host is neither a host name nor an IP address"
	}
	return ""
}

// control is the dialer's last check: the address the connection is about
// to use (after DNS resolution).
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrDestinationRefused
	}
	if ok, _ := g.allowedAddr(ap.Addr()); !ok {
		return ErrDestinationRefused
	}
	return nil
}

// Client returns the HTTP client deliveries use: no proxy (a proxy would
// hide the destination address from the check), redirects not followed
// (the 3xx answer is the result), every dialed address checked, a timeout
// for the whole attempt.
func (g Guard) Client(timeout time.Duration, maxConnsPerHost int) *http.Client {
	d := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    max(maxConnsPerHost, 2),
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxResponseBytes,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// drain reads at most MaxResponseBytes of an answer and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, MaxResponseBytes))
	_ = body.Close()
}

// attemptError turns a client error into text safe to store and show: never
// the URL (its query may hold a credential of the receiver).
func attemptError(ctx context.Context, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, ErrDestinationRefused):
		return ErrDestinationRefused.Error()
	case ctx.Err() != nil:
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS: " + dnsErr.Err
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
