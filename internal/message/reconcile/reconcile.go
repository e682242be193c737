// Package reconcile is the poller that publishes the order and refund
// changes no push covered (docs/messages.md) into the message log.
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/jsonx"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// The platform loses or never sends some pushes (its own documentation
// advises polling as a backstop). The reconciler polls each active shop's
// orders and refunds by update time since a stored cursor, through the
// commerce walks (which own the platform's windows, cursors and decoding),
// and publishes a synthesized message for every change. The synthesized
// message carries the same de-duplication id as a push of that change would
// (Change.DedupeID), so JetStream keeps whichever arrives first and drops
// the other: a change that a push already covered is not published again,
// and a push arriving after the reconciliation is acknowledged but not
// stored twice. (message.DefaultReconcileInterval and
// message.DefaultReconcileLag are the defaults of the poll.)

const (
	// reconcileOverlap re-reads this much before the cursor, for changes
	// that became visible late; de-duplication absorbs the repeats.
	reconcileOverlap = time.Minute
	reconcileBucket  = "kwaishop_msg_reconcile"
	leaseKey         = "lease"
)

// Shops lists the stored authorizations (implemented by *store.TokenStore).
type Shops interface {
	ListMetadata(ctx context.Context) ([]store.Authorization, error)
}

// TokenSources hands out shop token sources (implemented by *token.Manager).
type TokenSources interface {
	Shop(ctx context.Context, openID string) (platform.TokenSource, error)
}

// Caller sends platform calls (implemented by *platform.Client).
type Caller = commerce.Caller

