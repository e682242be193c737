package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	grpcstats "google.golang.org/grpc/stats"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/telemetry"
)

// startTracing builds the tracer provider (newTracerProvider), sends the
// OpenTelemetry SDK's own reports to log (routeOTelReports), says where spans
// go, and returns the shutdown to run last: it flushes the spans still
// queued within what is left of the shutdown grace (flushWindow), so a
// collector that is down cannot hold the process past it.
func startTracing(ctx context.Context, cfg config.Config, log *slog.Logger, getenv func(string) string) (*sdktrace.TracerProvider, func(), error) {
	routeOTelReports(log, getenv)
	tp, err := newTracerProvider(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	if ep := otlpEndpoint(getenv, "TRACES"); ep != "" {
		log.Info("telemetry: exporting traces over OTLP", otlpAttrs(getenv, "TRACES", ep)...)
	} else {
		log.Info("telemetry: traces are not exported (no OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER=none)")
	}
	window := newFlushWindow(ctx, cfg.ShutdownGrace)
	return tp, func() {
		fctx, cancel := window.context()
		defer cancel()
		_ = tp.Shutdown(fctx) // a failed export was reported through the error handler
	}, nil
}

// newTracerProvider builds the SDK tracer provider. With an OTLP endpoint in
// the standard OTEL_* variables it samples every trace and exports it over
// OTLP/gRPC. Without one (or with OTEL_TRACES_EXPORTER=none)
// nobody would ever read a span, so spans are not recorded at all (measured:
// 11 µs per gRPC call, 37 µs per REST call); trace and span ids are still
// created and propagated, so logs keep their trace_id and span_id.
func newTracerProvider(ctx context.Context, getenv func(string) string) (*sdktrace.TracerProvider, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(sdkresource.NewSchemaless(semconv.ServiceName("kwaishop-gateway"))),
	}
	if otlpEndpoint(getenv, "TRACES") != "" {
		exp, err := otlptracegrpc.New(ctx) // reads the OTEL_EXPORTER_OTLP_* variables itself
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	} else {
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}

// otlpEndpoint is the OTLP endpoint for signal (TRACES or METRICS) as the
// exporters read it: the signal's own variable, else the shared one; "" when
// that signal is not exported (no endpoint, or OTEL_<signal>_EXPORTER=none;
// internal/telemetry decides the same way for metrics).
func otlpEndpoint(getenv func(string) string, signal string) string {
	if getenv("OTEL_"+signal+"_EXPORTER") == "none" {
		return ""
	}
	if ep := getenv("OTEL_EXPORTER_OTLP_" + signal + "_ENDPOINT"); ep != "" {
		return ep
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
}

// otlpAttrs describes an OTLP export for the start-up record: where
// (credentials in the URL removed; headers are never logged), how, and the
// per-export timeout.
func otlpAttrs(getenv func(string) string, signal, endpoint string) []any {
	timeout := "10s (default)"
	for _, k := range []string{"OTEL_EXPORTER_OTLP_" + signal + "_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"} {
		if v := getenv(k); v != "" {
			timeout = v + "ms (" + k + ")"
			break
		}
	}
	attrs := []any{"endpoint", secret.URL(endpoint), "protocol", "grpc", "export_timeout", timeout}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := getenv(k); v != "" && v != "grpc" {
			attrs = append(attrs, "ignored", k+"="+v+": this gateway exports over OTLP/gRPC only")
			break
		}
	}
	return attrs
}

// flushWindow is the time the final telemetry flush may take: what is left
// of the shutdown grace, counted from the moment the gateway is told to stop
// (Run's context is done), and at least minFlush, so that a collector that
// is up still gets the last batch when draining the servers took the whole
// grace. Exporters give up on a collector that is down at that deadline, so
// shutdown ends within the grace plus about minFlush per provider.
type flushWindow struct {
	grace    time.Duration
	mu       sync.Mutex
	deadline time.Time
}

const minFlush = 200 * time.Millisecond

func newFlushWindow(ctx context.Context, grace time.Duration) *flushWindow {
	w := &flushWindow{grace: grace}
	context.AfterFunc(ctx, w.start)
	return w
}

// start fixes the deadline, once: when the gateway is told to stop, or at
// the first flush if it stops on its own (a server error, a failed start).
func (w *flushWindow) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deadline.IsZero() {
		w.deadline = time.Now().Add(w.grace)
	}
}

