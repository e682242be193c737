package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// Fields after the command: state(3) ... utime(14)=250 stime(15)=50.
	rest := "S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 10"
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "42 (server) " + rest, 3 * time.Second, true},
		{"comm_with_space_and_paren", "42 (a b) c) " + rest, 3 * time.Second, true},
		{"no_paren", "42 server " + rest, 0, false},
		{"short", "42 (server) S 1 2", 0, false},
		{"not_a_number", "42 (server) S 1 1 1 0 -1 4194560 100 0 0 0 x 50 0", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("got %s, %v; want %s, ok=%t", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status string
		want         int64
		ok           bool
	}{
		{"present", "Name:\tserver\nVmPeak:\t  9000 kB\nVmRSS:\t   2048 kB\nThreads: 9\n", 2048 << 10, true},
		{"absent", "Name:\tserver\n", 0, false},
		{"bad_unit", "VmRSS:\t 2 MB\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVMRSS(strings.NewReader(tc.status))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("got %d, %v; want %d, ok=%t", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	rss, err := RSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if _, err := CPUTime(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if m := DescribeMachine(2); m.CPUs != 2 || m.Kernel == "" {
		t.Fatalf("DescribeMachine = %+v", m)
	}
}
