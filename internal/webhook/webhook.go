// Package webhook delivers the gateway's events to plain HTTP endpoints,
// signed as the Standard Webhooks specification describes (docs/webhooks.md):
// headers webhook-id, webhook-timestamp and webhook-signature ("v1," + base64
// HMAC-SHA256 of "id.timestamp.body" under each secret), secrets
// "whsec_<base64>".
//
// Layout in JetStream:
//
//	KWAISHOP_WEBHOOKS           KV: ep.<id> = endpoint (secrets sealed with the token keyring)
//	KWAISHOP_WEBHOOK_STATS      KV: <id>.<replica> = one replica's delivery counters
//	KWAISHOP_WEBHOOK_EVENTS     kwaishop.authz.events.<open_id>     authorization events (the token
//	                                                                 manager's core NATS publishes, kept)
//	                            kwaishop.webhook.events.<id>        endpoint announcements
//	                            kwaishop.webhook.redeliver.<id>.<s> requeued and replayed copies for one endpoint
//	KWAISHOP_WEBHOOK_DEAD       kwaishop.webhook.dead.<id>          events an endpoint did not take in time
//
// Every endpoint has two durable consumers, wh~<id>~m on the message log
// (KWAISHOP_MESSAGES, only when it wants messages) and wh~<id>~e on the
// events stream. Their names cannot collide with consumer groups (those are
// [A-Za-z0-9_-]). Each is pinned to one replica at a time (a JetStream
// priority group), so one replica delivers an endpoint's events and keeps
// their order per shop; see deliver.go.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// Defaults.
const (
	DefaultTimeout       = 15 * time.Second
	DefaultRetryInitial  = 5 * time.Second
	DefaultRetryMaxDelay = time.Hour
	DefaultRetryBudget   = 24 * time.Hour
	DefaultDisableAfter  = 5 * 24 * time.Hour
	DefaultConcurrency   = 8
	DefaultMaxEndpoints  = 50
	DefaultSecretGrace   = 24 * time.Hour
	DefaultRetention     = 7 * 24 * time.Hour
	MaxSecretGrace       = 7 * 24 * time.Hour
	maxDescriptionLen    = 256
	maxSecrets           = 5 // the current one and up to four in grace

	endpointBucket = "KWAISHOP_WEBHOOKS"
	statsBucket    = "KWAISHOP_WEBHOOK_STATS"
	eventsStream   = "KWAISHOP_WEBHOOK_EVENTS"
	deadStream     = "KWAISHOP_WEBHOOK_DEAD"
	keyPrefix      = "ep."
	idPrefix       = "ep_"
)

// Errors.
var (
	// ErrNotFound: no such endpoint (or dead letter of it).
	ErrNotFound = errors.New("webhook: no such endpoint")
	// ErrTooMany: the server's endpoint limit is reached.
	ErrTooMany = errors.New("webhook: too many endpoints")
)

// Violation is one invalid request field.
type Violation struct{ Field, Description string }

// InvalidError lists the invalid fields of a request.
type InvalidError struct{ Violations []Violation }

func (e *InvalidError) Error() string {
	if len(e.Violations) == 0 {
		return "webhook: invalid request"
	}
	return "webhook: " + e.Violations[0].Field + ": " + e.Violations[0].Description
}

func invalid(vs ...Violation) error { return &InvalidError{Violations: vs} }

// Config configures an Engine.
type Config struct {
	JetStream jetstream.JetStream
	Replicas  int            // of the streams, buckets and consumers (default 1)
	Keyring   *store.Keyring // seals the signing secrets at rest (required)
	ReplicaID string         // names this replica's statistics
	Retention time.Duration  // of the events and dead-letter streams (default 7 days)

	Guard         Guard         // which URLs and addresses endpoints may use
	Timeout       time.Duration // of one delivery attempt (default 15s)
	RetryInitial  time.Duration // first retry delay (default 5s), doubling with jitter
	RetryMaxDelay time.Duration // longest retry delay (default 1h)
	RetryBudget   time.Duration // how long an event is retried before it becomes a dead letter (default 24h)
	DisableAfter  time.Duration // an endpoint failing this long is disabled (default 5 days; <0 = never)
	Concurrency   int           // concurrent attempts per endpoint (default 8)
	MaxEndpoints  int           // endpoints the server keeps (default 50)
	SecretGrace   time.Duration // default grace of a rotated secret (default 24h)
	StatsFlush    time.Duration // how often counters are written to the store (default 5s)

	// Render writes the data of the webhooks (required).
	Render Renderer

	Logger        *slog.Logger
	MeterProvider metric.MeterProvider
	Now           func() time.Time
}

