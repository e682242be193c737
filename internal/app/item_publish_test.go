package app

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog/catalogtest"
)

// Item publishing end to end (docs/items.md): the seeded category tree of
// the sandbox (internal/sandbox/shop/catalog.go), over gRPC and REST.

// The sandbox's leaf 连衣裙 and its properties.
const (
	pubLeaf     = 1110
	pubBrand    = 10   // RADIO, required
	pubMaterial = 11   // CHECKBOX, required, at most 3
	pubArtNo    = 13   // TEXT, 1-30
	pubOrigin   = 22   // a property of 坚果炒货, not of 连衣裙
	brandShan   = 1001 // 山川
	cotton      = 1101 // 棉
	silk        = 1103 // 真丝
)

func pubRequest(openID, requestID string, img string) *gatewayv1.CreateItemRequest {
	return &gatewayv1.CreateItemRequest{
		OpenId: openID, CategoryId: pubLeaf, Title: "夏季真丝连衣裙", RelItemId: 880001,
		ImageUrls: []string{img}, DetailImageUrls: []string{img}, Details: "真丝面料，通勤百搭", ExpressTemplateId: 1, RefundRule: 1,
		Properties: []*gatewayv1.ItemProperty{
			{PropertyId: pubBrand, Values: []*gatewayv1.PropertyValue{{ValueId: brandShan}}},
			{PropertyId: pubMaterial, Values: []*gatewayv1.PropertyValue{{ValueId: cotton}, {ValueId: silk}}},
			{PropertyId: pubArtNo, Text: "DR-2024-01"},
		},
		Skus: []*gatewayv1.NewSku{
			{RelSkuId: 1, SkuNick: "DR-S", PriceFen: 19900, Stock: 10, Specs: []*gatewayv1.SkuSpec{{Name: "尺码", Value: "S", Main: true, ImageUrl: img}}},
			{RelSkuId: 2, SkuNick: "DR-M", PriceFen: 20900, Stock: 5, Specs: []*gatewayv1.SkuSpec{{Name: "尺码", Value: "M", Main: true, ImageUrl: img}}},
		},
		RequestId: requestID,
	}
}

