package deploycheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum(rate(dte_events_total{stage="sign",outcome!~"ok|by"}[5m])) by (stage) > 0.1`, []string{"dte_events_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(dte_stage_duration_seconds_bucket[5m])))`, []string{"dte_stage_duration_seconds_bucket"}},
		{`increase(a_total[1h] offset 1d) / on(instance) group_left(job) b_info`, []string{"a_total", "b_info"}},
		{`x:ratio:rate5m > 1e3 and y unless z`, []string{"x:ratio:rate5m", "y", "z"}},
		{`label_replace(up, "dst", "$1", "src", "(.*)")`, []string{"up"}},
		{`max_over_time(q[10m:1m]) == bool 0`, []string{"q"}},
		{`vector(1)`, []string{}},
		{`sum without (instance) (dte_x)`, []string{"dte_x"}},
	}
	for _, tt := range tests {
		got := MetricNames(tt.expr)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MetricNames(%s) = %v, want %v", tt.expr, got, tt.want)
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
	rules, problems, err := RuleFile(filepath.Join(dir, "good-rules.yml"))
	if err != nil || len(problems) > 0 || len(rules) != 3 {
		t.Fatalf("good rules: %d exprs, problems %v, %v", len(rules), problems, err)
	}
	known := map[string]bool{"test_events_total": true, "test_stage_seconds_bucket": true, "test_folios_left": true,
		"test_dead_letters_total": true, "test_caf_expiry_days": true, "test:folios_left:min": true}
	if p := UnknownMetrics("good", append(exprs, rules...), known); len(p) > 0 {
		t.Errorf("known metrics reported: %v", p)
	}
	delete(known, "test_dead_letters_total")
	if p := UnknownMetrics("good", rules, known); len(p) != 1 || !strings.Contains(p[0], "test_dead_letters_total") {
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
		{"good-dashboard.json", `(rate(test_stage_seconds_bucket[5m])))`, `(rate(test_stage_seconds_bucket[5m]))`, "unclosed"},
		{"good-dashboard.json", `"uid": "${DS_PROMETHEUS}"`, `"uid": "${DS_PROM}"`, "datasource ${DS_PROM} is not a templating variable"},
		{"good-dashboard.json", `"w": 12, "x": 12`, `"w": 14, "x": 12`, "the grid is 24 wide"},
		{"good-dashboard.json", `"title": "p99 per stage", `, ``, "no title"},
		{"good-rules.yml", "for: 5m", "for: 5 minutes", `for "5 minutes" is not a duration`},
		{"good-rules.yml", "severity: warning", "severity: page", `labels.severity "page"`},
		{"good-rules.yml", "          description: Ask the SII for a new CAF.\n", "", "no annotations.description"},
		{"good-rules.yml", "alert: FoliosLow", "alert: DeadLettersGrowing", "alert name used twice"},
		{"good-rules.yml", "      - record: test:folios_left:min\n", "      - record: test:folios_left:min\n        alert: Both\n", "want either alert or record"},
		{"good-rules.yml", "    interval: 1m\n", "    interval: 1m\n    intervall: 2m\n", "not a rule file"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			path := breakFile(t, tt.file, tt.old, tt.new)
			var problems []string
			var err error
			if strings.HasSuffix(tt.file, ".json") {
				_, problems, err = GrafanaDashboard(path)
			} else {
				_, problems, err = RuleFile(path)
			}
			if err != nil {
				problems = append(problems, err.Error())
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
