package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// Auth is how the Store proves who it is to an external NATS and how it
// checks the server: at most one credential (a .creds file, an nkey seed
// file, or a user and password) plus optional TLS material. The zero value
// connects anonymously, in plain text unless the server asks for TLS.
//
// File contents (seeds, JWTs, keys) and the password never appear in errors
// or logs; file paths do.
type Auth struct {
	// CredsFile is a NATS credentials file: a user JWT and its nkey seed
	// (decentralised JWT auth, e.g. made by `nsc`). Read again on every
	// (re)connect, so a rotated file is picked up.
	CredsFile string
	// NkeySeedFile holds a user nkey seed (SU...); the server knows only
	// its public key. The key is fixed at start: a new seed needs a restart.
	NkeySeedFile string
	// User and Password: plain user/password authentication. Both or neither.
	User     string
	Password secret.String
	// CAFile is a PEM bundle the server's certificate must chain to. Setting
	// it makes TLS mandatory for every server in the URL list.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key presented to
	// a server that verifies clients (mutual TLS). Both or neither; they
	// also make TLS mandatory (with the system roots unless CAFile is set).
	CertFile, KeyFile string
}

// AuthField names an Auth setting in an AuthError.
type AuthField string

// The Auth fields, as reported by AuthError.
const (
	FieldCreds    AuthField = "creds"
	FieldNkeySeed AuthField = "nkey_seed"
	FieldUser     AuthField = "user"
	FieldPassword AuthField = "password"
	FieldCA       AuthField = "ca"
	FieldCert     AuthField = "cert"
	FieldKey      AuthField = "key"
	fieldNone     AuthField = ""
)

// AuthError is one violation of Auth.Validate. It wraps ErrInvalidConfig.
// Field lets a caller name its own setting (an environment variable, say).
type AuthError struct {
	Field AuthField
	Msg   string
}

func (e *AuthError) Error() string {
	if e.Field == fieldNone {
		return fmt.Sprintf("%v: nats auth: %s", ErrInvalidConfig, e.Msg)
	}
	return fmt.Sprintf("%v: nats %s: %s", ErrInvalidConfig, e.Field, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *AuthError) Unwrap() error { return ErrInvalidConfig }

// IsZero reports whether no credential and no TLS material is set.
func (a Auth) IsZero() bool {
	return a.CredsFile == "" && a.NkeySeedFile == "" && a.User == "" && a.Password.Empty() &&
		a.CAFile == "" && a.CertFile == "" && a.KeyFile == ""
}

// Method names the credential in use, for logs: creds, nkey, user or none.
func (a Auth) Method() string {
	switch {
	case a.CredsFile != "":
		return "creds"
	case a.NkeySeedFile != "":
		return "nkey"
	case a.User != "":
		return "user"
	default:
		return "none"
	}
}

// tlsWanted reports whether the settings make TLS mandatory.
func (a Auth) tlsWanted() bool { return a.CAFile != "" || a.CertFile != "" }

// Validate reports every violation as an *AuthError (joined): more than
// one credential, a half pair (user without password, certificate without
// key), and files that are missing, unreadable or do not parse. It reads
// the files but never echoes their contents.
func (a Auth) Validate() error {
	_, err := a.options()
	return err
}

// options checks a and returns the nats.go options it stands for.
func (a Auth) options() ([]nats.Option, error) {
	var (
		errs []error
		opts []nats.Option
	)
	bad := func(f AuthField, format string, args ...any) {
		errs = append(errs, &AuthError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	n := 0
	for _, set := range []bool{a.CredsFile != "", a.NkeySeedFile != "", a.User != "" || !a.Password.Empty()} {
		if set {
			n++
		}
	}
	if n > 1 {
		bad(fieldNone, "set only one of a credentials file, an nkey seed file, or a user and password")
	}
	if a.CredsFile != "" {
		if err := checkCreds(a.CredsFile); err != nil {
			bad(FieldCreds, "%v", err)
		} else {
			opts = append(opts, nats.UserCredentials(a.CredsFile))
		}
	}
	if a.NkeySeedFile != "" {
		if err := readable(a.NkeySeedFile); err != nil {
			bad(FieldNkeySeed, "%v", err)
		} else if o, err := nats.NkeyOptionFromSeed(a.NkeySeedFile); err != nil {
			bad(FieldNkeySeed, "%s does not hold a valid user nkey seed (SU...)", a.NkeySeedFile)
		} else {
			opts = append(opts, o)
		}
	}
	switch {
	case a.User != "" && a.Password.Empty():
		bad(FieldPassword, "a user needs a password")
	case a.User == "" && !a.Password.Empty():
		bad(FieldUser, "a password needs a user")
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password.Reveal()))
	}

	if a.CertFile != "" && a.KeyFile == "" {
		bad(FieldKey, "a client certificate needs its key")
	}
	if a.KeyFile != "" && a.CertFile == "" {
		bad(FieldCert, "a client key needs its certificate")
	}
	if !a.tlsWanted() {
		return opts, errors.Join(errs...)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pool, err := loadCA(a.CAFile)
		if err != nil {
			bad(FieldCA, "%v", err)
		}
		tc.RootCAs = pool
	}
	if a.CertFile != "" && a.KeyFile != "" {
		if err := readable(a.CertFile); err != nil {
			bad(FieldCert, "%v", err)
		} else if err := readable(a.KeyFile); err != nil {
			bad(FieldKey, "%v", err)
		} else if cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile); err != nil {
			// tls errors name PEM block types and key algorithms, never key bytes.
			bad(FieldCert, "%s and %s are not a PEM certificate and its private key: %v", a.CertFile, a.KeyFile, err)
		} else {
			tc.Certificates = []tls.Certificate{cert}
		}
	}
	// nats.go sets the server name per server from the URL it dials.
	opts = append(opts, nats.Secure(tc))
	return opts, errors.Join(errs...)
}

// readable checks that path is a regular file the process can open.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %v", path, pe.Err)
		}
		return fmt.Errorf("%s: cannot open", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

func loadCA(path string) (*x509.CertPool, error) {
	if err := readable(path); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read", path)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// checkCreds parses a credentials file the way nats.go will at connect
// time: a user JWT and a seed that can sign.
func checkCreds(path string) error {
	if err := readable(path); err != nil {
		return err
	}
	var o nats.Options
	if err := nats.UserCredentials(path)(&o); err != nil {
		return fmt.Errorf("%s is not a credentials file", path)
	}
	// nats.go takes a file without JWT markers for a bare JWT: decode it.
	if raw, err := o.UserJWT(); err != nil {
		return fmt.Errorf("%s holds no user JWT", path)
	} else if _, err := jwt.DecodeUserClaims(raw); err != nil {
		return fmt.Errorf("%s holds no user JWT", path)
	}
	if _, err := o.SignatureCB([]byte("probe")); err != nil {
		return fmt.Errorf("%s holds no usable nkey seed", path)
	}
	return nil
}

// urlHasUserInfo reports whether any server of a comma-separated NATS URL
// list carries a user, password or token.
func urlHasUserInfo(s string) bool {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, "://") {
			part = "nats://" + part
		}
		if u, err := url.Parse(part); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

// connectHint points at the settings behind the usual refusals.
func connectHint(err error) string {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		certInvalid      x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		return " (check the NATS credentials settings)"
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &certInvalid):
		return " (check the NATS CA setting and the server certificate's names)"
	case errors.Is(err, nats.ErrSecureConnWanted):
		return " (TLS is set but the server does not offer it)"
	}
	return ""
}
