package emulated

import (
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Category, property and brand APIs, answered from the seeded tree
// (shop.Categories; docs/items.md).

type categoryEntry struct {
	CategoryID   int64  `json:"categoryId"`
	CategoryName string `json:"categoryName"`
	CategoryPid  int64  `json:"categoryPid"`
}

func categoryEntryOf(c *shop.Category) categoryEntry {
	return categoryEntry{CategoryID: c.ID, CategoryName: c.Name, CategoryPid: c.ParentID}
}

// categoryList: open.item.category, the whole tree.
func categoryList(*api.Call) (any, *api.Error) {
	out := make([]categoryEntry, 0, len(shop.Categories))
	for _, c := range shop.Categories {
		out = append(out, categoryEntryOf(c))
	}
	return out, nil
}

type suggestion struct {
	CategoryCodePath []int64  `json:"categoryCodePath"`
	CategoryNamePath []string `json:"categoryNamePath"`
	Open             bool     `json:"open"`
}

// categorySuggest: open.item.category.suggested.get (itemTitle, imageUrls
// required): the leaves one of whose keywords the title contains.
func categorySuggest(c *api.Call) (any, *api.Error) {
	title, e := c.Str("itemTitle")
	if e != nil {
		return nil, e
	}
	imgs, e := c.Strings("imageUrls")
	if e != nil {
		return nil, e
	}
	if strings.TrimSpace(title) == "" || len(imgs) == 0 {
		return nil, api.BadParam("param.itemTitle and param.imageUrls (at least one image) are required")
	}
	out := []suggestion{}
	for _, cat := range shop.Categories {
		if !cat.Leaf || !containsAny(title, cat.Keywords) {
			continue
		}
		s := suggestion{Open: true}
		for _, p := range cat.Path() {
			s.CategoryCodePath = append(s.CategoryCodePath, p.ID)
			s.CategoryNamePath = append(s.CategoryNamePath, p.Name)
		}
		out = append(out, s)
	}
	return out, nil
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// leafOf reads param categoryId: a leaf of the tree.
func leafOf(c *api.Call) (*shop.Category, *api.Error) {
	id, e := c.ReqInt("categoryId")
	if e != nil {
		return nil, e
	}
	cat, ok := shop.CategoryByID(id)
	if !ok || !cat.Leaf {
		return nil, api.BadParam("类目不存在或不是叶子类目: categoryId %d", id)
	}
	return cat, nil
}

type propConfig struct {
	CustomInput      bool            `json:"customInput"`
	PreConstraint    bool            `json:"preConstraint"`
	PrePropValues    []any           `json:"prePropValues"`
	PropID           int64           `json:"propId"`
	PropInputConfig  propInputConfig `json:"propInputConfig"`
	PropInputType    string          `json:"propInputType"`
	PropName         string          `json:"propName"`
	PropValueMaximum int             `json:"propValueMaximum"`
	Required         bool            `json:"required"`
	SortNum          int             `json:"sortNum"`
	UnitProp         []any           `json:"unitProp"`
}

type propInputConfig struct {
	InputFormatConfig *inputFormat `json:"inputFormatConfig,omitempty"`
}

type inputFormat struct {
	UseLimit bool `json:"useLimit"`
	Max      int  `json:"max"`
	Min      int  `json:"min"`
}

// categoryConfig: open.item.category.config (categoryId of a leaf).
func categoryConfig(c *api.Call) (any, *api.Error) {
	cat, e := leafOf(c)
	if e != nil {
		return nil, e
	}
	confs := make([]propConfig, 0, len(cat.Props))
	for _, p := range cat.Props {
		pc := propConfig{PrePropValues: []any{}, UnitProp: []any{}, PropID: p.ID, PropInputType: p.Input, PropName: p.Name,
			PropValueMaximum: max(p.MaxValues, 1), Required: p.Required, SortNum: p.SortNum}
		if p.MaxLen > 0 {
			pc.PropInputConfig = propInputConfig{InputFormatConfig: &inputFormat{UseLimit: true, Min: p.MinLen, Max: p.MaxLen}}
		}
		confs = append(confs, pc)
	}
	return map[string]any{
		"categoryConfig":     map[string]any{"refundRuleList": cat.RefundRules},
		"categoryPropSwitch": true,
		"propConfigs":        confs,
	}, nil
}

// propValuesOf reads categoryId and propId: the values of an enumerated
// property of a leaf matching propValue, and the cursor/limit page of them.
func propValuesOf(c *api.Call, limitMax int64) ([]shop.PropValue, int64, int64, int64, *api.Error) {
	cat, e := leafOf(c)
	if e != nil {
		return nil, 0, 0, 0, e
	}
	pid, e := c.ReqInt("propId")
	if e != nil {
		return nil, 0, 0, 0, e
	}
	p, ok := cat.Prop(pid)
	if !ok {
		return nil, 0, 0, 0, api.BadParam("属性不存在: propId %d is not a property of category %d", pid, cat.ID)
	}
	cursor, e := c.ReqInt("cursor")
	if e != nil {
		return nil, 0, 0, 0, e
	}
	if cursor < 0 || cursor > 2000 {
		return nil, 0, 0, 0, api.BadParam("param.cursor must be between 0 and 2000")
	}
	limit := int64(20)
	if limitMax > 0 {
		if limit, e = c.ReqInt("limit"); e != nil {
			return nil, 0, 0, 0, e
		}
		if limit < 1 || limit > limitMax {
			return nil, 0, 0, 0, api.BadParam("param.limit must be between 1 and %d", limitMax)
		}
	}
	q, e := c.Str("propValue")
	if e != nil {
		return nil, 0, 0, 0, e
	}
	var match []shop.PropValue
	for _, v := range p.Values {
		if q == "" || strings.Contains(v.Value, q) {
			match = append(match, v)
		}
	}
	total := int64(len(match))
	from := min(cursor, total)
	to := min(from+limit, total)
	return append([]shop.PropValue{}, match[from:to]...), to, total, pid, nil
}

// propValueSearch: open.item.category.prop.value.search (categoryId,
// propId, cursor, limit ≤ 500, propValue).
func propValueSearch(c *api.Call) (any, *api.Error) {
	vals, next, total, _, e := propValuesOf(c, 500)
	if e != nil {
		return nil, e
	}
	return map[string]any{"cursor": next, "propValues": vals, "total": total}, nil
}

// brandList: open.item.brand.list.get (categoryId, propId of 品牌, cursor,
// propValue), 20 a page.
func brandList(c *api.Call) (any, *api.Error) {
	vals, next, total, pid, e := propValuesOf(c, 0)
	if e != nil {
		return nil, e
	}
	if pid != shop.BrandPropID {
		return nil, api.BadParam("propId %d is not the brand property", pid)
	}
	return map[string]any{"cursor": next, "propId": pid, "propValueDto": vals, "total": total}, nil
}
