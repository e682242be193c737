package app

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/intake"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/reconcile"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// messagePipeline is the push side of the gateway (docs/messages.md): the
// durable log, the intake handler, the dead-letter copier and the
// reconciliation poller.
type messagePipeline struct {
	log        *msglog.Log
	groups     *delivery.Groups
	intake     *intake.Handler
	reconciler *reconcile.Reconciler // nil when reconciliation is off
}

// PushPath is where the platform pushes messages; PushPath/{app_key} takes
// only that app's (docs/apps.md).
const PushPath = "/callbacks/messages"

// newMessages opens the message log and starts its background work. In
// sandbox mode it points the sandbox's pusher at the gateway's push URL.
// The intake's kwaishop.messages.refused counter goes to the provider
// /metrics exports.
func newMessages(ctx context.Context, cfg config.Config, apps []config.App, log *slog.Logger, tp trace.TracerProvider, st *store.Store,
	tokens *store.TokenStore, client reconcile.Caller, mgr *token.Manager, obs *observability,
	sb *embeddedSandbox) (*messagePipeline, func(), error) {
	// Every app's keys: a push is the app's whose key opens it, and only a
	// message of that app is accepted (message.DecodeKey).
	var keys []message.Key
	for _, a := range apps {
		if len(a.MessageKeys) == 0 {
			log.Warn("message: no message key configured for the app: its pushed messages will be refused", "app_key", a.Key)
		}
		keys = append(keys, a.MessageKeys...)
	}
	// Synthesized messages carry their shop's app; a record that names none
	// is the only app's.
	reconcileApp, served := "", make([]string, 0, len(apps))
	if len(apps) == 1 {
		reconcileApp = apps[0].Key
	}
	for _, a := range apps {
		served = append(served, a.Key)
	}
	mlog := log.With("component", "messages")
	l, err := msglog.Open(ctx, st.JetStream(), msglog.Config{
		DedupeWindow: cfg.Message.DedupeWindow, Retention: cfg.Message.Retention, Replicas: st.Replicas(),
		Logger: mlog, TracerProvider: tp,
	})
	if err != nil {
		return nil, nil, err
	}
	groups, err := delivery.Open(ctx, l, delivery.Config{Observer: obs.metrics.Messages()})
	if err != nil {
		return nil, nil, err
	}
	mp := obs.provider.MeterProvider()
	p := &messagePipeline{log: l, groups: groups, intake: intake.New(l, intake.Config{Keys: keys, Logger: mlog, MeterProvider: mp, Observer: obs.metrics.Messages()})}
	if cfg.Message.ReconcileInterval > 0 {
		p.reconciler, err = reconcile.New(ctx, reconcile.Config{
			Log: l, Shops: tokens, Tokens: mgr, Caller: client, AppKey: reconcileApp, Apps: served,
			Interval: cfg.Message.ReconcileInterval, Lag: cfg.Message.ReconcileLag, Replicas: st.Replicas(), ReplicaID: cfg.ReplicaID,
			Logger: mlog.With("part", "reconcile"),
		})
		if err != nil {
			return nil, nil, err
		}
	}
	runs := []func(context.Context){func(runCtx context.Context) {
		if err := groups.RunDeadLetters(runCtx); err != nil && runCtx.Err() == nil {
			mlog.Error("message: dead-letter copier stopped", "err", err)
		}
	}}
	if p.reconciler != nil {
		runs = append(runs, p.reconciler.Run)
	}
	stop := background(ctx, runs...)

	if sb != nil && sb.sb.Pusher().URL == "" {
		url := "http://" + loopbackEndpoint(cfg.HTTPAddr) + PushPath
		if _, err := sb.sb.SetPusher(sandbox.PusherUpdate{URL: &url}); err != nil {
			stop()
			return nil, nil, err
		}
		mlog.Info("sandbox pusher sends messages to the gateway", "push_url", url)
	}
	return p, stop, nil
}
