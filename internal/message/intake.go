package message

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
)

// Intake defaults.
const (
	// DefaultMaxBodyBytes caps a push body. Real pushes are a few KiB.
	DefaultMaxBodyBytes = 256 << 10
	// DefaultStoreTimeout bounds the store write: the platform waits 3 s
	// for the acknowledgement (protocol section 3.2).
	DefaultStoreTimeout = 2500 * time.Millisecond
)

// Intake is the push endpoint (POST /callbacks/messages). It answers HTTP
// 200 {"result":1} only after the message is durably stored (or found to
// be a duplicate), so a push the platform counts as delivered is never
// lost; it never calls the platform.
type Intake struct {
	keys     []Key
	log      *Log
	logger   *slog.Logger
	maxBytes int64
	timeout  time.Duration

	stored, duplicates, heartbeats, failed atomic.Int64
	rejectMu                               sync.Mutex
	rejected                               map[string]int64
	counter                                metric.Int64Counter
}

// IntakeConfig configures an Intake.
type IntakeConfig struct {
	Keys         []Key // the apps' message keys, tried in order
	MaxBodyBytes int64 // default DefaultMaxBodyBytes
	StoreTimeout time.Duration
	Logger       *slog.Logger
	// MeterProvider for the kwaishop.messages.refused counter (default global).
	MeterProvider metric.MeterProvider
}

// NewIntake builds the push handler on l.
func NewIntake(l *Log, cfg IntakeConfig) *Intake {
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
	c, _ := cfg.MeterProvider.Meter("github.com/kwaishop-gateway/kwaishop-gateway/internal/message").Int64Counter(
		"kwaishop.messages.refused", metric.WithUnit("{message}"),
		metric.WithDescription("Pushes answered without {\"result\":1}: refused bodies (400) by reason, store_unavailable (503)."))
	return &Intake{
		keys: cfg.Keys, log: l, logger: cfg.Logger, maxBytes: cfg.MaxBodyBytes, timeout: cfg.StoreTimeout,
		rejected: map[string]int64{}, counter: c,
	}
}

// IntakeStats counts the intake's outcomes since start.
type IntakeStats struct {
	Stored, Duplicates, Heartbeats, Failed int64
	Rejected                               map[string]int64 // by reason
}

// Stats returns the counters.
func (in *Intake) Stats() IntakeStats {
	in.rejectMu.Lock()
	rej := make(map[string]int64, len(in.rejected))
	for k, v := range in.rejected {
		rej[k] = v
	}
	in.rejectMu.Unlock()
	return IntakeStats{
		Stored: in.stored.Load(), Duplicates: in.duplicates.Load(), Heartbeats: in.heartbeats.Load(),
		Failed: in.failed.Load(), Rejected: rej,
	}
}

// count counts a push that was not acknowledged, by reason.
func (in *Intake) count(ctx context.Context, reason string) {
	in.counter.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

var (
	okBody = []byte(`{"result":1}` + "\n")
)

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
func (in *Intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, errorBody("method_not_allowed"))
		return
	}
	body, err := in.read(w, r)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	plain, heartbeat, err := Decode(in.keys, body)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	if heartbeat {
		in.heartbeats.Add(1)
		answer(w, http.StatusOK, okBody)
		return
	}
	p, err := ParsePush(plain)
	if err != nil {
		in.refuse(ctx, w, r, err, len(body))
		return
	}
	sctx, cancel := context.WithTimeout(ctx, in.timeout)
	defer cancel()
	seq, dup, err := in.log.Publish(sctx, p, plain, false)
	if err != nil {
		in.failed.Add(1)
		in.count(ctx, "store_unavailable")
		// Not acknowledged: the platform retries (section 3.5).
		in.logger.ErrorContext(ctx, "message: intake: store failed; push not acknowledged", "event", p.Event, "event_id", p.EventID, "err", err)
		answer(w, http.StatusServiceUnavailable, errorBody("store_unavailable"))
		return
	}
	if dup {
		in.duplicates.Add(1)
		in.log.obs.Duplicated(ctx, p.Event)
	} else {
		in.stored.Add(1)
		in.log.obs.Received(ctx, p.Event)
	}
	in.logger.DebugContext(ctx, "message: intake", "event", p.Event, "event_id", p.EventID, "sequence", seq, "duplicate", dup)
	answer(w, http.StatusOK, okBody)
}

func (in *Intake) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > in.maxBytes {
		return nil, reject(ReasonOversized, "body exceeds the size limit")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, in.maxBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, reject(ReasonOversized, "body exceeds the size limit")
	}
	if err != nil {
		return nil, reject(ReasonMalformed, "body could not be read")
	}
	return body, nil
}

// refuse answers 400, counts and logs the reason, never the body.
func (in *Intake) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, n int) {
	reason := ReasonMalformed
	var re *RejectError
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
	var re *RejectError
	if errors.As(err, &re) {
		return re.Detail
	}
	return "invalid body"
}
