// Package wire holds the HTTP plumbing shared by the platform API client and
// the OAuth client: the default tuned HTTP client, capped body reads,
// tolerant JSON scalars, retry back-off and redaction of request URLs.
package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/secret"
)

// DefaultMaxResponseBytes caps a response body unless configured otherwise.
const DefaultMaxResponseBytes int64 = 8 << 20

// Retry policy: at most two retries, jittered exponential back-off (see
// platform.Sender.Do for which failures are retried).
const (
	MaxRetries  = 2
	BackoffBase = 50 * time.Millisecond
	BackoffCap  = time.Second
)

var defaultTransport = sync.OnceValue(func() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
})

// DefaultHTTPClient returns a client over a process-wide transport tuned for
// many concurrent calls to one host. The overall timeout is a backstop; each
// call should also carry a context deadline.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Transport: defaultTransport(), Timeout: 60 * time.Second}
}

// BaseTransport returns the RoundTripper of hc, or http.DefaultTransport.
func BaseTransport(hc *http.Client) http.RoundTripper {
	if hc != nil && hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

// NoRedirect refuses to follow redirects: a redirected request would carry
// the access token, app secret or signature to wherever it points.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ErrTooLarge is returned by ReadCapped when the body exceeds the cap.
var ErrTooLarge = errors.New("response body too large")

// ReadCapped reads at most max bytes of body. A longer body yields the bytes
// read so far and ErrTooLarge. It does not close body. A body of announced
// length (contentLength ≥ 0) within the cap is read into one buffer of that
// size plus one byte, so the end of the body is seen without growing it.
func ReadCapped(body io.Reader, contentLength, max int64) ([]byte, error) {
	size := min(int64(4096), max+1)
	if contentLength >= 0 && contentLength <= max {
		size = contentLength + 1
	}
	buf := make([]byte, 0, size)
	r := io.LimitReader(body, max+1)
	for {
		if len(buf) == cap(buf) { // a body of unknown length: double
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), max+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	if int64(len(buf)) > max {
		return buf[:max], ErrTooLarge
	}
	return buf, nil
}

// Int64 is a JSON integer that may also arrive as a string ("1") or be
// absent. Set reports whether the field was present and not null.
type Int64 struct {
	V   int64
	Set bool
}

// UnmarshalJSON accepts 123, "123", integral floats such as 1.0 or 1e3, and null.
func (n *Int64) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := b
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		s = bytes.TrimSpace(b[1 : len(b)-1])
		if len(s) == 0 {
			return nil
		}
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(s), 64)
		if ferr != nil || f != float64(int64(f)) {
			return errors.New("wire: not an integer: " + strconv.Quote(string(b)))
		}
		v = int64(f)
	}
	n.V, n.Set = v, true
	return nil
}

// String is a JSON string that may also arrive as a number or boolean (kept
// as its literal text) or null.
type String string

// UnmarshalJSON accepts any JSON scalar.
func (s *String) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*s = "" // structured values are not codes; ignore rather than fail the whole body
	default:
		*s = String(b)
	}
	return nil
}

// Backoff returns the jittered delay before retry number attempt (0-based):
// half of min(cap, base·2^attempt) plus a random part of the other half.
func Backoff(attempt int, base, cap time.Duration) time.Duration {
	d := base << attempt
	if d <= 0 || d > cap {
		d = cap
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Sleep waits d or until ctx is done. It refuses (returns false at once) when
// ctx's deadline would pass before the wait ends, so a retry never starts
// without time left to finish.
func Sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// NotSent reports whether a transport error certainly happened before any
// byte of the request reached the server: the connection could not be
// established (dial failure, DNS failure, connection refused).
func NotSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// RedactError rewrites the URL of a *url.Error (as returned by http.Client)
// so that its message carries no query string. Other errors are returned as is.
func RedactError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: secret.URL(ue.URL), Err: ue.Err}
}
