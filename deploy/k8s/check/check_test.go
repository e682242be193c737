package check

import (
	"bufio"
	"bytes"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	gatewayName    = "kwaishop-gateway"
	gatewayGRPC    = 9090
	gatewayHTTP    = 8080
	secretTemplate = "deploy/k8s/base/secret.template.yaml"
)

// Variables a container may set besides the server's own settings: the
// OpenTelemetry SDK's and the Go runtime's memory limit.
var extraEnvPrefixes = []string{"OTEL_"}
var extraEnv = []string{"GOMEMLIMIT"}

func root(t *testing.T) string {
	t.Helper()
	r, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// knownEnv is the set of environment variables the server reads.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	names, err := ConfigEnvNames(filepath.Join(root(t), "internal/config/config.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range append(names, extraEnv...) {
		known[n] = true
	}
	return known
}

func errsOf(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}

// TestConfigEnvNames_MatchServerHelp checks the parsed env tags against what
// the real server binary announces in --help, so the source parsing cannot
// silently drift from the program.
func TestConfigEnvNames_MatchServerHelp(t *testing.T) {
	r := root(t)
	names, err := ConfigEnvNames(filepath.Join(r, "internal/config/config.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"KWAISHOP_GRPC_ADDR", "KWAISHOP_HTTP_ADDR", "KWAISHOP_NATS_URL", "KWAISHOP_REPLICA_ID", "KWAISHOP_API_KEYS", "KWAISHOP_TOKEN_KEYS"} {
		if !slices.Contains(names, want) {
			t.Errorf("config.go has no %s (parsed %v)", want, names)
		}
	}
	if testing.Short() {
		t.Skip("-short: not building cmd/server")
	}
	bin := filepath.Join(t.TempDir(), "server")
	build := exec.Command("go", "build", "-o", bin, "./cmd/server")
	build.Dir = r
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cmd/server does not build right now (another package in flux?): %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--help")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput() // flag package: --help exits 0 or 2
	var help []string
	for _, m := range regexp.MustCompile(`\(env (KWAISHOP_[A-Z0-9_]+)\)`).FindAllStringSubmatch(string(out), -1) {
		help = append(help, m[1])
	}
	slices.Sort(help)
	if !slices.Equal(help, names) {
		t.Fatalf("env names: config.go %v, server --help %v", names, help)
	}
}

// TestDecode_IsStrict shows the decoder is the strict one: an unknown field,
// a mistyped value and an unknown kind are errors.
func TestDecode_IsStrict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nautomountToken: false\n", "unknown field"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: three}\n", "replicas"},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {A: one}\ndata: {B: two}\n", "already set"},
		{"unknown kind", "apiVersion: v1\nkind: Deploymint\nmetadata: {name: a}\n", "no kind"},
		{"misplaced field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i:1\n        readOnlyRootFilesystem: true\n", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

type overlay struct {
	name     string
	replicas int32
	// external NATS: the URL's host must be a Service of the build.
	externalNATS bool
	autoscaled   bool
}

var overlays = []overlay{
	{name: "dev", replicas: 1},
	{name: "production", replicas: 3, externalNATS: true, autoscaled: true},
}

func TestOverlays(t *testing.T) {
	r := root(t)
	known := knownEnv(t)
	tmpl, err := DecodeFile(filepath.Join(r, secretTemplate))
	if err != nil {
		t.Fatal(err)
	}
	secretName := tmpl[0].Name
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			objs, err := Build(filepath.Join(r, "deploy/k8s/overlays", ov.name))
			if err != nil {
				t.Fatal(err)
			}
			checkOverlay(t, ov, objs, known, secretName)
		})
	}
}

