package commerce

import (
	"context"
	"fmt"
	"sort"
	"strconv"
)

// Category APIs (docs/items.md).
const (
	apiCategoryList    = "open.item.category"
	apiCategorySuggest = "open.item.category.suggested.get"
	apiCategoryConfig  = "open.item.category.config"
	apiPropValueSearch = "open.item.category.prop.value.search"
	apiBrandList       = "open.item.brand.list.get"

	// open.item.category.prop.value.search takes limit up to 500 and a
	// cursor up to 2000 ([API]); the brand list's cursor is capped at 2000.
	propValuePageMax = 500
	propValueCursor  = 2000
	// propValuesRead is how many values of an enumerated property the
	// category rules read (four pages); a longer list is not enforced.
	propValuesRead = propValueCursor
	// brandPropName is the name of the brand property in a category's
	// rules, used when ListBrands is not given the property.
	brandPropName = "品牌"
)

// Category is one node of the category tree.
type Category struct {
	ID       int64
	Name     string
	ParentID int64
}

// ListCategories reads open.item.category (the whole tree) and returns the
// children of parent (0: the roots).
func (s Shop) ListCategories(ctx context.Context, parent int64) ([]Category, error) {
	resp, err := s.read(ctx, apiCategoryList, struct{}{})
	if err != nil {
		return nil, err
	}
	var data []struct {
		CategoryID   i64 `json:"categoryId"`
		CategoryName str `json:"categoryName"`
		CategoryPid  i64 `json:"categoryPid"`
	}
	if err := decodeData(resp, apiCategoryList, &data); err != nil {
		return nil, err
	}
	out := []Category{}
	for _, c := range data {
		if int64(c.CategoryPid) == parent {
			out = append(out, Category{ID: int64(c.CategoryID), Name: string(c.CategoryName), ParentID: int64(c.CategoryPid)})
		}
	}
	return out, nil
}

// CategorySuggestion is a predicted leaf category with its path.
type CategorySuggestion struct {
	IDs   []int64
	Names []string
	Open  bool
}

// SuggestCategories reads open.item.category.suggested.get.
func (s Shop) SuggestCategories(ctx context.Context, title string, imageURLs []string, desc string) ([]CategorySuggestion, error) {
	param := map[string]any{"itemTitle": title, "imageUrls": imageURLs}
	if desc != "" {
		param["itemDesc"] = desc
	}
	resp, err := s.read(ctx, apiCategorySuggest, param)
	if err != nil {
		return nil, err
	}
	var data []struct {
		CategoryCodePath []i64   `json:"categoryCodePath"`
		CategoryNamePath strList `json:"categoryNamePath"`
		Open             flag    `json:"open"`
	}
	if err := decodeData(resp, apiCategorySuggest, &data); err != nil {
		return nil, err
	}
	out := make([]CategorySuggestion, 0, len(data))
	for _, d := range data {
		ids := make([]int64, len(d.CategoryCodePath))
		for i, v := range d.CategoryCodePath {
			ids[i] = int64(v)
		}
		out = append(out, CategorySuggestion{IDs: ids, Names: d.CategoryNamePath, Open: bool(d.Open)})
	}
	return out, nil
}

// PropValue is one value of an enumerated property, or a brand.
type PropValue struct {
	ID    int64
	Value string
}

type platformPropValue struct {
	PropValueID i64 `json:"propValueId"`
	PropValue   str `json:"propValue"`
}

func propValues(in []platformPropValue) []PropValue {
	out := make([]PropValue, 0, len(in))
	for _, v := range in {
		out = append(out, PropValue{ID: int64(v.PropValueID), Value: string(v.PropValue)})
	}
	return out
}

// ValueQuery asks for a page of a property's values (or brands).
type ValueQuery struct {
	CategoryID int64
	PropID     int64
	Text       string // only values matching it; "" all
	Size       int    // 0: 100; at most 500 (brands: the platform's page)
	Token      string
}

// SearchPropValues pages through open.item.category.prop.value.search; the
// token holds the platform's cursor.
func (s Shop) SearchPropValues(ctx context.Context, q ValueQuery) (Listing[PropValue], error) {
	filter := filterHash("propvalues", s.OpenID, strconv.FormatInt(q.CategoryID, 10), strconv.FormatInt(q.PropID, 10), q.Text)
	tok, _, err := parseToken(q.Token, filter)
	if err != nil {
		return Listing[PropValue]{}, err
	}
	if tok.Offset < 0 || tok.Offset > propValueCursor {
		return Listing[PropValue]{}, fmt.Errorf("%w: cursor out of range", ErrPageToken)
	}
	size := q.Size
	if size <= 0 {
		size = DefaultPageSize * 5
	}
	size = min(size, propValuePageMax)
	vals, next, total, err := s.propValuePage(ctx, apiPropValueSearch, q.CategoryID, q.PropID, q.Text, tok.Offset, size)
	if err != nil {
		return Listing[PropValue]{}, err
	}
	out := Listing[PropValue]{Items: vals, TotalSize: total}
	if next > tok.Offset && next < total && next <= propValueCursor && len(vals) > 0 {
		out.NextPageToken = pageToken{V: tokenVersion, Filter: filter, Offset: next}.encode()
	}
	return out, nil
}

