package bench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestProcess_stop(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	// startProcess runs a binary without arguments; a script gives sleep one.
	script := t.TempDir() + "/sleeper"
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec "+sleep+" 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := startProcess("sleeper", script, nil, t.TempDir()+"/log")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.exited(); err != nil {
		t.Fatalf("exited right away: %v", err)
	}
	t0 := time.Now()
	p.stop(5 * time.Second)
	if time.Since(t0) > 4*time.Second {
		t.Errorf("stop took %s: SIGTERM ignored?", time.Since(t0))
	}
	if err := p.exited(); err == nil {
		t.Fatal("still running after stop")
	}
	p.stop(time.Second) // again: no-op
}

// A sandbox that dies at start fails the run at once, with its log named.
func TestRun_sandbox_that_exits(t *testing.T) {
	t.Parallel()
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false binary")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Run(ctx, Config{ServerBin: falseBin, SandboxBin: falseBin, WorkDir: dir, Concurrency: []int{1}, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "sandbox exited") || !strings.Contains(err.Error(), "sandbox.log") {
		t.Fatalf("err = %v, want the sandbox's exit with its log", err)
	}
}

func TestConfig_validate(t *testing.T) {
	t.Parallel()
	ok := Config{ServerBin: "s", SandboxBin: "b", WorkDir: "w", Concurrency: []int{1, 32}, Duration: time.Second}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Config){
		"no_binaries":       func(c *Config) { c.ServerBin = "" },
		"no_workdir":        func(c *Config) { c.WorkDir = "" },
		"no_concurrency":    func(c *Config) { c.Concurrency = nil },
		"zero_concurrency":  func(c *Config) { c.Concurrency = []int{0} },
		"huge_duration":     func(c *Config) { c.Duration = time.Hour },
		"negative_warmup":   func(c *Config) { c.Warmup = -1 },
		"negative_accounts": func(c *Config) { c.Authorizations = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			edit(&c)
			if err := c.validate(); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
