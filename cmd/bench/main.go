// Command bench is the process-level benchmark of kwaishop-gateway (`make
// bench`, via scripts/bench.sh): it runs the built cmd/sandbox and
// cmd/server as separate processes on loopback, measures the gateway against
// a direct signing client of the sandbox (the physical limit) and against
// the floor service (the least a gRPC service can do to honour
// PlatformService.Call, this binary started as `bench floor`), and writes a
// Markdown report to stdout, to -out, and into the "Performance" section of
// -doc. docs/benchmarks.md explains the numbers.
//
//	bench -server ./server -sandbox ./sandbox [-duration 5s] [-concurrency 1,32,256] ...
//	bench floor   # the floor service, configured by KWAISHOP_FLOOR_* (started by bench itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/cmd/bench/internal/bench"
	"github.com/kwaishop-gateway/kwaishop-gateway/cmd/bench/internal/floor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := realMain
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		run = floorMain
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	cfg      bench.Config
	out, doc string
	command  string
	floor    bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cfg.ServerBin, "server", "", "built cmd/server binary (required)")
	fs.StringVar(&o.cfg.SandboxBin, "sandbox", "", "built cmd/sandbox binary (required)")
	fs.StringVar(&o.cfg.WorkDir, "workdir", "", "directory for logs, data and profiles (default: a new temp dir)")
	conc := fs.String("concurrency", "1,32,256", "comma-separated concurrencies of the call matrix")
	fs.DurationVar(&o.cfg.Duration, "duration", 5*time.Second, "length of each measured run")
	fs.DurationVar(&o.cfg.Warmup, "warmup", 300*time.Millisecond, "warm-up before each measured run")
	fs.DurationVar(&o.cfg.LookupDuration, "lookup-duration", 1500*time.Millisecond, "length of each lookup-latency run (c=1)")
	fs.IntVar(&o.cfg.Authorizations, "authorizations", 100000, "authorizations stored for the memory test (0 = skip)")
	fs.IntVar(&o.cfg.IntakeConcurrency, "intake-concurrency", 32, "concurrent pushers of the intake test (0 = skip)")
	fs.IntVar(&o.cfg.GRPCConns, "grpc-conns", 4, "gRPC client connections")
	fs.IntVar(&o.cfg.ProfileConcurrency, "profile-concurrency", 32, "concurrency of the profiled gRPC/REST Call runs (0 = no profile)")
	fs.BoolVar(&o.cfg.Variants, "variants", true, "also run the Calls at c=32 with request logging on and with the client-side QPS limiter off")
	fs.BoolVar(&o.cfg.APIKey, "api-key", false, "configure a caller key on the server (KWAISHOP_API_KEYS) and send it")
	fs.BoolVar(&o.floor, "floor", true, "also measure the floor service (this binary as `bench floor`) beside the gateway")
	fs.Func("server-env", "`KEY=VALUE` added to the server's environment (repeatable), e.g. KWAISHOP_API_QPS=0 to see one setting's cost", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || !strings.HasPrefix(k, "KWAISHOP_") {
			return fmt.Errorf("want KWAISHOP_NAME=value, got %q", s)
		}
		o.cfg.ServerEnv = append(o.cfg.ServerEnv, s)
		return nil
	})
	fs.StringVar(&o.cfg.GoTool, "go", "go", "go command for `go tool pprof` and the refresh-storm benchmark (empty = skip both)")
	fs.StringVar(&o.cfg.RepoDir, "repo", ".", "repository root, for the refresh-storm benchmark (empty = skip)")
	fs.StringVar(&o.out, "out", "", "write the report to this file too (e.g. docs/benchmarks-latest.md)")
	fs.StringVar(&o.doc, "doc", "", "update the Performance section of this Markdown file (e.g. docs/benchmarks.md)")
	fs.StringVar(&o.command, "command", "", "the command to print in the report (default: this command line)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("-concurrency: %q is not a number", s))
			continue
		}
		o.cfg.Concurrency = append(o.cfg.Concurrency, n)
	}
	if o.command == "" {
		o.command = "bench " + strings.Join(args, " ")
	}
	return o, errors.Join(errs...)
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "kwaishop-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.cfg.WorkDir = dir
	}
	o.cfg.Progress = stderr
	if o.floor {
		if o.cfg.FloorBin, err = os.Executable(); err != nil {
			return fmt.Errorf("the floor service runs this binary: %w", err)
		}
	}
	rep, err := bench.Run(ctx, o.cfg)
	if err != nil {
		return fmt.Errorf("%w (logs in %s)", err, o.cfg.WorkDir)
	}
	rep.Command = o.command
	md := rep.Markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if o.out != "" {
		full := "# Benchmarks: latest `make bench`\n\nGenerated by `make bench`; the explanation and findings are in [benchmarks.md](benchmarks.md#performance-issue-9-the-gateway-against-the-physical-limit).\n\n" + md
		if err := os.WriteFile(o.out, []byte(full), 0o644); err != nil {
			return err
		}
	}
	if o.doc != "" {
		if err := bench.UpdateFile(o.doc, md); err != nil {
			return err
		}
	}
	return nil
}

// floorMain serves the floor service (package cmd/bench/internal/floor)
// until ctx ends; the harness configures it through the environment so
// that the secrets are not on the command line.
func floorMain(ctx context.Context, args []string, _, _ io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("floor: unexpected arguments %v", args[1:])
	}
	return floor.Run(ctx, floor.Config{
		GRPCAddr:    os.Getenv("KWAISHOP_FLOOR_GRPC_ADDR"),
		HTTPAddr:    os.Getenv("KWAISHOP_FLOOR_HTTP_ADDR"),
		BaseURL:     os.Getenv("KWAISHOP_FLOOR_BASE_URL"),
		AppKey:      os.Getenv("KWAISHOP_FLOOR_APP_KEY"),
		SignSecret:  os.Getenv("KWAISHOP_FLOOR_SIGN_SECRET"),
		AccessToken: os.Getenv("KWAISHOP_FLOOR_ACCESS_TOKEN"),
	})
}