// propValuePage reads one page of prop.value.search or brand.list.get.
func (s Shop) propValuePage(ctx context.Context, api string, category, prop int64, text string, cursor int64, limit int) (vals []PropValue, next, total int64, err error) {
	param := map[string]any{"categoryId": category, "propId": prop, "cursor": cursor}
	if api == apiPropValueSearch {
		param["limit"] = limit
	}
	if text != "" {
		param["propValue"] = text
	}
	resp, err := s.read(ctx, api, param)
	if err != nil {
		return nil, 0, 0, err
	}
	var data struct {
		Cursor       i64                 `json:"cursor"`
		Total        i64                 `json:"total"`
		PropValues   []platformPropValue `json:"propValues"`
		PropValueDto []platformPropValue `json:"propValueDto"`
	}
	if err := decodeData(resp, api, &data); err != nil {
		return nil, 0, 0, err
	}
	raw := data.PropValues
	if api == apiBrandList {
		raw = data.PropValueDto
	}
	return propValues(raw), int64(data.Cursor), int64(data.Total), nil
}

// Brands is a page of a category's brands.
type Brands struct {
	Listing[PropValue]
	PropID int64 // the brand property
}

// ListBrands pages through open.item.brand.list.get. A zero q.PropID is the
// category's property named 品牌 (from rules).
func (s Shop) ListBrands(ctx context.Context, rules *RuleCache, q ValueQuery) (Brands, error) {
	if q.PropID == 0 {
		r, err := rules.Get(ctx, s, q.CategoryID)
		if err != nil {
			return Brands{}, err
		}
		for _, p := range r.Props {
			if p.Name == brandPropName {
				q.PropID = p.ID
				break
			}
		}
		if q.PropID == 0 {
			return Brands{}, &FieldError{Field: "property_id", Description: fmt.Sprintf("category %d has no property named %s: name the brand property", q.CategoryID, brandPropName)}
		}
	}
	filter := filterHash("brands", s.OpenID, strconv.FormatInt(q.CategoryID, 10), strconv.FormatInt(q.PropID, 10), q.Text)
	tok, _, err := parseToken(q.Token, filter)
	if err != nil {
		return Brands{}, err
	}
	if tok.Offset < 0 || tok.Offset > propValueCursor {
		return Brands{}, fmt.Errorf("%w: cursor out of range", ErrPageToken)
	}
	vals, next, total, err := s.propValuePage(ctx, apiBrandList, q.CategoryID, q.PropID, q.Text, tok.Offset, 0)
	if err != nil {
		return Brands{}, err
	}
	out := Brands{Listing: Listing[PropValue]{Items: vals, TotalSize: total}, PropID: q.PropID}
	if next > tok.Offset && next < total && next <= propValueCursor && len(vals) > 0 {
		out.NextPageToken = pageToken{V: tokenVersion, Filter: filter, Offset: next}.encode()
	}
	return out, nil
}

// InputType is how a property takes its value (propInputType).
type InputType int8

// Input types; the numbers are the platform's inputType of itemPropValues.
const (
	InputUnknown       InputType = 0
	InputText          InputType = 1
	InputCheckbox      InputType = 2
	InputNumber        InputType = 3
	InputEmail         InputType = 4
	InputDatetime      InputType = 5
	InputURL           InputType = 6
	InputDatetimeRange InputType = 7
	InputRadio         InputType = 8
	InputImage         InputType = 9
)

var inputTypes = map[string]InputType{
	"TEXT": InputText, "CHECKBOX": InputCheckbox, "NUMBER": InputNumber, "EMAIL": InputEmail, "DATETIME": InputDatetime,
	"URL": InputURL, "DATETIMERANGE": InputDatetimeRange, "RADIO": InputRadio, "IMAGE": InputImage,
}

