// Package ids provides the sandbox's random identifiers and secrets: raw
// bytes, lowercase hex and decimal digits from crypto/rand.
package ids

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Bytes returns n random bytes.
func Bytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

// Hex returns n random bytes as 2n lowercase hex characters.
func Hex(n int) string { return hex.EncodeToString(Bytes(n)) }

// Digits returns n random decimal digits.
func Digits(n int) string {
	var b strings.Builder
	for _, c := range Bytes(n) {
		b.WriteByte('0' + c%10) // slight bias is irrelevant for an app key
	}
	return b.String()
}
