package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Delivery ids.
//
// A delivery id must let any replica acknowledge the delivery (so it carries
// the JetStream ack subject), and it must not let anyone acknowledge a
// delivery they were not given: the ack subject alone holds little more than
// a stream sequence, which is easy to guess. So the id is the ack subject and
// the delivery's shop (open_id), sealed with a MAC under a key the server
// keeps:
//
//	id  = base64url( 0x01 | uvarint len | ack subject | uvarint len | open_id | tag )
//	tag = HMAC-SHA256(key, "kwaishop-gateway delivery id" | 0x00 | the bytes before tag)[:16]
//
// The ack subject names the stream, the consumer (the group) and the
// sequences, so the tag binds the id to one delivery of one group to one
// shop. A caller learns nothing from an id beyond what the delivery it came
// with already told it.
//
// The key: 32 random bytes created once per message store in the KV bucket
// kwaishop_msg_keys with Create, so the first replica to start writes it and
// every other replica (all share one NATS) reads the same key; it survives
// restarts, and no setting has to be kept equal across replicas. It is not
// derived from a configured secret on purpose: rotating the app secret would
// then invalidate every delivery in flight, and replicas being rolled would
// disagree. Keeping the key next to the messages gives nothing away: whoever
// can read the store can publish acknowledgements to it directly anyway.
const (
	keyBucket       = "kwaishop_msg_keys"
	deliveryKeyName = "delivery-id-mac"
	deliveryKeyLen  = 32
	deliveryIDv1    = 0x01
	deliveryTagLen  = 16 // 128 bits
	deliveryMACInfo = "kwaishop-gateway delivery id\x00"
	// maxDeliveryIDLen bounds what is decoded (the API allows 512 characters).
	maxDeliveryIDLen = 1024
)

// loadDeliveryKey returns the store's delivery-id key, creating it if no
// replica has yet.
func loadDeliveryKey(ctx context.Context, js jetstream.JetStream, replicas int) ([]byte, error) {
	kv, err := store.OpenBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      keyBucket,
		Description: "kwaishop-gateway: the key that seals delivery ids",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("message: key bucket: %w", err)
	}
	fresh := make([]byte, deliveryKeyLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("message: delivery-id key: %w", err)
	}
	if _, err := kv.Create(ctx, deliveryKeyName, fresh); err == nil {
		return fresh, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("message: delivery-id key: %w", err)
	}
	e, err := kv.Get(ctx, deliveryKeyName) // another replica's key wins
	if err != nil {
		return nil, fmt.Errorf("message: delivery-id key: %w", err)
	}
	if len(e.Value()) != deliveryKeyLen {
		return nil, fmt.Errorf("message: delivery-id key in bucket %s has %d bytes, want %d", keyBucket, len(e.Value()), deliveryKeyLen)
	}
	return e.Value(), nil
}

func (g *Groups) deliveryTag(body []byte) []byte {
	m := hmac.New(sha256.New, g.idKey)
	m.Write([]byte(deliveryMACInfo))
	m.Write(body)
	return m.Sum(nil)[:deliveryTagLen]
}

// deliveryID seals the ack subject of a delivery and its shop.
func (g *Groups) deliveryID(reply, openID string) string {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(reply)+len(openID)+deliveryTagLen)
	b = append(b, deliveryIDv1)
	b = binary.AppendUvarint(b, uint64(len(reply)))
	b = append(b, reply...)
	b = binary.AppendUvarint(b, uint64(len(openID)))
	b = append(b, openID...)
	b = append(b, g.deliveryTag(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// openDeliveryID returns the ack subject and shop of an id this server
// sealed; ok is false for anything else.
func (g *Groups) openDeliveryID(id string) (reply, openID string, ok bool) {
	if len(id) > maxDeliveryIDLen {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(id) // one spelling per id
	if err != nil || len(b) < 1+2+deliveryTagLen || b[0] != deliveryIDv1 {
		return "", "", false
	}
	body, tag := b[:len(b)-deliveryTagLen], b[len(b)-deliveryTagLen:]
	if !hmac.Equal(tag, g.deliveryTag(body)) {
		return "", "", false
	}
	rest := body[1:]
	field := func() (string, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		s := string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		return s, true
	}
	reply, ok1 := field()
	openID, ok2 := field()
	if !ok1 || !ok2 || len(rest) != 0 {
		return "", "", false
	}
	return reply, openID, true
}
