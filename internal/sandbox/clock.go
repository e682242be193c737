package sandbox

import (
	"sync/atomic"
	"time"
)

// clock is the sandbox's adjustable clock: a base clock plus an offset that
// Advance moves. Every lifetime (codes, tokens, authorizations) and every
// timestamp check reads it, so tests can age tokens without sleeping.
type clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func (c *clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// Advance moves the clock by d (negative d moves it back).
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// ms is a time as the platform writes it: milliseconds since the epoch.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// secondsUntil is a lifetime in whole seconds as OAuth answers expires_in
// (never negative).
func secondsUntil(now, t time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64(d / time.Second)
}
