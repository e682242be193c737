package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// The admin API under /sandbox/v1/ (JSON in, JSON out). It has no
// authentication: the sandbox is a development tool and never returns
// secrets or tokens here (codes still need app_secret to be exchanged).

func (s *Sandbox) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/v1/app", s.adminApp)
	mux.HandleFunc("GET /sandbox/v1/test-users", s.adminListUsers)
	mux.HandleFunc("POST /sandbox/v1/test-users", s.adminAddUser)
	mux.HandleFunc("POST /sandbox/v1/codes", s.adminCode)
	mux.HandleFunc("GET /sandbox/v1/clock", s.adminClock)
	mux.HandleFunc("POST /sandbox/v1/clock:advance", s.adminAdvance)
	mux.HandleFunc("GET /sandbox/v1/counters", s.adminCounters)
	mux.HandleFunc("POST /sandbox/v1/authorizations:revoke", s.adminRevoke)
	mux.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "no such admin endpoint: %s %s", r.Method, r.URL.Path)
	})
}

type adminErr struct {
	Error string `json:"error"`
}

func adminError(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, adminErr{Error: fmt.Sprintf(format, a...)})
}

// decodeBody reads a JSON object into v; an empty body leaves v unchanged.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		adminError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		return false
	}
	return true
}

type appView struct {
	AppKey      string   `json:"appKey"`
	Environment string   `json:"environment"` // "test": only test users may authorize
	Scopes      []string `json:"scopes"`
	PushURL     string   `json:"pushUrl,omitempty"`
	Now         int64    `json:"now"`
}

func (s *Sandbox) adminApp(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, appView{
		AppKey: s.cfg.AppKey, Environment: appEnvironment, Scopes: s.cfg.Scopes, PushURL: s.cfg.PushURL, Now: ms(s.Now()),
	})
}

func (s *Sandbox) adminListUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"testUsers": s.TestUsers()})
}

func (s *Sandbox) adminAddUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	u, err := s.AddTestUser(body.Name)
	switch {
	case errors.Is(err, ErrTestUserLimit):
		adminError(w, http.StatusConflict, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusCreated, u)
	}
}

func (s *Sandbox) adminCode(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TestUser int      `json:"testUser"`
		Scopes   []string `json:"scopes"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	code, err := s.IssueCode(body.TestUser, body.Scopes)
	switch {
	case errors.Is(err, ErrUnknownTestUser):
		adminError(w, http.StatusNotFound, "%v", err)
	case err != nil:
		adminError(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"code": code, "expiresIn": int64(codeLifetime / time.Second)})
	}
}

func (s *Sandbox) adminClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{"now": ms(s.Now())})
}

func (s *Sandbox) adminAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seconds *float64 `json:"seconds"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Seconds == nil || math.IsNaN(*body.Seconds) || math.Abs(*body.Seconds) > 100*365*24*3600 {
		adminError(w, http.StatusBadRequest, `want {"seconds": n} (negative moves the clock back)`)
		return
	}
	s.Advance(time.Duration(*body.Seconds * float64(time.Second)))
	writeJSON(w, http.StatusOK, map[string]int64{"now": ms(s.Now())})
}

func (s *Sandbox) adminCounters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Counters())
}

func (s *Sandbox) adminRevoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TestUser int    `json:"testUser"`
		OpenID   string `json:"openId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.TestUser == 0 && body.OpenID == "" {
		adminError(w, http.StatusBadRequest, `want {"testUser": id} or {"openId": "..."}`)
		return
	}
	n, err := s.Revoke(body.TestUser, body.OpenID)
	if err != nil {
		adminError(w, http.StatusNotFound, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
