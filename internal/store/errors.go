// Package store persists kwaishop-gateway state in NATS JetStream.
//
// By default it runs an embedded nats-server in-process (JetStream file
// store under Config.DataDir, no TCP listener unless Config.Listen is set);
// alternatively it connects to an external NATS deployment via
// Config.NATSURL. Merchant OAuth tokens live in the KV bucket
// "kwaishop_tokens"; the two secrets of every record (access and refresh
// token) are sealed with AES-256-GCM under a Keyring so they are never
// stored in plaintext, while the remaining metadata stays readable for
// listing and filtering.
package store

import "errors"

// Sentinel errors. Wrapped errors add context (never secrets); test with
// errors.Is.
var (
	// ErrInvalidConfig is wrapped by every Config.Validate violation.
	ErrInvalidConfig = errors.New("store: invalid config")
	// ErrInvalidKeyring is wrapped by every keyring parse/construction error.
	ErrInvalidKeyring = errors.New("store: invalid keyring")
	// ErrUnknownKey means a sealed value names a key id not in the Keyring.
	ErrUnknownKey = errors.New("store: unknown key id")
	// ErrDecrypt means authenticated decryption failed (wrong key, wrong
	// AAD or tampered data).
	ErrDecrypt = errors.New("store: decrypt failed")

	// ErrInvalidKey means an openID/appKey is not a valid record key
	// ([A-Za-z0-9_-]+).
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrNotFound means the record does not exist (or was deleted).
	ErrNotFound = errors.New("store: not found")
	// ErrExists means Create found an existing record.
	ErrExists = errors.New("store: already exists")
	// ErrConflict means a compare-and-set Update lost: the revision given
	// is not the record's current revision.
	ErrConflict = errors.New("store: revision conflict")
	// ErrCorrupt means a stored record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrClosed is returned by Store methods after Close.
	ErrClosed = errors.New("store: closed")
)
