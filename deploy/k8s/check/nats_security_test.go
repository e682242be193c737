package check

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The secured NATS cluster (docs/deploy.md, "NATS credentials and TLS"):
// these tests parse the built manifests and nats.conf with the real
// nats-server, start it, and assert TLS and authentication on clients and
// routes, credentials only from Secrets, the monitor port open only to the
// scraper, one NATS pod per node, and a gateway configured to match.

const (
	natsAuthTemplate = "deploy/k8s/nats/auth.template.yaml"
	natsCertManager  = "deploy/k8s/nats/cert-manager"
	natsClientPort   = 4222
	natsClusterPort  = 6222
	natsMonitorPort  = 8222
	hostnameTopology = "kubernetes.io/hostname"
)

// Test values standing in for the Secrets' keys ("secret/key") when the
// checks parse nats.conf. The nkey must be a real public user key: the
// server validates it.
var (
	natsSecretsOnce sync.Once
	natsSecrets     map[string]string
)

func testNATSSecrets(t *testing.T) map[string]string {
	t.Helper()
	natsSecretsOnce.Do(func() {
		kp, err := nkeys.CreateUser()
		if err != nil {
			panic(err)
		}
		pub, _ := kp.PublicKey()
		natsSecrets = map[string]string{
			"nats-auth/gateway-nkey":   pub,
			"nats-auth/route-user":     "route-test-user",
			"nats-auth/route-password": "0123456789abcdef0123456789abcdef",
		}
	})
	return natsSecrets
}

var (
	natsCertOnce sync.Once
	natsCert     map[string][]byte
)

// testNATSCert is a CA and a server/route certificate with the names a
// NATS pod answers to, as the keys of the Secret nats-tls (one set per
// test process).
func testNATSCert(t *testing.T) map[string][]byte {
	t.Helper()
	natsCertOnce.Do(func() { natsCert = newTestNATSCert() })
	return natsCert
}

