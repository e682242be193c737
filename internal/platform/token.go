package platform

import (
	"context"
	"errors"
)

// TokenSource supplies the access token of one merchant (or the app). The
// Client asks it once per attempt, with the attempt's context, and adds the
// token to the parameters before signing them.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// Invalidator is implemented by token sources that can replace a token the
// platform rejected (expired or unknown access token).
type Invalidator interface {
	Invalidate(ctx context.Context, rejected string) error
}

// RevocationReporter is implemented by token sources that want to know when
// the platform answers that the merchant's authorization is revoked.
type RevocationReporter interface {
	Revoked(ctx context.Context)
}

// PermissionExplainer is implemented by token sources that can tell a
// caller how to obtain a permission the platform refused (result 22, the
// token lacks the API's scope). The error it returns wraps err, so the
// platform's answer stays reachable with errors.As.
type PermissionExplainer interface {
	ExplainPermission(ctx context.Context, err *Error) error
}

// TokenRejected reports whether err is the platform rejecting the access
// token itself (not the app, not a scope, not a revoked authorization).
func TokenRejected(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Result == ResultTokenInvalid
}

var errEmptyToken = errors.New("empty access token")
