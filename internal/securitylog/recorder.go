package securitylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// The stream and its sender's durable consumer, shared by every replica.
const (
	StreamName   = "KWAISHOP_SECURITY_LOGS"
	SubjectBase  = "kwaishop.seclog."
	ConsumerName = "kwaishop-seclog-sender"
)

// Instrumentation is the name of the package's meter.
const Instrumentation = "github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"

// Caller sends one platform call (the gateway's one upstream client).
type Caller interface {
	Do(ctx context.Context, r *platform.Request) (*platform.Response, error)
}

// Tokens hands out a shop's token source (*token.Manager).
type Tokens interface {
	Shop(ctx context.Context, openID string) (platform.TokenSource, error)
}

// Config configures a Recorder.
type Config struct {
	Settings Settings
	JS       jetstream.JetStream
	Replicas int // of the stream (default 1)
	Caller   Caller
	Tokens   Tokens
	// ShopApp names a shop's app (*token.Manager); needed only when
	// Settings.Apps names apps.
	ShopApp       func(ctx context.Context, openID string) (string, error)
	Log           *slog.Logger
	MeterProvider metric.MeterProvider
	Now           func() time.Time
}

// Recorder stores security-log entries and sends them. A nil Recorder, or
// one whose settings are off, records nothing.
type Recorder struct {
	cfg      Config
	stream   jetstream.Stream
	consumer jetstream.Consumer

	sent                                 atomic.Int64
	failedStore, failedRetry, failedDrop atomic.Int64 // by reason: store, retry, dropped
	notStored                            atomic.Int64 // entries not stored since the last "not stored" line
	pending                              atomic.Int64 // from the consumer, refreshed by the sender
	warnUnnamedEvery, notStoredEvery     rate.Sometimes

	mSent, mFailed metric.Int64Counter
	mu             sync.Mutex // one sender pass at a time in this process
}

// Open creates or updates the stream and the sender's consumer. With the
// settings off it returns a Recorder that records nothing.
func Open(ctx context.Context, cfg Config) (*Recorder, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	r := &Recorder{cfg: cfg, warnUnnamedEvery: rate.Sometimes{Interval: time.Minute}, notStoredEvery: rate.Sometimes{Interval: time.Minute}}
	if !cfg.Settings.Enabled {
		return r, nil
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.JS == nil || cfg.Caller == nil || cfg.Tokens == nil {
		return nil, errors.New("securitylog: JS, Caller and Tokens are required")
	}
	var err error
	r.stream, err = cfg.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "kwaishop-gateway: security access logs not yet accepted by the platform",
		Subjects:    []string{SubjectBase + ">"},
		Retention:   jetstream.WorkQueuePolicy, // an entry is gone once the platform accepted it
		Discard:     jetstream.DiscardNew,      // full: refuse new entries rather than drop unsent ones
		MaxAge:      cfg.Settings.Retention,
		MaxBytes:    cfg.Settings.MaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("securitylog: stream %s: %w", StreamName, err)
	}
	r.consumer, err = r.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "kwaishop-gateway: sends security logs to the platform (shared by replicas)",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       2 * time.Minute,
		MaxDeliver:    -1, // retried until the platform accepts or the retention ends
		MaxAckPending: 20000,
	})
	if err != nil {
		return nil, fmt.Errorf("securitylog: consumer: %w", err)
	}
	m := cfg.MeterProvider.Meter(Instrumentation)
	r.mSent, _ = m.Int64Counter("kwaishop.security_log.sent", metric.WithUnit("{entry}"),
		metric.WithDescription("security-log entries the platform accepted"))
	r.mFailed, _ = m.Int64Counter("kwaishop.security_log.failed", metric.WithUnit("{entry}"),
		metric.WithDescription("security-log entries not stored, or sent and refused (reason: store, retry, dropped)"))
	_, _ = m.Int64ObservableGauge("kwaishop.security_log.pending", metric.WithUnit("{entry}"),
		metric.WithDescription("security-log entries stored and not yet accepted by the platform"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(r.pending.Load())
			return nil
		}))
	return r, nil
}

// Enabled reports whether r records entries.
func (r *Recorder) Enabled() bool { return r != nil && r.stream != nil }