func newTestNATSCert() map[string][]byte {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test nats CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		panic(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		DNSNames:    []string{"nats", "*.nats-headless"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		panic(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	return map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"ca.crt":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
	}
}

var kubeVarRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expandKubeVars expands $(VAR) in an env value the way the kubelet does:
// only variables defined earlier in the list; $$ is a literal $.
func expandKubeVars(s string, defined map[string]string) string {
	return kubeVarRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := defined[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// natsConfForParsing prepares nats.conf (conf) of the StatefulSet ss for
// server.ProcessConfigFile in a test: it sets the container's environment
// (Secret references get the test values, $(VAR) is expanded) and writes
// the test certificate for every Secret volume the container mounts,
// pointing the config's paths at those files. An unknown Secret fails.
func natsConfForParsing(t *testing.T, ss *appsv1.StatefulSet, conf string) string {
	t.Helper()
	secrets := testNATSSecrets(t)
	c := ss.Spec.Template.Spec.Containers[0]
	defined := map[string]string{}
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = expandKubeVars(e.Value, defined)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			var ok bool
			if v, ok = secrets[ref]; !ok {
				t.Fatalf("env %s: no test value for Secret key %s", e.Name, ref)
			}
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			v = ss.Name + "-0"
		default:
			continue
		}
		defined[e.Name] = v
		t.Setenv(e.Name, v)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range ss.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		if v.Secret == nil {
			continue
		}
		if v.Secret.SecretName != "nats-tls" {
			t.Fatalf("volume %s: no test content for Secret %s", m.Name, v.Secret.SecretName)
		}
		dir := t.TempDir()
		for k, b := range testNATSCert(t) {
			if err := os.WriteFile(filepath.Join(dir, k), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		conf = strings.ReplaceAll(conf, strings.TrimSuffix(m.MountPath, "/")+"/", dir+"/")
	}
	return conf
}

// natsSetup is a build with its NATS StatefulSet and parsed nats.conf.
type natsSetup struct {
	objs []Object
	ss   *appsv1.StatefulSet
	conf string // as shipped
	opts *server.Options
}

func loadNATS(t *testing.T, objs []Object) natsSetup {
	t.Helper()
	svc, ok := Find[*corev1.Service](objs)["nats"]
	if !ok {
		t.Fatal("no client Service nats")
	}
	var ss *appsv1.StatefulSet
	for _, s := range Find[*appsv1.StatefulSet](objs) {
		if SelectorMatches(svc.Spec.Selector, s.Spec.Template.Labels) {
			ss = s
		}
	}
	if ss == nil {
		t.Fatal("Service nats selects no StatefulSet")
	}
	conf := natsConfText(t, objs, ss)
	return natsSetup{objs: objs, ss: ss, conf: conf, opts: parseNATSConf(t, ss, conf)}
}

// natsConfText is the nats.conf the container's --config names, from the
// ConfigMap mounted there.
func natsConfText(t *testing.T, objs []Object, ss *appsv1.StatefulSet) string {
	t.Helper()
	c := ss.Spec.Template.Spec.Containers[0]
	var confPath string
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			confPath = c.Args[i+1]
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range ss.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil || mounts[v.Name] == "" || !strings.HasPrefix(confPath, mounts[v.Name]+"/") {
			continue
		}
		if cm, ok := Find[*corev1.ConfigMap](objs)[v.ConfigMap.Name]; ok {
			return cm.Data[strings.TrimPrefix(confPath, mounts[v.Name]+"/")]
		}
	}
	t.Fatalf("no nats.conf at %q", confPath)
	return ""
}

func parseNATSConf(t *testing.T, ss *appsv1.StatefulSet, conf string) *server.Options {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(natsConfForParsing(t, ss, conf)), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats-server rejects the config: %v", err)
	}
	return opts
}

// natsConfigErrors checks the parsed configuration: TLS on the client
// port and the routes (routes verifying each other's certificates), no
// anonymous client, route credentials, and every credential equal to a
// Secret's (test) value, so none is written into the config.
func natsConfigErrors(opts *server.Options, secrets map[string]string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("nats.conf: "+format, a...)) }
	fromSecret := func(v string) bool {
		for _, s := range secrets {
			if v == s {
				return true
			}
		}
		return false
	}
	if opts.TLSConfig == nil {
		bad("no tls block: clients connect in plain text")
	} else if opts.TLSConfig.MinVersion != 0 && opts.TLSConfig.MinVersion < tls.VersionTLS12 {
		bad("client TLS allows versions below 1.2")
	}
	if opts.NoAuthUser != "" {
		bad("no_auth_user %q lets clients in without credentials", opts.NoAuthUser)
	}
	if len(opts.Nkeys) == 0 && len(opts.Users) == 0 && opts.Username == "" && opts.Authorization == "" && len(opts.TrustedOperators) == 0 {
		bad("no authorization: any client that reaches port %d may connect", opts.Port)
	}
	for _, nk := range opts.Nkeys {
		if !fromSecret(nk.Nkey) {
			bad("nkey %s is written in the config, not taken from a Secret", nk.Nkey)
		}
	}
	for _, u := range opts.Users {
		if u.Password == "" || !fromSecret(u.Password) {
			bad("user %q has no password from a Secret", u.Username)
		}
	}
	if opts.Password != "" && !fromSecret(opts.Password) {
		bad("the client password is written in the config, not taken from a Secret")
	}
	if opts.Authorization != "" && !fromSecret(opts.Authorization) {
		bad("the client token is written in the config, not taken from a Secret")
	}

	cl := opts.Cluster
	if cl.Port == 0 {
		return errs
	}
	if cl.TLSConfig == nil {
		bad("cluster has no tls block: routes run in plain text")
	} else if cl.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		bad("cluster tls does not verify the peer route's certificate (verify: true)")
	}
	if cl.Username == "" || cl.Password == "" {
		bad("cluster has no authorization user and password: anything reaching port %d may join", cl.Port)
	} else if !fromSecret(cl.Username) || !fromSecret(cl.Password) {
		bad("the route user or password is written in the config, not taken from a Secret")
	}
	for _, r := range opts.Routes {
		p, _ := r.User.Password()
		if r.User == nil || r.User.Username() != cl.Username || p != cl.Password {
			bad("route %s does not carry the cluster's route credentials", r.Redacted())
		}
	}
	return errs
}

