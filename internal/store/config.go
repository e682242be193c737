package store

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// Settings are the operator's settings of the store (docs/deploy.md),
// parsed: internal/config fills them from the environment, flags or YAML
// (the env tag names the variable, the flag is its kebab-case name) and
// checks them with Validate. Config gives what Open takes.
type Settings struct {
	DataDir      string `env:"KWAISHOP_DATA_DIR" usage:"embedded NATS store and generated sandbox secrets"`
	NATSURL      string `env:"KWAISHOP_NATS_URL" usage:"external NATS URL(s); set = no embedded server"`
	NATSListen   string `env:"KWAISHOP_NATS_LISTEN" usage:"let the embedded NATS server listen on this host:port (default: no TCP port)"`
	NATSReplicas int64  `env:"KWAISHOP_NATS_REPLICAS" usage:"replicas of every JetStream stream and KV bucket on an external NATS cluster (1-5; 3 for a 3-node cluster)"`

	// TokenKeys seal tokens and webhook secrets at rest (nil: none given;
	// the gateway generates them in sandbox mode).
	TokenKeys *Keyring `env:"KWAISHOP_TOKEN_KEYS" usage:"token encryption keys id:base64key,... (first encrypts); generated in sandbox mode"`

	// OAuthStateMaxBytes caps the OAuth state bucket (NewStateStore).
	OAuthStateMaxBytes int64 `env:"KWAISHOP_OAUTH_STATE_MAX_BYTES" usage:"bytes the pending OAuth states may take in the store; a start beyond it is refused (503) until states are used or expire"`

	// External NATS: credentials and TLS (Auth).
	NATSCreds    string        `env:"KWAISHOP_NATS_CREDS" usage:"NATS credentials file (user JWT + nkey seed) for KWAISHOP_NATS_URL; re-read on every reconnect"`
	NATSNkeySeed string        `env:"KWAISHOP_NATS_NKEY_SEED" usage:"file holding a NATS user nkey seed (SU...) for KWAISHOP_NATS_URL; read at start"`
	NATSUser     string        `env:"KWAISHOP_NATS_USER" usage:"user name for KWAISHOP_NATS_URL (with KWAISHOP_NATS_PASSWORD)"`
	NATSPassword secret.String `env:"KWAISHOP_NATS_PASSWORD" usage:"password of KWAISHOP_NATS_USER"`
	NATSCA       string        `env:"KWAISHOP_NATS_CA" usage:"PEM CA bundle the NATS servers' certificates must chain to; set = TLS required"`
	NATSCert     string        `env:"KWAISHOP_NATS_CERT" usage:"PEM client certificate for NATS mutual TLS (with KWAISHOP_NATS_KEY)"`
	NATSKey      string        `env:"KWAISHOP_NATS_KEY" usage:"PEM private key of KWAISHOP_NATS_CERT"`
}

// DefaultSettings are the documented defaults: an embedded store in ./data.
func DefaultSettings() Settings {
	return Settings{DataDir: "./data", NATSReplicas: 1, OAuthStateMaxBytes: DefaultStateMaxBytes}
}

// Auth is the credentials and TLS material for KWAISHOP_NATS_URL.
func (s Settings) Auth() Auth {
	return Auth{
		CredsFile: s.NATSCreds, NkeySeedFile: s.NATSNkeySeed, User: s.NATSUser, Password: s.NATSPassword,
		CAFile: s.NATSCA, CertFile: s.NATSCert, KeyFile: s.NATSKey,
	}
}

// Config is what Open takes for s.
func (s Settings) Config() Config {
	return Config{DataDir: s.DataDir, NATSURL: s.NATSURL, Listen: s.NATSListen, Replicas: int(s.NATSReplicas), Auth: s.Auth()}
}

// authEnv names the variable of each Auth field.
var authEnv = map[AuthField]string{
	FieldCreds: "KWAISHOP_NATS_CREDS", FieldNkeySeed: "KWAISHOP_NATS_NKEY_SEED", FieldUser: "KWAISHOP_NATS_USER",
	FieldPassword: "KWAISHOP_NATS_PASSWORD", FieldCA: "KWAISHOP_NATS_CA", FieldCert: "KWAISHOP_NATS_CERT", FieldKey: "KWAISHOP_NATS_KEY",
}

// Validate reports every violation, each naming its variable and none
// showing a URL, password or file content. It reads the NATS credential
// and TLS files (Auth.Validate).
func (s Settings) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if s.NATSReplicas < 1 || s.NATSReplicas > MaxReplicas || (s.NATSReplicas > 1 && s.NATSURL == "") {
		bad("KWAISHOP_NATS_REPLICAS", "want 1-%d, and more than 1 only with KWAISHOP_NATS_URL, got %d", MaxReplicas, s.NATSReplicas)
	}
	if s.NATSListen != "" {
		if _, _, err := net.SplitHostPort(s.NATSListen); err != nil {
			bad("KWAISHOP_NATS_LISTEN", "want host:port, got %q", s.NATSListen)
		}
	}
	if s.NATSURL != "" {
		for i, u := range strings.Split(s.NATSURL, ",") {
			if p, err := url.Parse(strings.TrimSpace(u)); err != nil || p.Host == "" {
				// The URL may carry credentials: name the entry, never show it.
				bad("KWAISHOP_NATS_URL", "want nats://host:port[,...]; entry %d is not", i+1)
			}
		}
	} else if s.DataDir == "" {
		bad("KWAISHOP_DATA_DIR", "required for the embedded store")
	}
	if s.OAuthStateMaxBytes < 64<<10 || s.OAuthStateMaxBytes > 1<<30 {
		bad("KWAISHOP_OAUTH_STATE_MAX_BYTES", "want 65536 (64 KiB) to 1073741824 (1 GiB) bytes, got %d", s.OAuthStateMaxBytes)
	}
	a := s.Auth()
	if !a.IsZero() && s.NATSURL == "" {
		bad("KWAISHOP_NATS_URL", "KWAISHOP_NATS_CREDS, _NKEY_SEED, _USER, _PASSWORD, _CA, _CERT and _KEY are for an external NATS: set KWAISHOP_NATS_URL or unset them")
		return errors.Join(errs...)
	}
	err := a.Validate()
	if err == nil {
		return errors.Join(errs...)
	}
	list := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	}
	for _, e := range list {
		var ae *AuthError
		switch {
		case !errors.As(e, &ae):
			bad("KWAISHOP_NATS_*", "%v", e)
		case authEnv[ae.Field] == "":
			bad("KWAISHOP_NATS_CREDS", "%s (KWAISHOP_NATS_CREDS, KWAISHOP_NATS_NKEY_SEED, KWAISHOP_NATS_USER/PASSWORD)", ae.Msg)
		default:
			bad(authEnv[ae.Field], "%s", ae.Msg)
		}
	}
	return errors.Join(errs...)
}

// UnmarshalText parses KWAISHOP_TOKEN_KEYS (ParseKeyring) into k.
func (k *Keyring) UnmarshalText(text []byte) error {
	parsed, err := ParseKeyring(string(text))
	if err != nil {
		return err
	}
	*k = *parsed
	return nil
}