func TestItemPublish_EndToEnd(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	ctx := context.Background()

	// The tree: roots, then down to the leaf.
	roots, err := c.item.ListCategories(ctx, &gatewayv1.ListCategoriesRequest{OpenId: openID})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.GetCategories()) < 3 || roots.GetCategories()[0].GetParentId() != 0 {
		t.Fatalf("roots: %v", roots)
	}
	var kids gatewayv1.ListCategoriesResponse
	g.restOK(t, http.MethodGet, shopPath(openID, "/categories?parent_id=1100"), nil, &kids)
	if !slices.ContainsFunc(kids.GetCategories(), func(c *gatewayv1.Category) bool { return c.GetCategoryId() == pubLeaf }) {
		t.Fatalf("children of 1100: %v", &kids)
	}

	// The main image.
	up, err := c.item.UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: catalogtest.PNG, UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN})
	if err != nil {
		t.Fatal(err)
	}
	img := up.GetKwaiImageUrl()
	if !strings.HasPrefix(img, "http") {
		t.Fatalf("uploaded image URL %q", img)
	}

	sugg, err := c.item.SuggestCategories(ctx, &gatewayv1.SuggestCategoriesRequest{OpenId: openID, Title: "夏季真丝连衣裙", ImageUrls: []string{img}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sugg.GetSuggestions()) == 0 || !slices.Equal(sugg.GetSuggestions()[0].GetCategoryIds(), []int64{1000, 1100, pubLeaf}) {
		t.Fatalf("suggestions: %v", sugg)
	}

	var props gatewayv1.GetCategoryPropertiesResponse
	g.restOK(t, http.MethodGet, shopPath(openID, "/categories/1110/properties"), nil, &props)
	var material *gatewayv1.CategoryProperty
	for _, p := range props.GetProperties() {
		if p.GetPropertyId() == pubMaterial {
			material = p
		}
	}
	if material == nil || !material.GetRequired() || material.GetInputType() != gatewayv1.PropertyInputType_PROPERTY_INPUT_TYPE_CHECKBOX ||
		material.GetMaxValues() != 3 || !material.GetValuesComplete() || len(material.GetValues()) != 5 {
		t.Fatalf("材质: %v", material)
	}
	vals, err := c.item.SearchPropertyValues(ctx, &gatewayv1.SearchPropertyValuesRequest{OpenId: openID, CategoryId: pubLeaf, PropertyId: pubMaterial, Query: "丝"})
	if err != nil || len(vals.GetValues()) != 1 || vals.GetValues()[0].GetValueId() != silk {
		t.Fatalf("values matching 丝: %v %v", vals, err)
	}
	var brands gatewayv1.ListBrandsResponse
	g.restOK(t, http.MethodGet, shopPath(openID, "/categories/1110/brands?query=%E5%B1%B1"), nil, &brands) // 山
	if brands.GetPropertyId() != pubBrand || len(brands.GetBrands()) != 1 || brands.GetBrands()[0].GetValueId() != brandShan {
		t.Fatalf("brands: %v", &brands)
	}

	// Create over gRPC; a retry with the same request_id replays it.
	newCalls := g.calls(t, "open.item.new")
	req := pubRequest(openID, rid(t), img)
	created, err := c.item.CreateItem(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.item.CreateItem(ctx, req)
	if err != nil || again.GetItemId() != created.GetItemId() {
		t.Fatalf("replay: %v %v", again, err)
	}
	if n := g.calls(t, "open.item.new") - newCalls; n != 1 {
		t.Fatalf("open.item.new reached the sandbox %d times, want 1", n)
	}
	if created.GetItemId() == 0 || len(created.GetSkus()) != 2 || created.GetSkus()[0].GetSkuId() == 0 {
		t.Fatalf("created: %v", created)
	}

	// On the shelf, over REST.
	var shelf gatewayv1.SetItemShelfStatusResponse
	g.restOK(t, http.MethodPost, shopPath(openID, "/items/"+strconv.FormatInt(created.GetItemId(), 10)+":setShelfStatus"),
		map[string]any{"shelf_status": "SHELF_STATUS_ON_SHELF", "request_id": rid(t)}, &shelf)

	// Read back, over gRPC and REST.
	check := func(it *gatewayv1.Item) {
		t.Helper()
		if it.GetItemId() != created.GetItemId() || it.GetTitle() != "夏季真丝连衣裙" || it.GetCategoryId() != pubLeaf ||
			it.GetShelfStatus() != gatewayv1.ShelfStatus_SHELF_STATUS_ON_SHELF || it.GetMainImageUrl() != img || it.GetPriceFen() != 19900 {
			t.Fatalf("item: %v", it)
		}
		if len(it.GetSkus()) != 2 || it.GetSkus()[1].GetPriceFen() != 20900 || it.GetSkus()[1].GetStock() != 5 ||
			len(it.GetSkus()[0].GetSpecs()) != 1 || it.GetSkus()[0].GetSpecs()[0].GetValue() != "S" {
			t.Fatalf("skus: %v", it.GetSkus())
		}
		got := map[int64]*gatewayv1.ItemProperty{}
		for _, p := range it.GetProperties() {
			got[p.GetPropertyId()] = p
		}
		if len(got) != 3 || got[pubBrand].GetValues()[0].GetValue() != "山川" || len(got[pubMaterial].GetValues()) != 2 || got[pubArtNo].GetText() != "DR-2024-01" {
			t.Fatalf("properties: %v", it.GetProperties())
		}
	}
	got, err := c.item.GetItem(ctx, &gatewayv1.GetItemRequest{OpenId: openID, ItemId: created.GetItemId()})
	if err != nil {
		t.Fatal(err)
	}
	check(got.GetItem())
	var rgot gatewayv1.GetItemResponse
	g.restOK(t, http.MethodGet, shopPath(openID, "/items/"+strconv.FormatInt(created.GetItemId(), 10)), nil, &rgot)
	check(rgot.GetItem())

	// Update over REST: a new title and a SKU's stock.
	var upd gatewayv1.UpdateItemResponse
	g.restOK(t, http.MethodPatch, shopPath(openID, "/items/"+strconv.FormatInt(created.GetItemId(), 10)), map[string]any{
		"title": "夏季真丝连衣裙 新款", "skus": []any{map[string]any{"sku_id": strconv.FormatInt(created.GetSkus()[1].GetSkuId(), 10), "price_fen": "21900", "stock": "8"}},
		"request_id": rid(t),
	}, &upd)
	got, err = c.item.GetItem(ctx, &gatewayv1.GetItemRequest{OpenId: openID, ItemId: created.GetItemId()})
	if err != nil || got.GetItem().GetTitle() != "夏季真丝连衣裙 新款" || got.GetItem().GetSkus()[1].GetStock() != 8 || got.GetItem().GetSkus()[1].GetPriceFen() != 21900 {
		t.Fatalf("updated: %v %v", got, err)
	}

	// Rule violations: field violations before any platform call.
	before := g.calls(t, "open.item.new")
	bad := pubRequest(openID, rid(t), img)
	bad.Properties = []*gatewayv1.ItemProperty{
		{PropertyId: pubMaterial, Values: []*gatewayv1.PropertyValue{{ValueId: 999999}}},
		{PropertyId: pubOrigin, Text: "临安"},
	}
	_, err = c.item.CreateItem(ctx, bad)
	_, br := statusOf(t, err, codes.InvalidArgument)
	for _, f := range []string{"properties", "properties[0].values[0].value_id", "properties[1].property_id"} {
		if !violates(br, f) {
			t.Errorf("no violation on %s: %v", f, br)
		}
	}
	if n := len(br.GetFieldViolations()); n != 3 {
		t.Errorf("%d violations, want 3 (missing brand, unknown value, foreign property): %v", n, br)
	}
	code, raw, _ := g.restCall(t, http.MethodPost, shopPath(openID, "/items"), pubWithout(pubRequest(openID, rid(t), img), pubBrand), nil)
	if code != http.StatusBadRequest {
		t.Fatalf("REST missing brand: %d %s", code, raw)
	}
	if _, _, rbr := parseRESTError(t, raw); !violates(rbr, "properties") || !strings.Contains(rbr.GetFieldViolations()[0].GetDescription(), "品牌") {
		t.Fatalf("REST missing brand: %s", raw)
	}
	if n := g.calls(t, "open.item.new") - before; n != 0 {
		t.Fatalf("refused creates reached the sandbox %d times", n)
	}
}

func pubWithout(r *gatewayv1.CreateItemRequest, prop int64) *gatewayv1.CreateItemRequest {
	r.Properties = slices.DeleteFunc(r.Properties, func(p *gatewayv1.ItemProperty) bool { return p.GetPropertyId() == prop })
	return r
}

func TestItemPublish_Hostile(t *testing.T) {
	g := startGateway(t)
	openID := g.info.SandboxOpenID
	c := newCommerceClients(g)
	ctx := context.Background()
	img := "https://img.sandbox.invalid/x.jpg"
	before := g.calls(t, "open.item.new")

	many := pubRequest(openID, rid(t), img)
	for i := range 10_000 {
		many.Skus = append(many.Skus, &gatewayv1.NewSku{RelSkuId: int64(i + 3), PriceFen: 100, Stock: 1})
	}
	negative := pubRequest(openID, rid(t), img)
	negative.Skus[0].PriceFen = -1
	foreign := pubRequest(openID, rid(t), img)
	foreign.Properties = append(foreign.Properties, &gatewayv1.ItemProperty{PropertyId: pubOrigin, Text: "临安"})
	huge := pubRequest(openID, rid(t), img)
	huge.Title = strings.Repeat("长", 100_000)
	for name, tc := range map[string]struct {
		req   *gatewayv1.CreateItemRequest
		field string
	}{
		"10000_skus":       {many, "skus"},
		"negative_price":   {negative, "skus[0].price_fen"},
		"foreign_property": {foreign, "properties[3].property_id"},
		"huge_title":       {huge, "title"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.item.CreateItem(ctx, tc.req)
			_, br := statusOf(t, err, codes.InvalidArgument)
			if !violates(br, tc.field) {
				t.Fatalf("no violation on %s: %v", tc.field, br)
			}
			code, raw, _ := g.restCall(t, http.MethodPost, shopPath(openID, "/items"), tc.req, nil)
			if code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
				t.Fatalf("REST: %d %.300s", code, raw)
			}
		})
	}
	if n := g.calls(t, "open.item.new") - before; n != 0 {
		t.Fatalf("hostile creates reached the sandbox %d times", n)
	}
}
