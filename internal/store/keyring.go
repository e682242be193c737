package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

const (
	nonceSize   = 12 // standard GCM nonce
	maxKeyIDLen = 64
)

// Key is one named AES-256-GCM key. Secret is key material: Key.String
// deliberately encodes it (for writing generated keys to a key file), but
// GoString and LogValue redact it.
type Key struct {
	ID     string
	Secret []byte
}

// GenerateKey returns a new random 32-byte key with the given id.
func GenerateKey(id string) (Key, error) {
	if !validKeyID(id) {
		return Key{}, fmt.Errorf("%w: key id must match [A-Za-z0-9_-]{1,%d}", ErrInvalidKeyring, maxKeyIDLen)
	}
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("store: generate key: %w", err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// Encode returns the "id:base64" encoding understood by ParseKeyring.
// It CONTAINS KEY MATERIAL: only use it to write a key file.
func (k Key) Encode() string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
}

// String redacts the secret (used by %v and %s).
func (k Key) String() string { return k.GoString() }

// GoString redacts the secret (used by %#v).
func (k Key) GoString() string {
	return fmt.Sprintf("store.Key{ID:%q, Secret:[REDACTED]}", k.ID)
}

// LogValue redacts the secret so slog never prints key material.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("secret", "[REDACTED]"))
}

// Keyring holds AES-256-GCM keys by id. The first (primary) key encrypts;
// every key decrypts. A Keyring is immutable and safe for concurrent use.
// It keeps no copy of the raw key bytes, only the initialised ciphers.
type Keyring struct {
	primary string
	ids     []string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring parses "id:base64key,id2:base64key2" (standard base64, 32
// bytes each, ids [A-Za-z0-9_-]+ and unique). Whitespace around entries is
// ignored. All problems are reported together; error text never contains
// key material (not even invalid ids, which could be a misplaced key).
func ParseKeyring(s string) (*Keyring, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyring)
	}
	var (
		errs []error
		keys []Key
	)
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			errs = append(errs, fmt.Errorf("%w: entry %d is empty", ErrInvalidKeyring, n))
			continue
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("%w: entry %d: want id:base64key", ErrInvalidKeyring, n))
			continue
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		label := fmt.Sprintf("entry %d", n)
		if !validKeyID(id) {
			errs = append(errs, fmt.Errorf("%w: %s: key id must match [A-Za-z0-9_-]{1,%d}", ErrInvalidKeyring, label, maxKeyIDLen))
		} else {
			label = fmt.Sprintf("entry %d (id %q)", n, id)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		switch {
		case b64 == "":
			errs = append(errs, fmt.Errorf("%w: %s: key is empty", ErrInvalidKeyring, label))
			continue
		case err != nil:
			// Do not wrap err: keep the message free of any input detail.
			errs = append(errs, fmt.Errorf("%w: %s: key is not valid standard base64", ErrInvalidKeyring, label))
			continue
		case len(secret) != KeySize:
			errs = append(errs, fmt.Errorf("%w: %s: key is %d bytes, want %d", ErrInvalidKeyring, label, len(secret), KeySize))
			clear(secret)
			continue
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	defer func() {
		for _, k := range keys {
			clear(k.Secret)
		}
	}()
	if len(errs) > 0 {
		// Still check duplicates among the valid entries so every
		// violation is reported at once.
		errs = append(errs, dupErrors(keys)...)
		return nil, errors.Join(errs...)
	}
	return NewKeyring(keys...)
}

// NewKeyring builds a Keyring from keys; keys[0] is the primary. The
// secrets are copied into ciphers; the caller may wipe them afterwards.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyring)
	}
	var errs []error
	for i, k := range keys {
		if !validKeyID(k.ID) {
			errs = append(errs, fmt.Errorf("%w: key %d: key id must match [A-Za-z0-9_-]{1,%d}", ErrInvalidKeyring, i+1, maxKeyIDLen))
		}
		if len(k.Secret) != KeySize {
			errs = append(errs, fmt.Errorf("%w: key %d: key is %d bytes, want %d", ErrInvalidKeyring, i+1, len(k.Secret), KeySize))
		}
	}
	errs = append(errs, dupErrors(keys)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	kr := &Keyring{primary: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: cannot initialise AES", ErrInvalidKeyring, k.ID)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: cannot initialise GCM", ErrInvalidKeyring, k.ID)
		}
		kr.aeads[k.ID] = aead
		kr.ids = append(kr.ids, k.ID)
	}
	return kr, nil
}

func dupErrors(keys []Key) []error {
	var errs []error
	seen := make(map[string]bool, len(keys))
	reported := make(map[string]bool)
	for _, k := range keys {
		if !validKeyID(k.ID) {
			continue
		}
		if seen[k.ID] && !reported[k.ID] {
			errs = append(errs, fmt.Errorf("%w: duplicate key id %q", ErrInvalidKeyring, k.ID))
			reported[k.ID] = true
		}
		seen[k.ID] = true
	}
	return errs
}

func validKeyID(id string) bool {
	return len(id) <= maxKeyIDLen && validName(id)
}

// validName reports whether s is non-empty and only [A-Za-z0-9_-].
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// PrimaryID is the id of the key used by Seal.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs returns all key ids, primary first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Has reports whether the ring holds a key with this id.
func (k *Keyring) Has(id string) bool { _, ok := k.aeads[id]; return ok }

// String describes the ring without key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("Keyring{primary:%s ids:%v}", k.primary, k.ids)
}

// GoString describes the ring without key material.
func (k *Keyring) GoString() string { return "store." + k.String() }

// LogValue describes the ring without key material.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(slog.String("primary", k.primary), slog.Any("ids", k.ids))
}

// Sealed is an AES-256-GCM ciphertext with the id of the key that made it.
type Sealed struct {
	KeyID      string `json:"kid"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ct"`
}

// Seal encrypts plaintext under the primary key, authenticating aad.
func (k *Keyring) Seal(plaintext, aad []byte) (Sealed, error) {
	aead := k.aeads[k.primary]
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("store: seal: nonce: %w", err)
	}
	return Sealed{
		KeyID:      k.primary,
		Nonce:      nonce,
		Ciphertext: aead.Seal(nil, nonce, plaintext, aad),
	}, nil
}

// Open decrypts s, which must have been sealed with the same aad. It
// returns ErrUnknownKey if s.KeyID is not in the ring and ErrDecrypt if
// authentication fails.
func (k *Keyring) Open(s Sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[s.KeyID]
	if !ok {
		if validKeyID(s.KeyID) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownKey, s.KeyID)
		}
		return nil, ErrUnknownKey
	}
	if len(s.Nonce) != aead.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, s.Nonce, s.Ciphertext, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}
