package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// Probes of the message pipeline by hostile callers, replayed against a
// running gateway: acknowledgements of deliveries the caller was never given
// (forged, guessed, or another shop's), and pushes replayed after the
// de-duplication window.

const (
	hmKeyShopA = "hm-shop-a-secret-0123456789" // limited to hmShopA
	hmShopA    = "hm-shop-a"
	hmShopB    = "hm-shop-b"
)

// hmGateway is a sandbox-mode gateway with an all-shops key (keyAdmin) and
// a key limited to hmShopA.
func hmGateway(t *testing.T) *gateway {
	t.Helper()
	return startMessageGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*,shopa:"+hmKeyShopA+":shop="+hmShopA)
	})
}

// hmPlain is a platform push (an order note: de-duplicated by its event id)
// of the sandbox app for openID, dated created. marker goes into the
// business payload.
func hmPlain(g *gateway, eventID, openID, marker string, created time.Time) []byte {
	return hmPlainFor(g.info.Sandbox.Config().AppKey, eventID, openID, marker, created)
}

func hmPlainFor(appKey, eventID, openID, marker string, created time.Time) []byte {
	info, _ := json.Marshal(map[string]any{"oid": 1, "note": marker, "flag": 1, "updateTime": created.UnixMilli()})
	b, _ := json.Marshal(map[string]any{
		"eventId": eventID, "bizId": 1, "userId": 1, "openId": openID, "appKey": appKey,
		"event": message.EventOrderNote, "info": string(info), "createTime": created.UnixMilli(), "test": false,
	})
	return b
}

// hmEncrypt encrypts a push with the sandbox app's message key.
func hmEncrypt(t *testing.T, g *gateway, plain []byte) string {
	t.Helper()
	k, err := message.NewKey("", g.info.Sandbox.Config().MessageKey)
	if err != nil {
		t.Fatal(err)
	}
	return k.Encrypt(plain)
}

// hmPost posts a body to the real push path.
func hmPost(t *testing.T, g *gateway, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+g.info.HTTPAddr+PushPath, "text/plain;charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// hmAuth: the headers of a JSON request with key ("" = none).
func hmAuth(key string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return h
}

// hmPostJSON posts a JSON body without a key.
func hmPostJSON(t *testing.T, g *gateway, path, body string) (int, map[string]any) {
	t.Helper()
	code, out, _ := restWith(t, g, http.MethodPost, path, body, hmAuth(""))
	return code, out
}

func hmJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// hmPullAll pulls group over REST with key until every event id of want has
// a delivery; it returns the latest delivery of each.
func hmPullAll(t *testing.T, g *gateway, key string, group map[string]any, want []string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("group %v: %d of %d events delivered (missing ones were acknowledged, terminated or delayed by someone)", group["name"], len(got), len(want))
		}
		code, body, _ := restWith(t, g, http.MethodPost, "/v1/messages:pull", hmJSON(hmPullBody(group, map[string]any{"max_messages": 100, "wait": "5s"})), hmAuth(key))
		if code != http.StatusOK {
			t.Fatalf("pull %v: %d %v", group["name"], code, body)
		}
		for _, d := range anySlice(body["deliveries"]) {
			d := d.(map[string]any)
			id, _ := d["message"].(map[string]any)["event_id"].(string)
			if !slices.Contains(want, id) {
				t.Fatalf("group %v delivered %s, not one of %v", group["name"], id, want)
			}
			got[id] = d
		}
	}
	return got
}

