package store

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// natsPKI is a test CA with a server certificate for 127.0.0.1/localhost and
// a client certificate, plus an unrelated CA, all as PEM files.
type natsPKI struct {
	ca, otherCA, serverCert, serverKey, clientCert, clientKey string
}

func newNATSPKI(t *testing.T) natsPKI {
	t.Helper()
	dir := t.TempDir()
	serial := int64(0)
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name string, block *pem.Block) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(name string, tmpl, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) (*x509.Certificate, string, string) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return c, write(name+".pem", &pem.Block{Type: "CERTIFICATE", Bytes: der}), write(name+"-key.pem", &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	caKey := newKey()
	ca, caFile, _ := issue("ca", caTmpl("nats test CA"), nil, nil, caKey)
	_, otherCA, _ := issue("other-ca", caTmpl("unrelated CA"), nil, nil, newKey())
	_, srvCert, srvKey := issue("server", &x509.Certificate{Subject: pkix.Name{CommonName: "nats"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, newKey())
	_, cliCert, cliKey := issue("client", &x509.Certificate{Subject: pkix.Name{CommonName: "kwaishop-gateway"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, newKey())
	return natsPKI{ca: caFile, otherCA: otherCA, serverCert: srvCert, serverKey: srvKey, clientCert: cliCert, clientKey: cliKey}
}

// secureNATS is a JetStream server that requires TLS and authentication.
type secureNATS struct {
	url      string
	password string // of user "gateway"
	seedFile string // an nkey user the server knows
	seed     string
}

const testNATSPassword = "s3cret-Pa55word-for-nats"

// startSecureNATS runs a nats-server on a free loopback port with TLS on
// the client port (client certificates verified when verifyClients) and two
// accepted users: "gateway" with testNATSPassword, and an nkey user.
func startSecureNATS(t *testing.T, pki natsPKI, verifyClients bool) secureNATS {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	sn := secureNATS{password: testNATSPassword, seed: string(seed), seedFile: writeFile(t, "gateway.nk", string(seed))}
	opts := baseSecureOpts(t, pki, verifyClients)
	opts.Users = []*server.User{{Username: "gateway", Password: testNATSPassword}}
	opts.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	sn.url = runNATS(t, opts)
	return sn
}

func baseSecureOpts(t *testing.T, pki natsPKI, verifyClients bool) *server.Options {
	t.Helper()
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: pki.serverCert, KeyFile: pki.serverKey, CaFile: pki.ca, Verify: verifyClients})
	if err != nil {
		t.Fatal(err)
	}
	return &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: t.TempDir(),
		TLS: true, TLSConfig: tc, TLSVerify: verifyClients, TLSTimeout: 5,
	}
}

func runNATS(t *testing.T, opts *server.Options) string {
	t.Helper()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	addr := srv.Addr().(*net.TCPAddr)
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
}

// testKV creates a throw-away KV bucket on s.
func testKV(t *testing.T, s *Store) jetstream.KeyValue {
	t.Helper()
	kv, err := s.JetStream().CreateOrUpdateKeyValue(testCtx(t), jetstream.KeyValueConfig{Bucket: "secure_test", Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatalf("create kv: %v", err)
	}
	return kv
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// credsNATS runs a TLS nats-server in operator (JWT) mode and returns its
// URL and a credentials file of a user of a JetStream-enabled account.
func credsNATS(t *testing.T, pki natsPKI) (url, credsFile, credsText string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	_, err = oc.Encode(okp)
	must(err)
	akp, err := nkeys.CreateAccount()
	must(err)
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	must(err)
	ukp, err := nkeys.CreateUser()
	must(err)
	upub, _ := ukp.PublicKey()
	useed, _ := ukp.Seed()
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	must(err)
	creds, err := jwt.FormatUserConfig(ujwt, useed)
	must(err)

	// JetStream in operator mode needs a system account.
	skp, err := nkeys.CreateAccount()
	must(err)
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	must(err)

	resolver := &server.MemAccResolver{}
	must(resolver.Store(apub, ajwt))
	must(resolver.Store(spub, sjwt))
	opts := baseSecureOpts(t, pki, false)
	opts.TrustedOperators = []*jwt.OperatorClaims{oc}
	opts.AccountResolver = resolver
	opts.SystemAccount = spub
	return runNATS(t, opts), writeFile(t, "gateway.creds", string(creds)), string(creds)
}

// logBuffer collects a JSON slog stream.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSecureNATS_Connects(t *testing.T) {
	pki := newNATSPKI(t)
	sn := startSecureNATS(t, pki, false)
	mtls := startSecureNATS(t, pki, true)
	credsURL, credsFile, credsText := credsNATS(t, pki)
	for _, tc := range []struct {
		name, url, method string
		auth              Auth
		secrets           []string
	}{
		{"user_password", sn.url, "user", Auth{User: "gateway", Password: secret.New(sn.password), CAFile: pki.ca}, []string{sn.password}},
		{"nkey_seed", sn.url, "nkey", Auth{NkeySeedFile: sn.seedFile, CAFile: pki.ca}, []string{sn.seed}},
		{"creds", credsURL, "creds", Auth{CredsFile: credsFile, CAFile: pki.ca}, []string{credsText}},
		{"mutual_tls", mtls.url, "nkey", Auth{NkeySeedFile: mtls.seedFile, CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey}, []string{mtls.seed}},
		{"tls_scheme", strings.Replace(sn.url, "nats://", "tls://", 1), "user", Auth{User: "gateway", Password: secret.New(sn.password), CAFile: pki.ca}, []string{sn.password}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s, err := Open(testCtx(t), Config{NATSURL: tc.url, Auth: tc.auth, ConnectTimeout: 10 * time.Second}, log)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if err := s.Ready(testCtx(t)); err != nil {
				t.Fatalf("Ready: %v", err)
			}
			if _, err := s.Conn().TLSConnectionState(); err != nil {
				t.Errorf("connection is not TLS: %v", err)
			}
			// A JetStream write and read through the authenticated connection.
			kv := testKV(t, s)
			if _, err := kv.Put(testCtx(t), "k", []byte("v")); err != nil {
				t.Fatalf("kv put: %v", err)
			}
			if e, err := kv.Get(testCtx(t), "k"); err != nil || string(e.Value()) != "v" {
				t.Fatalf("kv get: %v", err)
			}
			_ = s.Close()
			out := logs.String()
			if !strings.Contains(out, `"msg":"store: connected to nats"`) || !strings.Contains(out, `"auth":"`+tc.method+`"`) || !strings.Contains(out, `"tls":true`) {
				t.Errorf("no start-up line naming auth %s and tls:\n%s", tc.method, out)
			}
			for _, sec := range tc.secrets {
				for _, line := range strings.Split(sec, "\n") {
					if line = strings.TrimSpace(line); len(line) > 20 && strings.Contains(out, line) {
						t.Errorf("a secret reached the log:\n%s", out)
					}
				}
			}
		})
	}
}

func TestSecureNATS_Refused(t *testing.T) {
	pki := newNATSPKI(t)
	sn := startSecureNATS(t, pki, false)
	mtls := startSecureNATS(t, pki, true)
	strangerSeed, _ := nkeys.CreateUser()
	seed, _ := strangerSeed.Seed()
	strangerFile := writeFile(t, "stranger.nk", string(seed))
	for _, tc := range []struct {
		name, url string
		auth      Auth
		is        error  // errors.Is target, if any
		want      string // in the message
	}{
		{"wrong_password", sn.url, Auth{User: "gateway", Password: secret.New("wrong-" + sn.password), CAFile: pki.ca}, nats.ErrAuthorization, "check the NATS credentials"},
		{"unknown_nkey", sn.url, Auth{NkeySeedFile: strangerFile, CAFile: pki.ca}, nats.ErrAuthorization, "check the NATS credentials"},
		{"no_credentials", sn.url, Auth{CAFile: pki.ca}, nats.ErrAuthorization, "check the NATS credentials"},
		{"no_ca", sn.url, Auth{User: "gateway", Password: secret.New(sn.password)}, nil, "check the NATS CA"},
		{"wrong_ca", sn.url, Auth{User: "gateway", Password: secret.New(sn.password), CAFile: pki.otherCA}, nil, "check the NATS CA"},
		{"no_client_cert", mtls.url, Auth{NkeySeedFile: mtls.seedFile, CAFile: pki.ca}, nil, "store: connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s, err := Open(testCtx(t), Config{NATSURL: tc.url, Auth: tc.auth, ConnectTimeout: 5 * time.Second}, log)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("refused: %v", err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			for _, sec := range []string{sn.password, string(seed), mtls.seed} {
				if strings.Contains(err.Error(), sec) || strings.Contains(logs.String(), sec) {
					t.Errorf("a secret is in the error or the log: %v\n%s", err, logs.String())
				}
			}
		})
	}
}

