package app

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// testUserCutoff is the platform's lifetime of a test user's authorization
// [DEVG] [K0006].
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

// oauthCallback completes the code flow the platform redirects the merchant
// to: the state is consumed first (forged, replayed or expired states are
// refused before any code exchange), then the code is exchanged.
func oauthCallback(mgr *token.Manager, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code, state := q.Get("code"), q.Get("state")
		if code == "" || state == "" {
			writeResult(w, http.StatusBadRequest, "", resultData{Error: "The link is missing its code or state. Start the authorization again."})
			return
		}
		a, returnURL, err := mgr.Complete(r.Context(), code, state)
		if err != nil {
			msg, status := "The platform did not accept the authorization. Start it again.", http.StatusBadGateway
			switch {
			case errors.Is(err, token.ErrStateInvalid):
				msg, status = "This authorization link is unknown or was already used. Start the authorization again.", http.StatusBadRequest
			case errors.Is(err, token.ErrStateExpired):
				msg, status = "This authorization link expired (links are valid for 10 minutes). Start the authorization again.", http.StatusBadRequest
			}
			log.WarnContext(r.Context(), "oauth callback refused", "reason", msg, "err", err)
			writeResult(w, status, returnURL, resultData{Error: msg})
			return
		}
		log.InfoContext(r.Context(), "shop authorized", "open_id", a.OpenID)
		writeResult(w, http.StatusOK, returnURL, resultData{OK: true, OpenID: a.OpenID})
	})
}

func writeResult(w http.ResponseWriter, status int, returnURL string, d resultData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the callback URL holds a code
	if u, err := url.Parse(returnURL); returnURL != "" && err == nil {
		q := u.Query()
		if d.OK {
			q.Set("open_id", d.OpenID)
		} else {
			q.Set("error", d.Error)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, &http.Request{Method: http.MethodGet}, u.String(), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = resultPage.Execute(w, d)
}

// oauthStart sends a merchant to the consent page with a fresh state:
// GET /oauth/start?scope=a,b[&open_id=…]. It takes no return URL: this
// endpoint is public, and a caller-chosen redirect would be an open redirect
// (StartAuthorization, an authenticated RPC, may set one).
func oauthStart(mgr *token.Manager, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var scopes []string
		for _, s := range strings.Split(q.Get("scope"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		if len(scopes) == 0 || len(scopes) > 32 {
			writeResult(w, http.StatusBadRequest, "", resultData{Error: "Name the permission groups to ask for: /oauth/start?scope=merchant_order,merchant_item"})
			return
		}
		st, err := mgr.Start(r.Context(), scopes, "", q.Get("open_id"))
		if err != nil {
			log.ErrorContext(r.Context(), "oauth start", "err", err)
			writeResult(w, http.StatusInternalServerError, "", resultData{Error: "Could not start the authorization."})
			return
		}
		http.Redirect(w, r, st.URL, http.StatusFound)
	})
}
