package check

// The operations kit (deploy/k8s/monitoring, docs/operations.md): the
// Prometheus Operator kinds decode as strictly as the core ones, alert rules
// go through Prometheus's own rule-file parser, PromQL through Prometheus's
// own parser, and the Grafana dashboard through the strict decoder generated
// from Grafana's dashboard schema.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func init() {
	// ServiceMonitor, PrometheusRule, ...: Build and Decode know them, with
	// the same strictness (unknown or duplicate fields are errors).
	utilruntime.Must(monitoringv1.AddToScheme(scheme.Scheme))
}

// PromQL is the PromQL parser with Prometheus's default options (no
// experimental functions), as a stock Prometheus server parses rules.
var PromQL = parser.NewParser(parser.Options{})

// Rules validates the groups of a PrometheusRule with Prometheus's rule-file
// parser (the one `promtool check rules` runs): field names, every
// expression, label and annotation names and templates, group names.
func Rules(pr *monitoringv1.PrometheusRule) (*rulefmt.RuleGroups, []error) {
	raw, err := yaml.Marshal(struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}{pr.Spec.Groups})
	if err != nil {
		return nil, []error{fmt.Errorf("check: PrometheusRule %s: %w", pr.Name, err)}
	}
	groups, errs := rulefmt.Parse(raw, false, model.LegacyValidation, PromQL, slog.New(slog.DiscardHandler))
	for i, err := range errs {
		errs[i] = fmt.Errorf("check: PrometheusRule %s: %w", pr.Name, err)
	}
	return groups, errs
}

// Selector is one series selector of a query: the metric name and the other
// label matchers.
type Selector struct {
	Metric   string
	Matchers []*labels.Matcher
}

// Query is what a PromQL expression reads: its series selectors and the
// labels its aggregations and vector matchings name.
type Query struct {
	Selectors []Selector
	Grouping  []string
}

// Analyze parses expr with PromQL and lists what it reads.
func Analyze(expr string) (Query, error) {
	e, err := PromQL.ParseExpr(expr)
	if err != nil {
		return Query{}, err
	}
	var q Query
	var errs []error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			s := Selector{Metric: n.Name}
			for _, m := range n.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					if m.Type != labels.MatchEqual {
						errs = append(errs, fmt.Errorf("selector %s: the metric name must be literal", n))
					}
					s.Metric = m.Value
					continue
				}
				s.Matchers = append(s.Matchers, m)
			}
			if s.Metric == "" {
				errs = append(errs, fmt.Errorf("selector %s names no metric", n))
			}
			q.Selectors = append(q.Selectors, s)
		case *parser.AggregateExpr:
			q.Grouping = append(q.Grouping, n.Grouping...)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				q.Grouping = append(q.Grouping, n.VectorMatching.MatchingLabels...)
				q.Grouping = append(q.Grouping, n.VectorMatching.Include...)
			}
		}
		return nil
	})
	return q, errors.Join(errs...)
}

// MetricDoc is one documented metric: the labels its series carry.
type MetricDoc struct {
	Labels map[string]bool
}

// MetricTable parses the first Markdown table after the line that starts
// with heading: the first cell names the metric in backticks (a histogram
// lists its series suffixes in parentheses: `name` (`_bucket`, `_sum`,
// `_count`)), the last cell its labels in backticks; text in parentheses
// there (value lists, notes) is not a label. "—" means no labels.
func MetricTable(md []byte, heading string) (map[string]MetricDoc, error) {
	lines := strings.Split(string(md), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, heading) })
	if start < 0 {
		return nil, fmt.Errorf("check: no heading %q", heading)
	}
	out := map[string]MetricDoc{}
	inTable := false
	for _, l := range lines[start+1:] {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if !inTable { // the header row
			inTable = true
			continue
		}
		if strings.Trim(cells[0], " -:") == "" { // the separator row
			continue
		}
		names := backticked(cells[0])
		if len(names) == 0 {
			return nil, fmt.Errorf("check: %s table: row %q names no metric in backticks", heading, l)
		}
		doc := MetricDoc{Labels: map[string]bool{}}
		for _, lb := range backticked(parenthesised.ReplaceAllString(cells[len(cells)-1], "")) {
			name, _, _ := strings.Cut(lb, "=")
			doc.Labels[name] = true
		}
		var series []string
		for _, suffix := range names[1:] {
			if strings.HasPrefix(suffix, "_") {
				series = append(series, names[0]+suffix)
			}
		}
		if len(series) == 0 {
			series = names[:1]
		}
		for _, s := range series {
			d := MetricDoc{Labels: map[string]bool{}}
			for k := range doc.Labels {
				d.Labels[k] = true
			}
			if strings.HasSuffix(s, "_bucket") {
				d.Labels["le"] = true
			}
			out[s] = d
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("check: no metric table after %q", heading)
	}
	return out, nil
}

