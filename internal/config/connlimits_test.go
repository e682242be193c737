package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoad_ConnectionLimits(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]string{"--grpc-max-conns", "50"}, env(map[string]string{
		"KWAISHOP_MAX_HEADER_BYTES":       "32768",
		"KWAISHOP_HTTP_MAX_CONNS":         "60",
		"KWAISHOP_GRPC_HANDSHAKE_TIMEOUT": "3s",
		"KWAISHOP_GRPC_MAX_CONN_IDLE":     "1m",
		"KWAISHOP_MAX_STREAMS_PER_KEY":    "7",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxHeaderBytes != 32768 || cfg.GRPCMaxConns != 50 || cfg.HTTPMaxConns != 60 || cfg.GRPCHandshakeTimeout != 3*time.Second ||
		cfg.GRPCMaxConnIdle != time.Minute || cfg.Auth.MaxStreamsPerKey != 7 {
		t.Fatalf("settings not applied: %+v", cfg)
	}
	d := Defaults()
	if d.MaxHeaderBytes != 64<<10 || d.GRPCMaxConns <= 0 || d.HTTPMaxConns <= 0 || d.GRPCHandshakeTimeout <= 0 || d.GRPCHandshakeTimeout >= 2*time.Minute ||
		d.GRPCMaxConnIdle <= 0 || d.Auth.MaxStreamsPerKey <= 0 {
		t.Fatalf("unsafe defaults: %+v", d)
	}

	_, err = Load(nil, env(map[string]string{
		"KWAISHOP_MAX_HEADER_BYTES":       "100",
		"KWAISHOP_GRPC_MAX_CONNS":         "0",
		"KWAISHOP_HTTP_MAX_CONNS":         "-1",
		"KWAISHOP_GRPC_HANDSHAKE_TIMEOUT": "5m",
		"KWAISHOP_GRPC_MAX_CONN_IDLE":     "0s",
		"KWAISHOP_MAX_STREAMS_PER_KEY":    "0",
	}), io.Discard)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, w := range []string{"KWAISHOP_MAX_HEADER_BYTES", "KWAISHOP_GRPC_MAX_CONNS", "KWAISHOP_HTTP_MAX_CONNS", "KWAISHOP_GRPC_HANDSHAKE_TIMEOUT",
		"KWAISHOP_GRPC_MAX_CONN_IDLE", "KWAISHOP_MAX_STREAMS_PER_KEY"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %s:\n%v", w, err)
		}
	}
}