// natsLiveErrors starts a nats-server from opts (client and cluster ports
// on free loopback ports, no routes, no JetStream) and probes it as a
// stranger would: the client port must want TLS and, after a verified
// handshake, refuse a CONNECT without credentials; the route port must
// refuse a TLS peer without a certificate of the CA and, with one, still
// want route credentials.
func natsLiveErrors(t *testing.T, opts *server.Options) []error {
	t.Helper()
	o := opts.Clone()
	o.Host, o.Port, o.HTTPPort, o.PidFile, o.JetStream, o.NoLog, o.NoSigs = "127.0.0.1", server.RANDOM_PORT, 0, "", false, true, true
	o.Routes, o.RoutesStr = nil, ""
	if o.Cluster.Port != 0 {
		o.Cluster.Host, o.Cluster.Port = "127.0.0.1", server.RANDOM_PORT
	}
	srv, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	pki := testNATSCert(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki["ca.crt"])
	var errs []error
	readLine := func(c net.Conn) (string, error) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		return bufio.NewReader(c).ReadString('\n')
	}
	info := func(line string) map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &m)
		return m
	}

	// Client port: INFO in plain text, then TLS, then CONNECT.
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	line, err := readLine(conn)
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("client port INFO: %q %v", line, err)
	}
	if m := info(line); m["tls_required"] != true || m["auth_required"] != true {
		errs = append(errs, fmt.Errorf("client port INFO: tls_required=%v auth_required=%v, want both true", m["tls_required"], m["auth_required"]))
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: "nats", MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		errs = append(errs, fmt.Errorf("client port: TLS handshake with the CA: %v", err))
	} else {
		_, _ = tc.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":true}\r\nPING\r\n"))
		if line, _ := readLine(tc); !strings.Contains(line, "Authorization Violation") {
			errs = append(errs, fmt.Errorf("client port: CONNECT without credentials answered %q, want an Authorization Violation", strings.TrimSpace(line)))
		}
	}
	if o.Cluster.Port == 0 {
		return errs
	}

	// Route port: TLS first; a peer without a certificate is refused.
	routeAddr := srv.ClusterAddr().String()
	dial := func(certs []tls.Certificate) (string, error) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", routeAddr,
			&tls.Config{RootCAs: roots, ServerName: "nats-0.nats-headless", Certificates: certs, MinVersion: tls.VersionTLS12})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return readLine(c)
	}
	if line, err := dial(nil); err == nil && strings.HasPrefix(line, "INFO ") {
		errs = append(errs, errors.New("route port: a TLS peer without a client certificate got the route INFO"))
	}
	cert, err := tls.X509KeyPair(pki["tls.crt"], pki["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	line, err = dial([]tls.Certificate{cert})
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		errs = append(errs, fmt.Errorf("route port: a peer with the NATS certificate got %q %v", line, err))
	} else if m := info(line); m["auth_required"] != true {
		errs = append(errs, fmt.Errorf("route port INFO: auth_required=%v, want true (route credentials)", m["auth_required"]))
	}
	return errs
}

// natsAffinityErrors: the pods must be spread one per node (required
// anti-affinity on the hostname), not merely preferably.
func natsAffinityErrors(ss *appsv1.StatefulSet) []error {
	aff := ss.Spec.Template.Spec.Affinity
	if aff != nil && aff.PodAntiAffinity != nil {
		for _, term := range aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if term.TopologyKey == hostnameTopology && term.LabelSelector != nil &&
				SelectorMatches(term.LabelSelector.MatchLabels, ss.Spec.Template.Labels) && len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
				return nil
			}
		}
	}
	return []error{fmt.Errorf("StatefulSet %s: no requiredDuringSchedulingIgnoredDuringExecution pod anti-affinity on %s selecting its own pods: two NATS pods may share a node", ss.Name, hostnameTopology)}
}

// natsNetworkErrors checks who may reach the NATS pods: the client port
// only the gateway pods, the route port only NATS pods, the monitor port
// only pods picked by both a namespace and a pod selector (the scraper),
// and no other port at all.
func natsNetworkErrors(objs []Object, ss *appsv1.StatefulSet, gatewayLabels map[string]string) []error {
	var errs []error
	podLabels := ss.Spec.Template.Labels
	named := map[string]int32{}
	for _, p := range ss.Spec.Template.Spec.Containers[0].Ports {
		named[p.Name] = p.ContainerPort
	}
	isolated := false
	for _, np := range Find[*networkingv1.NetworkPolicy](objs) {
		if !SelectorMatches(np.Spec.PodSelector.MatchLabels, podLabels) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		isolated = true
		for i, rule := range np.Spec.Ingress {
			where := fmt.Sprintf("NetworkPolicy %s ingress rule %d", np.Name, i)
			var ports []int32
			for _, p := range rule.Ports {
				switch {
				case p.Port == nil:
					ports = append(ports, 0)
				case p.Port.Type == intstr.String:
					ports = append(ports, named[p.Port.StrVal])
				default:
					ports = append(ports, p.Port.IntVal)
				}
			}
			if len(ports) == 0 {
				errs = append(errs, fmt.Errorf("%s: admits every port", where))
				continue
			}
			if len(rule.From) == 0 {
				errs = append(errs, fmt.Errorf("%s: admits every source on ports %v", where, ports))
				continue
			}
			for _, port := range ports {
				for _, peer := range rule.From {
					if err := natsPeerAllowed(port, peer, podLabels, gatewayLabels); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", where, err))
					}
				}
			}
		}
	}
	if !isolated {
		errs = append(errs, errors.New("no NetworkPolicy isolates the NATS pods' ingress"))
	}
	return errs
}

