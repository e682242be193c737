package bench

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// The direct client against the real sandbox over HTTP: the physical-limit
// baseline must be a correct platform client, or the comparison is void.
func TestDirect_against_sandbox(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	ctx := context.Background()
	cfg := sb.Config()
	admin := &Admin{BaseURL: srv.URL, HTTP: srv.Client()}
	if err := admin.Unlimited(ctx, "open.shop.info.get"); err != nil {
		t.Fatal(err)
	}
	if scopes, err := admin.Scopes(ctx); err != nil || len(scopes) == 0 {
		t.Fatalf("Scopes = %v, %v", scopes, err)
	}
	tok, err := admin.AccessToken(ctx, cfg.AppKey, cfg.AppSecret, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, secret, token, method string
		wantErr                     string
	}{
		{"ok", cfg.SignSecret, tok, "open.shop.info.get", ""},
		{"orders", cfg.SignSecret, tok, "open.order.cursor.list", "result 804001"}, // param {} lacks the window
		{"bad_signature", "wrong", tok, "open.shop.info.get", "result 27"},
		{"bad_token", cfg.SignSecret, "nope", "open.shop.info.get", "result 28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Direct{BaseURL: srv.URL, AppKey: cfg.AppKey, SignSecret: tc.secret, AccessToken: tc.token, HTTP: srv.Client()}
			err := d.Call(ctx, tc.method, []byte("{}"))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	calls, err := admin.Counters(ctx)
	if err != nil || calls["open.shop.info.get"] == 0 {
		t.Fatalf("Counters = %v, %v", calls, err)
	}
	users, err := admin.TestUsers(ctx)
	if err != nil || len(users) != 1 || users[0].OpenID == "" {
		t.Fatalf("TestUsers = %+v, %v", users, err)
	}
}

// EncryptPush (the platform's side) must produce what the gateway's intake
// decodes.
func TestEncryptPush_decodes_with_the_intake(t *testing.T) {
	t.Parallel()
	const b64Key = "MDEyMzQ1Njc4OWFiY2RlZg==" // "0123456789abcdef"
	for _, plain := range []string{`{"eventId":"e1","event":"kwaishop_order_paySuccess","appKey":"ks1"}`, `{"test":true}`, `{}`} {
		body, err := EncryptPush(b64Key, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		key, err := message.NewKey("ks1", b64Key)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := message.Decode([]message.Key{key}, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", plain, err)
		}
		if !json.Valid(got) || string(got) != plain {
			t.Fatalf("decoded %q, want %q", got, plain)
		}
	}
	if _, err := EncryptPush("not base64!", []byte("{}")); err == nil {
		t.Fatal("no error for a bad key")
	}
}
