package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func TestParseKeyringErrors(t *testing.T) {
	good := b64(32, 0x41)
	short := b64(16, 0x42)
	notB64 := "!!not*base64!!SECRETISH"
	tests := []struct {
		name  string
		in    string
		wants []string // substrings expected in the error
		never []string // substrings that must not appear
	}{
		{name: "empty", in: "", wants: []string{"no keys"}},
		{name: "blank", in: "  \n", wants: []string{"no keys"}},
		{name: "empty entry", in: "a:" + good + ",,", wants: []string{"entry 2 is empty", "entry 3 is empty"}, never: []string{good}},
		{name: "missing colon", in: good, wants: []string{"want id:base64key"}, never: []string{good}},
		{name: "bad base64", in: "k1:" + notB64, wants: []string{`entry 1 (id "k1"): key is not valid standard base64`}, never: []string{notB64, "SECRETISH"}},
		{name: "wrong length", in: "k1:" + short, wants: []string{"key is 16 bytes, want 32"}, never: []string{short}},
		{name: "empty key", in: "k1:", wants: []string{"key is empty"}},
		{name: "bad id", in: "k 1/x:" + good, wants: []string{"entry 1: key id must match"}, never: []string{good, "k 1/x"}},
		{name: "swapped id and key", in: good + ":k1", wants: []string{"entry 1: key id must match"}, never: []string{good}},
		{name: "dup id", in: "k1:" + good + ",k1:" + b64(32, 0x43), wants: []string{`duplicate key id "k1"`}, never: []string{good, b64(32, 0x43)}},
		{
			name:  "all at once",
			in:    "k1:" + good + ",k1:" + good + ",k2:" + short + ",k3:" + notB64,
			wants: []string{`duplicate key id "k1"`, "16 bytes", "not valid standard base64"},
			never: []string{good, short, notB64},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.in)
			if err == nil {
				t.Fatalf("ParseKeyring succeeded: %v", kr)
			}
			if !errors.Is(err, ErrInvalidKeyring) {
				t.Errorf("error %v does not wrap ErrInvalidKeyring", err)
			}
			msg := err.Error()
			for _, w := range tt.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(msg, n) {
					t.Errorf("error %q leaks %q", msg, n)
				}
			}
		})
	}
}

func TestParseKeyringOK(t *testing.T) {
	k1, err := GenerateKey("k-1")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := GenerateKey("old_2")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := ParseKeyring(" " + k1.Encode() + " , " + k2.Encode() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := kr.PrimaryID(); got != "k-1" {
		t.Errorf("PrimaryID = %q, want k-1", got)
	}
	if got := kr.IDs(); len(got) != 2 || got[1] != "old_2" {
		t.Errorf("IDs = %v", got)
	}
	// Parsed ring interoperates with a ring built from the same keys.
	kr2, err := NewKeyring(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := kr.Seal([]byte("hello"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := kr2.Open(s, []byte("aad"))
	if err != nil || string(pt) != "hello" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestNewKeyringErrors(t *testing.T) {
	good, _ := GenerateKey("a")
	tests := []struct {
		name string
		keys []Key
		want string
	}{
		{name: "none", keys: nil, want: "no keys"},
		{name: "bad id", keys: []Key{{ID: "a.b", Secret: good.Secret}}, want: "key id must match"},
		{name: "short", keys: []Key{{ID: "a", Secret: good.Secret[:31]}}, want: "31 bytes"},
		{name: "dup", keys: []Key{good, good}, want: "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(tt.keys...)
			if !errors.Is(err, ErrInvalidKeyring) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidKeyring containing %q", err, tt.want)
			}
		})
	}
	if _, err := GenerateKey("no spaces"); !errors.Is(err, ErrInvalidKeyring) {
		t.Errorf("GenerateKey bad id: err = %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	k1, _ := GenerateKey("k1")
	k2, _ := GenerateKey("k2")
	ring, err := NewKeyring(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte("super secret token")
	aad := []byte("shop.abc")
	s, err := ring.Seal(pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != "k1" || len(s.Nonce) != 12 || bytes.Contains(s.Ciphertext, pt) {
		t.Fatalf("unexpected sealed value: kid=%q nonce=%d", s.KeyID, len(s.Nonce))
	}
	s2, _ := ring.Seal(pt, aad)
	if bytes.Equal(s.Nonce, s2.Nonce) || bytes.Equal(s.Ciphertext, s2.Ciphertext) {
		t.Error("two seals of the same plaintext are identical")
	}
	onlyK2, _ := NewKeyring(k2)
	tamper := func(s Sealed) Sealed {
		ct := bytes.Clone(s.Ciphertext)
		ct[0] ^= 1
		return Sealed{KeyID: s.KeyID, Nonce: s.Nonce, Ciphertext: ct}
	}
	tests := []struct {
		name    string
		ring    *Keyring
		s       Sealed
		aad     []byte
		wantErr error
	}{
		{name: "roundtrip", ring: ring, s: s, aad: aad},
		{name: "wrong aad", ring: ring, s: s, aad: []byte("shop.other"), wantErr: ErrDecrypt},
		{name: "nil aad", ring: ring, s: s, aad: nil, wantErr: ErrDecrypt},
		{name: "tampered", ring: ring, s: tamper(s), aad: aad, wantErr: ErrDecrypt},
		{name: "short nonce", ring: ring, s: Sealed{KeyID: "k1", Nonce: s.Nonce[:4], Ciphertext: s.Ciphertext}, aad: aad, wantErr: ErrDecrypt},
		{name: "unknown kid", ring: onlyK2, s: s, aad: aad, wantErr: ErrUnknownKey},
		{name: "wrong key same kid", ring: mustRing(t, Key{ID: "k1", Secret: k2.Secret}), s: s, aad: aad, wantErr: ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.s, tt.aad)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open = %q, %v", got, err)
			}
		})
	}
}

func TestKeyFormattingRedacts(t *testing.T) {
	k, _ := GenerateKey("k1")
	secret := base64.StdEncoding.EncodeToString(k.Secret)
	if got := k.Encode(); got != "k1:"+secret {
		t.Errorf("String() = %q, want the id:base64 encoding", got)
	}
	ring := mustRing(t, k)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", k, "ring", ring)
	for _, s := range []string{fmt.Sprintf("%#v", k), fmt.Sprintf("%v %s", k, k), buf.String(), fmt.Sprintf("%v %+v %#v", ring, ring, ring)} {
		if strings.Contains(s, secret) {
			t.Errorf("formatted output leaks key: %s", s)
		}
	}
}

func mustRing(t *testing.T, keys ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