// OrderAccess records an access to orders of the shop openID through the
// gateway, attributed to the end user in ctx (FromMetadata), or to the
// gateway's identity with DefaultOperation (and a rate-limited warning)
// when the caller named none. access names what the gateway did (an RPC or
// a platform API); it is the URL reported by default. At most
// MaxOrderIDsPerAccess ids are recorded, in entries of at most
// MaxOrderIDsPerEntry. It returns once the entries are stored; an error
// (ErrNotStored, ErrFull) means the access is not recorded, and its data
// must not be answered.
func (r *Recorder) OrderAccess(ctx context.Context, openID string, orderIDs []int64, access string) error {
	if !r.reports(ctx, openID) || len(orderIDs) == 0 {
		return nil
	}
	ids := dedupe(orderIDs)
	if len(ids) > MaxOrderIDsPerAccess {
		r.cfg.Log.WarnContext(ctx, "security log: access to more orders than one access records; the rest is not logged",
			"open_id", openID, "orders", len(ids), "recorded", MaxOrderIDsPerAccess)
		ids = ids[:MaxOrderIDsPerAccess]
	}
	base := r.attributed(ctx, access)
	base.Kind, base.OpenID = KindOrder, openID
	var errs []error
	for len(ids) > 0 {
		n := min(len(ids), MaxOrderIDsPerEntry)
		e := base
		e.OrderIDs = ids[:n:n]
		ids = ids[n:]
		errs = append(errs, r.store(ctx, e))
	}
	return errors.Join(errs...)
}

// OrderQuery records an access to orders without their ids (a search, an
// export): data describes it, total is how many orders (0: unknown).
func (r *Recorder) OrderQuery(ctx context.Context, openID, data string, total int64, access string) error {
	if !r.reports(ctx, openID) {
		return nil
	}
	e := r.attributed(ctx, access)
	e.Kind, e.OpenID, e.Data, e.OrderTotal = KindOrder, openID, data, total
	return r.store(ctx, e)
}

// Report stores an entry a caller reported explicitly (a login, or an
// export: KindBatch, up to MaxOrderIDsPerAccess ids or data): e is
// complete and is checked here (Check: a *FieldError names the field).
func (r *Recorder) Report(ctx context.Context, e Entry) error {
	if !r.reports(ctx, e.OpenID) {
		return ErrDisabled
	}
	if err := e.Check(); err != nil {
		return err
	}
	return r.store(ctx, e)
}

// ErrNotStored: the entry could not be stored (the stream is full or
// unavailable); it is counted as failed (reason store). The access it
// records must not be answered (docs/security-logs.md, When the stream is
// full).
var ErrNotStored = errors.New("securitylog: entry not stored")

// ErrFull: the entry was not stored because the stream holds
// KWAISHOP_SECURITY_LOG_MAX_BYTES of unsent entries (errors.Is ErrNotStored
// too).
var ErrFull = fmt.Errorf("%w: the stream is full", ErrNotStored)

// ErrDisabled: the security logs are off for the shop's app.
var ErrDisabled = errors.New("securitylog: security logs are off for this shop's app")

// Check checks an entry before it is stored.
func (e Entry) Check() error {
	maxIDs := MaxOrderIDsPerEntry
	switch e.Kind {
	case KindOrder, KindLogin:
	case KindBatch:
		maxIDs = MaxOrderIDsPerAccess
	default:
		return &FieldError{Field: "kind", Description: "unknown kind"}
	}
	if e.OpenID == "" || len(e.OpenID) > 128 {
		return &FieldError{Field: "open_id", Description: "want 1 to 128 characters"}
	}
	if _, err := parseIP(e.UserIP); err != nil {
		return &FieldError{Field: "user_ip", Description: "want the end user's IPv4 or IPv6 address"}
	}
	if e.Kind == KindOrder || e.Kind == KindBatch {
		if err := checkURL(e.URL); err != nil {
			return &FieldError{Field: "url", Description: err.Error()}
		}
		if e.Operation < 1 || e.Operation > MaxOperation {
			return &FieldError{Field: "operation", Description: fmt.Sprintf("want 1 to %d", MaxOperation)}
		}
		if len(e.OrderIDs) > maxIDs {
			return &FieldError{Field: "order_ids", Description: fmt.Sprintf("at most %d per entry", maxIDs)}
		}
		for _, id := range e.OrderIDs {
			if id <= 0 {
				return &FieldError{Field: "order_ids", Description: "want positive order ids"}
			}
		}
		if len(e.OrderIDs) == 0 && e.Data == "" {
			return &FieldError{Field: "data", Description: "an entry without order ids needs data (the filter of the orders)"}
		}
	}
	if e.Kind == KindLogin && (e.LoginResult == "" || len(e.LoginResult) > MaxLoginResultLen) {
		return &FieldError{Field: "login_result", Description: fmt.Sprintf("want 1 to %d bytes", MaxLoginResultLen)}
	}
	if len(e.LoginMessage) > MaxDataLen {
		return &FieldError{Field: "login_message", Description: fmt.Sprintf("at most %d bytes", MaxDataLen)}
	}
	if len(e.Data) > MaxDataLen {
		return &FieldError{Field: "data", Description: fmt.Sprintf("at most %d bytes", MaxDataLen)}
	}
	if e.OrderTotal < 0 {
		return &FieldError{Field: "order_total", Description: "must not be negative"}
	}
	if e.Time <= 0 {
		return &FieldError{Field: "time", Description: "required"}
	}
	return nil
}