func (w *flushWindow) context() (context.Context, context.CancelFunc) {
	w.start()
	w.mu.Lock()
	d := w.deadline
	w.mu.Unlock()
	if floor := time.Now().Add(minFlush); d.Before(floor) {
		d = floor
	}
	return context.WithDeadline(context.Background(), d)
}

// otelReports receives what the OpenTelemetry SDK reports about itself:
// failed exports (its error handler) and bad OTEL_* values or dropped data
// (its internal logger). Left alone, the SDK prints those as plain text on
// stderr, in the middle of the JSON log. Both hooks are process wide, so the
// most recently started gateway's logger receives them (one per process
// outside tests). A collector that is down fails every export, so records
// are rate limited: at most otelReportBurst per otelReportWindow, and the
// next record after a suppressed stretch counts what was left out.
var otelReports = &otelRouter{}

const (
	otelReportBurst  = 5
	otelReportWindow = time.Minute
	// otelReportMsg is the message of every record made from an SDK report.
	otelReportMsg = "telemetry: OpenTelemetry reported a problem"
)

type otelRouter struct {
	once    sync.Once
	mu      sync.Mutex
	log     *slog.Logger
	secrets []string // OTLP header values and URL passwords, never logged
	// rate limit: records in the current window, and those left out
	windowStart time.Time
	inWindow    int
	suppressed  int
}

// routeOTelReports sends the SDK's reports to log from now on.
func routeOTelReports(log *slog.Logger, getenv func(string) string) {
	r := otelReports
	r.mu.Lock()
	r.log, r.secrets = log, otlpSecrets(getenv)
	r.mu.Unlock()
	r.once.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			r.report(slog.LevelWarn, "", err, nil)
		}))
		otel.SetLogger(logr.New(otelSink{r: r}))
	})
}

// otlpSecrets are the values that must not reach the log if an SDK report
// quotes them: the OTLP header values (often an API key) and passwords in
// endpoint URLs.
func otlpSecrets(getenv func(string) string) []string {
	var out []string
	for _, signal := range []string{"", "TRACES_", "METRICS_"} {
		for _, kv := range strings.Split(getenv("OTEL_EXPORTER_OTLP_"+signal+"HEADERS"), ",") {
			if _, v, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(v) != "" {
				out = append(out, strings.TrimSpace(v))
				if u, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil && u != strings.TrimSpace(v) {
					out = append(out, u)
				}
			}
		}
		if u, err := url.Parse(getenv("OTEL_EXPORTER_OTLP_" + signal + "ENDPOINT")); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (r *otelRouter) report(level slog.Level, what string, err error, kv []any) {
	now := time.Now()
	r.mu.Lock()
	log, secrets := r.log, r.secrets
	if now.Sub(r.windowStart) >= otelReportWindow {
		r.windowStart, r.inWindow = now, 0
	}
	if r.inWindow >= otelReportBurst {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.inWindow++
	suppressed := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	if log == nil {
		return
	}
	redact := func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
		return s
	}
	attrs := make([]any, 0, 6+len(kv))
	if what != "" {
		attrs = append(attrs, "report", redact(what))
	}
	if err != nil {
		attrs = append(attrs, "err", redact(err.Error()))
	}
	// A malformed header entry is quoted whole by the SDK: never log it.
	hideValues := strings.Contains(strings.ToLower(what), "header")
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		v := redact(fmt.Sprint(kv[i+1]))
		if hideValues {
			v = "[redacted]"
		}
		attrs = append(attrs, k, v)
	}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_before", suppressed)
	}
	log.Log(context.Background(), level, otelReportMsg, attrs...)
}

// otelSink is the SDK's internal logger: errors (bad OTEL_* values) and
// warnings (dropped attributes or spans); its info and debug chatter is off.
type otelSink struct {
	r  *otelRouter
	kv []any
}

func (s otelSink) Init(logr.RuntimeInfo)  {}
func (s otelSink) Enabled(level int) bool { return level <= 1 } // the SDK warns at V(1)
func (s otelSink) Info(_ int, msg string, kv ...any) {
	s.r.report(slog.LevelWarn, msg, nil, append(slices.Clip(s.kv), kv...))
}
func (s otelSink) Error(err error, msg string, kv ...any) {
	s.r.report(slog.LevelError, msg, err, append(slices.Clip(s.kv), kv...))
}
func (s otelSink) WithValues(kv ...any) logr.LogSink {
	return otelSink{r: s.r, kv: append(slices.Clip(s.kv), kv...)}
}
func (s otelSink) WithName(string) logr.LogSink { return s }