func checkOverlay(t *testing.T, ov overlay, objs []Object, known map[string]bool, secretName string) {
	deps := Find[*appsv1.Deployment](objs)
	d, ok := deps[gatewayName]
	if !ok {
		t.Fatalf("no Deployment %s", gatewayName)
	}
	pod := d.Spec.Template.Spec
	podLabels := d.Spec.Template.Labels

	t.Run("namespace", func(t *testing.T) {
		nss := Find[*corev1.Namespace](objs)
		if len(nss) != 1 {
			t.Fatalf("%d Namespaces, want 1", len(nss))
		}
		for name, ns := range nss {
			if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
				t.Errorf("namespace %s does not enforce the restricted pod security standard", name)
			}
			for _, o := range objs {
				if m, ok := o.Obj.(interface{ GetNamespace() string }); ok && o.GVK.Kind != "Namespace" && m.GetNamespace() != name {
					t.Errorf("%s %s is in namespace %q, want %q", o.GVK.Kind, o.Name, m.GetNamespace(), name)
				}
			}
		}
	})

	t.Run("no secrets in the build", func(t *testing.T) {
		for _, o := range objs {
			if o.GVK.Kind == "Secret" {
				t.Errorf("the build contains Secret %s: secrets are created out of band (secret.template.yaml)", o.Name)
			}
		}
	})

	t.Run("deployment", func(t *testing.T) {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != ov.replicas {
			t.Errorf("replicas = %v, want %d", d.Spec.Replicas, ov.replicas)
		}
		if !SelectorMatches(d.Spec.Selector.MatchLabels, podLabels) {
			t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, podLabels)
		}
		st := d.Spec.Strategy
		if ov.replicas > 1 {
			if st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil ||
				st.RollingUpdate.MaxUnavailable == nil || st.RollingUpdate.MaxUnavailable.String() != "0" ||
				st.RollingUpdate.MaxSurge == nil || st.RollingUpdate.MaxSurge.String() != "1" {
				t.Errorf("strategy = %+v, want RollingUpdate maxUnavailable 0 maxSurge 1", st)
			}
		} else if st.Type != appsv1.RecreateDeploymentStrategyType || st.RollingUpdate != nil {
			t.Errorf("single replica on a ReadWriteOnce store: strategy = %+v, want Recreate (no rollingUpdate)", st)
		}
		errsOf(t, PodSecurity("Deployment "+d.Name, pod))
		if len(pod.Containers) != 1 {
			t.Fatalf("%d containers, want 1", len(pod.Containers))
		}
		c := pod.Containers[0]
		errsOf(t, Probes(c, "/healthz", "/readyz", "/healthz"))
		for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.HTTPGet != nil {
				if n, _ := ContainerPort(c, p.HTTPGet.Port); n != gatewayHTTP {
					t.Errorf("probe %s is on port %d, want the HTTP port %d", p.HTTPGet.Path, n, gatewayHTTP)
				}
			}
		}
		for name, want := range map[string]int32{"grpc": gatewayGRPC, "http": gatewayHTTP} {
			if n, ok := ContainerPort(c, intstr.FromString(name)); !ok || n != want {
				t.Errorf("container port %s = %d, want %d", name, n, want)
			}
		}
		if pod.ServiceAccountName != gatewayName {
			t.Errorf("serviceAccountName = %q", pod.ServiceAccountName)
		}
		if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 20 {
			t.Errorf("terminationGracePeriodSeconds = %v: too short for the 15 s drain", pod.TerminationGracePeriodSeconds)
		}
	})

	c := pod.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	configMaps := Find[*corev1.ConfigMap](objs)
	var config *corev1.ConfigMap

	t.Run("environment", func(t *testing.T) {
		errsOf(t, EnvNames(c, known, extraEnvPrefixes...))
		for name, want := range map[string]string{
			"KWAISHOP_GRPC_ADDR": "0.0.0.0:" + strconv.Itoa(gatewayGRPC),
			"KWAISHOP_HTTP_ADDR": "0.0.0.0:" + strconv.Itoa(gatewayHTTP),
		} {
			if env[name].Value != want {
				t.Errorf("%s = %q, want %q", name, env[name].Value, want)
			}
		}
		if e := env["KWAISHOP_REPLICA_ID"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
			t.Errorf("KWAISHOP_REPLICA_ID must come from the pod name (fieldRef metadata.name), got %+v", e)
		}
		var haveSecret bool
		for _, ef := range c.EnvFrom {
			switch {
			case ef.ConfigMapRef != nil:
				cm, ok := configMaps[ef.ConfigMapRef.Name]
				if !ok {
					t.Errorf("envFrom ConfigMap %q is not in the build", ef.ConfigMapRef.Name)
					continue
				}
				config = cm
				for k := range cm.Data {
					if !KnownName(k, known, extraEnvPrefixes...) {
						t.Errorf("ConfigMap %s: %s is not a setting the server knows", cm.Name, k)
					}
				}
			case ef.SecretRef != nil:
				haveSecret = true
				if ef.SecretRef.Name != secretName {
					t.Errorf("envFrom Secret %q, but the template is %q", ef.SecretRef.Name, secretName)
				}
			}
		}
		if config == nil || !haveSecret {
			t.Fatalf("envFrom must name the ConfigMap and the Secret, got %+v", c.EnvFrom)
		}
	})

	t.Run("store", func(t *testing.T) {
		if config == nil {
			t.Skip("no ConfigMap")
		}
		natsURL := config.Data["KWAISHOP_NATS_URL"]
		if !ov.externalNATS {
			if natsURL != "" {
				t.Errorf("KWAISHOP_NATS_URL = %q, want the embedded store", natsURL)
			}
			var dataDir string
			if e, ok := env["KWAISHOP_DATA_DIR"]; ok {
				dataDir = e.Value
			}
			var vol string
			for _, m := range c.VolumeMounts {
				if m.MountPath == dataDir {
					vol = m.Name
				}
			}
			pvcs := Find[*corev1.PersistentVolumeClaim](objs)
			for _, v := range pod.Volumes {
				if v.Name == vol {
					if v.PersistentVolumeClaim == nil {
						t.Errorf("data dir %s is on volume %q that is not a PersistentVolumeClaim", dataDir, vol)
					} else if _, ok := pvcs[v.PersistentVolumeClaim.ClaimName]; !ok {
						t.Errorf("PersistentVolumeClaim %q is not in the build", v.PersistentVolumeClaim.ClaimName)
					}
					return
				}
			}
			t.Errorf("KWAISHOP_DATA_DIR %q is not a mounted volume", dataDir)
			return
		}
		if natsURL == "" {
			t.Fatal("KWAISHOP_NATS_URL is empty: production uses the external NATS cluster")
		}
		svcs := Find[*corev1.Service](objs)
		for _, raw := range strings.Split(natsURL, ",") {
			u, err := url.Parse(strings.TrimSpace(raw))
			if err != nil || u.Scheme != "nats" {
				t.Errorf("KWAISHOP_NATS_URL entry %q is not a nats:// URL", raw)
				continue
			}
			svc, ok := svcs[u.Hostname()]
			if !ok {
				t.Errorf("KWAISHOP_NATS_URL host %q is not a Service of the build", u.Hostname())
				continue
			}
			port, _ := strconv.Atoi(u.Port())
			if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == port }) {
				t.Errorf("Service %s has no port %d", svc.Name, port)
			}
			checkNATS(t, objs, svc)
		}
	})

	t.Run("service", func(t *testing.T) {
		svc, ok := Find[*corev1.Service](objs)[gatewayName]
		if !ok {
			t.Fatal("no Service")
		}
		if !SelectorMatches(svc.Spec.Selector, podLabels) {
			t.Errorf("Service selector %v does not match the pods %v", svc.Spec.Selector, podLabels)
		}
		want := map[string]struct {
			port  int32
			proto string
		}{"grpc": {gatewayGRPC, "grpc"}, "http": {gatewayHTTP, "http"}}
		if len(svc.Spec.Ports) != len(want) {
			t.Errorf("%d Service ports, want %d", len(svc.Spec.Ports), len(want))
		}
		for _, p := range svc.Spec.Ports {
			w, ok := want[p.Name]
			if !ok {
				t.Errorf("unexpected Service port %s", p.Name)
				continue
			}
			if p.Port != w.port || p.AppProtocol == nil || *p.AppProtocol != w.proto {
				t.Errorf("Service port %s = %d appProtocol %v, want %d %s", p.Name, p.Port, p.AppProtocol, w.port, w.proto)
			}
			if n, ok := ContainerPort(c, p.TargetPort); !ok || n != w.port {
				t.Errorf("Service port %s targets %s, not container port %d", p.Name, p.TargetPort.String(), w.port)
			}
		}
	})

	t.Run("service account", func(t *testing.T) {
		sa, ok := Find[*corev1.ServiceAccount](objs)[gatewayName]
		if !ok {
			t.Fatal("no ServiceAccount")
		}
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Error("ServiceAccount automountServiceAccountToken is not false")
		}
	})

	t.Run("autoscaling and disruption budget", func(t *testing.T) {
		hpas := Find[*autoscalingv2.HorizontalPodAutoscaler](objs)
		pdbs := Find[*policyv1.PodDisruptionBudget](objs)
		hpa, haveHPA := hpas[gatewayName]
		pdb, havePDB := pdbs[gatewayName]
		if !ov.autoscaled {
			if haveHPA || havePDB {
				t.Errorf("a single replica wants no HPA (%v) or PDB (%v)", haveHPA, havePDB)
			}
			return
		}
		if !haveHPA || !havePDB {
			t.Fatalf("HPA %v, PDB %v: want both", haveHPA, havePDB)
		}
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
			t.Errorf("HPA targets %+v", ref)
		}
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < ov.replicas {
			t.Errorf("HPA minReplicas %v < %d", hpa.Spec.MinReplicas, ov.replicas)
		}
		if !slices.ContainsFunc(hpa.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
			return m.Resource != nil && m.Resource.Name == corev1.ResourceCPU
		}) {
			t.Error("HPA has no cpu metric")
		}
		if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.String() != "2" {
			t.Errorf("PDB minAvailable = %v, want 2", pdb.Spec.MinAvailable)
		}
		if !SelectorMatches(pdb.Spec.Selector.MatchLabels, podLabels) {
			t.Errorf("PDB selector %v does not match the pods", pdb.Spec.Selector.MatchLabels)
		}
		if *hpa.Spec.MinReplicas <= pdb.Spec.MinAvailable.IntVal {
			t.Errorf("HPA minReplicas %d leaves no disruption room above PDB minAvailable %d", *hpa.Spec.MinReplicas, pdb.Spec.MinAvailable.IntVal)
		}
	})

	t.Run("network policy", func(t *testing.T) {
		np, ok := Find[*networkingv1.NetworkPolicy](objs)[gatewayName]
		if !ok {
			t.Fatal("no NetworkPolicy")
		}
		if !SelectorMatches(np.Spec.PodSelector.MatchLabels, podLabels) {
			t.Errorf("NetworkPolicy selects %v, not the gateway pods", np.Spec.PodSelector.MatchLabels)
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("policyTypes = %v, want Ingress and Egress", np.Spec.PolicyTypes)
		}
		var in []int32
		for _, rule := range np.Spec.Ingress {
			if len(rule.Ports) == 0 {
				t.Error("an ingress rule allows every port")
			}
			for _, p := range rule.Ports {
				in = append(in, p.Port.IntVal)
			}
		}
		slices.Sort(in)
		if !slices.Equal(in, []int32{gatewayHTTP, gatewayGRPC}) {
			t.Errorf("ingress ports %v, want only %d and %d", in, gatewayHTTP, gatewayGRPC)
		}
		egress := map[string]bool{}
		for _, rule := range np.Spec.Egress {
			if len(rule.Ports) == 0 {
				t.Error("an egress rule allows every port")
			}
			for _, p := range rule.Ports {
				egress[string(*p.Protocol)+"/"+p.Port.String()] = true
			}
			for _, peer := range rule.To {
				// The NATS rule must select the NATS pods of the build.
				if peer.PodSelector != nil && peer.PodSelector.MatchLabels["app.kubernetes.io/name"] == "nats" && ov.externalNATS {
					matched := false
					for _, ss := range Find[*appsv1.StatefulSet](objs) {
						matched = matched || SelectorMatches(peer.PodSelector.MatchLabels, ss.Spec.Template.Labels)
					}
					if !matched {
						t.Errorf("egress peer %v selects no NATS pod of the build", peer.PodSelector.MatchLabels)
					}
				}
			}
		}
		for _, want := range []string{"UDP/53", "TCP/53", "TCP/4222", "TCP/443"} {
			if !egress[want] {
				t.Errorf("egress does not allow %s", want)
			}
		}
	})
}

