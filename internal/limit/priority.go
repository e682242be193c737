package limit

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Priority orders calls competing for the same budget: writes such as
// shipping or refund decisions go before bulk reads. It decides how much of
// the daily quotas and of the in-flight slots a call may use (see Config).
type Priority int

// Priorities, lowest first.
const (
	PriorityLow    Priority = iota + 1 // bulk reads: list, cursor and batch APIs
	PriorityNormal                     // single-object reads
	PriorityHigh                       // writes (POST): the platform acts on them
)

func (p Priority) String() string {
	switch p {
	case PriorityLow:
		return "low"
	case PriorityNormal:
		return "normal"
	case PriorityHigh:
		return "high"
	}
	return "unknown"
}

// ParsePriority parses "low", "normal" or "high".
func ParsePriority(s string) (Priority, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return PriorityLow, true
	case "normal":
		return PriorityNormal, true
	case "high":
		return PriorityHigh, true
	}
	return 0, false
}

// bulkWords mark a read API that returns pages or batches.
var bulkWords = map[string]bool{"list": true, "cursor": true, "pcursor": true, "batch": true, "search": true, "query": true}

// PriorityOf is the priority of an attempt: High for writes, Low for bulk
// reads (an API name with a list, cursor, pcursor, batch, search or query
// part), Normal otherwise. A caller may lower (never raise) it with
// WithPriority, e.g. for a background sync.
func PriorityOf(ctx context.Context, a platform.Attempt) Priority {
	p := PriorityNormal
	switch {
	case a.Write:
		p = PriorityHigh
	default:
		for part := range strings.SplitSeq(a.Method, ".") {
			if bulkWords[part] {
				p = PriorityLow
				break
			}
		}
	}
	if v, ok := ctx.Value(priorityKey{}).(Priority); ok && v < p {
		p = v
	}
	return p
}

type (
	waitKey     struct{}
	priorityKey struct{}
)

// WithWait marks ctx's calls as willing to wait for a QPS slot up to ctx's
// deadline instead of failing with RESOURCE_EXHAUSTED.
func WithWait(ctx context.Context) context.Context { return context.WithValue(ctx, waitKey{}, true) }

// Waits reports whether WithWait marked ctx.
func Waits(ctx context.Context) bool { v, _ := ctx.Value(waitKey{}).(bool); return v }

// WithPriority caps the priority of ctx's calls at p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// Metadata keys a caller sets (REST: the same names as HTTP headers).
const (
	// MetadataWait "true" (or "1") asks to wait for a QPS slot up to the
	// call's deadline instead of failing at once.
	MetadataWait = "x-kwaishop-wait"
	// MetadataPriority "low" or "normal" lowers the call's priority.
	MetadataPriority = "x-kwaishop-priority"
)

// FromMetadata applies the caller's MetadataWait and MetadataPriority to ctx.
func FromMetadata(ctx context.Context) context.Context {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ctx
	}
	if v := md.Get(MetadataWait); len(v) > 0 && (strings.EqualFold(v[0], "true") || v[0] == "1") {
		ctx = WithWait(ctx)
	}
	if v := md.Get(MetadataPriority); len(v) > 0 {
		if p, ok := ParsePriority(v[0]); ok {
			ctx = WithPriority(ctx, p)
		}
	}
	return ctx
}

// UnaryServerInterceptor applies FromMetadata to every unary call.
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(FromMetadata(ctx), req)
	}
}

// StreamServerInterceptor applies FromMetadata to every stream.
func StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, &ctxStream{ServerStream: ss, ctx: FromMetadata(ss.Context())})
	}
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }
