// Package sandbox emulates the Kuaishou e-commerce open platform
// (快手电商开放平台) over real HTTP: the signed API gateway, the OAuth
// consent page and token endpoints, seeded shop data for up to five test
// users, the platform's limits, a message pusher, fault injection and an
// admin API to drive it all (clock, codes, revocation, orders, refunds,
// pusher, faults, limits, counters).
//
// Any SDK pointed at Handler sees the platform's wire protocol as
// docs/sandbox.md describes it; where the public sources are uncertain the
// choice is recorded once, in rules.go. The sandbox is the gateway's default
// upstream and its test bench; cmd/sandbox serves it on its own.
package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config configures a Sandbox. The zero value is valid: credentials are
// generated and every duration takes its default from rules.go.
type Config struct {
	// AppKey, AppSecret and SignSecret are the app's credentials. Empty ones
	// are generated: appkey "ks" + 18 digits, secrets 32 lowercase hex.
	AppKey, AppSecret, SignSecret string
	// MessageKey is the base64 AES key of pushed messages (16 bytes: AES-128
	// as on the platform; 24 or 32 accepted). Generated if empty.
	MessageKey string
	// PushURL receives the pushed messages (and a heartbeat at start).
	// Empty = no message channel: state changes produce no messages until a
	// URL is set through SetPusher or POST /sandbox/v1/pusher.
	PushURL string
	// PushDuplicateRate and PushDropRate are the fractions (0-1) of
	// messages pushed twice and never pushed; the choice is deterministic
	// given Seed and the order of the state changes.
	PushDuplicateRate, PushDropRate float64
	// HeartbeatInterval is the real-time period of {"test":true} heartbeats
	// (0 = DefaultHeartbeatInterval, 60 s; negative = none).
	HeartbeatInterval time.Duration
	// AppState is AppStateTest (default) or AppStateOnline; it chooses the
	// daily quota and whether test-user rules apply (rules.go).
	AppState string
	// Limits are the call limits (zero value = the platform's numbers).
	Limits Limits
	// Seed makes the shop data deterministic: the same Seed, AppKey and start
	// time give the same users, items, orders and refunds.
	Seed int64
	// TestUsers is the number of pre-seeded test users (0 = 1; at most 5).
	TestUsers int
	// Scopes are the permission groups the app holds (empty = all confirmed
	// groups, see rules.go). Authorizations are limited to them.
	Scopes []string
	// TimestampWindow is the allowed |sandbox now - timestamp| of a signed
	// call (0 = DefaultTimestampWindow, 10 min; see rules.go for why).
	TimestampWindow time.Duration
	// RefreshGrace is how long a rotated refresh token keeps working
	// (0 = DefaultRefreshGrace, 5 min; negative, e.g. NoRefreshGrace = none).
	RefreshGrace time.Duration
	// TestAuthorizationTTL is when a test user's authorization is cancelled
	// by the platform (0 = DefaultTestAuthorizationTTL, 10 days; negative =
	// never, e.g. to age refresh tokens to their 180-day expiry).
	TestAuthorizationTTL time.Duration
	// Now is the base clock (nil = time.Now); the sandbox adds an adjustable
	// offset on top (Advance).
	Now func() time.Time
	// Logger receives one debug record per request (never tokens, secrets or
	// query strings). Nil discards.
	Logger *slog.Logger
}

var (
	// ErrInvalidConfig is wrapped by every Config.Validate violation.
	ErrInvalidConfig = errors.New("sandbox: invalid config")
	// ErrTestUserLimit is returned when a sixth test user is added.
	ErrTestUserLimit = errors.New("sandbox: an app has at most 5 test users")
	// ErrUnknownTestUser is returned for a test user id or openId the app does not have.
	ErrUnknownTestUser = errors.New("sandbox: unknown test user")
	// ErrInvalidScope is returned for scopes the app does not hold.
	ErrInvalidScope = errors.New("sandbox: invalid scope")
)

var credentialRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)

