package telemetry

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// ScopeName is the instrumentation scope of the gateway's instruments.
const ScopeName = "github.com/kwaishop-gateway/kwaishop-gateway"

// Instrument names (OpenTelemetry); the Prometheus names are in
// docs/observability.md (dots become underscores, the unit and _total are
// appended).
const (
	MetricUpstreamCalls    = "kwaishop.upstream.calls"
	MetricUpstreamDuration = "kwaishop.upstream.duration"
	MetricTokenRefreshes   = "kwaishop.token.refreshes"
	MetricAuthorizations   = "kwaishop.authorizations"
	MetricMsgReceived      = "kwaishop.messages.received"
	MetricMsgDuplicated    = "kwaishop.messages.duplicated"
	MetricMsgDelivered     = "kwaishop.messages.delivered"
	MetricMsgDeadLettered  = "kwaishop.messages.dead_lettered"
	MetricConsumerLag      = "kwaishop.messages.consumer.lag"
)

// Attribute keys. Values are bounded sets: API names outside the catalog
// become "uncatalogued", odd event and consumer names "other".
const (
	AttrMethod     = "kwaishop.method"               // platform API name
	AttrErrorClass = "kwaishop.error_class"          // "none" on success
	AttrResult     = "kwaishop.result"               // platform result code; "0" = none received
	AttrAppKey     = "kwaishop.app_key"              // a configured app's appKey (public); "other", "none"
	AttrGrantType  = "kwaishop.oauth.grant_type"     // refresh_token, client_credentials
	AttrOutcome    = "kwaishop.outcome"              // success, failure
	AttrAuthStatus = "kwaishop.authorization.status" // active, refresh_failed, revoked, expired
	AttrTestUser   = "kwaishop.test_user"            // bool
	AttrEvent      = "kwaishop.event"                // pushed event name, e.g. kwaishop_order_paySuccess
	AttrConsumer   = "kwaishop.consumer"             // consumer (group) name
)

// Metrics are the gateway's instruments. The zero of a *Metrics (nil) is a
// valid no-op.
type Metrics struct {
	meter     metric.Meter
	apps      *appLabels
	calls     metric.Int64Counter
	duration  metric.Float64Histogram
	refreshes metric.Int64Counter
	msgs      *Messages
}

// New creates the instruments on mp. appKeys are the apps the gateway
// serves: the app label of upstream calls, token requests and messages
// takes one of them (an app key is public: it appears in every request
// URL), so the label stays a bounded set.
func New(mp metric.MeterProvider, appKeys ...string) (*Metrics, error) {
	m := &Metrics{meter: mp.Meter(ScopeName), apps: newAppLabels(appKeys)}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	m.calls, err = m.meter.Int64Counter(MetricUpstreamCalls,
		metric.WithDescription("Upstream platform API attempts (retries and resends after a token refresh included)."),
		metric.WithUnit("{call}"))
	add(err)
	bounds := make([]float64, len(stats.LatencyBoundsMS))
	for i, b := range stats.LatencyBoundsMS {
		bounds[i] = b / 1000
	}
	m.duration, err = m.meter.Float64Histogram(MetricUpstreamDuration,
		metric.WithDescription("Duration of one upstream platform API attempt."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(bounds...))
	add(err)
	m.refreshes, err = m.meter.Int64Counter(MetricTokenRefreshes,
		metric.WithDescription("Token requests to the platform's OAuth endpoints: shop refreshes (refresh_token) and app tokens (client_credentials)."),
		metric.WithUnit("{refresh}"))
	add(err)
	m.msgs, err = newMessages(m.meter, m.apps)
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Meter is the gateway's meter, for instruments of other packages.
func (m *Metrics) Meter() metric.Meter { return m.meter }

// ObserveCall records one upstream attempt of the app appKey (a
// platform.Config.Observe hook of that app's client).
func (m *Metrics) ObserveCall(appKey string, ci platform.CallInfo) {
	if m == nil {
		return
	}
	class := stats.ClassOf(ci)
	if class == "" {
		class = "none"
	}
	method := methodLabel(ci.Method)
	ctx := context.Background()
	m.calls.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrMethod, method), attribute.String(AttrErrorClass, class),
		attribute.String(AttrResult, strconv.FormatInt(ci.Result, 10)), m.apps.label(appKey)))
	m.duration.Record(ctx, ci.Duration.Seconds(), metric.WithAttributes(attribute.String(AttrMethod, method), attribute.String(AttrErrorClass, class)))
}

