package platform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// The transport chain below the span (design decision 4):
//
//	tokenTransport → signTransport → base
//
// Each layer clones the request before changing it and closes the request
// body on every path, as the http.RoundTripper contract requires. Parameters
// live in the query string when the request has no body (GET) and in the
// x-www-form-urlencoded body otherwise (POST).

// TokenSource supplies the access token of one merchant (or the app). It is
// called once per attempt with the request's context.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

type tokenSourceKey struct{}

func withTokenSource(ctx context.Context, ts TokenSource) context.Context {
	return context.WithValue(ctx, tokenSourceKey{}, ts)
}

func tokenSourceFrom(ctx context.Context) TokenSource {
	ts, _ := ctx.Value(tokenSourceKey{}).(TokenSource)
	return ts
}

// tokenError marks a failure of the TokenSource so Do can tell it from a
// transport failure.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "token source: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

var errEmptyToken = errors.New("empty access token")

// tokenTransport adds access_token from the TokenSource carried by the
// request context. Without a TokenSource the request passes unchanged.
type tokenTransport struct {
	Base http.RoundTripper
}

var _ http.RoundTripper = (*tokenTransport)(nil)

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ts := tokenSourceFrom(req.Context())
	if ts == nil {
		return t.Base.RoundTrip(req)
	}
	tok, err := ts.Token(req.Context())
	if err == nil && tok == "" {
		err = errEmptyToken
	}
	if err != nil {
		closeBody(req)
		return nil, &tokenError{err: err}
	}
	req2, err := withParams(req, func(p url.Values) error {
		p.Set(sign.KeyAccessToken, tok)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.Base.RoundTrip(req2)
}

// signTransport adds timestamp, signMethod and sign over the final
// parameters.
type signTransport struct {
	Base   http.RoundTripper
	Secret string
	Method sign.Method
	Now    func() time.Time
}

var _ http.RoundTripper = (*signTransport)(nil)

func (t *signTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req2, err := withParams(req, func(p url.Values) error {
		p.Set(sign.KeyTimestamp, strconv.FormatInt(t.Now().UnixMilli(), 10))
		p.Set(sign.KeySignMethod, string(t.Method))
		s, err := sign.Sign(t.Method, valuesLookup(p), t.Secret)
		if err != nil {
			return err
		}
		p.Set(sign.KeySign, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.Base.RoundTrip(req2)
}

func valuesLookup(v url.Values) sign.Lookup {
	return func(k string) (string, bool) {
		vs, ok := v[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func hasBody(req *http.Request) bool { return req.Body != nil && req.Body != http.NoBody }

// withParams returns a clone of req whose parameters (query string, or form
// body when req has a body) were changed by edit. req.Body is consumed and
// closed when it is re-encoded, and closed on every error path.
func withParams(req *http.Request, edit func(url.Values) error) (*http.Request, error) {
	if !hasBody(req) {
		q, err := url.ParseQuery(req.URL.RawQuery)
		if err == nil {
			err = edit(q)
		}
		if err != nil {
			closeBody(req)
			return nil, err
		}
		req2 := req.Clone(req.Context())
		req2.URL.RawQuery = q.Encode()
		return req2, nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	f, err := url.ParseQuery(string(raw))
	if err == nil {
		err = edit(f)
	}
	if err != nil {
		return nil, err
	}
	s := f.Encode()
	req2 := req.Clone(req.Context())
	req2.Body = io.NopCloser(strings.NewReader(s))
	req2.ContentLength = int64(len(s))
	req2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	return req2, nil
}
