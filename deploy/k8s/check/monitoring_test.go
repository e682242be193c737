package check

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The operations kit and the docs it is checked against.
const (
	monitoringDir         = "deploy/k8s/monitoring"
	ruleFile              = monitoringDir + "/prometheusrule.yaml"
	metricsSecretTemplate = monitoringDir + "/secret.template.yaml"
	dashboardFile         = monitoringDir + "/kwaishop-gateway.dashboard.json"
	dashboardConfigMap    = "kwaishop-gateway-dashboard"
	observabilityDoc      = "docs/observability.md"
	operationsDoc         = "docs/operations.md"
	// Where every alert's runbook_url points: its section of docs/operations.md.
	runbookBase = "https://github.com/kwaishop-gateway/kwaishop-gateway/blob/main/docs/operations.md#"
	// kubectl apply keeps the whole object in an annotation limited to 256 KiB.
	maxDashboardBytes = 200 << 10
)

// Labels every scraped series carries besides its own: the target labels
// the Prometheus Operator's ServiceMonitor relabelling sets.
var targetLabels = map[string]bool{
	"job": true, "instance": true, "namespace": true, "pod": true, "service": true, "endpoint": true, "container": true,
}

var severities = []string{"critical", "warning", "info"}

// What the kit must watch (issue 18): per metric, a reason it is required.
// Each must appear in at least one alert.
var alertedMetrics = map[string]string{
	"kwaishop_upstream_calls_total":             "upstream error rate per API",
	"kwaishop_token_refreshes_total":            "refresh failures",
	"kwaishop_authorizations":                   "revoked, expired and refresh_failed authorizations",
	"kwaishop_quota_utilization_ratio":          "quota at 90 %",
	"kwaishop_messages_consumer_lag":            "message lag",
	"kwaishop_messages_dead_lettered_total":     "dead letters",
	"kwaishop_webhook_lag_seconds":              "webhook lag",
	"kwaishop_webhook_dead_letters_total":       "webhook dead letters",
	"kwaishop_webhook_disabled_total":           "webhook endpoints disabled",
	"kube_statefulset_status_replicas_ready":    "NATS unavailable",
	"kube_deployment_status_replicas_available": "gateway not ready (its readiness is the store's)",
	"up": "the scrape itself (a refused key silences every other alert)",
}

func readDoc(t *testing.T, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// vocabulary is what queries may name: the gateway's metrics as
// docs/observability.md lists them, the other sources' metrics as
// docs/operations.md lists them, the scrape's target labels, and every word
// the two docs spell in backticks as a label value.
func vocabulary(t *testing.T) Vocabulary {
	t.Helper()
	obs, ops := readDoc(t, observabilityDoc), readDoc(t, operationsDoc)
	gw, err := MetricTable(obs, "## Metrics")
	if err != nil {
		t.Fatal(err)
	}
	other, err := MetricTable(ops, "## Metrics from other sources")
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]MetricDoc{}
	for _, m := range []map[string]MetricDoc{gw, other} {
		for k, v := range m {
			if _, dup := metrics[k]; dup {
				t.Errorf("metric %s is documented twice", k)
			}
			metrics[k] = v
		}
	}
	for _, want := range []string{"kwaishop_upstream_calls_total", "kwaishop_upstream_duration_seconds_bucket", "kwaishop_messages_consumer_lag", "up"} {
		if _, ok := metrics[want]; !ok {
			t.Fatalf("the metric tables do not list %s: parsed %d metrics", want, len(metrics))
		}
	}
	return Vocabulary{Metrics: metrics, TargetLabels: targetLabels, Values: Backticked(obs, ops)}
}

