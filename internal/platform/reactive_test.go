package platform

import (
	"context"
	"net/http"
	"sync"
	"testing"
)

// rotatingSource hands out "old" until invalidated, then "new".
type rotatingSource struct {
	mu          sync.Mutex
	tok         string
	invalidated []string
}

func (r *rotatingSource) Token(context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok, nil
}

func (r *rotatingSource) Invalidate(_ context.Context, rejected string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invalidated = append(r.invalidated, rejected)
	r.tok = "new"
	return nil
}

func TestClient_Do_ReactiveRefreshOnce(t *testing.T) {
	t.Parallel()
	for _, verb := range []string{"open.order.detail", "open.seller.order.goods.deliver"} {
		t.Run(verb, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t, func(w http.ResponseWriter, _ int, h hit) {
				if h.Params.Get("access_token") != "new" {
					writeJSON(w, 200, `{"result":28,"error_msg":"access_token expired"}`)
					return
				}
				writeJSON(w, 200, `{"result":1,"data":{"ok":true}}`)
			})
			src := &rotatingSource{tok: "old"}
			resp, err := newTestClient(t, up.URL).Do(context.Background(), &Request{Method: verb, Token: src})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Result != 1 || len(up.Hits()) != 2 {
				t.Fatalf("result %d after %d hits", resp.Result, len(up.Hits()))
			}
			if len(src.invalidated) != 1 || src.invalidated[0] != "old" {
				t.Fatalf("invalidated %v", src.invalidated)
			}
		})
	}
}

func TestClient_Do_ReactiveRefreshNotRepeated(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, okJSON(`{"result":28,"error_msg":"access_token expired"}`))
	src := &rotatingSource{tok: "old"}
	_, err := newTestClient(t, up.URL).Do(context.Background(), &Request{Method: "open.order.detail", Token: src})
	if !TokenRejected(err) {
		t.Fatalf("err = %v", err)
	}
	if len(up.Hits()) != 2 || len(src.invalidated) != 1 {
		t.Fatalf("%d hits, %d invalidations; want 2 and 1", len(up.Hits()), len(src.invalidated))
	}
}
