package platform

import (
	"errors"
	"strconv"
	"strings"
)

// ErrResponseTooLarge is the cause (Error.Err) of a response whose body
// exceeded Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("platform: response body too large")

// ErrInvalidRequest is the cause of a request rejected before sending
// (bad API name, param not a JSON object, bad verb or version).
var ErrInvalidRequest = errors.New("platform: invalid request")

// Error is a failed platform call: a response with result != 1, an HTTP or
// body failure of the platform (Class ClassUpstream, Result 0), or a request
// rejected locally (ClassInvalidArgument wrapping ErrInvalidRequest).
//
// Its message never contains tokens, signatures, secrets, business
// parameters or query strings.
type Error struct {
	Result     int64  // platform result code; 0 if none was received
	Msg        string // error_msg (or msg), or a description of the failure
	Code       string // code, or the OAuth "error" name
	SubCode    string
	SubMsg     string
	RequestID  string
	Class      Class
	HTTPStatus int    // 0 if no response arrived
	Method     string // platform API name, e.g. open.order.detail
	Err        error  // underlying cause, if any (ErrResponseTooLarge, a redacted transport error, ...)

	// MayHaveApplied marks a failed write (POST, or a single-use OAuth
	// grant) whose outcome is unknown: the request may have reached the
	// platform and been acted on (HTTP 5xx, unreadable body, transport
	// error after the request was written). Such an error is not Retryable.
	MayHaveApplied bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("platform: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	if e.Result != 0 {
		b.WriteString("result ")
		b.WriteString(strconv.FormatInt(e.Result, 10))
	} else {
		b.WriteString(e.Class.String())
		if e.HTTPStatus != 0 {
			b.WriteString(": http ")
			b.WriteString(strconv.Itoa(e.HTTPStatus))
		}
	}
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.SubCode != "" {
		b.WriteString(" [sub_code ")
		b.WriteString(e.SubCode)
		b.WriteString("]")
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same call may be sent again after a pause:
// the class is retryable (rate limit, upstream failure) and, for a write, the
// failure happened before the platform could have acted.
func (e *Error) Retryable() bool { return e.Class.Retryable() && !e.MayHaveApplied }

// IsClass reports whether err is (or wraps) an *Error of class c.
func IsClass(err error, c Class) bool {
	var e *Error
	return errors.As(err, &e) && e.Class == c
}
