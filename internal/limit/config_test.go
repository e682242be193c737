package limit

import (
	"strings"
	"testing"
	"time"
)

// The operator's zero headroom and zero queue mean none; the Limiter's own
// zero values mean its defaults. Settings.Config translates.
func TestSettings_Config(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	c := s.Config()
	// The daily quotas are each app's (Limiter.ForApp), not the shared
	// Config's.
	if c.Headroom != 0.1 || c.MaxQueue != time.Second || c.QPS != DefaultQPS || c.AppDaily != 0 || c.TestUserDaily != 0 || c.MaxInFlight != 256 {
		t.Fatalf("defaults map to %+v", c)
	}
	s.HeadroomPercent, s.MaxQueue = 0, 0
	c = s.Config()
	if c.Headroom >= 0 || c.MaxQueue >= 0 {
		t.Fatalf("zero headroom/queue map to the Limiter's defaults: %+v", c)
	}
	// What New makes of them: none.
	c.JetStream = nil
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "Headroom") {
		t.Fatalf("Validate = %v, want only the missing JetStream", err)
	}
}

func TestSettings_Validate(t *testing.T) {
	t.Parallel()
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	err := Settings{QPS: -1, HeadroomPercent: 51, MaxQueue: -1, MaxInFlight: -1, DailyQuota: -1, TestUserDailyQuota: -1}.Validate()
	for _, env := range []string{"KWAISHOP_API_QPS:", "KWAISHOP_QPS_HEADROOM:", "KWAISHOP_LIMIT_MAX_QUEUE:", "KWAISHOP_MAX_IN_FLIGHT:", "KWAISHOP_DAILY_QUOTA:", "KWAISHOP_TEST_USER_DAILY_QUOTA:"} {
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s not reported: %v", env, err)
		}
	}
	var r Rates
	if err := r.UnmarshalText([]byte("open.shop.info.get=fast")); err == nil || r != nil {
		t.Fatalf("bad rates accepted: %v %v", r, err)
	}
}
