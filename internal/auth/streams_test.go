package auth

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// fakeStream is a server stream whose context carries a caller.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *fakeStream) Context() context.Context { return s.ctx }

// held is one admitted stream kept open until release is called.
type held struct {
	release func()
	done    chan error
}

func TestStreamLimiter(t *testing.T) {
	t.Parallel()
	l := NewStreamLimiter(StreamLimiterConfig{Max: 2, Log: quiet()})
	icpt := l.StreamServerInterceptor()
	info := &grpc.StreamServerInfo{FullMethod: "/kwaishop.gateway.v1.AuthorizationService/WatchAuthorizationEvents", IsServerStream: true}
	ks := testKeys(t)
	keyA, keyB := ks.Authenticate(secAll), ks.Authenticate(secShop)

	caller := func(k *Key, addr string) context.Context {
		ctx := context.Background()
		if k != nil {
			ctx = context.WithValue(ctx, keyCtx{}, k)
		}
		if addr != "" {
			ap, err := net.ResolveTCPAddr("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: ap})
		}
		return ctx
	}
	// open starts a stream; it reports the refusal, or holds the slot
	// until the returned release is called.
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	open := func(ctx context.Context) (*held, error) {
		entered, release := make(chan struct{}), make(chan struct{})
		h := &held{release: sync.OnceFunc(func() { close(release) }), done: make(chan error, 1)}
		t.Cleanup(h.release)
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.done <- icpt(nil, &fakeStream{ctx: ctx}, info, func(any, grpc.ServerStream) error {
				close(entered)
				<-release
				return nil
			})
		}()
		select {
		case <-entered:
			return h, nil
		case err := <-h.done:
			return nil, err
		}
	}
	mustOpen := func(ctx context.Context, what string) *held {
		t.Helper()
		h, err := open(ctx)
		if err != nil {
			t.Fatalf("%s refused: %v", what, err)
		}
		return h
	}
	mustRefuse := func(ctx context.Context, what, who string) {
		t.Helper()
		_, err := open(ctx)
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), who) {
			t.Fatalf("%s: %v, want ResourceExhausted naming %s", what, err, who)
		}
	}

	t.Run("per_key", func(t *testing.T) {
		a1 := mustOpen(caller(keyA, "127.0.0.1:1000"), "a 1")
		mustOpen(caller(keyA, "127.0.0.1:1001"), "a 2") // another connection, same key
		mustRefuse(caller(keyA, "127.0.0.2:1000"), "a 3", `"all"`)
		mustOpen(caller(keyB, "127.0.0.1:1000"), "b 1") // another key is not affected
		a1.release()
		if err := <-a1.done; err != nil {
			t.Fatal(err)
		}
		mustOpen(caller(keyA, "127.0.0.1:1000"), "a 3 after one closed")
		mustRefuse(caller(keyA, "127.0.0.1:1000"), "a 4", `"all"`)
	})

	t.Run("without_key_per_client_ip", func(t *testing.T) {
		mustOpen(caller(nil, "10.0.0.1:1"), "ip 1, conn 1")
		mustOpen(caller(nil, "10.0.0.1:2"), "ip 1, conn 2")
		mustRefuse(caller(nil, "10.0.0.1:3"), "ip 1, conn 3", "10.0.0.1")
		mustOpen(caller(nil, "10.0.0.2:1"), "ip 2")
	})

	t.Run("handler_error_frees_the_slot", func(t *testing.T) {
		ctx := caller(nil, "10.0.0.9:1")
		for range 5 {
			err := icpt(nil, &fakeStream{ctx: ctx}, info, func(any, grpc.ServerStream) error { return errors.New("boom") })
			if err == nil || err.Error() != "boom" {
				t.Fatalf("handler error not passed through: %v", err)
			}
		}
		mustOpen(ctx, "after failed streams")
		mustOpen(ctx, "after failed streams")
	})
}

func TestStreamLimiter_Off(t *testing.T) {
	t.Parallel()
	icpt := NewStreamLimiter(StreamLimiterConfig{Max: 0}).StreamServerInterceptor()
	for range 10 {
		if err := icpt(nil, &fakeStream{ctx: context.Background()}, &grpc.StreamServerInfo{}, func(any, grpc.ServerStream) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}