// PropRule is the rule of one property of a category.
type PropRule struct {
	ID          int64
	Name        string
	Required    bool
	Input       InputType
	InputName   string // the platform's propInputType, verbatim
	MaxValues   int    // CHECKBOX: the most values (0: no limit)
	CustomInput bool
	SortNum     int32
	// Values are the values of a RADIO or CHECKBOX property as read;
	// Complete says they are all of them.
	Values   []PropValue
	Complete bool
	MinLen   int // text length limits (0: none)
	MaxLen   int
	MinImage int // image count limits (0: none)
	MaxImage int
}

// CategoryRules is a category's configuration: its properties' rules.
type CategoryRules struct {
	CategoryID  int64
	PropsOn     bool // categoryPropSwitch
	Props       []PropRule
	RefundRules []int32
	// Raw is the platform's JSON of the configuration, compact.
	Raw string
}

// Prop returns the rule of a property.
func (r *CategoryRules) Prop(id int64) (*PropRule, bool) {
	for i := range r.Props {
		if r.Props[i].ID == id {
			return &r.Props[i], true
		}
	}
	return nil, false
}

// CategoryRules reads a category's rules uncached: open.item.category.config,
// then the values of each enumerated property (up to propValuesRead each).
func (s Shop) CategoryRules(ctx context.Context, categoryID int64) (*CategoryRules, error) {
	resp, err := s.read(ctx, apiCategoryConfig, map[string]any{"categoryId": categoryID})
	if err != nil {
		return nil, err
	}
	var data struct {
		CategoryConfig struct {
			RefundRuleList []i64 `json:"refundRuleList"`
		} `json:"categoryConfig"`
		CategoryPropSwitch flag `json:"categoryPropSwitch"`
		PropConfigs        []struct {
			CustomInput      flag `json:"customInput"`
			PropID           i64  `json:"propId"`
			PropName         str  `json:"propName"`
			PropInputType    str  `json:"propInputType"`
			PropValueMaximum i64  `json:"propValueMaximum"`
			Required         flag `json:"required"`
			SortNum          i64  `json:"sortNum"`
			PropInputConfig  struct {
				ImageInputConfig *struct {
					MaxCount i64 `json:"maxCount"`
					MinCount i64 `json:"minCount"`
				} `json:"imageInputConfig"`
				InputFormatConfig *struct {
					Max      i64  `json:"max"`
					Min      i64  `json:"min"`
					UseLimit flag `json:"useLimit"`
				} `json:"inputFormatConfig"`
			} `json:"propInputConfig"`
		} `json:"propConfigs"`
	}
	if err := decodeData(resp, apiCategoryConfig, &data); err != nil {
		return nil, err
	}
	r := &CategoryRules{CategoryID: categoryID, PropsOn: bool(data.CategoryPropSwitch), Raw: rawString(resp.Data)}
	for _, v := range data.CategoryConfig.RefundRuleList {
		r.RefundRules = append(r.RefundRules, int32(v))
	}
	for _, c := range data.PropConfigs {
		p := PropRule{
			ID: int64(c.PropID), Name: string(c.PropName), Required: bool(c.Required), InputName: string(c.PropInputType),
			Input: inputTypes[string(c.PropInputType)], MaxValues: int(max(c.PropValueMaximum, 0)), CustomInput: bool(c.CustomInput),
			SortNum: int32(c.SortNum),
		}
		if f := c.PropInputConfig.InputFormatConfig; f != nil && bool(f.UseLimit) {
			p.MinLen, p.MaxLen = int(max(f.Min, 0)), int(max(f.Max, 0))
		}
		if f := c.PropInputConfig.ImageInputConfig; f != nil {
			p.MinImage, p.MaxImage = int(max(f.MinCount, 0)), int(max(f.MaxCount, 0))
		}
		r.Props = append(r.Props, p)
	}
	sort.SliceStable(r.Props, func(i, j int) bool { return r.Props[i].SortNum < r.Props[j].SortNum })
	for i := range r.Props {
		p := &r.Props[i]
		if p.Input != InputRadio && p.Input != InputCheckbox {
			continue
		}
		if err := s.readValues(ctx, categoryID, p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// readValues reads the values of p, up to propValuesRead of them.
func (s Shop) readValues(ctx context.Context, categoryID int64, p *PropRule) error {
	var cursor int64
	for len(p.Values) < propValuesRead {
		vals, next, total, err := s.propValuePage(ctx, apiPropValueSearch, categoryID, p.ID, "", cursor, propValuePageMax)
		if err != nil {
			return err
		}
		p.Values = append(p.Values, vals...)
		if int64(len(p.Values)) >= total || len(vals) == 0 || next <= cursor {
			p.Complete = int64(len(p.Values)) >= total
			return nil
		}
		if next > propValueCursor {
			return nil
		}
		cursor = next
	}
	return nil
}
