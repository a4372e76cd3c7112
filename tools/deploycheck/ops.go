package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/dtecl/pipeline/shared/telemetry"
)

// The ready-made operations files (deploy/observability, issue 15): Grafana
// dashboards (JSON) and Prometheus alerting and recording rules (YAML).
// GrafanaDashboard and RuleFile read them the way Grafana and Prometheus
// would and report what would break there; CheckExpr parses each query with
// Prometheus's own PromQL parser and reports every metric or label it
// names that the code does not export (Registered).

// GrafanaDashboard reads a Grafana dashboard (the JSON a "share → export"
// gives) and returns its queries (PromQL) with problems: a missing title,
// uid or schemaVersion, no panels, a panel without a type, title or
// gridPos, a graph without queries, a query without expr or refId, a
// datasource variable that templating does not define.
func GrafanaDashboard(path string) (exprs []string, problems []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var d struct {
		Title         string            `json:"title"`
		UID           string            `json:"uid"`
		SchemaVersion *int              `json:"schemaVersion"`
		Panels        []json.RawMessage `json:"panels"`
		Templating    struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, nil, fmt.Errorf("%s: not a dashboard: %w", path, err)
	}
	add := func(format string, args ...any) { problems = append(problems, path+": "+fmt.Sprintf(format, args...)) }
	if d.Title == "" {
		add("no title")
	}
	if d.UID == "" || len(d.UID) > 40 {
		add("uid %q: want 1 to 40 characters (links to the dashboard use it)", d.UID)
	}
	if d.SchemaVersion == nil {
		add("no schemaVersion")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, in := range d.Inputs {
		vars[in.Name] = true
	}
	if len(d.Panels) == 0 {
		add("no panels")
	}
	var walk func(where string, panels []json.RawMessage)
	walk = func(where string, panels []json.RawMessage) {
		for i, raw := range panels {
			var p struct {
				Type       string                     `json:"type"`
				Title      string                     `json:"title"`
				GridPos    *struct{ H, W, X, Y *int } `json:"gridPos"`
				Datasource json.RawMessage            `json:"datasource"`
				Targets    []struct {
					Expr       string          `json:"expr"`
					RefID      string          `json:"refId"`
					Datasource json.RawMessage `json:"datasource"`
				} `json:"targets"`
				Panels []json.RawMessage `json:"panels"`
			}
			at := fmt.Sprintf("%s[%d]", where, i)
			if err := json.Unmarshal(raw, &p); err != nil {
				add("%s: %v", at, err)
				continue
			}
			if p.Title != "" {
				at += " " + strconvQuote(p.Title)
			}
			if p.Type == "" {
				add("%s: no type", at)
			}
			if p.Title == "" && p.Type != "row" && p.Type != "text" {
				add("%s: no title", at)
			}
			if g := p.GridPos; g == nil || g.H == nil || g.W == nil || g.X == nil || g.Y == nil {
				add("%s: gridPos needs h, w, x and y", at)
			} else if *g.W < 1 || *g.X < 0 || *g.X+*g.W > 24 {
				add("%s: gridPos x %d, w %d: the grid is 24 wide", at, *g.X, *g.W)
			}
			sources := []json.RawMessage{p.Datasource}
			for _, t := range p.Targets {
				sources = append(sources, t.Datasource)
			}
			for _, ds := range sources {
				if v := datasourceVar(ds); v != "" && !vars[v] {
					add("%s: datasource ${%s} is not a templating variable or an input", at, v)
				}
			}
			switch p.Type {
			case "row":
				walk(at+" panels", p.Panels)
				continue
			case "text", "dashlist", "news", "annolist":
				continue
			}
			if len(p.Targets) == 0 {
				add("%s: no queries (targets)", at)
			}
			refs := map[string]bool{}
			for j, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					add("%s: targets[%d]: no expr", at, j)
				} else {
					exprs = append(exprs, t.Expr)
				}
				if t.RefID == "" || refs[t.RefID] {
					add("%s: targets[%d]: refId %q missing or repeated", at, j, t.RefID)
				}
				refs[t.RefID] = true
			}
		}
	}
	walk("panels", d.Panels)
	return exprs, problems, nil
}

var dsVar = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)

