package platform

import (
	"context"
	"errors"
	"time"
)

// Attempt describes one upstream attempt to a Gate.
type Attempt struct {
	Method string // platform API name
	OpenID string // the merchant ("" = app-level call)
	Write  bool   // sent with POST: the platform may act on it
	N      int    // 0 for the first attempt of a Do, 1.. for retries
}

// Outcome is what became of an attempt a Gate admitted.
type Outcome struct {
	// Err is the attempt's error: nil when the platform answered result 1,
	// an *Error when it answered otherwise or failed, or the error of a
	// later gate that refused the attempt (then Duration is 0).
	Err error
	// Duration is the time from sending to the answer; 0 if nothing was sent.
	Duration time.Duration
}

// Sent reports whether the attempt went on the wire.
func (o Outcome) Sent() bool { return o.Duration > 0 }

// UpstreamFailure reports whether the attempt shows the platform failing
// rather than answering: an *Error of ClassUpstream (transport error, HTTP
// 5xx, unreadable body), or no answer at all within the deadline after at
// least slow on the wire (so a caller's very short deadline does not count
// against the platform). Any platform answer, business errors and rate
// limits included, is not a failure.
func (o Outcome) UpstreamFailure(slow time.Duration) bool {
	if !o.Sent() || o.Err == nil {
		return false
	}
	var pe *Error
	if errors.As(o.Err, &pe) {
		return pe.Class == ClassUpstream
	}
	return errors.Is(o.Err, context.DeadlineExceeded) && o.Duration >= slow
}

// Gate admits upstream attempts: client-side limits, circuit breakers,
// concurrency caps. The Client consults its gate before every attempt,
// retries included; a refusal ends the Do with the gate's error (wrapped),
// and nothing is sent. When Admit admits, the Client calls done exactly once
// with the attempt's Outcome.
type Gate interface {
	Admit(ctx context.Context, a Attempt) (done func(Outcome), err error)
}

// Gates is a Gate that consults each gate in order. When one refuses, the
// gates already passed are told (done with the refusal and no Duration).
type Gates []Gate

var _ Gate = Gates(nil)

// Admit implements Gate.
func (g Gates) Admit(ctx context.Context, a Attempt) (func(Outcome), error) {
	dones := make([]func(Outcome), 0, len(g))
	finish := func(o Outcome) {
		for i := len(dones) - 1; i >= 0; i-- {
			dones[i](o)
		}
	}
	for _, gate := range g {
		if gate == nil {
			continue
		}
		done, err := gate.Admit(ctx, a)
		if err != nil {
			finish(Outcome{Err: err})
			return nil, err
		}
		if done != nil {
			dones = append(dones, done)
		}
	}
	return finish, nil
}
