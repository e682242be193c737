// Package bench is the process-level benchmark harness behind `make bench`
// (cmd/bench): it runs cmd/sandbox and cmd/server as separate processes on
// loopback, drives closed-loop load against the gateway and, as the physical
// limit, against the sandbox directly with a minimal signing client, and
// reports throughput, latency, CPU per call, memory, intake rate and start-up
// time as Markdown (docs/benchmarks.md, "Performance").
//
// All load is bounded: loopback targets, fixed durations, and a hard deadline
// on every run, so the tool always stops by itself.
package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Load is a closed-loop load: Concurrency workers call Do back to back for
// Duration.
type Load struct {
	Concurrency int
	Duration    time.Duration
	// Do makes one call; worker is 0..Concurrency-1.
	Do func(ctx context.Context, worker int) error
}

// Result is what one measured run did.
type Result struct {
	Concurrency int
	Calls       int           // calls that returned (successes and errors)
	Errors      int           // calls that returned an error
	Elapsed     time.Duration // from the first call to the last answer
	P50, P99    time.Duration // latency of successful calls
	Max         time.Duration
	FirstErr    error // the first error seen, if any
}

// Throughput is successful calls per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls-r.Errors) / r.Elapsed.Seconds()
}

// callGrace bounds how long a call may run past the end of a run before the
// run is abandoned: the tool must stop by itself even if a target hangs.
const callGrace = 15 * time.Second

// Drive runs l and measures it.
func Drive(ctx context.Context, l Load) (Result, error) {
	if l.Concurrency <= 0 || l.Duration <= 0 || l.Do == nil {
		return Result{}, errors.New("bench: load needs a positive concurrency and duration and a Do function")
	}
	return drive(ctx, l.Concurrency, l.Duration, l.Do)
}

func drive(parent context.Context, conc int, d time.Duration, do func(context.Context, int) error) (Result, error) {
	ctx, cancel := context.WithTimeout(parent, d+callGrace)
	defer cancel()
	type worker struct {
		lat      []time.Duration
		errs     int
		firstErr error
	}
	ws := make([]worker, conc)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Go(func() {
			w := &ws[i]
			w.lat = make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := do(ctx, i)
				lat := time.Since(t0)
				if err != nil {
					w.errs++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.lat = append(w.lat, lat)
			}
		})
	}
	wg.Wait()
	r := Result{Concurrency: conc, Elapsed: time.Since(start)}
	var all []time.Duration
	for _, w := range ws {
		all = append(all, w.lat...)
		r.Errors += w.errs
		if r.FirstErr == nil {
			r.FirstErr = w.firstErr
		}
	}
	r.Calls = len(all) + r.Errors
	r.P50, r.P99, r.Max = percentiles(all)
	if err := parent.Err(); err != nil {
		return r, err
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("bench: calls still running %s after the end of the run; target hung", callGrace)
	}
	return r, nil
}

// percentiles returns the 50th and 99th percentile (nearest rank) and the
// maximum; zero for no samples. It sorts lat.
func percentiles(lat []time.Duration) (p50, p99, maxLat time.Duration) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1 // ceil(p*n) - 1
		return lat[max(0, min(i, len(lat)-1))]
	}
	return rank(0.50), rank(0.99), lat[len(lat)-1]
}
