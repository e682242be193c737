package webhook

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGuard_CheckURL(t *testing.T) {
	t.Parallel()
	strict := Guard{}
	open := Guard{AllowPrivate: true, AllowHTTP: true}
	for _, tc := range []struct {
		url        string
		strict     bool // accepted by default
		open       bool // accepted with private + http allowed
		wantInText string
	}{
		{"https://hooks.example.com/k?x=1", true, true, ""},
		{"https://hooks.example.com:8443/", true, true, ""},
		{"https://93.184.216.34/hook", true, true, ""},
		{"https://[2606:2800:220:1:248:1893:25c8:1946]/", true, true, ""},
		{"http://hooks.example.com/", false, true, "https"},
		{"https://127.0.0.1/", false, true, "loopback"},
		{"https://10.0.0.1/", false, true, "private"},
		{"https://172.16.5.4/", false, true, "private"},
		{"https://192.168.1.1/", false, true, "private"},
		{"https://169.254.169.254/latest/meta-data", false, true, "link-local"},
		{"https://[::1]/", false, true, "loopback"},
		{"https://[fd00::1]/", false, true, "private"},
		{"https://[fe80::1]/", false, true, "link-local"},
		{"https://[::ffff:127.0.0.1]/", false, true, "loopback"},
		{"https://[64:ff9b::a00:1]/", false, true, "private"}, // NAT64 of 10.0.0.1
		{"https://[2002:a00:1::]/", false, true, "private"},   // 6to4 of 10.0.0.1
		{"https://100.64.0.1/", false, true, "special"},
		{"https://0.0.0.0/", false, false, "unspecified"},
		{"https://[::]/", false, false, "unspecified"},
		{"https://224.0.0.1/", false, false, "multicast"},
		{"https://255.255.255.255/", false, false, "broadcast"},
		{"https://localhost/", false, true, "localhost"},
		{"https://api.localhost./", false, true, "localhost"},
		{"https://127.1/", false, false, "neither"},
		{"https://2130706433/", false, false, "neither"},
		{"https://0x7f.0.0.1/", false, false, "neither"},
		{"https://[fe80::1%25eth0]/", false, false, "scoped"},
		{"ftp://hooks.example.com/", false, false, "https"},
		{"file:///etc/passwd", false, false, "https"},
		{"javascript:alert(1)", false, false, "https"},
		{"gopher://hooks.example.com/", false, false, "https"},
		{"https:hooks.example.com", false, false, "absolute"},
		{"//hooks.example.com/", false, false, "https"},
		{"https://user:pw@hooks.example.com/", false, false, "user info"},
		{"https://hooks.example.com/#frag", false, false, "fragment"},
		{"https://hooks.example.com:0/", false, false, "port"},
		{"https://hooks.example.com:99999/", false, false, "port"},
		{"https://hooks example.com/", false, false, "spaces"},
		{"https://hooks.exa\x00mple.com/", false, false, "control"},
		{"https://bücher.example/", false, false, "punycode"},
		{"https://-bad-.example.com/", false, false, "not valid"},
		{"", false, false, "required"},
		{"https://hooks.example.com/" + strings.Repeat("a", MaxURLLen), false, false, "longer"},
	} {
		t.Run(tc.url[:min(len(tc.url), 40)], func(t *testing.T) {
			_, err := strict.CheckURL(tc.url)
			if (err == nil) != tc.strict {
				t.Fatalf("default guard: err = %v, want accepted=%v", err, tc.strict)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantInText) {
				t.Fatalf("default guard: err = %q, want it to mention %q", err, tc.wantInText)
			}
			if err != nil && len(tc.url) > 20 && strings.Contains(err.Error(), tc.url) {
				t.Fatalf("error repeats the URL: %q", err)
			}
			if _, err := open.CheckURL(tc.url); (err == nil) != tc.open {
				t.Fatalf("permissive guard: err = %v, want accepted=%v", err, tc.open)
			}
		})
	}
}

// A host name that resolves to a refused address is refused when the
// connection is made: the server never sees a request.
func TestGuard_DialTimeCheck(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := Guard{AllowHTTP: true}.Client(5*time.Second, 2)
	for _, u := range []string{"http://localhost:" + port + "/", srv.URL} {
		resp, err := c.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: dialed a loopback address", u)
		}
		if !errors.Is(err, ErrDestinationRefused) {
			t.Fatalf("%s: err = %v, want ErrDestinationRefused", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server saw %d requests", n)
	}
	// With private targets allowed the same host is reached.
	resp, err := Guard{AllowHTTP: true, AllowPrivate: true}.Client(5*time.Second, 2).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatal("allowed request did not arrive")
	}
}

