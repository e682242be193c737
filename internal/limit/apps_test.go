package limit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// admitN admits attempts through g until one is refused (at most max) and
// returns how many passed and the refusal.
func admitN(t *testing.T, g platform.Gate, a platform.Attempt, max int) (int, *Error) {
	t.Helper()
	for n := 0; n < max; n++ {
		done, err := g.Admit(context.Background(), a)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("refusal: %v", err)
			}
			return n, le
		}
		done(platform.Outcome{})
	}
	return max, nil
}

// Each app draws from its own daily quota, across replicas: one app using
// up its quota leaves the other's whole (the platform counts per app).
func TestLimiterApps_DailyQuotaPerApp(t *testing.T) {
	ls := newLimiters(t, cluster(t, 2), Config{})
	a1, a2 := App{Key: "ksA", Daily: 30}, App{Key: "ksB", Daily: 50}
	write := platform.Attempt{Method: "open.item.sku.stock.update", Write: true}
	n1, err1 := admitN(t, ls[0].ForApp(a1), write, 100)
	n1b, _ := admitN(t, ls[1].ForApp(a1), write, 100) // the other replica sees the same counter
	if n1+n1b != 30 || err1 == nil || err1.Kind != KindDaily || err1.Limit != 30 {
		t.Fatalf("app A admitted %d+%d (refusal %v), want 30", n1, n1b, err1)
	}
	n2, err2 := admitN(t, ls[1].ForApp(a2), write, 100)
	if n2 != 50 || err2 == nil || err2.Kind != KindDaily {
		t.Fatalf("app B admitted %d (refusal %v) after A used its quota, want its own 50", n2, err2)
	}
	// The Limiter's own budget (no app) is yet another.
	if n, _ := admitN(t, ls[0], write, 5); n != 5 {
		t.Fatalf("the unnamed budget admitted %d of 5", n)
	}
}

// The test-user cap counts a main account and its sub-accounts as one
// user (the key TestUser answers: their shared seller id), per app; another
// test user keeps its own cap.
func TestLimiterApps_TestUserCapPerMainAccount(t *testing.T) {
	seller := map[string]string{"boss": "seller.9", "sub-1": "seller.9", "sub-2": "seller.9"}
	var asked []string
	ls := newLimiters(t, cluster(t, 1), Config{TestUser: func(_ context.Context, openID string) string {
		asked = append(asked, openID)
		return seller[openID] // "" for a shop whose seller is unknown: its own user
	}})
	app := ls[0].ForApp(App{Key: "ksT", Daily: 1000, TestUserDaily: 20})
	call := func(openID string) platform.Attempt {
		return platform.Attempt{Method: "open.item.sku.stock.update", OpenID: openID, Write: true}
	}
	nMain, _ := admitN(t, app, call("boss"), 8)
	nSub1, _ := admitN(t, app, call("sub-1"), 7)
	nSub2, err := admitN(t, app, call("sub-2"), 100)
	if nMain != 8 || nSub1 != 7 || nSub2 != 5 || err == nil || err.Kind != KindTestUserDaily || err.Limit != 20 {
		t.Fatalf("main/sub-1/sub-2 admitted %d/%d/%d (refusal %v), want 8/7/5 of one cap of 20", nMain, nSub1, nSub2, err)
	}
	if n, err := admitN(t, app, call("boss"), 1); n != 0 || err == nil {
		t.Fatalf("the main account got %d more after its sub-accounts used the cap", n)
	}
	if n, _ := admitN(t, app, call("other"), 20); n != 20 {
		t.Fatalf("another test user admitted %d of its own 20", n)
	}
	// The same main account in another app has that app's cap.
	other := ls[0].ForApp(App{Key: "ksU", Daily: 1000, TestUserDaily: 20})
	if n, _ := admitN(t, other, call("sub-1"), 20); n != 20 {
		t.Fatalf("another app's cap admitted %d of 20", n)
	}
	// An online app (no cap) never asks for test users.
	asked = nil
	online := ls[0].ForApp(App{Key: "ksO", Daily: 1000})
	if n, _ := admitN(t, online, call("sub-1"), 30); n != 30 || len(asked) != 0 {
		t.Fatalf("online app: %d admitted, test users asked %v", n, asked)
	}
}

// QPS slots are per app: a second app does not wait for the first's
// schedule.
func TestLimiterApps_QPSPerApp(t *testing.T) {
	ls := newLimiters(t, cluster(t, 1), Config{QPS: 2, Headroom: NoHeadroom, MaxQueue: NoQueue})
	get := platform.Attempt{Method: "open.shop.info.get"}
	a, b := ls[0].ForApp(App{Key: "ksA"}), ls[0].ForApp(App{Key: "ksB"})
	start := time.Now()
	nA, errA := admitN(t, a, get, 10)
	nB, errB := admitN(t, b, get, 10)
	if time.Since(start) > 400*time.Millisecond {
		t.Skip("too slow a machine to tell slots apart")
	}
	if nA < 1 || nA > 2 || errA == nil || errA.Kind != KindQPS || nB < 1 || nB > 2 || errB == nil || errB.Kind != KindQPS {
		t.Fatalf("app A admitted %d (%v), app B %d (%v): want each its own 1-2 slots", nA, errA, nB, errB)
	}
}