// Renderer writes the data member of webhooks in the API's JSON form (the
// proto messages' JSON with their field names): internal/service implements
// it, so a webhook shows an event as the API does.
type Renderer interface {
	// Message renders a stored message (message.* webhooks).
	Message(message.Message) ([]byte, error)
	// Authorization renders a lifecycle event (authorization.* webhooks).
	Authorization(token.Event) ([]byte, error)
	// EndpointDisabled renders the data of webhook.endpoint_disabled: the
	// endpoint's id, description, disabled reason, failing-since and update
	// time; never its URL (its query may hold a receiver's credential).
	EndpointDisabled(Endpoint) ([]byte, error)
}

func (c *Config) defaults() {
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RetryInitial <= 0 {
		c.RetryInitial = DefaultRetryInitial
	}
	if c.RetryMaxDelay <= 0 {
		c.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if c.RetryBudget <= 0 {
		c.RetryBudget = DefaultRetryBudget
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxEndpoints <= 0 {
		c.MaxEndpoints = DefaultMaxEndpoints
	}
	if c.SecretGrace <= 0 {
		c.SecretGrace = DefaultSecretGrace
	}
	if c.StatsFlush <= 0 {
		c.StatsFlush = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReplicaID == "" {
		c.ReplicaID = "replica"
	}
}

// Endpoint is a delivery target as the API shows it (never its secrets).
type Endpoint struct {
	ID                   string    `json:"id"`
	URL                  string    `json:"url"`
	EventTypes           []string  `json:"event_types"`
	OpenIDs              []string  `json:"open_ids,omitempty"`
	Description          string    `json:"description,omitempty"`
	Disabled             bool      `json:"disabled,omitempty"`
	DisabledReason       string    `json:"disabled_reason,omitempty"`
	Created              time.Time `json:"created"`
	Updated              time.Time `json:"updated"`
	FailingSince         time.Time `json:"failing_since,omitzero"`
	PreviousSecretExpiry time.Time `json:"-"` // derived from the secrets
}

// Input is what a caller sets on create and update.
type Input struct {
	URL         string
	EventTypes  []string
	OpenIDs     []string
	Description string
	Disabled    bool
}

// Update mask paths.
const (
	FieldURL         = "url"
	FieldEventTypes  = "event_types"
	FieldOpenIDs     = "open_ids"
	FieldDescription = "description"
	FieldDisabled    = "disabled"
)

var allFields = []string{FieldURL, FieldEventTypes, FieldOpenIDs, FieldDescription, FieldDisabled}

// record is the stored form of an endpoint.
type record struct {
	Endpoint
	Secrets []sealedSecret `json:"secrets"`
}

type sealedSecret struct {
	Sealed  store.Sealed `json:"sealed"`
	Expires time.Time    `json:"expires,omitzero"` // zero: the current secret
}

// timedSecret is an opened secret.
type timedSecret struct {
	Secret
	expires time.Time
}

// endpointState is an endpoint as the delivery side holds it.
type endpointState struct {
	Endpoint
	filter  typeFilter
	secrets []timedSecret
}

// signing returns the secrets that sign at now: the current one first.
func (s *endpointState) signing(now time.Time) []Secret {
	out := make([]Secret, 0, len(s.secrets))
	for _, t := range s.secrets {
		if t.expires.IsZero() || now.Before(t.expires) {
			out = append(out, t.Secret)
		}
	}
	return out
}

func (s *endpointState) wantsShop(openID string) bool {
	return len(s.OpenIDs) == 0 || slices.Contains(s.OpenIDs, openID)
}

// Engine stores endpoints and delivers to them. All methods are safe for
// concurrent use; Run drives the delivery.
type Engine struct {
	cfg     Config
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	statsKV jetstream.KeyValue
	msgs    jetstream.Stream
	events  jetstream.Stream
	dead    jetstream.Stream
	client  *http.Client
	log     *slog.Logger
	metrics *metrics
	book    *statsBook

	mu      sync.Mutex
	workers map[string]*worker
	handles map[string]jetstream.Consumer // by consumer name: keeps the priority-group pin across restarts
}

// Open creates or updates the streams and the statistics bucket, and opens
// (or creates) the endpoint bucket; the message log
// (internal/message/msglog) must exist.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.defaults()
	if cfg.JetStream == nil || cfg.Keyring == nil || cfg.Render == nil {
		return nil, errors.New("webhook: JetStream, Keyring and Render are required")
	}
	e := &Engine{
		cfg: cfg, js: cfg.JetStream, log: cfg.Logger,
		client:  cfg.Guard.Client(cfg.Timeout, cfg.Concurrency),
		workers: map[string]*worker{}, handles: map[string]jetstream.Consumer{},
	}
	// The endpoint bucket is opened as it is, like every bucket of the
	// gateway (store.OpenBucket): an existing one keeps its configuration.
	// The statistics bucket is brought to the current configuration
	// instead, deliberately: its TTL is the retention, and a changed
	// retention reaches it as it reaches the streams' MaxAge below.
	var err error
	if e.kv, err = store.OpenBucket(ctx, e.js, jetstream.KeyValueConfig{
		Bucket: endpointBucket, Description: "kwaishop-gateway: webhook endpoints",
		History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if e.statsKV, err = e.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: statsBucket, Description: "kwaishop-gateway: webhook delivery counters per replica",
		History: 1, TTL: cfg.Retention, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("webhook: bucket %s: %w", statsBucket, err)
	}
	if e.msgs, err = e.js.Stream(ctx, msglog.StreamName); err != nil {
		return nil, fmt.Errorf("webhook: message log: %w", err)
	}
	// The token manager publishes lifecycle events on core NATS; this stream
	// keeps them, so they are delivered at least once like messages.
	if e.events, err = e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        eventsStream,
		Description: "kwaishop-gateway: authorization events, endpoint announcements and copies requeued or replayed for webhooks",
		Subjects:    []string{authzPrefix + ">", systemPrefix + ">", redeliverPrefix + ">"},
		MaxAge:      cfg.Retention,
		Duplicates:  10 * time.Minute,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("webhook: stream %s: %w", eventsStream, err)
	}
	if e.dead, err = e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        deadStream,
		Description: "kwaishop-gateway: webhook events endpoints did not take within the retry budget",
		Subjects:    []string{deadPrefix + ">"},
		MaxAge:      cfg.Retention,
		Duplicates:  10 * time.Minute,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("webhook: stream %s: %w", deadStream, err)
	}
	e.metrics = newMetrics(cfg.MeterProvider)
	e.book = newStatsBook(cfg.ReplicaID)
	return e, nil
}

// newID returns "ep_" and 26 base32 characters (128 random bits).
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("webhook: no randomness")
	}
	return idPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