// Bounds of an entry's texts: its data and login message, its login result.
const (
	MaxDataLen        = 4096
	MaxLoginResultLen = 64
)

// Now is the recorder's clock (a nil Recorder's: time.Now).
func (r *Recorder) Now() time.Time {
	if r == nil || r.cfg.Now == nil {
		return time.Now()
	}
	return r.cfg.Now()
}

// reports says whether accesses of openID's shop are recorded.
func (r *Recorder) reports(ctx context.Context, openID string) bool {
	if !r.Enabled() || openID == "" {
		return false
	}
	if len(r.cfg.Settings.Apps) == 0 || r.cfg.ShopApp == nil {
		return true
	}
	app, err := r.cfg.ShopApp(ctx, openID)
	return err == nil && r.cfg.Settings.Reports(app)
}

// attributed is an entry attributed to ctx's end user, or to the defaults.
func (r *Recorder) attributed(ctx context.Context, access string) Entry {
	a, _ := AttributionFrom(ctx)
	e := Entry{UserIP: a.UserIP, URL: a.URL, Operation: a.Operation, Time: millis(r.cfg.Now())}
	if e.UserIP == "" {
		e.UserIP, e.Defaulted = r.cfg.Settings.DefaultIP, true
	}
	if e.URL == "" {
		e.URL = "kwaishop-gateway:" + access
	}
	if e.Operation == 0 {
		e.Operation = DefaultOperation
	}
	if !a.Named {
		r.warnUnnamed(ctx, access)
	}
	return e
}

// warnUnnamed logs at most one warning a minute that accesses are logged
// without an end user.
func (r *Recorder) warnUnnamed(ctx context.Context, access string) {
	r.warnUnnamedEvery.Do(func() {
		r.cfg.Log.WarnContext(ctx, "security log: the caller named no end user; the gateway's identity is reported (set "+
			MetadataUserIP+", "+MetadataUserURL+", "+MetadataOperation+"; docs/security-logs.md)", "access", access)
	})
}

// store appends e to the stream and returns once it is stored.
func (r *Recorder) store(ctx context.Context, e Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	m := nats.NewMsg(SubjectBase + e.Kind)
	m.Data = raw
	// The caller's cancellation must not lose an entry of an access that
	// already happened.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := r.cfg.JS.PublishMsg(sctx, m); err != nil {
		r.fail(ctx, reasonStore, 1)
		if store.Full(err) {
			r.reportNotStored(ctx, "security log: the stream is full (KWAISHOP_SECURITY_LOG_MAX_BYTES): the platform has not "+
				"accepted the stored entries; order data is refused until the sender catches up (docs/security-logs.md)", e, err)
			return fmt.Errorf("%w: %w", ErrFull, err)
		}
		r.reportNotStored(ctx, "security log: entry not stored; order data is refused until the store accepts entries (docs/security-logs.md)", e, err)
		return fmt.Errorf("%w: %w", ErrNotStored, err)
	}
	return nil
}

// reportNotStored logs an entry the store refused, at ERROR, at most once
// a minute with how many were refused since the last line: every refused
// read tries again, and a full stream must not flood the log.
func (r *Recorder) reportNotStored(ctx context.Context, msg string, e Entry, err error) {
	r.notStored.Add(1)
	r.notStoredEvery.Do(func() {
		n := r.notStored.Swap(0)
		r.cfg.Log.ErrorContext(ctx, msg, "not_stored", max(n, 1), "open_id", e.OpenID, "kind", e.Kind, "err", err)
	})
}