// alertSections is the alert names docs/operations.md has a section for:
// the ### headings under "## Alerts".
func alertSections(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	in := false
	for _, l := range strings.Split(string(readDoc(t, operationsDoc)), "\n") {
		switch {
		case strings.HasPrefix(l, "## "):
			in = strings.TrimSpace(l) == "## Alerts"
		case in && strings.HasPrefix(l, "### "):
			out[strings.TrimSpace(strings.TrimPrefix(l, "### "))] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no ### sections under ## Alerts", operationsDoc)
	}
	return out
}

func loadRule(t *testing.T) *monitoringv1.PrometheusRule {
	t.Helper()
	objs, err := DecodeFile(filepath.Join(root(t), ruleFile))
	if err != nil {
		t.Fatal(err)
	}
	rules := Find[*monitoringv1.PrometheusRule](objs)
	if len(objs) != 1 || len(rules) != 1 {
		t.Fatalf("%s: %d objects, %d PrometheusRules: want exactly one PrometheusRule", ruleFile, len(objs), len(rules))
	}
	for _, pr := range rules {
		return pr
	}
	return nil
}

// TestMonitoring_Rules: every alert parses with Prometheus's rule parser,
// reads only documented metrics, labels and values, carries a severity, a
// summary, a description and a runbook link to its own section of
// docs/operations.md, and every section there is an alert; together the
// alerts watch what the issue asks for.
func TestMonitoring_Rules(t *testing.T) {
	t.Parallel()
	pr := loadRule(t)
	groups, errs := Rules(pr)
	errsOf(t, errs)
	if groups == nil {
		t.FailNow()
	}
	vocab := vocabulary(t)
	sections := alertSections(t)
	seen := map[string]bool{}
	read := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: recording rule %s: the kit has alerts only", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("alert %s is defined twice", name)
			}
			seen[name] = true
			if !slices.Contains(severities, r.Labels["severity"]) {
				t.Errorf("alert %s: severity %q, want one of %v", name, r.Labels["severity"], severities)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s has no %s", name, a)
				}
			}
			if want := runbookBase + anchor(name); r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s: runbook_url %q, want %q", name, r.Annotations["runbook_url"], want)
			}
			if !sections[name] {
				t.Errorf("alert %s has no section (### %s) under ## Alerts in %s", name, name, operationsDoc)
			}
			q, err := Analyze(r.Expr)
			if err != nil {
				t.Errorf("alert %s: %v", name, err)
				continue
			}
			for _, err := range vocab.CheckQuery(q) {
				t.Errorf("alert %s: %v", name, err)
			}
			for _, s := range q.Selectors {
				read[s.Metric] = true
			}
		}
	}
	for s := range sections {
		if !seen[s] {
			t.Errorf("%s documents alert %s, which no rule defines", operationsDoc, s)
		}
	}
	for m, why := range alertedMetrics {
		if !read[m] {
			t.Errorf("no alert reads %s (%s)", m, why)
		}
	}
}

