package service

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
)

// failingLog is an AccessLog whose store fails with err.
type failingLog struct{ err error }

func (f failingLog) OrderAccess(context.Context, string, []int64, string) error { return f.err }
func (f failingLog) OrderQuery(context.Context, string, string, int64, string) error {
	return f.err
}

// A read whose access is not recorded is refused: UNAVAILABLE with the
// cause and a retry delay, on every path (typed ids, queries, generic
// calls); a recorded one, or one that reads no order, passes.
func TestSecurityLog_NotRecordedRefusesTheRead(t *testing.T) {
	full := fmt.Errorf("%w: nats: maximum bytes exceeded", securitylog.ErrFull)
	down := fmt.Errorf("%w: nats: timeout", securitylog.ErrNotStored)
	ctx := context.Background()
	detail := json.RawMessage(`{"orderBaseInfo":{"oid":7}}`)
	for name, tc := range map[string]struct {
		err   error
		cause string
	}{"full": {full, "full"}, "unavailable": {down, "unavailable"}} {
		l := failingLog{tc.err}
		for path, err := range map[string]error{
			"ids":    logOrders(ctx, l, "shop1", []int64{7}, "OrderService.GetOrder"),
			"query":  logQuery(ctx, l, "shop1", searchIndexData, "SecurityService.SearchIndex"),
			"call":   logCall(ctx, l, "shop1", "open.order.detail", json.RawMessage(`{"oid":"7"}`), detail),
			"search": logCall(ctx, l, "shop1", "open.order.search.index.batch", json.RawMessage(`{}`), json.RawMessage(`{}`)),
		} {
			st := status.Convert(err)
			var cause string
			var retry bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					cause = d.GetMetadata()["security_log"]
				case *errdetails.RetryInfo:
					retry = d.GetRetryDelay().AsDuration() > 0
				}
			}
			if st.Code() != codes.Unavailable || cause != tc.cause || !retry {
				t.Errorf("%s, %s: %v %v", name, path, err, st.Details())
			}
		}
	}
	if err := logOrders(ctx, failingLog{}, "shop1", []int64{7}, "x"); err != nil {
		t.Errorf("recorded: %v", err)
	}
	l := failingLog{full}
	if err := logOrders(ctx, l, "shop1", nil, "x"); err != nil {
		t.Errorf("no order read: %v", err)
	}
	if err := logCall(ctx, l, "shop1", "open.seller.order.close", nil, nil); err != nil {
		t.Errorf("a write: %v", err)
	}
	if err := logOrders(ctx, nil, "shop1", []int64{7}, "x"); err != nil {
		t.Errorf("logs off: %v", err)
	}
}
