package app

// Connection and stream limits (docs/security.md): what one client, or a
// flood of them, may hold on the gRPC port, and the connection and header
// caps of the HTTP port.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// gatewayHeaderRoom is how much larger the gRPC header list may be than
// KWAISHOP_MAX_HEADER_BYTES: room for the fields the REST gateway's own
// client adds to the metadata it forwards (pseudo-headers, content-type,
// user-agent, grpc-timeout, and the trace context: traceparent, a
// tracestate of up to 32 members, and baggage of up to 8 KiB).
const gatewayHeaderRoom = 32 << 10

// grpcHeaderListSize is the gRPC server's header list cap. The REST gateway
// checks what it forwards against KWAISHOP_MAX_HEADER_BYTES (see
// gatewayHeaderBudget), so whatever the HTTP server lets through fits.
func grpcHeaderListSize(cfg config.Config) uint32 {
	return uint32(cfg.MaxHeaderBytes + gatewayHeaderRoom)
}

// Keepalive of gRPC connections. The server pings a connection that has
// been silent for grpcPingAfter and closes it if the ping is not answered
// within grpcPingTimeout, so streams of vanished clients end; a client may
// ping at most every grpcMinClientPing (more often is answered with GOAWAY
// ENHANCE_YOUR_CALM), also on a connection without calls.
const (
	grpcPingAfter     = 2 * time.Minute
	grpcPingTimeout   = 20 * time.Second
	grpcMinClientPing = 15 * time.Second
)

func grpcKeepalive(cfg config.Config) keepalive.ServerParameters {
	return keepalive.ServerParameters{
		MaxConnectionIdle: cfg.GRPCMaxConnIdle, // no call for this long: GOAWAY, then close
		Time:              grpcPingAfter,
		Timeout:           grpcPingTimeout,
	}
}

var grpcKeepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: grpcMinClientPing, PermitWithoutStream: true}

// newStreamLimiter caps the streaming calls each API key holds open
// (KWAISHOP_MAX_STREAMS_PER_KEY).
func newStreamLimiter(s auth.Settings, log *slog.Logger) *auth.StreamLimiter {
	return auth.NewStreamLimiter(auth.StreamLimiterConfig{
		Max:    int(s.MaxStreamsPerKey),
		Status: streamLimitStatus,
		Log:    log.With("component", "auth"),
	})
}

// streamLimitRetry is the RetryInfo delay of a refused stream: a slot
// frees when one of the caller's own streams ends.
const streamLimitRetry = time.Second

// streamLimitStatus: ResourceExhausted (HTTP 429) with a RATE_LIMITED
// ErrorInfo naming the key, as the other client-side limits answer.
func streamLimitStatus(_ context.Context, err error) error {
	var e *auth.StreamLimitError
	if !errors.As(err, &e) {
		return err
	}
	md := map[string]string{"limit": "streams_per_key", "limit_value": strconv.Itoa(e.Max)}
	if e.Key != "" {
		md["key"] = e.Key
	}
	st, derr := status.New(codes.ResourceExhausted, e.Error()).WithDetails(
		&errdetails.ErrorInfo{Reason: gatewayv1.ErrorReason_ERROR_REASON_RATE_LIMITED.String(), Domain: service.DomainGateway, Metadata: md},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(streamLimitRetry)},
	)
	if derr != nil {
		return status.Error(codes.ResourceExhausted, e.Error())
	}
	return st.Err()
}

// gatewayHeaderBudget is the REST gateway's check of the metadata it
// forwards to the gRPC server: at most maxBytes, counted as HTTP/2 counts a
// header list (name + value + 32 per field). The HTTP server's own cap
// (MaxHeaderBytes) counts raw bytes, and the gateway renames and adds
// fields, so many small headers can still grow past the gRPC server's cap;
// the gRPC client would then fail the call as Internal (HTTP 500). This
// answers the caller's mistake with InvalidArgument (HTTP 400) instead.
func gatewayHeaderBudget(maxBytes int64) []grpc.DialOption {
	check := func(ctx context.Context) error {
		md, _ := metadata.FromOutgoingContext(ctx)
		var n int64
		for k, vs := range md {
			for _, v := range vs {
				n += int64(len(k) + len(v) + 32)
			}
		}
		if n <= maxBytes {
			return nil
		}
		return service.InvalidArgument(service.FieldViolation{
			Field:       "headers",
			Description: fmt.Sprintf("the request's headers are too large to forward (%d bytes counted as HTTP/2 does, at most %d): send fewer or shorter headers", n, maxBytes),
		})
	}
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			if err := check(ctx); err != nil {
				return err
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return streamer(ctx, desc, cc, method, opts...)
		}),
	}
}

// refusalLogEvery bounds the log lines about refused connections: a flood
// is reported once per interval, with a count.
const refusalLogEvery = 10 * time.Second

// limitConns lets at most limit connections of l be open at once. A
// connection beyond that is closed (reset) as soon as it is accepted.
//
// Closing at once is safer than queueing (as netutil.LimitListener does,
// by not accepting): a queued connection waits in the kernel's backlog,
// where no handshake deadline runs, so a flood holding every slot would
// leave legitimate clients hanging without an answer and then fill the
// backlog until even the SYNs are dropped; when a slot frees, the oldest
// queued connection, likely the attacker's, takes it. A reset is an
// immediate, clear error that clients' retry and backoff handle, and the
// server keeps no state for the refused connection (a reset leaves no
// TIME_WAIT behind).
func limitConns(l net.Listener, limit int64, name string, log *slog.Logger) net.Listener {
	return &connLimiter{Listener: l, limit: limit, name: name, log: log}
}

type connLimiter struct {
	net.Listener
	limit   int64
	name    string
	log     *slog.Logger
	open    atomic.Int64
	refused atomic.Int64 // since the last log line
	lastLog atomic.Int64 // Unix nanoseconds
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.limit {
			return &limitedConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
		}
		l.open.Add(-1)
		l.refuse(c)
	}
}

func (l *connLimiter) refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with a reset
	}
	_ = c.Close()
	l.refused.Add(1)
	now, last := time.Now().UnixNano(), l.lastLog.Load()
	if now-last >= int64(refusalLogEvery) && l.lastLog.CompareAndSwap(last, now) {
		l.log.Warn("connections refused: too many open", "listener", l.name, "limit", l.limit, "refused", l.refused.Swap(0))
	}
}

// limitedConn frees its slot once, when it is first closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes when the wrapped connection can: net/http does so
// before closing after an error answer (a 431, say), and without it waits
// 500 ms with the connection held.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
