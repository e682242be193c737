package shop

import (
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// The generator's invariants hold for many seeds: 10-80 orders, every
// status, lifecycles in order and before the start time, unique ids.
func TestGenerateShop_Invariants(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 1, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	from, to := start.Add(-30*24*time.Hour).UnixMilli(), start.UnixMilli()
	for seed := int64(0); seed < 60; seed++ {
		oids := map[int64]bool{}
		for id := 1; id <= rules.MaxTestUsers; id++ {
			sh := generateShop(seed, id, "ks123456789012345678", start)
			if n := len(sh.Orders); n < 10 || n > 80 {
				t.Fatalf("seed %d user %d: %d orders", seed, id, n)
			}
			statuses := map[int]bool{}
			for _, o := range sh.Orders {
				b := o.BaseInfo
				statuses[b.Status] = true
				if oids[b.Oid] || b.Oid < 1e15 || b.Oid >= 1e16 {
					t.Fatalf("seed %d: oid %d duplicate or not 16 digits", seed, b.Oid)
				}
				oids[b.Oid] = true
				if b.CreateTime < from || b.CreateTime >= to || b.UpdateTime >= to || b.UpdateTime < b.CreateTime {
					t.Fatalf("seed %d: order %d times %d..%d outside the 30 days", seed, b.Oid, b.CreateTime, b.UpdateTime)
				}
				paid := b.Status != rules.OrderUnpaid && b.Status != rules.OrderClosed
				if paid != (b.PayTime > 0) || (b.Status >= rules.OrderShipped && b.Status <= rules.OrderSucceeded) != (b.SendTime > 0) ||
					(b.PayTime > 0 && b.PayTime < b.CreateTime) || (b.SendTime > 0 && b.SendTime < b.PayTime) ||
					(b.RecvTime > 0 && b.RecvTime < b.SendTime) || b.UpdateTime < max(b.PayTime, b.SendTime, b.RecvTime) {
					t.Fatalf("seed %d: lifecycle of %+v", seed, b)
				}
				if b.TotalFee != o.ItemInfo.Price*o.ItemInfo.Num-b.DiscountFee+b.ExpressFee || b.SellerOpenID != sh.User.OpenID {
					t.Fatalf("seed %d: fees/seller of %+v", seed, b)
				}
				if _, ok := sh.ItemByID[o.ItemInfo.ItemID]; !ok {
					t.Fatalf("seed %d: order references unknown item", seed)
				}
			}
			if len(statuses) != 6 {
				t.Fatalf("seed %d user %d: statuses %v", seed, id, statuses)
			}
			for _, r := range sh.Refunds {
				o := sh.OrderByID[r.Oid]
				if o == nil || len(o.RefundList) != 1 || o.RefundList[0].RefundID != r.RefundID || r.CreateTime < o.BaseInfo.SendTime || r.UpdateTime >= to {
					t.Fatalf("seed %d: refund %+v", seed, r)
				}
			}
		}
	}
}
