// Package dashboard serves /dashboard: one self-contained page (HTML, CSS
// and JavaScript embedded in the binary, no CDN, no build step) that polls
// the REST statistics endpoints (/v1/stats/apis, /v1/stats/quota,
// /v1/stats/messages, /v1/authorizations) every five seconds and draws
// per-API volume and success rate over time, the error breakdown, quota
// gauges, authorizations with their expiry, and message flow and lag.
// Each API name in the per-API table links to its description
// (#api=<name>: GET /v1/apis/{name}, its JSON Schemas included).
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// files is the assets directory itself.
var files, _ = fs.Sub(assets, "assets")

// csp allows only the page's own files and same-origin fetches.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page at /dashboard (and /dashboard/) and its assets
// under /dashboard/. Mount it for both patterns.
func Handler() http.Handler {
	static := http.StripPrefix("/dashboard/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/dashboard", "/dashboard/", "/dashboard/index.html":
			// Served directly: http.FileServer would redirect index.html to ./
			page, _ := fs.ReadFile(files, "index.html")
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page)
			return
		}
		static.ServeHTTP(w, r)
	})
}
