package wire

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of platform spans.
const TracerName = "github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"

// Span attribute keys. None of them ever carries a query string, a parameter
// value, a token, a signature or a secret (design decision 4 and 7).
const (
	AttrMethod     = attribute.Key("kwaishop.method")
	AttrAttempt    = attribute.Key("kwaishop.attempt")
	AttrResult     = attribute.Key("kwaishop.result")
	AttrErrorClass = attribute.Key("kwaishop.error_class")
	AttrRequestID  = attribute.Key("kwaishop.request_id")
	AttrHTTPMethod = attribute.Key("http.request.method")
	AttrHTTPStatus = attribute.Key("http.response.status_code")
	AttrServerAddr = attribute.Key("server.address")
	AttrServerPort = attribute.Key("server.port")
	AttrURLPath    = attribute.Key("url.path")
	AttrGrantType  = attribute.Key("kwaishop.oauth.grant_type")
)

// StartSpan starts the client span of one upstream attempt and injects the
// W3C trace context into h. u must be the request URL; only its host, port
// and path are recorded.
func StartSpan(ctx context.Context, tr trace.Tracer, apiMethod, httpMethod string, u *url.URL, attempt int, h http.Header, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	attrs := make([]attribute.KeyValue, 0, 7+len(extra))
	attrs = append(attrs,
		AttrMethod.String(apiMethod),
		AttrHTTPMethod.String(httpMethod),
		AttrServerAddr.String(u.Hostname()),
		AttrURLPath.String(u.EscapedPath()),
	)
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			attrs = append(attrs, AttrServerPort.Int(n))
		}
	}
	if attempt > 0 {
		attrs = append(attrs, AttrAttempt.Int(attempt))
	}
	attrs = append(attrs, extra...)
	ctx, span := tr.Start(ctx, "kwaishop "+apiMethod,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
	return ctx, span
}

// EndSpan records the outcome of an attempt and ends span. status 0 means no
// HTTP response; result 0 means no platform result. description must already
// be free of secrets.
func EndSpan(span trace.Span, status int, result int64, class, requestID string, failed bool, description string) {
	if status != 0 {
		span.SetAttributes(AttrHTTPStatus.Int(status))
	}
	if result != 0 {
		span.SetAttributes(AttrResult.Int64(result))
	}
	if requestID != "" {
		span.SetAttributes(AttrRequestID.String(requestID))
	}
	if failed {
		span.SetAttributes(AttrErrorClass.String(class))
		span.SetStatus(otelcodes.Error, description)
	}
	span.End()
}
