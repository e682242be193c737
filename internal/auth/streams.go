package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// StreamLimitError refuses a streaming call: the caller already holds the
// most streams it may.
type StreamLimitError struct {
	Key  string // the caller's API key name; "" when the call had none
	Peer string // the client's IP address when Key is ""
	Max  int
}

func (e *StreamLimitError) Error() string {
	who := fmt.Sprintf("API key %q", e.Key)
	if e.Key == "" {
		who = "client " + e.Peer
	}
	return fmt.Sprintf("auth: %s already holds %d open streams, the most allowed (KWAISHOP_MAX_STREAMS_PER_KEY): close one first", who, e.Max)
}

// StreamLimiterConfig configures a StreamLimiter.
type StreamLimiterConfig struct {
	// Max is the number of streams one caller may hold open at once
	// (0 or less: no limit).
	Max int
	// Status turns a *StreamLimitError into the gRPC status returned
	// (default: a plain ResourceExhausted status).
	Status func(ctx context.Context, err error) error
	Log    *slog.Logger // refusals at Info; default slog.Default()
}

// StreamLimiter caps the streaming calls (WatchAuthorizationEvents,
// Subscribe, health Watch, reflection) each caller holds open at once. Such
// a call lives as long as the client wants, and each one holds goroutines
// and a store subscription, so without a cap one key could open thousands.
//
// Callers are counted by API key, over all their connections. A call
// without a key (authentication off, or an open RPC such as health Watch)
// is counted by the client's IP address; the REST gateway's calls reach the
// gRPC server over one in-process connection and so share one count. Unary
// calls are not counted: KWAISHOP_MAX_STREAMS bounds them per connection.
//
// It is safe for concurrent use.
type StreamLimiter struct {
	max    int
	status func(context.Context, error) error
	log    *slog.Logger

	mu   sync.Mutex
	open map[string]int // by caller; absent = 0
}

// NewStreamLimiter returns a StreamLimiter for cfg.
func NewStreamLimiter(cfg StreamLimiterConfig) *StreamLimiter {
	l := &StreamLimiter{max: cfg.Max, status: cfg.Status, log: cfg.Log, open: map[string]int{}}
	if l.status == nil {
		l.status = func(_ context.Context, err error) error {
			if e := (*StreamLimitError)(nil); errors.As(err, &e) {
				return status.Error(codes.ResourceExhausted, e.Error())
			}
			return err
		}
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	return l
}

// StreamServerInterceptor admits a stream while its caller holds fewer
// than Max, and frees the slot when the handler returns. Chain it after the
// Authenticator's stream interceptor, which puts the caller's key in the
// stream's context.
func (l *StreamLimiter) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if l.max <= 0 {
			return h(srv, ss)
		}
		ctx := ss.Context()
		caller, refusal := callerOf(ctx)
		if !l.acquire(caller) {
			refusal.Max = l.max
			attrs := []any{"method", info.FullMethod, "limit", l.max}
			if refusal.Key != "" {
				attrs = append(attrs, "key", refusal.Key)
			} else {
				attrs = append(attrs, "peer", refusal.Peer)
			}
			l.log.InfoContext(ctx, "stream refused: too many open streams", attrs...)
			return l.status(ctx, refusal)
		}
		defer l.release(caller)
		return h(srv, ss)
	}
}

// callerOf names the caller a stream is counted against.
func callerOf(ctx context.Context) (string, *StreamLimitError) {
	if k := KeyFrom(ctx); k != nil {
		return "key:" + k.Name, &StreamLimitError{Key: k.Name}
	}
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host // every connection from one address counts together
		}
	}
	return "peer:" + addr, &StreamLimitError{Peer: addr}
}

func (l *StreamLimiter) acquire(caller string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[caller] >= l.max {
		return false
	}
	l.open[caller]++
	return true
}

func (l *StreamLimiter) release(caller string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[caller] <= 1 {
		delete(l.open, caller) // the map holds only callers with open streams
		return
	}
	l.open[caller]--
}
