package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// FlagName is the kebab-case flag for an env var: KWAISHOP_GRPC_ADDR → grpc-addr.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "KWAISHOP_")), "_", "-")
}

// Load builds the configuration from defaults, the YAML file (KWAISHOP_CONFIG
// or --config), the environment (getenv) and the command line (args, without
// the program name), then validates it. Each value given is parsed once,
// where it is read; one that does not parse is reported with where it came
// from, and every other violation with it.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Defaults()
	settings := settingsOf(&cfg)
	var errs []error
	unparsed := map[string]bool{}
	cfg.given = map[string]bool{}
	set := func(s setting, value, where string) {
		cfg.given[s.env] = true
		if err := s.set(value); err != nil {
			unparsed[s.env] = true
			errs = append(errs, fmt.Errorf("config: %s: %w", where, err))
		}
	}

	// First pass: find the config file (flag wins over env).
	file := getenv("KWAISHOP_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				file = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			file = a[strings.Index(a, "=")+1:]
		}
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("config: read %s: %w", file, err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return cfg, fmt.Errorf("config: parse %s: %w", file, err)
		}
		for k, v := range m {
			s, ok := settings[k]
			if !ok {
				errs = append(errs, fmt.Errorf("config: %s: unknown setting %q", file, k))
				continue
			}
			set(s, v, file+": "+k)
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			set(s, v, s.env)
		}
	}
	fs := flag.NewFlagSet("kwaishop-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for name, s := range settings {
		fs.Func(name, s.usage+" (env "+s.env+")", func(v string) error {
			// Collect instead of stopping, so every violation is reported.
			set(s, v, "--"+name+" ("+s.env+")")
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("config: unexpected arguments %q", fs.Args()))
	}
	if cfg.AppsFile != "" { // read once, here: its apps come before those of KWAISHOP_APPS
		apps, err := ReadAppsFile(cfg.AppsFile)
		if err != nil {
			unparsed["KWAISHOP_APPS_FILE"] = true
			errs = append(errs, fmt.Errorf("config: KWAISHOP_APPS_FILE: %w", err))
		}
		cfg.Apps = append(apps, cfg.Apps...)
	}
	if err := errors.Join(append(errs, cfg.validate(unparsed))...); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Set parses value into the setting named env (KWAISHOP_…), as Load does
// with a value from the environment: for code that builds a Config itself
// (tests, tools). It does not validate.
func (c *Config) Set(env, value string) error {
	for _, s := range settingsOf(c) {
		if s.env == env {
			if err := s.set(value); err != nil {
				return fmt.Errorf("config: %s: %w", env, err)
			}
			return nil
		}
	}
	return fmt.Errorf("config: unknown setting %s", env)
}

// setting is one env-tagged field of a Config.
type setting struct {
	env, usage string
	set        func(string) error
}

// settingsOf maps flag names to the settings of cfg: every field with an
// env tag, in cfg and in the packages' Settings it composes.
func settingsOf(cfg *Config) map[string]setting {
	out := map[string]setting{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			sf, fv := t.Field(i), v.Field(i)
			env := sf.Tag.Get("env")
			switch {
			case env != "":
				out[FlagName(env)] = setting{env: env, usage: sf.Tag.Get("usage"), set: setter(fv)}
			case sf.Type.Kind() == reflect.Struct && sf.IsExported():
				walk(fv)
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem())
	return out
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// setter parses a value into the field fv. A type that parses itself
// (encoding.TextUnmarshaler: API keys, keyrings, rates, message keys, host
// lists) gets the text; an empty text sets none (the zero value).
func setter(fv reflect.Value) func(string) error {
	parses := fv.Type().Implements(textUnmarshaler) || reflect.PointerTo(fv.Type()).Implements(textUnmarshaler)
	return func(s string) error {
		if parses && strings.TrimSpace(s) == "" {
			fv.SetZero()
			return nil
		}
		switch p := fv.Addr().Interface().(type) {
		case *string:
			*p = s
		case *secret.String:
			*p = secret.New(s)
		case *sign.Method:
			m, err := sign.ParseMethod(s)
			if err != nil {
				return fmt.Errorf("want HMAC_SHA256 or MD5, got %q", s)
			}
			*p = m
		case *time.Duration:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("want a duration like 10s, got %q", s)
			}
			*p = d
		case *bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", s)
			}
			*p = b
		case *int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", s)
			}
			*p = n
		case encoding.TextUnmarshaler:
			return p.UnmarshalText([]byte(s))
		default:
			if fv.Kind() != reflect.Pointer || !fv.Type().Implements(textUnmarshaler) {
				return fmt.Errorf("unsupported setting type %s", fv.Type())
			}
			v := reflect.New(fv.Type().Elem())
			if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				return err
			}
			fv.Set(v)
		}
		return nil
	}
}
