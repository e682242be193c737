package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUpdateSection(t *testing.T) {
	t.Parallel()
	other := "# Benchmarks\n\n## Foundation\n\nold numbers\n"
	block := func(body string) string { return BeginMarker + "\n" + body + "\n" + EndMarker + "\n" }
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty_doc", "", "\n" + SectionHeading + "\n\n" + block("NEW")},
		{"no_section", other, other + "\n" + SectionHeading + "\n\n" + block("NEW")},
		{"no_trailing_newline", "# B", "# B\n\n" + SectionHeading + "\n\n" + block("NEW")},
		{"replaces_between_markers_keeps_findings",
			other + "\n" + SectionHeading + "\n\nfindings\n\n" + block("OLD") + "\nmore findings\n\n## Later\n",
			other + "\n" + SectionHeading + "\n\nfindings\n\n" + block("NEW") + "\nmore findings\n\n## Later\n"},
		{"section_without_markers",
			other + "\n" + SectionHeading + "\n\nhand-written\n",
			other + "\n" + SectionHeading + "\n\n" + block("NEW") + "\nhand-written\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := UpdateSection(tc.doc, "NEW\n")
			if got != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
			if again := UpdateSection(got, "NEW"); again != got {
				t.Fatalf("not idempotent:\n%q", again)
			}
		})
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1 000", 1234567.4: "1 234 567", -4200: "-4 200"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkdown_targets(t *testing.T) {
	t.Parallel()
	res := func(c int, calls int, p50 time.Duration) Result {
		return Result{Concurrency: c, Calls: calls, Elapsed: time.Second, P50: p50, P99: 2 * p50}
	}
	r := &Report{
		Rows: []Row{
			{Name: ScenarioDirect, Label: "direct", Result: res(1, 5000, 200*time.Microsecond)},
			{Name: ScenarioGRPCCall, Label: "grpc", Baseline: ScenarioDirect, Result: res(1, 2000, 400*time.Microsecond), GatewayCPU: 300 * time.Microsecond},
			{Name: ScenarioDirect, Label: "direct", Result: res(32, 10000, time.Millisecond), LoadCPU: 40 * time.Microsecond, SandboxCPU: 40 * time.Microsecond},
			{Name: ScenarioGRPCCall, Label: "grpc", Baseline: ScenarioDirect, Result: res(32, 9000, 1100*time.Microsecond),
				LoadCPU: 40 * time.Microsecond, SandboxCPU: 40 * time.Microsecond, GatewayCPU: 240 * time.Microsecond},
			{Name: ScenarioRESTCall, Label: "rest", Baseline: ScenarioDirect, Result: res(32, 4500, 3*time.Millisecond)},
		},
		ReadyEmpty: 300 * time.Millisecond,
		Intake:     Intake{Row: Row{Result: Result{Concurrency: 32, Calls: 20000, Elapsed: 5 * time.Second, P99: 20 * time.Millisecond}}},
		Memory:     Memory{RSSIdle: 50 << 20},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| gRPC Call ≥ 0.8 × direct at c=32 | 0.90× (9 000 vs 10 000 calls/s; CPU ceiling on this machine 0.25×) | yes |",
		"| added p50 ≤ 0.3 ms (gRPC Call − direct, c=1) | +0.200 ms (0.400 vs 0.200) | yes |",
		"| REST Call ≥ 0.6 × gRPC Call (c=32) | 0.50× | no |",
		"| intake ≥ 3 000 msg/s with durable ack | 4 000 msg/s (c=32) | yes |",
		"| RSS ≤ 80 MB idle (embedded store) | 50.0 MB | yes |",
		"| RSS ≤ 300 MB with 0 authorizations | — settled, — after lookups | not measured |",
		"| grpc | 1 | 2 000 | 0.400 | 0.800 | 0.40× | +0.200 | 300 | 0 | 0 | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
}

func TestMarkdown_floor_targets(t *testing.T) {
	t.Parallel()
	row := func(name string, c int, p50, cpu time.Duration) Row {
		r := Row{Name: name, Label: name, Result: Result{Concurrency: c, Calls: 1000, Elapsed: time.Second, P50: p50, P99: 2 * p50}, GatewayCPU: cpu}
		if name != ScenarioDirect {
			r.Baseline = ScenarioDirect
		}
		return r
	}
	r := &Report{Rows: []Row{
		row(ScenarioDirect, 1, 200*time.Microsecond, 0),
		row(ScenarioFloorCall, 1, 450*time.Microsecond, 150*time.Microsecond),
		row(ScenarioGRPCCall, 1, 600*time.Microsecond, 300*time.Microsecond),
		row(ScenarioRESTCall, 1, 800*time.Microsecond, 400*time.Microsecond),
		row(ScenarioDirect, 32, time.Millisecond, 0),
		row(ScenarioFloorCall, 32, 2*time.Millisecond, 100*time.Microsecond),
		row(ScenarioGRPCCall, 32, 3*time.Millisecond, 140*time.Microsecond),
		row(ScenarioRESTCall, 32, 4*time.Millisecond, 280*time.Microsecond),
	}}
	md := r.Markdown()
	for _, want := range []string{
		"| gateway CPU per gRPC Call ≤ 1.5 × the floor's (c=32) | 1.40× (140 vs 100 µs/call) | yes |",
		"| REST CPU per Call ≤ 1.5 × gRPC (c=32) | 2.00× (280 vs 140 µs/call) | no |",
		"| added p50 within 0.1 ms of the floor's (gRPC Call, c=1) | +0.150 ms (0.600 vs 0.450) | no |",
		"| 1 | 2.00× | 1.33× | +0.150 | +0.350 |",
		"| 32 | 1.40× | 2.00× | +1.000 | +2.000 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	// Without floor rows the floor targets are "not measured", not failed.
	r.Rows = slices.DeleteFunc(r.Rows, func(r Row) bool { return r.Name == ScenarioFloorCall })
	if md := r.Markdown(); !strings.Contains(md, "| gateway CPU per gRPC Call ≤ 1.5 × the floor's (c=32) | — | not measured |") {
		t.Errorf("no-floor report:\n%s", md)
	}
}
