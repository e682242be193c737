package platform

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// Inputs of the protocol's signature vectors (sign/testdata/platform-vectors.json).
const (
	testAppKey = "ks123456789012345678"
	testToken  = "ChFvYXV0aC5hY2Nlc3NUb2tlbi1URVNUMDE"
	testSecret = "0123456789abcdef0123456789abcdef"
)

func TestMain(m *testing.M) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	os.Exit(m.Run())
}

// hit is one request as the fake platform saw it.
type hit struct {
	Method      string
	Path        string
	Query       url.Values
	Form        url.Values // body parameters (POST)
	Params      url.Values // Form for POST, Query otherwise
	ContentType string
	Header      http.Header
	SignOK      bool
}

// upstream is a fake platform gateway that records every request and checks
// its signature with the sign package over the parameters it received.
type upstream struct {
	*httptest.Server
	mu      sync.Mutex
	hits    []hit
	respond func(w http.ResponseWriter, n int, h hit)
}

func newUpstream(tb testing.TB, respond func(w http.ResponseWriter, n int, h hit)) *upstream {
	tb.Helper()
	u := &upstream{respond: respond}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	tb.Cleanup(u.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	h := hit{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone()}
	h.Params = h.Query
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		h.Form, _ = url.ParseQuery(string(b))
		h.Params = h.Form
	}
	h.SignOK = sign.Verify(sign.Method(h.Params.Get(sign.KeySignMethod)), func(k string) (string, bool) {
		vs, ok := h.Params[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}, testSecret, h.Params.Get(sign.KeySign))
	u.mu.Lock()
	n := len(u.hits)
	u.hits = append(u.hits, h)
	u.mu.Unlock()
	u.respond(w, n, h)
}

func (u *upstream) Hits() []hit {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]hit(nil), u.hits...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func okJSON(body string) func(http.ResponseWriter, int, hit) {
	return func(w http.ResponseWriter, _ int, _ hit) { writeJSON(w, 200, body) }
}

// clock starts at a fixed instant and advances 1 ms per reading, so every
// attempt gets a distinct timestamp.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(ms int64) *clock { return &clock{t: time.UnixMilli(ms)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(time.Millisecond)
	return t
}

// countingToken returns tok-1, tok-2, ... so each attempt's token is visible.
type countingToken struct{ n atomic.Int64 }

func (c *countingToken) Token(context.Context) (string, error) {
	return "tok-" + strconv.FormatInt(c.n.Add(1), 10), nil
}

func newRecorder() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	sr := tracetest.NewSpanRecorder()
	return sr, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
}

// newTestClient returns a client for u with fast retries; opts adjust the config.
func newTestClient(tb testing.TB, baseURL string, opts ...func(*Config)) *Client {
	tb.Helper()
	cfg := Config{
		BaseURL:    baseURL,
		AppKey:     testAppKey,
		SignSecret: testSecret,
		Now:        newClock(1700000000000).Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c.sender.backoff = [2]time.Duration{time.Millisecond, 2 * time.Millisecond}
	return c
}
