// Package telemetry holds the gateway's OpenTelemetry metrics: the meter
// provider (a Prometheus scrape handler, plus OTLP export when the standard
// OTEL_* variables ask for it) and the instruments every part records into.
// The instrument names, units and attributes are listed in
// docs/observability.md; no attribute ever carries a token, a secret or an
// open_id (an unbounded label; per-shop numbers live in the stats service).
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// ProviderConfig configures NewProvider.
type ProviderConfig struct {
	// Getenv reads the OTEL_* variables (required).
	Getenv func(string) string
	// Resource describes the service (optional).
	Resource *sdkresource.Resource
	// ExportInterval is the OTLP push interval (default: OTEL_METRIC_EXPORT_INTERVAL or 60s).
	ExportInterval time.Duration
}

// Provider is the meter provider with its Prometheus handler.
type Provider struct {
	mp      *sdkmetric.MeterProvider
	handler http.Handler
}

// NewProvider builds a meter provider that always feeds a Prometheus
// registry of its own (served by Handler, so two providers in one process do
// not collide) and, when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set and OTEL_METRICS_EXPORTER is
// not "none", also pushes over OTLP/gRPC.
func NewProvider(ctx context.Context, cfg ProviderConfig) (*Provider, error) {
	if cfg.Getenv == nil {
		return nil, errors.New("telemetry: Getenv is required")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, err
	}
	opts := []sdkmetric.Option{sdkmetric.WithReader(exp)}
	if cfg.Resource != nil {
		opts = append(opts, sdkmetric.WithResource(cfg.Resource))
	}
	if wantOTLP(cfg.Getenv) {
		otlp, err := otlpmetricgrpc.New(ctx) // reads OTEL_EXPORTER_OTLP_* itself
		if err != nil {
			return nil, err
		}
		var ropts []sdkmetric.PeriodicReaderOption
		if cfg.ExportInterval > 0 {
			ropts = append(ropts, sdkmetric.WithInterval(cfg.ExportInterval))
		}
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(otlp, ropts...)))
	}
	return &Provider{
		mp:      sdkmetric.NewMeterProvider(opts...),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
	}, nil
}

func wantOTLP(getenv func(string) string) bool {
	if getenv("OTEL_METRICS_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
}

// MeterProvider is the provider instruments are created from.
func (p *Provider) MeterProvider() metric.MeterProvider { return p.mp }

// Handler serves the Prometheus text exposition (mount at /metrics).
func (p *Provider) Handler() http.Handler { return p.handler }

// Shutdown flushes the OTLP exporter and stops the provider.
func (p *Provider) Shutdown(ctx context.Context) error { return p.mp.Shutdown(ctx) }
