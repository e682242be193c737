package sign

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
)

type vector struct {
	Name         string `json:"name"`
	AppKey       string `json:"appkey"`
	AccessToken  string `json:"access_token"`
	Method       string `json:"method"`
	Version      int    `json:"version"`
	Timestamp    int64  `json:"timestamp"`
	SignMethod   string `json:"signMethod"`
	Param        string `json:"param"`
	SignSecret   string `json:"signSecret"`
	StringToSign string `json:"string_to_sign"`
	Sign         string `json:"sign"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/platform-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Sign []vector `json:"sign"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	if len(doc.Sign) == 0 {
		tb.Fatal("no vectors")
	}
	return doc.Sign
}

func (v vector) params() map[string]string {
	return map[string]string{
		KeyAppKey: v.AppKey, KeyAccessToken: v.AccessToken, KeyMethod: v.Method,
		KeyVersion: strconv.Itoa(v.Version), KeyTimestamp: strconv.FormatInt(v.Timestamp, 10),
		KeySignMethod: v.SignMethod, KeyParam: v.Param,
	}
}

func TestSign_Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			p := v.params()
			p[KeySign] = "must-be-ignored"
			p["extra"] = "not-signed"
			if got := StringToSign(MapLookup(p), v.SignSecret); got != v.StringToSign {
				t.Fatalf("string to sign:\n got %s\nwant %s", got, v.StringToSign)
			}
			m, err := ParseMethod(v.SignMethod)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Sign(m, MapLookup(p), v.SignSecret)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Sign {
				t.Fatalf("sign = %s, want %s", got, v.Sign)
			}
			sg, err := NewSigner(m, v.SignSecret)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second call reuses the pooled state
				if got := sg.Sign(MapLookup(p)); got != v.Sign {
					t.Fatalf("Signer.Sign = %s, want %s", got, v.Sign)
				}
			}
			if !Verify(m, MapLookup(p), v.SignSecret, v.Sign) {
				t.Fatal("Verify rejected the vector")
			}
			if Verify(m, MapLookup(p), v.SignSecret+"x", v.Sign) {
				t.Fatal("Verify accepted a wrong secret")
			}
			p[KeyTimestamp] = "1"
			if Verify(m, MapLookup(p), v.SignSecret, v.Sign) {
				t.Fatal("Verify accepted a changed timestamp")
			}
		})
	}
}

func TestVerify_MD5UppercaseAccepted(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)[1]
	if v.SignMethod != "MD5" {
		t.Fatalf("vector %s is not MD5", v.Name)
	}
	up := []byte(v.Sign)
	for i, c := range up {
		if c >= 'a' && c <= 'f' {
			up[i] = c - 32
		}
	}
	if !Verify(MD5, MapLookup(v.params()), v.SignSecret, string(up)) {
		t.Fatal("uppercase MD5 rejected")
	}
}

func TestStringToSign_SkipsAbsent(t *testing.T) {
	t.Parallel()
	got := StringToSign(MapLookup(map[string]string{KeyMethod: "m", KeyAppKey: "a"}), "s")
	if want := "appkey=a&method=m&signSecret=s"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestParseMethod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{{"MD5", false}, {"HMAC_SHA256", false}, {"md5", true}, {"", true}, {"SHA1", true}} {
		_, err := ParseMethod(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseMethod(%q) err = %v", tc.in, err)
		}
		if err != nil && !errors.Is(err, ErrUnknownMethod) {
			t.Errorf("ParseMethod(%q) err not ErrUnknownMethod", tc.in)
		}
	}
	if _, err := Sign("SHA1", MapLookup(nil), "s"); !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("Sign with bad method err = %v", err)
	}
	if _, err := NewSigner("SHA1", "s"); !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("NewSigner with bad method err = %v", err)
	}
}

// A Signer reuses its hashing state: one allocation per signature (the
// returned string).
func TestSigner_OneAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	v := loadVectors(t)[0]
	p := MapLookup(v.params())
	for _, m := range []Method{HMACSHA256, MD5} {
		sg, err := NewSigner(m, v.SignSecret)
		if err != nil {
			t.Fatal(err)
		}
		sg.Sign(p) // fill the pool
		if n := testing.AllocsPerRun(100, func() { sg.Sign(p) }); n > 1 {
			t.Errorf("%s: %.1f allocations per signature, want 1", m, n)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	v := loadVectors(b)[0]
	p := MapLookup(v.params())
	for _, m := range []Method{HMACSHA256, MD5} {
		b.Run(string(m), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(m, p, v.SignSecret); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(m)+"/Signer", func(b *testing.B) {
			sg, _ := NewSigner(m, v.SignSecret)
			b.ReportAllocs()
			for b.Loop() {
				sg.Sign(p)
			}
		})
	}
}
