package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child process (the sandbox or the server). Its stdout and
// stderr go to a log file in the work dir.
type process struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	waitErr error
	logPath string
}

// startProcess runs bin with args and the environment env (on top of a copy
// of ours without KWAISHOP_* and OTEL_* variables, so the caller's shell
// cannot change what is measured).
func startProcess(name, bin string, env []string, logPath string, args ...string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bench: %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr() // the child dies with us
	p := &process{name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	return p, nil
}

func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KWAISHOP_") || strings.HasPrefix(kv, "OTEL_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports an error if the process has already stopped.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("bench: %s exited (%v); see %s", p.name, p.waitErr, p.logPath)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits up to grace, then kills.
func (p *process) stop(grace time.Duration) {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitHTTP polls url until it answers 200, the process exits or ctx ends;
// it returns when the 200 came.
func waitHTTP(ctx context.Context, p *process, hc *http.Client, url string, every time.Duration) (time.Time, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return time.Time{}, err
		}
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		if err := p.exited(); err != nil {
			return time.Time{}, err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("bench: %s not ready: %w (see %s)", p.name, ctx.Err(), p.logPath)
		case <-time.After(every):
		}
	}
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func freeAddrs(n int) ([]string, error) {
	// Hold all listeners until every port is chosen, so they differ.
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	out := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// credentials are the fixed app credentials given to both the sandbox and
// the server, so the harness knows them without parsing any output.
type credentials struct {
	AppKey, AppSecret, SignSecret string
	MessageKey                    string // base64, 16 bytes (AES-128)
	TokenKeys                     string // id:base64(32 bytes)
	APIKey                        string // caller key secret (used with Config.APIKey)
}

func newCredentials() (credentials, error) {
	b := make([]byte, 18+16+16+16+32+16)
	if _, err := rand.Read(b); err != nil {
		return credentials{}, err
	}
	next := func(n int) []byte { out := b[:n]; b = b[n:]; return out }
	digits := next(18)
	for i := range digits {
		digits[i] = '0' + digits[i]%10
	}
	return credentials{
		AppKey:     "ks" + string(digits),
		AppSecret:  hex.EncodeToString(next(16)),
		SignSecret: hex.EncodeToString(next(16)),
		MessageKey: base64.StdEncoding.EncodeToString(next(16)),
		TokenKeys:  "bench:" + base64.StdEncoding.EncodeToString(next(32)),
		APIKey:     hex.EncodeToString(next(16)),
	}, nil
}
