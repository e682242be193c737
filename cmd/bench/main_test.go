package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
		conc []int
	}{
		{"defaults", []string{"-server", "s", "-sandbox", "b"}, true, []int{1, 32, 256}},
		{"concurrency", []string{"-concurrency", "2, 8"}, true, []int{2, 8}},
		{"bad_concurrency", []string{"-concurrency", "1,x"}, false, nil},
		{"stray_argument", []string{"extra"}, false, nil},
		{"unknown_flag", []string{"-nope"}, false, nil},
		{"server_env", []string{"-server-env", "KWAISHOP_API_QPS=0"}, true, []int{1, 32, 256}},
		{"server_env_not_ours", []string{"-server-env", "PATH=/tmp"}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parse(tc.args, io.Discard)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%t", err, tc.ok)
			}
			if tc.ok && !slices.Equal(o.cfg.Concurrency, tc.conc) {
				t.Fatalf("concurrency = %v, want %v", o.cfg.Concurrency, tc.conc)
			}
			if tc.ok && (o.cfg.Duration != 5*time.Second || o.command == "") {
				t.Fatalf("duration %s, command %q", o.cfg.Duration, o.command)
			}
		})
	}
}

func TestRealMain_reports_config_errors(t *testing.T) {
	t.Parallel()
	// No binaries: the run must fail at validation, before starting anything.
	if err := realMain(t.Context(), []string{"-duration", "0s"}, io.Discard, io.Discard); err == nil {
		t.Fatal("no error")
	}
}
