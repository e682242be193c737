package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	// BucketName is the JetStream KV bucket holding token records.
	BucketName = "kwaishop_tokens"
	// ShopPrefix and AppPrefix prefix the KV keys of shop and app records.
	ShopPrefix = "shop."
	AppPrefix  = "app."

	recordVersion     = 1
	maxReencryptTries = 5
)

// ShopKey returns the KV key of a shop record, or ErrInvalidKey.
func ShopKey(openID string) (string, error) {
	if !validName(openID) {
		return "", fmt.Errorf("%w: open id must match [A-Za-z0-9_-]+", ErrInvalidKey)
	}
	return ShopPrefix + openID, nil
}

// AppRecordKey returns the KV key of an app-level (client_credentials)
// record, or ErrInvalidKey.
func AppRecordKey(appKey string) (string, error) {
	if !validName(appKey) {
		return "", fmt.Errorf("%w: app key must match [A-Za-z0-9_-]+", ErrInvalidKey)
	}
	return AppPrefix + appKey, nil
}

// record is the stored JSON: metadata in clear, tokens sealed (AAD = KV key).
type record struct {
	V             int       `json:"v"`
	OpenID        string    `json:"open_id,omitempty"`
	AppKey        string    `json:"app_key,omitempty"`
	Scopes        []string  `json:"scopes,omitempty"`
	Status        string    `json:"status,omitempty"`
	Source        string    `json:"source,omitempty"`
	TestUser      bool      `json:"test_user,omitempty"`
	SellerID      int64     `json:"seller_id,omitempty"`
	MainOpenID    string    `json:"main_open_id,omitempty"`
	AccessExpiry  time.Time `json:"access_expiry,omitzero"`
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
	LastRefresh   time.Time `json:"last_refresh,omitzero"`
	LeaseOwner    string    `json:"lease_owner,omitempty"`
	LeaseExpiry   time.Time `json:"lease_expiry,omitzero"`
	Sealed        Sealed    `json:"sealed"`
}

// secrets is the plaintext that gets sealed.
type secrets struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// TokenStore keeps Authorization records in the KV bucket BucketName.
// It is safe for concurrent use.
type TokenStore struct {
	kv   jetstream.KeyValue
	ring *Keyring
	now  func() time.Time
}

// NewTokenStore opens the token bucket, creating it (file storage,
// history 1, the given replicas; <= 0 means 1) if missing. An existing
// bucket's configuration is left untouched.
func NewTokenStore(ctx context.Context, js jetstream.JetStream, ring *Keyring, replicas int) (*TokenStore, error) {
	if js == nil {
		return nil, errors.New("store: token store: nil jetstream")
	}
	if ring == nil {
		return nil, errors.New("store: token store: nil keyring")
	}
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := OpenBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      BucketName,
		Description: "kwaishop-gateway OAuth authorizations (tokens sealed with AES-256-GCM)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, err
	}
	return &TokenStore{kv: kv, ring: ring, now: time.Now}, nil
}

// KeyValue exposes the underlying bucket (values are sealed records).
func (t *TokenStore) KeyValue() jetstream.KeyValue { return t.kv }

func (t *TokenStore) encode(key string, a Authorization) ([]byte, error) {
	pt, err := json.Marshal(secrets{Access: a.AccessToken, Refresh: a.RefreshToken})
	if err != nil {
		return nil, fmt.Errorf("store: encode %s: secrets: %w", key, err)
	}
	sealed, err := t.ring.Seal(pt, []byte(key))
	clear(pt)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(record{
		V:             recordVersion,
		OpenID:        a.OpenID,
		AppKey:        a.AppKey,
		Scopes:        a.Scopes,
		Status:        a.Status,
		Source:        a.Source,
		TestUser:      a.TestUser,
		SellerID:      a.SellerID,
		MainOpenID:    a.MainOpenID,
		AccessExpiry:  utc(a.AccessExpiry),
		RefreshExpiry: utc(a.RefreshExpiry),
		CreatedAt:     utc(a.CreatedAt),
		UpdatedAt:     utc(a.UpdatedAt),
		LastRefresh:   utc(a.LastRefresh),
		LeaseOwner:    a.LeaseOwner,
		LeaseExpiry:   utc(a.LeaseExpiry),
		Sealed:        sealed,
	})
	if err != nil {
		return nil, fmt.Errorf("store: encode %s: %w", key, err)
	}
	return data, nil
}

func parseRecord(key string, data []byte) (record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		// json errors can quote input; the input is the stored record
		// (tokens sealed), but keep it out of messages anyway.
		return record{}, fmt.Errorf("%w: %s: invalid json", ErrCorrupt, key)
	}
	if r.V != recordVersion {
		return record{}, fmt.Errorf("%w: %s: unsupported record version %d", ErrCorrupt, key, r.V)
	}
	return r, nil
}

