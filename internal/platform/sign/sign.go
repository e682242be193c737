// Package sign computes and verifies the Kuaishou open platform request
// signature (platform-protocol.md section 1.6).
//
// The string to sign is the present public parameters among access_token,
// appkey, method, param, signMethod, timestamp and version, sorted by name,
// joined as raw (not URL-encoded) key=value pairs with '&', followed by
// "&signSecret=<signSecret>". MD5 yields lowercase hex; HMAC_SHA256 is keyed
// with the signSecret and yields standard padded base64.
package sign

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Method is a signature method as sent in the signMethod parameter.
type Method string

// The platform's two signature methods.
const (
	MD5        Method = "MD5"
	HMACSHA256 Method = "HMAC_SHA256"
)

// ErrUnknownMethod is returned for a signMethod other than MD5 or HMAC_SHA256.
var ErrUnknownMethod = errors.New("sign: unknown sign method")

// ParseMethod parses a signMethod value. Matching is exact, as on the platform.
func ParseMethod(s string) (Method, error) {
	switch Method(s) {
	case MD5, HMACSHA256:
		return Method(s), nil
	}
	return "", fmt.Errorf("%w %q (want MD5 or HMAC_SHA256)", ErrUnknownMethod, s)
}

// Names of the signed public parameters, in the platform's sort order.
const (
	KeyAccessToken = "access_token"
	KeyAppKey      = "appkey"
	KeyMethod      = "method"
	KeyParam       = "param"
	KeySignMethod  = "signMethod"
	KeyTimestamp   = "timestamp"
	KeyVersion     = "version"
	KeySign        = "sign"
)

// signedKeys is the fixed, already sorted set of signed parameter names
// (plain code-point order, as Java's TreeMap sorts them).
var signedKeys = [...]string{KeyAccessToken, KeyAppKey, KeyMethod, KeyParam, KeySignMethod, KeyTimestamp, KeyVersion}

// Lookup returns a parameter value and whether it is present. url.Values.Get
// style accessors can be adapted with a closure.
type Lookup func(key string) (string, bool)

// MapLookup adapts a map to a Lookup.
func MapLookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// StringToSign builds the exact string the signature covers. Parameters that
// are absent are skipped; every other parameter (including sign) is ignored.
func StringToSign(params Lookup, signSecret string) string {
	var b strings.Builder
	b.Grow(256 + len(signSecret))
	writeStringToSign(&b, params, signSecret)
	return b.String()
}

func writeStringToSign(b *strings.Builder, params Lookup, signSecret string) {
	first := true
	for _, k := range signedKeys {
		v, ok := params(k)
		if !ok {
			continue
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	b.WriteString("&signSecret=")
	b.WriteString(signSecret)
}

// Sign computes the signature of params with method m and the app's signSecret.
func Sign(m Method, params Lookup, signSecret string) (string, error) {
	var b strings.Builder
	b.Grow(256 + len(signSecret))
	writeStringToSign(&b, params, signSecret)
	s := b.String()
	var h hash.Hash
	switch m {
	case MD5:
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:]), nil
	case HMACSHA256:
		h = hmac.New(sha256.New, []byte(signSecret))
		h.Write([]byte(s))
		return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownMethod, m)
}

// Verify reports whether got is the signature of params under method m,
// comparing in constant time. An MD5 signature is compared case-insensitively
// (platform-protocol.md open question 9: the docs show both cases).
func Verify(m Method, params Lookup, signSecret, got string) bool {
	want, err := Sign(m, params, signSecret)
	if err != nil {
		return false
	}
	if m == MD5 {
		got = strings.ToLower(got)
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
