package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
)

// Signing secrets follow the Standard Webhooks symmetric scheme: 24 to 64
// random bytes, shown to people as "whsec_" + standard base64; the HMAC key
// is the decoded bytes.
const (
	secretPrefix   = "whsec_"
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// Secret is one endpoint signing key. String, GoString and LogValue redact
// it; Encode is the one way to its text form (shown once, to the caller that
// created or rotated it).
type Secret struct{ key []byte }

// NewSecret returns a random secret.
func NewSecret() (Secret, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, errors.New("webhook: secret: no randomness")
	}
	return Secret{key: b}, nil
}

// ParseSecret reads the "whsec_<base64>" form.
func ParseSecret(s string) (Secret, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, errors.New("webhook: secret: want whsec_<base64>")
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) < minSecretBytes || len(b) > maxSecretBytes {
		return Secret{}, errors.New("webhook: secret: want whsec_ and base64 of 24 to 64 bytes")
	}
	return Secret{key: b}, nil
}

// Encode returns the "whsec_<base64>" form. It IS the secret.
func (s Secret) Encode() string { return secretPrefix + base64.StdEncoding.EncodeToString(s.key) }

// String redacts the secret.
func (s Secret) String() string { return "whsec_[REDACTED]" }

// GoString redacts the secret.
func (s Secret) GoString() string { return "webhook.Secret{[REDACTED]}" }

// LogValue redacts the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue("whsec_[REDACTED]") }

// sign is one "v1,<base64 HMAC-SHA256>" signature of "id.timestamp.body".
func (s Secret) sign(id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Signature is the webhook-signature header value: one signature per
// secret, space-separated (the newest first), so a receiver that still
// holds a previous secret during a rotation's grace keeps verifying.
func Signature(secrets []Secret, id string, ts int64, body []byte) string {
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		parts = append(parts, s.sign(id, ts, body))
	}
	return strings.Join(parts, " ")
}
