package sign

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// FuzzSign checks, over arbitrary parameter values, presence sets and
// secrets: StringToSign and Sign never panic; the string to sign is exactly
// the present signed parameters in order followed by the secret; the
// signature is the MD5 / HMAC-SHA256 of that string; Verify accepts
// Sign's output (MD5 in either case) and rejects any other signature, and
// unsigned parameters change nothing. Seeds: the protocol vectors.
func FuzzSign(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.AccessToken, v.AppKey, v.Method, v.Param, v.SignMethod, strconv.FormatInt(v.Timestamp, 10),
			strconv.Itoa(v.Version), v.SignSecret, uint8(0x7f), v.Sign)
	}
	f.Add("", "", "", "", "", "", "", "", uint8(0), "")
	f.Add("a&b=c", "k=v", "m&signSecret=x", "{\"a\":\"&\"}", "md5", "-1", "١", "秘密", uint8(0x55), "x")

	f.Fuzz(func(t *testing.T, accessToken, appKey, method, param, signMethod, timestamp, version, secret string, present uint8, other string) {
		values := []string{accessToken, appKey, method, param, signMethod, timestamp, version}
		params := map[string]string{}
		var want strings.Builder
		for i, k := range signedKeys {
			if present&(1<<i) == 0 {
				continue
			}
			params[k] = values[i]
			if want.Len() > 0 {
				want.WriteByte('&')
			}
			want.WriteString(k + "=" + values[i])
		}
		want.WriteString("&signSecret=" + secret)

		s := StringToSign(MapLookup(params), secret)
		if s != want.String() {
			t.Fatalf("StringToSign = %q, want %q", s, want.String())
		}
		// Unsigned parameters (sign itself, anything else) are ignored.
		withExtra := map[string]string{KeySign: other, "extra" + other: other}
		for k, v := range params {
			withExtra[k] = v
		}

		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(s))
		sum := md5.Sum([]byte(s))
		for m, oracle := range map[Method]string{
			HMACSHA256: base64.StdEncoding.EncodeToString(mac.Sum(nil)),
			MD5:        hex.EncodeToString(sum[:]),
		} {
			got, err := Sign(m, MapLookup(params), secret)
			if err != nil {
				t.Fatalf("Sign(%s): %v", m, err)
			}
			if got != oracle {
				t.Fatalf("Sign(%s) = %q, want %q", m, got, oracle)
			}
			sg, err := NewSigner(m, secret)
			if err != nil {
				t.Fatalf("NewSigner(%s): %v", m, err)
			}
			if bySigner := sg.Sign(MapLookup(params)); bySigner != got {
				t.Fatalf("Signer.Sign(%s) = %q, want %q", m, bySigner, got)
			}
			if again, _ := Sign(m, MapLookup(withExtra), secret); again != got {
				t.Fatalf("Sign(%s) depends on unsigned parameters", m)
			}
			if !Verify(m, MapLookup(params), secret, got) {
				t.Fatalf("Verify(%s) rejects Sign's output", m)
			}
			if m == MD5 && !Verify(m, MapLookup(params), secret, strings.ToUpper(got)) {
				t.Fatal("Verify(MD5) rejects the upper-case signature")
			}
			forged := other
			if m == MD5 {
				forged = strings.ToLower(other)
			}
			if forged != got && Verify(m, MapLookup(params), secret, other) {
				t.Fatalf("Verify(%s) accepts %q, want only %q", m, other, got)
			}
		}

		// An unknown method is an error, never a signature.
		if pm, err := ParseMethod(signMethod); err != nil {
			if _, serr := Sign(Method(signMethod), MapLookup(params), secret); serr == nil {
				t.Fatalf("Sign accepts unknown method %q", signMethod)
			}
			if Verify(Method(signMethod), MapLookup(params), secret, "") {
				t.Fatalf("Verify accepts unknown method %q", signMethod)
			}
		} else if string(pm) != signMethod {
			t.Fatalf("ParseMethod(%q) = %q", signMethod, pm)
		}
	})
}