func validID(id string) bool {
	return strings.HasPrefix(id, idPrefix) && len(id) <= 64 && openIDRe.MatchString(id)
}

func aad(id string) []byte { return []byte("kwaishop-gateway webhook secret " + id) }

// check validates an input for the fields in mask.
func (e *Engine) check(in *Input, mask []string) (typeFilter, error) {
	var vs []Violation
	var f typeFilter
	if slices.Contains(mask, FieldURL) {
		u, err := e.cfg.Guard.CheckURL(in.URL)
		if err != nil {
			vs = append(vs, Violation{Field: "url", Description: err.Error()})
		}
		in.URL = u
	}
	if slices.Contains(mask, FieldEventTypes) {
		var tv []Violation
		f, tv = ParseTypes(in.EventTypes)
		vs = append(vs, tv...)
	}
	if slices.Contains(mask, FieldOpenIDs) {
		vs = append(vs, CheckOpenIDs(in.OpenIDs)...)
	}
	if slices.Contains(mask, FieldDescription) && (len(in.Description) > maxDescriptionLen || !utf8.ValidString(in.Description)) {
		vs = append(vs, Violation{Field: "description", Description: fmt.Sprintf("at most %d bytes of UTF-8", maxDescriptionLen)})
	}
	if len(vs) > 0 {
		return f, invalid(vs...)
	}
	return f, nil
}

