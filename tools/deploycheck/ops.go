package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// The ready-made operations files (issue 15, item 4): Grafana dashboards
// (JSON) and Prometheus alerting and recording rules (YAML). These checks
// read them the way Grafana and Prometheus would and report what would
// break there, and MetricNames lists the metrics their queries use, for a
// test to compare with the metrics the code exports.

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
					if err := balanced(t.Expr); err != nil {
						add("%s: targets[%d]: %v", at, j, err)
					}
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

// RuleFile reads a Prometheus rule file and returns its expressions with
// problems: no groups, a group without a name or rules (or named twice), a
// rule that is neither or both alert and record, an empty expr, a for
// that is not a Prometheus duration, an alert without severity (critical,
// warning or info), summary or description, an alert name used twice.
func RuleFile(path string) (exprs []string, problems []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, fmt.Errorf("%s: not a rule file: %w", path, err)
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
				if err := balanced(r.Expr); err != nil {
					add("%s: %v", at, err)
				}
			}
			if r.For != "" && !promDuration.MatchString(r.For) {
				add("%s: for %q is not a duration like 5m", at, r.For)
			}
			if r.Record != "" && !metricName.MatchString(r.Record) {
				add("%s: record %q is not a metric name", at, r.Record)
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
	return exprs, problems, nil
}

var (
	promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	metricName   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// balanced reports unbalanced (), [] or {} outside string literals.
func balanced(expr string) error {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := rune(0)
	for i, c := range expr {
		switch {
		case inString != 0:
			if c == inString && (i == 0 || expr[i-1] != '\\') {
				inString = 0
			}
		case c == '"' || c == '\'' || c == '`':
			inString = c
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case pairs[c] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return fmt.Errorf("expr %q: unbalanced %q", expr, c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString != 0 || len(stack) > 0 {
		return fmt.Errorf("expr %q: unclosed %q", expr, string(append(stack, inString)))
	}
	return nil
}

// promWords are PromQL's keywords, aggregations and functions: the
// identifiers of an expression that are not metric names.
var promWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`by without on ignoring group_left group_right bool offset and or unless atan2 inf nan
	sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio
	abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week day_of_year
	days_in_month delta deriv exp floor histogram_avg histogram_count histogram_fraction histogram_quantile
	histogram_stddev histogram_stdvar histogram_sum holt_winters double_exponential_smoothing hour idelta
	increase irate label_join label_replace ln log2 log10 minute month predict_linear rate resets round
	scalar sgn sort sort_desc sort_by_label sort_by_label_desc sqrt time timestamp vector year
	avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time
	stddev_over_time stdvar_over_time last_over_time present_over_time mad_over_time
	acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi info start end`) {
		m[w] = true
	}
	return m
}()

var (
	promStrings   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promBraces    = regexp.MustCompile(`\{[^}]*\}`)
	promBrackets  = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promNumberish = regexp.MustCompile(`^(0x[0-9a-fA-F]+|[0-9].*|e[0-9]+)$`)
)

// MetricNames lists the metric names an expression reads, sorted: every
// identifier that is not a keyword, function, label (inside {} or a by,
// without, on, ignoring, group_left or group_right list), string or
// duration.
func MetricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, " ")
	s = promBraces.ReplaceAllString(s, " ")
	s = promBrackets.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		id := s[loc[0]:loc[1]]
		// a number such as 1e3 or a duration's unit after a digit
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue
		}
		if promWords[strings.ToLower(id)] || promNumberish.MatchString(id) {
			continue
		}
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// UnknownMetrics reports each metric an expression reads that is not in
// known (what the code exports, and the recording rules' names).
func UnknownMetrics(where string, exprs []string, known map[string]bool) []string {
	var problems []string
	for _, e := range exprs {
		for _, m := range MetricNames(e) {
			if !known[m] {
				problems = append(problems, fmt.Sprintf("%s: expr %q reads %s, which nothing exports", where, e, m))
			}
		}
	}
	return problems
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
