package config

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/limit"
)

func TestLoad_SecuritySettings(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]string{"--allow-anonymous=true", "--api-qps", "20"}, env(map[string]string{
		"KWAISHOP_GRPC_ADDR":         "0.0.0.0:9090",
		"KWAISHOP_API_QPS_OVERRIDES": "open.shop.info.get=10/5",
		"KWAISHOP_BREAKER_COOLDOWN":  "30s",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AllowAnonymous || cfg.Limit.QPS != 20 || cfg.BreakerCooldown != 30*time.Second || cfg.Limit.Rates["open.shop.info.get"] != (limit.Rate{App: 10, User: 5}) {
		t.Fatalf("settings not applied: %+v", cfg)
	}
}

func TestValidate_Security(t *testing.T) {
	t.Parallel()
	const key = "svc:0123456789abcdef0123"
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none = valid
	}{
		{"loopback_without_keys", nil, nil},
		{"localhost_without_keys", map[string]string{"KWAISHOP_HTTP_ADDR": "localhost:8080"}, nil},
		{"wildcard_without_keys", map[string]string{"KWAISHOP_GRPC_ADDR": "0.0.0.0:9090", "KWAISHOP_HTTP_ADDR": ":8080"},
			[]string{"KWAISHOP_GRPC_ADDR: 0.0.0.0:9090 is not a loopback address", "KWAISHOP_HTTP_ADDR: :8080 is not a loopback address", "KWAISHOP_ALLOW_ANONYMOUS=true"}},
		{"host_name_without_keys", map[string]string{"KWAISHOP_GRPC_ADDR": "gateway.internal:9090"}, []string{"not a loopback address"}},
		{"wildcard_with_keys", map[string]string{"KWAISHOP_GRPC_ADDR": "0.0.0.0:9090", "KWAISHOP_API_KEYS": key}, nil},
		{"wildcard_anonymous", map[string]string{"KWAISHOP_GRPC_ADDR": "0.0.0.0:9090", "KWAISHOP_ALLOW_ANONYMOUS": "true"}, nil},
		{"bad_keys", map[string]string{"KWAISHOP_API_KEYS": "svc:short"}, []string{"KWAISHOP_API_KEYS", "16 to 512"}},
		{"tls_half", map[string]string{"KWAISHOP_TLS_CERT": "/c.pem"}, []string{"KWAISHOP_TLS_KEY go together"}},
		{"client_ca_without_cert", map[string]string{"KWAISHOP_TLS_CLIENT_CA": "/ca.pem"}, []string{"mTLS needs"}},
		{"bad_overrides", map[string]string{"KWAISHOP_API_QPS_OVERRIDES": "open.shop.info.get=fast"}, []string{"KWAISHOP_API_QPS_OVERRIDES"}},
		{"bad_limits", map[string]string{"KWAISHOP_QPS_HEADROOM": "80", "KWAISHOP_BREAKER_FAILURES": "0", "KWAISHOP_MAX_STREAMS": "0"},
			[]string{"KWAISHOP_QPS_HEADROOM", "KWAISHOP_BREAKER_FAILURES", "KWAISHOP_MAX_STREAMS"}},
		{"bad_bool", map[string]string{"KWAISHOP_ALLOW_ANONYMOUS": "yes please"}, []string{"want true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(nil, env(tt.env), io.Discard)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Fatal("the error shows a key secret")
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.9.9.9:1": true, "[::1]:1": true, "localhost:1": true, "LOCALHOST:1": true,
		"0.0.0.0:1": false, ":1": false, "[::]:1": false, "10.0.0.1:1": false, "example.com:1": false, "garbage": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
