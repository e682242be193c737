package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// storeWrite is what writing the synthetic authorizations measured.
type storeWrite struct {
	write, list, listCPU time.Duration
	listed               int
}

// writeOffline writes n authorizations into the token bucket of a stopped
// gateway's embedded store (dataDir/nats) with internal/store's TokenStore,
// through a private nats-server on that store that does not fsync each
// write (the gateway's does: at ~1 ms per fsync, 100 000 writes would take
// minutes). A clean shutdown flushes everything. It also times one
// TokenStore.List of all records, the read the keep-alive scan does.
func writeOffline(ctx context.Context, dataDir, tokenKeys, appKey string, n int) (storeWrite, error) {
	var out storeWrite
	srv, err := server.NewServer(&server.Options{
		ServerName: "kwaishop-gateway", // as internal/store's embedded server
		JetStream:  true,
		StoreDir:   filepath.Join(dataDir, "nats"),
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 1 << 20,
	})
	if err != nil {
		return out, fmt.Errorf("bench: offline nats: %w", err)
	}
	srv.Start()
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	if !srv.ReadyForConnections(30 * time.Second) {
		return out, errors.New("bench: offline nats did not start")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.InProcessServer(srv))
	if err != nil {
		return out, fmt.Errorf("bench: offline nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return out, err
	}
	ring, err := store.ParseKeyring(tokenKeys)
	if err != nil {
		return out, err
	}
	tokens, err := store.NewTokenStore(ctx, js, ring, 1)
	if err != nil {
		return out, err
	}
	t0 := time.Now()
	if err := writeAuthorizations(ctx, tokens, appKey, n); err != nil {
		return out, err
	}
	out.write = time.Since(t0)
	cpu0, _ := CPUTime(os.Getpid())
	t0 = time.Now()
	all, err := tokens.List(ctx)
	if err != nil {
		return out, err
	}
	out.list = time.Since(t0)
	cpu1, _ := CPUTime(os.Getpid())
	out.listCPU, out.listed = cpu1-cpu0, len(all)
	return out, nil
}

// writeAuthorizations puts n active authorizations (tokens the sandbox never
// issued, access tokens valid for 47 h) with 64 concurrent writers.
func writeAuthorizations(ctx context.Context, tokens *store.TokenStore, appKey string, n int) error {
	now := time.Now()
	scopes := []string{"merchant_order", "merchant_item", "merchant_refund", "merchant_logistics", "merchant_user"}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				tok := fmt.Sprintf("%032x", uint64(i)*0x9E3779B97F4A7C15)
				_, err := tokens.Put(ctx, store.Authorization{
					OpenID: benchOpenID(i), AppKey: appKey, Scopes: scopes, Status: store.StatusActive,
					AccessToken: "bench-access-" + tok, RefreshToken: "bench-refresh-" + tok,
					AccessExpiry: now.Add(47 * time.Hour), RefreshExpiry: now.Add(180 * 24 * time.Hour), CreatedAt: now,
				})
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: write authorizations: %w", err)
	}
	return ctx.Err()
}

// fsyncLatency is the median time of a 4 KiB write + fsync in dir, the
// floor of a durable JetStream write on this disk.
func fsyncLatency(dir string, n int) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	p50, _, _ := percentiles(lat)
	return p50, nil
}
