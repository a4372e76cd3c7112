package deploycheck

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// testKnown are the metrics of the test files in testdata/ops.
func testKnown() Known {
	l := []string{"stage", "outcome", "issuer", "type", "job", "instance"}
	return Known{"test_events_total": l, "test_stage_seconds_bucket": append(slices.Clone(l), "le"), "test_folios_left": l,
		"test_dead_letters_total": l, "test_caf_expiry_days": l}
}

// TestCheckExpr: the expression check is not a pass on anything.
func TestCheckExpr(t *testing.T) {
	known := testKnown()
	known["rec:ratio"] = nil // a recording rule's: any label
	for _, tt := range []struct{ expr, want string }{
		{`rate(test_no_such_total[5m])`, "not exported"},
		{`sum by (dtekey) (rate(test_events_total[5m]))`, `grouping by "dtekey"`},
		{`test_events_total{folio="1"}`, `no label "folio"`},
		{`sum(rate(test_events_total[5m])`, "does not parse"},
		{`histogram_quantile(0.99, sum by (le) (rate(test_stage_seconds_bucket[5m]))`, "does not parse"},
		{`vector(1)`, "selects no metric"},
		{`increase(test_dead_letters_total[1h] offset 1d) / on(instance) group_left(job) test_nope`, "test_nope"},
	} {
		problems := CheckExpr("test", tt.expr, known)
		if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tt.want) {
			t.Errorf("%s: problems %v, want one saying %q", tt.expr, problems, tt.want)
		}
	}
	for _, good := range []string{
		`histogram_quantile(0.9, sum by (le, stage) (rate(test_stage_seconds_bucket[$__rate_interval])))`,
		`sum without (instance) (test_events_total{stage=~"sign|submit",outcome!~"ok|by"}) > 0.1`,
		`max_over_time(test_folios_left[10m:1m]) == bool 0`,
		`label_replace(test_folios_left, "dst", "$1", "issuer", "(.*)")`,
		`sum by (anything) (rec:ratio) > 1e3 and test_folios_left unless test_caf_expiry_days`,
	} {
		if p := CheckExpr("test", good, known); len(p) > 0 {
			t.Errorf("a good expression %s: %v", good, p)
		}
	}
}

// TestOpsFileChecks runs the checks on good files (no problem, every
// query found) and on copies broken one way at a time (the problem named).
func TestOpsFileChecks(t *testing.T) {
	dir := filepath.Join("testdata", "ops")
	exprs, problems, err := GrafanaDashboard(filepath.Join(dir, "good-dashboard.json"))
	if err != nil || len(problems) > 0 || len(exprs) != 3 {
		t.Fatalf("good dashboard: %d queries, problems %v, %v", len(exprs), problems, err)
	}
	rules, records, problems, err := RuleFile(filepath.Join(dir, "good-rules.yml"))
	if err != nil || len(problems) > 0 || len(rules) != 3 || !slices.Equal(records, []string{"test:folios_left:min"}) {
		t.Fatalf("good rules: %d exprs, records %v, problems %v, %v", len(rules), records, problems, err)
	}
	known := testKnown()
	known["test:folios_left:min"] = nil
	for _, e := range append(exprs, rules...) {
		if p := CheckExpr("good", e, known); len(p) > 0 {
			t.Errorf("known metrics reported: %v", p)
		}
	}
	delete(known, "test_dead_letters_total")
	var p []string
	for _, e := range rules {
		p = append(p, CheckExpr("good", e, known)...)
	}
	if len(p) != 1 || !strings.Contains(p[0], "test_dead_letters_total") {
		t.Errorf("an unknown metric: %v", p)
	}

	breakFile := func(t *testing.T, name, old, new string) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), old) {
			t.Fatalf("%s has no %q to break", name, old)
		}
		out := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(out, []byte(strings.Replace(string(raw), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tt := range []struct {
		file, old, new, want string
	}{
		{"good-dashboard.json", `"uid": "dte-pipeline",`, ``, `uid ""`},
		{"good-dashboard.json", `"refId": "B", "expr": "test:folios_left:min"`, `"refId": "A", "expr": "test:folios_left:min"`, `refId "A" missing or repeated`},
		{"good-dashboard.json", `"expr": "test:folios_left:min"`, `"expr": ""`, "no expr"},
		{"good-dashboard.json", `(rate(test_stage_seconds_bucket[5m])))`, `(rate(test_stage_seconds_bucket[5m]))`, "does not parse"},
		{"good-dashboard.json", `"uid": "${DS_PROMETHEUS}"`, `"uid": "${DS_PROM}"`, "datasource ${DS_PROM} is not a templating variable"},
		{"good-dashboard.json", `"w": 12, "x": 12`, `"w": 14, "x": 12`, "the grid is 24 wide"},
		{"good-dashboard.json", `"title": "p99 per stage", `, ``, "no title"},
		{"good-rules.yml", "for: 5m", "for: 5 minutes", `for "5 minutes" is not a duration`},
		{"good-rules.yml", "severity: warning", "severity: page", `labels.severity "page"`},
		{"good-rules.yml", "          description: Ask the SII for a new CAF.\n", "", "no annotations.description"},
		{"good-rules.yml", "alert: FoliosLow", "alert: DeadLettersGrowing", "alert name used twice"},
		{"good-rules.yml", "      - record: test:folios_left:min\n", "      - record: test:folios_left:min\n        alert: Both\n", "want either alert or record"},
		{"good-rules.yml", "    interval: 1m\n", "    interval: 1m\n    intervall: 2m\n", "not a rule file"},
		{"good-rules.yml", "increase(test_dead_letters_total[15m])", "increase(test_dead_letters_total[15m]", "does not parse"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			path := breakFile(t, tt.file, tt.old, tt.new)
			var exprs, records, problems []string
			var err error
			if strings.HasSuffix(tt.file, ".json") {
				exprs, problems, err = GrafanaDashboard(path)
			} else {
				exprs, records, problems, err = RuleFile(path)
			}
			if err != nil {
				problems = append(problems, err.Error())
			}
			k := testKnown()
			for _, r := range append(records, "test:folios_left:min") {
				k[r] = nil
			}
			for _, e := range exprs {
				problems = append(problems, CheckExpr("broken", e, k)...)
			}
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %v", tt.want, problems)
		})
	}
}

const opsDir = root + "/deploy/observability"

// opsFiles are the operations files of a kind; the test fails when there
// are none.
func opsFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(opsDir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s in %s: %v", pattern, opsDir, err)
	}
	return files
}

