package rest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestCodeName(t *testing.T) {
	t.Parallel()
	for c, want := range map[codes.Code]string{
		codes.OK: "OK", codes.Canceled: "CANCELLED", codes.InvalidArgument: "INVALID_ARGUMENT", codes.NotFound: "NOT_FOUND",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.Unavailable: "UNAVAILABLE", codes.Unauthenticated: "UNAUTHENTICATED",
		codes.Code(99): "UNKNOWN", codes.Code(1 << 31): "UNKNOWN",
	} {
		if got := CodeName(c); got != want {
			t.Errorf("CodeName(%d) = %q, want %q", c, got, want)
		}
	}
}

func withDetails(t *testing.T, c codes.Code, msg string, ds ...*durationpb.Duration) *status.Status {
	t.Helper()
	st := status.New(c, msg)
	var err error
	st, err = st.WithDetails(&errdetails.ErrorInfo{Reason: "ERROR_REASON_RATE_LIMITED", Domain: "kwaishop-gateway", Metadata: map[string]string{"method": "m"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_size", Description: "too <big>"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if st, err = st.WithDetails(&errdetails.RetryInfo{RetryDelay: d}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestErrorBody(t *testing.T) {
	t.Parallel()
	raw := ErrorBody(withDetails(t, codes.ResourceExhausted, "slow down & retry", durationpb.New(1500*time.Millisecond)))
	var got map[string]json.RawMessage
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if len(got) != 3 || string(got["code"]) != `"RESOURCE_EXHAUSTED"` || string(got["message"]) != `"slow down & retry"` {
		t.Fatalf("body %s", raw)
	}
	var details []map[string]any
	if err := json.Unmarshal(got["details"], &details); err != nil || len(details) != 3 {
		t.Fatalf("details %s: %v", got["details"], err)
	}
	if details[0]["@type"] != "type.googleapis.com/google.rpc.ErrorInfo" || details[0]["reason"] != "ERROR_REASON_RATE_LIMITED" {
		t.Errorf("ErrorInfo %v", details[0])
	}
	if _, ok := details[1]["field_violations"]; !ok {
		t.Errorf("BadRequest not in proto field names: %v", details[1])
	}
	if details[2]["retry_delay"] != "1.500s" {
		t.Errorf("RetryInfo %v", details[2])
	}
	// No details: still an array.
	if raw := ErrorBody(status.New(codes.NotFound, "no")); string(raw) != `{"code":"NOT_FOUND","message":"no","details":[]}` {
		t.Errorf("bare status: %s", raw)
	}
}

func TestWriteError_RetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		http   int
		delay  *durationpb.Duration
		header string
	}{
		{"429_rounds_up", http.StatusTooManyRequests, durationpb.New(1500 * time.Millisecond), "2"},
		{"503_whole_seconds", http.StatusServiceUnavailable, durationpb.New(3 * time.Second), "3"},
		{"503_under_a_second_is_1", http.StatusServiceUnavailable, durationpb.New(time.Millisecond), "1"},
		{"503_hours", http.StatusServiceUnavailable, durationpb.New(5 * time.Hour), "18000"},
		{"429_without_retry_info", http.StatusTooManyRequests, nil, ""},
		{"400_never", http.StatusBadRequest, durationpb.New(time.Second), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ds []*durationpb.Duration
			if tc.delay != nil {
				ds = append(ds, tc.delay)
			}
			w := httptest.NewRecorder()
			WriteError(w, tc.http, withDetails(t, codes.Unavailable, "x", ds...))
			if w.Code != tc.http || w.Header().Get("Retry-After") != tc.header {
				t.Fatalf("status %d Retry-After %q, want %d %q", w.Code, w.Header().Get("Retry-After"), tc.http, tc.header)
			}
			if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", w.Header())
			}
		})
	}
}
