package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

// These tests replay probes of the routes added with several apps,
// SecurityService and item publishing against a running gateway
// (docs/security.md, section 5).

// Finding 1: SecurityService needs the decrypt group, but the same platform
// APIs were reachable through PlatformService.Call by any key of the
// platform group (every key without rpc= scopes), which answered the
// receivers' plaintext. Call now asks for the decrypt group for those APIs,
// whatever the case of the method name.
func TestHostileToday_CallNeedsDecryptGroup(t *testing.T) {
	const (
		keyPlain = "plain-secret-0123456789"  // every group but admin and decrypt
		keyBoth  = "both-secret-01234567890"  // rpc=platform and rpc=decrypt
		keyPlat  = "platform-secret-01234567" // rpc=platform only
	)
	g := startLimitedGateway(t, func(c *config.Config) {
		mustSet(c, "KWAISHOP_API_KEYS", "plain:"+keyPlain+",both:"+keyBoth+":rpc=platform:rpc=decrypt,plat:"+keyPlat+":rpc=platform")
	})
	openID := g.info.SandboxOpenID
	var o struct {
		Base struct {
			Oid json.Number `json:"oid"`
		} `json:"orderBaseInfo"`
		Address struct {
			EncryptedMobile string `json:"encryptedMobile"`
		} `json:"orderAddress"`
	}
	g.sandboxAdmin(t, http.MethodPost, "/sandbox/v1/orders", map[string]any{"openId": openID, "status": 30}, &o)
	if o.Address.EncryptedMobile == "" {
		t.Fatal("the sandbox order has no ciphertext: the test would prove nothing")
	}
	params := map[string]string{
		"open.order.decrypt.batch":      `{"batchDecryptList":[{"bizId":"` + o.Base.Oid.String() + `","encryptedData":"` + o.Address.EncryptedMobile + `"}]}`,
		"open.order.desensitise.batch":  `{"batchDesensitiseList":[{"bizId":"` + o.Base.Oid.String() + `","encryptedData":"` + o.Address.EncryptedMobile + `"}]}`,
		"open.order.search.index.batch": `{"indexParamList":[{"plainText":"13800000000","type":3}]}`,
		"open.order.Decrypt.batch":      `{"batchDecryptList":[{"bizId":"` + o.Base.Oid.String() + `","encryptedData":"` + o.Address.EncryptedMobile + `"}]}`,
	}
	plat := gatewayv1.NewPlatformServiceClient(g.conn)
	for method, p := range params {
		req := &gatewayv1.CallRequest{OpenId: openID, Method: method, ParamsJson: p, SkipValidation: true}
		body, _ := json.Marshal(map[string]any{"open_id": openID, "method": method, "params_json": p, "skip_validation": true})
		for _, key := range []string{keyPlain, keyPlat} {
			_, err := plat.Call(bearer(context.Background(), key), req)
			statusOf(t, err, codes.PermissionDenied)
			code, ans, _ := restWith(t, g, http.MethodPost, "/v1/call", string(body), map[string]string{"Authorization": "Bearer " + key})
			if code != http.StatusForbidden {
				t.Errorf("REST Call %s with key %.5s…: %d %v, want 403", method, key, code, ans)
			}
		}
	}
	// A key naming both groups still decrypts through Call.
	method := "open.order.decrypt.batch"
	resp, err := plat.Call(bearer(context.Background(), keyBoth), &gatewayv1.CallRequest{OpenId: openID, Method: method, ParamsJson: params[method]})
	if err != nil || resp.GetResult() != 1 || !strings.Contains(resp.GetBodyJson(), `"errorCode":1`) {
		t.Errorf("Call %s with rpc=platform,decrypt: %v %v", method, resp.GetResult(), err)
	}
}