// TestOperationsRules: the alert rules load in Prometheus (its own rule
// file parser too), every expression reads what the code exports, and the
// alerts operations need are there.
func TestOperationsRules(t *testing.T) {
	known, err := Registered()
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, path := range opsFiles(t, "*.yml") {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		groups, errs := rulefmt.Parse(raw, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
		for _, err := range errs {
			t.Errorf("%s: %v", path, err)
		}
		exprs, records, problems, err := RuleFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
		k := Known{}
		for n, l := range known {
			k[n] = l
		}
		for _, r := range records {
			k[r] = nil
		}
		for _, e := range exprs {
			for _, p := range CheckExpr(path, e, k) {
				t.Error(p)
			}
		}
		if groups != nil {
			for _, g := range groups.Groups {
				for _, r := range g.Rules {
					alerts = append(alerts, r.Alert)
				}
			}
		}
	}
	// What operations need to hear about: dead letters growing, documents
	// waiting in the slow retry tier, SII errors, folios low, a CAF
	// expiring, documents stuck in sent.
	for _, want := range []string{"DTEDeadLettersGrowing", "DTEDocumentsRetrying", "DTESIIErrorRate", "DTECAFFoliosLow", "DTECAFExpiring", "DTEDocumentsStuckInSent"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s (have %v)", want, alerts)
		}
	}
}

// TestOperationsDashboards: each Grafana dashboard imports (structure),
// takes its Prometheus from the ${datasource} variable, and queries only
// what the code exports.
func TestOperationsDashboards(t *testing.T) {
	known, err := Registered()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range opsFiles(t, "*.json") {
		exprs, problems, err := GrafanaDashboard(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
		for _, e := range exprs {
			for _, p := range CheckExpr(path, e, known) {
				t.Error(p)
			}
		}
		if len(exprs) < 20 {
			t.Errorf("%s: %d queries: the dashboard looks empty", path, len(exprs))
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			SchemaVersion int `json:"schemaVersion"`
			Templating    struct {
				List []struct{ Name, Type, Query string } `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(d.Templating.List, func(v struct{ Name, Type, Query string }) bool {
			return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
		}) {
			t.Errorf("%s: no datasource variable of type prometheus (the panels refer to ${datasource})", path)
		}
		if d.SchemaVersion < 30 {
			t.Errorf("%s: schemaVersion %d, want 30 or later", path, d.SchemaVersion)
		}
		if strings.Contains(string(raw), `"uid": "${DS_`) {
			t.Errorf("%s: a panel names an import input instead of ${datasource}", path)
		}
	}
}
