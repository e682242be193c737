package emulated

import (
	"encoding/json"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// SecurityLogEntry is one entry an open.security.log.* call reported, as
// the sandbox recorded it (visible in the admin API).
type SecurityLogEntry struct {
	Method    string  `json:"method"` // order, login, open, sql (an entry of .batch: its method)
	OpenID    string  `json:"openId"` // the caller's open_id
	OrderIDs  []int64 `json:"orderIds,omitempty"`
	UserIP    string  `json:"userIp,omitempty"`
	URL       string  `json:"url,omitempty"`
	Operation int64   `json:"operation,omitempty"`
	Time      int64   `json:"time"`
	Data      string  `json:"data,omitempty"`
	Total     int64   `json:"orderTotal,omitempty"`
	Result    string  `json:"loginResult,omitempty"`
	SQL       string  `json:"sql,omitempty"`
}

// maxSecurityLogs bounds the entries kept per shop (the oldest go first).
const maxSecurityLogs = 100000

// securityLogs are the recorded entries per shop, held weakly so a
// sandbox's shops and their journals go together.
var securityLogs = struct {
	sync.Mutex
	m map[weak.Pointer[shop.Shop]][]SecurityLogEntry
}{m: map[weak.Pointer[shop.Shop]][]SecurityLogEntry{}}

func recordSecurityLogs(sh *shop.Shop, es []SecurityLogEntry) {
	securityLogs.Lock()
	defer securityLogs.Unlock()
	k := weak.Make(sh)
	old, ok := securityLogs.m[k]
	if !ok {
		runtime.AddCleanup(sh, func(k weak.Pointer[shop.Shop]) {
			securityLogs.Lock()
			delete(securityLogs.m, k)
			securityLogs.Unlock()
		}, k)
	}
	all := append(old, es...)
	if len(all) > maxSecurityLogs {
		all = append([]SecurityLogEntry(nil), all[len(all)-maxSecurityLogs:]...)
	}
	securityLogs.m[k] = all
}

// SecurityLogs returns the entries reported for the shop by open_id (""
// = every caller of the shop), oldest first. Call it with the shop's lock
// held (shop.Shops.Do).
func SecurityLogs(sh *shop.Shop, openID string) []SecurityLogEntry {
	if sh == nil {
		return nil
	}
	securityLogs.Lock()
	defer securityLogs.Unlock()
	var out []SecurityLogEntry
	for _, e := range securityLogs.m[weak.Make(sh)] {
		if openID == "" || e.OpenID == openID {
			e.OrderIDs = append([]int64(nil), e.OrderIDs...)
			out = append(out, e)
		}
	}
	return out
}

// AppLevel are the emulated APIs that also answer an app-level
// (client_credentials) call, without a shop: the security logs need no
// scope; such a call is checked but not recorded (the sandbox records a
// shop's entries, reported with its access_token).
var AppLevel = map[string]bool{
	"open.security.log.order": true, "open.security.log.login": true, "open.security.log.open": true,
	"open.security.log.sql": true, "open.security.log.batch": true,
}

// securityLogOrder records open.security.log.order.
func securityLogOrder(c *api.Call) (any, *api.Error) { return securityLog(c, "order") }

// securityLogLogin records open.security.log.login.
func securityLogLogin(c *api.Call) (any, *api.Error) { return securityLog(c, "login") }

// securityLogOpen records open.security.log.open.
func securityLogOpen(c *api.Call) (any, *api.Error) { return securityLog(c, "open") }

// securityLogSQL records open.security.log.sql.
func securityLogSQL(c *api.Call) (any, *api.Error) { return securityLog(c, "sql") }

// checkCatalog checks the params against the catalog's request schema,
// as every schema-answered API is (package api/schema).
func checkCatalog(c *api.Call) *api.Error {
	a, ok := catalog.Lookup(c.Method)
	if !ok {
		return nil
	}
	raw, err := json.Marshal(c.Param) // numbers are json.Number: exact
	if err != nil {
		return api.BadParam("param must be a JSON object string")
	}
	if vs := a.Validate(raw, catalog.Options{MaxViolations: 1}); len(vs) > 0 {
		if vs[0].Field == "" {
			return api.BadParam("param: %s", vs[0].Description)
		}
		return api.BadParam("param.%s: %s", vs[0].Field, vs[0].Description)
	}
	return nil
}

// securityLogBatch records open.security.log.batch: data is a JSON array
// of at most 100 entries shaped as method's parameters.
func securityLogBatch(c *api.Call) (any, *api.Error) {
	if e := checkCatalog(c); e != nil {
		return nil, e
	}
	method, e := c.Str("method")
	if e != nil {
		return nil, e
	}
	switch method {
	case "order", "open", "sql", "login":
	default:
		return nil, api.BadParam("param.method must be order, open, sql or login")
	}
	data, e := c.Str("data")
	if e != nil {
		return nil, e
	}
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	var list []map[string]any
	if err := dec.Decode(&list); err != nil {
		return nil, api.BadParam("param.data must be a JSON array of %s log entries", method)
	}
	if len(list) == 0 || len(list) > 100 {
		return nil, api.BadParam("param.data must hold 1 to 100 entries")
	}
	var out []SecurityLogEntry
	for _, p := range list {
		sub := &api.Call{Method: c.Method, Param: p, Shop: c.Shop, Now: c.Now, AppKey: c.AppKey, User: c.User}
		en, e := securityLogEntry(sub, method)
		if e != nil {
			return nil, e
		}
		out = append(out, en)
	}
	if c.Shop != nil {
		recordSecurityLogs(c.Shop, out)
	}
	return nil, nil
}

func securityLog(c *api.Call, method string) (any, *api.Error) {
	if e := checkCatalog(c); e != nil {
		return nil, e
	}
	en, e := securityLogEntry(c, method)
	if e != nil {
		return nil, e
	}
	if c.Shop != nil {
		recordSecurityLogs(c.Shop, []SecurityLogEntry{en})
	}
	return nil, nil
}

// securityLogEntry checks one entry of method as the platform documents
// its parameters (internal/catalog/catalog.json): the user's IP parses,
// time is a positive ms timestamp, openId (if any) is the caller's, at
// most 100 order ids, ids or data.
func securityLogEntry(c *api.Call, method string) (SecurityLogEntry, *api.Error) {
	en := SecurityLogEntry{Method: method, OpenID: c.User.OpenID}
	var e *api.Error
	if en.Time, e = c.ReqInt("time"); e != nil {
		return en, e
	}
	if en.Time <= 0 {
		return en, api.BadParam("param.time must be a timestamp in ms")
	}
	if method == "sql" {
		if en.SQL, e = c.Str("sql"); e != nil || en.SQL == "" {
			return en, orBad(e, "param.sql is required")
		}
		return en, nil
	}
	if openID, e := c.Str("openId"); e != nil {
		return en, e
	} else if openID != "" && c.Shop != nil && openID != c.User.OpenID {
		return en, api.BadParam("param.openId is not the authorizing shop's")
	}
	ipKey := "userIp"
	if method == "open" {
		ipKey = "clientIp"
	}
	ip, e := c.Str(ipKey)
	if e != nil {
		return en, e
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" {
		return en, api.BadParam("param.%s must be an IP address", ipKey)
	}
	en.UserIP = a.String()
	if method == "login" {
		if en.Result, e = c.Str("loginResult"); e != nil || en.Result == "" {
			return en, orBad(e, "param.loginResult is required")
		}
		return en, nil
	}
	if en.URL, e = c.Str("url"); e != nil || en.URL == "" {
		return en, orBad(e, "param.url is required")
	}
	if method == "order" {
		if en.Operation, e = c.ReqInt("operation"); e != nil {
			return en, e
		}
		if en.Operation < 1 {
			return en, api.BadParam("param.operation must be a positive operation code")
		}
	}
	if en.OrderIDs, e = orderIDList(c); e != nil {
		return en, e
	}
	if en.Data, e = c.Str("data"); e != nil {
		return en, e
	}
	if en.Total, e = c.OptInt("orderTotal", 0); e != nil {
		return en, e
	}
	if len(en.OrderIDs) == 0 && en.Data == "" {
		return en, api.BadParam("param.orderIds and param.data must not both be empty")
	}
	return en, nil
}

// orderIDList reads orderIds: an array of integers or the platform's
// comma-separated text, at most 100.
func orderIDList(c *api.Call) ([]int64, *api.Error) {
	var parts []string
	switch t := c.Param["orderIds"].(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
		parts = strings.Split(t, ",")
	case []any:
		for _, v := range t {
			switch n := v.(type) {
			case json.Number:
				parts = append(parts, n.String())
			case string:
				parts = append(parts, n)
			default:
				return nil, api.BadParam("param.orderIds must hold order ids")
			}
		}
	default:
		return nil, api.BadParam("param.orderIds must be a list of order ids")
	}
	if len(parts) > 100 {
		return nil, api.BadParam("param.orderIds must hold at most 100 order ids")
	}
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || id <= 0 {
			return nil, api.BadParam("param.orderIds must hold order ids")
		}
		out = append(out, id)
	}
	return out, nil
}

func orBad(e *api.Error, msg string) *api.Error {
	if e != nil {
		return e
	}
	return api.BadParam("%s", msg)
}

// ShopSecurityLogs returns the entries the test user openID reported
// (false: no such test user).
func ShopSecurityLogs(shops *shop.Shops, openID string) ([]SecurityLogEntry, bool) {
	u, ok := shops.Find(0, openID)
	if !ok {
		return nil, false
	}
	var out []SecurityLogEntry
	shops.Do(u.Main(), func(sh *shop.Shop) { out = SecurityLogs(sh, openID) })
	return out, true
}