// Validate reports every violation, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	}
	for _, f := range []struct{ name, v string }{{"AppKey", c.AppKey}, {"AppSecret", c.AppSecret}, {"SignSecret", c.SignSecret}} {
		if f.v != "" && !credentialRE.MatchString(f.v) {
			bad("%s must be 1-128 printable ASCII characters without spaces", f.name)
		}
	}
	if c.MessageKey != "" {
		k, err := base64.StdEncoding.DecodeString(c.MessageKey)
		if err != nil {
			bad("MessageKey is not standard base64")
		} else if n := len(k); n != 16 && n != 24 && n != 32 {
			bad("MessageKey decodes to %d bytes, want 16 (AES-128), 24 or 32", n)
		}
	}
	if c.PushURL != "" {
		u, err := url.Parse(c.PushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PushURL must be an absolute http(s) URL")
		}
	}
	if c.TestUsers < 0 || c.TestUsers > maxTestUsers {
		bad("TestUsers is %d, want 0 (default 1) to %d", c.TestUsers, maxTestUsers)
	}
	seen := map[string]bool{}
	for _, s := range c.Scopes {
		if !isKnownScope(s) {
			bad("Scopes: unknown permission group %q", s)
		}
		if seen[s] {
			bad("Scopes: %q listed twice", s)
		}
		seen[s] = true
	}
	if c.TimestampWindow < 0 {
		bad("TimestampWindow is negative")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"PushDuplicateRate", c.PushDuplicateRate}, {"PushDropRate", c.PushDropRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			bad("%s is %v, want 0 to 1", r.name, r.v)
		}
	}
	if c.AppState != "" && c.AppState != AppStateTest && c.AppState != AppStateOnline {
		bad("AppState is %q, want %q or %q", c.AppState, AppStateTest, AppStateOnline)
	}
	c.Limits.validate(bad)
	return errors.Join(errs...)
}

// withDefaults returns c with generated credentials and default durations.
func (c Config) withDefaults() Config {
	if c.AppKey == "" {
		c.AppKey = "ks" + randomDigits(18)
	}
	if c.AppSecret == "" {
		c.AppSecret = randomHex(16)
	}
	if c.SignSecret == "" {
		c.SignSecret = randomHex(16)
	}
	if c.MessageKey == "" {
		c.MessageKey = base64.StdEncoding.EncodeToString(randomBytes(16))
	}
	if c.TestUsers == 0 {
		c.TestUsers = 1
	}
	if len(c.Scopes) == 0 {
		c.Scopes = defaultAppScopes()
	} else {
		c.Scopes = append([]string(nil), c.Scopes...)
	}
	if c.TimestampWindow == 0 {
		c.TimestampWindow = DefaultTimestampWindow
	}
	if c.RefreshGrace == 0 {
		c.RefreshGrace = DefaultRefreshGrace
	}
	if c.TestAuthorizationTTL == 0 {
		c.TestAuthorizationTTL = DefaultTestAuthorizationTTL
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.AppState == "" {
		c.AppState = AppStateTest
	}
	c.Limits = c.Limits.withDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Counters are what the sandbox has seen, for tests and the admin API.
type Counters struct {
	// Calls counts requests on the signed API gateway per API method name
	// (taken from the path), whatever their outcome.
	Calls map[string]int `json:"calls"`
	// CodeExchanges counts successful grant_type=code exchanges.
	CodeExchanges int `json:"codeExchanges"`
	// Refreshes counts refresh-token rotations (new pairs issued).
	Refreshes int `json:"refreshes"`
	// ReplayedRefreshes counts uses of a rotated refresh token inside
	// RefreshGrace (answered with the pair of the first use).
	ReplayedRefreshes int `json:"replayedRefreshes"`
	// ClientCredentials counts issued app-level tokens.
	ClientCredentials int `json:"clientCredentials"`
	// RejectedRefreshes counts /oauth2/refresh_token calls answered with an
	// error (discarded, revoked, expired, bad client...).
	RejectedRefreshes int `json:"rejectedRefreshes"`
	// Faults counts calls answered (or delayed) by an injected fault.
	Faults int `json:"faults"`
}

// Sandbox is the emulated platform. It is safe for concurrent use.
type Sandbox struct {
	cfg     Config
	log     *slog.Logger
	clock   clock
	start   time.Time
	handler http.Handler

	mu       sync.Mutex // guards everything below
	users    []*TestUser
	shops    map[int]*shop // by test user id
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	grants   []*grant
	counters Counters
	appState string
	limits   Limits
	lim      limiter
	faults   []*Fault
	faultSeq int

	push *pusher // has its own lock; taken after mu, never before
}

// New validates cfg, fills in generated credentials and seeds the test users'
// shops relative to the sandbox clock's current time.
func New(cfg Config) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sandbox{
		cfg:     cfg,
		log:     cfg.Logger,
		clock:   clock{base: cfg.Now},
		shops:   map[int]*shop{},
		codes:   map[string]*authCode{},
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
	}
	s.counters.Calls = map[string]int{}
	s.appState, s.limits = cfg.AppState, cfg.Limits.clone()
	s.start = s.clock.Now().Truncate(time.Millisecond)
	for i := 1; i <= cfg.TestUsers; i++ {
		if _, err := s.addTestUserLocked(""); err != nil {
			return nil, err
		}
	}
	s.handler = s.routes()
	s.push = newPusher(cfg, &s.clock, s.log)
	return s, nil
}

// Close stops the message pusher (waiting for deliveries in flight). The
// handler keeps serving; state changes then produce no messages. A sandbox
// that never had a push URL has nothing to stop.
func (s *Sandbox) Close() { s.push.close() }

// Handler serves the whole platform: the API gateway on every path not
// listed below, /oauth/authorize, /oauth2/access_token,
// /oauth2/refresh_token and the admin API under /sandbox/v1/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Config returns the configuration in use, generated credentials and
// defaults filled in; AppState, Limits and the pusher fields show their
// current values.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Scopes = append([]string(nil), c.Scopes...)
	s.mu.Lock()
	c.AppState, c.Limits = s.appState, s.limits.clone()
	s.mu.Unlock()
	ps := s.push.statusNow()
	c.PushURL, c.PushDuplicateRate, c.PushDropRate = ps.URL, ps.DuplicateRate, ps.DropRate
	c.HeartbeatInterval = time.Duration(ps.HeartbeatSeconds * float64(time.Second))
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = -1
	}
	return c
}