// hmGuessedIDs makes n delivery ids the way the gateway made them before ids
// were bound to their receiver: the base64 of the JetStream ack subject, here
// with guessed stream sequences 1..n. When like is such an id, its subject
// is copied with only the group and the sequences replaced.
func hmGuessedIDs(group, like string, n int) []string {
	tmpl := []string{"$JS", "ACK", msglog.StreamName, group, "1", "0", "0", strconv.FormatInt(time.Now().UnixNano(), 10), "0"}
	if b, err := base64.RawURLEncoding.DecodeString(like); err == nil {
		if toks := strings.Split(string(b), "."); len(toks) == 9 && toks[0] == "$JS" && toks[1] == "ACK" {
			tmpl = toks
		}
	}
	out := make([]string, 0, n)
	for seq := 1; seq <= n; seq++ {
		toks := slices.Clone(tmpl)
		toks[3], toks[5], toks[6] = group, strconv.Itoa(seq), strconv.Itoa(seq)
		out = append(out, base64.RawURLEncoding.EncodeToString([]byte(strings.Join(toks, "."))))
	}
	return out
}

func hmGarbage(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, n := range []int{1, 16, 48, 300} {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, base64.RawURLEncoding.EncodeToString(b))
	}
	return append(out, "not a delivery id", "AAAA")
}

// hmTampered flips one character in the middle and the last of each id.
func hmTampered(ids []string) []string {
	var out []string
	for _, id := range ids {
		for _, i := range []int{len(id) / 2, len(id) - 1} {
			b := []byte(id)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			out = append(out, string(b))
		}
	}
	return out
}

func hmRESTViolation(body map[string]any) (field, desc string) {
	for _, d := range anySlice(body["details"]) {
		m, _ := d.(map[string]any)
		vs := anySlice(m["field_violations"])
		if vs == nil {
			vs = anySlice(m["fieldViolations"])
		}
		for _, v := range vs {
			fv, _ := v.(map[string]any)
			f, _ := fv["field"].(string)
			ds, _ := fv["description"].(string)
			return f, ds
		}
	}
	return "", ""
}

func hmGRPCViolation(st *status.Status) (field, desc string) {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField(), br.GetFieldViolations()[0].GetDescription()
		}
	}
	return "", ""
}

var hmKindNames = map[gatewayv1.AckKind]string{
	gatewayv1.AckKind_ACK_KIND_ACK: "ACK_KIND_ACK", gatewayv1.AckKind_ACK_KIND_NACK: "ACK_KIND_NACK",
	gatewayv1.AckKind_ACK_KIND_IN_PROGRESS: "ACK_KIND_IN_PROGRESS", gatewayv1.AckKind_ACK_KIND_TERMINATE: "ACK_KIND_TERMINATE",
}

// hmAck acknowledges ids of group with key over one transport and returns
// the refusal: its field violation, or ok when the ids were acknowledged.
func hmAck(t *testing.T, g *gateway, transport, key, group string, kind gatewayv1.AckKind, ids []string) (ok bool, field, desc string) {
	t.Helper()
	delay := time.Duration(0)
	if kind == gatewayv1.AckKind_ACK_KIND_NACK {
		delay = time.Hour
	}
	switch transport {
	case "rest":
		ack := map[string]any{"delivery_ids": ids, "kind": hmKindNames[kind]}
		if delay > 0 {
			ack["redeliver_delay"] = "3600s"
		}
		code, body, _ := restWith(t, g, http.MethodPost, "/v1/messages:ack", hmJSON(map[string]any{"group": group, "ack": ack}), hmAuth(key))
		switch {
		case code == http.StatusOK:
			if body["acknowledged"] != float64(len(ids)) {
				t.Fatalf("REST ack answered 200 %v for %d ids", body, len(ids))
			}
			return true, "", ""
		case code == http.StatusBadRequest:
			field, desc = hmRESTViolation(body)
			return false, field, desc
		}
		t.Fatalf("REST ack: %d %v, want 200 or 400", code, body)
	case "grpc":
		a := &gatewayv1.Acknowledgement{DeliveryIds: ids, Kind: kind}
		if delay > 0 {
			a.RedeliverDelay = durationpb.New(delay)
		}
		resp, err := gatewayv1.NewMessageServiceClient(g.conn).AckMessages(bearer(context.Background(), key), &gatewayv1.AckMessagesRequest{Group: group, Ack: a})
		st := status.Convert(err)
		switch st.Code() {
		case codes.OK:
			if resp.GetAcknowledged() != int32(len(ids)) {
				t.Fatalf("gRPC ack acknowledged %d of %d ids", resp.GetAcknowledged(), len(ids))
			}
			return true, "", ""
		case codes.InvalidArgument:
			field, desc = hmGRPCViolation(st)
			return false, field, desc
		}
		t.Fatalf("gRPC ack: %s %s, want OK or InvalidArgument", st.Code(), st.Message())
	}
	return false, "", ""
}

