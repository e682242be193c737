package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

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
	e, err := webhook.Open(ctx, webhook.Config{
		JetStream: st.JetStream(), Replicas: st.Replicas(), Keyring: ring, ReplicaID: cfg.ReplicaID,
		Retention: cfg.MessageRetention,
		Guard:     webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTP: cfg.WebhookAllowHTTP},
		Timeout:   cfg.WebhookTimeout, RetryInitial: cfg.WebhookRetryInitial, RetryMaxDelay: cfg.WebhookRetryMaxDelay,
		RetryBudget: cfg.WebhookRetryBudget, DisableAfter: disableAfter(cfg.WebhookDisableAfter),
		Concurrency: int(cfg.WebhookConcurrency), MaxEndpoints: int(cfg.WebhookMaxEndpoints), SecretGrace: cfg.WebhookSecretGrace,
		StatsFlush:        cfg.StatsFlushInterval,
		AuthorizationData: service.AuthorizationEventData(testUserCutoff),
		Logger:            wlog, MeterProvider: mp,
	})
	if err != nil {
		return nil, err
	}
	if cfg.WebhookAllowPrivate || cfg.WebhookAllowHTTP {
		wlog.Warn("webhook: endpoints may point at private addresses or use http (KWAISHOP_WEBHOOK_ALLOW_PRIVATE / _ALLOW_HTTP)",
			"allow_private", cfg.WebhookAllowPrivate, "allow_http", cfg.WebhookAllowHTTP)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.Run(runCtx); err != nil {
			wlog.Error("webhook: delivery stopped", "err", err)
		}
	})
	return &webhookPipeline{engine: e, stop: func() { cancel(); wg.Wait() }}, nil
}

// disableAfter maps the setting's 0 (never) to the engine's "never" (< 0).
func disableAfter(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