// Now is the sandbox clock.
func (s *Sandbox) Now() time.Time { return s.clock.Now() }

// Advance moves the sandbox clock by d (negative moves it back). Message
// retries that become due are pushed at once.
func (s *Sandbox) Advance(d time.Duration) {
	s.clock.Advance(d)
	s.push.poke()
}

// Counters returns a copy of the counters.
func (s *Sandbox) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.Calls = make(map[string]int, len(s.counters.Calls))
	for k, v := range s.counters.Calls {
		c.Calls[k] = v
	}
	return c
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.handleConsentPage)
	mux.HandleFunc("POST /oauth/authorize", s.handleConsentSubmit)
	mux.HandleFunc("/oauth2/access_token", s.handleAccessToken)
	mux.HandleFunc("/oauth2/refresh_token", s.handleRefreshToken)
	s.adminRoutes(mux)
	mux.HandleFunc("/", s.handleAPI)
	return mux
}

// requestParams merges the query string and the body (urlencoded or
// multipart); body values win. Duplicate keys keep their first value.
func requestParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return params, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxRequestBody); err != nil {
			return nil, fmt.Errorf("malformed multipart body: %w", err)
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v
		}
	default: // application/x-www-form-urlencoded, or none: ParseForm decides
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("malformed form body: %w", err)
		}
		for k, v := range r.PostForm {
			params[k] = v
		}
	}
	return params, nil
}

// first returns the first value of key and whether it is present.
func first(v url.Values, key string) (string, bool) {
	vs, ok := v[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal encoding error"}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomDigits(n int) string {
	var b strings.Builder
	for _, c := range randomBytes(n) {
		b.WriteByte('0' + c%10) // slight bias is irrelevant for an app key
	}
	return b.String()
}

func newRequestID() string { return randomHex(requestIDBytes) }