func (t *TokenStore) decode(key string, data []byte) (Authorization, error) {
	r, err := parseRecord(key, data)
	if err != nil {
		return Authorization{}, err
	}
	pt, err := t.ring.Open(r.Sealed, []byte(key))
	if err != nil {
		return Authorization{}, fmt.Errorf("store: decode %s: %w", key, err)
	}
	var s secrets
	err = json.Unmarshal(pt, &s)
	clear(pt)
	if err != nil {
		return Authorization{}, fmt.Errorf("%w: %s: invalid sealed payload", ErrCorrupt, key)
	}
	return Authorization{
		OpenID:        r.OpenID,
		AppKey:        r.AppKey,
		Scopes:        r.Scopes,
		Status:        r.Status,
		Source:        r.Source,
		TestUser:      r.TestUser,
		SellerID:      r.SellerID,
		MainOpenID:    r.MainOpenID,
		AccessToken:   s.Access,
		RefreshToken:  s.Refresh,
		AccessExpiry:  r.AccessExpiry,
		RefreshExpiry: r.RefreshExpiry,
		CreatedAt:     r.CreatedAt,
		UpdatedAt:     r.UpdatedAt,
		LastRefresh:   r.LastRefresh,
		LeaseOwner:    r.LeaseOwner,
		LeaseExpiry:   r.LeaseExpiry,
	}, nil
}

// Decode decrypts a KV entry of this bucket, e.g. one delivered by Watch.
// Delete/purge entries yield ErrNotFound.
func (t *TokenStore) Decode(e jetstream.KeyValueEntry) (Authorization, error) {
	if e == nil || e.Operation() != jetstream.KeyValuePut {
		return Authorization{}, ErrNotFound
	}
	return t.decode(e.Key(), e.Value())
}

// stamp sets UpdatedAt to now and CreatedAt to now if unset.
func (t *TokenStore) stamp(a Authorization) Authorization {
	now := t.now().UTC()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = now
	return a
}

func (t *TokenStore) get(ctx context.Context, key string) (Authorization, uint64, error) {
	e, err := t.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return Authorization{}, 0, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return Authorization{}, 0, fmt.Errorf("store: get %s: %w", key, err)
	}
	a, err := t.decode(key, e.Value())
	if err != nil {
		return Authorization{}, 0, err
	}
	return a, e.Revision(), nil
}

func (t *TokenStore) put(ctx context.Context, key string, a Authorization) (uint64, error) {
	data, err := t.encode(key, t.stamp(a))
	if err != nil {
		return 0, err
	}
	rev, err := t.kv.Put(ctx, key, data)
	if err != nil {
		return 0, fmt.Errorf("store: put %s: %w", key, err)
	}
	return rev, nil
}

// Get returns the shop record and its revision, or ErrNotFound.
func (t *TokenStore) Get(ctx context.Context, openID string) (Authorization, uint64, error) {
	key, err := ShopKey(openID)
	if err != nil {
		return Authorization{}, 0, err
	}
	return t.get(ctx, key)
}

// Create stores a new shop record (key from a.OpenID), or fails with
// ErrExists. Like Put and Update it sets UpdatedAt to now, and CreatedAt
// to now if zero.
func (t *TokenStore) Create(ctx context.Context, a Authorization) (uint64, error) {
	key, err := ShopKey(a.OpenID)
	if err != nil {
		return 0, err
	}
	data, err := t.encode(key, t.stamp(a))
	if err != nil {
		return 0, err
	}
	rev, err := t.kv.Create(ctx, key, data)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return 0, fmt.Errorf("%w: %s", ErrExists, key)
		}
		return 0, fmt.Errorf("store: create %s: %w", key, err)
	}
	return rev, nil
}

// Put unconditionally writes the shop record.
func (t *TokenStore) Put(ctx context.Context, a Authorization) (uint64, error) {
	key, err := ShopKey(a.OpenID)
	if err != nil {
		return 0, err
	}
	return t.put(ctx, key, a)
}

// Update writes the shop record only if its current revision is rev
// (compare-and-set); otherwise it returns ErrConflict.
func (t *TokenStore) Update(ctx context.Context, a Authorization, rev uint64) (uint64, error) {
	key, err := ShopKey(a.OpenID)
	if err != nil {
		return 0, err
	}
	data, err := t.encode(key, t.stamp(a))
	if err != nil {
		return 0, err
	}
	next, err := t.kv.Update(ctx, key, data, rev)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, fmt.Errorf("%w: %s at revision %d", ErrConflict, key, rev)
		}
		return 0, fmt.Errorf("store: update %s: %w", key, err)
	}
	return next, nil
}

// Delete removes the shop record. Deleting a missing record is not an
// error. With history 1 the sealed value is dropped from the stream.
func (t *TokenStore) Delete(ctx context.Context, openID string) error {
	key, err := ShopKey(openID)
	if err != nil {
		return err
	}
	if err := t.kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("store: delete %s: %w", key, err)
	}
	return nil
}