func natsPeerAllowed(port int32, peer networkingv1.NetworkPolicyPeer, natsLabels, gatewayLabels map[string]string) error {
	if peer.IPBlock != nil {
		return fmt.Errorf("port %d is open to the IP block %s", port, peer.IPBlock.CIDR)
	}
	podSel := map[string]string{}
	if peer.PodSelector != nil {
		podSel = peer.PodSelector.MatchLabels
	}
	switch port {
	case natsClientPort:
		if peer.NamespaceSelector != nil || !SelectorMatches(podSel, gatewayLabels) {
			return fmt.Errorf("client port %d is open to %v, not only the gateway's pods", port, podSel)
		}
	case natsClusterPort:
		if peer.NamespaceSelector != nil || !SelectorMatches(podSel, natsLabels) {
			return fmt.Errorf("route port %d is open to %v, not only the NATS pods", port, podSel)
		}
	case natsMonitorPort:
		if peer.NamespaceSelector == nil || len(peer.NamespaceSelector.MatchLabels) == 0 || len(podSel) == 0 {
			return fmt.Errorf("monitor port %d is open beyond the scraper: want a peer with both a namespace and a pod selector", port)
		}
	default:
		return fmt.Errorf("port %d is open but is not a NATS port", port)
	}
	return nil
}

// secretFile resolves a file path inside container c of pod to the Secret
// and key behind it, and lists every key that volume projects.
func secretFile(pod corev1.PodSpec, c corev1.Container, path string) (secret, key string, projected []string, err error) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret == nil {
				return "", "", nil, fmt.Errorf("%s is on volume %s, which is not a Secret", path, v.Name)
			}
			if len(v.Secret.Items) == 0 {
				return v.Secret.SecretName, rel, []string{"*"}, nil
			}
			for _, it := range v.Secret.Items {
				projected = append(projected, it.Key)
				if it.Path == rel {
					key = it.Key
				}
			}
			if key == "" {
				return "", "", nil, fmt.Errorf("%s: volume %s projects no %s", path, v.Name, rel)
			}
			return v.Secret.SecretName, key, projected, nil
		}
	}
	return "", "", nil, fmt.Errorf("%s is on no mounted volume", path)
}

// gatewayNATSErrors checks the gateway's side: it requires TLS to NATS
// with the CA of the NATS certificate (and sees nothing else of that
// Secret), and authenticates with a credential file from a Secret the NATS
// pods never see.
func gatewayNATSErrors(s natsSetup, d *appsv1.Deployment, config map[string]string) []error {
	var errs []error
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	nc := s.ss.Spec.Template.Spec.Containers[0]
	// The NATS server's CA file, back to its Secret and key.
	var caSecret, caKey string
	if m := regexp.MustCompile(`(?m)^\s*ca_file:\s*(\S+)`).FindStringSubmatch(s.conf); m != nil {
		var err error
		if caSecret, caKey, _, err = secretFile(s.ss.Spec.Template.Spec, nc, m[1]); err != nil {
			errs = append(errs, fmt.Errorf("nats: %w", err))
		}
	}
	ca := config["KWAISHOP_NATS_CA"]
	if ca == "" {
		errs = append(errs, errors.New("gateway: KWAISHOP_NATS_CA is not set: the gateway would not require TLS to NATS"))
	} else if secret, key, projected, err := secretFile(pod, c, ca); err != nil {
		errs = append(errs, fmt.Errorf("gateway: KWAISHOP_NATS_CA: %w", err))
	} else {
		if secret != caSecret || key != caKey {
			errs = append(errs, fmt.Errorf("gateway: KWAISHOP_NATS_CA is %s/%s, but the NATS certificate's CA is %s/%s", secret, key, caSecret, caKey))
		}
		if len(projected) != 1 || projected[0] != key {
			errs = append(errs, fmt.Errorf("gateway: the volume of KWAISHOP_NATS_CA projects %v of Secret %s: only %s (never the NATS private key)", projected, secret, key))
		}
	}
	var cred string
	for _, env := range []string{"KWAISHOP_NATS_NKEY_SEED", "KWAISHOP_NATS_CREDS"} {
		if config[env] != "" {
			cred = config[env]
		}
	}
	if cred == "" {
		errs = append(errs, errors.New("gateway: neither KWAISHOP_NATS_NKEY_SEED nor KWAISHOP_NATS_CREDS is set"))
		return errs
	}
	secret, _, _, err := secretFile(pod, c, cred)
	if err != nil {
		return append(errs, fmt.Errorf("gateway: %w", err))
	}
	for _, e := range nc.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret {
			errs = append(errs, fmt.Errorf("the NATS pods read Secret %s, which holds the gateway's private credential", secret))
		}
	}
	for _, v := range s.ss.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			errs = append(errs, fmt.Errorf("the NATS pods mount Secret %s, which holds the gateway's private credential", secret))
		}
	}
	return errs
}