func init() {
	// W3C trace context (and baggage) across every hop, process wide.
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// newLogger builds the JSON (or text) logger; every record made with a
// context that carries a span gets trace_id and span_id, and one made while
// serving a request with a request id (rest.go) gets request_id.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	ho := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, ho)
	} else {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(traceHandler{h})
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if id := requestIDOf(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}
func (h traceHandler) WithGroup(n string) slog.Handler { return traceHandler{h.Handler.WithGroup(n)} }

// observability is the metrics side of the gateway, next to the tracer
// provider: the meter provider (Prometheus scrape at /metrics, OTLP push when
// the OTEL_* variables name an endpoint), the instruments, and the
// cross-replica call statistics behind StatsService and /dashboard.
type observability struct {
	provider *telemetry.Provider
	metrics  *telemetry.Metrics
	stats    *stats.Recorder
	log      *slog.Logger
	stop     func()
	flush    *flushWindow
}

// startObservability builds the metrics and starts the statistics flusher.
// cfg's apps must be final (sandbox credentials already applied).
func startObservability(ctx context.Context, cfg config.Config, log *slog.Logger, getenv func(string) string, now func() time.Time, st *store.Store, tokens *store.TokenStore) (*observability, error) {
	routeOTelReports(log, getenv)
	provider, err := telemetry.NewProvider(ctx, telemetry.ProviderConfig{
		Getenv: getenv, Resource: sdkresource.NewSchemaless(semconv.ServiceName("kwaishop-gateway")),
	})
	if err != nil {
		return nil, err
	}
	if ep := otlpEndpoint(getenv, "METRICS"); ep != "" {
		interval := "60s (default)"
		if v := getenv("OTEL_METRIC_EXPORT_INTERVAL"); v != "" {
			interval = v + "ms (OTEL_METRIC_EXPORT_INTERVAL)"
		}
		log.Info("telemetry: exporting metrics over OTLP, and serving them at /metrics",
			append(otlpAttrs(getenv, "METRICS", ep), "interval", interval)...)
	} else {
		log.Info("telemetry: metrics are served at /metrics only (no OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_METRICS_EXPORTER=none)")
	}
	o := &observability{provider: provider, log: log, stop: func() {}, flush: newFlushWindow(ctx, cfg.ShutdownGrace)}
	fail := func(err error) (*observability, error) {
		fctx, cancel := o.flush.context()
		defer cancel()
		_ = provider.Shutdown(fctx)
		return nil, err
	}
	apps := cfg.AppList()
	var appKeys []string // the app label's values (docs/observability.md)
	for _, a := range apps {
		appKeys = append(appKeys, a.Key)
	}
	if o.metrics, err = telemetry.New(provider.MeterProvider(), appKeys...); err != nil {
		return fail(err)
	}
	if err := o.metrics.ObserveAuthorizations(tokens.ListMetadata, 30*time.Second); err != nil {
		return fail(err)
	}
	replica := ""
	if cfg.ReplicaID != "" {
		// A restarted process must not overwrite its earlier records: the
		// configured name gets a random suffix (stats.Config.ReplicaID).
		replica = stats.UniqueReplicaID(cfg.ReplicaID)
	}
	o.stats, err = stats.New(ctx, stats.Config{
		JetStream: st.JetStream(), KVReplicas: st.Replicas(), ReplicaID: replica,
		FlushInterval: cfg.Stats.FlushInterval, Apps: statsApps(apps),
		Authorizations: tokens.ListMetadata, Meter: o.metrics.Meter(), Log: log.With("component", "stats"), Now: now,
	})
	if err != nil {
		return fail(err)
	}
	o.metrics.Messages().SetSink(o.stats)
	o.stop = background(ctx, o.stats.Run)
	return o, nil
}

// close stops the flusher, writes the last statistics and flushes the
// metric exporters (after the servers stopped, before the store closes).
// The statistics go to the store (local, or a cluster that is up: the
// gateway cannot serve without it); the OTLP flush goes to a collector that
// may be down, so it gets only what is left of the shutdown grace.
func (o *observability) close() {
	o.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.stats.Flush(ctx); err != nil {
		o.log.Warn("stats: final flush failed", "err", err)
	}
	fctx, fcancel := o.flush.context()
	defer fcancel()
	_ = o.provider.Shutdown(fctx) // a failed export was reported through the error handler
}

// Inbound metrics: the OpenTelemetry semantic conventions' server durations,
// recorded by the otelgrpc and otelhttp instrumentation into the gateway's
// meter provider (docs/observability.md).
//
//   - rpc.server.call.duration (s): every gRPC call, the REST gateway's
//     included, by rpc.method and rpc.response.status_code (error.type on
//     server errors). A method the server does not know is _OTHER: a caller
//     chooses the method name, and a label per name would be unbounded.
//   - http.server.request.duration (s): every HTTP request but /metrics, by
//     http.route (the route template, never the path: the path holds the
//     open_id), http.request.method and http.response.status_code.
//     server.address and server.port are the configured listen address,
//     not the caller's Host header.
//
// The instrumentation may create other instruments (body sizes, the old
// rpc.server.duration when OTEL_SEMCONV_STABILITY_OPT_IN asks for it); only
// these two are recorded.
var inboundInstruments = map[string]bool{"rpc.server.call.duration": true, "http.server.request.duration": true}

// inboundMeterProvider hands the instrumentation meters that create only
// the inboundInstruments; any other instrument is a no-op.
type inboundMeterProvider struct {
	noop.MeterProvider
	mp metric.MeterProvider
}

func (p inboundMeterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return inboundMeter{m: p.mp.Meter(name, opts...)}
}

type inboundMeter struct {
	noop.Meter
	m metric.Meter
}

func (m inboundMeter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	if inboundInstruments[name] {
		return m.m.Float64Histogram(name, opts...)
	}
	return m.Meter.Float64Histogram(name, opts...)
}

// inboundGRPC is the gRPC server's OpenTelemetry handler: a server span
// per call (linked to the caller's trace) and rpc.server.call.duration.
func inboundGRPC(tp trace.TracerProvider, mp metric.MeterProvider) grpcstats.Handler {
	return rpcMethodTagger{otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(otel.GetTextMapPropagator()),
		otelgrpc.WithMeterProvider(inboundMeterProvider{mp: mp}),
		otelgrpc.WithMetricAttributesFn(rpcMethodAttrs),
	)}
}