// TestHostileMessages_ForgedAcksChangeNothing replays finding 1: a key
// limited to shop A acknowledges (ACK, TERMINATE, NACK with a long delay)
// delivery ids of shop B's pending deliveries — guessed in the old id
// scheme, random garbage, tampered, and B's real ids obtained by an
// all-shops key — over REST and gRPC, and over its own Subscribe stream.
// Every such ack is refused with the same field violation, B's deliveries
// keep being redelivered, and no dead letter appears. The ids do work for
// their receiver (controls at the end).
func TestHostileMessages_ForgedAcksChangeNothing(t *testing.T) {
	g := hmGateway(t)
	hb := map[string]any{"name": "hm-b", "open_ids": []string{hmShopB}, "ack_timeout": "1s", "max_deliveries": 20}
	ha := map[string]any{"name": "hm-a", "open_ids": []string{hmShopA}, "start_position": "START_POSITION_BEGINNING"}
	// Create shop B's group before the pushes (start position NEW).
	if code, body, _ := restWith(t, g, http.MethodPost, "/v1/messages:pull", hmJSON(hmPullBody(hb, map[string]any{})), hmAuth(keyAdmin)); code != http.StatusOK {
		t.Fatalf("create group: %d %v", code, body)
	}
	now := time.Now()
	var bEvents, aEvents []string
	for i := range 6 {
		id := fmt.Sprintf("hm-b-%d", i)
		if code, body := hmPost(t, g, hmEncrypt(t, g, hmPlain(g, id, hmShopB, "b", now))); code != http.StatusOK {
			t.Fatalf("push %s: %d %s", id, code, body)
		}
		bEvents = append(bEvents, id)
	}
	for i := range 2 {
		id := fmt.Sprintf("hm-a-%d", i)
		if code, body := hmPost(t, g, hmEncrypt(t, g, hmPlain(g, id, hmShopA, "a", now))); code != http.StatusOK {
			t.Fatalf("push %s: %d %s", id, code, body)
		}
		aEvents = append(aEvents, id)
	}

	// The refusal must not tell a forged id from another shop's real one.
	var refusals []string
	refused := func(t *testing.T, what string, ok bool, field, desc string) {
		t.Helper()
		if ok {
			t.Fatalf("%s: acknowledged", what)
		}
		if !strings.HasPrefix(field, "ack.delivery_ids") || desc == "" {
			t.Fatalf("%s: refused without a field violation on ack.delivery_ids (got %q: %q)", what, field, desc)
		}
		refusals = append(refusals, desc)
	}

	prevCount := map[string]float64{}
	var last map[string]map[string]any
	rounds := []struct {
		transport string
		kind      gatewayv1.AckKind
	}{
		{"rest", gatewayv1.AckKind_ACK_KIND_TERMINATE},
		{"grpc", gatewayv1.AckKind_ACK_KIND_TERMINATE},
		{"rest", gatewayv1.AckKind_ACK_KIND_ACK},
		{"grpc", gatewayv1.AckKind_ACK_KIND_ACK},
		{"rest", gatewayv1.AckKind_ACK_KIND_NACK},
		{"grpc", gatewayv1.AckKind_ACK_KIND_IN_PROGRESS},
	}
	for i, r := range rounds {
		// B's deliveries are pending (delivered again since the last round).
		last = hmPullAll(t, g, keyAdmin, hb, bEvents)
		var valid []string
		for _, ev := range bEvents {
			d := last[ev]
			if c := d["delivery_count"].(float64); c <= prevCount[ev] {
				t.Fatalf("round %d: %s delivery count %v, not after %v", i, ev, c, prevCount[ev])
			}
			prevCount[ev] = d["delivery_count"].(float64)
			valid = append(valid, d["delivery_id"].(string))
		}
		what := r.transport + " " + hmKindNames[r.kind]
		ok, f, d := hmAck(t, g, r.transport, hmKeyShopA, "hm-b", r.kind, hmGuessedIDs("hm-b", valid[0], 40))
		refused(t, what+" guessed ids", ok, f, d)
		ok, f, d = hmAck(t, g, r.transport, hmKeyShopA, "hm-b", r.kind, hmGarbage(t))
		refused(t, what+" garbage", ok, f, d)
		ok, f, d = hmAck(t, g, r.transport, hmKeyShopA, "hm-b", r.kind, hmTampered(valid))
		refused(t, what+" tampered ids", ok, f, d)
		ok, f, d = hmAck(t, g, r.transport, hmKeyShopA, "hm-b", r.kind, valid)
		refused(t, what+" shop B's real ids", ok, f, d)
		ok, f, d = hmAck(t, g, r.transport, hmKeyShopA, "hm-b", r.kind, valid[:1])
		refused(t, what+" one of shop B's real ids", ok, f, d)
	}
	for _, d := range refusals {
		if d != refusals[0] {
			t.Fatalf("refusals differ (%q vs %q): the answer tells forged ids from other shops' ids", refusals[0], d)
		}
	}
	for _, d := range refusals {
		if strings.Contains(d, hmShopB) {
			t.Fatalf("refusal names shop B: %q", d)
		}
	}

	t.Run("own_subscribe_stream", func(t *testing.T) {
		// Shop A's own subscription may not carry acks of anything it was
		// not given either: B's real ids, or guessed ids of its own group.
		for name, ids := range map[string][]string{
			"b_real_ids":        {last[bEvents[0]]["delivery_id"].(string)},
			"guessed_own_group": hmGuessedIDs("hm-s", "", 40),
		} {
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(bearer(context.Background(), hmKeyShopA))
				defer cancel()
				stream, err := gatewayv1.NewMessageServiceClient(g.conn).Subscribe(ctx)
				if err != nil {
					t.Fatal(err)
				}
				open := &gatewayv1.SubscribeOpen{Group: "hm-s", GroupOptions: &gatewayv1.ConsumerGroupOptions{OpenIds: []string{hmShopA},
					StartPosition: gatewayv1.StartPosition_START_POSITION_BEGINNING}}
				if err := stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Open{Open: open}}); err != nil {
					t.Fatal(err)
				}
				if first, err := stream.Recv(); err != nil || first.GetSubscribed() == nil {
					t.Fatalf("subscribe: %v %v", first, err)
				}
				if err := stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Ack{Ack: &gatewayv1.Acknowledgement{
					DeliveryIds: ids, Kind: gatewayv1.AckKind_ACK_KIND_TERMINATE}}}); err != nil {
					t.Fatal(err)
				}
				for {
					r, err := stream.Recv()
					if err == nil {
						if ev := r.GetDelivery().GetMessage().GetEventId(); !slices.Contains(aEvents, ev) {
							t.Fatalf("shop A's subscription delivered %s", ev)
						}
						continue
					}
					st := status.Convert(err)
					f, d := hmGRPCViolation(st)
					if st.Code() != codes.InvalidArgument || !strings.HasPrefix(f, "ack.delivery_ids") || d != refusals[0] {
						t.Fatalf("stream ended with %s %q (%s: %s), want InvalidArgument and the same refusal as AckMessages", st.Code(), st.Message(), f, d)
					}
					return
				}
			})
		}
	})

	t.Run("shop_key_scoped_on_pull_and_subscribe", func(t *testing.T) {
		client := gatewayv1.NewMessageServiceClient(g.conn)
		ctxA := bearer(context.Background(), hmKeyShopA)
		for name, tc := range map[string]struct {
			group string
			opts  *gatewayv1.ConsumerGroupOptions
			rest  int
			code  codes.Code
		}{
			"other_shop":        {"hm-b", &gatewayv1.ConsumerGroupOptions{OpenIds: []string{hmShopB}}, http.StatusForbidden, codes.PermissionDenied},
			"all_shops":         {"hm-b", nil, http.StatusForbidden, codes.PermissionDenied},
			"own_shop_in_b_grp": {"hm-b", &gatewayv1.ConsumerGroupOptions{OpenIds: []string{hmShopA}}, http.StatusBadRequest, codes.FailedPrecondition},
			"both_shops":        {"hm-new", &gatewayv1.ConsumerGroupOptions{OpenIds: []string{hmShopA, hmShopB}}, http.StatusForbidden, codes.PermissionDenied},
		} {
			t.Run(name, func(t *testing.T) {
				raw, _ := protojson.Marshal(&gatewayv1.PullMessagesRequest{Group: tc.group, GroupOptions: tc.opts})
				code, body, _ := restWith(t, g, http.MethodPost, "/v1/messages:pull", string(raw), hmAuth(hmKeyShopA))
				if code != tc.rest && (tc.code != codes.FailedPrecondition || code != http.StatusPreconditionFailed) {
					t.Fatalf("REST pull: %d %v, want %d", code, body, tc.rest)
				}
				_, err := client.PullMessages(ctxA, &gatewayv1.PullMessagesRequest{Group: tc.group, GroupOptions: tc.opts})
				if st := status.Convert(err); st.Code() != tc.code {
					t.Fatalf("gRPC pull: %s %s, want %s", st.Code(), st.Message(), tc.code)
				}
				stream, err := client.Subscribe(ctxA)
				if err != nil {
					t.Fatal(err)
				}
				_ = stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Open{Open: &gatewayv1.SubscribeOpen{Group: tc.group, GroupOptions: tc.opts}}})
				_, err = stream.Recv()
				if st := status.Convert(err); st.Code() != tc.code {
					t.Fatalf("gRPC subscribe: %s %s, want %s", st.Code(), st.Message(), tc.code)
				}
			})
		}
		for name, do := range map[string]func() error{
			"list_dead_letters": func() error {
				_, err := client.ListDeadLetters(ctxA, &gatewayv1.ListDeadLettersRequest{Group: "hm-b"})
				return err
			},
			"replay": func() error {
				_, err := client.ReplayMessages(ctxA, &gatewayv1.ReplayMessagesRequest{Group: "hm-b"})
				return err
			},
			"get_b_message": func() error {
				_, err := client.GetMessage(ctxA, &gatewayv1.GetMessageRequest{EventId: bEvents[0]})
				return err
			},
			"requeue_dead_letter": func() error {
				_, err := client.RequeueDeadLetter(ctxA, &gatewayv1.RequeueDeadLetterRequest{Id: 1})
				return err
			},
			"list_b_messages": func() error {
				_, err := client.ListMessages(ctxA, &gatewayv1.ListMessagesRequest{OpenIds: []string{hmShopB}})
				return err
			},
		} {
			if st := status.Convert(do()); st.Code() != codes.PermissionDenied {
				t.Errorf("%s with shop A's key: %s %s, want PermissionDenied", name, st.Code(), st.Message())
			}
		}
		resp, err := client.ListMessages(ctxA, &gatewayv1.ListMessagesRequest{OpenIds: []string{hmShopA}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range resp.GetMessages() {
			if m.GetOpenId() != hmShopA {
				t.Fatalf("shop A's listing holds %s of %s", m.GetEventId(), m.GetOpenId())
			}
		}
	})

	t.Run("receivers_ids_still_work", func(t *testing.T) {
		// Shop A acknowledges its own deliveries over both transports, but
		// not under another group's name.
		own := hmPullAll(t, g, hmKeyShopA, ha, aEvents)
		idA0, idA1 := own[aEvents[0]]["delivery_id"].(string), own[aEvents[1]]["delivery_id"].(string)
		ok, f, _ := hmAck(t, g, "rest", hmKeyShopA, "hm-b", gatewayv1.AckKind_ACK_KIND_ACK, []string{idA0})
		if ok || !strings.HasPrefix(f, "ack.delivery_ids") {
			t.Fatalf("shop A's id acknowledged under group hm-b (ok %v, field %q)", ok, f)
		}
		if ok, f, d := hmAck(t, g, "rest", hmKeyShopA, "hm-a", gatewayv1.AckKind_ACK_KIND_ACK, []string{idA0}); !ok {
			t.Fatalf("shop A's own id over REST refused: %s %s", f, d)
		}
		if ok, f, d := hmAck(t, g, "grpc", hmKeyShopA, "hm-a", gatewayv1.AckKind_ACK_KIND_ACK, []string{idA1}); !ok {
			t.Fatalf("shop A's own id over gRPC refused: %s %s", f, d)
		}
	})

	// B's deliveries were never acknowledged, terminated or delayed: they are
	// delivered once more, and the all-shops key can acknowledge them.
	final := hmPullAll(t, g, keyAdmin, hb, bEvents)
	var ids []string
	for _, ev := range bEvents {
		ids = append(ids, final[ev]["delivery_id"].(string))
	}
	if ok, f, d := hmAck(t, g, "grpc", keyAdmin, "hm-b", gatewayv1.AckKind_ACK_KIND_ACK, ids); !ok {
		t.Fatalf("the receiver's ack refused: %s %s", f, d)
	}
	code, body, _ := restWith(t, g, http.MethodPost, "/v1/messages:pull", hmJSON(hmPullBody(hb, map[string]any{"wait": "2s"})), hmAuth(keyAdmin))
	if code != http.StatusOK || len(anySlice(body["deliveries"])) != 0 {
		t.Fatalf("after the receiver's ack: %d %v", code, body)
	}
	dls, err := gatewayv1.NewMessageServiceClient(g.conn).ListDeadLetters(bearer(context.Background(), keyAdmin), &gatewayv1.ListDeadLettersRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dls.GetDeadLetters()); n != 0 {
		t.Fatalf("%d dead letters after refused acks (first: %v)", n, dls.GetDeadLetters()[0])
	}
	logs := g.logs.String()
	if strings.Contains(logs, hmKeyShopA) || strings.Contains(logs, keyAdmin) {
		t.Fatal("an API key secret reached the log")
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Fatalf("a refused acknowledgement was logged as a server error: %s", line)
		}
	}
}