// secretRefs lists "secret/key" for every Secret key the pod reads.
func secretRefs(pod corev1.PodSpec) []string {
	var refs []string
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs = append(refs, e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key)
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.Secret == nil {
			continue
		}
		if len(v.Secret.Items) == 0 {
			refs = append(refs, v.Secret.SecretName+"/*")
		}
		for _, it := range v.Secret.Items {
			refs = append(refs, v.Secret.SecretName+"/"+it.Key)
		}
	}
	return refs
}

func TestNATSSecurity(t *testing.T) {
	r := root(t)
	for _, dir := range []string{"deploy/k8s/overlays/production", "deploy/k8s/nats"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs, err := Build(filepath.Join(r, dir))
			if err != nil {
				t.Fatal(err)
			}
			s := loadNATS(t, objs)
			gatewayLabels := map[string]string{"app.kubernetes.io/name": gatewayName}
			t.Run("config", func(t *testing.T) { errsOf(t, natsConfigErrors(s.opts, testNATSSecrets(t))) })
			t.Run("live_server_demands_tls_and_auth", func(t *testing.T) { errsOf(t, natsLiveErrors(t, s.opts)) })
			t.Run("anti_affinity", func(t *testing.T) { errsOf(t, natsAffinityErrors(s.ss)) })
			t.Run("network_policy", func(t *testing.T) { errsOf(t, natsNetworkErrors(objs, s.ss, gatewayLabels)) })
			t.Run("routes_cover_the_replicas", func(t *testing.T) {
				if len(s.opts.Routes) != int(*s.ss.Spec.Replicas) {
					t.Errorf("%d routes for %d replicas", len(s.opts.Routes), *s.ss.Spec.Replicas)
				}
			})
			if dir != "deploy/k8s/overlays/production" {
				return
			}
			t.Run("gateway", func(t *testing.T) {
				d := Find[*appsv1.Deployment](objs)[gatewayName]
				var config map[string]string
				for _, ef := range d.Spec.Template.Spec.Containers[0].EnvFrom {
					if ef.ConfigMapRef != nil {
						config = Find[*corev1.ConfigMap](objs)[ef.ConfigMapRef.Name].Data
					}
				}
				errsOf(t, gatewayNATSErrors(s, d, config))
			})
			t.Run("secrets_are_templated", func(t *testing.T) {
				tmpl, err := DecodeFile(filepath.Join(r, natsAuthTemplate))
				if err != nil {
					t.Fatal(err)
				}
				keys := map[string]bool{}
				for _, o := range tmpl {
					sec, ok := o.Obj.(*corev1.Secret)
					if !ok {
						t.Fatalf("%s: %T, want Secrets", natsAuthTemplate, o.Obj)
					}
					if len(sec.Data) > 0 {
						t.Errorf("%s: Secret %s has data", natsAuthTemplate, sec.Name)
					}
					for k, v := range sec.StringData {
						if v != "" {
							t.Errorf("%s: %s/%s has a value; the template must hold none", natsAuthTemplate, sec.Name, k)
						}
						keys[sec.Name+"/"+k] = true
					}
				}
				for k := range keys {
					keys[strings.SplitN(k, "/", 2)[0]+"/*"] = true // a whole-Secret volume
				}
				for _, pod := range []corev1.PodSpec{s.ss.Spec.Template.Spec, Find[*appsv1.Deployment](objs)[gatewayName].Spec.Template.Spec} {
					for _, ref := range secretRefs(pod) {
						if !keys[ref] {
							t.Errorf("the build reads Secret key %s, which %s does not list", ref, natsAuthTemplate)
						}
					}
				}
			})
		})
	}
}

