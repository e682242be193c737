package service

import (
	"context"
	"errors"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// Item publishing: categories, their properties and brands, CreateItem and
// UpdateItem (docs/items.md).

// ListCategories lists a parent's child categories.
func (s *Item) ListCategories(ctx context.Context, req *gatewayv1.ListCategoriesRequest) (*gatewayv1.ListCategoriesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListCategoriesResponse, error) {
		cs, err := shop.ListCategories(ctx, req.GetParentId())
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.ListCategoriesResponse{Categories: make([]*gatewayv1.Category, len(cs))}
		for i, c := range cs {
			out.Categories[i] = &gatewayv1.Category{CategoryId: c.ID, Name: c.Name, ParentId: c.ParentID}
		}
		return out, nil
	})
}

// SuggestCategories predicts leaf categories for an item.
func (s *Item) SuggestCategories(ctx context.Context, req *gatewayv1.SuggestCategoriesRequest) (*gatewayv1.SuggestCategoriesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.SuggestCategoriesResponse, error) {
		ss, err := shop.SuggestCategories(ctx, req.GetTitle(), req.GetImageUrls(), req.GetDescription())
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.SuggestCategoriesResponse{Suggestions: make([]*gatewayv1.CategorySuggestion, len(ss))}
		for i, x := range ss {
			out.Suggestions[i] = &gatewayv1.CategorySuggestion{CategoryIds: x.IDs, CategoryNames: x.Names, Open: x.Open}
		}
		return out, nil
	})
}

// GetCategoryProperties returns a category's rules (from the cache the
// writes use).
func (s *Item) GetCategoryProperties(ctx context.Context, req *gatewayv1.GetCategoryPropertiesRequest) (*gatewayv1.GetCategoryPropertiesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.GetCategoryPropertiesResponse, error) {
		r, err := s.rules.Get(ctx, shop, req.GetCategoryId())
		if err != nil {
			return nil, err
		}
		out := &gatewayv1.GetCategoryPropertiesResponse{CategoryId: r.CategoryID, PropertiesEnabled: r.PropsOn, RefundRules: r.RefundRules, Raw: r.Raw}
		for _, p := range r.Props {
			out.Properties = append(out.Properties, &gatewayv1.CategoryProperty{
				PropertyId: p.ID, Name: p.Name, Required: p.Required, InputType: gatewayv1.PropertyInputType(p.Input),
				InputTypeName: p.InputName, MaxValues: int32(p.MaxValues), CustomInput: p.CustomInput, SortNum: p.SortNum,
				Values: propValuesProto(p.Values), ValuesComplete: p.Complete,
				MinLength: int32(p.MinLen), MaxLength: int32(p.MaxLen), MinImages: int32(p.MinImage), MaxImages: int32(p.MaxImage),
			})
		}
		return out, nil
	})
}

// SearchPropertyValues pages through a property's values.
func (s *Item) SearchPropertyValues(ctx context.Context, req *gatewayv1.SearchPropertyValuesRequest) (*gatewayv1.SearchPropertyValuesResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.SearchPropertyValuesResponse, error) {
		l, err := shop.SearchPropValues(ctx, commerce.ValueQuery{
			CategoryID: req.GetCategoryId(), PropID: req.GetPropertyId(), Text: req.GetQuery(), Size: int(req.GetPageSize()), Token: req.GetPageToken(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.SearchPropertyValuesResponse{Values: propValuesProto(l.Items), NextPageToken: l.NextPageToken, TotalSize: l.TotalSize}, nil
	})
}

// ListBrands pages through a category's brands.
func (s *Item) ListBrands(ctx context.Context, req *gatewayv1.ListBrandsRequest) (*gatewayv1.ListBrandsResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.ListBrandsResponse, error) {
		b, err := shop.ListBrands(ctx, s.rules, commerce.ValueQuery{
			CategoryID: req.GetCategoryId(), PropID: req.GetPropertyId(), Text: req.GetQuery(), Token: req.GetPageToken(),
		})
		if err != nil {
			return nil, err
		}
		return &gatewayv1.ListBrandsResponse{Brands: propValuesProto(b.Items), NextPageToken: b.NextPageToken, TotalSize: b.TotalSize, PropertyId: b.PropID}, nil
	})
}

