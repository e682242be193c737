package app

// Hostile callers on the gRPC port: connection floods, oversized headers and
// stream hoarding, replayed against a running gateway (docs/security.md).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// closeBound bounds every wait for the server to close a connection: far
// beyond the short limits the tests configure, far below the old defaults
// (a 120 s handshake, no idle close).
const closeBound = 30 * time.Second

// startLimitedGateway runs a sandbox-mode gateway with cfg changed by edit.
func startLimitedGateway(t *testing.T, edit func(*config.Config)) *gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Message.ReconcileInterval = 0
	edit(&cfg)
	return startGatewayWith(t, cfg, Options{})
}

// dialRaw opens a TCP connection to addr and writes send (nothing, the
// HTTP/2 client preface, or the preface and a SETTINGS frame). It returns
// nil if the server reset the connection before the dial completed.
func dialRaw(t *testing.T, addr string, send []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		if closedByPeer(err) {
			return nil
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if len(send) > 0 {
		if _, err := c.Write(send); err != nil && !closedByPeer(err) {
			t.Fatal(err) // a reset shows again when the caller reads
		}
	}
	return c
}

// mustDialRaw is dialRaw for a connection the server must accept.
func mustDialRaw(t *testing.T, addr string, send []byte) net.Conn {
	t.Helper()
	c := dialRaw(t, addr, send)
	if c == nil {
		t.Fatal("the server reset the connection at once")
	}
	return c
}

// prefaceAndSettings is what an HTTP/2 client sends first.
func prefaceAndSettings(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(http2.ClientPreface)
	if err := http2.NewFramer(&b, nil).WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// closedByPeer reports whether err (from a read, write or dial) means the
// server closed the connection: EOF or a reset.
func closedByPeer(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// drainConn reads c until the server closes it (true) or closeBound passes
// (false), and returns how many bytes the server sent.
func drainConn(t *testing.T, c net.Conn) (n int64, closed bool) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(closeBound))
	n, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, false
	}
	if !closedByPeer(err) {
		t.Fatalf("read: %v", err)
	}
	return n, true
}