// Create stores a new endpoint and returns it with its secret (whsec_...).
// Its consumers start at the end of the log: events from now on.
func (e *Engine) Create(ctx context.Context, in Input) (Endpoint, string, error) {
	f, err := e.check(&in, allFields)
	if err != nil {
		return Endpoint{}, "", err
	}
	ids, err := e.ids(ctx)
	if err != nil {
		return Endpoint{}, "", err
	}
	if len(ids) >= e.cfg.MaxEndpoints {
		return Endpoint{}, "", fmt.Errorf("%w: this server keeps at most %d (KWAISHOP_WEBHOOK_MAX_ENDPOINTS)", ErrTooMany, e.cfg.MaxEndpoints)
	}
	id, err := newID()
	if err != nil {
		return Endpoint{}, "", err
	}
	sec, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	sealed, err := e.cfg.Keyring.Seal(sec.key, aad(id))
	if err != nil {
		return Endpoint{}, "", err
	}
	now := e.cfg.Now().UTC()
	rec := record{
		Endpoint: Endpoint{
			ID: id, URL: in.URL, EventTypes: slices.Clone(in.EventTypes), OpenIDs: slices.Clone(in.OpenIDs),
			Description: in.Description, Disabled: in.Disabled, Created: now, Updated: now,
		},
		Secrets: []sealedSecret{{Sealed: sealed}},
	}
	if err := e.ensureConsumers(ctx, id, f, rec.OpenIDs); err != nil {
		return Endpoint{}, "", err
	}
	raw, _ := json.Marshal(rec)
	if _, err := e.kv.Create(ctx, keyPrefix+id, raw); err != nil {
		e.dropConsumers(context.WithoutCancel(ctx), id)
		return Endpoint{}, "", fmt.Errorf("webhook: store: %w", err)
	}
	e.log.InfoContext(ctx, "webhook: endpoint created", "endpoint", id, "host", hostOf(rec.URL), "event_types", len(rec.EventTypes), "open_ids", len(rec.OpenIDs))
	return rec.public(), sec.Encode(), nil
}

func (r record) public() Endpoint {
	ep := r.Endpoint
	for _, s := range r.Secrets {
		if s.Expires.After(ep.PreviousSecretExpiry) {
			ep.PreviousSecretExpiry = s.Expires
		}
	}
	return ep
}

// load reads an endpoint's record and its revision.
func (e *Engine) load(ctx context.Context, id string) (record, uint64, error) {
	if !validID(id) {
		return record{}, 0, ErrNotFound
	}
	ent, err := e.kv.Get(ctx, keyPrefix+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return record{}, 0, ErrNotFound
	}
	if err != nil {
		return record{}, 0, fmt.Errorf("webhook: load: %w", err)
	}
	var rec record
	if err := json.Unmarshal(ent.Value(), &rec); err != nil {
		return record{}, 0, fmt.Errorf("webhook: load %s: %w", id, err)
	}
	return rec, ent.Revision(), nil
}

// update changes a stored record with compare-and-set, retrying on a
// concurrent change.
func (e *Engine) update(ctx context.Context, id string, change func(*record) error) (record, error) {
	for range 8 {
		rec, rev, err := e.load(ctx, id)
		if err != nil {
			return record{}, err
		}
		if err := change(&rec); err != nil {
			return record{}, err
		}
		raw, _ := json.Marshal(rec)
		_, err = e.kv.Update(ctx, keyPrefix+id, raw, rev)
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return record{}, fmt.Errorf("webhook: store: %w", err)
		}
	}
	return record{}, errors.New("webhook: store: too many concurrent changes")
}

// Get returns one endpoint.
func (e *Engine) Get(ctx context.Context, id string) (Endpoint, error) {
	rec, _, err := e.load(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	return rec.public(), nil
}

// List returns endpoints by id after the page token (the last id of the
// previous page).
func (e *Engine) List(ctx context.Context, pageSize int, pageToken string) ([]Endpoint, string, error) {
	if pageToken != "" && !validID(pageToken) {
		return nil, "", invalid(Violation{Field: "page_token", Description: "not a token returned by this list"})
	}
	if pageSize <= 0 {
		pageSize = 50
	}
	ids, err := e.ids(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []Endpoint
	next := ""
	for _, id := range ids {
		if id <= pageToken {
			continue
		}
		if len(out) == pageSize {
			next = out[len(out)-1].ID
			break
		}
		rec, _, err := e.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec.public())
	}
	return out, next, nil
}

// ids lists the stored endpoint ids, sorted.
func (e *Engine) ids(ctx context.Context) ([]string, error) {
	lister, err := e.kv.ListKeysFiltered(ctx, keyPrefix+">")
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, strings.TrimPrefix(k, keyPrefix))
	}
	slices.Sort(ids)
	return ids, nil
}