// CreateItem creates an item, once per request_id. The properties are
// checked against the category's rules before the write is claimed: a
// refused request sends nothing and stores nothing.
func (s *Item) CreateItem(ctx context.Context, req *gatewayv1.CreateItemRequest) (*gatewayv1.CreateItemResponse, error) {
	it := commerce.NewItem{
		CategoryID: req.GetCategoryId(), Title: req.GetTitle(), RelItemID: req.GetRelItemId(), ImageURLs: req.GetImageUrls(),
		DetailImageURLs: req.GetDetailImageUrls(), Details: req.GetDetails(), ExpressTemplateID: req.GetExpressTemplateId(),
		RefundRule: req.GetRefundRule(), Props: propInputs(req.GetProperties()),
	}
	for _, k := range req.GetSkus() {
		it.Skus = append(it.Skus, commerce.NewSku{
			RelSkuID: k.GetRelSkuId(), Nick: k.GetSkuNick(), PriceFen: k.GetPriceFen(), MarketPriceFen: k.GetMarketPriceFen(),
			Stock: k.GetStock(), Specs: specsGo(k.GetSpecs()),
		})
	}
	if err := s.precheck(ctx, req.GetOpenId(), it.CategoryID, "properties", it.Props); err != nil {
		return nil, err
	}
	return write(ctx, s.base, "ItemService-CreateItem", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.CreateItemResponse, error) {
		ref, err := shop.CreateItem(ctx, s.rules, it)
		if fe, ok := isFieldErrors(err); ok {
			return nil, fieldErrors(fe) // nothing sent: the claim is released
		}
		if err != nil {
			return nil, err
		}
		return &gatewayv1.CreateItemResponse{ItemId: ref.ID, RelItemId: ref.RelItemID, Skus: skuRefsProto(ref.Skus), PlatformRequestId: ref.RequestID}, nil
	})
}

// UpdateItem changes an item, once per request_id.
func (s *Item) UpdateItem(ctx context.Context, req *gatewayv1.UpdateItemRequest) (*gatewayv1.UpdateItemResponse, error) {
	u := commerce.ItemUpdate{
		ItemID: req.GetItemId(), Title: req.Title, CategoryID: req.GetCategoryId(), ImageURLs: req.GetImageUrls(),
		DetailImageURLs: req.GetDetailImageUrls(), Details: req.Details, UpdateProps: req.GetUpdateProperties(),
		Props: propInputs(req.GetProperties()),
	}
	if !u.UpdateProps && len(u.Props) > 0 {
		return nil, InvalidArgument(FieldViolation{Field: "properties", Description: "set update_properties to replace the item's properties"})
	}
	for _, k := range req.GetSkus() {
		u.Skus = append(u.Skus, commerce.UpdateSku{ID: k.GetSkuId(), PriceFen: k.GetPriceFen(), Stock: k.Stock, MarketPriceFen: k.MarketPriceFen, Nick: k.SkuNick})
	}
	if u.UpdateProps && u.CategoryID != 0 {
		if err := s.precheck(ctx, req.GetOpenId(), u.CategoryID, "properties", u.Props); err != nil {
			return nil, err
		}
	}
	return write(ctx, s.base, "ItemService-UpdateItem", req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.UpdateItemResponse, error) {
		ref, err := shop.UpdateItem(ctx, s.rules, u)
		if fe, ok := isFieldErrors(err); ok {
			return nil, fieldErrors(fe) // nothing sent: the claim is released
		}
		if err != nil {
			return nil, err
		}
		return &gatewayv1.UpdateItemResponse{ItemId: ref.ID, RelItemId: ref.RelItemID, Skus: skuRefsProto(ref.Skus), PlatformRequestId: ref.RequestID}, nil
	})
}

