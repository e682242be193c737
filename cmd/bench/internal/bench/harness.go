package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
)

// Config is one benchmark run.
type Config struct {
	ServerBin, SandboxBin string // built cmd/server and cmd/sandbox
	// FloorBin runs the floor service when started with the argument
	// "floor" (cmd/bench itself); "" skips the floor rows.
	FloorBin string
	WorkDir  string // logs, data dirs, profiles (a temp dir)

	Concurrency      []int         // e.g. 1, 32, 256
	Duration, Warmup time.Duration // of each measured run and its warm-up
	// LookupDuration is the length of each lookup-latency run (c=1)
	// before and after the stored authorizations.
	LookupDuration time.Duration
	// Authorizations written straight into the token KV for the memory
	// test (0 = skip).
	Authorizations    int
	IntakeConcurrency int // 0 = skip the intake test
	GRPCConns         int // client connections to the gRPC port
	// ProfileConcurrency > 0 takes a CPU profile of the server during an
	// extra gRPC and REST Call run at that concurrency.
	ProfileConcurrency int
	// Variants re-runs the Calls at c=32 on servers with one setting
	// changed (request logging on; client-side QPS limiter off).
	Variants  bool
	APIKey    bool   // configure a caller key and send it (KWAISHOP_API_KEYS)
	GoTool    string // the go command, for `go tool pprof` and the refresh-storm benchmark ("" = skip both)
	RepoDir   string // repository root, for the refresh-storm benchmark ("" = skip)
	ServerEnv []string
	Progress  io.Writer // progress lines (nil = discard)
}

func (c Config) validate() error {
	var errs []error
	if c.ServerBin == "" || c.SandboxBin == "" {
		errs = append(errs, errors.New("bench: the server and sandbox binaries are required"))
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("bench: a work dir is required"))
	}
	if len(c.Concurrency) == 0 {
		errs = append(errs, errors.New("bench: at least one concurrency is required"))
	}
	for _, n := range c.Concurrency {
		if n <= 0 || n > 4096 {
			errs = append(errs, fmt.Errorf("bench: concurrency %d: want 1-4096", n))
		}
	}
	if c.Duration <= 0 || c.Duration > 10*time.Minute {
		errs = append(errs, fmt.Errorf("bench: duration %s: want >0 and <=10m", c.Duration))
	}
	if c.Warmup < 0 || c.LookupDuration < 0 || c.Authorizations < 0 || c.IntakeConcurrency < 0 || c.ProfileConcurrency < 0 {
		errs = append(errs, errors.New("bench: warm-up, lookup duration, authorizations and concurrencies must not be negative"))
	}
	return errors.Join(errs...)
}

// Scenario names (Row.Name).
const (
	ScenarioDirect       = "direct"
	ScenarioFloorCall    = "floor_call"
	ScenarioGRPCCall     = "grpc_call"
	ScenarioRESTCall     = "rest_call"
	ScenarioDirectOrders = "direct_orders"
	ScenarioListOrders   = "grpc_list_orders"
	ScenarioGetAuthz     = "get_authorization"
	ScenarioCallKnown    = "call_known_shop"
	ScenarioGetAuthzAny  = "get_authorization_random"
)

// Row is one measured run.
type Row struct {
	Name, Label string
	Baseline    string // the Name it is compared with ("" for a baseline)
	Result      Result
	// GatewayCPU, SandboxCPU and LoadCPU are the serving process's (the
	// gateway's, or the floor's on a floor row), the sandbox's and the load
	// generator's CPU time per successful call.
	GatewayCPU, SandboxCPU, LoadCPU time.Duration
	// Upstream is sandbox API calls per operation (ListOrders pages).
	Upstream float64
}

// Memory is the authorization-store test.
type Memory struct {
	Authorizations  int
	RSSIdle         int64         // after start and the first authorization, before load
	RSSAfterLoad    int64         // after the benchmark matrix (same process)
	RSSStored       int64         // a server started over Authorizations stored records, settled
	RSSAfterLookups int64         // the same after the lookup runs
	WriteTime       time.Duration // writing them all (64 writers, no fsync)
	SettleTime      time.Duration // start-up work after ready, until the server's CPU went quiet
	ListTime        time.Duration // one TokenStore.List of all (the keep-alive scan's read)
	ListCPU         time.Duration // CPU time of that List
	Before, After   []Row
	ReadyWithStored time.Duration
}

