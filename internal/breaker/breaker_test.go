package breaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newSet(t *testing.T, clk *fakeClock) *Set {
	t.Helper()
	s, err := New(Config{Failures: 3, Cooldown: 10 * time.Second, MaxCooldown: 30 * time.Second, Now: clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	upstream = platform.Outcome{Err: &platform.Error{Class: platform.ClassUpstream, HTTPStatus: 503}, Duration: time.Millisecond}
	business = platform.Outcome{Err: &platform.Error{Class: platform.ClassBusiness, Result: 11}, Duration: time.Millisecond}
	ok       = platform.Outcome{Duration: time.Millisecond}
)

// call admits one attempt of method and reports o; it returns Admit's error.
func call(s *Set, method string, o platform.Outcome) error {
	done, err := s.Admit(context.Background(), platform.Attempt{Method: method})
	if err != nil {
		return err
	}
	done(o)
	return nil
}

func TestSet_OpensHalfOpensCloses(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newSet(t, clk)
	const m = "open.order.detail"

	for i := range 3 {
		if err := call(s, m, upstream); err != nil {
			t.Fatalf("failure %d refused: %v", i, err)
		}
	}
	err := call(s, m, ok)
	var oe *OpenError
	if !errors.As(err, &oe) || oe.RetryAfter != 10*time.Second || oe.Method != m {
		t.Fatalf("after 3 failures: %v, want OpenError retry 10s", err)
	}
	if err := call(s, "open.item.get", ok); err != nil {
		t.Fatalf("another API refused: %v", err)
	}

	clk.Advance(10 * time.Second)
	done, err := s.Admit(context.Background(), platform.Attempt{Method: m})
	if err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if s.States()[m] != HalfOpen {
		t.Fatalf("state = %v, want half_open", s.States()[m])
	}
	if err := call(s, m, ok); !errors.As(err, &oe) {
		t.Fatalf("second call during the probe: %v, want OpenError", err)
	}
	done(upstream) // the probe fails: open again, cooldown doubled
	clk.Advance(19 * time.Second)
	if err := call(s, m, ok); !errors.As(err, &oe) || oe.RetryAfter != time.Second {
		t.Fatalf("after failed probe: %v, want OpenError retry 1s", err)
	}
	clk.Advance(time.Second)
	if err := call(s, m, ok); err != nil { // probe succeeds
		t.Fatal(err)
	}
	if s.States()[m] != Closed {
		t.Fatalf("state = %v, want closed", s.States()[m])
	}
}

func TestSet_WhatCounts(t *testing.T) {
	tests := []struct {
		name string
		seq  []platform.Outcome
		open bool
	}{
		{"consecutive_upstream", []platform.Outcome{upstream, upstream, upstream}, true},
		{"success_resets", []platform.Outcome{upstream, upstream, ok, upstream, upstream}, false},
		{"business_errors_are_answers", []platform.Outcome{upstream, upstream, business, upstream, upstream}, false},
		{"rate_limit_is_an_answer", []platform.Outcome{upstream, upstream, {Err: &platform.Error{Class: platform.ClassRateLimit, Result: 1016}, Duration: 1}, upstream}, false},
		{"slow_timeouts_count", []platform.Outcome{
			{Err: fmt.Errorf("x: %w", context.DeadlineExceeded), Duration: 2 * time.Second},
			{Err: fmt.Errorf("x: %w", context.DeadlineExceeded), Duration: 2 * time.Second},
			{Err: fmt.Errorf("x: %w", context.DeadlineExceeded), Duration: 2 * time.Second}}, true},
		{"short_caller_deadlines_do_not", []platform.Outcome{
			{Err: context.DeadlineExceeded, Duration: 10 * time.Millisecond},
			{Err: context.DeadlineExceeded, Duration: 10 * time.Millisecond},
			{Err: context.DeadlineExceeded, Duration: 10 * time.Millisecond}}, false},
		{"not_sent_does_not", []platform.Outcome{{Err: upstream.Err}, {Err: upstream.Err}, {Err: upstream.Err}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSet(t, &fakeClock{t: time.Unix(1_700_000_000, 0)})
			for _, o := range tt.seq {
				if err := call(s, "m.x", o); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.States()["m.x"] == Open; got != tt.open {
				t.Fatalf("open = %v, want %v", got, tt.open)
			}
		})
	}
}

func TestSet_ProbeNotSentProbesAgain(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newSet(t, clk)
	for range 3 {
		_ = call(s, "m.x", upstream)
	}
	clk.Advance(10 * time.Second)
	if err := call(s, "m.x", platform.Outcome{Err: errors.New("refused by a later gate")}); err != nil {
		t.Fatal(err)
	}
	if err := call(s, "m.x", ok); err != nil {
		t.Fatalf("a probe that was never sent must not block the next: %v", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	err := Config{Failures: -1, Cooldown: time.Minute, MaxCooldown: time.Second}.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Fatalf("got %d errors, want 2: %v", n, err)
	}
}

// TestSet_WithClient drives the breaker through the real platform client
// against a failing upstream: after Failures failed calls no more requests
// reach the server until the cooldown ends.
func TestSet_WithClient(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newSet(t, clk)
	c, err := platform.New(platform.Config{BaseURL: srv.URL, AppKey: "ks1", SignSecret: "s", Gate: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A POST is not retried, so each Do is one attempt.
	for range 3 {
		if _, err := c.Do(ctx, &platform.Request{Method: "open.seller.order.close", HTTPMethod: http.MethodPost}); !platform.IsClass(err, platform.ClassUpstream) {
			t.Fatalf("err = %v, want upstream", err)
		}
	}
	_, err = c.Do(ctx, &platform.Request{Method: "open.seller.order.close", HTTPMethod: http.MethodPost})
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, want OpenError", err)
	}
	if hits.Load() != 3 {
		t.Fatalf("server saw %d requests, want 3", hits.Load())
	}
}
