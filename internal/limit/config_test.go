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

func TestCalendar_AnswersAsDay(t *testing.T) {
	// The cached calendar answers what day answers, across day boundaries
	// of UTC+8, forwards and back.
	var c calendar
	base := time.Date(2026, 12, 3, 15, 59, 59, 0, time.UTC) // 23:59:59 in UTC+8
	for _, d := range []time.Duration{0, time.Second, 2 * time.Second, -3 * time.Second, time.Hour, 24 * time.Hour, -25 * time.Hour, 0, 500 * time.Millisecond} {
		at := base.Add(d)
		wantKey, wantLeft := day(at)
		if key, left := c.day(at); key != wantKey || left != wantLeft {
			t.Fatalf("%s: %s %s, want %s %s", at, key, left, wantKey, wantLeft)
		}
	}
}
