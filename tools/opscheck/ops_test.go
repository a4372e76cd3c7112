package opscheck

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/dtecl/pipeline/shared/telemetry"
)

const dir = "../../deploy/observability"

// scrapeLabels are the labels Prometheus adds to every series it scrapes.
var scrapeLabels = []string{"job", "instance"}

// registered maps each series name the processes expose to its labels:
// the pipeline's metrics (a histogram's _bucket, _sum and _count series;
// le on _bucket) and the Go runtime's and process's collectors.
func registered(t *testing.T) map[string][]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
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
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), telemetry.Namespace+"_") {
			continue
		}
		var labels []string
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName())
			}
		}
		out[f.GetName()] = append(labels, scrapeLabels...)
	}
	if len(m.Catalog()) < 20 || out["process_cpu_seconds_total"] == nil || out["go_goroutines"] == nil {
		t.Fatalf("the registered metrics look incomplete: %d of ours, %d series names", len(m.Catalog()), len(out))
	}
	return out
}

// grafanaVars are the dashboard's variables, replaced as Grafana would
// before the expression reaches Prometheus.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "6h")

// checkExpr parses expr and reports every metric or label it names that
// the code does not register.
func checkExpr(where, expr string, known map[string][]string) []string {
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
				problems = append(problems, fmt.Sprintf("%s: metric %q is not registered by the code", where, n.Name))
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != model.MetricNameLabel && !slices.Contains(labels, m.Name) {
					problems = append(problems, fmt.Sprintf("%s: %s has no label %q (it has %v)", where, n.Name, m.Name, labels))
				}
			}
		case *parser.AggregateExpr:
			// A grouping label must be one of the aggregated series'.
			var under []string
			parser.Inspect(n.Expr, func(c parser.Node, _ []parser.Node) error {
				if vs, ok := c.(*parser.VectorSelector); ok {
					under = append(under, known[vs.Name]...)
				}
				return nil
			})
			for _, g := range n.Grouping {
				if !slices.Contains(under, g) {
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

func TestAlertRules(t *testing.T) {
	known := registered(t)
	path := filepath.Join(dir, "alerts.yml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(raw, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("%s: %v", path, err)
	}
	if groups == nil {
		t.FailNow()
	}
	var names []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			where := fmt.Sprintf("%s: alert %s", path, r.Alert)
			if r.Alert == "" {
				t.Errorf("%s: group %s has a rule that is not an alert (record %q)", path, g.Name, r.Record)
				continue
			}
			names = append(names, r.Alert)
			for _, p := range checkExpr(where, r.Expr, known) {
				t.Error(p)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", where, s)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", where, a)
				}
			}
		}
	}
	// What the operations need to hear about (issue: dead letters growing,
	// SII errors, folios low, CAF expiring, documents stuck in sent).
	for _, want := range []string{"DTEDeadLettersGrowing", "DTESIIErrorRate", "DTECAFFoliosLow", "DTECAFExpiring", "DTEDocumentsStuckInSent"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s: no alert %s (have %v)", path, want, names)
		}
	}
}

// panel is what the check reads of a Grafana panel.
type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

func TestGrafanaDashboard(t *testing.T) {
	known := registered(t)
	path := filepath.Join(dir, "grafana-dashboard.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title         string  `json:"title"`
		UID           string  `json:"uid"`
		SchemaVersion int     `json:"schemaVersion"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dash.Title == "" || dash.UID == "" || dash.SchemaVersion < 30 {
		t.Errorf("%s: title %q, uid %q, schemaVersion %d: want all set (schema 30 or later)", path, dash.Title, dash.UID, dash.SchemaVersion)
	}
	hasDS := slices.ContainsFunc(dash.Templating.List, func(v struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Query string `json:"query"`
	}) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	})
	if !hasDS {
		t.Errorf("%s: no datasource variable of type prometheus (the panels refer to ${datasource})", path)
	}
	var all []panel
	for _, p := range dash.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	ids := map[int]bool{}
	exprs, graphs := 0, 0
	for _, p := range all {
		where := fmt.Sprintf("%s: panel %d %q", path, p.ID, p.Title)
		if ids[p.ID] {
			t.Errorf("%s: id used twice", where)
		}
		ids[p.ID] = true
		if p.Title == "" {
			t.Errorf("%s: no title", where)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: gridPos %+v is outside Grafana's 24 columns", where, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		graphs++
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: datasource %+v, want the ${datasource} variable", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if refs[q.RefID] || q.RefID == "" {
				t.Errorf("%s: refId %q missing or repeated", where, q.RefID)
			}
			refs[q.RefID] = true
			exprs++
			for _, problem := range checkExpr(where, q.Expr, known) {
				t.Error(problem)
			}
		}
	}
	if graphs < 10 || exprs < 20 {
		t.Errorf("%s: %d panels with %d queries: the dashboard looks empty", path, graphs, exprs)
	}
}

// TestTheCheckCatchesMistakes: the expression check is not a pass on
// anything.
func TestTheCheckCatchesMistakes(t *testing.T) {
	known := registered(t)
	for _, tt := range []struct{ expr, want string }{
		{`rate(dte_no_such_metric_total[5m])`, "not registered"},
		{`sum by (dtekey) (rate(dte_events_handled_total[5m]))`, `grouping by "dtekey"`},
		{`dte_events_handled_total{folio="1"}`, `no label "folio"`},
		{`sum(rate(dte_events_handled_total[5m])`, "does not parse"},
		{`vector(1)`, "selects no metric"},
	} {
		problems := checkExpr("test", tt.expr, known)
		if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tt.want) {
			t.Errorf("%s: problems %v, want one saying %q", tt.expr, problems, tt.want)
		}
	}
	if p := checkExpr("test", `histogram_quantile(0.9, sum by (le, stage) (rate(dte_event_handling_duration_seconds_bucket[$__rate_interval])))`, known); len(p) > 0 {
		t.Errorf("a good expression: %v", p)
	}
}
