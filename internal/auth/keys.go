// Package auth authenticates the gateway's callers with API keys
// (docs/security.md) and limits each key to shops and RPC groups.
//
// A caller sends its key as a bearer token: gRPC metadata
// `authorization: Bearer <secret>`, or the HTTP header
// `Authorization: Bearer <secret>` (grpc-gateway forwards it to the gRPC
// metadata, so one interceptor checks both transports).
//
// Keys come from KWAISHOP_API_KEYS:
//
//	keys   = entry *( "," entry )              ; blanks around entries ignored
//	entry  = name ":" secret *( ":" scope )
//	name   = 1*64( ALPHA / DIGIT / "-" / "_" ) ; unique; appears in logs
//	secret = 16*512( VCHAR except ":" "," )     ; the bearer token itself, or
//	       / "sha256=" 64HEXDIG                 ;   the hex SHA-256 of it
//	scope  = "shop=" ( open_id / "*" )          ; repeatable; none = every shop
//	       / "app=" ( app_key / "*" )           ; repeatable; none = every app
//	       / "rpc=" ( group / "*" )             ; repeatable; none = every group but admin and decrypt
//	group  = "platform" / "authorization" / "orders" / "items" / "refunds"
//	       / "logistics" / "shop" / "messages" / "stats" / "webhooks" / "admin"
//	       / "decrypt" / "security-logs"
//
// For example `billing:Zq8…:rpc=orders:rpc=refunds:shop=f3a…` may call the
// order and refund services for one shop, and `brandA:Xy2…:app=ks123` every
// service for the shops of the app ks123 (when the gateway serves several
// apps, docs/apps.md). Secrets are compared in constant time over their
// SHA-256, against every key, and never logged.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Groups are the RPC groups a key may be limited to.
var Groups = []string{"platform", "authorization", "orders", "items", "refunds", "logistics", "shop", "messages", "stats", "webhooks", "admin", GroupDecrypt, "security-logs"}

// GroupAdmin is the group only named keys (or rpc=*) reach: key rotation
// and other operator RPCs.
const GroupAdmin = "admin"

// GroupDecrypt is SecurityService (receiver plaintext): like admin, only
// keys naming it (or rpc=*) reach it, since decrypting personal data is not
// a plain read (docs/security-service.md).
const GroupDecrypt = "decrypt"

// Key is one caller key. Its String never shows the secret.
type Key struct {
	Name      string
	hash      [sha256.Size]byte
	shops     map[string]bool // nil: every shop
	apps      map[string]bool // nil: every app
	groups    map[string]bool // nil: every group but admin and decrypt
	allGroups bool            // rpc=*

	// shopApp names a shop's app: set on the copy of a key limited to apps
	// that the Authenticator puts in a call's context (KeyFrom).
	shopApp ShopApp
}

// ShopApp names the app a shop authorized, or fails with an error wrapping
// store.ErrNotFound for a shop the gateway does not know.
type ShopApp func(ctx context.Context, openID string) (appKey string, err error)

// AllShops reports whether the key may act for every shop (of every app).
func (k *Key) AllShops() bool { return k.shops == nil && k.apps == nil }

// AllApps reports whether the key may act for every app.
func (k *Key) AllApps() bool { return k.apps == nil }

// AllowsApp reports whether the key may act for the app appKey.
func (k *Key) AllowsApp(appKey string) bool { return k.apps == nil || k.apps[appKey] }

// AllowsShop reports whether the key may act for the shop openID: one of
// its shops, of one of its apps. A key limited to apps needs to know the
// shop's app: only the key of a call's context (KeyFrom) can tell, and
// without it, or for a shop the gateway does not know, the answer is no.
func (k *Key) AllowsShop(openID string) bool {
	if k.shops != nil && !k.shops[openID] {
		return false
	}
	if k.apps == nil {
		return true
	}
	if k.shopApp == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), shopAppTimeout)
	defer cancel()
	app, err := k.shopApp(ctx, openID)
	return err == nil && k.apps[app]
}

// AllowsGroup reports whether the key may call RPCs of group g ("" = an
// RPC outside every group: only rpc=* keys).
func (k *Key) AllowsGroup(g string) bool {
	switch {
	case k.allGroups:
		return true
	case g == "":
		return false
	case k.groups == nil:
		return g != GroupAdmin && g != GroupDecrypt
	}
	return k.groups[g]
}

