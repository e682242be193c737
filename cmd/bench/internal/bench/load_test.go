package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestDrive_counts_calls_and_errors(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	boom := errors.New("boom")
	res, err := Drive(context.Background(), Load{Concurrency: 4, Duration: 50 * time.Millisecond, Do: func(context.Context, int) error {
		if n.Add(1)%3 == 0 {
			return boom
		}
		time.Sleep(time.Millisecond)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if int64(res.Calls) != n.Load() {
		t.Errorf("Calls = %d, Do ran %d times", res.Calls, n.Load())
	}
	if want := int(n.Load() / 3); res.Errors != want {
		t.Errorf("Errors = %d, want %d", res.Errors, want)
	}
	if !errors.Is(res.FirstErr, boom) {
		t.Errorf("FirstErr = %v", res.FirstErr)
	}
	if res.P50 < time.Millisecond || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("latencies p50 %s p99 %s max %s: want 1ms <= p50 <= p99 <= max", res.P50, res.P99, res.Max)
	}
	if res.Throughput() <= 0 {
		t.Errorf("Throughput = %f", res.Throughput())
	}
}

func TestDrive_rejects_bad_loads(t *testing.T) {
	t.Parallel()
	do := func(context.Context, int) error { return nil }
	for name, l := range map[string]Load{
		"no_concurrency": {Duration: time.Millisecond, Do: do},
		"no_duration":    {Concurrency: 1, Do: do},
		"no_do":          {Concurrency: 1, Duration: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Drive(context.Background(), l); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestDrive_stops_when_ctx_ends(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Drive(ctx, Load{Concurrency: 2, Duration: time.Hour, Do: func(ctx context.Context, _ int) error { return ctx.Err() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	for _, tc := range []struct {
		name              string
		in                []time.Duration
		p50, p99, maxWant time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"hundred", ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
		{"three", ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p50, p99, mx := percentiles(tc.in)
			if p50 != tc.p50 || p99 != tc.p99 || mx != tc.maxWant {
				t.Fatalf("got %s %s %s, want %s %s %s", p50, p99, mx, tc.p50, tc.p99, tc.maxWant)
			}
		})
	}
}
