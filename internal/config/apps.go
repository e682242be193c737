package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// App types and states (docs/apps.md).
const (
	// AppSelfUse is a self-use app (自用型): a merchant's own app, authorized
	// only through the consent flow the app starts.
	AppSelfUse = "self_use"
	// AppThirdParty is a third-party app (服务商 apps): merchants also arrive
	// from the service market with a code and no state.
	AppThirdParty = "third_party"
	// AppTest is an app before launch: only test users may authorize.
	AppTest = "test"
	// AppOnline is a launched app.
	AppOnline = "online"
)

// appStates and appTypes are the one table of what an app's state and type
// imply (docs/apps.md), with the platform's numbers (internal/platform/
// limits.go) as defaults. An app's explicit settings override them.
var (
	appStates = map[string]struct {
		daily         int64 // the app's daily call quota
		testUserDaily int64 // each test user's (main account's) daily cap; 0 = no test users
	}{
		AppTest:   {platform.DailyCallsTest, platform.TestUserDailyCalls},
		AppOnline: {platform.DailyCallsOnline, 0},
	}
	appTypes = map[string]struct {
		requireState bool // the OAuth callback refuses codes without a gateway state
	}{
		AppSelfUse:    {true},  // never receives the service market's redirect
		AppThirdParty: {false}, // the service market's "use service" redirect carries a code only
	}
)

// Bounds of an app list: a deployment runs a handful of apps; the limits
// keep a wrong or hostile file from costing memory or start-up time.
const (
	MaxApps         = 100
	MaxAppsBytes    = 1 << 20
	maxAppKeyLen    = 64
	maxAppSecretLen = 512
	maxMessageKeys  = 8
)

// App is one app the gateway serves. The settings of an app list
// (KWAISHOP_APPS, KWAISHOP_APPS_FILE) fill what they name; AppList fills
// the rest from the table and returns every app resolved.
type App struct {
	Key         string
	Secret      secret.String
	SignSecret  secret.String
	SignMethod  sign.Method
	MessageKeys []message.Key // bound to Key (the single app of the env vars also holds KWAISHOP_MESSAGE_KEYS)
	Type        string        // AppSelfUse or AppThirdParty
	State       string        // AppTest or AppOnline
	// DailyQuota is the app's calls per day; TestUserDailyQuota each test
	// user's (a main account with its sub-accounts), 0 = no cap. In a list,
	// 0 means the table's value.
	DailyQuota, TestUserDailyQuota int64
	// RedirectURI is the callback registered with the platform for this app.
	RedirectURI string
	// RequireState: /oauth/callback refuses this app's codes without a
	// gateway state. Nil in a list means the table's value.
	RequireState *bool

	origin string // where the app was configured, for errors
}

// TestState reports whether the app is in test state: every shop that
// authorizes it is a test user.
func (a App) TestState() bool { return a.State == AppTest }

// StateRequired reports whether the callback refuses the app's codes
// without a gateway state.
func (a App) StateRequired() bool { return a.RequireState != nil && *a.RequireState }

// AppList is a list of apps (KWAISHOP_APPS, KWAISHOP_APPS_FILE).
type AppList []App

// UnmarshalText parses KWAISHOP_APPS: a JSON (or YAML) list of apps, as in
// the file of KWAISHOP_APPS_FILE.
func (l *AppList) UnmarshalText(text []byte) error {
	apps, err := ParseApps(text, "KWAISHOP_APPS")
	if err != nil {
		return err
	}
	*l = apps
	return nil
}

// ReadAppsFile reads and parses the app list of KWAISHOP_APPS_FILE, at most
// MaxAppsBytes.
func ReadAppsFile(path string) (AppList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxAppsBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > MaxAppsBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxAppsBytes)
	}
	return ParseApps(raw, path)
}

// appFields are the members of one app in a list, in the order errors
// name them.
var appFields = []string{"app_key", "app_secret", "sign_secret", "sign_method", "message_key", "message_keys", "type", "state",
	"daily_quota", "test_user_daily_quota", "redirect_uri", "require_state"}

