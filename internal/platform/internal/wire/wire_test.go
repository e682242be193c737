package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestInt64(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		set     bool
		wantErr bool
	}{
		{`1`, 1, true, false},
		{`"24"`, 24, true, false},
		{`" 1016 "`, 1016, true, false},
		{`9007199254740993`, 9007199254740993, true, false},
		{`1.0`, 1, true, false},
		{`1e3`, 1000, true, false},
		{`null`, 0, false, false},
		{`""`, 0, false, false},
		{`"x"`, 0, false, true},
		{`1.5`, 0, false, true},
		{`true`, 0, false, true},
	}
	for _, tt := range tests {
		var v struct {
			N Int64 `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+tt.in+`}`), &v)
		if (err != nil) != tt.wantErr || (err == nil && (v.N.V != tt.want || v.N.Set != tt.set)) {
			t.Errorf("%s: got %+v, %v", tt.in, v.N, err)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`"a\u00e9"`: "aé", `400`: "400", `true`: "true", `null`: "", `{"x":1}`: "", `[1]`: ""} {
		var v struct {
			S String `json:"s"`
		}
		if err := json.Unmarshal([]byte(`{"s":`+in+`}`), &v); err != nil || string(v.S) != want {
			t.Errorf("%s: got %q, %v", in, v.S, err)
		}
	}
}

func TestReadCapped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body    string
		cl, max int64
		wantErr bool
	}{
		{"abcd", 4, 4, false},
		{"abcd", -1, 4, false},
		{"abcde", -1, 4, true},
		{"abcde", 5, 4, true},
		{"", 0, 4, false},
		{"abcdef", 2, 10, false}, // a body longer than announced is still read whole
		{"ab", 6, 10, false},     // and a shorter one
	} {
		got, err := ReadCapped(strings.NewReader(tt.body), tt.cl, tt.max)
		if tt.wantErr != errors.Is(err, ErrTooLarge) || int64(len(got)) > tt.max {
			t.Errorf("%q max %d: %q, %v", tt.body, tt.max, got, err)
		}
		if !tt.wantErr && string(got) != tt.body {
			t.Errorf("%q: got %q", tt.body, got)
		}
	}
}

// A body of announced length is read into one buffer of that size.
func TestReadCapped_OneAllocation(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3000)
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		if b, err := ReadCapped(r, int64(len(body)), 1<<20); err != nil || len(b) != len(body) {
			t.Fatalf("%d bytes, %v", len(b), err)
		}
	})
	if allocs > 1 {
		t.Errorf("%.1f allocations per read, want 1", allocs)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt := range 10 {
		d := Backoff(attempt, BackoffBase, BackoffCap)
		full := min(BackoffBase<<attempt, BackoffCap)
		if d < full/2 || d > full {
			t.Errorf("attempt %d: %v outside [%v, %v]", attempt, d, full/2, full)
		}
	}
	if d := Backoff(70, BackoffBase, BackoffCap); d > BackoffCap {
		t.Errorf("overflowed shift: %v", d)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if Sleep(ctx, time.Second) || time.Since(start) > 10*time.Millisecond {
		t.Error("Sleep waited past the deadline")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep without deadline failed")
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if Sleep(canceled, time.Millisecond) {
		t.Error("Sleep on canceled context succeeded")
	}
}

func TestNotSent(t *testing.T) {
	t.Parallel()
	dial := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}}
	read := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("reset")}}
	dns := &url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "x"}}
	if !NotSent(dial) || !NotSent(dns) || NotSent(read) || NotSent(errors.New("EOF")) {
		t.Error("NotSent misclassifies")
	}
}

func TestRedactError(t *testing.T) {
	t.Parallel()
	err := &url.Error{Op: "Get", URL: "https://u:p@h:8443/open/a/b?access_token=SECRET&sign=SIG#frag", Err: errors.New("boom")}
	got := RedactError(err).Error()
	if got != `Get "https://h:8443/open/a/b": boom` {
		t.Errorf("RedactError = %q", got)
	}
	plain := errors.New("x")
	if RedactError(plain) != plain {
		t.Error("non-url error changed")
	}
}
