package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// OpenBucket opens the key-value bucket cfg.Bucket, creating it with cfg
// when it does not exist. An existing bucket's configuration is left as it
// is (an operator may have tuned it); a replica that loses the creation race
// opens the winner's bucket. Every open-or-create of a bucket in the
// gateway goes through here.
func OpenBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if js == nil {
		return nil, fmt.Errorf("store: open bucket %s: nil jetstream", cfg.Bucket)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) { // another replica created it first
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: open bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// EachEntry calls fn for every current entry of kv whose key matches filter
// (deleted keys skipped), as the entries stream in, and returns once the
// bucket's current values have all been delivered. fn returning an error
// stops the walk with that error. It is the one way the gateway reads a
// snapshot of a bucket.
func EachEntry(ctx context.Context, kv jetstream.KeyValue, filter string, fn func(jetstream.KeyValueEntry) error) error {
	w, err := kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("store: read %s: %w", filter, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("store: read %s: watcher stopped", filter)
			}
			if e == nil { // the current values are all delivered
				return nil
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("store: read %s: %w", filter, ctx.Err())
		}
	}
}
