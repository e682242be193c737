package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoad_MessageSettings(t *testing.T) {
	t.Parallel()
	cfg, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Message.DedupeWindow != 3*time.Hour || cfg.Message.Retention != 7*24*time.Hour ||
		cfg.Message.ReconcileInterval != 5*time.Minute || cfg.Message.ReconcileLag != 30*time.Second {
		t.Fatalf("message defaults: %v %v %v %v", cfg.Message.DedupeWindow, cfg.Message.Retention, cfg.Message.ReconcileInterval, cfg.Message.ReconcileLag)
	}
	cfg, err = Load([]string{"--reconcile-interval", "0"}, env(map[string]string{
		"KWAISHOP_MESSAGE_DEDUPE_WINDOW": "4h", "KWAISHOP_MESSAGE_KEYS": "ks2:AAECAwQFBgcICQoLDA0ODw==",
	}), io.Discard)
	if err != nil || cfg.Message.DedupeWindow != 4*time.Hour || cfg.Message.ReconcileInterval != 0 {
		t.Fatalf("cfg=%+v err=%v", cfg, err)
	}

	const secretKey = "c2VjcmV0LWtleS10b28tc2hvcnQ="
	_, err = Load(nil, env(map[string]string{
		"KWAISHOP_MESSAGE_DEDUPE_WINDOW": "1h",
		"KWAISHOP_MESSAGE_RETENTION":     "30m",
		"KWAISHOP_RECONCILE_INTERVAL":    "10ms",
		"KWAISHOP_RECONCILE_LAG":         "-1s",
		"KWAISHOP_MESSAGE_KEYS":          "ks2:" + secretKey,
	}), io.Discard)
	if err == nil {
		t.Fatal("invalid message settings accepted")
	}
	for _, env := range []string{"KWAISHOP_MESSAGE_DEDUPE_WINDOW", "KWAISHOP_MESSAGE_RETENTION", "KWAISHOP_RECONCILE_INTERVAL", "KWAISHOP_RECONCILE_LAG", "KWAISHOP_MESSAGE_KEYS"} {
		if !strings.Contains(err.Error(), env) {
			t.Errorf("%s not reported in: %v", env, err)
		}
	}
	if strings.Contains(err.Error(), secretKey) {
		t.Fatalf("error shows a message key: %v", err)
	}
}