// rpcMethodTagger keeps the called method in the context for
// rpcMethodAttrs (otelgrpc's attribute hook sees only the context, before
// gRPC put the method there).
type rpcMethodTagger struct{ grpcstats.Handler }

type rpcMethodKey struct{}

func (h rpcMethodTagger) TagRPC(ctx context.Context, info *grpcstats.RPCTagInfo) context.Context {
	return h.Handler.TagRPC(context.WithValue(ctx, rpcMethodKey{}, info.FullMethodName), info)
}

var otherRPCMethod = []attribute.KeyValue{semconv.RPCMethodKey.String("_OTHER")}

// rpcMethodAttrs replaces rpc.method (the last value of a key wins) by
// _OTHER for a method no service in this binary declares.
func rpcMethodAttrs(ctx context.Context) []attribute.KeyValue {
	m, _ := ctx.Value(rpcMethodKey{}).(string)
	if knownRPC(m) {
		return nil
	}
	return otherRPCMethod
}

// knownRPC reports whether full ("/package.Service/Method") is a method of
// a service this binary declares.
func knownRPC(full string) bool {
	svc, method, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok || !strings.HasPrefix(full, "/") {
		return false
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return false
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	return ok && sd.Methods().ByName(protoreflect.Name(method)) != nil
}

// inboundHTTP wraps the HTTP listener's handler: a server span per request
// and http.server.request.duration. /metrics scrapes are neither traced
// nor measured. server is the configured listen address (server.address,
// server.port).
func inboundHTTP(h http.Handler, tp trace.TracerProvider, mp metric.MeterProvider, server string) http.Handler {
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(otel.GetTextMapPropagator()),
		otelhttp.WithMeterProvider(inboundMeterProvider{mp: mp}),
		otelhttp.WithServerName(server),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
	)
}