// TestHostileMessages_StalePushKeptOut replays finding 8: an authentic push
// (encrypted with the app's message key) whose own time is older than the
// de-duplication window is answered {"result":1} (the platform must not
// retry it) but is neither stored nor delivered; it is counted and logged
// without its payload. A push dated far in the future is refused (400, the
// platform retries). A fresh push still goes through.
func TestHostileMessages_StalePushKeptOut(t *testing.T) {
	g := startMessageGateway(t, nil)
	window := config.Defaults().Message.DedupeWindow
	const shop, marker = "hm-shop-old", "hm-payload-marker-7f3a"
	group := map[string]any{"name": "hm-old", "open_ids": []string{shop}, "start_position": "START_POSITION_BEGINNING"}
	if code, body := hmPostJSON(t, g, "/v1/messages:pull", hmJSON(hmPullBody(group, map[string]any{}))); code != http.StatusOK {
		t.Fatalf("create group: %d %v", code, body)
	}
	now := time.Now()
	stale := hmEncrypt(t, g, hmPlain(g, "hm-stale", shop, marker, now.Add(-window-time.Minute)))
	for i := range 3 { // replayed again and again
		code, body := hmPost(t, g, stale)
		if code != http.StatusOK || strings.TrimSpace(body) != `{"result":1}` {
			t.Fatalf("stale push %d: %d %s, want 200 {\"result\":1}", i, code, body)
		}
		if code, body := g.rest(t, http.MethodGet, "/v1/messages/hm-stale", ""); code != http.StatusNotFound {
			t.Fatalf("stale push %d stored: GET %d %v, want 404", i, code, body)
		}
	}
	code, body := hmPost(t, g, hmEncrypt(t, g, hmPlain(g, "hm-future", shop, marker, now.Add(time.Hour))))
	if code != http.StatusBadRequest || strings.Contains(body, `"result":1`) || !strings.Contains(body, "future") {
		t.Fatalf("push from the future: %d %s, want 400", code, body)
	}
	// Controls: a fresh push and one just inside the window are stored.
	for _, p := range []struct {
		id string
		at time.Time
	}{{"hm-fresh", now}, {"hm-old-but-in-window", now.Add(-window + 5*time.Minute)}} {
		if code, body := hmPost(t, g, hmEncrypt(t, g, hmPlain(g, p.id, shop, marker, p.at))); code != http.StatusOK {
			t.Fatalf("push %s: %d %s", p.id, code, body)
		}
	}

	for _, id := range []string{"hm-stale", "hm-future"} {
		if code, body := g.rest(t, http.MethodGet, "/v1/messages/"+id, ""); code != http.StatusNotFound {
			t.Fatalf("GET %s: %d %v, want 404 (not stored)", id, code, body)
		}
	}
	_, list := g.rest(t, http.MethodGet, "/v1/messages?page_size=500", "")
	var stored []string
	for _, m := range anySlice(list["messages"]) {
		stored = append(stored, m.(map[string]any)["event_id"].(string))
	}
	if slices.Contains(stored, "hm-stale") || slices.Contains(stored, "hm-future") || !slices.Contains(stored, "hm-fresh") || !slices.Contains(stored, "hm-old-but-in-window") {
		t.Fatalf("stream holds %v", stored)
	}
	// Not pullable: the group sees only the two stored ones.
	hmPullAllOpen(t, g, group, []string{"hm-fresh", "hm-old-but-in-window"})
	if code, body := hmPostJSON(t, g, "/v1/messages:pull", hmJSON(hmPullBody(group, map[string]any{"wait": "1s"}))); code != http.StatusOK || len(anySlice(body["deliveries"])) != 0 {
		t.Fatalf("pull after the stored ones: %d %v", code, body)
	}

	exp := g.scrape(t)
	if n := metricSum(exp, "kwaishop_messages_refused_total", map[string]string{"reason": "stale"}); n != 3 {
		t.Fatalf("stale pushes counted %v, want 3\n%s", n, grepLines(exp, "refused"))
	}
	if n := metricSum(exp, "kwaishop_messages_refused_total", map[string]string{"reason": "future"}); n != 1 {
		t.Fatalf("pushes from the future counted %v, want 1\n%s", n, grepLines(exp, "refused"))
	}
	logs := g.logs.String()
	var warned bool
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "stale") {
			warned = true
		}
	}
	if !warned {
		t.Fatal("no WARN log line for the stale push")
	}
	if strings.Contains(logs, marker) || strings.Contains(logs, stale[:32]) {
		t.Fatal("the log holds a push's payload or body")
	}
}