func TestAuth_Validate(t *testing.T) {
	t.Parallel()
	pki := newNATSPKI(t)
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	seedFile := writeFile(t, "ok.nk", string(seed))
	acct, _ := nkeys.CreateAccount()
	acctSeed, _ := acct.Seed()
	acctSeedFile := writeFile(t, "account.nk", string(acctSeed))
	garbage := "not-a-seed-SUAGARBAGEGARBAGEGARBAGE"
	garbageFile := writeFile(t, "garbage", garbage)
	dir := t.TempDir()
	const url = "nats://nats:4222"
	for _, tc := range []struct {
		name  string
		cfg   Config
		field AuthField // of the first AuthError; "" = any
		want  string    // "" = valid
	}{
		{"valid_user", Config{NATSURL: url, Auth: Auth{User: "u", Password: secret.New("p"), CAFile: pki.ca}}, "", ""},
		{"valid_nkey_mtls", Config{NATSURL: url, Auth: Auth{NkeySeedFile: seedFile, CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey}}, "", ""},
		{"two_credentials", Config{NATSURL: url, Auth: Auth{NkeySeedFile: seedFile, User: "u", Password: secret.New("p")}}, fieldNone, "only one of"},
		{"user_without_password", Config{NATSURL: url, Auth: Auth{User: "u"}}, FieldPassword, "needs a password"},
		{"password_without_user", Config{NATSURL: url, Auth: Auth{Password: secret.New("p")}}, FieldUser, "needs a user"},
		{"cert_without_key", Config{NATSURL: url, Auth: Auth{CertFile: pki.clientCert}}, FieldKey, "needs its key"},
		{"key_without_cert", Config{NATSURL: url, Auth: Auth{KeyFile: pki.clientKey}}, FieldCert, "needs its certificate"},
		{"cert_and_key_mismatch", Config{NATSURL: url, Auth: Auth{CertFile: pki.clientCert, KeyFile: pki.serverKey}}, FieldCert, "not a PEM certificate and its private key"},
		{"missing_ca", Config{NATSURL: url, Auth: Auth{CAFile: filepath.Join(dir, "nope.pem")}}, FieldCA, "no such file"},
		{"ca_is_a_directory", Config{NATSURL: url, Auth: Auth{CAFile: dir}}, FieldCA, "not a regular file"},
		{"ca_not_pem", Config{NATSURL: url, Auth: Auth{CAFile: garbageFile}}, FieldCA, "no PEM certificate"},
		{"seed_garbage", Config{NATSURL: url, Auth: Auth{NkeySeedFile: garbageFile}}, FieldNkeySeed, "valid user nkey seed"},
		{"seed_of_an_account", Config{NATSURL: url, Auth: Auth{NkeySeedFile: acctSeedFile}}, FieldNkeySeed, "valid user nkey seed"},
		{"missing_seed", Config{NATSURL: url, Auth: Auth{NkeySeedFile: filepath.Join(dir, "nope.nk")}}, FieldNkeySeed, "no such file"},
		{"creds_garbage", Config{NATSURL: url, Auth: Auth{CredsFile: garbageFile}}, FieldCreds, "no user JWT"},
		{"creds_is_a_seed", Config{NATSURL: url, Auth: Auth{CredsFile: seedFile}}, FieldCreds, "no user JWT"},
		{"embedded", Config{DataDir: dir, Auth: Auth{CAFile: pki.ca}}, "", "only valid with an external NATS"},
		{"twice", Config{NATSURL: "nats://u:p@nats:4222", Auth: Auth{User: "u", Password: secret.New("p")}}, "", "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want an ErrInvalidConfig saying %q", err, tc.want)
			}
			if tc.field != "" {
				var ae *AuthError
				if !errors.As(err, &ae) || ae.Field != tc.field {
					t.Errorf("AuthError = %+v, want field %q", ae, tc.field)
				}
			}
			for _, sec := range []string{garbage, string(seed), string(acctSeed), "SUA", "-----BEGIN"} {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("file contents in the error: %v", err)
				}
			}
		})
	}
}