// certManagerObject is the part of cert-manager's Issuer and Certificate
// (cert-manager.io/v1) the manifests use; decoding is strict.
type certManagerObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		// Issuer
		SelfSigned *struct{} `json:"selfSigned,omitempty"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca,omitempty"`
		// Certificate
		IsCA        bool     `json:"isCA,omitempty"`
		CommonName  string   `json:"commonName,omitempty"`
		SecretName  string   `json:"secretName,omitempty"`
		Duration    string   `json:"duration,omitempty"`
		RenewBefore string   `json:"renewBefore,omitempty"`
		Usages      []string `json:"usages,omitempty"`
		DNSNames    []string `json:"dnsNames,omitempty"`
		PrivateKey  *struct {
			Algorithm      string `json:"algorithm"`
			Size           int    `json:"size"`
			RotationPolicy string `json:"rotationPolicy,omitempty"`
		} `json:"privateKey,omitempty"`
		IssuerRef *struct {
			Group string `json:"group"`
			Kind  string `json:"kind"`
			Name  string `json:"name"`
		} `json:"issuerRef,omitempty"`
	} `json:"spec"`
}

// buildWithCertManager builds the production overlay with the
// cert-manager component: Kubernetes objects strictly decoded as in
// Build, cert-manager ones strictly into certManagerObject.
func buildWithCertManager(t *testing.T) ([]Object, []certManagerObject) {
	t.Helper()
	r := root(t)
	dir := t.TempDir()
	// kustomize wants relative paths.
	rel := func(p string) string {
		out, err := filepath.Rel(dir, filepath.Join(r, p))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n",
		rel("deploy/k8s/overlays/production"), rel(natsCertManager))
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var (
		objs []Object
		cms  []certManagerObject
	)
	for _, res := range m.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(res.GetApiVersion(), "cert-manager.io/") {
			var o certManagerObject
			if err := yaml.UnmarshalStrict(y, &o); err != nil {
				t.Fatalf("%s: %v", res.CurId(), err)
			}
			cms = append(cms, o)
			continue
		}
		o, err := Decode(y)
		if err != nil {
			t.Fatalf("%s: %v", res.CurId(), err)
		}
		objs = append(objs, o)
	}
	return objs, cms
}

// certManagerErrors checks that the component issues the Secret the NATS
// pods mount, from a CA issuer whose CA it also issues, for every name a
// client or a route dials, as a server and client certificate.
func certManagerErrors(cms []certManagerObject, tlsSecret string, hosts []string) []error {
	var errs []error
	issuers := map[string]certManagerObject{}
	certs := map[string]certManagerObject{} // by secretName
	for _, o := range cms {
		switch o.Kind {
		case "Issuer":
			issuers[o.Metadata.Name] = o
		case "Certificate":
			certs[o.Spec.SecretName] = o
		default:
			errs = append(errs, fmt.Errorf("unexpected cert-manager kind %s", o.Kind))
		}
	}
	c, ok := certs[tlsSecret]
	if !ok {
		return append(errs, fmt.Errorf("no Certificate writes Secret %s (what the NATS pods mount)", tlsSecret))
	}
	for _, u := range []string{"server auth", "client auth"} {
		if !slices.Contains(c.Spec.Usages, u) {
			errs = append(errs, fmt.Errorf("Certificate %s: usages %v lack %q (routes are mutual TLS)", c.Metadata.Name, c.Spec.Usages, u))
		}
	}
	// Go's own hostname matching decides whether the names cover each host.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: c.Spec.DNSNames, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return append(errs, fmt.Errorf("Certificate %s: dnsNames %v: %v", c.Metadata.Name, c.Spec.DNSNames, err))
	}
	cert, _ := x509.ParseCertificate(der)
	for _, h := range hosts {
		if err := cert.VerifyHostname(h); err != nil {
			errs = append(errs, fmt.Errorf("Certificate %s: %v", c.Metadata.Name, err))
		}
	}
	if c.Spec.IssuerRef == nil {
		return append(errs, fmt.Errorf("Certificate %s has no issuerRef", c.Metadata.Name))
	}
	iss, ok := issuers[c.Spec.IssuerRef.Name]
	switch {
	case !ok || c.Spec.IssuerRef.Kind != "Issuer":
		errs = append(errs, fmt.Errorf("Certificate %s: issuer %+v is not an Issuer of the build", c.Metadata.Name, *c.Spec.IssuerRef))
	case iss.Spec.CA == nil:
		errs = append(errs, fmt.Errorf("Issuer %s is not a CA issuer: nats-tls would get no ca.crt for the gateway", iss.Metadata.Name))
	default:
		if ca, ok := certs[iss.Spec.CA.SecretName]; !ok || !ca.Spec.IsCA {
			errs = append(errs, fmt.Errorf("Issuer %s: its CA Secret %s is not issued by an isCA Certificate of the build", iss.Metadata.Name, iss.Spec.CA.SecretName))
		}
	}
	return errs
}

