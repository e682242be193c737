package commerce

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"
)

// Defaults of a RuleCache.
const (
	DefaultRuleTTL     = 5 * time.Minute
	DefaultRuleEntries = 512
)

// RuleCache keeps categories' rules for a short time, so a run of writes in
// one category reads them once. It is bounded: at most max categories, the
// oldest dropped first. Category rules are the platform's, the same for every
// shop, so entries are keyed by category alone.
type RuleCache struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	mu   sync.Mutex
	m    map[int64]ruleEntry
	load singleflight.Group
}

type ruleEntry struct {
	rules *CategoryRules
	at    time.Time
}

// NewRuleCache builds a cache (ttl and max of 0 select the defaults; now nil
// is time.Now).
func NewRuleCache(ttl time.Duration, max int, now func() time.Time) *RuleCache {
	if ttl <= 0 {
		ttl = DefaultRuleTTL
	}
	if max <= 0 {
		max = DefaultRuleEntries
	}
	if now == nil {
		now = time.Now
	}
	return &RuleCache{ttl: ttl, max: max, now: now, m: map[int64]ruleEntry{}}
}

// Get returns a category's rules, read through s when not cached (or
// stale). Concurrent misses of one category read once.
func (c *RuleCache) Get(ctx context.Context, s Shop, categoryID int64) (*CategoryRules, error) {
	c.mu.Lock()
	e, ok := c.m[categoryID]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.rules, nil
	}
	v, err, _ := c.load.Do(strconv.FormatInt(categoryID, 10), func() (any, error) {
		r, err := s.CategoryRules(context.WithoutCancel(ctx), categoryID)
		if err != nil {
			return nil, err
		}
		c.put(categoryID, r)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*CategoryRules), nil
}

// Len is the number of cached categories.
func (c *RuleCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *RuleCache) put(id int64, r *CategoryRules) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		var oldest int64
		var at time.Time
		for k, e := range c.m {
			if now.Sub(e.at) >= c.ttl {
				delete(c.m, k)
				continue
			}
			if at.IsZero() || e.at.Before(at) {
				oldest, at = k, e.at
			}
		}
		if len(c.m) >= c.max {
			delete(c.m, oldest)
		}
	}
	c.m[id] = ruleEntry{rules: r, at: now}
}

// PropInput is an item's value of one property, as a caller gives it.
type PropInput struct {
	PropID    int64
	Values    []PropValue // RADIO (one), CHECKBOX
	Text      string      // TEXT, NUMBER, EMAIL, URL
	ImageURLs []string    // IMAGE
	Time      time.Time   // DATETIME, start of DATETIMERANGE
	EndTime   time.Time   // end of DATETIMERANGE
}

// FieldErrors are several request problems, each a field violation.
type FieldErrors []*FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Description
	}
	return "commerce: " + strings.Join(parts, "; ")
}

// Check checks props against the rules (field names are "<field>[i]…" in
// the gateway's API): every property a property of the category and given
// once, its value in the member its input type uses, value ids among the
// property's values when they are all known, counts and lengths within
// the limits, and every required property present. It fills the value
// names the caller left empty. It returns nil when all is well.
func (r *CategoryRules) Check(field string, props []PropInput) FieldErrors {
	var errs FieldErrors
	add := func(f, format string, a ...any) {
		errs = append(errs, &FieldError{Field: f, Description: fmt.Sprintf(format, a...)})
	}
	seen := map[int64]bool{}
	for i := range props {
		p := &props[i]
		f := fmt.Sprintf("%s[%d]", field, i)
		rule, ok := r.Prop(p.PropID)
		if !ok {
			add(f+".property_id", "%d is not a property of category %d", p.PropID, r.CategoryID)
			continue
		}
		if seen[p.PropID] {
			add(f+".property_id", "property %d (%s) is given twice", p.PropID, rule.Name)
			continue
		}
		seen[p.PropID] = true
		rule.check(f, p, add)
	}
	for _, rule := range r.Props {
		if rule.Required && !seen[rule.ID] {
			add(field, "required property %d (%s) of category %d is missing", rule.ID, rule.Name, r.CategoryID)
		}
	}
	return errs
}

