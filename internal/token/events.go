package token

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// EventType says what happened to an authorization.
type EventType string

// Lifecycle events. Every status transition is one; the *Soon events are
// warnings.
const (
	EventAuthorized     EventType = "authorized"
	EventRefreshed      EventType = "refreshed"
	EventRefreshFailed  EventType = "refresh_failed"
	EventRevoked        EventType = "revoked"
	EventExpired        EventType = "expired"
	EventExpiringSoon   EventType = "expiring_soon"
	EventTestUserCutoff EventType = "test_user_cutoff_soon"
	EventDeleted        EventType = "deleted"
	// EventSubscriptionExpired: the platform answered 100200101 (service
	// not ordered); the status is store.StatusSubscriptionExpired.
	EventSubscriptionExpired EventType = "subscription_expired"
)

const eventSubjectPrefix = "kwaishop.authz.events."

// EventSubject is the NATS subject a shop's events are published on;
// subscribe to EventSubject("*") for every shop.
func EventSubject(openID string) string { return eventSubjectPrefix + openID }

// Event is one lifecycle event. Authorization never carries tokens (they are
// excluded from JSON).
type Event struct {
	Type          EventType            `json:"type"`
	OpenID        string               `json:"openId"`
	Time          time.Time            `json:"time"`
	Authorization *store.Authorization `json:"authorization,omitempty"`
	Message       string               `json:"message,omitempty"`
}

// events publishes on NATS (so watchers on every replica see every event)
// or, without a connection, fans out in-process.
type events struct {
	nc  *nats.Conn
	log *slog.Logger

	mu   sync.Mutex
	subs map[chan Event]string // in-process subscribers → open_id filter
}

func (e *events) publish(ev Event) {
	if ev.Authorization != nil {
		a := *ev.Authorization
		a.AccessToken, a.RefreshToken = "", ""
		ev.Authorization = &a
	}
	e.log.Info("token: authorization event", "type", string(ev.Type), "open_id", ev.OpenID, "message", ev.Message)
	if e.nc != nil {
		raw, err := json.Marshal(ev)
		if err == nil {
			err = e.nc.Publish(EventSubject(ev.OpenID), raw)
		}
		if err != nil {
			e.log.Warn("token: publish event", "err", err)
		}
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch, filter := range e.subs {
		if filter == "" || filter == ev.OpenID {
			select {
			case ch <- ev:
			default: // a slow watcher loses events rather than blocking refreshes
			}
		}
	}
}

// Watch streams events (of one shop, or all when openID is empty) until ctx
// ends. The channel is closed then.
func (m *Manager) Watch(ctx context.Context, openID string) (<-chan Event, error) {
	out := make(chan Event, 64)
	e := m.events
	if e.nc == nil {
		e.mu.Lock()
		if e.subs == nil {
			e.subs = map[chan Event]string{}
		}
		e.subs[out] = openID
		e.mu.Unlock()
		go func() {
			<-ctx.Done()
			e.mu.Lock()
			delete(e.subs, out)
			e.mu.Unlock()
			close(out)
		}()
		return out, nil
	}
	subject := EventSubject("*")
	if openID != "" {
		subject = EventSubject(openID)
	}
	in := make(chan *nats.Msg, 64)
	sub, err := e.nc.ChanSubscribe(subject, in)
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(out)
		defer func() { _ = sub.Unsubscribe() }()
		for {
			select {
			case <-ctx.Done():
				return
			case msg := <-in:
				var ev Event
				if json.Unmarshal(msg.Data, &ev) != nil {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// Make sure the subscription is registered before returning, so an event
	// published right after Watch returns is not missed.
	if err := e.nc.Flush(); err != nil {
		return nil, err
	}
	return out, nil
}