// ParseApps parses a list of apps: a JSON array or YAML sequence of
// objects with the members of appFields. where names the source in errors.
// Every violation is reported; no message holds a value of the list (a
// secret put in the wrong member must not reach a log).
func ParseApps(raw []byte, where string) (AppList, error) {
	if len(raw) > MaxAppsBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", where, MaxAppsBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a JSON or YAML list of apps (%s)", where, yamlPosition(err))
	}
	if doc.Kind == 0 { // empty text
		return nil, nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list of apps ([{\"app_key\": …}, …])", where)
	}
	items := doc.Content[0].Content
	if len(items) > MaxApps {
		return nil, fmt.Errorf("%s: %d apps, at most %d", where, len(items), MaxApps)
	}
	var errs []error
	out := make(AppList, 0, len(items))
	for i, n := range items {
		origin := fmt.Sprintf("%s: app %d", where, i+1)
		a, err := parseApp(n, origin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, a)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// yamlPosition keeps the line of a YAML error and drops the rest, which
// may quote the text.
func yamlPosition(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+len("line "):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j > 0 {
			return "line " + rest[:j]
		}
	}
	return "syntax error"
}

func parseApp(n *yaml.Node, origin string) (App, error) {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", origin, field, fmt.Sprintf(format, a...)))
	}
	if n.Kind != yaml.MappingNode {
		return App{}, fmt.Errorf("%s: want an object of app settings", origin)
	}
	a := App{origin: origin}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		switch {
		case k.Kind != yaml.ScalarNode || !slices.Contains(appFields, name):
			errs = append(errs, fmt.Errorf("%s: unknown member at line %d (want %s)", origin, k.Line, strings.Join(appFields, ", ")))
			continue
		case seen[name]:
			bad(name, "given twice")
			continue
		}
		seen[name] = true
		if name == "message_keys" {
			if v.Kind != yaml.SequenceNode {
				bad(name, "want a list of base64 keys")
				continue
			}
			if len(v.Content) > maxMessageKeys {
				bad(name, "at most %d keys", maxMessageKeys)
				continue
			}
			for j, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					bad(name, "entry %d: want a base64 key", j+1)
					continue
				}
				if err := a.addMessageKey(item.Value); err != nil {
					bad(name, "entry %d: %v", j+1, err)
				}
			}
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			bad(name, "want a value")
			continue
		}
		s := v.Value
		switch name {
		case "app_key":
			a.Key = s
		case "app_secret":
			a.Secret = secret.New(s)
		case "sign_secret":
			a.SignSecret = secret.New(s)
		case "sign_method":
			m, err := sign.ParseMethod(s)
			if err != nil {
				bad(name, "want HMAC_SHA256 or MD5")
				continue
			}
			a.SignMethod = m
		case "message_key":
			if err := a.addMessageKey(s); err != nil {
				bad(name, "%v", err)
			}
		case "type":
			if _, ok := appTypes[s]; !ok {
				bad(name, "want %s or %s", AppSelfUse, AppThirdParty)
				continue
			}
			a.Type = s
		case "state":
			if _, ok := appStates[s]; !ok {
				bad(name, "want %s or %s", AppTest, AppOnline)
				continue
			}
			a.State = s
		case "daily_quota", "test_user_daily_quota":
			q, err := strconv.ParseInt(s, 10, 64)
			if err != nil || q < 0 {
				bad(name, "want a whole number of calls, 0 for the table's")
				continue
			}
			if name == "daily_quota" {
				a.DailyQuota = q
			} else {
				a.TestUserDailyQuota = q
			}
		case "redirect_uri":
			a.RedirectURI = s
		case "require_state":
			b, err := strconv.ParseBool(s)
			if err != nil {
				bad(name, "want true or false")
				continue
			}
			a.RequireState = &b
		}
	}
	return a, errors.Join(errs...)
}

// addMessageKey parses a base64 message key bound to the app; the key is
// bound once the app key is known (AppList).
func (a *App) addMessageKey(b64 string) error {
	k, err := message.NewKey("", b64)
	if err != nil {
		return errors.New("want base64 of a 16, 24 or 32 byte AES key")
	}
	a.MessageKeys = append(a.MessageKeys, k)
	return nil
}

// checkApps reports what is wrong with an app list: each app's own
// violations, then app keys given twice.
func checkApps(apps AppList) []error {
	var errs []error
	first := map[string]string{}
	for _, a := range apps {
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s: %s", a.origin, field, fmt.Sprintf(format, args...)))
		}
		switch {
		case a.Key == "":
			bad("app_key", "required")
		case len(a.Key) > maxAppKeyLen || !validName(a.Key):
			bad("app_key", "must be 1 to %d letters, digits, '-' or '_'", maxAppKeyLen)
		default:
			if where, dup := first[a.Key]; dup {
				bad("app_key", "the app %s is configured twice (first at %s)", a.Key, where)
			} else {
				first[a.Key] = a.origin
			}
		}
		for _, s := range []struct {
			field string
			v     secret.String
		}{{"app_secret", a.Secret}, {"sign_secret", a.SignSecret}} {
			if s.v.Empty() {
				bad(s.field, "required")
			} else if len(s.v.Reveal()) > maxAppSecretLen {
				bad(s.field, "longer than %d characters", maxAppSecretLen)
			}
		}
		if a.RedirectURI != "" {
			if p, err := url.Parse(a.RedirectURI); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				bad("redirect_uri", "want an absolute http(s) URL")
			}
		}
	}
	return errs
}

