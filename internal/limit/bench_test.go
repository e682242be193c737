package limit

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// BenchmarkAdmit measures what the shared limits add to one upstream
// attempt, against an embedded NATS server on loopback TCP (the slot
// schedule is one KV compare-and-swap per call; daily counters one per
// leased block). QPS limits are set far above the offered load so nothing
// waits: the numbers are pure overhead.
func BenchmarkAdmit(b *testing.B) {
	cases := []struct {
		name     string
		replicas int
		cfg      Config
	}{
		{"no_limits", 1, Config{MaxInFlight: 256}},
		{"qps", 1, Config{QPS: 1e7}},
		{"qps_daily_user", 1, Config{QPS: 1e7, AppDaily: 1e12, TestUserDaily: 1e12}},
		{"qps_3_replicas_contended", 3, Config{QPS: 1e7}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ls := newLimiters(b, cluster(b, c.replicas), c.cfg)
			a := platform.Attempt{Method: "open.order.detail", OpenID: "shop-a"}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				l := ls[int(next.Add(1))%len(ls)]
				for pb.Next() {
					done, err := l.Admit(context.Background(), a)
					if err != nil {
						b.Error(err)
						return
					}
					done(platform.Outcome{})
				}
			})
		})
	}
}
