package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxInFlight bounds a subscriber's unacknowledged deliveries.
const DefaultMaxInFlight = 100

// fetchExpiry is how long one pull request of a session waits on the server.
const fetchExpiry = 5 * time.Second

// releaseDelay: deliveries a leaving session releases become deliverable
// again after this. The client library closes a pull request's channel
// just before it drops its interest in the request; released at once, a
// delivery could still be handed to that request in between, and then wait
// out the ack timeout instead of going to another subscriber.
const releaseDelay = 100 * time.Millisecond

// Session is one subscriber of a consumer group: it pulls from the group's
// consumer, never holding more than maxInFlight unacknowledged deliveries,
// and passes acknowledgements back. Several sessions of one group share the
// group's messages: each message goes to one of them.
type Session struct {
	g           *Groups
	group       string
	cons        jetstream.Consumer
	ackWait     time.Duration
	maxInFlight int

	mu      sync.Mutex
	pending map[string]*inflight // by delivery id
	wake    chan struct{}
}

type inflight struct {
	msg      jetstream.Msg
	deadline time.Time
}

// Subscribe joins (or creates) a consumer group.
func (g *Groups) Subscribe(ctx context.Context, o GroupOptions, maxInFlight int) (*Session, bool, error) {
	cons, created, err := g.Group(ctx, o)
	if err != nil {
		return nil, false, err
	}
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	ackWait := DefaultAckTimeout
	if info := cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
		ackWait = info.Config.AckWait
	}
	return &Session{
		g: g, group: o.Name, cons: cons, ackWait: ackWait, maxInFlight: maxInFlight,
		pending: map[string]*inflight{}, wake: make(chan struct{}, 1),
	}, created, nil
}

// Group is the session's group name.
func (s *Session) Group() string { return s.group }

// room prunes deliveries whose ack timeout passed (the server delivers
// them again) and returns how many more may be in flight.
func (s *Session) room() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, p := range s.pending {
		if now.After(p.deadline) {
			delete(s.pending, id)
		}
	}
	return s.maxInFlight - len(s.pending)
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers the group's messages through send until ctx ends or send
// fails. When it returns, the session's unacknowledged deliveries are
// released (NAK) so other subscribers get them at once (releaseDelay).
func (s *Session) Run(ctx context.Context, send func(Delivery) error) error {
	defer s.release()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := s.room()
		if n <= 0 {
			// Wait for an ack, or for the oldest delivery to time out.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
			case <-time.After(s.ackWait / 4):
			}
			continue
		}
		// The pull request ends with fctx: when the session ends, the client
		// drops its interest and the server skips the request, so the
		// deliveries released below go to the group's other subscribers and
		// not back into this request (which would release them again, each
		// time counting a delivery, until they became dead letters).
		fctx, fcancel := context.WithTimeout(ctx, fetchExpiry)
		batch, err := s.cons.Fetch(min(n, 256), jetstream.FetchContext(fctx))
		if err != nil {
			fcancel()
			if ctx.Err() != nil { // ended while the request was made
				return ctx.Err()
			}
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				return ErrGroupNotFound
			}
			return err
		}
		err = s.forward(ctx, batch, send, fcancel)
		fcancel()
		if err != nil {
			return err
		}
	}
}

// forward sends a batch's messages as they arrive. After ctx ends or send
// fails, it ends the pull request (stop) and releases what still arrives,
// before Run releases the deliveries in flight.
func (s *Session) forward(ctx context.Context, batch jetstream.MessageBatch, send func(Delivery) error, stop func()) error {
	msgs := batch.Messages()
	for {
		select {
		case <-ctx.Done():
			stop()
			drainNak(msgs)
			return ctx.Err()
		case m, ok := <-msgs:
			if !ok {
				if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) &&
					!errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoHeartbeat) &&
					!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
						return ErrGroupNotFound
					}
					s.g.logger.WarnContext(ctx, "message: fetch", "group", s.group, "err", err)
				}
				return nil
			}
			d, span := s.g.deliver(ctx, s.group, m)
			s.mu.Lock()
			s.pending[d.ID] = &inflight{msg: m, deadline: time.Now().Add(s.ackWait)}
			s.mu.Unlock()
			err := send(d)
			span.End()
			if err != nil {
				stop()
				drainNak(msgs)
				return err
			}
		}
	}
}

func drainNak(msgs <-chan jetstream.Msg) {
	for m := range msgs {
		_ = m.NakWithDelay(releaseDelay)
	}
}

// release NAKs every delivery still in flight (see releaseDelay).
func (s *Session) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, p := range s.pending {
		_ = p.msg.NakWithDelay(releaseDelay)
		delete(s.pending, id)
	}
}

// Ack acknowledges deliveries by id for a caller limited to the shops
// allow accepts (nil: every shop). Ids of this session use the message
// handle (they were delivered to this caller); others (another session or
// replica of the same group) are checked as Groups.Ack checks them and sent to
// their ack subject. Every id is checked before any is acknowledged.
func (s *Session) Ack(ctx context.Context, ids []string, kind AckKind, delay time.Duration, allow ShopFilter) error {
	var foreign []string
	s.mu.Lock()
	for i, id := range ids {
		if _, ok := s.pending[id]; ok {
			continue
		}
		sub, err := s.g.ackSubject(i, id, s.group, allow)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		foreign = append(foreign, sub)
	}
	for _, id := range ids {
		p, ok := s.pending[id]
		if !ok {
			continue
		}
		var err error
		switch kind {
		case Nack:
			if delay > 0 {
				err = p.msg.NakWithDelay(delay)
			} else {
				err = p.msg.Nak()
			}
		case InProgress:
			err = p.msg.InProgress()
			p.deadline = time.Now().Add(s.ackWait)
		case Terminate:
			err = p.msg.TermWithReason("terminated by subscriber")
		default:
			err = p.msg.Ack()
		}
		if kind != InProgress {
			delete(s.pending, id)
		}
		if err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	s.signal()
	_, err := s.g.publishAcks(ctx, foreign, kind, delay)
	return err
}
