package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cost is one component's share of a CPU profile.
type Cost struct {
	Component string
	CPU       time.Duration
}

// owners attribute a profile sample to a component: the sample belongs to
// the owner of its deepest (nearest the leaf) frame that matches one, so
// allocation, syscalls and library code (protobuf reflection, the NATS
// client) count for the code that caused them. Within one frame the first
// matching rule wins.
var owners = []struct{ match, component string }{
	{"internal/platform/sign.", "signing (HMAC-SHA256)"},
	{"internal/limit.", "client-side limits (QPS slot, quotas: NATS KV)"},
	{"internal/breaker.", "circuit breaker"},
	{"internal/auth.", "caller authentication"},
	{"protovalidate", "request validation (protovalidate/CEL)"},
	{"cel.dev/", "request validation (protovalidate/CEL)"},
	{"github.com/google/cel-go", "request validation (protovalidate/CEL)"},
	{"go.opentelemetry.io/", "OpenTelemetry (spans, metrics)"},
	{"github.com/prometheus/", "OpenTelemetry (spans, metrics)"},
	{"log/slog", "logging (slog)"},
	{"internal/token.", "token manager"},
	{"internal/stats.", "call statistics"},
	{"internal/telemetry.", "call statistics"},
	{"internal/message", "message intake"}, // internal/message and its packages
	{"net/http.(*persistConn)", "upstream HTTP client (net/http Transport)"},
	{"net/http.persistConnWriter", "upstream HTTP client (net/http Transport)"},
	{"net/http.(*Transport)", "upstream HTTP client (net/http Transport)"},
	{"net/http.(*Client)", "upstream HTTP client (net/http Transport)"},
	{"internal/platform.", "platform client (build request, check and read answer)"},
	{"grpc-gateway/v2/", "REST ⇄ gRPC translation (grpc-gateway)"},
	{"gen/kwaishop/gateway/v1.request_", "REST ⇄ gRPC translation (grpc-gateway)"},
	{"gen/kwaishop/gateway/v1.Register", "REST ⇄ gRPC translation (grpc-gateway)"},
	{"internal/commerce.", "typed commerce (decode the page, build protos)"},
	{"internal/service.", "service (params → JSON, data → structpb)"},
	{"cmd/bench/internal/floor.", "floor service (params → JSON, data → structpb)"},
	{"google.golang.org/grpc", "gRPC (HTTP/2 transport, server, client)"},
	{"golang.org/x/net/http2", "gRPC (HTTP/2 transport, server, client)"},
	{"net/http.(*conn)", "HTTP/1.1 server (REST, intake)"},
	{"net/http.(*response)", "HTTP/1.1 server (REST, intake)"},
	{"net/http.(*chunkWriter)", "HTTP/1.1 server (REST, intake)"},
	{"net/http.(*ServeMux)", "HTTP/1.1 server (REST, intake)"},
	{"github.com/nats-io/nats-server", "embedded NATS server (KV, streams)"},
}

// fallbacks classify samples that have no owner: library goroutines of
// their own (connection read loops) and the Go runtime.
var fallbacks = []struct{ match, component string }{
	{"github.com/nats-io/nats.go", "NATS client (connection I/O)"},
	{"google.golang.org/protobuf", "protobuf"},
	{"runtime.gcBgMarkWorker", "Go GC (background)"},
	{"runtime.bgsweep", "Go GC (background)"},
	{"runtime.bgscavenge", "Go GC (background)"},
	{"runtime.schedule", "Go scheduler, netpoll"},
	{"runtime.findRunnable", "Go scheduler, netpoll"},
	{"runtime.mcall", "Go scheduler, netpoll"},
	{"runtime.netpoll", "Go scheduler, netpoll"},
	{"runtime.sysmon", "Go scheduler, netpoll"},
}

func classify(stack []string) string {
	for _, fn := range stack { // leaf first
		for _, o := range owners {
			if strings.Contains(fn, o.match) {
				return o.component
			}
		}
	}
	for _, fn := range stack {
		for _, f := range fallbacks {
			if strings.Contains(fn, f.match) {
				return f.component
			}
		}
	}
	return "other"
}

// Breakdown reads the output of `go tool pprof -raw` of a CPU profile and
// sums the samples per component, largest first.
func Breakdown(raw io.Reader) ([]Cost, error) {
	type sample struct {
		nanos int64
		locs  []int
	}
	var samples []sample
	locs := map[int][]string{} // location id → functions, innermost first
	sc := bufio.NewScanner(raw)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	section, lastLoc := "", 0
	for sc.Scan() {
		line := sc.Text()
		switch strings.TrimSpace(line) {
		case "Samples:", "Locations", "Mappings":
			section = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		switch section {
		case "Samples":
			head, ids, ok := strings.Cut(line, ":")
			f := strings.Fields(head)
			if !ok || len(f) != 2 {
				continue // the header or a label line
			}
			nanos, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			s := sample{nanos: nanos}
			for _, id := range strings.Fields(ids) {
				n, err := strconv.Atoi(id)
				if err != nil {
					return nil, fmt.Errorf("bench: pprof raw: bad location %q", id)
				}
				s.locs = append(s.locs, n)
			}
			samples = append(samples, s)
		case "Locations":
			// "    12: 0xaddr M=1 pkg.Func file:line:col s=N", then inlined
			// callers on indented lines without an id.
			t := strings.TrimSpace(line)
			if id, rest, ok := strings.Cut(t, ": "); ok && isNumber(id) {
				n, _ := strconv.Atoi(id)
				lastLoc = n
				f := strings.Fields(rest)
				if len(f) >= 3 {
					locs[n] = append(locs[n], f[2])
				}
				continue
			}
			if f := strings.Fields(t); len(f) >= 1 && lastLoc != 0 {
				locs[lastLoc] = append(locs[lastLoc], f[0])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("bench: pprof raw: no samples")
	}
	sums := map[string]int64{}
	for _, s := range samples {
		var stack []string
		for _, l := range s.locs {
			stack = append(stack, locs[l]...)
		}
		sums[classify(stack)] += s.nanos
	}
	out := make([]Cost, 0, len(sums))
	for c, n := range sums {
		out = append(out, Cost{Component: c, CPU: time.Duration(n)})
	}
	slices.SortFunc(out, func(a, b Cost) int {
		if c := cmp.Compare(b.CPU, a.CPU); c != 0 {
			return c
		}
		return strings.Compare(a.Component, b.Component)
	})
	return out, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && s != ""
}