// Intake is the push-intake test.
type Intake struct {
	Row     Row
	Skipped string // why it did not run
}

// Variant is a run on a server with one setting changed.
type Variant struct {
	Setting, Why string
	Rows         []Row
}

// Profile is a CPU profile of the server during one run.
type Profile struct {
	Name    string
	Seconds int
	Calls   int    // successful calls during the profile
	Costs   []Cost // per component, largest first
	Top     string // `go tool pprof -top` lines
}

// Report is everything one run measured.
type Report struct {
	Started                     time.Time
	Elapsed                     time.Duration
	Command                     string
	Machine                     Machine
	GoVersion                   string
	Config                      Config
	Rows                        []Row // the matrix
	ReadyEmpty                  time.Duration
	Memory                      Memory
	Intake                      Intake
	Variants                    []Variant
	Profiles                    []Profile
	RefreshStorm, RefreshStormN string
	RefreshStormErr             string // why the benchmark gave no result
	Notes                       []string
}

type harness struct {
	cfg        Config
	creds      credentials
	httpClient *http.Client
	admin      *Admin
	sandbox    *process
	floor      *gateway // nil without Config.FloorBin
	sandboxURL string
	report     *Report
	listOrders *scenario // nil when the build has no OrderService
}

func (h *harness) progress(format string, a ...any) {
	if h.cfg.Progress != nil {
		fmt.Fprintf(h.cfg.Progress, "bench: "+format+"\n", a...)
	}
}

func (h *harness) note(format string, a ...any) {
	h.report.Notes = append(h.report.Notes, fmt.Sprintf(format, a...))
	h.progress("note: "+format, a...)
}

// Run runs the whole benchmark. The processes it starts are stopped before
// it returns, whatever happens.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	creds, err := newCredentials()
	if err != nil {
		return nil, err
	}
	maxConc := 0
	for _, c := range append(cfg.Concurrency, cfg.IntakeConcurrency, cfg.ProfileConcurrency) {
		maxConc = max(maxConc, c)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * maxConc
	tr.MaxIdleConnsPerHost = maxConc
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	h := &harness{cfg: cfg, creds: creds, httpClient: hc, report: &Report{
		Started: time.Now(), Machine: DescribeMachine(runtime.NumCPU()), GoVersion: runtime.Version(), Config: cfg,
	}}
	defer func() { h.report.Elapsed = time.Since(h.report.Started) }()
	defer func() { h.sandbox.stop(10 * time.Second) }() // h.sandbox is set later
	defer func() { h.floor.stop() }()                   // so is h.floor
	if err := h.run(ctx); err != nil {
		return h.report, err
	}
	return h.report, nil
}

