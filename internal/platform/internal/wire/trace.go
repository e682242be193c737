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
// value, a token, a signature or a secret: spans may be exported to systems
// with weaker access control than the token store.
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
// and path are recorded. The attributes are built only for a recording span
// (set after the start: the gateway's samplers decide on the parent and the
// trace id, not on attributes), so an unsampled call pays for none of them.
func StartSpan(ctx context.Context, tr trace.Tracer, apiMethod, httpMethod string, u *url.URL, attempt int, h http.Header, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := tr.Start(ctx, "kwaishop "+apiMethod, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
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
		span.SetAttributes(append(attrs, extra...)...)
	}
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
	return ctx, span
}

// EndSpan records the outcome of an attempt and ends span. status 0 means no
// HTTP response; result 0 means no platform result. description must already
// be free of secrets.
func EndSpan(span trace.Span, status int, result int64, class, requestID string, failed bool, description string) {
	if !span.IsRecording() {
		span.End()
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	if status != 0 {
		attrs = append(attrs, AttrHTTPStatus.Int(status))
	}
	if result != 0 {
		attrs = append(attrs, AttrResult.Int64(result))
	}
	if requestID != "" {
		attrs = append(attrs, AttrRequestID.String(requestID))
	}
	if failed {
		attrs = append(attrs, AttrErrorClass.String(class))
	}
	span.SetAttributes(attrs...)
	if failed {
		span.SetStatus(otelcodes.Error, description)
	}
	span.End()
}
