package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// ShopFilter reports whether the caller may act for the shop openID. A nil
// ShopFilter allows every shop (authentication off, or a key for all shops).
type ShopFilter func(openID string) bool

// AckKind is what an acknowledgement does.
type AckKind int

// Acknowledgement kinds.
const (
	Ack AckKind = iota
	Nack
	InProgress
	Terminate
)

func ackBody(kind AckKind, delay time.Duration) []byte {
	switch kind {
	case Nack:
		if delay > 0 {
			return fmt.Appendf(nil, "-NAK {\"delay\": %d}", delay.Nanoseconds())
		}
		return []byte("-NAK")
	case InProgress:
		return []byte("+WPI")
	case Terminate:
		return []byte("+TERM terminated by subscriber")
	}
	return []byte("+ACK")
}

// Ack acknowledges deliveries of a group by id for a caller limited to the
// shops allow accepts (nil: every shop). Every id is checked before any is
// sent: one that this server did not issue, that belongs to a shop outside
// allow or to another group refuses the whole call (an *InvalidError on
// ack.delivery_ids[i]) and nothing is acknowledged.
func (g *Groups) Ack(ctx context.Context, group string, ids []string, kind AckKind, delay time.Duration, allow ShopFilter) (int, error) {
	subs, err := g.ackSubjects(group, ids, allow)
	if err != nil {
		return 0, err
	}
	return g.publishAcks(ctx, subs, kind, delay)
}

// publishAcks sends checked acknowledgements to their ack subjects.
func (g *Groups) publishAcks(ctx context.Context, subs []string, kind AckKind, delay time.Duration) (int, error) {
	if len(subs) == 0 {
		return 0, nil
	}
	body := ackBody(kind, delay)
	for _, s := range subs {
		if err := g.nc.Publish(s, body); err != nil {
			return 0, fmt.Errorf("message: ack: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok { // FlushWithContext needs a deadline
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := g.nc.FlushWithContext(ctx); err != nil {
		return 0, fmt.Errorf("message: ack: %w", err)
	}
	return len(subs), nil
}

// parseAckSubject returns the stream and consumer of a JetStream ack
// subject (both the 9-token form and the longer one with domain and
// account hash).
func parseAckSubject(s string) (stream, consumer string, ok bool) {
	toks := strings.Split(s, ".")
	switch {
	case len(toks) == 9 && toks[0] == "$JS" && toks[1] == "ACK":
		return toks[2], toks[3], true
	case len(toks) >= 12 && toks[0] == "$JS" && toks[1] == "ACK":
		return toks[4], toks[5], true
	}
	return "", "", false
}

// notYours is the one refusal for an id that is not a delivery the caller
// may acknowledge: garbage, forged, tampered, sealed by another store, or a
// real delivery of a shop the caller's key does not cover. One answer for
// all, so the answer never tells whether an id belongs to another shop.
const notYours = "not a delivery id you may acknowledge: send the delivery_id of a delivery made to you"

// ackSubject checks the i-th delivery id of an acknowledgement for group by
// a caller limited to allow, and returns its ack subject.
func (g *Groups) ackSubject(i int, id, group string, allow ShopFilter) (string, error) {
	field := fmt.Sprintf("ack.delivery_ids[%d]", i)
	reply, openID, ok := g.openDeliveryID(id)
	if !ok || (allow != nil && !allow(openID)) {
		return "", message.Invalid(field, notYours)
	}
	stream, consumer, ok := parseAckSubject(reply)
	if !ok || stream != msglog.StreamName {
		return "", message.Invalid(field, notYours)
	}
	if consumer != group {
		return "", message.Invalid(field, "a delivery of another consumer group: acknowledge it with the group it was delivered to")
	}
	return reply, nil
}

// ackSubjects checks every id before any acknowledgement is sent.
func (g *Groups) ackSubjects(group string, ids []string, allow ShopFilter) ([]string, error) {
	subs := make([]string, 0, len(ids))
	for i, id := range ids {
		s, err := g.ackSubject(i, id, group, allow)
		if err != nil {
			return nil, err
		}
		subs = append(subs, s)
	}
	return subs, nil
}