func methodLabel(name string) string {
	if _, ok := platform.LookupAPI(name); ok {
		return name
	}
	return "uncatalogued"
}

// OAuth is the token manager's view of the platform's OAuth endpoints (the
// method set of token.OAuth, implemented by *oauth.Client).
type OAuth interface {
	Exchange(ctx context.Context, code string) (*oauth.Token, error)
	Refresh(ctx context.Context, refreshToken string) (*oauth.Token, error)
	ClientCredentials(ctx context.Context) (*oauth.Token, error)
}

// WrapOAuth counts the refresh_token and client_credentials requests made
// through o, the OAuth client of the app appKey, in
// kwaishop.token.refreshes. The decorator passes ctx through unchanged, so
// the OAuth client span stays a child of the call that needed the token.
func (m *Metrics) WrapOAuth(appKey string, o OAuth) OAuth {
	if m == nil {
		return o
	}
	return countingOAuth{o, m, m.apps.label(appKey)}
}

type countingOAuth struct {
	OAuth
	m   *Metrics
	app attribute.KeyValue
}

func (c countingOAuth) Refresh(ctx context.Context, refreshToken string) (*oauth.Token, error) {
	t, err := c.OAuth.Refresh(ctx, refreshToken)
	c.m.refreshed(ctx, c.app, oauth.GrantRefreshToken, err)
	return t, err
}

func (c countingOAuth) ClientCredentials(ctx context.Context) (*oauth.Token, error) {
	t, err := c.OAuth.ClientCredentials(ctx)
	c.m.refreshed(ctx, c.app, oauth.GrantClientCredentials, err)
	return t, err
}

func (m *Metrics) refreshed(ctx context.Context, app attribute.KeyValue, grant string, err error) {
	outcome, class := "success", "none"
	if err != nil {
		outcome = "failure"
		class = stats.ClassOf(platform.CallInfo{Err: err})
	}
	m.refreshes.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrGrantType, grant),
		attribute.String(AttrOutcome, outcome), attribute.String(AttrErrorClass, class), app))
}

// ObserveAuthorizations registers the kwaishop.authorizations gauge: stored
// shop authorizations by status and test-user flag, read through list at
// most once per ttl (scrapes in between see the cached counts).
func (m *Metrics) ObserveAuthorizations(list func(context.Context) ([]store.Authorization, error), ttl time.Duration) error {
	if m == nil {
		return nil
	}
	g, err := m.meter.Int64ObservableGauge(MetricAuthorizations,
		metric.WithDescription("Stored shop authorizations by status."),
		metric.WithUnit("{authorization}"))
	if err != nil {
		return err
	}
	type key struct {
		status   string
		testUser bool
	}
	var (
		mu     sync.Mutex
		at     time.Time
		counts map[key]int64
	)
	_, err = m.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		mu.Lock()
		defer mu.Unlock()
		if counts == nil || time.Since(at) >= ttl {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			auths, err := list(lctx)
			cancel()
			if err == nil {
				counts, at = map[key]int64{}, time.Now()
				for _, s := range store.Statuses {
					counts[key{s, false}] = 0 // every status is reported, zero included
				}
				for _, a := range auths {
					if a.OpenID != "" {
						counts[key{a.Status, a.TestUser}]++
					}
				}
			} else if counts == nil {
				return nil // nothing known yet; try at the next collection
			}
		}
		for k, n := range counts {
			o.ObserveInt64(g, n, metric.WithAttributes(attribute.String(AttrAuthStatus, k.status), attribute.Bool(AttrTestUser, k.testUser)))
		}
		return nil
	}, g)
	return err
}

// Messages are the message pipeline's counters.
func (m *Metrics) Messages() *Messages {
	if m == nil {
		return nil
	}
	return m.msgs
}
