// Package intake is the push endpoint (POST /callbacks/messages,
// docs/messages.md): it reads a push under its own size cap, decrypts it
// with the apps' message keys, judges its freshness and stores it in the
// message log before it acknowledges it.
package intake

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// Defaults.
const (
	// DefaultMaxBodyBytes caps a push body. Real pushes are a few KiB.
	DefaultMaxBodyBytes = 256 << 10
	// DefaultStoreTimeout bounds the store write: the platform waits 3 s
	// for the acknowledgement.
	DefaultStoreTimeout = 2500 * time.Millisecond
	// minDatedMillis: a createTime below this (2001-09-09 in milliseconds)
	// is not a millisecond time the platform would send; such a push is
	// treated as undated rather than as 50 years old.
	minDatedMillis = 1_000_000_000_000
)

// Handler is the push endpoint (POST /callbacks/messages, and per app
// POST /callbacks/messages/{app_key}: only that app's keys are tried, and
// only its messages accepted). It answers HTTP
// 200 {"result":1} only after the message is durably stored (or found to
// be a duplicate, or too old to store: see ServeHTTP), so a push the
// platform counts as delivered is never lost; it never calls the platform.
type Handler struct {
	keys     []message.Key
	byApp    map[string][]message.Key // keys bound to each app
	log      *msglog.Log
	obs      message.Observer
	logger   *slog.Logger
	maxBytes int64
	timeout  time.Duration
	window   time.Duration // the log's de-duplication window
	now      func() time.Time

	stored, duplicates, heartbeats, failed, stale atomic.Int64
	rejectMu                                      sync.Mutex
	rejected                                      map[string]int64
	counter                                       metric.Int64Counter
}

// Config configures a Handler.
type Config struct {
	Keys         []message.Key // the apps' message keys, tried in order
	MaxBodyBytes int64         // default DefaultMaxBodyBytes
	StoreTimeout time.Duration
	Logger       *slog.Logger
	// Observer counts stored and duplicate pushes (optional).
	Observer message.Observer
	// MeterProvider for the kwaishop.messages.refused counter (default global).
	MeterProvider metric.MeterProvider
	// Now is the clock pushes' times are judged by (default time.Now).
	Now func() time.Time
}

// New builds the push handler on l.
func New(l *msglog.Log, cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = message.NopObserver{}
	}
	c, _ := cfg.MeterProvider.Meter(msglog.Instrumentation).Int64Counter(
		"kwaishop.messages.refused", metric.WithUnit("{message}"),
		metric.WithDescription("Pushes not stored: refused bodies (400) by reason, store_unavailable (503), and stale (older than the de-duplication window: answered {\"result\":1}, not stored)."))
	byApp := map[string][]message.Key{}
	for _, k := range cfg.Keys {
		if k.AppKey != "" {
			byApp[k.AppKey] = append(byApp[k.AppKey], k)
		}
	}
	return &Handler{
		keys: cfg.Keys, byApp: byApp, log: l, obs: cfg.Observer, logger: cfg.Logger, maxBytes: cfg.MaxBodyBytes, timeout: cfg.StoreTimeout,
		window: l.Config().DedupeWindow, now: cfg.Now, rejected: map[string]int64{}, counter: c,
	}
}

// Stats counts the intake's outcomes since start.
type Stats struct {
	Stored, Duplicates, Heartbeats, Failed int64
	Stale                                  int64            // acknowledged, not stored
	Rejected                               map[string]int64 // by reason
}

// Stats returns the counters.
func (in *Handler) Stats() Stats {
	in.rejectMu.Lock()
	rej := make(map[string]int64, len(in.rejected))
	for k, v := range in.rejected {
		rej[k] = v
	}
	in.rejectMu.Unlock()
	return Stats{
		Stored: in.stored.Load(), Duplicates: in.duplicates.Load(), Heartbeats: in.heartbeats.Load(),
		Failed: in.failed.Load(), Stale: in.stale.Load(), Rejected: rej,
	}
}

