package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// hostileServer is one gateway process under attack: its addresses, its data
// directory and everything it wrote to stdout and stderr.
type hostileServer struct {
	cmd       *exec.Cmd
	http      string
	grpc      string
	dataDir   string
	out       *outputSink
	exited    chan struct{}
	exitState string
}

// alive reports whether the process is still running.
func (s *hostileServer) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// startHostileServer runs the server binary on loopback ports with its own
// data directory and waits for its ready line. Unlike startProc it keeps
// stdout too and never stops draining the pipes, however long a log line
// gets (a stalled pipe would block the server, not the attacker).
func startHostileServer(t *testing.T, bin, dataDir string, env []string) *hostileServer {
	t.Helper()
	s := &hostileServer{dataDir: dataDir, out: newOutputSink(), exited: make(chan struct{})}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Env = append(s.cmd.Env, "KWAISHOP_REPLICA_ID=hostile", "KWAISHOP_GRPC_ADDR=127.0.0.1:0",
		"KWAISHOP_HTTP_ADDR=127.0.0.1:0", "KWAISHOP_DATA_DIR="+dataDir)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out // one writer: exec serialises the writes
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := s.cmd.Wait()
		s.exitState = fmt.Sprint(err)
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
	select {
	case r := <-s.out.ready:
		s.http, s.grpc = r[0], r[1]
	case <-s.exited:
		t.Fatalf("server exited before ready (%s):\n%s", s.exitState, s.out.tailText())
	case <-time.After(60 * time.Second):
		t.Fatalf("server not ready after 60s:\n%s", s.out.tailText())
	}
	return s
}

// outputSink takes the process's stdout and stderr. It looks for panics and
// runtime fatal errors in the whole stream and keeps only a bounded tail of
// lines, so a flood of log lines cannot exhaust the test's memory.
type outputSink struct {
	mu       sync.Mutex
	ready    chan [2]string
	line     []byte // the current line, at most maxLine bytes
	tail     []string
	overlap  []byte // the previous write's last bytes, for matches across writes
	bytes    int64
	lines    int64
	alarms   []string // excerpts around each panic or fatal error (first few)
	alarmCnt int
}

const (
	sinkMaxLine  = 4 << 10
	sinkTail     = 60
	sinkMaxAlarm = 5
)

// sinkAlarms are what a crashed or panicking Go server prints, matched
// without regard to case ("panic: …", a recovered panic logged as
// "panic", "fatal error: concurrent map writes").
var sinkAlarms = []string{"panic", "fatal error"}

func newOutputSink() *outputSink { return &outputSink{ready: make(chan [2]string, 1)} }

func (o *outputSink) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bytes += int64(len(p))
	o.scanAlarms(p)
	for _, b := range p {
		if b != '\n' {
			if len(o.line) < sinkMaxLine {
				o.line = append(o.line, b)
			}
			continue
		}
		o.endLine()
	}
	return len(p), nil
}

func (o *outputSink) scanAlarms(p []byte) {
	window := bytes.ToLower(append(slices.Clone(o.overlap), p...))
	for _, a := range sinkAlarms {
		for off := 0; ; {
			i := bytes.Index(window[off:], []byte(a))
			if i < 0 {
				break
			}
			i += off
			off = i + len(a)
			if i+len(a) <= len(o.overlap) {
				continue // matched in the previous write already
			}
			o.alarmCnt++
			if len(o.alarms) < sinkMaxAlarm {
				lo, hi := max(0, i-200), min(len(window), i+300)
				o.alarms = append(o.alarms, strconv.Quote(string(window[lo:hi])))
			}
		}
	}
	keep := 16
	if len(window) < keep {
		keep = len(window)
	}
	o.overlap = slices.Clone(window[len(window)-keep:])
}

