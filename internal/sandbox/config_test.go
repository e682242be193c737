package sandbox

import (
	"errors"
	"strings"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	bad := Config{AppKey: "has space", MessageKey: "AAEC", TestUsers: 6, TimestampWindow: -1, Scopes: []string{"merchant_funds", "merchant_item", "merchant_item"}, PushURL: "ftp://x",
		PushDropRate: 1.5, AppState: "beta", Limits: Limits{UserQPSByMethod: map[string]int{"no such api": 1}}}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"AppKey", "MessageKey", "TestUsers", "TimestampWindow", "merchant_funds", "listed twice", "PushURL", "PushDropRate", "AppState", "UserQPSByMethod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := New(bad); err == nil {
		t.Fatal("New accepted an invalid config")
	}
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if len(got.AppKey) != 20 || !strings.HasPrefix(got.AppKey, "ks") || len(got.AppSecret) != 32 || len(got.SignSecret) != 32 ||
		got.MessageKey == "" || got.TestUsers != 1 || got.TimestampWindow != DefaultTimestampWindow || got.RefreshGrace != DefaultRefreshGrace ||
		got.AppState != AppStateTest || got.Limits.TestUserDailyCalls != DefaultTestUserDailyCalls || got.HeartbeatInterval != DefaultHeartbeatInterval || got.PushURL != "" {
		t.Fatalf("defaults: %+v", got)
	}
	if err := (&Config{RefreshGrace: NoRefreshGrace, TestAuthorizationTTL: -1, MessageKey: "AAECAwQFBgcICQoLDA0ODw=="}).Validate(); err != nil {
		t.Fatal(err)
	}
}