// checkNATS checks the NATS JetStream cluster behind svc: a StatefulSet of 3
// with persistent volumes and a config the real nats-server accepts, whose
// routes name the StatefulSet's pods.
func checkNATS(t *testing.T, objs []Object, svc *corev1.Service) {
	t.Helper()
	var ss *appsv1.StatefulSet
	for _, s := range Find[*appsv1.StatefulSet](objs) {
		if SelectorMatches(svc.Spec.Selector, s.Spec.Template.Labels) {
			ss = s
		}
	}
	if ss == nil {
		t.Fatalf("Service %s selects no StatefulSet", svc.Name)
	}
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 3 {
		t.Errorf("NATS replicas = %v, want 3", ss.Spec.Replicas)
	}
	var claimNames []string
	for _, vct := range ss.Spec.VolumeClaimTemplates {
		claimNames = append(claimNames, vct.Name)
	}
	errsOf(t, PodSecurity("StatefulSet "+ss.Name, ss.Spec.Template.Spec, claimNames...))
	headless, ok := Find[*corev1.Service](objs)[ss.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("serviceName %q is not a headless Service of the build", ss.Spec.ServiceName)
	}
	if pdb := findPDB(objs, ss.Spec.Template.Labels); pdb == nil || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" {
		t.Error("NATS has no PodDisruptionBudget with maxUnavailable 1")
	}
	c := ss.Spec.Template.Spec.Containers[0]
	errsOf(t, Probes(c, "/healthz?js-enabled-only=true", "/healthz?js-server-only=true", "/healthz?js-enabled-only=true"))
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	claims := map[string]bool{}
	for _, vct := range ss.Spec.VolumeClaimTemplates {
		claims[vct.Name] = true
		if _, ok := vct.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
			t.Errorf("volume claim %s requests no storage", vct.Name)
		}
	}

	// The config file: from the ConfigMap mounted at the --config path.
	var confPath string
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			confPath = c.Args[i+1]
		}
	}
	var conf string
	for _, v := range ss.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil || !strings.HasPrefix(confPath, mounts[v.Name]+"/") {
			continue
		}
		cm, ok := Find[*corev1.ConfigMap](objs)[v.ConfigMap.Name]
		if !ok {
			t.Fatalf("ConfigMap %s is not in the build", v.ConfigMap.Name)
		}
		conf = cm.Data[strings.TrimPrefix(confPath, mounts[v.Name]+"/")]
	}
	if conf == "" {
		t.Fatalf("no config at %q", confPath)
	}
	conf = natsConfForParsing(t, ss, conf) // env and Secret files (nats_security_test.go)
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SERVER_NAME", ss.Name+"-0")
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats-server rejects the config: %v", err)
	}
	if !opts.JetStream {
		t.Error("JetStream is not enabled")
	}
	if opts.ServerName != ss.Name+"-0" {
		t.Errorf("server_name = %q, want the pod name", opts.ServerName)
	}
	if !claims[volumeAt(mounts, opts.StoreDir)] {
		t.Errorf("JetStream store_dir %s is not on a volume claim template", opts.StoreDir)
	}
	if opts.Cluster.Name == "" {
		t.Error("no cluster name")
	}
	var routes []string
	for _, r := range opts.Routes {
		routes = append(routes, r.Host)
		if r.Port() != strconv.Itoa(opts.Cluster.Port) {
			t.Errorf("route %s is not on the cluster port %d", r, opts.Cluster.Port)
		}
	}
	var want []string
	for i := range int(*ss.Spec.Replicas) {
		want = append(want, ss.Name+"-"+strconv.Itoa(i)+"."+ss.Spec.ServiceName+":"+strconv.Itoa(opts.Cluster.Port))
	}
	slices.Sort(routes)
	if !slices.Equal(routes, want) {
		t.Errorf("routes %v, want %v", routes, want)
	}
	ports := map[int]string{opts.Port: "client", opts.Cluster.Port: "cluster", opts.HTTPPort: "monitor"}
	for port, name := range ports {
		if n, ok := ContainerPort(c, intstr.FromString(name)); !ok || int(n) != port {
			t.Errorf("container port %s = %d, config has %d", name, n, port)
		}
	}
	for _, p := range svc.Spec.Ports {
		if n, ok := ContainerPort(c, p.TargetPort); !ok || n != int32(opts.Port) {
			t.Errorf("client Service port %s does not reach the client port %d", p.Name, opts.Port)
		}
	}
}

