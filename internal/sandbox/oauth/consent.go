package oauth

import (
	"errors"
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

// parseAuthorize checks the authorize parameters in the platform's order:
// missing (100200100), app (100200101), response_type (100200103),
// redirect_uri (100200100, also when it is not on the app's callback's
// origin), scope (100200106). On the form submission an empty scope means
// the merchant unticked everything (invalid_scope). It returns the app's
// server.
func (f *front) parseAuthorize(p url.Values, submitted bool) (*Server, authorizeRequest, *oauthError) {
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
		return nil, req, newOAuthError(platform.ResultOAuthInvalidReq, "missing required parameter: "+strings.Join(missing, ", "))
	}
	s, ok := f.apps(req.AppID)
	if !ok {
		return nil, req, newOAuthError(platform.ResultOAuthBadClient, "app_id not found")
	}
	if req.ResponseType != "code" {
		return nil, req, newOAuthError(platform.ResultOAuthRespType, "response_type must be code")
	}
	u, err := url.Parse(req.RedirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, req, newOAuthError(platform.ResultOAuthInvalidReq, "redirect_uri must be an absolute http(s) URL")
	}
	// With a registered callback, redirect_uri must be on its origin (the
	// callback rule, package rules); without one any URL is accepted.
	if cb := s.app.CallbackURL(); cb != "" {
		if c, err := url.Parse(cb); err != nil || !strings.EqualFold(c.Scheme, u.Scheme) || !strings.EqualFold(c.Host, u.Host) {
			return nil, req, newOAuthError(platform.ResultOAuthInvalidReq, "redirect_uri does not match the app's registered callback")
		}
	}
	if len(scopes) == 0 {
		return nil, req, newOAuthError(platform.ResultOAuthScope, "no permission was granted")
	}
	for _, sc := range scopes {
		if !slices.Contains(s.app.Scopes, sc) {
			return nil, req, newOAuthError(platform.ResultOAuthScope, "scope "+sc+" is not a permission group of this app")
		}
	}
	return s, req, nil
}

func (f *front) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	s, req, e := f.parseAuthorize(r.URL.Query(), false)
	if e != nil {
		f.log.Debug("sandbox authorize", "result", e.Result)
		f.renderError(w, http.StatusBadRequest, e, "")
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
	f.render(w, http.StatusOK, "consent", page)
}

func (f *front) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	params, err := wire.Params(w, r)
	if err != nil {
		f.renderError(w, http.StatusBadRequest, newOAuthError(platform.ResultOAuthInvalidReq, err.Error()), "")
		return
	}
	s, req, e := f.parseAuthorize(params, true)
	if e != nil {
		f.log.Debug("sandbox authorize", "result", e.Result)
		f.renderError(w, http.StatusBadRequest, e, "")
		return
	}
	tu, _ := wire.First(params, "test_user")
	id, err := strconv.Atoi(strings.TrimSpace(tu))
	if err != nil {
		f.renderError(w, http.StatusBadRequest, nil, msgNotTestUser)
		return
	}
	code, err := s.issueCode(id, req.Scopes)
	if errors.Is(err, shop.ErrUnknownTestUser) {
		f.renderError(w, http.StatusBadRequest, nil, msgNotTestUser)
		return
	} else if err != nil {
		f.renderError(w, http.StatusBadRequest, newOAuthError(platform.ResultOAuthScope, err.Error()), "")
		return
	}
	u, _ := url.Parse(req.RedirectURI) // checked by parseAuthorize
	q := u.Query()
	q.Set("code", code)
	if req.State != "" {
		q.Set("state", req.State)
	}
	u.RawQuery = q.Encode()
	f.log.Debug("sandbox authorize", "result", platform.ResultSuccess, "test_user", id)
	http.Redirect(w, r, u.String(), http.StatusFound)
}
