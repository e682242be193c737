package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/rest"
)

// HTTP guards a plain HTTP route (not the REST gateway, whose calls the
// gRPC interceptors check): the caller needs a key with group and all
// shops (such routes span shops). Refusals are the REST API's error body
// (internal/rest), like the REST gateway's, with 401 or 403 and, on 401, a
// WWW-Authenticate: Bearer challenge.
func (a *Authenticator) HTTP(group string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Enabled() {
			h.ServeHTTP(w, r)
			return
		}
		k, err := a.fromHeader(r.Header.Values("Authorization"))
		if err == nil && !k.AllowsGroup(group) {
			err = &Error{Code: codes.PermissionDenied, Key: k.Name, Msg: "API key \"" + k.Name + "\" may not call " + r.URL.Path + " (group " + group + ")"}
		}
		if err == nil && !k.AllShops() {
			err = &Error{Code: codes.PermissionDenied, Key: k.Name, Msg: "API key \"" + k.Name + "\" is limited to shops or apps: " + r.URL.Path + " spans shops (use a key with shop=* and app=*)"}
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyCtx{}, k)))
	})
}

func (a *Authenticator) writeError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.InfoContext(r.Context(), "http request refused", "path", r.URL.Path, "reason", err.Error(), "peer", r.RemoteAddr)
	st, _ := status.FromError(a.status(r.Context(), err))
	code := http.StatusForbidden
	if st.Code() == codes.Unauthenticated {
		code = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="kwaishop-gateway"`)
	}
	rest.WriteError(w, code, st)
}

// Hosts is the set of Host header values the HTTP listener answers when it
// has no API keys. A page that rebinds its own DNS name to the gateway's
// address reaches the gateway with that name in Host; the browser then
// treats the answers as the page's own. Names outside the set are refused,
// so such a page can neither read answers nor act. IP literals are always
// accepted: a page under an IP address cannot change what that address
// points at.
type Hosts struct {
	anyPort map[string]bool // host names, any port
	exact   map[string]bool // host:port
}

// ParseHosts parses a comma-separated list of host names, each optionally
// with :port (KWAISHOP_ALLOWED_HOSTS). A name without a port matches on
// any port.
func ParseHosts(s string) (*Hosts, error) {
	h := &Hosts{anyPort: map[string]bool{"localhost": true}, exact: map[string]bool{}}
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if err := h.add(e); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Add allows one more host or host:port (the listen address, the redirect
// URI's host); wildcard and malformed values are ignored.
func (h *Hosts) Add(hostport string) { _ = h.add(hostport) }

func (h *Hosts) add(e string) error {
	name, port, hasPort := splitHost(e)
	if !validHostName(name) && net.ParseIP(name) == nil {
		return fmt.Errorf("auth: host %q: want a host name or host:port (no scheme, path or wildcard)", e)
	}
	if hasPort {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Errorf("auth: host %q: port must be 1 to 65535", e)
		}
		h.exact[name+":"+port] = true
		return nil
	}
	h.anyPort[name] = true
	return nil
}

// Allows reports whether a request's Host (r.Host) is served. An empty Host
// (HTTP/1.0, never a browser) is allowed.
func (h *Hosts) Allows(host string) bool {
	if host == "" {
		return true
	}
	name, port, hasPort := splitHost(host)
	if net.ParseIP(name) != nil {
		return true
	}
	return h.anyPort[name] || (hasPort && h.exact[name+":"+port])
}

// splitHost splits host[:port] into a lower-case name without brackets or a
// trailing dot, and the port.
func splitHost(s string) (name, port string, hasPort bool) {
	name = s
	if hp, p, err := net.SplitHostPort(s); err == nil {
		name, port, hasPort = hp, p, true
	}
	name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ".")
	return strings.ToLower(name), port, hasPort
}

// validHostName: dot-separated labels of letters, digits, '-' and '_'.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ParseOrigins parses a comma-separated list of browser origins
// (scheme://host[:port], KWAISHOP_ALLOWED_ORIGINS) trusted to send
// state-changing requests from another origin, and returns them in the
// form http.CrossOriginProtection.AddTrustedOrigin takes.
func ParseOrigins(s string) ([]string, error) {
	var out []string
	check := http.NewCrossOriginProtection()
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: origin %q: want http(s)://host[:port]", e)
		}
		if err := check.AddTrustedOrigin(e); err != nil {
			return nil, fmt.Errorf("auth: origin %q: want http(s)://host[:port] without path, query or fragment", e)
		}
		// As a browser writes it: lower case, no default port.
		host := strings.ToLower(u.Host)
		if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
			host = strings.ToLower(u.Hostname())
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		}
		out = append(out, u.Scheme+"://"+host)
	}
	return out, nil
}
