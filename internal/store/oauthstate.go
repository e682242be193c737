package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateBucket holds pending OAuth states. Entries are keyed by the SHA-256 of
// the state, so the store never holds a usable state value; the state's own
// Expiry decides validity. The bucket's growth is bounded three ways: a TTL,
// a cap on one record (stateMaxValue) and a cap on the whole bucket
// (NewStateStore's maxBytes), beyond which Issue fails with
// ErrStateStoreFull instead of the store growing.
const StateBucket = "kwaishop_oauth_state"

// DefaultStateMaxBytes is the default cap on the state bucket: room for
// thousands of pending authorizations (a record is a few hundred bytes,
// at most stateMaxValue).
const DefaultStateMaxBytes = 16 << 20

// stateMaxValue caps one state record. Validated input (32 scopes of 64
// characters, a 2 KiB return URL and an open_id) encodes to less than 5 KiB.
const stateMaxValue = 16 << 10

// stateTTL is how long any record may stay in the bucket, used or not.
const stateTTL = time.Hour

// Errors of the OAuth state store.
var (
	// ErrStateUnknown: the state was never issued here or was already used.
	ErrStateUnknown = errors.New("store: oauth state unknown or already used")
	// ErrStateExpired: the state was issued but is older than its lifetime.
	ErrStateExpired = errors.New("store: oauth state expired")
	// ErrStateStoreFull: the state bucket holds its maximum bytes of pending
	// states; a new one can be issued when some are used or expire.
	ErrStateStoreFull = errors.New("store: too many pending oauth states; retry later")
)

// OAuthState is what a state is bound to.
type OAuthState struct {
	Scopes    []string  `json:"scopes"`
	ReturnURL string    `json:"returnUrl,omitempty"`
	OpenID    string    `json:"openId,omitempty"` // set for a re-authorization of a known shop
	AppKey    string    `json:"appKey,omitempty"` // the app the consent is for ("" = the only app)
	Expiry    time.Time `json:"expiry"`
}

// StateStore issues and consumes single-use OAuth states.
type StateStore struct {
	kv jetstream.KeyValue
}

// NewStateStore opens the state bucket, creating it or bringing an existing
// one to the current limits: at most maxBytes of records (0 or less:
// DefaultStateMaxBytes). Every replica applies the same configuration.
func NewStateStore(ctx context.Context, js jetstream.JetStream, replicas int, maxBytes int64) (*StateStore, error) {
	if replicas < 1 {
		replicas = 1
	}
	if maxBytes <= 0 {
		maxBytes = DefaultStateMaxBytes
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: StateBucket, History: 1, TTL: stateTTL, Replicas: replicas, Storage: jetstream.FileStorage,
		MaxBytes: maxBytes, MaxValueSize: stateMaxValue,
	})
	if err != nil {
		return nil, fmt.Errorf("store: state bucket: %w", err)
	}
	return &StateStore{kv: kv}, nil
}

func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "s." + hex.EncodeToString(sum[:])
}

// Issue creates a new random state bound to s and returns it.
func (t *StateStore) Issue(ctx context.Context, s OAuthState) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	state := base64.RawURLEncoding.EncodeToString(b[:])
	raw, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	if len(raw) > stateMaxValue {
		return "", fmt.Errorf("store: issue state: a record of %d bytes is over the %d-byte limit", len(raw), stateMaxValue)
	}
	if _, err := t.kv.Create(ctx, stateKey(state), raw); err != nil {
		if bucketFull(err) {
			return "", ErrStateStoreFull
		}
		return "", fmt.Errorf("store: issue state: %w", err)
	}
	return state, nil
}

// bucketFull reports whether JetStream refused a write because the bucket
// holds its maximum bytes (discard-new policy: the write is refused, nothing
// old is dropped).
func bucketFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsErrCodeStoreFailed &&
		strings.Contains(apiErr.Description, "maximum bytes exceeded")
}

// Full reports whether JetStream refused a write because the stream or
// bucket (discard-new policy) holds its maximum bytes.
func Full(err error) bool { return bucketFull(err) }

// jsErrCodeStoreFailed is JetStream's "storing the message failed" error
// code, which carries the reason (here: maximum bytes exceeded).
const jsErrCodeStoreFailed jetstream.ErrorCode = 10077

// Consume validates (at time now) and deletes a state in one step: of two
// concurrent consumers (on any replica) exactly one succeeds.
func (t *StateStore) Consume(ctx context.Context, state string, now time.Time) (OAuthState, error) {
	if state == "" || len(state) > 256 {
		return OAuthState{}, ErrStateUnknown
	}
	key := stateKey(state)
	e, err := t.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return OAuthState{}, ErrStateUnknown
	}
	if err != nil {
		return OAuthState{}, fmt.Errorf("store: read state: %w", err)
	}
	if err := t.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		return OAuthState{}, ErrStateUnknown // someone consumed it first
	}
	var s OAuthState
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return OAuthState{}, fmt.Errorf("%w: state record", ErrCorrupt)
	}
	if !now.Before(s.Expiry) {
		return s, ErrStateExpired
	}
	return s, nil
}