// Config configures a Reconciler.
type Config struct {
	Log    *msglog.Log
	Shops  Shops
	Tokens TokenSources
	Caller Caller
	// AppKey is written into the synthesized messages of a shop whose
	// authorization names no app (a record stored before the gateway told
	// apps apart): the only app's key, or "" with several apps.
	AppKey string
	// Apps are the app keys the gateway serves (docs/apps.md). A shop of
	// another app is left alone; none: every shop is polled.
	Apps []string
	// Interval between polls (default 5m); Lag is how far behind now a poll
	// stops, so pushes of the newest changes arrive first (default 30s).
	Interval, Lag time.Duration
	// Replicas of the cursor/lease bucket (default 1).
	Replicas  int
	ReplicaID string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Reconciler is the poller. Run it on every replica: a lease in NATS KV
// lets one run at a time; another takes over when the holder stops
// renewing it.
type Reconciler struct {
	cfg      Config
	kv       jetstream.KeyValue
	leaseTTL time.Duration
	held     atomic.Bool
}

// Stats counts one pass.
type Stats struct {
	Shops, Seen, Published, Covered int
}

// New opens the cursor and lease bucket.
func New(ctx context.Context, cfg Config) (*Reconciler, error) {
	var errs []error
	if cfg.Log == nil || cfg.Shops == nil || cfg.Tokens == nil || cfg.Caller == nil {
		errs = append(errs, errors.New("message: reconciler: Log, Shops, Tokens and Caller are required"))
	}
	if cfg.Interval < 0 || cfg.Lag < 0 {
		errs = append(errs, errors.New("message: reconciler: durations must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = message.DefaultReconcileInterval
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReplicaID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.ReplicaID = "replica-" + hex.EncodeToString(b[:])
	}
	kv, err := store.OpenBucket(ctx, cfg.Log.JetStream(), jetstream.KeyValueConfig{
		Bucket:      reconcileBucket,
		Description: "kwaishop-gateway: reconciliation cursors and lease",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: reconciler: bucket: %w", err)
	}
	return &Reconciler{cfg: cfg, kv: kv, leaseTTL: 2*cfg.Interval + 10*time.Second}, nil
}

// Run polls every interval until ctx ends, then releases the lease.
func (r *Reconciler) Run(ctx context.Context) {
	defer r.release()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.WarnContext(ctx, "message: reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Holder reports whether this replica held the lease at its last attempt.
func (r *Reconciler) Holder() bool { return r.held.Load() }

type lease struct {
	Owner   string `json:"owner"`
	Expires int64  `json:"expires"` // unix ms
}

// acquire takes or renews the lease with compare-and-swap.
func (r *Reconciler) acquire(ctx context.Context) bool {
	now := time.Now()
	val, _ := json.Marshal(lease{Owner: r.cfg.ReplicaID, Expires: now.Add(r.leaseTTL).UnixMilli()})
	e, err := r.kv.Get(ctx, leaseKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		_, err = r.kv.Create(ctx, leaseKey, val)
	case err != nil:
	default:
		var l lease
		_ = json.Unmarshal(e.Value(), &l)
		if l.Owner != r.cfg.ReplicaID && now.UnixMilli() < l.Expires {
			r.held.Store(false)
			return false
		}
		_, err = r.kv.Update(ctx, leaseKey, val, e.Revision())
	}
	r.held.Store(err == nil)
	return err == nil
}

func (r *Reconciler) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e, err := r.kv.Get(ctx, leaseKey)
	if err != nil {
		return
	}
	var l lease
	if json.Unmarshal(e.Value(), &l) == nil && l.Owner == r.cfg.ReplicaID {
		_ = r.kv.Delete(ctx, leaseKey, jetstream.LastRevision(e.Revision()))
	}
	r.held.Store(false)
}

// RunOnce makes one pass over every active shop if this replica holds (or
// takes) the lease.
func (r *Reconciler) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	if !r.acquire(ctx) {
		return st, nil
	}
	shops, err := r.cfg.Shops.ListMetadata(ctx)
	if err != nil {
		return st, fmt.Errorf("message: reconcile: list shops: %w", err)
	}
	var errs []error
	for _, a := range shops {
		if a.Status != store.StatusActive && a.Status != store.StatusRefreshFailed {
			continue
		}
		if !r.acquire(ctx) { // renew; stop if another replica took over
			break
		}
		app := r.appOf(a)
		if app == "" && len(r.cfg.Apps) > 0 && a.AppKey != "" {
			continue // an app the gateway no longer serves
		}
		st.Shops++
		if slices.Contains(a.Scopes, "merchant_order") {
			if err := r.poll(ctx, a.OpenID, app, "order", r.orders, &st); err != nil {
				errs = append(errs, err)
			}
		}
		if slices.Contains(a.Scopes, "merchant_refund") {
			if err := r.poll(ctx, a.OpenID, app, "refund", r.refunds, &st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if st.Published > 0 {
		r.cfg.Logger.InfoContext(ctx, "message: reconciliation published missing changes", "shops", st.Shops, "seen", st.Seen, "published", st.Published)
	}
	return st, errors.Join(errs...)
}

// appOf is the app key of a shop's synthesized messages: its
// authorization's app, so consumers and webhooks route them as they route
// the app's pushes (docs/apps.md); Config.AppKey for a record that names
// none; "" for an app the gateway does not serve.
func (r *Reconciler) appOf(a store.Authorization) string {
	if a.AppKey == "" {
		return r.cfg.AppKey
	}
	if len(r.cfg.Apps) > 0 && !slices.Contains(r.cfg.Apps, a.AppKey) {
		return ""
	}
	return a.AppKey
}

func cursorKey(openID, kind string) string { return "cursor." + openID + "." + kind }

// walkFunc reads the changes of one kind in [begin, end) from the platform
// through shop and publishes them as messages of app; it calls windowDone
// with the end of each window it has read through, oldest window first.
type walkFunc func(ctx context.Context, shop commerce.Shop, app string, begin, end time.Time, st *Stats, windowDone func(end time.Time) error) error

// poll walks [cursor - overlap, now - lag) with the commerce walks (which
// cut it into windows the API accepts) and advances the cursor after each
// window.
func (r *Reconciler) poll(ctx context.Context, openID, app, kind string, walk walkFunc, st *Stats) error {
	end := r.cfg.Now().Add(-r.cfg.Lag).UnixMilli()
	key := cursorKey(openID, kind)
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		// First pass for this shop: start here; the past was the platform's
		// to push (and a replay of the log covers what the gateway saw).
		_, err = r.kv.Put(ctx, key, []byte(strconv.FormatInt(end, 10)))
		return err
	}
	if err != nil {
		return err
	}
	cursor, err := strconv.ParseInt(string(e.Value()), 10, 64)
	if err != nil {
		cursor = end
	}
	src, err := r.cfg.Tokens.Shop(ctx, openID)
	if err != nil {
		return fmt.Errorf("message: reconcile %s: %w", openID, err)
	}
	begin := cursor - reconcileOverlap.Milliseconds()
	// The platform keeps 90 days; never ask for more.
	begin = max(begin, r.cfg.Now().Add(-89*24*time.Hour).UnixMilli())
	if begin >= end {
		return nil
	}
	shop := commerce.Shop{Caller: r.cfg.Caller, OpenID: openID, Token: src, Now: r.cfg.Now}
	windowDone := func(we time.Time) error {
		if we.UnixMilli() <= cursor {
			return nil
		}
		_, err := r.kv.Put(ctx, key, []byte(strconv.FormatInt(we.UnixMilli(), 10)))
		return err
	}
	if err := walk(ctx, shop, app, time.UnixMilli(begin), time.UnixMilli(end), st, windowDone); err != nil {
		return fmt.Errorf("message: reconcile %s %ss: %w", openID, kind, err)
	}
	return nil
}

// ms is a platform time in milliseconds; the zero time (unset) is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// firstSet is the first of ts that is set, in milliseconds (0: none).
func firstSet(ts ...time.Time) int64 {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UnixMilli()
		}
	}
	return 0
}

// orders publishes the orders updated in [begin, end), oldest first.
func (r *Reconciler) orders(ctx context.Context, shop commerce.Shop, app string, begin, end time.Time, st *Stats, windowDone func(time.Time) error) error {
	q := commerce.OrderQuery{Start: begin, End: end, TimeField: commerce.ByUpdateTime}
	return shop.WalkOrders(ctx, q, commerce.OldestFirst, func(b commerce.Batch[commerce.Order]) error {
		for i := range b.Records {
			st.Seen++
			if err := r.order(ctx, shop.OpenID, app, &b.Records[i], st); err != nil {
				return err
			}
		}
		if b.WindowDone {
			return windowDone(b.WindowEnd)
		}
		return nil
	})
}

// order publishes the message a push of the order's current status would
// have carried.
func (r *Reconciler) order(ctx context.Context, openID, app string, o *commerce.Order, st *Stats) error {
	status := int64(o.Status)
	ev, ok := message.OrderStatusEvent(status)
	if !ok || o.ID == 0 {
		return nil
	}
	// The change's time: the status's own time when the list has it (it
	// equals the push's updateTime), else updateTime.
	var at int64
	var in map[string]any
	switch status {
	case message.OrderStatusUnpaid:
		at = firstSet(o.CreateTime, o.UpdateTime)
		in = map[string]any{"oid": o.ID, "sellerId": o.SellerID, "openId": openID, "buyerOpenId": o.BuyerOpenID, "createTime": at}
	default:
		switch o.Status {
		case commerce.OrderStatusPaid:
			at = firstSet(o.PayTime, o.UpdateTime)
		case commerce.OrderStatusShipped:
			at = firstSet(o.ShipTime, o.UpdateTime)
		case commerce.OrderStatusReceived:
			at = firstSet(o.ReceiveTime, o.UpdateTime)
		default:
			at = ms(o.UpdateTime)
		}
		in = map[string]any{"oid": o.ID, "sellerId": o.SellerID, "status": status, "updateTime": at}
	}
	c := message.Change{Kind: "order", ID: o.ID, Status: status, At: at}
	return r.publish(ctx, c, openID, app, ev, o.SellerID, in, st)
}

// refunds publishes the after-sale records updated in [begin, end), oldest
// first.
func (r *Reconciler) refunds(ctx context.Context, shop commerce.Shop, app string, begin, end time.Time, st *Stats, windowDone func(time.Time) error) error {
	q := commerce.RefundQuery{Start: begin, End: end, TimeField: commerce.ByUpdateTime}
	return shop.WalkRefunds(ctx, q, commerce.OldestFirst, func(b commerce.Batch[commerce.Refund]) error {
		for i := range b.Records {
			st.Seen++
			if err := r.refund(ctx, shop.OpenID, app, &b.Records[i], st); err != nil {
				return err
			}
		}
		if b.WindowDone {
			return windowDone(b.WindowEnd)
		}
		return nil
	})
}

// refund publishes the message a push of the record's creation or latest
// update would have carried.
func (r *Reconciler) refund(ctx context.Context, openID, app string, rf *commerce.Refund, st *Stats) error {
	if rf.ID == 0 {
		return nil
	}
	ev, at := message.EventRefundUpdated, ms(rf.UpdateTime)
	in := map[string]any{
		"orderId": rf.OrderID, "refundId": rf.ID, "handlingWay": int64(rf.HandlingWay),
		"specialRefundType": rf.SpecialRefundType, "status": int64(rf.Status),
	}
	if rf.UpdateTime.IsZero() || rf.UpdateTime.Equal(rf.CreateTime) {
		ev, at = message.EventRefundCreated, ms(rf.CreateTime)
		in["createTime"] = at
	} else {
		in["updateTime"] = at
	}
	c := message.Change{Kind: "refund", ID: rf.ID, Status: int64(rf.Status), At: at}
	return r.publish(ctx, c, openID, app, ev, rf.SellerID, in, st)
}

// publish stores the synthesized message of a change; JetStream drops it
// if a push (or an earlier pass) already stored the change.
func (r *Reconciler) publish(ctx context.Context, c message.Change, openID, app, event string, sellerID int64, info map[string]any, st *Stats) error {
	if !c.Valid() {
		return nil
	}
	infoJSON, _ := json.Marshal(info)
	p := message.Push{
		EventID: c.EventID(), BizID: jsonx.Int(c.ID), UserID: jsonx.Int(sellerID), OpenID: openID,
		AppKey: app, Event: event, Info: message.RawInfo(infoJSON), CreateTime: jsonx.Int(c.At),
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, dup, err := r.cfg.Log.Publish(ctx, p, plain, true)
	if err != nil {
		return err
	}
	if dup {
		st.Covered++
	} else {
		st.Published++
	}
	return nil
}