// settleGoroutines polls until the goroutine count is at most limit.
func settleGoroutines(t *testing.T, limit int) {
	t.Helper()
	deadline := time.Now().Add(closeBound)
	for n := runtime.NumGoroutine(); n > limit; n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d: the server keeps the refused connections", n, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// goroutineSlack is the tolerance of goroutine counts: the gateway's own
// background work (store, timers) comes and goes.
const goroutineSlack = 25

// Finding 4: preface-only and idle connections stayed open for minutes and
// a flood of them was never refused.
func TestHostileGRPC_Connections(t *testing.T) {
	const maxConns = 4
	g := startLimitedGateway(t, func(c *config.Config) {
		c.GRPCMaxConns = maxConns
		c.GRPCHandshakeTimeout = time.Second
		c.GRPCMaxConnIdle = time.Second
	})
	addr := g.info.GRPCAddr

	t.Run("no_handshake_closed_after_timeout", func(t *testing.T) {
		for what, send := range map[string][]byte{"nothing": nil, "preface_only": []byte(http2.ClientPreface)} {
			if _, closed := drainConn(t, mustDialRaw(t, addr, send)); !closed {
				t.Fatalf("%s: the connection is still open after %s", what, closeBound)
			}
		}
	})

	t.Run("idle_connection_closed_with_goaway", func(t *testing.T) {
		c := mustDialRaw(t, addr, prefaceAndSettings(t))
		_ = c.SetReadDeadline(time.Now().Add(closeBound))
		fr := http2.NewFramer(io.Discard, c)
		goaway := false
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("an idle connection is still open after %s", closeBound)
				}
				if !closedByPeer(err) {
					t.Fatalf("read: %v", err)
				}
				break
			}
			if _, ok := f.(*http2.GoAwayFrame); ok {
				goaway = true
			}
		}
		if !goaway {
			t.Fatal("the idle connection was closed without GOAWAY")
		}
	})

	t.Run("beyond_the_cap_closed_at_once", func(t *testing.T) {
		// Fill the cap with real clients, each holding a stream (so the
		// idle close leaves them alone).
		var held []*grpc.ClientConn
		for i := range maxConns {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			w, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Recv(); err != nil {
				t.Fatalf("holder %d: %v", i, err)
			}
			held = append(held, conn)
		}
		base := runtime.NumGoroutine()

		// The probe: a flood of preface-only connections, kept open by the
		// client. Each is refused at once: the server never speaks HTTP/2
		// on it.
		var flood []net.Conn
		for range 200 {
			flood = append(flood, dialRaw(t, addr, []byte(http2.ClientPreface)))
		}
		for i, c := range flood {
			if c == nil {
				continue // reset before the dial returned
			}
			n, closed := drainConn(t, c)
			if !closed || n != 0 {
				t.Fatalf("connection %d beyond the cap: closed %v after %d bytes from the server, want closed at once", i, closed, n)
			}
		}
		settleGoroutines(t, base+goroutineSlack)

		// The held clients still work, and one leaving frees a slot.
		if _, err := healthpb.NewHealthClient(held[1]).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("a client within the cap: %v", err)
		}
		_ = held[0].Close()
		deadline := time.Now().Add(closeBound)
		for {
			var err error = syscall.ECONNRESET
			if c := dialRaw(t, addr, prefaceAndSettings(t)); c != nil {
				_ = c.SetReadDeadline(time.Now().Add(closeBound))
				_, err = http2.NewFramer(io.Discard, c).ReadFrame() // the server's SETTINGS: admitted
				_ = c.Close()
			}
			if err == nil {
				break
			}
			if !closedByPeer(err) || time.Now().After(deadline) {
				t.Fatalf("no slot after a client left: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// h2Call sends one gRPC request over a raw HTTP/2 connection with the given
// extra header fields, in frames no larger than the default maximum, and
// reports how the server answered: "status <grpc-status>" when it processed
// the call, "refused" when it reset the stream, sent GOAWAY or closed.
func h2Call(t *testing.T, c net.Conn, path string, fields ...hpack.HeaderField) string {
	t.Helper()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range append([]hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: path},
		{Name: ":authority", Value: c.RemoteAddr().String()}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}, fields...) {
		if err := enc.WriteField(f); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	out.Write(prefaceAndSettings(t))
	fw := http2.NewFramer(&out, nil)
	const maxFrame = 16 << 10
	frag := block.Bytes()
	first := frag[:min(len(frag), maxFrame)]
	frag = frag[len(first):]
	if err := fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndHeaders: len(frag) == 0}); err != nil {
		t.Fatal(err)
	}
	for len(frag) > 0 {
		next := frag[:min(len(frag), maxFrame)]
		frag = frag[len(next):]
		if err := fw.WriteContinuation(1, len(frag) == 0, next); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.WriteData(1, true, []byte{0, 0, 0, 0, 0}); err != nil { // one empty message
		t.Fatal(err)
	}
	// Write while reading: a server that refuses may stop reading.
	go func() { _, _ = c.Write(out.Bytes()) }()

	_ = c.SetReadDeadline(time.Now().Add(closeBound))
	fr := http2.NewFramer(io.Discard, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server neither answered nor refused within %s", closeBound)
			}
			return "refused"
		}
		switch f := f.(type) {
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			return "refused"
		case *http2.MetaHeadersFrame:
			if s := f.PseudoValue("status"); s != "" && s != "200" {
				return "status http " + s
			}
			for _, hf := range f.RegularFields() {
				if hf.Name == "grpc-status" {
					return "status " + hf.Value
				}
			}
		}
	}
}

