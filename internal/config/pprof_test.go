package config

import (
	"io"
	"strings"
	"testing"
)

// KWAISHOP_PPROF_ADDR exposes profiling: loopback only.
func TestLoad_PprofAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"localhost:0", true},
		{"0.0.0.0:6060", false},
		{":6060", false},
		{"10.0.0.1:6060", false},
		{"example.com:6060", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			cfg, err := Load(nil, env(map[string]string{"KWAISHOP_PPROF_ADDR": tc.addr}), io.Discard)
			if tc.ok && (err != nil || cfg.PprofAddr != tc.addr) {
				t.Fatalf("Load: %v (addr %q)", err, cfg.PprofAddr)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "KWAISHOP_PPROF_ADDR")) {
				t.Fatalf("err = %v, want a KWAISHOP_PPROF_ADDR violation", err)
			}
		})
	}
}
