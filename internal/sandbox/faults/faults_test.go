package faults_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

func TestFaults_EachKind(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{})
	tok := c.Authorize(1).AccessToken
	const m = "open.shop.info.get"
	inject := func(f map[string]any) sandbox.Fault {
		t.Helper()
		var out sandbox.Fault
		if st := c.Admin("POST", "/sandbox/v1/faults", f, &out); st != http.StatusCreated || out.ID == 0 {
			t.Fatalf("inject %v: %d %+v", f, st, out)
		}
		return out
	}
	ok := func() {
		t.Helper()
		c.MustCall(tok, m, nil, nil)
	}

	t.Run("result", func(t *testing.T) {
		inject(map[string]any{"method": m, "count": 2, "kind": "result", "result": 1016, "errorMsg": "Exceed qps limit, injected"})
		for range 2 {
			if r := c.Call(tok, m, nil); r.Result != platform.ResultQPSExceeded || r.ErrorMsg != "Exceed qps limit, injected" || r.RequestID == "" {
				t.Fatalf("got %+v", r)
			}
		}
		ok()
		inject(map[string]any{"method": m, "count": 1, "kind": "result", "result": 24}) // errorMsg from the code table
		if r := c.Call(tok, m, nil); r.Result != 24 || r.ErrorMsg != platform.MsgRevoked {
			t.Fatalf("got %+v", r)
		}
		ok()
	})

	t.Run("http5xx_any_api", func(t *testing.T) {
		inject(map[string]any{"count": 1, "kind": "http5xx"})
		inject(map[string]any{"count": 1, "kind": "http5xx", "httpStatus": 502})
		for _, want := range []int{503, 502} {
			st, ct, body, err := c.RawCall(tok, "open.user.seller.get", nil)
			if err != nil || st != want || !strings.HasPrefix(ct, "text/plain") || !strings.Contains(body, "fault injection") {
				t.Fatalf("got %d %q %q %v, want %d", st, ct, body, err, want)
			}
		}
		ok()
	})

	t.Run("delay", func(t *testing.T) {
		inject(map[string]any{"method": m, "count": 1, "kind": "delay", "delayMs": 30})
		start := time.Now()
		ok() // answered normally, after the delay
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
	})

	t.Run("malformed", func(t *testing.T) {
		inject(map[string]any{"method": m, "count": 1, "kind": "malformed"})
		st, _, body, err := c.RawCall(tok, m, nil)
		var v any
		if err != nil || st != 200 || json.Unmarshal([]byte(body), &v) == nil {
			t.Fatalf("got %d %q %v: want HTTP 200 with broken JSON", st, body, err)
		}
		ok()
	})

	t.Run("drop", func(t *testing.T) {
		inject(map[string]any{"method": m, "count": 1, "kind": "drop"})
		// A fresh connection: net/http retries a GET once by itself when a
		// reused keep-alive connection closes without an answer.
		c2 := *c
		c2.HC = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if _, _, _, err := c2.RawCall(tok, m, nil); err == nil {
			t.Fatal("dropped call got an answer")
		}
		ok()
	})

	t.Run("until_cleared", func(t *testing.T) {
		f := inject(map[string]any{"method": m, "kind": "result", "result": 802001})
		for range 3 {
			if r := c.Call(tok, m, nil); r.Result != 802001 {
				t.Fatalf("got %+v", r)
			}
		}
		var list struct {
			Faults []sandbox.Fault `json:"faults"`
		}
		c.Admin("GET", "/sandbox/v1/faults", nil, &list)
		if len(list.Faults) != 1 || list.Faults[0].ID != f.ID || list.Faults[0].Hits != 3 || list.Faults[0].Count != 0 {
			t.Fatalf("faults: %+v", list)
		}
		var cleared map[string]int
		if st := c.Admin("DELETE", "/sandbox/v1/faults", nil, &cleared); st != 200 || cleared["cleared"] != 1 {
			t.Fatalf("clear: %d %v", st, cleared)
		}
		ok()
	})

	t.Run("oauth_endpoints", func(t *testing.T) {
		inject(map[string]any{"method": "oauth2.access_token", "count": 1, "kind": "result", "result": platform.ResultOAuthServerError})
		inject(map[string]any{"count": 0, "kind": "result", "result": 802001}) // every API: not OAuth
		var code struct {
			Code string `json:"code"`
		}
		c.Admin("POST", "/sandbox/v1/codes", map[string]any{"testUser": 1}, &code)
		if tr := c.Exchange(code.Code); tr.Result != platform.ResultOAuthServerError || tr.Error != "server_error" {
			t.Fatalf("injected token error: %+v", tr)
		}
		tr := c.Exchange(code.Code) // the code was not used up by the fault
		if tr.Result != 1 {
			t.Fatalf("exchange after the fault: %+v", tr)
		}
		if r := c.Call(tr.AccessToken, m, nil); r.Result != 802001 {
			t.Fatalf("every-API fault: %+v", r)
		}
		s.ClearFaults()
		if _, err := s.InjectFault(sandbox.Fault{Method: "oauth2.refresh_token", Count: 1, Kind: sandbox.FaultDrop}); err != nil {
			t.Fatal(err)
		}
		resp, err := c.HC.PostForm(c.Base+"/oauth2/refresh_token", url.Values{
			"app_id": {c.AppKey}, "app_secret": {c.AppSecret}, "grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		})
		if err == nil {
			resp.Body.Close()
			t.Fatal("dropped refresh got an answer")
		}
		if r2 := c.Refresh(tr.RefreshToken); r2.Result != 1 { // the dropped request did not rotate the token
			t.Fatalf("refresh after the drop: %+v", r2)
		}
		if len(s.Faults()) != 0 || s.Counters().Faults < 10 {
			t.Fatalf("faults %+v, counters %+v", s.Faults(), s.Counters())
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, f := range []map[string]any{
			{"kind": "boom"},
			{"kind": "result"},
			{"kind": "result", "result": 1},
			{"kind": "http5xx", "httpStatus": 404},
			{"kind": "delay"},
			{"kind": "delay", "delayMs": 600000},
			{"kind": "drop", "method": "Not An API"},
			{"kind": "drop", "count": -1},
			{"kind": "drop", "extra": true},
		} {
			if st := c.Admin("POST", "/sandbox/v1/faults", f, nil); st != http.StatusBadRequest {
				t.Errorf("%v: %d", f, st)
			}
		}
	})
}
