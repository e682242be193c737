package app

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// messagePipeline is the push side of the gateway (docs/messages.md): the
// durable log, the intake handler, the dead-letter copier and the
// reconciliation poller.
type messagePipeline struct {
	log        *message.Log
	intake     *message.Intake
	reconciler *message.Reconciler // nil when reconciliation is off
	stop       func()
}

// PushPath is where the platform pushes messages.
const PushPath = "/callbacks/messages"

// startMessages opens the message log and starts its background work. In
// sandbox mode it points the sandbox's pusher at the gateway's push URL.
// The intake's kwaishop.messages.refused counter goes to mp (the provider
// /metrics exports).
func startMessages(ctx context.Context, cfg config.Config, log *slog.Logger, tp trace.TracerProvider, st *store.Store,
	tokens *store.TokenStore, client *platform.Client, mgr *token.Manager, obs message.Observer, mp metric.MeterProvider,
	sb *embeddedSandbox) (*messagePipeline, error) {
	var keys []message.Key
	if !cfg.MessageKey.Empty() {
		k, err := message.NewKey(cfg.AppKey, cfg.MessageKey.Reveal())
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	more, err := message.ParseKeys(cfg.MessageKeys.Reveal())
	if err != nil {
		return nil, err
	}
	keys = append(keys, more...)
	if len(keys) == 0 {
		log.Warn("message: no message key configured (KWAISHOP_MESSAGE_KEY): pushed messages will be refused")
	}
	mlog := log.With("component", "messages")
	l, err := message.Open(ctx, st.JetStream(), message.Config{
		DedupeWindow: cfg.MessageDedupeWindow, Retention: cfg.MessageRetention, Replicas: st.Replicas(),
		Logger: mlog, TracerProvider: tp, Observer: obs,
	})
	if err != nil {
		return nil, err
	}
	p := &messagePipeline{log: l, intake: message.NewIntake(l, message.IntakeConfig{Keys: keys, Logger: mlog, MeterProvider: mp})}
	if cfg.ReconcileInterval > 0 {
		p.reconciler, err = message.NewReconciler(ctx, message.ReconcilerConfig{
			Log: l, Shops: tokens, Tokens: mgr, Caller: client, AppKey: cfg.AppKey,
			Interval: cfg.ReconcileInterval, Lag: cfg.ReconcileLag, Replicas: st.Replicas(), ReplicaID: cfg.ReplicaID,
			Logger: mlog.With("part", "reconcile"),
		})
		if err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.RunDeadLetters(runCtx); err != nil && runCtx.Err() == nil {
			mlog.Error("message: dead-letter copier stopped", "err", err)
		}
	})
	if p.reconciler != nil {
		wg.Go(func() { p.reconciler.Run(runCtx) })
	}
	p.stop = func() { cancel(); wg.Wait() }

	if sb != nil && sb.sb.Pusher().URL == "" {
		url := "http://" + loopbackEndpoint(cfg.HTTPAddr) + PushPath
		if _, err := sb.sb.SetPusher(sandbox.PusherUpdate{URL: &url}); err != nil {
			p.stop()
			return nil, err
		}
		mlog.Info("sandbox pusher sends messages to the gateway", "push_url", url)
	}
	return p, nil
}