func volumeAt(mounts map[string]string, path string) string {
	for name, m := range mounts {
		if path == m || strings.HasPrefix(path, m+"/") {
			return name
		}
	}
	return ""
}

func findPDB(objs []Object, labels map[string]string) *policyv1.PodDisruptionBudget {
	for _, p := range Find[*policyv1.PodDisruptionBudget](objs) {
		if SelectorMatches(p.Spec.Selector.MatchLabels, labels) {
			return p
		}
	}
	return nil
}

// TestSecretTemplate: the template holds no values, only keys the server
// reads, and is not applied by any kustomization.
func TestSecretTemplate(t *testing.T) {
	r := root(t)
	known := knownEnv(t)
	objs, err := DecodeFile(filepath.Join(r, secretTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("%d objects, want one Secret", len(objs))
	}
	s, ok := objs[0].Obj.(*corev1.Secret)
	if !ok {
		t.Fatalf("%T, want a Secret", objs[0].Obj)
	}
	if len(s.Data) > 0 {
		t.Errorf("data has %d values; the template must hold none", len(s.Data))
	}
	if len(s.StringData) == 0 {
		t.Error("the template lists no keys")
	}
	for k, v := range s.StringData {
		if v != "" {
			t.Errorf("%s has a value; the template must hold none", k)
		}
		if !known[k] {
			t.Errorf("%s is not a setting the server knows", k)
		}
	}
	for _, want := range []string{"KWAISHOP_APP_SECRET", "KWAISHOP_SIGN_SECRET", "KWAISHOP_TOKEN_KEYS", "KWAISHOP_API_KEYS", "KWAISHOP_MESSAGE_KEY"} {
		if _, ok := s.StringData[want]; !ok {
			t.Errorf("the template does not list %s", want)
		}
	}
	// Secret-bearing settings stay out of every ConfigMap source.
	err = filepath.WalkDir(filepath.Join(r, "deploy/k8s"), func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || filepath.Base(path) == filepath.Base(secretTemplate) || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".env")) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "#") {
				continue
			}
			for k := range s.StringData {
				if strings.Contains(line, k) {
					t.Errorf("%s:%d sets secret setting %s outside the Secret", path, n, k)
				}
			}
			if strings.Contains(line, filepath.Base(secretTemplate)) {
				t.Errorf("%s:%d refers to the template: it must never be applied", path, n)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNATSAlone builds deploy/k8s/nats on its own (usable with any overlay).
func TestNATSAlone(t *testing.T) {
	objs, err := Build(filepath.Join(root(t), "deploy/k8s/nats"))
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := Find[*corev1.Service](objs)["nats"]
	if !ok {
		t.Fatal("no client Service nats")
	}
	checkNATS(t, objs, svc)
}

// TestPolicies_Fail shows each policy check reports a broken manifest.
func TestPolicies_Fail(t *testing.T) {
	t.Parallel()
	objs, err := Build(filepath.Join(root(t), "deploy/k8s/overlays/production"))
	if err != nil {
		t.Fatal(err)
	}
	good := Find[*appsv1.Deployment](objs)[gatewayName].Spec.Template.Spec
	if errs := PodSecurity("ok", good); len(errs) > 0 {
		t.Fatalf("the production pod is not clean: %v", errs)
	}
	f := false
	tr := true
	for _, tc := range []struct {
		name   string
		break_ func(*corev1.PodSpec)
		want   string
	}{
		{"root", func(p *corev1.PodSpec) {
			p.SecurityContext.RunAsNonRoot = &f
			p.Containers[0].SecurityContext.RunAsNonRoot = nil
		}, "runAsNonRoot"},
		{"writable root fs", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem"},
		{"privilege escalation", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.AllowPrivilegeEscalation = &tr }, "allowPrivilegeEscalation"},
		{"capabilities", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.Capabilities.Drop = nil }, "drop ALL"},
		{"no limits", func(p *corev1.PodSpec) { p.Containers[0].Resources.Limits = nil }, "limit"},
		{"two volume sources", func(p *corev1.PodSpec) {
			p.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/"}
		}, "2 sources"},
		{"latest image", func(p *corev1.PodSpec) { p.Containers[0].Image = "registry:5000/kwaishop-gateway" }, "not pinned"},
		{"token mounted", func(p *corev1.PodSpec) { p.AutomountServiceAccountToken = &tr }, "automount"},
		{"GOMEMLIMIT above the limit", func(p *corev1.PodSpec) {
			for i, e := range p.Containers[0].Env {
				if e.Name == "GOMEMLIMIT" {
					p.Containers[0].Env[i].Value = "1GiB"
				}
			}
		}, "GOMEMLIMIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := *good.DeepCopy()
			tc.break_(&p)
			errs := PodSecurity("broken", p)
			if !strings.Contains(errors.Join(errs...).Error()+" ", tc.want) {
				t.Fatalf("errors %v, want one about %q", errs, tc.want)
			}
		})
	}
	c := good.Containers[0]
	c.ReadinessProbe = nil
	if errs := Probes(c, "/healthz", "/readyz", "/healthz"); len(errs) != 1 {
		t.Errorf("a missing readiness probe: %v", errs)
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: "KWAISHOP_NO_SUCH_SETTING", Value: "x"})
	if errs := EnvNames(c, knownEnv(t), extraEnvPrefixes...); len(errs) != 1 {
		t.Errorf("an unknown env var: %v", errs)
	}
}

// TestDockerfile cross-checks the image against the manifests: the user the
// pods run as, the ports, the data dir and the static build flags.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{
		"CGO_ENABLED=0", `-trimpath -ldflags="-s -w"`, "./cmd/server", "./cmd/sandbox",
		"USER 65532:65532", "EXPOSE 8080 9090", "KWAISHOP_DATA_DIR=/data",
		"FROM gcr.io/distroless/static", "ENTRYPOINT [",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	objs, err := Build(filepath.Join(root(t), "deploy/k8s/base"))
	if err != nil {
		t.Fatal(err)
	}
	pod := Find[*appsv1.Deployment](objs)[gatewayName].Spec.Template.Spec
	if u := pod.SecurityContext.RunAsUser; u == nil || *u != 65532 {
		t.Errorf("pod runAsUser %v, image USER 65532", u)
	}
}