// datasourceVar is the variable a datasource names ("${DS_PROMETHEUS}" or
// {"uid": "${DS_PROMETHEUS}"}), or "".
func datasourceVar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var obj struct {
			UID string `json:"uid"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		s = obj.UID
	}
	if m := dsVar.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// RuleFile reads a Prometheus rule file and returns its expressions and
// the names its recording rules define, with problems: no groups, a group without a name or rules (or named twice), a
// rule that is neither or both alert and record, an empty expr, a for
// that is not a Prometheus duration, an alert without severity (critical,
// warning or info), summary or description, an alert name used twice.
func RuleFile(path string) (exprs, records []string, problems []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var f struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval"`
			Rules    []struct {
				Alert       string            `json:"alert"`
				Record      string            `json:"record"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: not a rule file: %w", path, err)
	}
	add := func(format string, args ...any) { problems = append(problems, path+": "+fmt.Sprintf(format, args...)) }
	if len(f.Groups) == 0 {
		add("no groups")
	}
	groups, alerts := map[string]bool{}, map[string]bool{}
	for gi, g := range f.Groups {
		where := fmt.Sprintf("groups[%d] %q", gi, g.Name)
		if g.Name == "" || groups[g.Name] {
			add("%s: name missing or repeated", where)
		}
		groups[g.Name] = true
		if g.Interval != "" && !promDuration.MatchString(g.Interval) {
			add("%s: interval %q is not a duration like 1m", where, g.Interval)
		}
		if len(g.Rules) == 0 {
			add("%s: no rules", where)
		}
		for ri, r := range g.Rules {
			at := fmt.Sprintf("%s rules[%d] %s%s", where, ri, r.Alert, r.Record)
			if (r.Alert == "") == (r.Record == "") {
				add("%s: want either alert or record", at)
			}
			if strings.TrimSpace(r.Expr) == "" {
				add("%s: no expr", at)
			} else {
				exprs = append(exprs, r.Expr)
			}
			if r.For != "" && !promDuration.MatchString(r.For) {
				add("%s: for %q is not a duration like 5m", at, r.For)
			}
			if r.Record != "" && !metricName.MatchString(r.Record) {
				add("%s: record %q is not a metric name", at, r.Record)
			} else if r.Record != "" {
				records = append(records, r.Record)
			}
			if r.Alert == "" {
				continue
			}
			if alerts[r.Alert] {
				add("%s: alert name used twice", at)
			}
			alerts[r.Alert] = true
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				add("%s: labels.severity %q: want critical, warning or info", at, r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					add("%s: no annotations.%s", at, a)
				}
			}
		}
	}
	return exprs, records, problems, nil
}

var (
	promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	metricName   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// Known maps each series name to its labels; nil labels: any (a recording
// rule's series).
type Known map[string][]string

// scrapeLabels are the labels Prometheus adds to every series it scrapes.
var scrapeLabels = []string{"job", "instance"}

// Registered is what the pipeline's processes export: the metrics of
// shared/telemetry (a histogram as its _bucket, _sum and _count series, le
// on _bucket) and the Go runtime's and process's collectors, each with its
// labels and the scrape's.
func Registered() (Known, error) {
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	out := Known{}
	for _, info := range m.Catalog() {
		labels := append(slices.Clone(info.Labels), scrapeLabels...)
		switch info.Type {
		case "histogram":
			out[info.Name+"_bucket"] = append(slices.Clone(labels), "le")
			out[info.Name+"_sum"] = labels
			out[info.Name+"_count"] = labels
		default:
			out[info.Name] = labels
		}
	}
	families, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), telemetry.Namespace+"_") {
			continue
		}
		labels := slices.Clone(scrapeLabels)
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName())
			}
		}
		out[f.GetName()] = labels
	}
	if len(m.Catalog()) < 20 || out["process_cpu_seconds_total"] == nil || out["go_goroutines"] == nil {
		return nil, fmt.Errorf("the registered metrics look incomplete: %d of ours, %d series names", len(m.Catalog()), len(out))
	}
	return out, nil
}

// grafanaVars are Grafana's variables, replaced as Grafana would before a
// query reaches Prometheus.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "6h")

// CheckExpr parses expr with Prometheus's parser and reports every metric
// it reads that known lacks, every label it matches or groups by that
// those metrics do not have, and an expression that selects no metric.
func CheckExpr(where, expr string, known Known) []string {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVars.Replace(expr))
	if err != nil {
		return []string{fmt.Sprintf("%s: %q does not parse: %v", where, expr, err)}
	}
	var problems []string
	selectors := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			selectors++
			labels, ok := known[n.Name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: metric %q is not exported by the code", where, n.Name))
				return nil
			}
			for _, m := range n.LabelMatchers {
				if labels != nil && m.Name != model.MetricNameLabel && !slices.Contains(labels, m.Name) {
					problems = append(problems, fmt.Sprintf("%s: %s has no label %q (it has %v)", where, n.Name, m.Name, labels))
				}
			}
		case *parser.AggregateExpr:
			// A grouping label must be one of the aggregated series'.
			var under []string
			anyLabels := false
			parser.Inspect(n.Expr, func(c parser.Node, _ []parser.Node) error {
				if vs, ok := c.(*parser.VectorSelector); ok {
					if l, known := known[vs.Name]; known && l == nil {
						anyLabels = true
					}
					under = append(under, known[vs.Name]...)
				}
				return nil
			})
			for _, g := range n.Grouping {
				if !anyLabels && !slices.Contains(under, g) {
					problems = append(problems, fmt.Sprintf("%s: grouping by %q, which none of the aggregated metrics has", where, g))
				}
			}
		}
		return nil
	})
	if selectors == 0 {
		problems = append(problems, fmt.Sprintf("%s: %q selects no metric", where, expr))
	}
	return problems
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