// precheck checks props against the category's rules before a write is
// claimed, so a refusal is neither sent nor stored. (The write checks them
// again, from the cache, when it builds the platform's params.)
func (s *Item) precheck(ctx context.Context, openID string, category int64, field string, props []commerce.PropInput) error {
	shop, err := s.base.shop(ctx, openID)
	if err != nil {
		return s.base.status(ctx, err)
	}
	r, err := s.rules.Get(ctx, shop, category)
	if err != nil {
		return s.base.status(ctx, err)
	}
	checked := append([]commerce.PropInput(nil), props...)
	for i := range checked {
		checked[i].Values = append([]commerce.PropValue(nil), checked[i].Values...)
	}
	return fieldErrors(r.Check(field, checked))
}

// fieldErrors is INVALID_ARGUMENT with one field violation per problem, or
// nil.
func fieldErrors(errs commerce.FieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	vs := make([]FieldViolation, len(errs))
	for i, e := range errs {
		vs[i] = FieldViolation{Field: e.Field, Description: e.Description}
	}
	return InvalidArgument(vs...)
}

// isFieldErrors finds the rule problems of a write.
func isFieldErrors(err error) (commerce.FieldErrors, bool) {
	var fe commerce.FieldErrors
	return fe, errors.As(err, &fe)
}

func propInputs(in []*gatewayv1.ItemProperty) []commerce.PropInput {
	out := make([]commerce.PropInput, len(in))
	for i, p := range in {
		out[i] = commerce.PropInput{PropID: p.GetPropertyId(), Text: p.GetText(), ImageURLs: p.GetImageUrls()}
		for _, v := range p.GetValues() {
			out[i].Values = append(out[i].Values, commerce.PropValue{ID: v.GetValueId(), Value: v.GetValue()})
		}
		out[i].Time, out[i].EndTime = timeOf(p.GetTime()), timeOf(p.GetEndTime())
	}
	return out
}

func propValuesProto(in []commerce.PropValue) []*gatewayv1.PropertyValue {
	out := make([]*gatewayv1.PropertyValue, len(in))
	for i, v := range in {
		out[i] = &gatewayv1.PropertyValue{ValueId: v.ID, Value: v.Value}
	}
	return out
}

func specsGo(in []*gatewayv1.SkuSpec) []commerce.SkuSpec {
	out := make([]commerce.SkuSpec, len(in))
	for i, sp := range in {
		out[i] = commerce.SkuSpec{Name: sp.GetName(), Value: sp.GetValue(), Main: sp.GetMain(), ImageURL: sp.GetImageUrl()}
	}
	return out
}

func specsProto(in []commerce.SkuSpec) []*gatewayv1.SkuSpec {
	if len(in) == 0 {
		return nil
	}
	out := make([]*gatewayv1.SkuSpec, len(in))
	for i, sp := range in {
		out[i] = &gatewayv1.SkuSpec{Name: sp.Name, Value: sp.Value, Main: sp.Main, ImageUrl: sp.ImageURL}
	}
	return out
}

func skuRefsProto(in []commerce.SkuRef) []*gatewayv1.SkuRef {
	out := make([]*gatewayv1.SkuRef, len(in))
	for i, r := range in {
		out[i] = &gatewayv1.SkuRef{SkuId: r.ID, RelSkuId: r.RelSkuID, SkuNick: r.Nick}
	}
	return out
}

// publishedProto sets the members of a read item that publishing wrote:
// properties, detail images, details (itemProto calls it).
func publishedProto(it *commerce.Item, out *gatewayv1.Item) {
	out.DetailImageUrls = it.DetailImageURLs
	out.Details = it.Details
	for _, p := range it.Props {
		ip := &gatewayv1.ItemProperty{PropertyId: p.PropID, Name: p.Name, Values: propValuesProto(p.Values), Text: p.Text, ImageUrls: p.ImageURLs}
		if len(ip.Values) == 0 {
			ip.Values = nil
		}
		ip.Time, ip.EndTime = timestamp(p.Time), timestamp(p.EndTime)
		out.Properties = append(out.Properties, ip)
	}
}
