// Package sign computes and verifies the Kuaishou open platform request
// signature.
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
	"sync"
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
	return string(appendStringToSign(make([]byte, 0, 256+len(signSecret)), params, signSecret))
}

func appendStringToSign(b []byte, params Lookup, signSecret string) []byte {
	first := true
	for _, k := range signedKeys {
		v, ok := params(k)
		if !ok {
			continue
		}
		if !first {
			b = append(b, '&')
		}
		first = false
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, v...)
	}
	b = append(b, "&signSecret="...)
	return append(b, signSecret...)
}

// Sign computes the signature of params with method m and the app's signSecret.
func Sign(m Method, params Lookup, signSecret string) (string, error) {
	s := appendStringToSign(make([]byte, 0, 256+len(signSecret)), params, signSecret)
	switch m {
	case MD5:
		sum := md5.Sum(s)
		return hex.EncodeToString(sum[:]), nil
	case HMACSHA256:
		h := hmac.New(sha256.New, []byte(signSecret))
		h.Write(s)
		return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownMethod, m)
}

// Signer computes the signatures of one app (one method, one signSecret),
// reusing its buffer and keyed hash between calls: the same result as Sign,
// for a client that signs every call. It is safe for concurrent use.
type Signer struct {
	method Method
	secret string
	states sync.Pool // *signState
}

type signState struct {
	buf []byte
	mac hash.Hash // HMAC-SHA256 keyed with the secret; nil for MD5
	sum []byte    // the MAC's output
}

// maxPooledBuffer bounds the buffers kept between calls, so one huge
// parameter does not pin its memory.
const maxPooledBuffer = 64 << 10

// NewSigner returns a Signer for method m and the app's signSecret.
func NewSigner(m Method, signSecret string) (*Signer, error) {
	if _, err := ParseMethod(string(m)); err != nil {
		return nil, err
	}
	s := &Signer{method: m, secret: signSecret}
	s.states.New = func() any {
		st := &signState{buf: make([]byte, 0, 512), sum: make([]byte, 0, sha256.Size)}
		if m == HMACSHA256 {
			st.mac = hmac.New(sha256.New, []byte(signSecret))
		}
		return st
	}
	return s, nil
}

// Method is the signature method of s.
func (s *Signer) Method() Method { return s.method }

// Sign computes the signature of params.
func (s *Signer) Sign(params Lookup) string {
	st := s.states.Get().(*signState)
	st.buf = appendStringToSign(st.buf[:0], params, s.secret)
	var out string
	if st.mac == nil {
		sum := md5.Sum(st.buf)
		var dst [2 * md5.Size]byte
		hex.Encode(dst[:], sum[:])
		out = string(dst[:])
	} else {
		st.mac.Reset()
		st.mac.Write(st.buf)
		st.sum = st.mac.Sum(st.sum[:0])
		var dst [44]byte // base64 of 32 bytes, padded
		base64.StdEncoding.Encode(dst[:], st.sum)
		out = string(dst[:])
	}
	if cap(st.buf) <= maxPooledBuffer {
		s.states.Put(st)
	}
	return out
}

// Verify reports whether got is the signature of params under method m,
// comparing in constant time. An MD5 signature is compared case-insensitively
// (the platform's documentation shows both cases).
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
