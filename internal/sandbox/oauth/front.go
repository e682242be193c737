package oauth

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	_ "embed"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
)

// Apps finds the server of an app by its appKey (= app_id).
type Apps func(appID string) (*Server, bool)

// front serves the OAuth pages and endpoints of every app: each request
// names its app (app_id), and the app's Server answers it. Faults and
// counters are the sandbox's, shared by all apps.
type front struct {
	apps     Apps
	faults   *faults.Injector
	counters *counters.Set
	log      *slog.Logger
}

// Register adds to mux, for every app apps finds: the consent page
// (/oauth/authorize), the token endpoints (/oauth2/access_token,
// /oauth2/refresh_token) and the service market (/market, /market/order,
// /market/use).
func Register(mux *http.ServeMux, apps Apps, f *faults.Injector, c *counters.Set, log *slog.Logger) {
	fr := &front{apps: apps, faults: f, counters: c, log: log}
	mux.HandleFunc("GET /oauth/authorize", fr.handleConsentPage)
	mux.HandleFunc("POST /oauth/authorize", fr.handleConsentSubmit)
	mux.HandleFunc("/oauth2/access_token", fr.handleAccessToken)
	mux.HandleFunc("/oauth2/refresh_token", fr.handleRefreshToken)
	mux.HandleFunc("GET /market", fr.handleMarketPage)
	mux.HandleFunc("POST /market/order", fr.handleMarketOrder)
	mux.HandleFunc("GET /market/use", fr.handleUseService)
}

//go:embed consent.html
var consentHTML string

//go:embed market.html
var marketHTML string

// pages are the platform's HTML pages: "consent", "market" and "error".
var pages = template.Must(template.Must(template.New("consent.html").Parse(consentHTML)).Parse(marketHTML))

type errorPage struct {
	Code           int64
	Error, Message string
}

// renderError shows an error page: the OAuth error e, or msg.
func (f *front) renderError(w http.ResponseWriter, status int, e *oauthError, msg string) {
	p := errorPage{Message: msg}
	if e != nil {
		p = errorPage{Code: e.Result, Error: e.Error, Message: e.ErrorMsg}
	}
	f.render(w, status, "error", p)
}

func (f *front) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		f.log.Error("sandbox page template", "page", name, "err", err)
		http.Error(w, "sandbox: template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
