package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/codes"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// GET /v1/apis/{name} describes an API with its JSON Schemas, over REST and
// gRPC, to a key limited to one shop too; hostile names are 400, unknown
// APIs 404; ListApis filters.
func TestApis_Describe(t *testing.T) {
	g, _, _ := startFakePlatformGateway(t, nil)
	ctx := bearer(context.Background(), llKeyShop)

	code, raw := restKey(t, g, http.MethodGet, "/v1/apis/open.order.cursor.list", "", llKeyShop)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, raw)
	}
	var resp map[string]any
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	a := at(resp, "api")
	if at(a, "name") != "open.order.cursor.list" || at(a, "http_method") != "GET" ||
		at(a, "request_schema", "properties", "beginTime", "type") != "integer" ||
		at(a, "request_schema", "$schema") != "https://json-schema.org/draft/2020-12/schema" ||
		at(a, "response_schema", "properties", "data") == nil ||
		at(a, "limits", "app_qps") != float64(300) {
		t.Fatalf("description %s", raw)
	}
	if req, _ := at(a, "request_schema", "required").([]any); len(req) == 0 {
		t.Fatalf("no required members: %s", raw)
	}
	upr, err := gatewayv1.NewPlatformServiceClient(g.conn).GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.item.image.upload"})
	up := upr.GetApi()
	if err != nil || strings.Join(up.GetFileFields(), ",") != "imgBytes" || up.GetRequestSchema() == nil || up.GetLimits().GetMaxFileBytes() == 0 {
		t.Fatalf("gRPC %v %v", up, err)
	}

	for _, name := range []string{
		"open.order", "open..order.list", "OPEN.order.list", "open.order.list;rm", "open.order.list%20x",
		"open.order.%ff.list", "open.order.list%00", url.PathEscape(strings.Repeat("open.x.", 40) + "y"), "open.order.列表.get",
	} {
		code, raw := restKey(t, g, http.MethodGet, "/v1/apis/"+name, "", llKeyShop)
		if code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400: %s", name, code, raw)
		}
	}
	_, err = gatewayv1.NewPlatformServiceClient(g.conn).GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.order.list\x00"})
	statusOf(t, err, codes.InvalidArgument)
	if code, raw := restKey(t, g, http.MethodGet, "/v1/apis/open.no.such.api", "", llKeyShop); code != http.StatusNotFound {
		t.Fatalf("unknown API: HTTP %d %s", code, raw)
	}

	list := func(query string) (int, []string) {
		code, raw := restKey(t, g, http.MethodGet, "/v1/apis"+query, "", llKeyShop)
		var out struct {
			Apis []struct {
				Name          string         `json:"name"`
				RequestSchema map[string]any `json:"request_schema"`
			} `json:"apis"`
		}
		_ = json.Unmarshal(raw, &out)
		var names []string
		for _, a := range out.Apis {
			if a.RequestSchema != nil {
				t.Fatalf("ListApis carries schemas: %s", a.Name)
			}
			names = append(names, a.Name)
		}
		return code, names
	}
	if code, all := list(""); code != http.StatusOK || len(all) != 278 {
		t.Fatalf("HTTP %d, %d APIs", code, len(all))
	}
	if _, got := list("?uploads_only=true"); strings.Join(got, ",") != "open.item.image.upload" {
		t.Fatalf("uploads_only: %v", got)
	}
	if _, got := list("?prefix=open.order.&contains=Decrypt"); strings.Join(got, ",") != "open.order.decrypt.batch" {
		t.Fatalf("contains: %v", got)
	}
	if _, got := list("?contains=" + url.QueryEscape("上传商品图片")); len(got) == 0 || got[0] != "open.item.image.upload" {
		t.Fatalf("contains (description): %v", got)
	}
	if code, _ := list("?http_method=PUT"); code != http.StatusBadRequest {
		t.Fatalf("http_method=PUT: HTTP %d", code)
	}
}

// The dashboard's API table links each name to its description, which the
// page shows with the schemas.
func TestApis_DashboardLink(t *testing.T) {
	b := startBrowser(t)
	if b == nil {
		t.Skip(noBrowser)
	}
	g := startGateway(t)
	now := time.Now()
	if code, body := g.rest(t, http.MethodPost, "/v1/call", callBody(t, g.info.SandboxOpenID, "open.order.cursor.list", orderParams(now, 1))); code != http.StatusOK {
		t.Fatalf("call: %d %v", code, body)
	}
	// The stats reach the page after the next flush.
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := chromedp.Do(ctx, chromedp.Navigate("http://"+g.info.HTTPAddr+"/dashboard"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="true"]`))); err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#api-table a[data-api="open.order.cursor.list"]').length`))
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the API table shows no link to open.order.cursor.list")
		}
		time.Sleep(time.Second)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#api-table a[data-api="open.order.cursor.list"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#api-detail[data-loaded="true"]`))); err != nil {
		t.Fatal(err)
	}
	schema, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("api-request-schema")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema, `"beginTime"`) || !strings.Contains(schema, "2020-12") {
		t.Fatalf("request schema shown: %.300s", schema)
	}
	b.screenshot(t, ctx, "dashboard-api.png")
	if errs := b.jsErrors(); len(errs) > 0 {
		t.Fatalf("JavaScript errors: %v", errs)
	}
}