// Finding 4: a 15 MB authorization header was read and decoded before the
// 401.
func TestHostileGRPC_HeaderListCap(t *testing.T) {
	g := startLimitedGateway(t, func(c *config.Config) { mustSet(c, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*") })
	huge := "Bearer " + strings.Repeat("x", 2<<20)
	const watch = "/kwaishop.gateway.v1.AuthorizationService/WatchAuthorizationEvents"

	t.Run("raw_2MB_authorization_refused_unread", func(t *testing.T) {
		base := runtime.NumGoroutine()
		for i := range 10 {
			c := mustDialRaw(t, g.info.GRPCAddr, nil) // kept open by the client
			if got := h2Call(t, c, watch, hpack.HeaderField{Name: "authorization", Value: huge}); got != "refused" {
				t.Fatalf("attempt %d: the server decoded the header and answered %s", i, got)
			}
		}
		settleGoroutines(t, base+goroutineSlack)
		// A normal-sized refusal still gets the usual answer.
		if got := h2Call(t, mustDialRaw(t, g.info.GRPCAddr, nil), watch, hpack.HeaderField{Name: "authorization", Value: "Bearer " + keyWrong}); got != "status 16" {
			t.Fatalf("a wrong key: %s, want status 16 (Unauthenticated)", got)
		}
	})

	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	t.Run("grpc_client_refused", func(t *testing.T) {
		for name, ctx := range map[string]context.Context{
			"huge_authorization": metadata.AppendToOutgoingContext(context.Background(), "authorization", huge),
			"huge_other_header":  metadata.AppendToOutgoingContext(bearer(context.Background(), keyAdmin), "x-pad", strings.Repeat("x", 2<<20)),
		} {
			_, err := authz.ListAuthorizations(ctx, &gatewayv1.ListAuthorizationsRequest{})
			if c := status.Code(err); c == codes.OK || c == codes.Unauthenticated {
				t.Errorf("%s: %v, want refused before authentication", name, err)
			}
		}
		if _, err := authz.ListAuthorizations(bearer(context.Background(), keyAdmin), &gatewayv1.ListAuthorizationsRequest{}); err != nil {
			t.Fatalf("a normal call after the refusals: %v", err)
		}
	})

	t.Run("rest", func(t *testing.T) {
		auth := "Bearer " + keyAdmin
		for _, tc := range []struct {
			name     string
			header   http.Header
			want     int
			wantBody string
		}{
			{"pad_100KB_over_http_cap", http.Header{"Authorization": {auth}, "Grpc-Metadata-Pad": {strings.Repeat("x", 100<<10)}}, http.StatusRequestHeaderFieldsTooLarge, ""},
			{"pad_48KB_under_http_cap_reaches_grpc", http.Header{"Authorization": {auth}, "Grpc-Metadata-Pad": {strings.Repeat("x", 48<<10)}}, http.StatusOK, "authorizations"},
			// 7 000 tiny forwarded headers pass go1.26's HTTP byte cap but
			// count about 48 bytes each in the gRPC header list: a client
			// mistake (400 with a field violation), not a 500. From go1.27
			// net/http itself refuses more than 500 header values (431),
			// so the gateway's budget is not reached; either answer is a 4xx.
			{"many_small_forwarded_headers", http.Header{"Authorization": {auth}, "Via": slices.Repeat([]string{"a"}, 7000)}, http.StatusBadRequest, "too large to forward"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, "http://"+g.info.HTTPAddr+"/v1/authorizations", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header = tc.header
				resp, err := g.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if tc.name == "many_small_forwarded_headers" && resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge {
					return // go1.27+: refused by net/http's header value count
				}
				if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.wantBody) {
					t.Fatalf("status %d, want %d with %q: %.300s", resp.StatusCode, tc.want, tc.wantBody, body)
				}
			})
		}
	})
}

// Finding 4: one key opened 6 000 Watch/Subscribe streams.
func TestHostileGRPC_StreamsPerKey(t *testing.T) {
	const (
		keyA = "stream-key-a-0123456789"
		keyB = "stream-key-b-0123456789"
	)
	g := startLimitedGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "a:"+keyA+":rpc=messages:rpc=authorization,b:"+keyB+":rpc=messages:rpc=authorization")
		c.Auth.MaxStreamsPerKey = 5
	})
	msgs := gatewayv1.NewMessageServiceClient(g.conn)
	authz := gatewayv1.NewAuthorizationServiceClient(g.conn)
	const group = "limits"

	// subscribe opens a Subscribe stream; nil error = the server confirmed
	// it (so it holds a slot). cancel ends it.
	subscribe := func(key string) (cancel context.CancelFunc, err error) {
		ctx, cancel := context.WithCancel(bearer(context.Background(), key))
		t.Cleanup(cancel)
		s, err := msgs.Subscribe(ctx)
		if err == nil {
			err = s.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Open{Open: &gatewayv1.SubscribeOpen{Group: group}}})
			if errors.Is(err, io.EOF) { // the server already ended the stream: its status comes with Recv
				_, err = s.Recv()
			}
		}
		if err == nil {
			var r *gatewayv1.SubscribeResponse
			if r, err = s.Recv(); err == nil && r.GetSubscribed() == nil {
				t.Fatalf("first answer %v, want subscribed", r)
			}
		}
		return cancel, err
	}
	var cancels []context.CancelFunc
	for i := range 5 {
		cancel, err := subscribe(keyA)
		if err != nil {
			t.Fatalf("key a, stream %d: %v", i+1, err)
		}
		cancels = append(cancels, cancel)
	}

	t.Run("sixth_watch_of_the_key_refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(bearer(context.Background(), keyA), closeBound)
		defer cancel()
		w, err := authz.WatchAuthorizationEvents(ctx, &gatewayv1.WatchAuthorizationEventsRequest{})
		if err == nil {
			_, err = w.Recv()
		}
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), `"a"`) {
			t.Fatalf("6th stream of key a: %v, want ResourceExhausted naming the key", err)
		}
		if info := errorInfo(st); info == nil || info.GetReason() != gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED.String() || info.GetMetadata()["key"] != "a" {
			t.Fatalf("ErrorInfo %v, want RATE_LIMITED with key a", info)
		}
		if _, err := subscribe(keyA); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("6th stream of key a (Subscribe): %v, want ResourceExhausted", err)
		}
	})

	t.Run("sixth_watch_over_rest_refused", func(t *testing.T) {
		code, body, _ := restWith(t, g, http.MethodGet, "/v1/authorizations:watch", "", map[string]string{"Authorization": "Bearer " + keyA})
		if code != http.StatusTooManyRequests {
			t.Fatalf("REST watch of key a: %d %v, want 429", code, body)
		}
	})

	t.Run("another_key_unaffected", func(t *testing.T) {
		if _, err := subscribe(keyB); err != nil {
			t.Fatalf("key b: %v", err)
		}
	})

	t.Run("closing_one_frees_a_slot", func(t *testing.T) {
		cancels[0]()
		deadline := time.Now().Add(closeBound)
		for {
			_, err := subscribe(keyA)
			if err == nil {
				break
			}
			if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
				t.Fatalf("key a after closing a stream: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("unary_calls_not_counted", func(t *testing.T) {
		if _, err := authz.ListAuthorizations(bearer(context.Background(), keyA), &gatewayv1.ListAuthorizationsRequest{}); err != nil {
			t.Fatalf("a unary call of key a at its stream cap: %v", err)
		}
	})
}

// The HTTP listener has the same kind of cap: a connection beyond it is
// closed before any request on it is read.
func TestHostileGRPC_HTTPListenerCap(t *testing.T) {
	const maxConns = 3
	g := startLimitedGateway(t, func(c *config.Config) { c.HTTPMaxConns = maxConns })
	const get = "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
	// A burst of keep-alive connections, each making one request: those
	// beyond the cap are refused before an answer, so no more than maxConns
	// of them are ever open (the embedded sandbox may hold, and free, a
	// slot of its own).
	var held []net.Conn
	for range maxConns + 20 {
		c := dialRaw(t, g.info.HTTPAddr, []byte(get))
		if c == nil {
			continue // reset before the dial returned
		}
		_ = c.SetReadDeadline(time.Now().Add(closeBound))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			if !closedByPeer(err) {
				t.Fatal(err)
			}
			continue // refused before an answer
		}
		resp.Body.Close()
		held = append(held, c)
		if len(held) > maxConns {
			t.Fatalf("%d connections open at once, want at most %d", len(held), maxConns)
		}
	}
	for _, c := range held {
		_ = c.Close()
	}
	deadline := time.Now().Add(closeBound)
	for {
		resp, err := g.http.Get("http://" + g.info.HTTPAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after the held connections closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
