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
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateBucket holds pending OAuth states. Entries are keyed by the SHA-256 of
// the state, so the store never holds a usable state value; the bucket TTL
// only bounds growth, the state's own Expiry decides validity.
const StateBucket = "kwaishop_oauth_state"

// Errors of the OAuth state store.
var (
	// ErrStateUnknown: the state was never issued here or was already used.
	ErrStateUnknown = errors.New("store: oauth state unknown or already used")
	// ErrStateExpired: the state was issued but is older than its lifetime.
	ErrStateExpired = errors.New("store: oauth state expired")
)

// OAuthState is what a state is bound to.
type OAuthState struct {
	Scopes    []string  `json:"scopes"`
	ReturnURL string    `json:"returnUrl,omitempty"`
	OpenID    string    `json:"openId,omitempty"` // set for a re-authorization of a known shop
	Expiry    time.Time `json:"expiry"`
}

// StateStore issues and consumes single-use OAuth states.
type StateStore struct {
	kv jetstream.KeyValue
}

// NewStateStore opens (creating if needed) the state bucket.
func NewStateStore(ctx context.Context, js jetstream.JetStream, replicas int) (*StateStore, error) {
	if replicas < 1 {
		replicas = 1
	}
	kv, err := js.KeyValue(ctx, StateBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: StateBucket, History: 1, TTL: time.Hour, Replicas: replicas, Storage: jetstream.FileStorage,
		})
	}
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
	if _, err := t.kv.Create(ctx, stateKey(state), raw); err != nil {
		return "", fmt.Errorf("store: issue state: %w", err)
	}
	return state, nil
}

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