// hmPullBody is a pull request body for a group written as one map (its
// "name" and its settings): the name goes to "group", the settings to
// "group_options", beside the other fields in more.
func hmPullBody(group, more map[string]any) map[string]any {
	opts := map[string]any{}
	for k, v := range group {
		if k != "name" {
			opts[k] = v
		}
	}
	more["group"] = group["name"]
	if len(opts) > 0 {
		more["group_options"] = opts
	}
	return more
}

// hmPullAllOpen is hmPullAll on a gateway without keys, acknowledging what
// it receives.
func hmPullAllOpen(t *testing.T, g *gateway, group map[string]any, want []string) {
	t.Helper()
	got := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("only %v of %v delivered", got, want)
		}
		code, body := hmPostJSON(t, g, "/v1/messages:pull", hmJSON(hmPullBody(group, map[string]any{"max_messages": 100, "wait": "5s"})))
		if code != http.StatusOK {
			t.Fatalf("pull: %d %v", code, body)
		}
		var ids []string
		for _, d := range anySlice(body["deliveries"]) {
			d := d.(map[string]any)
			ev := d["message"].(map[string]any)["event_id"].(string)
			if !slices.Contains(want, ev) {
				t.Fatalf("delivered %s, want only %v", ev, want)
			}
			got[ev] = true
			ids = append(ids, d["delivery_id"].(string))
		}
		if len(ids) > 0 {
			if code, body := hmPostJSON(t, g, "/v1/messages:ack", hmJSON(map[string]any{"group": group["name"], "ack": map[string]any{"delivery_ids": ids}})); code != http.StatusOK {
				t.Fatalf("ack: %d %v", code, body)
			}
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestHostileMessages_IDsAcrossReplicas: two replicas sharing one NATS seal
// and check delivery ids with the same key (an id from one is acknowledged
// on the other), and the shop check holds on either.
func TestHostileMessages_IDsAcrossReplicas(t *testing.T) {
	msgKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	api, gws, _ := securedReplicas(t, 2, sandbox.Config{Seed: 11}, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "admin:"+keyAdmin+":rpc=*,shopa:"+hmKeyShopA+":shop="+hmShopA)
		mustSet(c, "KWAISHOP_MESSAGE_KEY", msgKey)
	})
	appKey := api.sb.Config().AppKey
	k, err := message.NewKey(appKey, msgKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, p := range []struct{ id, shop string }{{"hx-a", hmShopA}, {"hx-b", hmShopB}} {
		if code, body := hmPost(t, gws[0], k.Encrypt(hmPlainFor(appKey, p.id, p.shop, "x", now))); code != http.StatusOK {
			t.Fatalf("push %s: %d %s", p.id, code, body)
		}
	}
	ga := map[string]any{"name": "hx-a", "open_ids": []string{hmShopA}, "start_position": "START_POSITION_BEGINNING"}
	gb := map[string]any{"name": "hx-b", "open_ids": []string{hmShopB}, "start_position": "START_POSITION_BEGINNING", "ack_timeout": "1s"}
	// Pulled on replica 0, acknowledged on replica 1 (both transports).
	da := hmPullAll(t, gws[0], hmKeyShopA, ga, []string{"hx-a"})["hx-a"]
	if ok, f, d := hmAck(t, gws[1], "grpc", hmKeyShopA, "hx-a", gatewayv1.AckKind_ACK_KIND_ACK, []string{da["delivery_id"].(string)}); !ok {
		t.Fatalf("shop A's id from replica 0 refused on replica 1: %s %s", f, d)
	}
	// Shop B's delivery, pulled on replica 1 by the all-shops key, is not
	// shop A's to acknowledge on either replica.
	db := hmPullAll(t, gws[1], keyAdmin, gb, []string{"hx-b"})["hx-b"]
	for i, g := range gws {
		for _, tr := range []string{"rest", "grpc"} {
			if ok, f, _ := hmAck(t, g, tr, hmKeyShopA, "hx-b", gatewayv1.AckKind_ACK_KIND_TERMINATE, []string{db["delivery_id"].(string)}); ok || !strings.HasPrefix(f, "ack.delivery_ids") {
				t.Fatalf("replica %d, %s: shop A terminated shop B's delivery (ok %v, field %q)", i, tr, ok, f)
			}
		}
	}
	again := hmPullAll(t, gws[0], keyAdmin, gb, []string{"hx-b"})["hx-b"]
	if again["delivery_count"].(float64) < 2 {
		t.Fatalf("shop B's delivery not redelivered: %v", again)
	}
	if ok, f, d := hmAck(t, gws[1], "rest", keyAdmin, "hx-b", gatewayv1.AckKind_ACK_KIND_ACK, []string{again["delivery_id"].(string)}); !ok {
		t.Fatalf("the receiver's id from replica 0 refused on replica 1: %s %s", f, d)
	}
}