var (
	parenthesised = regexp.MustCompile(`\([^)]*\)`)
	backtick      = regexp.MustCompile("`([^`]+)`")
)

func backticked(s string) []string {
	var out []string
	for _, m := range backtick.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Backticked is every `code` span of the Markdown files, outside fenced
// code blocks: the words the docs spell out, used to check that a label
// value a query matches is documented.
func Backticked(mds ...[]byte) map[string]bool {
	out := map[string]bool{}
	for _, md := range mds {
		fenced := false
		for _, l := range strings.Split(string(md), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				fenced = !fenced
				continue
			}
			if fenced {
				continue
			}
			for _, w := range backticked(l) {
				out[w] = true
			}
		}
	}
	return out
}

// Vocabulary is what a query may name: documented metrics with their labels,
// the labels the scrape adds to every series, and the documented words a
// label value may be.
type Vocabulary struct {
	Metrics      map[string]MetricDoc
	TargetLabels map[string]bool
	Values       map[string]bool
}

// CheckQuery reports every metric, label and label value of q that the
// vocabulary does not document. Values are checked for literal equality and
// plain alternation matchers on documented metric labels; values that hold
// a dashboard variable ($x) are not checked.
func (v Vocabulary) CheckQuery(q Query) []error {
	var errs []error
	used := map[string]bool{}
	for k := range v.TargetLabels {
		used[k] = true
	}
	for _, s := range q.Selectors {
		doc, ok := v.Metrics[s.Metric]
		if !ok {
			errs = append(errs, fmt.Errorf("metric %s is not documented", s.Metric))
			continue
		}
		for k := range doc.Labels {
			used[k] = true
		}
		for _, m := range s.Matchers {
			if v.TargetLabels[m.Name] {
				continue
			}
			if !doc.Labels[m.Name] {
				errs = append(errs, fmt.Errorf("%s has no documented label %s", s.Metric, m.Name))
				continue
			}
			for _, val := range literalValues(m) {
				if !v.Values[val] {
					errs = append(errs, fmt.Errorf("%s{%s}: value %q is not documented", s.Metric, m.Name, val))
				}
			}
		}
	}
	for _, g := range q.Grouping {
		if !used[g] {
			errs = append(errs, fmt.Errorf("grouping label %s is on none of the query's metrics", g))
		}
	}
	return errs
}

var plainAlternation = regexp.MustCompile(`^[A-Za-z0-9_.\-]+(\|[A-Za-z0-9_.\-]+)*$`)

// literalValues is the values a matcher names, when they are plain words.
func literalValues(m *labels.Matcher) []string {
	switch {
	case strings.Contains(m.Value, "$"):
		return nil
	case m.Type == labels.MatchEqual || m.Type == labels.MatchNotEqual:
		if m.Value == "" {
			return nil
		}
		return []string{m.Value}
	case plainAlternation.MatchString(m.Value):
		return strings.Split(m.Value, "|")
	}
	return nil
}

// LabelValues is the values of the equality matchers on label name in q.
func (q Query) LabelValues(name string) []string {
	var out []string
	for _, s := range q.Selectors {
		for _, m := range s.Matchers {
			if m.Name == name && m.Type == labels.MatchEqual {
				out = append(out, m.Value)
			}
		}
	}
	return out
}

var registerPanels = sync.OnceFunc(plugins.RegisterDefaultPlugins)

