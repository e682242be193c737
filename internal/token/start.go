package token

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// What a consent flow may be started with. Everything is checked before a
// state is stored, so a refused start costs the store nothing.
const (
	// MaxScopes is the most permission groups one start may ask for.
	MaxScopes = 32
	// MaxReturnURLLen bounds a return URL.
	MaxReturnURLLen = 2048
	// MaxCodeLen bounds an authorization code, as
	// CompleteAuthorizationRequest.code declares in the proto.
	MaxCodeLen = 512
)

var (
	// scopeName is a platform permission group: short snake_case names such
	// as merchant_order or user_info. StartAuthorizationRequest.scopes
	// declares the same rule in the proto.
	scopeName = regexp.MustCompile(`^[a-z_]{1,64}$`)
	// openIDPattern is the rule of open_id throughout the API.
	openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Violation names one refused input of Start and why.
type Violation struct{ Field, Reason string }

// InvalidError is a Start (or a code for Complete or Accept) refused for its
// input; nothing was stored or sent. Field names are the requests' (scopes,
// scopes[i], return_url, open_id, code). Reasons never repeat the refused
// value.
type InvalidError struct{ Violations []Violation }

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("token: invalid start")
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.Field + ": " + v.Reason)
	}
	return b.String()
}

// CheckScopes reports what is wrong with scopes as permission groups to ask
// for: 1 to MaxScopes distinct names of lower-case letters and underscores,
// at most 64 characters each.
func CheckScopes(scopes []string) []Violation {
	switch {
	case len(scopes) == 0:
		return []Violation{{"scopes", "name at least one permission group, for example merchant_order"}}
	case len(scopes) > MaxScopes:
		return []Violation{{"scopes", fmt.Sprintf("at most %d permission groups, got %d", MaxScopes, len(scopes))}}
	}
	var vs []Violation
	seen := make(map[string]bool, len(scopes))
	for i, s := range scopes {
		field := "scopes[" + strconv.Itoa(i) + "]"
		switch {
		case !scopeName.MatchString(s):
			vs = append(vs, Violation{field, "not a permission group name (lower-case letters and underscores, 1 to 64 characters)"})
		case seen[s]:
			vs = append(vs, Violation{field, "repeats an earlier permission group"})
		}
		seen[s] = true
	}
	return vs
}

// CheckCode reports what is wrong with an authorization code: 1 to
// MaxCodeLen visible ASCII characters (OAuth's VSCHAR), checked before a
// code reaches the platform.
func CheckCode(code string) []Violation {
	switch {
	case code == "":
		return []Violation{{"code", "missing: the platform's redirect carries the authorization code"}}
	case len(code) > MaxCodeLen:
		return []Violation{{"code", fmt.Sprintf("longer than %d characters", MaxCodeLen)}}
	}
	for i := 0; i < len(code); i++ {
		if code[i] < 0x20 || code[i] > 0x7e {
			return []Violation{{"code", "not an authorization code (visible ASCII characters only)"}}
		}
	}
	return nil
}

// CheckOpenID reports what is wrong with a shop's open_id ("" is allowed:
// no shop named).
func CheckOpenID(openID string) []Violation {
	if openID == "" || openIDPattern.MatchString(openID) {
		return nil
	}
	return []Violation{{"open_id", "not an open_id (letters, digits, '_' and '-', 1 to 64 characters)"}}
}

// hostRule is one allowed return host; port "" allows any port.
type hostRule struct{ host, port string }

// ParseReturnHosts reads a comma-separated list of hosts (host or
// host:port, IPv6 in brackets) that return URLs may point at.
func ParseReturnHosts(list string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(list, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, err := parseHostRule(h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func parseHostRule(h string) (hostRule, error) {
	u, err := url.Parse("http://" + h)
	if err != nil || u.Host != h || u.Hostname() == "" || strings.ContainsAny(h, "*/\\@") {
		return hostRule{}, fmt.Errorf("token: return host %q: want a host name or host:port, without scheme or path", h)
	}
	return hostRule{host: canonicalHost(u.Hostname()), port: u.Port()}, nil
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// returnHostRules are the allowed hosts, or when none are configured the
// hosts of the apps' redirect URIs (the gateway's own public address), any
// port.
func returnHostRules(hosts []string, redirectURIs []string) ([]hostRule, error) {
	var rules []hostRule
	for _, h := range hosts {
		r, err := parseHostRule(h)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		for _, redirectURI := range redirectURIs {
			if u, err := url.Parse(redirectURI); redirectURI != "" && err == nil && u.Hostname() != "" {
				rules = append(rules, hostRule{host: canonicalHost(u.Hostname())})
			}
		}
	}
	return rules, nil
}

// checkReturnURL returns raw in its canonical form if a merchant's browser
// may be sent there after the callback: an absolute http or https URL
// without user information whose host is allowed. "" stays "" (no return
// URL: the gateway shows its own result page).
func (m *Manager) checkReturnURL(raw string) (string, []Violation) {
	if raw == "" {
		return "", nil
	}
	refuse := func(reason string) (string, []Violation) {
		return "", []Violation{{"return_url", reason}}
	}
	if len(raw) > MaxReturnURLLen {
		return refuse(fmt.Sprintf("longer than %d characters", MaxReturnURLLen))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return refuse("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return refuse("must be an absolute http or https URL")
	case u.Opaque != "" || u.Host == "" || u.User != nil:
		return refuse("must be an absolute http or https URL with a host and no user information")
	}
	if !m.returnHostAllowed(u) {
		return refuse("its host is not one the merchant may be sent back to (KWAISHOP_OAUTH_RETURN_HOSTS)")
	}
	return u.String(), nil
}

func (m *Manager) returnHostAllowed(u *url.URL) bool {
	host, port := canonicalHost(u.Hostname()), u.Port()
	if host == "" {
		return false
	}
	for _, r := range m.returnHosts {
		if r.host == host && (r.port == "" || r.port == port) {
			return true
		}
	}
	return false
}

// checkStart validates everything Start is given, before anything is
// stored, and returns the canonical return URL.
func (m *Manager) checkStart(scopes []string, returnURL, openID string) (string, error) {
	vs := CheckScopes(scopes)
	ret, rv := m.checkReturnURL(returnURL)
	vs = append(vs, rv...)
	vs = append(vs, CheckOpenID(openID)...)
	if len(vs) > 0 {
		return "", &InvalidError{Violations: vs}
	}
	return ret, nil
}
