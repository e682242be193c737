package message

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Key is one app's message key, as the platform encrypts pushes: AES with a 16, 24 or
// 32 byte key, CBC mode, a zero IV and PKCS#7 padding. It never prints its
// bytes.
type Key struct {
	// AppKey is the app the key belongs to; "" = not bound to an app.
	AppKey string
	block  cipher.Block
}

// NewKey builds a key from its base64 text.
func NewKey(appKey, b64 string) (Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return Key{}, errors.New("message: key is not standard base64")
	}
	switch len(raw) {
	case 16, 24, 32:
	default:
		return Key{}, fmt.Errorf("message: key decodes to %d bytes, want 16, 24 or 32", len(raw))
	}
	block, _ := aes.NewCipher(raw) // length checked above
	clear(raw)
	return Key{AppKey: appKey, block: block}, nil
}

// ParseKeys parses a list of message keys `appKey:base64key,...`; an entry
// without `appKey:` is not bound to an app (base64 has no colon).
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	var errs []error
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		app, b64, ok := strings.Cut(part, ":")
		if !ok {
			app, b64 = "", part
		}
		k, err := NewKey(strings.TrimSpace(app), b64)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d: %w", i+1, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, errors.Join(errs...)
}

func (k Key) String() string {
	if k.AppKey == "" {
		return "message.Key{[REDACTED]}"
	}
	return "message.Key{" + k.AppKey + ":[REDACTED]}"
}

// GoString is String, so %#v does not print the key.
func (k Key) GoString() string { return k.String() }

// LogValue implements slog.LogValuer without the key.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Encrypt encrypts plaintext the way the platform does and returns the
// base64 body of a push.
func (k Key) Encrypt(plaintext []byte) string {
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+n)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	cipher.NewCBCEncrypter(k.block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// decrypt decrypts ciphertext (a positive multiple of the block size) and
// strips the padding.
func (k Key) decrypt(ct []byte) ([]byte, bool) {
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, false
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(k.block, make([]byte, aes.BlockSize)).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, false
	}
	for _, b := range pt[len(pt)-n:] {
		if int(b) != n {
			return nil, false
		}
	}
	return pt[:len(pt)-n], true
}

// Reasons a push is refused. They label the rejection counter and the log
// line; none of them carries any part of the body.
const (
	ReasonOversized     = "oversized"
	ReasonNotBase64     = "not_base64"
	ReasonUndecryptable = "undecryptable"
	ReasonWrongKey      = "wrong_key"
	ReasonMalformed     = "malformed"
	ReasonNoKey         = "no_key"
	// ReasonFuture: the push is dated more than MaxFutureSkew ahead (400).
	ReasonFuture = "future"
	// ReasonStale: the push is older than the de-duplication window. It is
	// answered {"result":1} but not stored (see intake.Handler.ServeHTTP);
	// the counter counts it under this reason all the same.
	ReasonStale = "stale"
)

// RejectError is a refused push.
type RejectError struct {
	Reason string // one of the Reason constants
	Detail string // a fixed description, never body content
}

func (e *RejectError) Error() string { return "message: " + e.Reason + ": " + e.Detail }

// Reject returns a *RejectError.
func Reject(reason, detail string) error { return &RejectError{Reason: reason, Detail: detail} }

// Decode turns a push body into the platform's plaintext JSON. A body that
// is a JSON object is accepted only as a clear-text heartbeat
// (`{"test":true}`, sent when the push URL is saved); anything else must be the base64
// AES ciphertext, which is tried with each key (a wrong key fails the
// padding or the JSON check). When the key that worked is bound to an app
// and the message names another appKey, the push is refused as wrong_key.
func Decode(keys []Key, body []byte) (plain []byte, heartbeat bool, err error) {
	plain, _, heartbeat, err = DecodeKey(keys, body)
	return plain, heartbeat, err
}

// DecodeKey is Decode that also returns the key that decrypted the body
// (the zero Key for a clear-text heartbeat). A key bound to an app only
// accepts a message of that app: one that decrypts but names another
// appKey is passed over for the next key (two apps may share a key), and
// refused as wrong_key if no key of its app opens it.
func DecodeKey(keys []Key, body []byte) (plain []byte, key Key, heartbeat bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		var hb struct {
			Test bool `json:"test"`
		}
		if json.Unmarshal(body, &hb) != nil || !hb.Test {
			return nil, Key{}, false, Reject(ReasonMalformed, "a clear-text body must be the {\"test\":true} heartbeat")
		}
		return body, Key{}, true, nil
	}
	if len(keys) == 0 {
		return nil, Key{}, false, Reject(ReasonNoKey, "no message key is configured")
	}
	ct := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	n, err := base64.StdEncoding.Decode(ct, body)
	if err != nil {
		return nil, Key{}, false, Reject(ReasonNotBase64, "body is not standard base64")
	}
	ct = ct[:n]
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, Key{}, false, Reject(ReasonUndecryptable, "ciphertext is not a whole number of AES blocks (truncated?)")
	}
	wrongApp := false
	for _, k := range keys {
		pt, ok := k.decrypt(ct)
		if !ok || !json.Valid(pt) || len(bytes.TrimSpace(pt)) == 0 || bytes.TrimSpace(pt)[0] != '{' {
			continue
		}
		var head struct {
			AppKey string `json:"appKey"`
			Test   bool   `json:"test"`
		}
		_ = json.Unmarshal(pt, &head)
		if k.AppKey != "" && head.AppKey != "" && head.AppKey != k.AppKey {
			wrongApp = true
			continue
		}
		return pt, k, head.Test, nil
	}
	if wrongApp {
		return nil, Key{}, false, Reject(ReasonWrongKey, "decrypted with a key of another app than the message's appKey")
	}
	if len(keys) == 1 {
		return nil, Key{}, false, Reject(ReasonUndecryptable, "body does not decrypt to JSON with the message key (wrong key or corrupt body)")
	}
	return nil, Key{}, false, Reject(ReasonUndecryptable, "body does not decrypt to JSON with any configured message key")
}
