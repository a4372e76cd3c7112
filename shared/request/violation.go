package request

import (
	"fmt"
	"sort"
	"strings"
)

// Violation is one broken rule: the field (a path such as "lines[2].unit_price"),
// the rule's identifier (stable, for programs) and a message for people.
type Violation struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ValidationError lists every violation found in a request.
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		parts = append(parts, v.Field+": "+v.Message)
	}
	return fmt.Sprintf("invalid DTE request (%d problems): %s", len(e.Violations), strings.Join(parts, "; "))
}

// violations collects violations while a request is checked.
type violations struct {
	list []Violation
	seen map[string]bool
}

func (vs *violations) add(field, rule, format string, args ...any) {
	if vs.seen == nil {
		vs.seen = map[string]bool{}
	}
	if field == "" {
		field = "(request)"
	}
	key := field + "\x00" + rule
	if vs.seen[key] {
		return
	}
	vs.seen[key] = true
	vs.list = append(vs.list, Violation{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// has reports whether a violation was already recorded for field (or, with a
// trailing ".", for anything under it).
func (vs *violations) has(field string) bool {
	for _, v := range vs.list {
		if v.Field == field || strings.HasPrefix(v.Field, field+".") || strings.HasPrefix(v.Field, field+"[") {
			return true
		}
	}
	return false
}

func (vs *violations) err() error {
	if len(vs.list) == 0 {
		return nil
	}
	out := append([]Violation(nil), vs.list...)
	sort.SliceStable(out, func(i, j int) bool { return fieldLess(out[i].Field, out[j].Field) })
	return &ValidationError{Violations: out}
}

// fieldLess orders field paths as they appear in the document.
func fieldLess(a, b string) bool {
	order := map[string]int{"(request)": 0, "document": 1, "issuer": 2, "receiver": 3, "lines": 4, "global_adjustments": 5, "references": 6, "totals": 7, "odoo": 8}
	top := func(s string) int {
		h := s
		if i := strings.IndexAny(s, ".["); i >= 0 {
			h = s[:i]
		}
		if o, ok := order[h]; ok {
			return o
		}
		return 9
	}
	if ta, tb := top(a), top(b); ta != tb {
		return ta < tb
	}
	return false
}

// joinPath turns a JSON pointer's tokens into a field path: lines[2].name.
func joinPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
