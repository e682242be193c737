package message

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

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// The platform lost or never sent some pushes (protocol section 3.5 advises
// polling as a backstop). The reconciler polls each active shop's orders
// and refunds by update time since a stored cursor and publishes a
// synthesized message for every change. The synthesized message carries the
// same de-duplication id as a push of that change would (Change.DedupeID),
// so JetStream keeps whichever arrives first and drops the other: a change
// that a push already covered is not published again, and a push arriving
// after the reconciliation is acknowledged but not stored twice.

// Reconciliation defaults.
const (
	DefaultReconcileInterval = 5 * time.Minute
	DefaultReconcileLag      = 30 * time.Second
	// reconcileOverlap re-reads this much before the cursor, for changes
	// that became visible late; de-duplication absorbs the repeats.
	reconcileOverlap = time.Minute
	reconcileBucket  = "kwaishop_msg_reconcile"
	leaseKey         = "lease"

	orderWindow = 7 * 24 * time.Hour // open.order.cursor.list
	refundWin   = 24 * time.Hour     // open.seller.order.refund.pcursor.list
	cursorEnd   = "nomore"
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
type Caller interface {
	Do(ctx context.Context, r *platform.Request) (*platform.Response, error)
}

// ReconcilerConfig configures a Reconciler.
type ReconcilerConfig struct {
	Log    *Log
	Shops  Shops
	Tokens TokenSources
	Caller Caller
	// AppKey is written into synthesized messages.
	AppKey string
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
	cfg      ReconcilerConfig
	kv       jetstream.KeyValue
	leaseTTL time.Duration
	held     atomic.Bool
}

// ReconcileStats counts one pass.
type ReconcileStats struct {
	Shops, Seen, Published, Covered int
}

// NewReconciler opens the cursor and lease bucket.
func NewReconciler(ctx context.Context, cfg ReconcilerConfig) (*Reconciler, error) {
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
		cfg.Interval = DefaultReconcileInterval
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
	js := cfg.Log.js
	kv, err := js.KeyValue(ctx, reconcileBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      reconcileBucket,
			Description: "kwaishop-gateway: reconciliation cursors and lease",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, reconcileBucket)
		}
	}
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
func (r *Reconciler) RunOnce(ctx context.Context) (ReconcileStats, error) {
	var st ReconcileStats
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
		st.Shops++
		if slices.Contains(a.Scopes, "merchant_order") {
			if err := r.poll(ctx, a.OpenID, "order", orderWindow, r.orders, &st); err != nil {
				errs = append(errs, err)
			}
		}
		if slices.Contains(a.Scopes, "merchant_refund") {
			if err := r.poll(ctx, a.OpenID, "refund", refundWin, r.refunds, &st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if st.Published > 0 {
		r.cfg.Logger.InfoContext(ctx, "message: reconciliation published missing changes", "shops", st.Shops, "seen", st.Seen, "published", st.Published)
	}
	return st, errors.Join(errs...)
}

func cursorKey(openID, kind string) string { return "cursor." + openID + "." + kind }

// poll walks [cursor - overlap, now - lag) in windows the API accepts and
// advances the cursor after each window.
func (r *Reconciler) poll(ctx context.Context, openID, kind string, window time.Duration,
	list func(ctx context.Context, src platform.TokenSource, openID string, begin, end int64, st *ReconcileStats) error, st *ReconcileStats) error {
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
	for ws := begin; ws < end; ws += window.Milliseconds() {
		we := min(ws+window.Milliseconds(), end)
		if err := list(ctx, src, openID, ws, we, st); err != nil {
			return fmt.Errorf("message: reconcile %s %ss: %w", openID, kind, err)
		}
		if we > cursor {
			if _, err := r.kv.Put(ctx, key, []byte(strconv.FormatInt(we, 10))); err != nil {
				return err
			}
		}
	}
	return nil
}

type orderPage struct {
	Cursor    string `json:"cursor"`
	OrderList []struct {
		Base struct {
			Oid         flexInt `json:"oid"`
			Status      flexInt `json:"status"`
			CreateTime  flexInt `json:"createTime"`
			UpdateTime  flexInt `json:"updateTime"`
			PayTime     flexInt `json:"payTime"`
			SendTime    flexInt `json:"sendTime"`
			RecvTime    flexInt `json:"recvTime"`
			BuyerOpenID string  `json:"buyerOpenId"`
			SellerID    flexInt `json:"sellerId"`
		} `json:"orderBaseInfo"`
	} `json:"orderList"`
}

// orders lists orders updated in [begin, end) (open.order.cursor.list,
// queryType 2 = update time, sort 2 = oldest first).
func (r *Reconciler) orders(ctx context.Context, src platform.TokenSource, openID string, begin, end int64, st *ReconcileStats) error {
	cursor := ""
	for range 10000 {
		param, _ := json.Marshal(map[string]any{
			"orderViewStatus": 1, "pageSize": 50, "sort": 2, "queryType": 2,
			"beginTime": begin, "endTime": end, "cursor": cursor,
		})
		resp, err := r.cfg.Caller.Do(ctx, &platform.Request{Method: "open.order.cursor.list", Param: param, OpenID: openID, Token: src})
		if err != nil {
			return err
		}
		var page orderPage
		if err := json.Unmarshal(resp.Data, &page); err != nil {
			return fmt.Errorf("decode order page: %w", err)
		}
		for _, o := range page.OrderList {
			b := o.Base
			st.Seen++
			ev, ok := orderStatusEvent[int64(b.Status)]
			if !ok || b.Oid == 0 {
				continue
			}
			// The change's time: the status's own time when the list has it
			// (it equals the push's updateTime), else updateTime.
			at := int64(b.UpdateTime)
			var in map[string]any
			switch int64(b.Status) {
			case orderStatusUnpaid:
				at = first(b.CreateTime, b.UpdateTime)
				in = map[string]any{"oid": int64(b.Oid), "sellerId": int64(b.SellerID), "openId": openID, "buyerOpenId": b.BuyerOpenID, "createTime": at}
			default:
				switch int64(b.Status) {
				case 30:
					at = first(b.PayTime, b.UpdateTime)
				case 40:
					at = first(b.SendTime, b.UpdateTime)
				case 50:
					at = first(b.RecvTime, b.UpdateTime)
				}
				in = map[string]any{"oid": int64(b.Oid), "sellerId": int64(b.SellerID), "status": int64(b.Status), "updateTime": at}
			}
			c := Change{Kind: "order", ID: int64(b.Oid), Status: int64(b.Status), At: at}
			if err := r.publish(ctx, c, openID, ev, int64(b.SellerID), in, st); err != nil {
				return err
			}
		}
		if page.Cursor == "" || page.Cursor == cursorEnd || len(page.OrderList) == 0 {
			return nil
		}
		cursor = page.Cursor
	}
	return errors.New("order listing did not end")
}

type refundPage struct {
	Pcursor string `json:"pcursor"`
	List    []struct {
		RefundID          flexInt `json:"refundId"`
		Oid               flexInt `json:"oid"`
		SellerID          flexInt `json:"sellerId"`
		Status            flexInt `json:"status"`
		HandlingWay       flexInt `json:"handlingWay"`
		SpecialRefundType flexInt `json:"specialRefundType"`
		CreateTime        flexInt `json:"createTime"`
		UpdateTime        flexInt `json:"updateTime"`
	} `json:"refundOrderInfoList"`
}

// refunds lists refunds updated in [begin, end)
// (open.seller.order.refund.pcursor.list, type 9 = all, queryType 2).
func (r *Reconciler) refunds(ctx context.Context, src platform.TokenSource, openID string, begin, end int64, st *ReconcileStats) error {
	pcursor := ""
	for range 10000 {
		param, _ := json.Marshal(map[string]any{
			"beginTime": begin, "endTime": end, "type": 9, "pageSize": 100, "currentPage": 1,
			"sort": 2, "queryType": 2, "pcursor": pcursor,
		})
		resp, err := r.cfg.Caller.Do(ctx, &platform.Request{Method: "open.seller.order.refund.pcursor.list", Param: param, OpenID: openID, Token: src})
		if err != nil {
			return err
		}
		var page refundPage
		if err := json.Unmarshal(resp.Data, &page); err != nil {
			return fmt.Errorf("decode refund page: %w", err)
		}
		for _, rf := range page.List {
			st.Seen++
			if rf.RefundID == 0 {
				continue
			}
			ev, at := EventRefundUpdated, int64(rf.UpdateTime)
			in := map[string]any{
				"orderId": int64(rf.Oid), "refundId": int64(rf.RefundID), "handlingWay": int64(rf.HandlingWay),
				"specialRefundType": int64(rf.SpecialRefundType), "status": int64(rf.Status),
			}
			if rf.UpdateTime == 0 || rf.UpdateTime == rf.CreateTime {
				ev, at = EventRefundCreated, int64(rf.CreateTime)
				in["createTime"] = at
			} else {
				in["updateTime"] = at
			}
			c := Change{Kind: "refund", ID: int64(rf.RefundID), Status: int64(rf.Status), At: at}
			if err := r.publish(ctx, c, openID, ev, int64(rf.SellerID), in, st); err != nil {
				return err
			}
		}
		if page.Pcursor == "" || page.Pcursor == cursorEnd || len(page.List) == 0 {
			return nil
		}
		pcursor = page.Pcursor
	}
	return errors.New("refund listing did not end")
}

// publish stores the synthesized message of a change; JetStream drops it
// if a push (or an earlier pass) already stored the change.
func (r *Reconciler) publish(ctx context.Context, c Change, openID, event string, sellerID int64, info map[string]any, st *ReconcileStats) error {
	if !c.valid() {
		return nil
	}
	infoJSON, _ := json.Marshal(info)
	p := Push{
		EventID: c.EventID(), BizID: flexInt(c.ID), UserID: flexInt(sellerID), OpenID: openID,
		AppKey: r.cfg.AppKey, Event: event, Info: rawInfo(infoJSON), CreateTime: flexInt(c.At),
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