// Dashboard checks a Grafana dashboard strictly against Grafana's published
// dashboard schema (the Grafana Foundation SDK's generated types): unknown
// fields, wrong types and missing required fields are errors, in the
// dashboard, its panels and variables, the options of every known panel
// type, and every query that names its datasource type (the schema of a
// query is chosen by that type). It returns the decoded dashboard.
func Dashboard(raw []byte) (*dashboard.Dashboard, error) {
	registerPanels()
	// The SDK's strict decoder validates, but returns its (possibly empty)
	// list of errors as a non-nil error, and its union types drop the
	// decoded value on that path; so it only validates here, and the
	// ordinary decoder, which builds the same typed values, decodes.
	err := new(dashboard.Dashboard).UnmarshalJSONStrict(raw)
	if be := (cog.BuildErrors{}); errors.As(err, &be) && len(be) == 0 {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("check: dashboard: %w", err)
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("check: dashboard: %w", err)
	}
	return &d, nil
}

// KnownPanelType reports whether the schema knows the panel type (row or a
// registered panel plugin), so its options were checked.
func KnownPanelType(t string) bool {
	registerPanels()
	_, ok := cog.ConfigForPanelcfgVariant(t)
	return ok || t == "row"
}

// Panels flattens the dashboard's panels, those inside collapsed rows
// included; rows themselves are returned as rows.
func Panels(d *dashboard.Dashboard) (panels []*dashboard.Panel, rows []*dashboard.RowPanel) {
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			panels = append(panels, p.Panel)
		case p.RowPanel != nil:
			rows = append(rows, p.RowPanel)
			for i := range p.RowPanel.Panels {
				panels = append(panels, &p.RowPanel.Panels[i])
			}
		}
	}
	return panels, rows
}

// grafanaVar is a dashboard variable reference: $name, ${name} or
// ${name:format}.
var grafanaVar = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z0-9_]+))`)

// GrafanaIntervals are the built-in interval variables a panel query may use
// where PromQL wants a duration.
var GrafanaIntervals = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}

// ExpandVariables replaces Grafana's interval variables with durations, so
// the query parses as PromQL, and reports every other variable that is not
// one of defined (the dashboard's own variables). Those stay as they are:
// they may only appear inside label-value strings, where PromQL accepts any
// text.
func ExpandVariables(expr string, defined map[string]bool) (string, error) {
	var errs []error
	out := grafanaVar.ReplaceAllStringFunc(expr, func(ref string) string {
		m := grafanaVar.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if d, ok := GrafanaIntervals[name]; ok {
			return d
		}
		if !defined[name] {
			errs = append(errs, fmt.Errorf("variable $%s is not defined by the dashboard", name))
		}
		return ref
	})
	return out, errors.Join(errs...)
}

// labelValuesQuery is a Prometheus template variable query:
// label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// VariableQuery parses a Prometheus variable query of the label_values form
// into the query it reads: the selector and the label as grouping.
func VariableQuery(s string, defined map[string]bool) (Query, error) {
	m := labelValuesQuery.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Query{}, fmt.Errorf("variable query %q is not label_values(selector, label)", s)
	}
	sel, err := ExpandVariables(m[1], defined)
	if err != nil {
		return Query{}, err
	}
	q, err := Analyze(sel)
	if err != nil {
		return Query{}, err
	}
	if len(q.Selectors) != 1 {
		return Query{}, fmt.Errorf("variable query %q: want one selector", s)
	}
	q.Grouping = append(q.Grouping, m[2])
	return q, nil
}

// Overlaps reports the pairs of grid rectangles that overlap: on Grafana's
// 24-column grid, panels that overlap are pushed around on load, so the
// layout would not be the one in the file.
func Overlaps(pos map[uint32]dashboard.GridPos) []error {
	ids := make([]uint32, 0, len(pos))
	for id := range pos {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for i, a := range ids {
		pa := pos[a]
		if pa.X+pa.W > 24 || pa.W == 0 || pa.H == 0 {
			errs = append(errs, fmt.Errorf("panel %d: gridPos %+v is off the 24-column grid", a, pa))
		}
		for _, b := range ids[i+1:] {
			pb := pos[b]
			if pa.X < pb.X+pb.W && pb.X < pa.X+pa.W && pa.Y < pb.Y+pb.H && pb.Y < pa.Y+pa.H {
				errs = append(errs, fmt.Errorf("panels %d and %d overlap (%+v, %+v)", a, b, pa, pb))
			}
		}
	}
	return errs
}