// Update changes the fields named in mask (all when empty).
func (e *Engine) Update(ctx context.Context, id string, in Input, mask []string) (Endpoint, error) {
	if len(mask) == 0 {
		mask = allFields
	}
	var vs []Violation
	for i, p := range mask {
		if !slices.Contains(allFields, p) {
			vs = append(vs, Violation{Field: fmt.Sprintf("update_mask.paths[%d]", i), Description: "want url, event_types, open_ids, description or disabled"})
		}
	}
	if len(vs) > 0 {
		return Endpoint{}, invalid(vs...)
	}
	if _, err := e.check(&in, mask); err != nil {
		return Endpoint{}, err
	}
	if _, _, err := e.load(ctx, id); err != nil {
		return Endpoint{}, err
	}
	rec, err := e.update(ctx, id, func(r *record) error {
		for _, p := range mask {
			switch p {
			case FieldURL:
				r.URL = in.URL
			case FieldEventTypes:
				r.EventTypes = slices.Clone(in.EventTypes)
			case FieldOpenIDs:
				r.OpenIDs = slices.Clone(in.OpenIDs)
			case FieldDescription:
				r.Description = in.Description
			case FieldDisabled:
				if r.Disabled && !in.Disabled { // enabled again: a fresh start
					r.DisabledReason, r.FailingSince = "", time.Time{}
				}
				r.Disabled = in.Disabled
			}
		}
		r.Updated = e.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		return Endpoint{}, err
	}
	f, _ := ParseTypes(rec.EventTypes)
	if err := e.ensureConsumers(ctx, id, f, rec.OpenIDs); err != nil {
		return Endpoint{}, err
	}
	e.log.InfoContext(ctx, "webhook: endpoint updated", "endpoint", id, "fields", strings.Join(mask, ","), "disabled", rec.Disabled)
	return rec.public(), nil
}

// Delete removes an endpoint, its consumers, dead letters, copies and
// statistics.
func (e *Engine) Delete(ctx context.Context, id string) error {
	if _, _, err := e.load(ctx, id); err != nil {
		return err
	}
	if err := e.kv.Delete(ctx, keyPrefix+id); err != nil {
		return fmt.Errorf("webhook: delete: %w", err)
	}
	e.dropConsumers(ctx, id)
	_ = e.dead.Purge(ctx, jetstream.WithPurgeSubject(deadPrefix+id))
	_ = e.events.Purge(ctx, jetstream.WithPurgeSubject(redeliverPrefix+id+".>"))
	if l, err := e.statsKV.ListKeysFiltered(ctx, id+".>"); err == nil {
		for k := range l.Keys() {
			_ = e.statsKV.Purge(ctx, k)
		}
	}
	e.book.forget(id)
	e.log.InfoContext(ctx, "webhook: endpoint deleted", "endpoint", id)
	return nil
}

// Rotate makes a new current secret; the previous ones keep signing for
// grace (nil: the configured default).
func (e *Engine) Rotate(ctx context.Context, id string, grace *time.Duration) (string, time.Time, error) {
	g := e.cfg.SecretGrace
	if grace != nil {
		g = *grace
	}
	if g < 0 || g > MaxSecretGrace {
		return "", time.Time{}, invalid(Violation{Field: "grace", Description: "want 0s to 7 days"})
	}
	sec, err := NewSecret()
	if err != nil {
		return "", time.Time{}, err
	}
	sealed, err := e.cfg.Keyring.Seal(sec.key, aad(id))
	if err != nil {
		return "", time.Time{}, err
	}
	now := e.cfg.Now().UTC()
	expires := now.Add(g)
	rec, err := e.update(ctx, id, func(r *record) error {
		keep := []sealedSecret{{Sealed: sealed}}
		for _, s := range r.Secrets {
			switch {
			case s.Expires.IsZero() && g > 0:
				keep = append(keep, sealedSecret{Sealed: s.Sealed, Expires: expires})
			case !s.Expires.IsZero() && now.Before(s.Expires):
				keep = append(keep, s)
			}
		}
		r.Secrets = keep[:min(len(keep), maxSecrets)]
		r.Updated = now
		return nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	e.log.InfoContext(ctx, "webhook: secret rotated", "endpoint", id, "grace", g.String())
	return sec.Encode(), rec.public().PreviousSecretExpiry, nil
}

// open decrypts a record into the delivery form.
func (e *Engine) open(rec record) (*endpointState, error) {
	st := &endpointState{Endpoint: rec.public()}
	st.filter, _ = ParseTypes(rec.EventTypes)
	for _, s := range rec.Secrets {
		key, err := e.cfg.Keyring.Open(s.Sealed, aad(rec.ID))
		if err != nil {
			return nil, fmt.Errorf("webhook: endpoint %s: secret: %w", rec.ID, err)
		}
		st.secrets = append(st.secrets, timedSecret{Secret: Secret{key: key}, expires: s.Expires})
	}
	if len(st.secrets) == 0 {
		return nil, fmt.Errorf("webhook: endpoint %s has no secret", rec.ID)
	}
	return st, nil
}

// hostOf is the host of a URL, for logs (never the path or query, which
// may hold a receiver's credential).
func hostOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	return host
}
