// Package clock provides the sandbox's adjustable clock and the platform's
// ways of writing time (milliseconds since the epoch, lifetimes in whole
// seconds).
package clock

import (
	"sync/atomic"
	"time"
)

// Clock is the sandbox's adjustable clock: a base clock plus an offset that
// Advance moves. Every lifetime (codes, tokens, authorizations), every limit
// window and every record time reads it, so tests can age tokens without
// sleeping. It is safe for concurrent use.
type Clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

// New returns a clock at base (time.Now when nil) with no offset.
func New(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the sandbox time: the base clock plus the offset.
func (c *Clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// Base is the base clock without the offset: the callers' wall clock, which
// does not move when a test advances the sandbox's.
func (c *Clock) Base() time.Time { return c.base() }

// Advance moves the clock by d (negative d moves it back).
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Millis is a time as the platform writes it: milliseconds since the epoch
// (0 for the zero time).
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// SecondsUntil is a lifetime in whole seconds as OAuth answers expires_in
// (never negative).
func SecondsUntil(now, t time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64(d / time.Second)
}
