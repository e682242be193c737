package bench

import (
	"strings"
	"testing"
	"time"
)

// rawProfile is the shape of `go tool pprof -raw` output.
const rawProfile = `PeriodType: cpu nanoseconds
Period: 10000000
Samples:
samples/count cpu/nanoseconds
          2   20000000: 1 2 3
          1   10000000: 4 5
                account:[$G] stream:[KV_x]
          1   10000000: 6
          1   10000000: 7 3
Locations
     1: 0x1 M=1 runtime.mallocgc /go/src/runtime/malloc.go:1:0 s=1
     2: 0x2 M=1 github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign.Sign /sign.go:1:0 s=1
             github.com/kwaishop-gateway/kwaishop-gateway/internal/platform.(*signTransport).RoundTrip /t.go:1:0 s=1
     3: 0x3 M=1 google.golang.org/grpc.(*Server).handleStream /server.go:1:0 s=1
     4: 0x4 M=1 internal/runtime/syscall/linux.Syscall6 /asm.s:1:0 s=1
     5: 0x5 M=1 github.com/nats-io/nats-server/v2/server.(*client).readLoop /client.go:1:0 s=1
     6: 0x6 M=1 runtime.gcBgMarkWorker /mgc.go:1:0 s=1
     7: 0x7 M=1 crypto/hmac.New.UnwrapNew[go.shape.interface { BlockSize int }].func1 /hmac.go:1:0 s=1
Mappings
1: 0x0/0x0/0x0 /server
`

func TestBreakdown(t *testing.T) {
	t.Parallel()
	got, err := Breakdown(strings.NewReader(rawProfile))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cost{
		{"signing (HMAC-SHA256)", 20 * time.Millisecond},                   // malloc charged to its caller
		{"Go GC (background)", 10 * time.Millisecond},                      // runtime only
		{"embedded NATS server (KV, streams)", 10 * time.Millisecond},      // syscall charged to NATS
		{"gRPC (HTTP/2 transport, server, client)", 10 * time.Millisecond}, // hmac without an owner below gRPC
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cost %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestBreakdown_no_samples(t *testing.T) {
	t.Parallel()
	if _, err := Breakdown(strings.NewReader("Samples:\nLocations\n")); err == nil {
		t.Fatal("no error for a profile without samples")
	}
}
