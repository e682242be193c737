package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/internal/msgtest"
)

const vectorKey = "AAECAwQFBgcICQoLDA0ODw==" // bytes 0x00..0x0f (the key of ../testdata/message-vectors.json)

type vector struct {
	Name, MessageKey, Plaintext, Body string
}

func loadVectors(t *testing.T) map[string]vector {
	t.Helper()
	raw, err := os.ReadFile("../testdata/message-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Message []vector }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]vector{}
	for _, v := range f.Message {
		out[v.Name] = v
	}
	return out
}

// countObserver counts what the intake reports.
type countObserver struct {
	message.NopObserver
	received, duplicated atomic.Int64
}

func (o *countObserver) Received(context.Context, string, string)   { o.received.Add(1) }
func (o *countObserver) Duplicated(context.Context, string, string) { o.duplicated.Add(1) }

func mustKey(t testing.TB, app, b64 string) message.Key {
	t.Helper()
	k, err := message.NewKey(app, b64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIntake(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	k := mustKey(t, "ks123456789012345678", vectorKey)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The vectors are dated 2023-11-14 (createTime 1700000300000): judge
	// them by a clock of that day.
	vectorDay := func() time.Time { return time.UnixMilli(1700000300000).Add(time.Minute) }
	obs := &countObserver{}
	in := New(l, Config{Keys: []message.Key{k}, Logger: logger, Now: vectorDay, Observer: obs})
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	post := func(t *testing.T, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL, "text/plain;charset=utf-8", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	m2 := loadVectors(t)["M2-order-paid"]

	t.Run("stored_before_ack_and_once", func(t *testing.T) {
		for i := range 3 {
			code, body := post(t, m2.Body)
			if code != http.StatusOK || strings.TrimSpace(body) != `{"result":1}` {
				t.Fatalf("push %d: %d %s", i, code, body)
			}
			// Acknowledged means stored: readable at once.
			m, err := l.Get(msgtest.Ctx(t), "267_2345_147402")
			if err != nil {
				t.Fatalf("push %d acknowledged but not stored: %v", i, err)
			}
			if st, ok := m.Payload.(*message.OrderStatus); !ok || st.Status != 30 || m.Reconciled {
				t.Fatalf("stored %v", m)
			}
		}
		if n := msgtest.StreamMsgs(t, l); n != 1 {
			t.Fatalf("stream holds %d messages, want 1", n)
		}
		if st := in.Stats(); st.Stored != 1 || st.Duplicates != 2 {
			t.Fatalf("stats %+v", st)
		}
		if r, d := obs.received.Load(), obs.duplicated.Load(); r != 1 || d != 2 {
			t.Fatalf("observer: %d received, %d duplicated; want 1 and 2", r, d)
		}
	})

	t.Run("heartbeats_not_stored", func(t *testing.T) {
		for _, body := range []string{`{"test":true}`, k.Encrypt([]byte(`{"test":true}`)), loadVectors(t)["M1-heartbeat"].Body} {
			if code, resp := post(t, body); code != http.StatusOK || strings.TrimSpace(resp) != `{"result":1}` {
				t.Fatalf("heartbeat %q: %d %s", body, code, resp)
			}
		}
		if n := msgtest.StreamMsgs(t, l); n != 1 {
			t.Fatalf("stream holds %d messages after heartbeats, want 1", n)
		}
	})

	ct := m2.Body
	other := mustKey(t, "", "MDEyMzQ1Njc4OWFiY2RlZg==")
	refusals := []struct{ name, body, reason string }{
		{"undecryptable", "this is not base64!", message.ReasonNotBase64},
		{"truncated", ct[:len(ct)-12], message.ReasonUndecryptable},
		{"truncated_odd", ct[:len(ct)-3], message.ReasonNotBase64},
		{"truncated_blocks", other.Encrypt([]byte("x"))[:4], message.ReasonUndecryptable},
		{"wrong_key", other.Encrypt(msgtest.Plain("wk", "o", message.EventOrderCreated, map[string]any{"oid": 1, "createTime": 1})), message.ReasonUndecryptable},
		{"oversized", strings.Repeat("A", DefaultMaxBodyBytes+16), message.ReasonOversized},
		{"no_event_id", k.Encrypt([]byte(`{"bizId":1,"event":"kwaishop_order_addOrder"}`)), message.ReasonMalformed},
		{"clear_text_message", string(msgtest.Plain("ct", "o", message.EventOrderCreated, nil)), message.ReasonMalformed},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := in.Stats().Rejected[tc.reason]
			code, body := post(t, tc.body)
			var out struct {
				Result int    `json:"result"`
				Error  string `json:"error"`
			}
			if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &out) != nil || out.Result == 1 || out.Error != tc.reason {
				t.Fatalf("got %d %s, want 400 with error %s", code, body, tc.reason)
			}
			if n := msgtest.StreamMsgs(t, l); n != 1 {
				t.Fatalf("stream holds %d messages, want 1 (untouched)", n)
			}
			if got := in.Stats().Rejected[tc.reason]; got != before+1 {
				t.Fatalf("rejected[%s] = %d, want %d", tc.reason, got, before+1)
			}
			logMu.Lock()
			defer logMu.Unlock()
			if probe := tc.body[:min(len(tc.body), 40)]; strings.Contains(logs.String(), probe) {
				t.Fatalf("log contains the body")
			}
			if !strings.Contains(logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("no log line for %s", tc.reason)
			}
		})
	}
	t.Run("get_refused", func(t *testing.T) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
	})
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Pushes are judged by their own time: older than the de-duplication window
// → acknowledged, not stored, counted, logged; more than MaxFutureSkew
// ahead → refused; undated → stored.
func TestIntake_Freshness(t *testing.T) {
	l, _ := msgtest.OpenLog(t)
	k := mustKey(t, "ks1", vectorKey)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, nil))
	in := New(l, Config{Keys: []message.Key{k}, Logger: logger, Now: func() time.Time { return now }})
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	const marker = "payload-marker-e41"
	push := func(t *testing.T, eventID string, createTime any) (int, string) {
		t.Helper()
		m := map[string]any{"eventId": eventID, "openId": "shop1", "appKey": "ks1", "event": message.EventOrderNote, "info": `{"note":"` + marker + `"}`}
		if createTime != nil {
			m["createTime"] = createTime
		}
		plain, _ := json.Marshal(m)
		resp, err := http.Post(srv.URL, "text/plain;charset=utf-8", strings.NewReader(k.Encrypt(plain)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	stored := func(eventID string) bool {
		_, err := l.Get(msgtest.Ctx(t), eventID)
		return err == nil
	}
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	window := message.DefaultDedupeWindow

	for _, tc := range []struct {
		name       string
		createTime any
		code       int
		stored     bool
	}{
		{"stale", ms(-window - time.Millisecond), 200, false},
		{"stale_as_string", strconv.FormatInt(ms(-window-time.Hour), 10), 200, false},
		{"just_inside_window", ms(-window + time.Second), 200, true},
		{"future", ms(message.MaxFutureSkew + time.Second), 400, false},
		{"within_skew", ms(message.MaxFutureSkew - time.Second), 200, true},
		{"undated", nil, 200, true},
		{"seconds_not_millis", now.Unix(), 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := in.Stats()
			code, body := push(t, "fr-"+tc.name, tc.createTime)
			if code != tc.code || (code == 200) != (body == `{"result":1}`) {
				t.Fatalf("%d %s, want %d", code, body, tc.code)
			}
			if got := stored("fr-" + tc.name); got != tc.stored {
				t.Fatalf("stored = %v, want %v", got, tc.stored)
			}
			after := in.Stats()
			switch tc.name {
			case "stale", "stale_as_string":
				if after.Stale != before.Stale+1 || after.Stored != before.Stored {
					t.Fatalf("stats %+v → %+v", before, after)
				}
			case "future":
				if after.Rejected[message.ReasonFuture] != before.Rejected[message.ReasonFuture]+1 || !strings.Contains(body, `"error":"future"`) {
					t.Fatalf("stats %+v → %+v, body %s", before, after, body)
				}
			default:
				if after.Stored != before.Stored+1 {
					t.Fatalf("stats %+v → %+v", before, after)
				}
			}
		})
	}
	// A replayed stale push stays out however often it comes.
	for range 3 {
		if code, _ := push(t, "fr-stale", ms(-window-time.Minute)); code != 200 || stored("fr-stale") {
			t.Fatal("replayed stale push stored")
		}
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, `"level":"WARN","msg":"message: intake: stale push not stored`) || !strings.Contains(out, `"event_id":"fr-stale"`) {
		t.Fatalf("no WARN line for the stale push:\n%s", out)
	}
	if strings.Contains(out, marker) {
		t.Fatal("a push's payload reached the log")
	}
}