func (rule *PropRule) check(f string, p *PropInput, add func(f, format string, a ...any)) {
	wantValues := rule.Input == InputRadio || rule.Input == InputCheckbox
	wantText := rule.Input == InputText || rule.Input == InputNumber || rule.Input == InputEmail || rule.Input == InputURL
	wantTime := rule.Input == InputDatetime || rule.Input == InputDatetimeRange
	if !wantValues && len(p.Values) > 0 {
		add(f+".values", "property %d (%s) is %s: it takes no values", rule.ID, rule.Name, rule.InputName)
	}
	if !wantText && p.Text != "" {
		add(f+".text", "property %d (%s) is %s: it takes no text", rule.ID, rule.Name, rule.InputName)
	}
	if rule.Input != InputImage && len(p.ImageURLs) > 0 {
		add(f+".image_urls", "property %d (%s) is %s: it takes no images", rule.ID, rule.Name, rule.InputName)
	}
	if !wantTime && (!p.Time.IsZero() || !p.EndTime.IsZero()) {
		add(f+".time", "property %d (%s) is %s: it takes no time", rule.ID, rule.Name, rule.InputName)
	}
	switch {
	case wantValues:
		rule.checkValues(f, p, add)
	case wantText:
		rule.checkText(f, p.Text, add)
	case rule.Input == InputImage:
		n := len(p.ImageURLs)
		if n == 0 || (rule.MinImage > 0 && n < rule.MinImage) || (rule.MaxImage > 0 && n > rule.MaxImage) {
			add(f+".image_urls", "property %d (%s) takes %s images", rule.ID, rule.Name, bounds(max(rule.MinImage, 1), rule.MaxImage))
		}
	case rule.Input == InputDatetime:
		if p.Time.IsZero() {
			add(f+".time", "property %d (%s) needs a time", rule.ID, rule.Name)
		}
	case rule.Input == InputDatetimeRange:
		if p.Time.IsZero() || p.EndTime.IsZero() || !p.Time.Before(p.EndTime) {
			add(f+".end_time", "property %d (%s) needs a time and a later end_time", rule.ID, rule.Name)
		}
	default:
		add(f+".property_id", "property %d (%s) has an input type the gateway does not know (%q)", rule.ID, rule.Name, rule.InputName)
	}
}

func (rule *PropRule) checkValues(f string, p *PropInput, add func(f, format string, a ...any)) {
	n := len(p.Values)
	switch {
	case n == 0:
		add(f+".values", "property %d (%s) needs a value", rule.ID, rule.Name)
		return
	case rule.Input == InputRadio && n > 1:
		add(f+".values", "property %d (%s) takes one value, got %d", rule.ID, rule.Name, n)
	case rule.MaxValues > 0 && n > rule.MaxValues:
		add(f+".values", "property %d (%s) takes at most %d values, got %d", rule.ID, rule.Name, rule.MaxValues, n)
	}
	known := make(map[int64]string, len(rule.Values))
	for _, v := range rule.Values {
		known[v.ID] = v.Value
	}
	dup := map[int64]bool{}
	for j := range p.Values {
		v := &p.Values[j]
		vf := fmt.Sprintf("%s.values[%d]", f, j)
		if dup[v.ID] {
			add(vf+".value_id", "value %d is given twice", v.ID)
			continue
		}
		dup[v.ID] = true
		name, ok := known[v.ID]
		switch {
		case ok:
			if v.Value == "" {
				v.Value = name
			}
		case rule.Complete && !rule.CustomInput:
			add(vf+".value_id", "%d is not a value of property %d (%s)", v.ID, rule.ID, rule.Name)
		case v.Value == "":
			add(vf+".value", "value %d of property %d (%s) is not among the values the gateway read: give its text", v.ID, rule.ID, rule.Name)
		}
	}
}

func (rule *PropRule) checkText(f, text string, add func(f, format string, a ...any)) {
	if strings.TrimSpace(text) == "" {
		add(f+".text", "property %d (%s) needs a text", rule.ID, rule.Name)
		return
	}
	n := utf8.RuneCountInString(text)
	if (rule.MinLen > 0 && n < rule.MinLen) || (rule.MaxLen > 0 && n > rule.MaxLen) {
		add(f+".text", "property %d (%s) takes %s characters, got %d", rule.ID, rule.Name, bounds(rule.MinLen, rule.MaxLen), n)
	}
	switch rule.Input {
	case InputNumber:
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			add(f+".text", "property %d (%s) takes a number", rule.ID, rule.Name)
		}
	case InputEmail:
		if a, err := mail.ParseAddress(text); err != nil || a.Address != text {
			add(f+".text", "property %d (%s) takes an email address", rule.ID, rule.Name)
		}
	case InputURL:
		if u, err := url.Parse(text); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(f+".text", "property %d (%s) takes an http(s) URL", rule.ID, rule.Name)
		}
	}
}

func bounds(lo, hi int) string {
	switch {
	case hi > 0:
		return fmt.Sprintf("%d to %d", lo, hi)
	default:
		return fmt.Sprintf("at least %d", lo)
	}
}

// platformProps renders checked props as itemPropValues.
func platformProps(r *CategoryRules, props []PropInput) []map[string]any {
	out := make([]map[string]any, 0, len(props))
	for _, p := range props {
		rule, _ := r.Prop(p.PropID)
		m := map[string]any{"propId": p.PropID, "inputType": int(rule.Input), "propName": rule.Name, "propType": 2, "sortNum": rule.SortNum}
		vals := make([]map[string]any, len(p.Values))
		for i, v := range p.Values {
			vals[i] = map[string]any{"propValueId": v.ID, "propValue": v.Value}
		}
		switch rule.Input {
		case InputRadio:
			m["radioPropValue"] = vals[0]
		case InputCheckbox:
			m["checkBoxPropValuesList"] = vals
		case InputImage:
			m["imagePropValues"] = p.ImageURLs
		case InputDatetime:
			m["datetimeTimestamp"] = p.Time.UnixMilli()
		case InputDatetimeRange:
			m["dateRange"] = map[string]any{"startTimeTimestamp": p.Time.UnixMilli(), "endTimeTimestamp": p.EndTime.UnixMilli()}
		default:
			m["textPropValue"] = p.Text
		}
		out = append(out, m)
	}
	return out
}
