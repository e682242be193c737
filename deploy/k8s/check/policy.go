package check

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PodSecurity checks a pod template against the Pod Security "restricted"
// profile plus a read-only root filesystem, and that every container has
// resources, probes where wanted, and mounts only volumes that exist, each
// with exactly one source. claims are a StatefulSet's volume claim template
// names (mountable too). It returns every violation.
func PodSecurity(where string, spec corev1.PodSpec, claims ...string) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		bad("host namespaces are shared")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		bad("automountServiceAccountToken is not false")
	}
	volumes := map[string]bool{}
	for _, c := range claims {
		volumes[c] = true
	}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		if n := sources(v.VolumeSource); n != 1 {
			bad("volume %q has %d sources, want 1", v.Name, n)
		}
		if v.HostPath != nil {
			bad("volume %q is a hostPath", v.Name)
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		cw := func(format string, a ...any) { bad("container %q: "+format, append([]any{c.Name}, a...)...) }
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = psc.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			cw("runAsNonRoot is not true")
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = psc.RunAsUser
		}
		if uid != nil && *uid == 0 {
			cw("runAsUser is 0")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			cw("readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			cw("allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			cw("privileged")
		}
		if sc.Capabilities == nil || !dropsAll(sc.Capabilities.Drop) {
			cw("capabilities do not drop ALL")
		} else if len(sc.Capabilities.Add) > 0 {
			cw("capabilities add %v", sc.Capabilities.Add)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
			cw("seccompProfile is not RuntimeDefault or Localhost")
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				cw("no %s request", r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				cw("no %s limit", r)
			}
		}
		if !pinned(c.Image) {
			cw("image %q is not pinned to a tag or digest", c.Image)
		}
		if err := memLimitBelowLimit(c); err != nil {
			cw("%v", err)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				cw("mounts undefined volume %q", m.Name)
			}
		}
	}
	return errs
}

// memLimitBelowLimit checks that a GOMEMLIMIT the container sets is below
// its memory limit (the Go runtime's soft limit must leave headroom).
func memLimitBelowLimit(c corev1.Container) error {
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		if e.ValueFrom != nil {
			return nil // derived from the limit itself
		}
		units := []struct {
			suffix string
			mult   int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}, {"", 1}}
		for _, u := range units {
			num, ok := strings.CutSuffix(e.Value, u.suffix)
			n, err := strconv.ParseInt(num, 10, 64)
			if !ok || err != nil {
				continue
			}
			limit, ok := c.Resources.Limits[corev1.ResourceMemory]
			if !ok {
				return fmt.Errorf("GOMEMLIMIT %s without a memory limit", e.Value)
			}
			if n*u.mult >= limit.Value() {
				return fmt.Errorf("GOMEMLIMIT %s is not below the memory limit %s", e.Value, limit.String())
			}
			return nil
		}
		return fmt.Errorf("GOMEMLIMIT %q is not a byte count like 460MiB", e.Value)
	}
	return nil
}

// pinned reports whether an image reference names a tag other than latest,
// or a digest.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	return ok && tag != "" && tag != "latest"
}

func dropsAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

// sources counts the set members of a VolumeSource (exactly one is valid).
func sources(vs corev1.VolumeSource) int {
	n := 0
	v := reflect.ValueOf(vs)
	for i := range v.NumField() {
		if !v.Field(i).IsNil() {
			n++
		}
	}
	return n
}

// Probes checks that a container has startup, readiness and liveness probes,
// each an HTTP GET of the wanted path on a named container port.
func Probes(c corev1.Container, startup, readiness, liveness string) []error {
	var errs []error
	for _, p := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"startup", startup, c.StartupProbe}, {"readiness", readiness, c.ReadinessProbe}, {"liveness", liveness, c.LivenessProbe}} {
		switch {
		case p.probe == nil:
			errs = append(errs, fmt.Errorf("container %q: no %s probe", c.Name, p.kind))
		case p.probe.HTTPGet == nil:
			errs = append(errs, fmt.Errorf("container %q: %s probe is not an HTTP GET", c.Name, p.kind))
		case p.probe.HTTPGet.Path != p.path:
			errs = append(errs, fmt.Errorf("container %q: %s probe path %q, want %q", c.Name, p.kind, p.probe.HTTPGet.Path, p.path))
		case !hasPort(c, p.probe.HTTPGet.Port):
			errs = append(errs, fmt.Errorf("container %q: %s probe port %s is not a container port", c.Name, p.kind, p.probe.HTTPGet.Port.String()))
		}
	}
	return errs
}

// hasPort reports whether port (a name or number) is one of c's ports.
func hasPort(c corev1.Container, port intstr.IntOrString) bool {
	_, ok := ContainerPort(c, port)
	return ok
}

// ContainerPort resolves a port name or number against c's ports.
func ContainerPort(c corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// EnvNames checks every variable a container sets directly against known
// (plus the prefixes in knownPrefixes) and returns the violations.
func EnvNames(c corev1.Container, known map[string]bool, knownPrefixes ...string) []error {
	var errs []error
	for _, e := range c.Env {
		if !KnownName(e.Name, known, knownPrefixes...) {
			errs = append(errs, fmt.Errorf("container %q: env %s is not a setting the server knows", c.Name, e.Name))
		}
	}
	return errs
}

// KnownName reports whether name is in known or starts with one of prefixes.
func KnownName(name string, known map[string]bool, prefixes ...string) bool {
	if known[name] {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// SelectorMatches reports whether every selector pair is among labels (an
// empty selector matches nothing here: the manifests never want that).
func SelectorMatches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
