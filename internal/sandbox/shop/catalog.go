package shop

// The seeded category tree of item publishing (docs/items.md): a few roots,
// leaves three levels deep, each leaf with its properties (required or
// optional, enumerated values, input types), the brands, and the refund
// rules it allows. The tree is the same for every shop; it is the sandbox's
// own, not the platform's.

// PropValue is one value of an enumerated property (or a brand).
type PropValue struct {
	ID    int64  `json:"propValueId"`
	Value string `json:"propValue"`
}

// CategoryProp is the rule of one property of a leaf category.
type CategoryProp struct {
	ID        int64
	Name      string
	Input     string // TEXT, CHECKBOX, NUMBER, EMAIL, DATETIME, URL, DATETIMERANGE, RADIO, IMAGE
	Required  bool
	MaxValues int // CHECKBOX
	MinLen    int // TEXT (0: no limit)
	MaxLen    int
	Values    []PropValue // RADIO and CHECKBOX
	SortNum   int
}

// Category is a node of the tree; a leaf has Props.
type Category struct {
	ID          int64
	ParentID    int64
	Name        string
	Leaf        bool
	Props       []CategoryProp
	RefundRules []int
	Keywords    []string // words of a title that suggest this leaf
}

// Published is what item publishing sets on an item beyond ItemBase.
type Published struct {
	DetailImageURLs   []string
	ExpressTemplateID int64
	RefundRule        string
	Props             []map[string]any // itemPropValues as checked
}

// SkuSpec is one specification of a SKU (skuProps).
type SkuSpec struct {
	Name     string `json:"propName"`
	Value    string `json:"propValueName"`
	Main     int    `json:"isMainProp"`
	ImageURL string `json:"imageUrl"`
}

// BrandPropID is the property id of 品牌 in every leaf.
const BrandPropID = 10

// Brands are the brands every leaf takes (values of BrandPropID).
var Brands = []PropValue{{1001, "山川"}, {1002, "晨光织造"}, {1003, "北辰"}, {1004, "木棉花开"}, {1005, "小满食记"}, {1006, "极客壳"}}

func brandProp() CategoryProp {
	return CategoryProp{ID: BrandPropID, Name: "品牌", Input: "RADIO", Required: true, Values: Brands, SortNum: 1}
}

func values(prop int64, names ...string) []PropValue {
	out := make([]PropValue, len(names))
	for i, n := range names {
		out[i] = PropValue{ID: prop*100 + int64(i) + 1, Value: n}
	}
	return out
}

// Categories is the tree, parents before children.
var Categories = []*Category{
	{ID: 1000, Name: "服饰内衣"},
	{ID: 1100, ParentID: 1000, Name: "女装"},
	{ID: 1110, ParentID: 1100, Name: "连衣裙", Leaf: true, RefundRules: []int{1, 5}, Keywords: []string{"连衣裙", "裙"}, Props: []CategoryProp{
		brandProp(),
		{ID: 11, Name: "材质", Input: "CHECKBOX", Required: true, MaxValues: 3, Values: values(11, "棉", "麻", "真丝", "涤纶", "羊毛"), SortNum: 2},
		{ID: 12, Name: "风格", Input: "RADIO", Values: values(12, "通勤", "休闲", "甜美"), SortNum: 3},
		{ID: 13, Name: "货号", Input: "TEXT", MinLen: 1, MaxLen: 30, SortNum: 4},
		{ID: 14, Name: "上市时间", Input: "DATETIME", SortNum: 5},
	}},
	{ID: 1120, ParentID: 1100, Name: "T恤", Leaf: true, RefundRules: []int{1, 5}, Keywords: []string{"T恤", "短袖"}, Props: []CategoryProp{
		brandProp(),
		{ID: 15, Name: "领型", Input: "RADIO", Required: true, Values: values(15, "圆领", "V领", "翻领"), SortNum: 2},
		{ID: 16, Name: "图案", Input: "CHECKBOX", MaxValues: 2, Values: values(16, "纯色", "字母", "卡通"), SortNum: 3},
	}},
	{ID: 2000, Name: "食品饮料"},
	{ID: 2100, ParentID: 2000, Name: "休闲零食"},
	{ID: 2110, ParentID: 2100, Name: "坚果炒货", Leaf: true, RefundRules: []int{4}, Keywords: []string{"坚果", "核桃", "瓜子"}, Props: []CategoryProp{
		brandProp(),
		{ID: 21, Name: "净含量(g)", Input: "NUMBER", Required: true, SortNum: 2},
		{ID: 22, Name: "产地", Input: "TEXT", Required: true, MinLen: 2, MaxLen: 20, SortNum: 3},
		{ID: 23, Name: "保质期", Input: "RADIO", Required: true, Values: values(23, "6个月", "12个月"), SortNum: 4},
		{ID: 24, Name: "食品检测报告", Input: "IMAGE", SortNum: 5},
	}},
	{ID: 3000, Name: "数码家电"},
	{ID: 3100, ParentID: 3000, Name: "手机配件"},
	{ID: 3110, ParentID: 3100, Name: "手机壳", Leaf: true, RefundRules: []int{1}, Keywords: []string{"手机壳", "保护壳"}, Props: []CategoryProp{
		brandProp(),
		{ID: 31, Name: "适用机型", Input: "CHECKBOX", Required: true, MaxValues: 5, Values: values(31, "A1", "A2", "B1", "B2"), SortNum: 2},
		{ID: 32, Name: "官网", Input: "URL", SortNum: 3},
		{ID: 33, Name: "售后邮箱", Input: "EMAIL", SortNum: 4},
	}},
}

// CategoryByID finds a category of the tree.
func CategoryByID(id int64) (*Category, bool) {
	for _, c := range Categories {
		if c.ID == id {
			return c, true
		}
	}
	return nil, false
}

// Prop finds a property of a leaf.
func (c *Category) Prop(id int64) (*CategoryProp, bool) {
	for i := range c.Props {
		if c.Props[i].ID == id {
			return &c.Props[i], true
		}
	}
	return nil, false
}

// Path is the category's ancestors from the root, then itself.
func (c *Category) Path() []*Category {
	var out []*Category
	for x := c; x != nil; {
		out = append([]*Category{x}, out...)
		p, ok := CategoryByID(x.ParentID)
		if !ok {
			break
		}
		x = p
	}
	return out
}