func (h *harness) run(ctx context.Context) error {
	if fs, err := fsyncLatency(h.cfg.WorkDir, 100); err == nil {
		h.report.Machine.FsyncP50 = fs
	}
	if err := h.startSandbox(ctx); err != nil {
		return err
	}
	dataDir, err := os.MkdirTemp(h.cfg.WorkDir, "data-") // always a fresh store
	if err != nil {
		return err
	}

	// 1. A fresh server: start-up time, idle memory, the matrix, profiles, intake.
	h.progress("starting the server (empty store)")
	g, err := h.startGateway(ctx, gatewayOptions{dataDir: dataDir, logLevel: "warn", logName: "server-1.log"})
	if err != nil {
		return err
	}
	defer func() { g.stop() }()
	h.report.ReadyEmpty = g.readyIn
	openID, err := g.authorize(ctx, h.admin)
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // let start-up work finish before reading "idle"
	if h.report.Memory.RSSIdle, err = RSS(g.proc.pid()); err != nil {
		return err
	}
	direct, err := h.direct(ctx)
	if err != nil {
		return err
	}
	if h.cfg.FloorBin != "" {
		h.progress("starting the floor service")
		if h.floor, err = h.startFloor(ctx, direct.AccessToken); err != nil {
			return err
		}
	}
	if err := h.matrix(ctx, g, direct, openID); err != nil {
		return err
	}
	h.report.Memory.RSSAfterLoad, _ = RSS(g.proc.pid())
	var profiled []scenario
	if h.floor != nil {
		profiled = append(profiled, h.floorScenario(openID))
	}
	profiled = append(profiled, h.callScenarios(g, openID)...)
	if h.listOrders != nil {
		profiled = append(profiled, *h.listOrders)
	}
	if h.cfg.IntakeConcurrency > 0 {
		in, err := h.intake(ctx, g, openID)
		if err != nil {
			return err
		}
		if in != nil {
			profiled = append(profiled, *in)
		}
	}
	if h.cfg.ProfileConcurrency > 0 {
		h.profiles(ctx, g, profiled)
	}
	g.stop()
	h.floor.stop()

	// 2. The same store with one setting changed at a time.
	if h.cfg.Variants {
		for i, v := range variants {
			h.progress("restarting the server with %s", v.setting)
			g, err = h.startGateway(ctx, gatewayOptions{dataDir: dataDir, logLevel: v.logLevel, logName: fmt.Sprintf("server-variant-%d.log", i+1), env: v.env})
			if err != nil {
				return err
			}
			out := Variant{Setting: v.setting, Why: v.why}
			for _, s := range h.callScenarios(g, openID)[:v.scenarios] {
				r, err := h.measure(ctx, g, s, 32)
				if err != nil {
					return err
				}
				out.Rows = append(out.Rows, r)
			}
			h.report.Variants = append(h.report.Variants, out)
			g.stop()
		}
	}

	// 3. Many stored authorizations: memory and lookup latency.
	if h.cfg.Authorizations > 0 {
		if err := h.memory(ctx, dataDir, openID); err != nil {
			return err
		}
	}

	// 4. The refresh storm cannot go through the sandbox (at most 5 test
	// users): run the in-process benchmark instead.
	if h.cfg.GoTool != "" && h.cfg.RepoDir != "" {
		h.refreshStorm(ctx)
	}
	return nil
}

func (h *harness) startSandbox(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	h.sandboxURL = "http://" + addr
	h.progress("starting the sandbox on %s", addr)
	p, err := startProcess("sandbox", h.cfg.SandboxBin, []string{
		"KWAISHOP_SANDBOX_ADDR=" + addr,
		"KWAISHOP_SANDBOX_APP_KEY=" + h.creds.AppKey,
		"KWAISHOP_SANDBOX_APP_SECRET=" + h.creds.AppSecret,
		"KWAISHOP_SANDBOX_SIGN_SECRET=" + h.creds.SignSecret,
		"KWAISHOP_SANDBOX_MESSAGE_KEY=" + h.creds.MessageKey,
		"KWAISHOP_SANDBOX_TEST_USERS=1",
		"KWAISHOP_SANDBOX_APP_STATE=test",
		"KWAISHOP_SANDBOX_SEED=1",
		"KWAISHOP_SANDBOX_LOG_LEVEL=warn",
	}, filepath.Join(h.cfg.WorkDir, "sandbox.log"))
	if err != nil {
		return err
	}
	h.sandbox = p
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := waitHTTP(wctx, p, h.httpClient, h.sandboxURL+"/sandbox/v1/app", 5*time.Millisecond); err != nil {
		return err
	}
	h.admin = &Admin{BaseURL: h.sandboxURL, HTTP: h.httpClient}
	// Lift the platform's limits: the benchmark measures speed, not quotas.
	return h.admin.Unlimited(ctx, "open.shop.info.get", "open.order.cursor.list")
}

// direct builds the physical-limit client with its own access token for
// the same test user (a second grant of the same shop).
func (h *harness) direct(ctx context.Context) (*Direct, error) {
	tok, err := h.admin.AccessToken(ctx, h.creds.AppKey, h.creds.AppSecret, 1)
	if err != nil {
		return nil, err
	}
	return &Direct{BaseURL: h.sandboxURL, AppKey: h.creds.AppKey, SignSecret: h.creds.SignSecret, AccessToken: tok, HTTP: h.httpClient}, nil
}