// anchor is the fragment GitHub gives a Markdown heading.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestMonitoring_Dashboard: the dashboard decodes strictly against Grafana's
// dashboard schema; every panel has a unique id and a place on the grid,
// reads the Prometheus datasource variable, and has queries that parse as
// PromQL and read only documented metrics, labels and values; every
// variable it uses is defined; it draws every metric the gateway exports.
func TestMonitoring_Dashboard(t *testing.T) {
	t.Parallel()
	raw := readDoc(t, dashboardFile)
	if len(raw) > maxDashboardBytes {
		t.Errorf("%s is %d bytes: over %d, kubectl apply could not store its ConfigMap", dashboardFile, len(raw), maxDashboardBytes)
	}
	d, err := Dashboard(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
		t.Error("the dashboard needs a uid and a title (provisioning keys on the uid)")
	}
	if d.SchemaVersion < 39 {
		t.Errorf("schemaVersion %d: want a current one (≥ 39, Grafana 11)", d.SchemaVersion)
	}
	vocab := vocabulary(t)

	// Variables: a Prometheus datasource picker, and label_values queries
	// over documented metrics.
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		defined[v.Name] = true
	}
	const dsRef = "${datasource}"
	hasDS := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case dashboard.VariableTypeDatasource:
			if v.Name == "datasource" && v.Query != nil && v.Query.String != nil && *v.Query.String == "prometheus" {
				hasDS = true
			}
		case dashboard.VariableTypeQuery:
			if v.Datasource == nil || v.Datasource.Uid == nil || *v.Datasource.Uid != dsRef {
				t.Errorf("variable %s does not query %s", v.Name, dsRef)
			}
			var text string
			switch {
			case v.Query != nil && v.Query.String != nil:
				text = *v.Query.String
			case v.Query != nil && v.Query.Map != nil:
				text, _ = v.Query.Map["query"].(string)
			}
			q, err := VariableQuery(text, defined)
			if err != nil {
				t.Errorf("variable %s: %v", v.Name, err)
				continue
			}
			for _, err := range vocab.CheckQuery(q) {
				t.Errorf("variable %s: %v", v.Name, err)
			}
		}
	}
	if !hasDS {
		t.Errorf("no datasource variable named datasource of type prometheus (panels refer to %s)", dsRef)
	}

	panels, rows := Panels(d)
	if len(panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	ids := map[uint32]string{}
	grid := map[uint32]dashboard.GridPos{}
	place := func(id uint32, title string, pos *dashboard.GridPos) {
		if prev, dup := ids[id]; dup {
			t.Errorf("panel id %d is used by %q and %q", id, prev, title)
		}
		ids[id] = title
		if pos == nil {
			t.Errorf("panel %d %q has no gridPos", id, title)
			return
		}
		grid[id] = *pos
	}
	for _, r := range rows {
		place(r.Id, "row "+deref(r.Title), r.GridPos)
	}
	read := map[string]bool{}
	for _, p := range panels {
		title := deref(p.Title)
		if p.Id == nil || *p.Id == 0 {
			t.Errorf("panel %q has no id", title)
			continue
		}
		place(*p.Id, title, p.GridPos)
		where := fmt.Sprintf("panel %d %q", *p.Id, title)
		if title == "" {
			t.Errorf("%s has no title", where)
		}
		if !KnownPanelType(p.Type) {
			t.Errorf("%s: panel type %q is not in Grafana's schema", where, p.Type)
		}
		if p.Datasource == nil || deref(p.Datasource.Type) != "prometheus" || deref(p.Datasource.Uid) != dsRef {
			t.Errorf("%s: datasource %+v, want {type: prometheus, uid: %s}", where, p.Datasource, dsRef)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s has no queries", where)
		}
		refs := map[string]bool{}
		for i, target := range p.Targets {
			pq, ok := target.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("%s: target %d is %T, not a Prometheus query", where, i, target)
				continue
			}
			ref := deref(pq.RefId)
			if ref == "" || refs[ref] {
				t.Errorf("%s: target %d: refId %q is empty or repeated", where, i, ref)
			}
			refs[ref] = true
			// The query's own datasource type selects the schema its fields
			// were checked against.
			if pq.Datasource == nil || deref(pq.Datasource.Type) != "prometheus" || deref(pq.Datasource.Uid) != dsRef {
				t.Errorf("%s: target %s: datasource %+v, want {type: prometheus, uid: %s}", where, ref, pq.Datasource, dsRef)
			}
			expr, err := ExpandVariables(pq.Expr, defined)
			if err != nil {
				t.Errorf("%s: target %s: %v", where, ref, err)
			}
			q, err := Analyze(expr)
			if err != nil {
				t.Errorf("%s: target %s: %q does not parse: %v", where, ref, pq.Expr, err)
				continue
			}
			for _, err := range vocab.CheckQuery(q) {
				t.Errorf("%s: target %s: %v", where, ref, err)
			}
			for _, s := range q.Selectors {
				read[s.Metric] = true
			}
		}
	}
	errsOf(t, Overlaps(grid))

	// Every metric the gateway exports is on the dashboard (a histogram
	// counts through any of its series).
	gw, err := MetricTable(readDoc(t, observabilityDoc), "## Metrics")
	if err != nil {
		t.Fatal(err)
	}
	for m := range gw {
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
		drawn := slices.ContainsFunc([]string{family, family + "_bucket", family + "_sum", family + "_count"}, func(s string) bool { return read[s] })
		if !drawn && m != "target_info" {
			t.Errorf("no panel draws %s", m)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestMonitoring_Production: the production overlay ships the kit; the
// ServiceMonitor scrapes exactly the gateway's Service on the HTTP port at
// /metrics with the key from the Secret the template describes; the names
// the rules and the dashboard match on (job, deployment, statefulset) are
// those of the build; the dashboard ConfigMap carries the file unchanged,
// labelled for Grafana's dashboard sidecar.
func TestMonitoring_Production(t *testing.T) {
	t.Parallel()
	r := root(t)
	objs, err := Build(filepath.Join(r, "deploy/k8s/overlays/production"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := DecodeFile(filepath.Join(r, metricsSecretTemplate))
	if err != nil {
		t.Fatal(err)
	}
	secrets := Find[*corev1.Secret](tmpl)
	if len(tmpl) != 1 || len(secrets) != 1 {
		t.Fatalf("%s: want exactly one Secret", metricsSecretTemplate)
	}
	var secret *corev1.Secret
	for _, s := range secrets {
		secret = s
	}
	if len(secret.StringData) != 1 {
		t.Errorf("Secret %s template has keys %v: it holds the scrape key only", secret.Name, secret.StringData)
	}

	sms := Find[*monitoringv1.ServiceMonitor](objs)
	sm, ok := sms[gatewayName]
	if !ok || len(sms) != 1 {
		t.Fatalf("the production build has ServiceMonitors %v: want one named %s", keys(sms), gatewayName)
	}
	svcs := Find[*corev1.Service](objs)
	var scraped []*corev1.Service
	for _, svc := range svcs {
		if SelectorMatches(sm.Spec.Selector.MatchLabels, svc.Labels) && len(sm.Spec.Selector.MatchExpressions) == 0 {
			scraped = append(scraped, svc)
		}
	}
	if len(scraped) != 1 || scraped[0].Name != gatewayName {
		t.Fatalf("ServiceMonitor selector %v selects %d Services, want only %s", sm.Spec.Selector.MatchLabels, len(scraped), gatewayName)
	}
	if sm.Spec.NamespaceSelector.Any || len(sm.Spec.NamespaceSelector.MatchNames) != 0 {
		t.Errorf("ServiceMonitor namespaceSelector %+v: scrape only its own namespace", sm.Spec.NamespaceSelector)
	}
	if sm.Spec.JobLabel != "" {
		t.Errorf("ServiceMonitor jobLabel %q: the rules match job=%q, the Service name", sm.Spec.JobLabel, gatewayName)
	}
	container := Find[*appsv1.Deployment](objs)[gatewayName].Spec.Template.Spec.Containers[0]
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor has %d endpoints, want 1", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	var port *corev1.ServicePort
	for i, p := range scraped[0].Spec.Ports {
		if p.Name == ep.Port {
			port = &scraped[0].Spec.Ports[i]
		}
	}
	if port == nil {
		t.Errorf("endpoint port %q is not a port of Service %s", ep.Port, gatewayName)
	} else if n, ok := ContainerPort(container, port.TargetPort); !ok || n != gatewayHTTP {
		t.Errorf("endpoint port %q reaches container port %d, want the HTTP port %d (it serves /metrics)", ep.Port, n, gatewayHTTP)
	}
	if ep.Path != "/metrics" {
		t.Errorf("endpoint path %q, want /metrics", ep.Path)
	}
	a := ep.Authorization
	if a == nil || a.Type != "Bearer" || a.Credentials == nil || a.Credentials.Name != secret.Name {
		t.Errorf("endpoint authorization %+v: want type Bearer with credentials from Secret %s", a, secret.Name)
	} else if _, ok := secret.StringData[a.Credentials.Key]; !ok {
		t.Errorf("endpoint credentials key %q is not a key of the Secret template %v", a.Credentials.Key, keys(secret.StringData))
	}
	if ep.BasicAuth != nil || ep.BearerTokenSecret != nil || ep.HonorLabels {
		t.Error("endpoint: no basicAuth, no deprecated bearerTokenSecret, no honorLabels (the gateway's labels must not override the target's)")
	}

	// The names the queries match on are the build's.
	prs := Find[*monitoringv1.PrometheusRule](objs)
	pr, ok := prs[loadRule(t).Name]
	if !ok || len(prs) != 1 {
		t.Fatalf("the production build has PrometheusRules %v, want the one of %s", keys(prs), ruleFile)
	}
	names := map[string]map[string]bool{
		"job":         {gatewayName: true},
		"deployment":  {},
		"statefulset": {},
	}
	for n := range Find[*appsv1.Deployment](objs) {
		names["deployment"][n] = true
	}
	for n := range Find[*appsv1.StatefulSet](objs) {
		names["statefulset"][n] = true
	}
	checkNames := func(where, expr string) {
		q, err := Analyze(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for label, want := range names {
			for _, v := range q.LabelValues(label) {
				if !want[v] {
					t.Errorf("%s matches %s=%q: not a name in the production build (%v)", where, label, v, keys(want))
				}
			}
		}
	}
	for _, g := range pr.Spec.Groups {
		for _, rule := range g.Rules {
			checkNames("alert "+rule.Alert, rule.Expr.String())
		}
	}

	cm, ok := Find[*corev1.ConfigMap](objs)[dashboardConfigMap]
	if !ok {
		t.Fatalf("no ConfigMap %s (without a name hash) in the production build", dashboardConfigMap)
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("ConfigMap %s labels %v: want grafana_dashboard=1 for Grafana's dashboard sidecar", cm.Name, cm.Labels)
	}
	file := readDoc(t, dashboardFile)
	if len(cm.Data) != 1 || cm.Data[filepath.Base(dashboardFile)] != string(file) {
		t.Errorf("ConfigMap %s does not hold %s unchanged (keys %v)", cm.Name, dashboardFile, keys(cm.Data))
	}
	d, err := Dashboard(file)
	if err != nil {
		t.Fatal(err)
	}
	panels, _ := Panels(d)
	for _, p := range panels {
		for _, target := range p.Targets {
			if pq, ok := target.(*prometheus.Dataquery); ok {
				expr, _ := ExpandVariables(pq.Expr, nil) // TestMonitoring_Dashboard checks the variables
				checkNames(fmt.Sprintf("panel %q", deref(p.Title)), expr)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestMonitoring_ChecksCatchMistakes feeds the checks the mistakes they
// exist for, so none of them passes vacuously.
func TestMonitoring_ChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	vocab := vocabulary(t)
	rule := func(expr string, extra string) string {
		return "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: " + expr + "\n" + extra
	}
	t.Run("rule_with_an_unknown_field", func(t *testing.T) {
		t.Parallel()
		if _, err := Decode([]byte(rule("up == 0", "      severity: critical\n"))); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("Decode error = %v, want an unknown field", err)
		}
	})
	for _, tc := range []struct{ name, expr, want string }{
		{"expression_that_does_not_parse", `sum(rate(kwaishop_upstream_calls_total[5m])`, "could not parse"},
		{"template_that_does_not_parse", `up == 0` + "\n      annotations: {summary: '{{ $labels.job '}", "annotation"},
	} {
		t.Run("rule_"+tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := Decode([]byte(rule(tc.expr, "")))
			if err != nil {
				t.Fatal(err)
			}
			_, errs := Rules(o.Obj.(*monitoringv1.PrometheusRule))
			if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), tc.want) {
				t.Fatalf("Rules errors = %v, want one containing %q", errs, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, expr, want string }{
		{"undocumented_metric", `rate(kwaishop_upstream_errors_total[5m]) > 0`, "not documented"},
		{"undocumented_label", `kwaishop_messages_consumer_lag{kwaishop_event="x"} > 0`, "no documented label"},
		{"undocumented_value", `rate(kwaishop_token_refreshes_total{kwaishop_outcome="failed"}[5m]) > 0`, `"failed" is not documented`},
		{"undocumented_alternative", `rate(kwaishop_upstream_calls_total{kwaishop_error_class=~"upstream|timeout"}[5m]) > 0`, `"timeout" is not documented`},
		{"grouping_by_a_label_the_metric_lacks", `sum by (kwaishop_method) (kwaishop_messages_consumer_lag)`, "grouping label kwaishop_method"},
		{"selector_without_a_name", `{kwaishop_method="x"}`, "names no metric"},
	} {
		t.Run("query_"+tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := Analyze(tc.expr)
			errs := vocab.CheckQuery(q)
			if err != nil {
				errs = append(errs, err)
			}
			if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), tc.want) {
				t.Fatalf("errors = %v, want one containing %q", errs, tc.want)
			}
		})
	}
	t.Run("query_that_is_fine", func(t *testing.T) {
		t.Parallel()
		q, err := Analyze(`sum by (namespace, kwaishop_method) (rate(kwaishop_upstream_calls_total{kwaishop_error_class!~"none|canceled"}[5m]))`)
		if errs := vocab.CheckQuery(q); err != nil || len(errs) != 0 {
			t.Fatalf("a documented query: %v %v", err, errs)
		}
	})

	panel := `{"type": "timeseries", "id": 1, "title": "p", "gridPos": {"h": 4, "w": 12, "x": 0, "y": 0},
	  "datasource": {"type": "prometheus", "uid": "${datasource}"},
	  "targets": [{"refId": "A", "expr": "up", "datasource": {"type": "prometheus", "uid": "${datasource}"}}]%s}`
	for _, tc := range []struct{ name, json, want string }{
		{"unknown_dashboard_field", `{"title": "d", "schemaVersion": 41, "panels": [], "refreshInterval": "5s"}`, "unexpected field"},
		{"missing_schema_version", `{"title": "d", "panels": []}`, "schemaVersion"},
		{"unknown_panel_option", `{"title": "d", "schemaVersion": 41, "panels": [` + fmt.Sprintf(panel, `, "options": {"legend": {"showLegend": true, "displayMode": "list", "placement": "bottom", "calcs": []}, "tooltip": {"mode": "single", "sort": "none"}, "legendz": 1}`) + `]}`, "legendz"},
		{"unknown_query_field", `{"title": "d", "schemaVersion": 41, "templating": {"list": []}, "annotations": {"list": []}, "panels": [{"type": "stat", "id": 1, "datasource": {"type": "prometheus", "uid": "x"}, "targets": [{"refId": "A", "expr": "up", "exprr": "up", "datasource": {"type": "prometheus", "uid": "x"}}]}]}`, "exprr"},
	} {
		t.Run("dashboard_"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Dashboard([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dashboard error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("dashboard_that_is_fine", func(t *testing.T) {
		t.Parallel()
		d, err := Dashboard([]byte(`{"title": "d", "schemaVersion": 41, "templating": {"list": []}, "annotations": {"list": []}, "panels": [` + fmt.Sprintf(panel, "") + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := Panels(d); len(p) != 1 || len(p[0].Targets) != 1 {
			t.Fatalf("panels %+v", p)
		}
		if _, ok := p0(d).Targets[0].(*prometheus.Dataquery); !ok {
			t.Fatalf("target is %T, want a Prometheus query", p0(d).Targets[0])
		}
	})
	t.Run("undefined_variable", func(t *testing.T) {
		t.Parallel()
		if _, err := ExpandVariables(`rate(up{namespace=~"$ns"}[$__rate_interval])`, map[string]bool{"namespace": true}); err == nil || !strings.Contains(err.Error(), "$ns") {
			t.Fatalf("ExpandVariables error = %v, want $ns undefined", err)
		}
		out, err := ExpandVariables(`rate(up{namespace=~"${namespace}"}[$__rate_interval])`, map[string]bool{"namespace": true})
		if err != nil || out != `rate(up{namespace=~"${namespace}"}[5m])` {
			t.Fatalf("ExpandVariables = %q, %v", out, err)
		}
	})
	t.Run("overlapping_panels", func(t *testing.T) {
		t.Parallel()
		errs := Overlaps(map[uint32]dashboard.GridPos{1: {H: 4, W: 12}, 2: {H: 4, W: 12, X: 6, Y: 2}, 3: {H: 4, W: 12, X: 12, Y: 4}, 4: {H: 1, W: 25}})
		got := regexp.MustCompile(`panels? \d+( and \d+)?`).FindAllString(fmt.Sprint(errs), -1)
		if !slices.Equal(got, []string{"panels 1 and 2", "panels 1 and 4", "panels 2 and 3", "panel 4"}) {
			t.Fatalf("Overlaps = %v", errs)
		}
	})
	t.Run("runbook_anchor", func(t *testing.T) {
		t.Parallel()
		if got := anchor("KwaishopNATSQuorumLost"); got != "kwaishopnatsquorumlost" {
			t.Fatalf("anchor = %q", got)
		}
	})
	t.Run("metric_table", func(t *testing.T) {
		t.Parallel()
		md := "## Metrics (x)\n\ntext\n\n| name | type | labels |\n|---|---|---|\n" +
			"| `a_seconds` (`_bucket`, `_count`) | histogram | `m`, `c` (`none` on success) |\n| `b_total` | counter | — |\n\nafter\n| `z` | | |\n"
		got, err := MetricTable([]byte(md), "## Metrics")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !got["a_seconds_bucket"].Labels["le"] || !got["a_seconds_count"].Labels["c"] || got["a_seconds_count"].Labels["none"] ||
			len(got["b_total"].Labels) != 0 {
			t.Fatalf("MetricTable = %+v", got)
		}
	})
}

func p0(d *dashboard.Dashboard) *dashboard.Panel {
	p, _ := Panels(d)
	return p[0]
}