func TestSecret_FormatAndRedaction(t *testing.T) {
	t.Parallel()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	enc := s.Encode()
	if !strings.HasPrefix(enc, "whsec_") {
		t.Fatalf("secret %q lacks whsec_", enc)
	}
	back, err := ParseSecret(enc)
	if err != nil || back.Encode() != enc {
		t.Fatalf("round trip: %v", err)
	}
	if len(back.key) < minSecretBytes {
		t.Fatalf("secret has %d bytes, want at least %d", len(back.key), minSecretBytes)
	}
	for _, shown := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(shown, enc[6:]) {
			t.Fatalf("secret leaks in %q", shown)
		}
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!", "whsec_" + strings.Repeat("A", 8), "sk_" + enc[6:]} {
		if _, err := ParseSecret(bad); err == nil {
			t.Fatalf("ParseSecret(%q) accepted", bad)
		}
	}
	other, _ := NewSecret()
	sig := Signature([]Secret{s, other}, "msg_1", 1700000000, []byte(`{"a":1}`))
	parts := strings.Split(sig, " ")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "v1,") || !strings.HasPrefix(parts[1], "v1,") || parts[0] == parts[1] {
		t.Fatalf("signature header %q: want two different v1 signatures", sig)
	}
}

func TestParseTypes(t *testing.T) {
	t.Parallel()
	good := [][]string{
		{"message.*"},
		{"message.kwaishop_order_paySuccess", "authorization.revoked"},
		{"message.kwaishop_order_*", "message.kwaishop_aftersales_*", "message.kwaishop_item_*"},
		{"message.kwaishop_item_stockChange"},
		{"authorization.*", "webhook.endpoint_disabled"},
	}
	for _, types := range good {
		if _, vs := ParseTypes(types); len(vs) > 0 {
			t.Errorf("%v: %v", types, vs)
		}
	}
	bad := [][]string{
		nil,
		{"message"},
		{"order.paid"},
		{"message.kwaishop_order_unknown"},
		{"message.nothing_*"},
		{"message.kwaishop order"},
		{"message.kwaishop_order_paySuccess", "message.kwaishop_order_paySuccess"},
		{"authorization.hacked"},
		{"webhook.test"},
		{"message.kwaishop_item_"},
		{strings.Repeat("m", 200)},
	}
	for _, types := range bad {
		if _, vs := ParseTypes(types); len(vs) == 0 {
			t.Errorf("%v accepted", types)
		}
	}
	many := make([]string, MaxEventTypes+1)
	for i := range many {
		many[i] = "message.*"
	}
	if _, vs := ParseTypes(many); len(vs) == 0 {
		t.Error("too many types accepted")
	}
	f, _ := ParseTypes([]string{"message.kwaishop_order_*", "authorization.revoked"})
	for typ, want := range map[string]bool{
		"message.kwaishop_order_paySuccess":     true,
		"message.kwaishop_aftersales_addRefund": false,
		"authorization.revoked":                 true,
		"authorization.refreshed":               false,
		TypeEndpointDisabled:                    false,
	} {
		if f.match(typ) != want {
			t.Errorf("match(%s) = %v, want %v", typ, !want, want)
		}
	}
}

func TestBackoff_GrowsWithJitterAndHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := &Engine{cfg: Config{RetryInitial: time.Second, RetryMaxDelay: time.Minute}}
	prevMax := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := e.backoff(n, 0)
		base := min(time.Second<<(n-1), time.Minute)
		if d < base*8/10 || d > base*12/10 {
			t.Fatalf("backoff(%d) = %s, want %s ±20%%", n, d, base)
		}
		prevMax = max(prevMax, d)
	}
	if prevMax > 72*time.Second {
		t.Fatalf("backoff exceeded the cap: %s", prevMax)
	}
	if d := e.backoff(1, 30*time.Second); d != 30*time.Second {
		t.Fatalf("Retry-After 30s: %s", d)
	}
	if d := e.backoff(1, time.Hour); d != time.Minute {
		t.Fatalf("Retry-After beyond the cap: %s", d)
	}
}
