package msglog

import (
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	for in, want := range map[string]string{"": "_", "abc_D-1": "abc_D-1", "267_2345_147402": "267_2345_147402"} {
		if got := token(in); got != want {
			t.Errorf("token(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"a.b", "a b", "*", ">", strings.Repeat("x", 65)} {
		got := token(in)
		if !strings.HasPrefix(got, "~") || strings.ContainsAny(got, ".*> ") || token(in) != got {
			t.Errorf("token(%q) = %q", in, got)
		}
	}
}

func TestSubjects(t *testing.T) {
	got := FilterSubjects("g", []string{"shopA", "a.b"}, nil)
	want := []string{
		"kwaishop.msg.shopA.*.*", "kwaishop.replay.g.shopA.*.*",
		"kwaishop.msg." + token("a.b") + ".*.*", "kwaishop.replay.g." + token("a.b") + ".*.*",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("FilterSubjects = %v, want %v", got, want)
	}
	if got := FilterSubjects("", nil, []string{"ev"}); len(got) != 1 || got[0] != "kwaishop.msg.*.ev.*" {
		t.Fatalf("FilterSubjects without group = %v", got)
	}
	for _, subj := range []string{"kwaishop.msg.o.e.id", "kwaishop.replay.other.o.e.id"} {
		if got := ReplaySubject("g", subj); got != "kwaishop.replay.g.o.e.id" {
			t.Errorf("ReplaySubject(%s) = %s", subj, got)
		}
	}
	if EventToken("kwaishop.msg.o.e.id") != "e" || EventToken("x") != "" {
		t.Error("EventToken")
	}
	if err := CheckFilters(make([]string, 16), make([]string, 17)); err == nil {
		t.Error("272 combinations accepted")
	}
	if err := CheckFilters(make([]string, 16), make([]string, 16)); err != nil {
		t.Errorf("256 combinations refused: %v", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"three_hours", Config{DedupeWindow: 3 * time.Hour, Retention: 24 * time.Hour, Replicas: 3}, true},
		{"window_below_retry_horizon", Config{DedupeWindow: time.Hour}, false},
		{"retention_below_window", Config{DedupeWindow: 4 * time.Hour, Retention: 3 * time.Hour}, false},
		{"retention_below_default_window", Config{Retention: time.Hour}, false},
		{"replicas", Config{Replicas: 7}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	err := Config{DedupeWindow: time.Minute, Retention: time.Second, Replicas: -1}.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want all three violations, got %v", err)
	}
}
