package app

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// webhookPipeline is the outward delivery (docs/webhooks.md): the endpoint
// store and the engine that delivers messages and authorization events to
// them, signed as Standard Webhooks.
type webhookPipeline struct {
	engine *webhook.Engine
	stop   func()
}

// startWebhooks opens the webhook buckets and streams (after the message
// log, whose stream the endpoints' consumers read) and starts delivering.
// Secrets are sealed with the token keyring.
func startWebhooks(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, ring *store.Keyring, mp metric.MeterProvider) (*webhookPipeline, error) {
	wlog := log.With("component", "webhooks")
	wc := cfg.Webhook.Config()
	wc.JetStream, wc.Replicas, wc.Keyring, wc.ReplicaID = st.JetStream(), st.Replicas(), ring, cfg.ReplicaID
	wc.Retention, wc.StatsFlush = cfg.Message.Retention, cfg.Stats.FlushInterval
	wc.Render = service.WebhookRenderer(testUserCutoff)
	wc.Logger, wc.MeterProvider = wlog, mp
	e, err := webhook.Open(ctx, wc)
	if err != nil {
		return nil, err
	}
	if cfg.Webhook.AllowPrivate || cfg.Webhook.AllowHTTP {
		wlog.Warn("webhook: endpoints may point at private addresses or use http (KWAISHOP_WEBHOOK_ALLOW_PRIVATE / _ALLOW_HTTP)",
			"allow_private", cfg.Webhook.AllowPrivate, "allow_http", cfg.Webhook.AllowHTTP)
	}
	return &webhookPipeline{engine: e, stop: background(ctx, func(runCtx context.Context) {
		if err := e.Run(runCtx); err != nil {
			wlog.Error("webhook: delivery stopped", "err", err)
		}
	})}, nil
}