func (k *Key) String() string {
	var b strings.Builder
	b.WriteString(k.Name)
	b.WriteString(" (shops: ")
	if k.shops == nil {
		b.WriteString("all")
	} else {
		b.WriteString(strings.Join(sortedKeys(k.shops), ","))
	}
	if k.apps != nil {
		b.WriteString("; apps: ")
		b.WriteString(strings.Join(sortedKeys(k.apps), ","))
	}
	b.WriteString("; rpc: ")
	switch {
	case k.allGroups:
		b.WriteString("all")
	case k.groups == nil:
		b.WriteString("all but admin, decrypt")
	default:
		b.WriteString(strings.Join(sortedKeys(k.groups), ","))
	}
	b.WriteString(")")
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Keys is a parsed KWAISHOP_API_KEYS. The zero value and nil hold no keys.
type Keys struct{ keys []*Key }

// Len is the number of keys.
func (ks *Keys) Len() int {
	if ks == nil {
		return 0
	}
	return len(ks.keys)
}

// Names lists the key names (for start-up logs).
func (ks *Keys) Names() []string {
	var out []string
	if ks != nil {
		for _, k := range ks.keys {
			out = append(out, k.String())
		}
	}
	return out
}

// Authenticate returns the key whose secret is secret, or nil. It hashes
// secret once and compares the hash with every key in constant time, so
// the time taken does not depend on which key (if any) matched.
func (ks *Keys) Authenticate(secret string) *Key {
	if ks == nil {
		return nil
	}
	h := sha256.Sum256([]byte(secret))
	var found *Key
	for _, k := range ks.keys {
		if subtle.ConstantTimeCompare(h[:], k.hash[:]) == 1 {
			found = k
		}
	}
	return found
}

// shopAppTimeout bounds the look-up of a shop's app for AllowsShop.
const shopAppTimeout = 2 * time.Second

const (
	minSecretLen = 16
	maxSecretLen = 512
	maxNameLen   = 64
	maxOpenIDLen = 128
	hashPrefix   = "sha256="
)

// Parse parses KWAISHOP_API_KEYS (see the package documentation) and reports
// every violation at once. Error messages name keys by position and name,
// never by secret. An empty s gives no keys.
func Parse(s string) (*Keys, error) {
	ks := &Keys{}
	if strings.TrimSpace(s) == "" {
		return ks, nil
	}
	var errs []error
	names := map[string]bool{}
	hashes := map[[sha256.Size]byte]string{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("auth: key %d: "+format, append([]any{i + 1}, a...)...))
		}
		if entry == "" {
			bad("empty entry (stray comma?)")
			continue
		}
		parts := strings.Split(entry, ":")
		if len(parts) < 2 {
			bad("want name:secret[:scope...]")
			continue
		}
		k := &Key{Name: parts[0]}
		if !validName(k.Name) {
			bad("name must be 1-%d letters, digits, '-' or '_'", maxNameLen)
		} else {
			bad = func(format string, a ...any) {
				errs = append(errs, fmt.Errorf("auth: key %d (%s): "+format, append([]any{i + 1, k.Name}, a...)...))
			}
			if names[k.Name] {
				bad("duplicate name")
			}
			names[k.Name] = true
		}
		// Only a secret that parsed has a hash to compare: a refused one
		// keeps the zero hash, which every other refused one shares.
		sec, hashed := parts[1], false
		switch {
		case strings.HasPrefix(sec, hashPrefix):
			h, err := hex.DecodeString(sec[len(hashPrefix):])
			if err != nil || len(h) != sha256.Size {
				bad("a hashed secret must be sha256= and 64 hex digits")
				break
			}
			copy(k.hash[:], h)
			hashed = true
		case len(sec) < minSecretLen || len(sec) > maxSecretLen:
			bad("secret must be %d to %d characters (generate one with: openssl rand -base64 32)", minSecretLen, maxSecretLen)
		case strings.IndexFunc(sec, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
			bad("secret must be printable ASCII without spaces")
		default:
			k.hash, hashed = sha256.Sum256([]byte(sec)), true
		}
		if hashed {
			if other, dup := hashes[k.hash]; dup {
				bad("same secret as key %s", other)
			}
			hashes[k.hash] = strconv.Itoa(i + 1) // an invalid name is not echoed
			if validName(k.Name) {
				hashes[k.hash] = k.Name
			}
		}
		for j, sc := range parts[2:] {
			// Scope text is echoed only once known to be a scope: a
			// misplaced secret must not reach the error message.
			kind, val, ok := strings.Cut(sc, "=")
			switch {
			case !ok || val == "" || (kind != "shop" && kind != "rpc" && kind != "app"):
				bad("scope %d: want shop=<open_id|*>, app=<app_key|*> or rpc=<group|*>", j+1)
			case kind == "app" && val == "*":
				if k.apps == nil {
					k.apps = map[string]bool{}
				}
				k.apps["*"] = true
			case kind == "app":
				if !validName(val) {
					bad("scope %d: app=: not an app key (letters, digits, '-' or '_', at most %d)", j+1, maxNameLen)
					continue
				}
				if k.apps == nil {
					k.apps = map[string]bool{}
				}
				k.apps[val] = true
			case kind == "shop" && val == "*":
				if k.shops == nil {
					k.shops = map[string]bool{}
				}
				k.shops["*"] = true
			case kind == "shop":
				if len(val) > maxOpenIDLen || strings.ContainsAny(val, " \t") {
					bad("scope %d: shop=: not an open_id", j+1)
					continue
				}
				if k.shops == nil {
					k.shops = map[string]bool{}
				}
				k.shops[val] = true
			case kind == "rpc" && val == "*":
				k.allGroups = true
			case kind == "rpc":
				if !slices.Contains(Groups, val) {
					bad("scope %d: rpc=: want one of %s or *", j+1, strings.Join(Groups, ", "))
					continue
				}
				if k.groups == nil {
					k.groups = map[string]bool{}
				}
				k.groups[val] = true
			}
		}
		if k.shops["*"] {
			k.shops = nil // shop=* wins over single shops
		}
		if k.apps["*"] {
			k.apps = nil // app=* wins over single apps
		}
		ks.keys = append(ks.keys, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ks, nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