func (o *outputSink) endLine() {
	line := string(o.line)
	o.line = o.line[:0]
	o.lines++
	if len(o.tail) == sinkTail {
		o.tail = o.tail[1:]
	}
	o.tail = append(o.tail, line)
	var rec struct {
		Msg  string `json:"msg"`
		HTTP string `json:"http"`
		GRPC string `json:"grpc"`
	}
	if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "kwaishop-gateway ready" {
		select {
		case o.ready <- [2]string{rec.HTTP, rec.GRPC}:
		default:
		}
	}
}

// alarmReport returns how many panic/fatal matches were seen, with excerpts.
func (o *outputSink) alarmReport() (int, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.alarmCnt, slices.Clone(o.alarms)
}

func (o *outputSink) tailText() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for _, l := range o.tail {
		if len(l) > 600 {
			l = l[:600] + "…"
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func (o *outputSink) size() (bytes, lines int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes, o.lines
}

// rssBytes reads the resident set size of a process from /proc.
func rssBytes(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", l)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// dirBytes is the total size of the regular files under dir. Files that
// vanish during the walk (NATS compacts and removes blocks) are skipped.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// randomToken returns n random bytes, base64url without padding. It never
// spells one of sinkAlarms, should the server echo it in a log line.
func randomToken(n int) string {
	b := make([]byte, n)
	for {
		_, _ = rand.Read(b) // never fails (crypto/rand aborts the program instead)
		s := base64.RawURLEncoding.EncodeToString(b)
		if !slices.ContainsFunc(sinkAlarms, func(a string) bool { return strings.Contains(strings.ToLower(s), a) }) {
			return s
		}
	}
}

// tally counts every answer of the run: HTTP statuses, gRPC codes and
// transport errors, with the first few offending requests kept verbatim.
type tally struct {
	mu         sync.Mutex
	http       map[int]int
	grpc       map[codes.Code]int
	transport  map[string]int // phase → transport errors
	serverErrs []string       // HTTP ≥ 500
	nServer    int
	grpcBad    []string // gRPC Internal / Unknown
	nGRPCBad   int
	badByPhase map[string]int            // phase → HTTP ≥ 500 and gRPC Internal/Unknown answers
	byPhase    map[string]map[string]int // phase → answer ("400", "InvalidArgument", "transport") → count
	transErrs  []string
}

const tallySamples = 8

func newTally() *tally {
	return &tally{http: map[int]int{}, grpc: map[codes.Code]int{}, transport: map[string]int{}, badByPhase: map[string]int{}, byPhase: map[string]map[string]int{}}
}

// excerpt shortens s to n bytes on one line, for failure reports.
func excerpt(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// transportError describes err without the request URL a *url.Error
// carries (an oversized query would flood the report).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// httpResult records one HTTP answer (err: no answer at all).
func (c *tally) httpResult(phase, what string, code int, body []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.count(phase, "transport")
		c.transport[phase]++
		if len(c.transErrs) < tallySamples {
			c.transErrs = append(c.transErrs, fmt.Sprintf("[%s] %s: %s", phase, excerpt(what, 160), excerpt(transportError(err), 240)))
		}
		return
	}
	c.count(phase, strconv.Itoa(code))
	c.http[code]++
	if code >= 500 {
		c.nServer++
		c.badByPhase[phase]++
		if len(c.serverErrs) < tallySamples {
			c.serverErrs = append(c.serverErrs, fmt.Sprintf("[%s] %s → %d %s", phase, excerpt(what, 160), code, excerpt(string(body), 240)))
		}
	}
}

// grpcResult records one gRPC answer.
func (c *tally) grpcResult(phase, what string, err error) {
	st := status.Convert(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count(phase, st.Code().String())
	c.grpc[st.Code()]++
	if st.Code() == codes.Internal || st.Code() == codes.Unknown {
		c.nGRPCBad++
		c.badByPhase[phase]++
		if len(c.grpcBad) < tallySamples {
			c.grpcBad = append(c.grpcBad, fmt.Sprintf("[%s] %s → %s: %s", phase, excerpt(what, 160), st.Code(), excerpt(st.Message(), 240)))
		}
	}
}

func (c *tally) count(phase, answer string) {
	if c.byPhase[phase] == nil {
		c.byPhase[phase] = map[string]int{}
	}
	c.byPhase[phase][answer]++
}

// answers lists, per phase, how it was answered: the evidence that the
// requests reached what they aimed at.
func (c *tally) answers() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range slices.Sorted(maps.Keys(c.byPhase)) {
		var as []string
		for _, a := range slices.Sorted(maps.Keys(c.byPhase[p])) {
			as = append(as, fmt.Sprintf("%s×%d", a, c.byPhase[p][a]))
		}
		out = append(out, p+": "+strings.Join(as, " "))
	}
	return strings.Join(out, "\n  ")
}

// badPhases lists the phases (and malformed kinds) that drew server
// errors, with counts. The caller holds c.mu.
func (c *tally) badPhases() string {
	var out []string
	for k, v := range c.badByPhase {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(out)
	return strings.Join(out, "\n  ")
}

func (c *tally) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hs []string
	for _, k := range slices.Sorted(maps.Keys(c.http)) {
		hs = append(hs, fmt.Sprintf("%d×%d", k, c.http[k]))
	}
	var gs []string
	for k, v := range c.grpc {
		gs = append(gs, fmt.Sprintf("%s×%d", k, v))
	}
	slices.Sort(gs)
	var ts []string
	for k, v := range c.transport {
		ts = append(ts, fmt.Sprintf("%s×%d", k, v))
	}
	slices.Sort(ts)
	return fmt.Sprintf("HTTP [%s]; gRPC [%s]; transport errors [%s]", strings.Join(hs, " "), strings.Join(gs, " "), strings.Join(ts, " "))
}

// attacker sends the run's HTTP and gRPC requests and records every answer.
type attacker struct {
	base   string // http://host:port
	client *http.Client
	tally  *tally
	// lingered counts raw answers delimited by the connection's end where
	// the server kept the connection open after the body (see raw).
	lingered atomic.Int64
}

// do sends req and records the answer under phase; it returns the status
// and up to 64 KiB of the body.
func (a *attacker) do(phase, what string, req *http.Request) (int, []byte) {
	resp, err := a.client.Do(req)
	if err != nil {
		a.tally.httpResult(phase, what, 0, nil, err)
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20)) // let the connection be reused
	a.tally.httpResult(phase, what, resp.StatusCode, body, nil)
	return resp.StatusCode, body
}

// rest sends a request to path with an optional bearer key and
// Content-Type; body "" sends none.
func (a *attacker) rest(phase, method, path, key, contentType, body string) (int, []byte) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.tally.httpResult(phase, method+" "+path, 0, nil, err)
		return 0, nil
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Kwaishop-Wait", "true")
	return a.do(phase, method+" "+path+" "+excerpt(body, 80), req)
}

// raw writes a hand-made HTTP/1.1 request on a fresh connection, for what
// net/http refuses to send (bad Host, control bytes in headers, broken
// framing) or sends slowly (an 896 KB request line through a 4 KB buffer),
// and records the answer. A body that ends with the connection is read for
// at most 250ms: the server should close (or half-close) at once, and a
// server that lingers is counted in a.lingered rather than waited for
// (net/http waits 500ms before it closes a connection it could not
// half-close). An impatient caller, as a flooding script, reads such a
// body only to report a server error.
func (a *attacker) raw(phase, what string, request []byte, impatient bool) int {
	addr := strings.TrimPrefix(a.base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		a.tally.httpResult(phase, what, 0, nil, err)
		return 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(request); err != nil {
		a.tally.httpResult(phase, what, 0, nil, err)
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		a.tally.httpResult(phase, what, 0, nil, err)
		return 0
	}
	defer resp.Body.Close()
	var body []byte
	if resp.ContentLength >= 0 || !impatient || resp.StatusCode >= 500 {
		if resp.ContentLength < 0 {
			_ = conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		}
		body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			a.lingered.Add(1)
		}
	}
	a.tally.httpResult(phase, what, resp.StatusCode, body, nil)
	return resp.StatusCode
}

// withKey adds a bearer key to a gRPC call's metadata.
func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}
