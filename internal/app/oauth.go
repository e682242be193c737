package app

import (
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// testUserCutoff is the platform's lifetime of a test user's authorization:
// it ends 10 days after it was granted.
const testUserCutoff = 10 * 24 * time.Hour

// reauthorizeURL points a merchant at the gateway's /oauth/start, which issues
// a fresh state and redirects to the platform's consent page.
func reauthorizeURL(cfg config.Config) func(openID string, scopes []string) string {
	base := strings.TrimSuffix(cfg.EffectiveRedirectURI(), "/oauth/callback")
	return func(openID string, scopes []string) string {
		q := url.Values{"open_id": {openID}}
		if len(scopes) > 0 {
			q.Set("scope", strings.Join(scopes, ","))
		}
		return base + "/oauth/start?" + q.Encode()
	}
}

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kwaishop-gateway authorization</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
.ok{color:#0a7d32}.err{color:#b3261e}code{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body>{{if .OK}}<h1 class="ok">Shop authorized</h1><p>The shop <code>{{.OpenID}}</code> authorized the app. You can close this page.</p>
{{else}}<h1 class="err">Authorization failed</h1><p>{{.Error}}</p>{{end}}</body></html>`))

type resultData struct {
	OK            bool
	OpenID, Error string
}

// Stateless codes (the service market's "use service" redirect) cost a
// platform call each, with nothing of the gateway's to check first; beyond
// the per-client budget the callback shares one budget for all of them, so
// a flood from many addresses cannot spend the app's OAuth calls.
const (
	statelessPerMinute = 120
	statelessBurst     = 30
)

// callbackHandler completes the code flow the platform redirects the
// merchant to (GET /oauth/callback?code[&state]), docs/oauth.md:
//
//   - with a state (the gateway's consent flow): the state is consumed first
//     (forged, replayed or expired states are refused before any code
//     exchange), then the code is exchanged; source oauth_flow;
//   - without a state (the platform's own redirect: a merchant who ordered
//     the app in the service market pressed "use service"): the code is
//     exchanged; source service_market. RequireState refuses such codes.
//
// Every request takes from the client's budget (KWAISHOP_OAUTH_START_RATE /
// _BURST, like /oauth/start), and stateless codes also from a budget shared
// by all clients; 429 with Retry-After beyond either.
type callbackHandler struct {
	mgr       *token.Manager
	log       *slog.Logger
	perClient *clientLimiter
	stateless *rate.Limiter
	app       string // the app whose callback this is; "" = the state's, or the only app (oauthCallbacks)

	// RequireState refuses codes without a gateway state (400, nothing
	// exchanged): for self-use apps, which never receive the service
	// market's redirect. Default false; the app's setting
	// (KWAISHOP_OAUTH_REQUIRE_STATE, or the app type's default) in
	// oauthCallbacks.
	RequireState bool
}

// oauthCallback builds the callback; set RequireState on the result to make
// the state mandatory.
func oauthCallback(cfg config.Config, mgr *token.Manager, log *slog.Logger) *callbackHandler {
	return &callbackHandler{
		mgr: mgr, log: log,
		perClient: newClientLimiter(cfg.OAuthStartRate, int(cfg.OAuthStartBurst)),
		stateless: rate.NewLimiter(rate.Limit(float64(statelessPerMinute)/60), statelessBurst),
	}
}

// Pages of the callback. None repeats the code or state.
const (
	pageMissing      = "The link is missing its code or state. Start the authorization again."
	pageBadLink      = "This authorization link is not valid. Start the authorization again."
	pageUnknownState = "This authorization link is unknown or was already used. Start the authorization again."
	pageExpiredState = "This authorization link expired (links are valid for 10 minutes). Start the authorization again."
	pageBadCode      = "The platform did not accept this authorization code: codes are valid for 2 minutes and once only. Start the authorization again."
	pageNoOrder      = "The platform refused the authorization: the app's service is not ordered, or the order ended. Order or renew it in the Kuaishou service market (服务市场), then press 使用服务 (use service)."
	pagePlatform     = "The platform did not accept the authorization. Start it again."
	pageBusy         = "Too many authorizations right now. Try again in a moment."
)

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if wait, ok := h.perClient.allow(r.RemoteAddr, time.Now()); !ok {
		h.log.DebugContext(ctx, "oauth callback refused: client over its rate", "peer", r.RemoteAddr)
		w.Header().Set("Retry-After", retrySeconds(wait))
		writeResult(w, http.StatusTooManyRequests, "", resultData{Error: pageBusy})
		return
	}
	q := r.URL.Query()
	if len(q["code"]) > 1 || len(q["state"]) > 1 { // which one would the platform mean?
		writeResult(w, http.StatusBadRequest, "", resultData{Error: pageBadLink})
		return
	}
	code, state := q.Get("code"), q.Get("state")
	if code == "" || (state == "" && h.RequireState) {
		writeResult(w, http.StatusBadRequest, "", resultData{Error: pageMissing})
		return
	}

	var (
		a         store.Authorization
		returnURL string
		err       error
	)
	if state != "" {
		a, returnURL, err = h.mgr.CompleteApp(ctx, h.app, code, state)
	} else if vs := token.CheckCode(code); len(vs) > 0 {
		err = &token.InvalidError{Violations: vs} // refused before the shared budget
	} else if res := h.stateless.Reserve(); res.Delay() > 0 {
		res.Cancel()
		h.log.DebugContext(ctx, "oauth callback refused: stateless codes over their shared rate")
		w.Header().Set("Retry-After", retrySeconds(res.Delay()))
		writeResult(w, http.StatusTooManyRequests, "", resultData{Error: pageBusy})
		return
	} else {
		a, err = h.mgr.AcceptApp(ctx, h.app, code, store.SourceServiceMarket)
	}
	if err != nil {
		msg, status := callbackRefusal(err)
		if status >= 500 {
			h.log.WarnContext(ctx, "oauth callback failed", "err", err)
		} else {
			h.log.InfoContext(ctx, "oauth callback refused", "reason", msg, "err", err)
		}
		writeResult(w, status, returnURL, resultData{Error: msg})
		return
	}
	source := store.SourceOAuthFlow
	if state == "" {
		source = store.SourceServiceMarket
	}
	h.log.InfoContext(ctx, "shop authorized", "open_id", a.OpenID, "source", source)
	writeResult(w, http.StatusOK, returnURL, resultData{OK: true, OpenID: a.OpenID})
}

// callbackRefusal is the page and status of a failed callback: the
// merchant's link or code is at fault (400), the merchant has no order of
// the app (403), or the platform failed (502).
func callbackRefusal(err error) (string, int) {
	var ierr *token.InvalidError
	var perr *platform.Error
	switch {
	case errors.Is(err, token.ErrStateInvalid):
		return pageUnknownState, http.StatusBadRequest
	case errors.Is(err, token.ErrStateExpired):
		return pageExpiredState, http.StatusBadRequest
	case errors.As(err, &ierr):
		return pageBadLink, http.StatusBadRequest
	case errors.As(err, &perr) && perr.Class == platform.ClassSubscription:
		return pageNoOrder, http.StatusForbidden
	case errors.As(err, &perr) && (perr.Result == platform.ResultOAuthInvalidCode || perr.Result == platform.ResultOAuthInvalidReq):
		return pageBadCode, http.StatusBadRequest
	}
	return pagePlatform, http.StatusBadGateway
}

// writeResult shows the outcome page, or sends the browser to returnURL
// with open_id or error appended. Only an absolute http(s) URL is followed
// (the flow already checked it against the allowed hosts); anything else is
// neither followed nor shown.
func writeResult(w http.ResponseWriter, status int, returnURL string, d resultData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the callback URL holds a code
	if u, err := url.Parse(returnURL); returnURL != "" && err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == "" {
		q := u.Query()
		if d.OK {
			q.Set("open_id", d.OpenID)
		} else {
			q.Set("error", d.Error)
		}
		u.RawQuery = q.Encode()
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusFound) // no body: nothing of the URL is echoed
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = resultPage.Execute(w, d)
}

// oauthStart sends a merchant to the consent page with a fresh state:
// GET /oauth/start?scope=a,b[&open_id=…][&app_key=…] (the app: by default
// the known shop's, or the only one). It takes no return URL: this
// endpoint is public, and a caller-chosen redirect would be an open redirect
// (StartAuthorization, an authenticated RPC, may set one).
//
// Being public, it is also bounded: each client IP has a request budget
// (KWAISHOP_OAUTH_START_RATE / _BURST; 429 with Retry-After beyond it), the
// input is checked before a state is stored (400), and the state store has
// a byte cap (KWAISHOP_OAUTH_STATE_MAX_BYTES; 503 with Retry-After at it).
// Errors are an HTML page for browsers, or the REST error body (code,
// message, details with field violations) for a client that asks for JSON.
func oauthStart(cfg config.Config, mgr *token.Manager, log *slog.Logger) http.Handler {
	limiter := newClientLimiter(cfg.OAuthStartRate, int(cfg.OAuthStartBurst))
	fullWarning := &rate.Sometimes{Interval: time.Minute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := limiter.allow(r.RemoteAddr, time.Now()); !ok {
			log.DebugContext(r.Context(), "oauth start refused: client over its rate", "peer", r.RemoteAddr)
			startError(w, r, wait, startRateLimited(wait),
				"Too many authorization attempts from your address. Try again in "+retrySeconds(wait)+" seconds.")
			return
		}
		q := r.URL.Query()
		var scopes []string
		for _, s := range strings.Split(q.Get("scope"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		st, err := mgr.StartApp(r.Context(), q.Get("app_key"), scopes, "", q.Get("open_id"))
		var ierr *token.InvalidError
		switch {
		case errors.As(err, &ierr):
			for i := range ierr.Violations { // name this route's query parameters
				if f := ierr.Violations[i].Field; strings.HasPrefix(f, "scopes") {
					ierr.Violations[i].Field = "scope" + strings.TrimPrefix(f, "scopes")
				}
			}
			log.DebugContext(r.Context(), "oauth start refused", "err", err)
			startError(w, r, 0, service.ToStatus(r.Context(), log, err),
				"This authorization link is not valid: "+ierr.Violations[0].Reason+". Ask for permission groups like /oauth/start?scope=merchant_order,merchant_item")
			return
		case errors.Is(err, store.ErrStateStoreFull):
			fullWarning.Do(func() {
				log.WarnContext(r.Context(), "oauth start refused: the OAuth state store is at its cap (KWAISHOP_OAUTH_STATE_MAX_BYTES); further refusals this minute are not logged")
			})
			startError(w, r, service.StateStoreFullRetryDelay, service.ToStatus(r.Context(), log, err),
				"Too many authorizations are pending. Try again in a minute.")
			return
		case err != nil:
			log.ErrorContext(r.Context(), "oauth start", "err", err)
			startError(w, r, 0, status.Error(codes.Internal, "internal error"), "Could not start the authorization.")
			return
		}
		http.Redirect(w, r, st.URL, http.StatusFound)
	})
}

// startError answers a refused /oauth/start: the REST error body for a
// client that prefers JSON, else the HTML result page with msg.
func startError(w http.ResponseWriter, r *http.Request, retry time.Duration, err error, msg string) {
	st := status.Convert(err)
	code := runtime.HTTPStatusFromCode(st.Code())
	if retry > 0 {
		w.Header().Set("Retry-After", retrySeconds(retry))
	}
	if accept := r.Header.Get("Accept"); strings.Contains(accept, "json") && !strings.Contains(accept, "text/html") {
		body, merr := protojson.MarshalOptions{UseProtoNames: true}.Marshal(st.Proto())
		if merr == nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(code)
			_, _ = w.Write(body)
			return
		}
	}
	writeResult(w, code, "", resultData{Error: msg})
}

func retrySeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// startRateLimited is a /oauth/start refused by the per-client limit:
// ResourceExhausted (HTTP 429) with RetryInfo, like the API's other limits.
func startRateLimited(wait time.Duration) error {
	st := status.New(codes.ResourceExhausted, "too many authorization starts from this client; retry after the RetryInfo delay")
	d, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED.String(), Domain: service.DomainGateway},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(wait.Round(time.Millisecond))})
	if err != nil {
		return st.Err()
	}
	return d.Err()
}

// maxStartClients bounds the per-client limiter table: the least recently
// seen client is forgotten first, so the table cannot grow without bound
// however many addresses a caller uses (the state store's byte cap bounds
// what those can cost).
const maxStartClients = 10000

// clientLimiter gives each client IP a token bucket; an IPv6 client counts
// by its /64, which one subscriber usually holds whole.
type clientLimiter struct {
	every rate.Limit
	burst int

	mu      sync.Mutex
	clients *simplelru.LRU[netip.Prefix, *rate.Limiter]
}

// newClientLimiter allows perMinute requests a minute per client after a
// burst; perMinute 0 = no limit.
func newClientLimiter(perMinute int64, burst int) *clientLimiter {
	if perMinute <= 0 {
		return nil
	}
	clients, _ := simplelru.NewLRU[netip.Prefix, *rate.Limiter](maxStartClients, nil) // only fails for a size < 1
	return &clientLimiter{every: rate.Limit(float64(perMinute) / 60), burst: max(burst, 1), clients: clients}
}

// allow takes one request from the budget of the client at remoteAddr, or
// says how long until it may ask again.
func (l *clientLimiter) allow(remoteAddr string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	key := clientKey(remoteAddr)
	l.mu.Lock()
	lim, ok := l.clients.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.clients.Add(key, lim)
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// clientKey is the client's address as a prefix: the IPv4 address, or the
// /64 of an IPv6 one. An unparsable peer (not TCP) shares one bucket.
func clientKey(remoteAddr string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}