// count counts a push that was not acknowledged, by reason.
func (in *Handler) count(ctx context.Context, reason string) {
	in.counter.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

var (
	okBody = []byte(`{"result":1}` + "\n")
)

// PathApp is the path wildcard of the per-app push route
// (POST /callbacks/messages/{app_key}).
const PathApp = "app_key"

// ReasonUnknownApp: a push to the route of an app without a message key
// here (404).
const ReasonUnknownApp = "unknown_app"

func answer(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func errorBody(reason string) []byte {
	return []byte(`{"result":0,"error":"` + reason + `"}` + "\n")
}

// ServeHTTP handles one push.
func (in *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, errorBody("method_not_allowed"))
		return
	}
	keys := in.keys
	if app := r.PathValue(PathApp); app != "" {
		if keys = in.byApp[app]; len(keys) == 0 {
			in.count(ctx, ReasonUnknownApp)
			answer(w, http.StatusNotFound, errorBody(ReasonUnknownApp))
			return
		}
	}
	body, err := in.read(w, r)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	plain, key, heartbeat, err := message.DecodeKey(keys, body)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	if heartbeat {
		in.heartbeats.Add(1)
		answer(w, http.StatusOK, okBody)
		return
	}
	p, err := message.ParsePush(plain)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	if p.AppKey == "" {
		p.AppKey = key.AppKey // the app whose key opened it (DecodeKey checked a named one)
	}
	if age, dated := in.age(p); dated && age > in.window {
		// Older than the de-duplication window: the log may have forgotten
		// it was stored, so storing it would deliver it again. No retry of
		// the platform is ever this old (it retries for 125 minutes, and the
		// window is at least that), so this is a replay, or an operator's
		// manual re-push of an old message. Answered {"result":1}: the body
		// is authentic (it decrypted with the app's key), a retry could only
		// make it older, and a refusal would only make the platform push it
		// again for two hours and count the URL as failing.
		in.stale.Add(1)
		in.count(ctx, message.ReasonStale)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		in.logger.WarnContext(ctx, "message: intake: stale push not stored: older than the de-duplication window (a replay?)",
			"event", p.Event, "event_id", p.EventID, "age", age.Round(time.Second).String(), "window", in.window.String(), "remote", host)
		answer(w, http.StatusOK, okBody)
		return
	} else if dated && age < -message.MaxFutureSkew {
		// Dated ahead of our clock: a clock is wrong on one side. Refused
		// (400), so the platform retries (5 to 125 minutes later), by when
		// the push is within the skew or the clock was fixed; storing it
		// would let a replay of it outlive its de-duplication entry.
		in.refuse(ctx, w, r, message.Reject(message.ReasonFuture, "createTime is more than "+message.MaxFutureSkew.String()+" ahead of the gateway's clock"), len(body))
		return
	}
	sctx, cancel := context.WithTimeout(ctx, in.timeout)
	defer cancel()
	seq, dup, err := in.log.Publish(sctx, p, plain, false)
	if err != nil {
		in.failed.Add(1)
		in.count(ctx, "store_unavailable")
		// Not acknowledged: the platform retries (see MinDedupeWindow).
		in.logger.ErrorContext(ctx, "message: intake: store failed; push not acknowledged", "event", p.Event, "event_id", p.EventID, "err", err)
		answer(w, http.StatusServiceUnavailable, errorBody("store_unavailable"))
		return
	}
	if dup {
		in.duplicates.Add(1)
		in.obs.Duplicated(ctx, p.AppKey, p.Event)
	} else {
		in.stored.Add(1)
		in.obs.Received(ctx, p.AppKey, p.Event)
	}
	in.logger.DebugContext(ctx, "message: intake", "event", p.Event, "event_id", p.EventID, "sequence", seq, "duplicate", dup)
	answer(w, http.StatusOK, okBody)
}

// age is how old a push is by its own time (createTime, milliseconds),
// negative for one dated ahead; dated is false when it carries no usable
// time, which is then not judged.
func (in *Handler) age(p message.Push) (age time.Duration, dated bool) {
	ms := int64(p.CreateTime)
	if ms < minDatedMillis {
		return 0, false
	}
	return in.now().Sub(time.UnixMilli(ms)), true
}

func (in *Handler) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > in.maxBytes {
		return nil, message.Reject(message.ReasonOversized, "body exceeds the size limit")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, in.maxBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, message.Reject(message.ReasonOversized, "body exceeds the size limit")
	}
	if err != nil {
		return nil, message.Reject(message.ReasonMalformed, "body could not be read")
	}
	return body, nil
}

// refuse answers 400, counts and logs the reason, never the body.
func (in *Handler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, n int) {
	reason := message.ReasonMalformed
	var re *message.RejectError
	if errors.As(err, &re) {
		reason = re.Reason
	}
	in.rejectMu.Lock()
	in.rejected[reason]++
	in.rejectMu.Unlock()
	in.count(ctx, reason)
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	in.logger.WarnContext(ctx, "message: intake: push refused", "reason", reason, "detail", detail(err), "bytes", n, "remote", host)
	code := http.StatusBadRequest
	answer(w, code, errorBody(reason))
}

func detail(err error) string {
	var re *message.RejectError
	if errors.As(err, &re) {
		return re.Detail
	}
	return "invalid body"
}