// AppList returns every app the gateway serves, resolved: the app list
// (KWAISHOP_APPS_FILE, then KWAISHOP_APPS) when one is given, else the one
// app of the single-app settings (KWAISHOP_APP_KEY, …; none in sandbox mode
// until the sandbox's credentials are applied). Values an app leaves unset
// come from the table of its type and state.
func (c Config) AppList() []App {
	if len(c.Apps) > 0 {
		out := make([]App, 0, len(c.Apps))
		for _, a := range c.Apps {
			if a.SignMethod == "" {
				a.SignMethod = sign.HMACSHA256
			}
			if a.RedirectURI == "" {
				a.RedirectURI = "http://" + c.HTTPAddr + "/oauth/callback/" + a.Key
			}
			keys := make([]message.Key, len(a.MessageKeys))
			for i, k := range a.MessageKeys {
				k.AppKey = a.Key
				keys[i] = k
			}
			a.MessageKeys = keys
			out = append(out, resolveApp(a))
		}
		return out
	}
	if c.AppKey == "" {
		return nil
	}
	state := c.AppState
	if c.SandboxMode() {
		state = AppTest
	}
	a := App{
		Key: c.AppKey, Secret: c.AppSecret, SignSecret: c.SignSecret, SignMethod: c.SignMethod,
		MessageKeys: c.Message.KeysFor(c.AppKey), Type: c.AppType, State: state,
		DailyQuota: c.Limit.DailyQuota, TestUserDailyQuota: c.Limit.TestUserDailyQuota,
		RedirectURI: c.EffectiveRedirectURI(), origin: "KWAISHOP_APP_KEY",
	}
	if c.Token.RequireState.IsSet() {
		v := c.Token.RequireState.Value()
		a.RequireState = &v
	}
	return []App{resolveApp(a)}
}

// resolveApp fills what a leaves unset from the table.
func resolveApp(a App) App {
	if a.Type == "" {
		a.Type = AppThirdParty
	}
	if a.State == "" {
		a.State = AppOnline
	}
	row := appStates[a.State]
	if a.DailyQuota == 0 {
		a.DailyQuota = row.daily
	}
	if a.TestUserDailyQuota == 0 {
		a.TestUserDailyQuota = row.testUserDaily
	}
	if a.State != AppTest {
		a.TestUserDailyQuota = 0 // only a test app has test users
	}
	if a.RequireState == nil {
		v := appTypes[a.Type].requireState
		a.RequireState = &v
	}
	return a
}

// checkAppList reports the violations of an app list and the single-app
// settings given with it: each app of a list names its own credentials,
// keys, type, state and quotas, so a single-app setting would be ambiguous.
func (c Config) checkAppList() []error {
	errs := checkApps(c.Apps)
	// A single-app setting counts as set when given, or when it differs
	// from its default (a Config built without Load).
	for _, s := range []struct {
		env     string
		differs bool
	}{
		{"KWAISHOP_APP_KEY", c.AppKey != ""},
		{"KWAISHOP_APP_SECRET", !c.AppSecret.Empty()},
		{"KWAISHOP_SIGN_SECRET", !c.SignSecret.Empty()},
		{"KWAISHOP_SIGN_METHOD", c.SignMethod != sign.HMACSHA256},
		{"KWAISHOP_APP_STATE", c.AppState != AppOnline},
		{"KWAISHOP_APP_TYPE", c.AppType != AppThirdParty},
		{"KWAISHOP_MESSAGE_KEY", !c.Message.Key.IsZero()},
		{"KWAISHOP_MESSAGE_KEYS", len(c.Message.Keys) > 0},
		{"KWAISHOP_REDIRECT_URI", c.RedirectURI != ""},
		{"KWAISHOP_DAILY_QUOTA", c.Limit.DailyQuota != 0},
		{"KWAISHOP_TEST_USER_DAILY_QUOTA", c.Limit.TestUserDailyQuota != 0},
		{"KWAISHOP_OAUTH_REQUIRE_STATE", c.Token.RequireState.IsSet()},
	} {
		if c.given[s.env] || s.differs {
			errs = append(errs, fmt.Errorf("%s: a single-app setting, not allowed with an app list (KWAISHOP_APPS / KWAISHOP_APPS_FILE): set it per app in the list (docs/apps.md)", s.env))
		}
	}
	for i, e := range errs {
		errs[i] = fmt.Errorf("config: %w", e)
	}
	return errs
}
