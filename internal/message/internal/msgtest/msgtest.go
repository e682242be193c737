// Package msgtest holds the helpers the push pipeline's tests share: a
// message log on a fresh embedded NATS store, platform plaintexts, and
// publishing them.
package msgtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Ctx is a context that ends with the test (at most 60s).
func Ctx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// OpenLog opens a Log on a fresh embedded NATS store.
func OpenLog(t testing.TB) (*msglog.Log, *store.Store) {
	t.Helper()
	ctx := Ctx(t)
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	l, err := msglog.Open(ctx, st.JetStream(), msglog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return l, st
}

// Plain is a platform plaintext message dated now.
func Plain(eventID, openID, event string, info map[string]any) []byte {
	in, _ := json.Marshal(info)
	b, _ := json.Marshal(map[string]any{
		"eventId": eventID, "bizId": 1, "userId": 2, "openId": openID, "appKey": "ks1", "event": event,
		"info": string(in), "createTime": time.Now().UnixMilli(), "test": false,
	})
	return b
}

// Publish stores a plaintext as a push and returns its sequence.
func Publish(t testing.TB, l *msglog.Log, plain []byte) uint64 {
	t.Helper()
	p, err := message.ParsePush(plain)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := l.Publish(Ctx(t), p, plain, false)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// StreamMsgs is the number of messages in the log's stream.
func StreamMsgs(t testing.TB, l *msglog.Log) uint64 {
	t.Helper()
	info, err := l.Stream().Info(Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
