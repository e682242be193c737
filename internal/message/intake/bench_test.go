package intake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/internal/msgtest"
)

// Benchmarks of the push pipeline on the embedded store (file storage,
// fsync on every write), over real HTTP:
//
//	go test -run '^$' -bench . -benchtime 5000x ./internal/message/intake
//
// BenchmarkIntake: sustained intake rate with durable acknowledgement
// (msgs/s) and the acknowledgement latency (ack-p50-ms, ack-p99-ms) at 32
// concurrent pushers. BenchmarkPushToSubscriber: push-to-subscriber latency
// (e2e-p50-ms, e2e-p99-ms) at the same load, one consumer group
// (internal/message/delivery).

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[min(len(d)-1, int(float64(len(d))*p))]) / float64(time.Millisecond)
}

const benchPushers = 32

// pushLoad sends b.N distinct encrypted pushes from benchPushers workers
// and returns each push's acknowledgement latency.
func pushLoad(b *testing.B, url string, k message.Key, sent func(i int, at time.Time)) []time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: benchPushers}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = k.Encrypt(msgtest.Plain(fmt.Sprintf("b-%d-%d", b.N, i), "shop1", message.EventOrderCreated, map[string]any{"oid": 1 + i, "createTime": 1 + i}))
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchPushers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if sent != nil {
					sent(i, t0)
				}
				resp, err := hc.Post(url, "text/plain;charset=utf-8", strings.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("push %d: %d", i, resp.StatusCode)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return lat
}

func BenchmarkIntake(b *testing.B) {
	l, _ := msgtest.OpenLog(b)
	k := mustKey(b, "ks1", vectorKey)
	srv := httptest.NewServer(New(l, Config{Keys: []message.Key{k}}))
	b.Cleanup(srv.Close)
	start := time.Now()
	lat := pushLoad(b, srv.URL, k, nil)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(percentile(lat, 0.50), "ack-p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "ack-p99-ms")
}

func BenchmarkPushToSubscriber(b *testing.B) {
	l, _ := msgtest.OpenLog(b)
	groups, err := delivery.Open(msgtest.Ctx(b), l, delivery.Config{})
	if err != nil {
		b.Fatal(err)
	}
	k := mustKey(b, "ks1", vectorKey)
	srv := httptest.NewServer(New(l, Config{Keys: []message.Key{k}}))
	b.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	sess, _, err := groups.Subscribe(ctx, delivery.GroupOptions{Name: "bench"}, 1000)
	if err != nil {
		b.Fatal(err)
	}
	sentAt := make([]atomic.Int64, b.N)
	e2e := make([]time.Duration, 0, b.N)
	all := make(chan struct{})
	var mu sync.Mutex
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = sess.Run(ctx, func(d delivery.Delivery) error {
			now := time.Now()
			var i int
			fmt.Sscanf(d.Message.EventID[strings.LastIndexByte(d.Message.EventID, '-')+1:], "%d", &i)
			mu.Lock()
			e2e = append(e2e, now.Sub(time.Unix(0, sentAt[i].Load())))
			n := len(e2e)
			mu.Unlock()
			_ = sess.Ack(ctx, []string{d.ID}, delivery.Ack, 0, nil)
			if n == b.N {
				close(all)
			}
			return nil
		})
	}()
	pushLoad(b, srv.URL, k, func(i int, at time.Time) { sentAt[i].Store(at.UnixNano()) })
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		b.Fatal("not every message reached the subscriber")
	}
	b.StopTimer()
	cancel()
	<-runDone
	b.ReportMetric(percentile(e2e, 0.50), "e2e-p50-ms")
	b.ReportMetric(percentile(e2e, 0.99), "e2e-p99-ms")
}
