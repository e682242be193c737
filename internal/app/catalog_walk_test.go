package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog/catalogtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/schema/schematest"
)

// The acceptance of the schema catalog and the sandbox's answers
// (docs/sandbox.md, Every other catalogued API): every catalogued API,
// called through the gateway over gRPC against the embedded sandbox with
// params generated from the catalog, answers result 1 with an answer its
// response schema describes; the same walk with one required param left out
// is refused by the gateway, field by field, without reaching the sandbox.
func TestCatalogWalk(t *testing.T) {
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.Store.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	g := startGatewayWith(t, cfg, Options{})
	sb := g.info.Sandbox
	if err := sb.SetLimits(sandbox.Limits{APIQPS: -1, TestUserDailyCalls: -1, AppDailyCallsTest: -1}); err != nil {
		t.Fatal(err)
	}
	// A shop that granted every scope the app holds.
	user, err := sb.AddTestUser("catalog walk")
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.IssueCode(user.ID, catalog.Scopes())
	if err != nil {
		t.Fatal(err)
	}
	if st, body := getStatus(t, "http://"+g.info.HTTPAddr+"/oauth/callback?"+url.Values{"code": {code}}.Encode()); st != http.StatusOK {
		t.Fatalf("callback: %d %s", st, body)
	}

	client := gatewayv1.NewPlatformServiceClient(g.conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-kwaishop-wait", "true")
	call := func(method string, params json.RawMessage, files map[string][]byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		resp, err := client.Call(ctx, &gatewayv1.CallRequest{OpenId: user.OpenID, Method: method, ParamsJson: string(params), Files: files})
		if err != nil {
			return nil, err
		}
		if resp.GetBodyJson() == "" {
			return nil, errors.New("no body_json")
		}
		return []byte(resp.GetBodyJson()), nil
	}
	plan, err := schematest.Fixture{Shop: sb, TestUser: user.ID, Now: sb.Now(), Call: call}.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	all := catalog.All()
	if len(all) != 278 {
		t.Fatalf("%d catalogued APIs", len(all))
	}
	emulated := sandbox.EmulatedAPIs()
	start := time.Now()

	t.Run("every_api_answers_its_schema", func(t *testing.T) {
		walk(all, func(a *catalog.API) {
			body, err := call(a.Name, plan.Params(a), catalogtest.Files(a))
			if err != nil {
				t.Errorf("%s: %v", a.Name, err)
				return
			}
			err = catalogtest.CheckAnswer(a, body, catalogtest.CheckOptions{Closed: !slices.Contains(emulated, a.Name)})
			switch _, deviates := schematest.Deviations[a.Name]; {
			case deviates && err == nil:
				t.Errorf("%s follows its schema now: take it out of schematest.Deviations", a.Name)
			case !deviates && err != nil:
				t.Error(err)
			}
		})
	})

	t.Run("a_missing_required_param_never_reaches_the_sandbox", func(t *testing.T) {
		before := sb.Counters().Calls
		var mu sync.Mutex
		n := 0
		walk(all, func(a *catalog.API) {
			field := catalogtest.RequiredParam(a)
			if field == "" {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			_, err := call(a.Name, plan.Without(a, field), catalogtest.Files(a))
			_, br := statusOf(t, err, codes.InvalidArgument)
			if !violates(br, "params."+field) || len(br.GetFieldViolations()) != 1 {
				t.Errorf("%s without %s: %v", a.Name, field, br)
			}
		})
		after := sb.Counters().Calls
		for _, a := range all {
			if after[a.Name] != before[a.Name] {
				t.Errorf("%s reached the sandbox %d times", a.Name, after[a.Name]-before[a.Name])
			}
		}
		if n < 180 {
			t.Errorf("only %d APIs have a required param", n)
		}
	})
	t.Run("app_level_calls_need_no_shop", func(t *testing.T) {
		var noScope []*catalog.API
		for _, a := range all {
			if catalog.Scope(a.Name) == "" {
				noScope = append(noScope, a)
			}
		}
		if len(noScope) < 50 {
			t.Fatalf("%d APIs need no scope", len(noScope))
		}
		walk(noScope, func(a *catalog.API) {
			resp, err := client.Call(ctx, &gatewayv1.CallRequest{Method: a.Name, ParamsJson: string(plan.Params(a))})
			if err != nil {
				t.Errorf("%s without open_id: %v", a.Name, err)
				return
			}
			if err := catalogtest.CheckAnswer(a, []byte(resp.GetBodyJson()), catalogtest.CheckOptions{Closed: true}); err != nil {
				t.Error(err)
			}
		})
		_, err := client.Call(ctx, &gatewayv1.CallRequest{Method: "open.item.delete", ParamsJson: `{"kwaiItemId":1}`})
		statusOf(t, err, codes.PermissionDenied)
	})
	t.Logf("the walks of %d APIs took %v", len(all), time.Since(start).Round(time.Millisecond))
}

// walk runs f for every API, at most 8 at a time.
func walk(all []*catalog.API, f func(*catalog.API)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, a := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f(a)
		})
	}
	wg.Wait()
}