// variants are the server settings compared with the defaults at c=32.
var variants = []struct {
	setting, why string
	logLevel     string
	env          []string
	scenarios    int // how many of callScenarios (gRPC, REST)
}{
	{setting: "defaults", why: "a fresh server, the baseline of the rows below", logLevel: "warn", scenarios: 2},
	{setting: "`KWAISHOP_LOG_LEVEL=info`", why: "one JSON log line per RPC (to a file)", logLevel: "info", scenarios: 2},
	{setting: "`KWAISHOP_API_QPS=0`", why: "no client-side QPS pacing (no KV compare-and-swap per call)", logLevel: "warn",
		env: []string{"KWAISHOP_API_QPS=0", "KWAISHOP_API_QPS_OVERRIDES=open.order.cursor.list=0/0"}, scenarios: 1},
}

type scenario struct {
	name, label, baseline string
	do                    func(context.Context, int) error
	upstream              string   // sandbox API counted per operation ("" = none)
	on                    *gateway // the serving process measured (nil = the gateway)
}

// floorScenario is PlatformService.Call on the floor service, the same
// request as the gateway's gRPC Call.
func (h *harness) floorScenario(openID string) scenario {
	return scenario{name: ScenarioFloorCall, label: "floor: minimal gRPC Call service", baseline: ScenarioDirect,
		do: h.floor.grpcCall(openID, "open.shop.info.get", structpb.NewStructValue(&structpb.Struct{})), on: h.floor}
}

func (h *harness) callScenarios(g *gateway, openID string) []scenario {
	empty := structpb.NewStructValue(&structpb.Struct{})
	restBody, _ := json.Marshal(map[string]any{"open_id": openID, "method": "open.shop.info.get", "params": map[string]any{}})
	return []scenario{
		{name: ScenarioGRPCCall, label: "gRPC PlatformService.Call", baseline: ScenarioDirect, do: g.grpcCall(openID, "open.shop.info.get", empty)},
		{name: ScenarioRESTCall, label: "REST POST /v1/call", baseline: ScenarioDirect, do: g.restCall(restBody)},
	}
}

// orderWindow is the ListOrders / open.order.cursor.list window and page.
const (
	orderWindow   = 24 * time.Hour
	orderPageSize = 20
)

func (h *harness) matrix(ctx context.Context, g *gateway, d *Direct, openID string) error {
	now, err := h.admin.Now(ctx)
	if err != nil {
		return err
	}
	begin := now.Add(-orderWindow)
	orderParam, _ := json.Marshal(map[string]any{
		"orderViewStatus": 1, "pageSize": orderPageSize, "sort": 1, "queryType": 1,
		"beginTime": begin.UnixMilli(), "endTime": now.UnixMilli(), "cursor": "",
	})
	scenarios := []scenario{{
		name: ScenarioDirect, label: "direct (sign + HTTP to the sandbox)",
		do: func(ctx context.Context, _ int) error { return d.Call(ctx, "open.shop.info.get", []byte("{}")) },
	}}
	if h.floor != nil {
		scenarios = append(scenarios, h.floorScenario(openID))
	}
	scenarios = append(scenarios, h.callScenarios(g, openID)...)
	scenarios = append(scenarios, scenario{
		name: ScenarioDirectOrders, label: "direct open.order.cursor.list (1 day, 20/page)",
		do:       func(ctx context.Context, _ int) error { return d.Call(ctx, "open.order.cursor.list", orderParam) },
		upstream: "open.order.cursor.list",
	})
	// The typed order service, if this build has it.
	list := g.listOrders(openID, begin, now, orderPageSize)
	if err := list(ctx, 0); err != nil {
		h.note("typed ListOrders skipped: %v", err)
	} else {
		h.listOrders = &scenario{name: ScenarioListOrders, label: "gRPC OrderService.ListOrders (same window/page)",
			baseline: ScenarioDirectOrders, do: list, upstream: "open.order.cursor.list"}
		scenarios = append(scenarios, *h.listOrders)
	}
	for _, c := range h.cfg.Concurrency {
		for _, s := range scenarios {
			r, err := h.measure(ctx, g, s, c)
			if err != nil {
				return err
			}
			h.report.Rows = append(h.report.Rows, r)
		}
	}
	return nil
}

