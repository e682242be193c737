package app

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// productionNATS starts a nats-server from the production configuration
// (deploy/k8s/nats/nats.conf: TLS and nkey authentication on the client
// port) with test certificates and keys standing in for the Secrets, on a
// free loopback port, standalone (no routes, no cluster). It returns the
// client URL and a seed file of the gateway's nkey user.
func productionNATS(t *testing.T, pki testPKI) (natsURL, seedFile, seed string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "k8s", "nats", "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// The Secret nats-tls: the config's files, by their key names.
	files := map[string]string{"tls.crt": pki.serverCert, "tls.key": pki.serverKey, "ca.crt": pki.caFile}
	conf := regexp.MustCompile(`(?m)^(\s*(?:cert_file|key_file|ca_file):\s*)(\S+)`).ReplaceAllStringFunc(string(raw), func(line string) string {
		m := regexp.MustCompile(`^(\s*\w+:\s*)(\S+)$`).FindStringSubmatch(line)
		f, ok := files[filepath.Base(m[2])]
		if !ok {
			t.Fatalf("nats.conf names %s: no test file for it", m[2])
		}
		return m[1] + f
	})
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	rawSeed, _ := kp.Seed()
	// The StatefulSet's environment (the Secret nats-auth).
	for k, v := range map[string]string{
		"SERVER_NAME": "nats-0", "NATS_GATEWAY_NKEY": pub, "NATS_ROUTE_USER": "route", "NATS_ROUTE_PASSWORD": "0123456789abcdef",
		"NATS_ROUTES": `["nats://route:0123456789abcdef@nats-0.nats-headless:6222"]`,
	} {
		t.Setenv(k, v)
	}
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	if opts.TLSConfig == nil || len(opts.Nkeys) == 0 {
		t.Fatal("the production nats.conf has no client TLS or no nkey users")
	}
	opts.Host, opts.Port, opts.HTTPPort, opts.PidFile, opts.StoreDir = "127.0.0.1", server.RANDOM_PORT, 0, "", t.TempDir()
	opts.Cluster, opts.Routes, opts.RoutesStr = server.ClusterOpts{}, nil, ""
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	seedFile = filepath.Join(t.TempDir(), "nkey.seed")
	if err := os.WriteFile(seedFile, rawSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)), seedFile, string(rawSeed)
}

// TestNATSSecure_GatewayOnProductionNATS runs the whole gateway against a
// NATS configured like production (TLS + nkey auth): it connects with
// KWAISHOP_NATS_CA and KWAISHOP_NATS_NKEY_SEED, serves calls that need the
// store, says so in its log without the seed; without the CA or with
// another key it refuses to start with an error naming the setting.
func TestNATSSecure_GatewayOnProductionNATS(t *testing.T) {
	pki := newTestPKI(t)
	url, seedFile, seed := productionNATS(t, pki)
	base := config.Defaults()
	base.GRPCAddr, base.HTTPAddr, base.Store.DataDir, base.Store.NATSURL = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), url
	base.Message.ReconcileInterval = 0

	t.Run("connects", func(t *testing.T) {
		cfg := base
		cfg.Store.NATSCA, cfg.Store.NATSNkeySeed = pki.caFile, seedFile
		g := startGatewayWith(t, cfg, Options{})
		resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz = %d", resp.StatusCode)
		}
		// The sandbox shop's token lives in the store on that NATS.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: g.info.SandboxOpenID, Method: "open.shop.info.get"}); err != nil {
			t.Fatalf("call through the store: %v", err)
		}
		g.stop()
		logs := g.logs.String()
		if !strings.Contains(logs, `"msg":"store: connected to nats"`) || !strings.Contains(logs, `"auth":"nkey"`) || !strings.Contains(logs, `"tls":true`) {
			t.Errorf("no start-up line with auth nkey and tls:\n%s", logs)
		}
		if strings.Contains(logs, seed) {
			t.Error("the nkey seed is in the log")
		}
	})

	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(t.TempDir(), "other.seed")
	if err := os.WriteFile(otherFile, otherSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		ca, seed string
		pass     secret.String
		user     string
		want     string
	}{
		{"without_the_CA", "", seedFile, secret.String{}, "", "check the NATS CA"},
		{"with_another_nkey", pki.caFile, otherFile, secret.String{}, "", "check the NATS credentials"},
		{"with_a_password_the_server_does_not_know", pki.caFile, "", secret.New("guessed-password-123"), "gateway", "check the NATS credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Store.NATSCA, cfg.Store.NATSNkeySeed, cfg.Store.NATSUser, cfg.Store.NATSPassword = tc.ca, tc.seed, tc.user, tc.pass
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := Run(ctx, cfg, Options{LogOutput: logs, Getenv: func(string) string { return "" }, Ready: func(Info) { t.Error("the gateway became ready") }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error saying %q", err, tc.want)
			}
			for _, s := range []string{seed, string(otherSeed), "guessed-password-123"} {
				if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
					t.Errorf("a secret is in the error or the log: %v", err)
				}
			}
		})
	}
}