func TestNATSSecurity_CertManager(t *testing.T) {
	objs, cms := buildWithCertManager(t)
	s := loadNATS(t, objs)
	var tlsSecret string
	for _, v := range s.ss.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			tlsSecret = v.Secret.SecretName
		}
	}
	// The names dialled: the client URL's hosts and every route host.
	var hosts []string
	for _, ef := range Find[*appsv1.Deployment](objs)[gatewayName].Spec.Template.Spec.Containers[0].EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		for _, raw := range strings.Split(Find[*corev1.ConfigMap](objs)[ef.ConfigMapRef.Name].Data["KWAISHOP_NATS_URL"], ",") {
			if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
				hosts = append(hosts, u.Hostname())
			}
		}
	}
	for _, r := range s.opts.Routes {
		hosts = append(hosts, r.Hostname())
	}
	if len(hosts) < 2 {
		t.Fatalf("hosts %v: want the client URL and the routes", hosts)
	}
	errsOf(t, certManagerErrors(cms, tlsSecret, hosts))
	// The component adds no Secret and no other Kubernetes object.
	plain, err := Build(filepath.Join(root(t), "deploy/k8s/overlays/production"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != len(objs) {
		t.Errorf("the component changes the Kubernetes objects: %d, without it %d", len(objs), len(plain))
	}
}

// clusterTLS is the tls block inside nats.conf's cluster block.
func clusterTLS(conf string) string {
	return regexp.MustCompile(`(?s)\n  tls \{.*?\n  \}`).FindString(conf[strings.Index(conf, "\ncluster {"):])
}

// TestNATSSecurity_Fail shows each check reports a broken manifest.
func TestNATSSecurity_Fail(t *testing.T) {
	objs, err := Build(filepath.Join(root(t), "deploy/k8s/overlays/production"))
	if err != nil {
		t.Fatal(err)
	}
	s := loadNATS(t, objs)
	secrets := testNATSSecrets(t)
	gatewayLabels := map[string]string{"app.kubernetes.io/name": gatewayName}
	if errs := natsConfigErrors(s.opts, secrets); len(errs) > 0 {
		t.Fatalf("the shipped config is not clean: %v", errs)
	}
	otherKP, _ := nkeys.CreateUser()
	otherNkey, _ := otherKP.PublicKey()
	want := func(t *testing.T, errs []error, substr string) {
		t.Helper()
		if !strings.Contains(errors.Join(errs...).Error()+" ", substr) {
			t.Fatalf("errors %v, want one about %q", errs, substr)
		}
	}

	t.Run("config", func(t *testing.T) {
		for _, tc := range []struct{ name, from, to, want string }{
			{"no client tls", "\ntls {", "\nno_tls_here {", "plain text"},
			{"user without password", "{ nkey: $NATS_GATEWAY_NKEY }", "{ user: anyone }", "no password from a Secret"},
			{"literal nkey", "$NATS_GATEWAY_NKEY", otherNkey, "written in the config"},
			{"routes in plain text", clusterTLS(s.conf), "", "routes run in plain text"},
			{"literal route password", "password: $NATS_ROUTE_PASSWORD", "password: hunter2hunter2", "written in the config"},
			{"routes without credentials", "routes: $NATS_ROUTES", "routes: [nats://nats-0.nats-headless:6222]", "route credentials"},
		} {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				if tc.from == "" || !strings.Contains(s.conf, tc.from) {
					t.Fatalf("nats.conf has no %q to break", tc.from)
				}
				conf := strings.Replace(s.conf, tc.from, tc.to, 1)
				file := filepath.Join(t.TempDir(), "nats.conf")
				if err := os.WriteFile(file, []byte(natsConfForParsing(t, s.ss, conf)), 0o600); err != nil {
					t.Fatal(err)
				}
				opts, err := server.ProcessConfigFile(file)
				if err != nil {
					return // rejected by nats-server itself: also a failure
				}
				errs := natsConfigErrors(opts, secrets)
				if len(errs) == 0 {
					t.Fatalf("broken config %q passes", tc.name)
				}
				if tc.want != "" {
					want(t, errs, tc.want)
				}
			})
		}
	})

	t.Run("preferred_anti_affinity", func(t *testing.T) {
		ss := s.ss.DeepCopy()
		terms := ss.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		ss.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = nil
		for _, term := range terms {
			ss.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(
				ss.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				corev1.WeightedPodAffinityTerm{Weight: 100, PodAffinityTerm: term})
		}
		want(t, natsAffinityErrors(ss), "may share a node")
	})

	np := func() (*networkingv1.NetworkPolicy, []Object) {
		var out []Object
		var pol *networkingv1.NetworkPolicy
		for _, o := range objs {
			if p, ok := o.Obj.(*networkingv1.NetworkPolicy); ok && o.Name == "nats" {
				pol = p.DeepCopy()
				o = Object{GVK: o.GVK, Name: o.Name, Obj: pol}
			}
			out = append(out, o)
		}
		return pol, out
	}
	if errs := natsNetworkErrors(objs, s.ss, gatewayLabels); len(errs) > 0 {
		t.Fatalf("the shipped NetworkPolicy is not clean: %v", errs)
	}
	for _, tc := range []struct {
		name   string
		break_ func(*networkingv1.NetworkPolicy)
		want   string
	}{
		{"monitor open to the namespace", func(p *networkingv1.NetworkPolicy) {
			for i, r := range p.Spec.Ingress {
				if r.Ports[0].Port.IntVal == natsMonitorPort {
					p.Spec.Ingress[i].From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
				}
			}
		}, "monitor port"},
		{"monitor open to all", func(p *networkingv1.NetworkPolicy) {
			for i, r := range p.Spec.Ingress {
				if r.Ports[0].Port.IntVal == natsMonitorPort {
					p.Spec.Ingress[i].From = nil
				}
			}
		}, "every source"},
		{"client port open to the namespace", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From = append(p.Spec.Ingress[0].From, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}})
		}, "client port"},
		{"every port", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[1].Ports = nil }, "every port"},
		{"no ingress isolation", func(p *networkingv1.NetworkPolicy) {
			p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
		}, "isolates"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			p, broken := np()
			tc.break_(p)
			want(t, natsNetworkErrors(broken, s.ss, gatewayLabels), tc.want)
		})
	}

	t.Run("gateway", func(t *testing.T) {
		d := Find[*appsv1.Deployment](objs)[gatewayName]
		var config map[string]string
		for _, ef := range d.Spec.Template.Spec.Containers[0].EnvFrom {
			if ef.ConfigMapRef != nil {
				config = Find[*corev1.ConfigMap](objs)[ef.ConfigMapRef.Name].Data
			}
		}
		if errs := gatewayNATSErrors(s, d, config); len(errs) > 0 {
			t.Fatalf("the shipped gateway is not clean: %v", errs)
		}
		noCA := map[string]string{}
		for k, v := range config {
			if k != "KWAISHOP_NATS_CA" {
				noCA[k] = v
			}
		}
		want(t, gatewayNATSErrors(s, d, noCA), "KWAISHOP_NATS_CA is not set")
		whole := d.DeepCopy()
		for i, v := range whole.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == "nats-tls" {
				whole.Spec.Template.Spec.Volumes[i].Secret.Items = append(v.Secret.Items, corev1.KeyToPath{Key: "tls.key", Path: "tls.key"})
			}
		}
		want(t, gatewayNATSErrors(s, whole, config), "never the NATS private key")
		shared := s
		shared.ss = s.ss.DeepCopy()
		shared.ss.Spec.Template.Spec.Volumes = append(shared.ss.Spec.Template.Spec.Volumes,
			corev1.Volume{Name: "seed", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "kwaishop-gateway-nats"}}})
		want(t, gatewayNATSErrors(shared, d, config), "holds the gateway's private credential")
	})

	t.Run("cert_manager", func(t *testing.T) {
		_, cms := buildWithCertManager(t)
		hosts := []string{"nats", "nats-0.nats-headless"}
		if errs := certManagerErrors(cms, "nats-tls", hosts); len(errs) > 0 {
			t.Fatalf("the shipped component is not clean: %v", errs)
		}
		for i := range cms {
			if cms[i].Spec.SecretName == "nats-tls" {
				cms[i].Spec.DNSNames = []string{"nats"}
				cms[i].Spec.Usages = []string{"server auth"}
			}
		}
		errs := certManagerErrors(cms, "nats-tls", hosts)
		want(t, errs, "nats-0.nats-headless")
		want(t, errs, "client auth")
		want(t, certManagerErrors(cms, "other-tls", hosts), "no Certificate writes Secret other-tls")
	})
}