// measure warms up, then runs s at concurrency c, with the CPU time of the
// serving process (g, or s.on), the sandbox and the load generator and (if
// asked) the sandbox's upstream call count around it.
func (h *harness) measure(ctx context.Context, g *gateway, s scenario, c int) (Row, error) {
	if s.on != nil {
		g = s.on
	}
	if h.cfg.Warmup > 0 {
		if _, err := Drive(ctx, Load{Concurrency: c, Duration: h.cfg.Warmup, Do: s.do}); err != nil {
			return Row{}, err
		}
	}
	var before map[string]int64
	if s.upstream != "" {
		before, _ = h.admin.Counters(ctx)
	}
	gw0, err1 := CPUTime(g.proc.pid())
	sb0, err2 := CPUTime(h.sandbox.pid())
	lg0, err3 := CPUTime(os.Getpid())
	if err := errors.Join(err1, err2, err3); err != nil {
		return Row{}, err
	}
	res, err := Drive(ctx, Load{Concurrency: c, Duration: h.cfg.Duration, Do: s.do})
	if err != nil {
		return Row{}, fmt.Errorf("bench: %s c=%d: %w", s.name, c, err)
	}
	gw1, err1 := CPUTime(g.proc.pid())
	sb1, err2 := CPUTime(h.sandbox.pid())
	lg1, err3 := CPUTime(os.Getpid())
	if err := errors.Join(err1, err2, err3); err != nil {
		return Row{}, err
	}
	row := Row{Name: s.name, Label: s.label, Baseline: s.baseline, Result: res}
	if ok := res.Calls - res.Errors; ok > 0 {
		row.GatewayCPU = (gw1 - gw0) / time.Duration(ok)
		row.SandboxCPU = (sb1 - sb0) / time.Duration(ok)
		row.LoadCPU = (lg1 - lg0) / time.Duration(ok)
		if s.upstream != "" {
			if after, err := h.admin.Counters(ctx); err == nil {
				row.Upstream = float64(after[s.upstream]-before[s.upstream]) / float64(ok)
			}
		}
	}
	if res.Errors > 0 {
		h.note("%s c=%d: %d of %d calls failed; first: %v", s.name, c, res.Errors, res.Calls, res.FirstErr)
	}
	h.progress("%-26s c=%-4d %8.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  server CPU %6.1f µs/call",
		s.name, c, res.Throughput(), ms(res.P50), ms(res.P99), us(row.GatewayCPU))
	return row, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// profileSeconds is the length of each profiled run.
const profileSeconds = 3

// profiles takes a CPU profile of the server during extra runs of the given
// scenarios (not part of the tables: profiling costs a few percent).
func (h *harness) profiles(ctx context.Context, g *gateway, ss []scenario) {
	secs := profileSeconds
	for _, s := range ss {
		srv := g
		if s.on != nil {
			srv = s.on
		}
		path := filepath.Join(h.cfg.WorkDir, "cpu-"+s.name+".pprof")
		var wg sync.WaitGroup
		var perr error
		wg.Go(func() { perr = h.fetchProfile(ctx, srv, secs, path) })
		time.Sleep(50 * time.Millisecond) // the profile starts first
		res, _ := Drive(ctx, Load{Concurrency: h.cfg.ProfileConcurrency, Duration: time.Duration(secs) * time.Second, Do: s.do})
		wg.Wait()
		if perr != nil {
			h.note("CPU profile of %s skipped: %v (the server serves pprof only with KWAISHOP_PPROF_ADDR)", s.name, perr)
			return
		}
		pr := Profile{Name: fmt.Sprintf("%s at c=%d", s.label, h.cfg.ProfileConcurrency), Seconds: secs, Calls: res.Calls - res.Errors}
		if res.Errors > 0 {
			h.note("profiled %s run: %d of %d calls failed; first: %v", s.name, res.Errors, res.Calls, res.FirstErr)
		}
		var err error
		if pr.Costs, pr.Top, err = h.analyse(ctx, srv.bin, path); err != nil {
			h.note("pprof %s: %v", s.name, err)
			continue
		}
		h.report.Profiles = append(h.report.Profiles, pr)
	}
}

func (h *harness) fetchProfile(ctx context.Context, g *gateway, secs int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", g.pprofAddr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("http %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// analyse runs `go tool pprof` on the profile: the per-component breakdown
// (from -raw) and the flat top 15 functions.
func (h *harness) analyse(ctx context.Context, bin, path string) ([]Cost, string, error) {
	if h.cfg.GoTool == "" {
		return nil, "", errors.New("no go tool")
	}
	run := func(args ...string) ([]byte, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return exec.CommandContext(cctx, h.cfg.GoTool, append([]string{"tool", "pprof"}, append(args, bin, path)...)...).Output()
	}
	raw, err := run("-raw")
	if err != nil {
		return nil, "", err
	}
	costs, err := Breakdown(strings.NewReader(string(raw)))
	if err != nil {
		return nil, "", err
	}
	top, err := run("-top", "-nodecount=15")
	if err != nil {
		return nil, "", err
	}
	return costs, trimPprof(string(top)), nil
}

// trimPprof drops pprof's File/Build ID/Type/Time header lines.
func trimPprof(s string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		switch {
		case strings.HasPrefix(line, "File:"), strings.HasPrefix(line, "Build ID:"), strings.HasPrefix(line, "Type:"),
			strings.HasPrefix(line, "Time:"), strings.HasPrefix(line, "Showing top"), strings.TrimSpace(line) == "":
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// intake pushes encrypted messages with unique eventIds at the intake and
// measures the acknowledged rate and ack latency. It returns the scenario
// (nil when the build has no intake).
func (h *harness) intake(ctx context.Context, g *gateway, openID string) (*scenario, error) {
	users, err := h.admin.TestUsers(ctx)
	if err != nil || len(users) == 0 {
		return nil, fmt.Errorf("bench: sandbox test users: %v", err)
	}
	seller := users[0].SellerID
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	run := hex.EncodeToString(nonce)
	var seq atomic.Int64
	body := func() (string, error) {
		n := seq.Add(1)
		now := time.Now().UnixMilli()
		oid := 2600000000000000 + n
		info, _ := json.Marshal(map[string]any{"oid": oid, "sellerId": seller, "status": 30, "updateTime": now})
		plain, _ := json.Marshal(map[string]any{
			"eventId": fmt.Sprintf("bench_%s_%d", run, n), "bizId": oid, "userId": seller, "openId": openID,
			"appKey": h.creds.AppKey, "event": "kwaishop_order_paySuccess", "info": string(info), "createTime": now, "test": false,
		})
		return EncryptPush(h.creds.MessageKey, plain)
	}
	first, err := body()
	if err != nil {
		return nil, err
	}
	if err := g.push(ctx, first); err != nil {
		var pe *pushError
		if errors.As(err, &pe) && (pe.status == http.StatusNotFound || pe.status == http.StatusMethodNotAllowed) {
			h.report.Intake.Skipped = "POST /callbacks/messages does not exist in this build"
			h.note("intake skipped: %s", h.report.Intake.Skipped)
			return nil, nil
		}
		return nil, fmt.Errorf("bench: first push: %w", err)
	}
	s := scenario{name: "intake", label: "POST /callbacks/messages (durable ack)", do: func(ctx context.Context, _ int) error {
		b, err := body()
		if err != nil {
			return err
		}
		return g.push(ctx, b)
	}}
	r, err := h.measure(ctx, g, s, h.cfg.IntakeConcurrency)
	if err != nil {
		return nil, err
	}
	h.report.Intake.Row = r
	return &s, nil
}

// memory measures the server over many stored authorizations: lookup
// latency on a server with one stored shop, then the same after writing
// Authorizations records into the same store, the start-up over them and the
// memory once it has settled.
func (h *harness) memory(ctx context.Context, dataDir, openID string) error {
	m := &h.report.Memory
	m.Authorizations = h.cfg.Authorizations
	lookups := func(g *gateway) ([]Row, error) {
		var rows []Row
		ss := []scenario{
			{name: ScenarioGetAuthz, label: "GetAuthorization (the real shop)", do: g.getAuthorization(func(int) string { return openID })},
			{name: ScenarioCallKnown, label: "gRPC Call, known shop (token cache)", do: g.grpcCall(openID, "open.shop.info.get", structpb.NewStructValue(&structpb.Struct{}))},
		}
		for _, s := range ss {
			r, err := h.measureLookup(ctx, g, s)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
		return rows, nil
	}

	h.progress("restarting the server (one stored shop) for the lookup baseline")
	g, err := h.startGateway(ctx, gatewayOptions{dataDir: dataDir, logLevel: "warn", logName: "server-3.log"})
	if err != nil {
		return err
	}
	defer func() { g.stop() }()
	if m.Before, err = lookups(g); err != nil {
		return err
	}
	g.stop()

	h.progress("writing %d authorizations into the token store", m.Authorizations)
	w, err := writeOffline(ctx, dataDir, h.creds.TokenKeys, h.creds.AppKey, m.Authorizations)
	if err != nil {
		return err
	}
	m.WriteTime, m.ListTime, m.ListCPU = w.write, w.list, w.listCPU
	if w.listed < m.Authorizations {
		h.note("the store lists %d authorizations, want at least %d", w.listed, m.Authorizations)
	}

	h.progress("restarting the server over %d stored authorizations", m.Authorizations)
	if g, err = h.startGateway(ctx, gatewayOptions{dataDir: dataDir, logLevel: "warn", logName: "server-4.log"}); err != nil {
		return err
	}
	m.ReadyWithStored = g.readyIn
	t0 := time.Now()
	settle(ctx, g.proc.pid(), 60*time.Second)
	m.SettleTime = time.Since(t0)
	if m.RSSStored, err = RSS(g.proc.pid()); err != nil {
		return err
	}
	if m.After, err = lookups(g); err != nil {
		return err
	}
	rnd := func(w int) string { return benchOpenID((w*7919 + int(time.Now().UnixNano()/1000)) % m.Authorizations) }
	r, err := h.measureLookup(ctx, g, scenario{name: ScenarioGetAuthzAny, label: "GetAuthorization (random stored shop)", do: g.getAuthorization(rnd)})
	if err != nil {
		return err
	}
	m.After = append(m.After, r)
	m.RSSAfterLookups, err = RSS(g.proc.pid())
	return err
}

func (h *harness) measureLookup(ctx context.Context, g *gateway, s scenario) (Row, error) {
	saved := h.cfg.Duration
	h.cfg.Duration = max(h.cfg.LookupDuration, 100*time.Millisecond)
	defer func() { h.cfg.Duration = saved }()
	return h.measure(ctx, g, s, 1)
}

func benchOpenID(i int) string { return "bench" + strconv.Itoa(1000000+i) }

// settle waits until process pid uses less than 5 % of a core over half a
// second (the server has applied what it was sent), at most limit.
func settle(ctx context.Context, pid int, limit time.Duration) {
	end := time.Now().Add(limit)
	prev, _ := CPUTime(pid)
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		cur, err := CPUTime(pid)
		if err != nil {
			return
		}
		if cur-prev <= 25*time.Millisecond {
			return
		}
		prev = cur
	}
}

var benchLine = regexp.MustCompile(`^BenchmarkRefreshStorm\S*\s+(\d+)\s+(\d+(?:\.\d+)?) ns/op`)

// refreshStorm runs the in-process refresh-storm benchmark of internal/token.
func (h *harness) refreshStorm(ctx context.Context) {
	h.progress("running the in-process refresh-storm benchmark")
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, h.cfg.GoTool, "test", "-run", "^$", "-bench", "^BenchmarkRefreshStorm$", "-benchtime", "1x", "./internal/token/")
	cmd.Dir = h.cfg.RepoDir
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		if m := benchLine.FindStringSubmatch(line); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			h.report.RefreshStorm = fmt.Sprintf("%.0f ms", ns/1e6)
			h.report.RefreshStormN = m[1]
			return
		}
	}
	h.report.RefreshStormErr = fmt.Sprintf("%v: %s", err, lastLines(string(out), 5))
	h.note("refresh-storm benchmark gave no result (%s)", h.report.RefreshStormErr)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
