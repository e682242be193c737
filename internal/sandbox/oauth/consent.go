package oauth

import (
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/wire"
)

// The merchant consent page (docs/sandbox.md):
// GET /oauth/authorize renders it, POST /oauth/authorize (the page's form)
// issues a code and redirects to redirect_uri?code=…&state=….

//go:embed consent.html
var consentHTML string

var consentTmpl = template.Must(template.New("consent.html").Parse(consentHTML))

// msgNotTestUser is the platform's refusal for users not on the app's lists.
const msgNotTestUser = "不属于此应用的授权用户或测试用户"

type authorizeRequest struct {
	AppID, RedirectURI, ResponseType, State string
	Scopes                                  []string
}

type scopeView struct{ Name, Desc string }

type consentPage struct {
	authorizeRequest
	Users  []shop.TestUser
	Scopes []scopeView
}

type errorPage struct {
	Code           int64
	Error, Message string
}

// parseAuthorize checks the authorize parameters in the platform's order:
// missing (100200100), app (100200101), response_type (100200103),
// redirect_uri (100200100), scope (100200106). On the form submission an
// empty scope means the merchant unticked everything (invalid_scope).
func (s *Server) parseAuthorize(p url.Values, submitted bool) (authorizeRequest, *oauthError) {
	get := func(k string) string { v, _ := wire.First(p, k); return strings.TrimSpace(v) }
	var scopes []string
	for _, v := range p["scope"] {
		for _, sc := range strings.Split(v, ",") {
			if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	req := authorizeRequest{AppID: get("app_id"), RedirectURI: get("redirect_uri"), ResponseType: get("response_type"), State: get("state"), Scopes: scopes}
	var missing []string
	for _, f := range []struct{ name, v string }{{"app_id", req.AppID}, {"redirect_uri", req.RedirectURI}, {"response_type", req.ResponseType}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if !submitted && len(scopes) == 0 {
		missing = append(missing, "scope")
	}
	if len(missing) > 0 {
		return req, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: "+strings.Join(missing, ", "))
	}
	if req.AppID != s.app.Key {
		return req, newOAuthError(platform.ResultOAuthBadClient, "app_id not found")
	}
	if req.ResponseType != "code" {
		return req, newOAuthError(platform.ResultOAuthRespType, "response_type must be code")
	}
	// The platform matches redirect_uri against the app's registered
	// callback; the sandbox has none registered and accepts any absolute
	// http(s) URL.
	if u, err := url.Parse(req.RedirectURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return req, newOAuthError(platform.ResultOAuthInvalidReq, "redirect_uri must be an absolute http(s) URL")
	}
	if len(scopes) == 0 {
		return req, newOAuthError(platform.ResultOAuthScope, "no permission was granted")
	}
	for _, sc := range scopes {
		if !slices.Contains(s.app.Scopes, sc) {
			return req, newOAuthError(platform.ResultOAuthScope, "scope "+sc+" is not a permission group of this app")
		}
	}
	return req, nil
}

func (s *Server) renderError(w http.ResponseWriter, e *oauthError, msg string) {
	p := errorPage{Message: msg}
	if e != nil {
		p = errorPage{Code: e.Result, Error: e.Error, Message: e.ErrorMsg}
	}
	s.render(w, http.StatusBadRequest, "error", p)
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := consentTmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.log.Error("sandbox consent template", "err", err)
		http.Error(w, "sandbox: template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	req, e := s.parseAuthorize(r.URL.Query(), false)
	if e != nil {
		s.log.Debug("sandbox authorize", "result", e.Result)
		s.renderError(w, e, "")
		return
	}
	page := consentPage{authorizeRequest: req, Users: s.users.TestUsers()}
	for _, sc := range req.Scopes {
		for _, k := range rules.KnownScopes {
			if k.Name == sc {
				page.Scopes = append(page.Scopes, scopeView{k.Name, k.Desc})
			}
		}
	}
	s.render(w, http.StatusOK, "consent", page)
}

func (s *Server) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	params, err := wire.Params(w, r)
	if err != nil {
		s.renderError(w, newOAuthError(platform.ResultOAuthInvalidReq, err.Error()), "")
		return
	}
	req, e := s.parseAuthorize(params, true)
	if e != nil {
		s.log.Debug("sandbox authorize", "result", e.Result)
		s.renderError(w, e, "")
		return
	}
	tu, _ := wire.First(params, "test_user")
	id, err := strconv.Atoi(strings.TrimSpace(tu))
	if err != nil {
		s.renderError(w, nil, msgNotTestUser)
		return
	}
	code, err := s.IssueCode(id, req.Scopes)
	if errors.Is(err, shop.ErrUnknownTestUser) {
		s.renderError(w, nil, msgNotTestUser)
		return
	} else if err != nil {
		s.renderError(w, newOAuthError(platform.ResultOAuthScope, err.Error()), "")
		return
	}
	u, _ := url.Parse(req.RedirectURI) // checked by parseAuthorize
	q := u.Query()
	q.Set("code", code)
	if req.State != "" {
		q.Set("state", req.State)
	}
	u.RawQuery = q.Encode()
	s.log.Debug("sandbox authorize", "result", platform.ResultSuccess, "test_user", id)
	http.Redirect(w, r, u.String(), http.StatusFound)
}