// List returns all shop records (not app.* records), sorted by OpenID,
// tokens decrypted. Any undecodable record fails the whole call.
// ListMetadata lists every shop like List but without decrypting anything:
// the tokens are left empty. Listing, filtering and the background scans use
// it, so a store of 100 000 shops is not decrypted every minute.
func (t *TokenStore) ListMetadata(ctx context.Context) ([]Authorization, error) {
	var out []Authorization
	// Parse while streaming: holding every raw entry first would double the
	// peak memory of a large store.
	err := t.each(ctx, ShopPrefix+">", func(e jetstream.KeyValueEntry) error {
		r, err := parseRecord(e.Key(), e.Value())
		if err != nil {
			return err
		}
		out = append(out, Authorization{
			OpenID: r.OpenID, AppKey: r.AppKey, Scopes: r.Scopes, Status: r.Status, Source: r.Source, TestUser: r.TestUser,
			SellerID: r.SellerID, MainOpenID: r.MainOpenID,
			AccessExpiry: r.AccessExpiry, RefreshExpiry: r.RefreshExpiry, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			LastRefresh: r.LastRefresh, LeaseOwner: r.LeaseOwner, LeaseExpiry: r.LeaseExpiry,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y Authorization) int { return strings.Compare(x.OpenID, y.OpenID) })
	return out, nil
}

// each calls fn for every current entry matching filter, as they stream in.
func (t *TokenStore) each(ctx context.Context, filter string, fn func(jetstream.KeyValueEntry) error) error {
	return EachEntry(ctx, t.kv, filter, fn)
}

func (t *TokenStore) List(ctx context.Context) ([]Authorization, error) {
	entries, err := t.snapshot(ctx, ShopPrefix+">")
	if err != nil {
		return nil, err
	}
	out := make([]Authorization, 0, len(entries))
	for _, e := range entries {
		a, err := t.decode(e.Key(), e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y Authorization) int { return strings.Compare(x.OpenID, y.OpenID) })
	return out, nil
}

// GetApp returns the app-level (client_credentials) record for appKey.
func (t *TokenStore) GetApp(ctx context.Context, appKey string) (Authorization, uint64, error) {
	key, err := AppRecordKey(appKey)
	if err != nil {
		return Authorization{}, 0, err
	}
	return t.get(ctx, key)
}

// PutApp unconditionally writes the app-level record (key from a.AppKey).
func (t *TokenStore) PutApp(ctx context.Context, a Authorization) (uint64, error) {
	key, err := AppRecordKey(a.AppKey)
	if err != nil {
		return 0, err
	}
	return t.put(ctx, key, a)
}

// Watch watches one shop key. Entries carry sealed values: decrypt them
// with Decode. The caller must Stop the watcher.
// For other watch options use KeyValue().Watch with ShopKey.
func (t *TokenStore) Watch(ctx context.Context, openID string) (jetstream.KeyWatcher, error) {
	key, err := ShopKey(openID)
	if err != nil {
		return nil, err
	}
	w, err := t.kv.Watch(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("store: watch %s: %w", key, err)
	}
	return w, nil
}

// snapshot returns the current (non-deleted) entries matching filter.
func (t *TokenStore) snapshot(ctx context.Context, filter string) ([]jetstream.KeyValueEntry, error) {
	var out []jetstream.KeyValueEntry
	err := t.each(ctx, filter, func(e jetstream.KeyValueEntry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Reencrypt rewrites, with compare-and-set, every record (shop and app)
// whose key id is not the ring's primary so that it is sealed under the
// primary key. Metadata (including UpdatedAt) is left unchanged. It
// returns how many records it rewrote; records changed concurrently are
// re-read and retried. Run it after rotating the primary key and before
// dropping old keys from the ring.
func (t *TokenStore) Reencrypt(ctx context.Context) (int, error) {
	entries, err := t.snapshot(ctx, ">")
	if err != nil {
		return 0, err
	}
	primary := t.ring.PrimaryID()
	n := 0
	for _, e := range entries {
		done, err := t.reencryptOne(ctx, e, primary)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

func (t *TokenStore) reencryptOne(ctx context.Context, e jetstream.KeyValueEntry, primary string) (bool, error) {
	key := e.Key()
	for range maxReencryptTries {
		r, err := parseRecord(key, e.Value())
		if err != nil {
			return false, err
		}
		if r.Sealed.KeyID == primary {
			return false, nil
		}
		pt, err := t.ring.Open(r.Sealed, []byte(key))
		if err != nil {
			return false, fmt.Errorf("store: reencrypt %s: %w", key, err)
		}
		r.Sealed, err = t.ring.Seal(pt, []byte(key))
		clear(pt)
		if err != nil {
			return false, err
		}
		data, err := json.Marshal(r)
		if err != nil {
			return false, fmt.Errorf("store: reencrypt %s: %w", key, err)
		}
		_, err = t.kv.Update(ctx, key, data, e.Revision())
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return false, fmt.Errorf("store: reencrypt %s: %w", key, err)
		}
		// Changed underneath us: re-read and retry.
		e, err = t.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("store: reencrypt %s: %w", key, err)
		}
	}
	return false, fmt.Errorf("%w: reencrypt %s: gave up after %d attempts", ErrConflict, key, maxReencryptTries)
}
