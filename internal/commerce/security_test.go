package commerce

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// decryptCaller answers open.order.decrypt.batch: "plain-<ciphertext>" for
// each entry, errorCode 7 for ciphertexts starting with "bad", a platform
// failure for a request holding "fail", and counts requests and the most in
// flight at once.
type decryptCaller struct {
	mu          sync.Mutex
	calls       int
	inFlight    atomic.Int32
	maxInFlight int32
}

func (d *decryptCaller) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	d.mu.Lock()
	d.calls++
	d.maxInFlight = max(d.maxInFlight, n)
	d.mu.Unlock()
	time.Sleep(5 * time.Millisecond) // let the chunks overlap
	var p struct {
		List []struct{ BizID, EncryptedData string } `json:"batchDecryptList"`
	}
	if err := json.Unmarshal(r.Param, &p); err != nil || len(p.List) == 0 || len(p.List) > SecurityBatchMax {
		return nil, &platform.Error{Method: r.Method, Class: platform.ClassInvalidArgument, Msg: "bad request"}
	}
	type res struct {
		BizID         string `json:"bizId"`
		DecryptedData string `json:"decryptedData"`
		ErrorCode     int    `json:"errorCode"`
		ErrorMsg      string `json:"errorMsg"`
	}
	out := make([]res, len(p.List))
	for i, e := range p.List {
		switch {
		case e.EncryptedData == "fail":
			return nil, &platform.Error{Method: r.Method, Class: platform.ClassQuota, Result: 1017, Msg: "exceed quota limit"}
		case strings.HasPrefix(e.EncryptedData, "bad"):
			out[i] = res{BizID: e.BizID, ErrorCode: 7, ErrorMsg: "not yours"}
		default:
			out[i] = res{BizID: e.BizID, DecryptedData: "plain-" + e.EncryptedData, ErrorCode: 1}
		}
	}
	raw, _ := json.Marshal(map[string]any{"result": 1, "batchDecryptResultList": out})
	return &platform.Response{Result: 1, Raw: raw}, nil
}

func TestDecryptReceivers_BatchesInOrder(t *testing.T) {
	t.Parallel()
	in := make([]Ciphertext, 450)
	for i := range in {
		in[i] = Ciphertext{OrderID: int64(i + 1), Ciphertext: "c" + strconv.Itoa(i), Field: ReceiverPhone}
	}
	in[7].Ciphertext = "bad7"
	in[250].Ciphertext = "fail" // the third request (entries 200-299) fails whole
	d := &decryptCaller{}
	got := Shop{Caller: d, OpenID: "s"}.DecryptReceivers(context.Background(), in)
	if d.calls != 5 || len(got) != len(in) {
		t.Fatalf("%d calls, %d results; want 5 calls, 450 results", d.calls, len(got))
	}
	if d.maxInFlight < 2 || d.maxInFlight > securityInFlight {
		t.Errorf("%d requests in flight at most, want 2 to %d", d.maxInFlight, securityInFlight)
	}
	for i, r := range got {
		var ee *EntryError
		var pe *platform.Error
		switch {
		case i == 7:
			if !errors.As(r.Err, &ee) || ee.Code != 7 || ee.Msg != "not yours" || r.Value != "" {
				t.Errorf("entry 7: %+v", r)
			}
		case i >= 200 && i < 300:
			if !errors.As(r.Err, &pe) || pe.Class != platform.ClassQuota || r.Value != "" {
				t.Fatalf("entry %d of the failed request: %+v", i, r)
			}
		default:
			if r.Err != nil || r.Value != "plain-"+in[i].Ciphertext {
				t.Fatalf("entry %d: %+v", i, r)
			}
		}
	}
}

func TestDecryptReceivers_ShortAnswerIsUpstreamFailure(t *testing.T) {
	t.Parallel()
	c := callerFunc(func(_ context.Context, r *platform.Request) (*platform.Response, error) {
		return &platform.Response{Result: 1, Raw: []byte(`{"result":1,"batchDecryptResultList":[{"errorCode":1,"decryptedData":"x"}]}`)}, nil
	})
	got := Shop{Caller: c}.DecryptReceivers(context.Background(), []Ciphertext{{OrderID: 1, Ciphertext: "a"}, {OrderID: 2, Ciphertext: "b"}})
	var pe *platform.Error
	for i, r := range got {
		if !errors.As(r.Err, &pe) || pe.Class != platform.ClassUpstream || r.Value != "" {
			t.Errorf("entry %d: %+v", i, r)
		}
	}
}

type callerFunc func(context.Context, *platform.Request) (*platform.Response, error)

func (f callerFunc) Do(ctx context.Context, r *platform.Request) (*platform.Response, error) {
	return f(ctx, r)
}
