package deploycheck

import (
	"fmt"
	"strings"

	"github.com/dtecl/pipeline/shared/config"
)

// Markers around the generated configuration table in README.md.
const (
	TableBegin = "<!-- configuration table: generated from shared/config (go test ./tools/deploycheck -run ConfigTable -update); do not edit by hand -->"
	TableEnd   = "<!-- end of the configuration table -->"
)

// ConfigTable is the README's configuration table: one row per variable,
// in the order the functions declare them, generated from the functions'
// configuration structs (config.Functions).
func ConfigTable() (string, error) {
	type row struct {
		v         config.Var
		functions []string
		defaults  map[string]string // by function, when they differ
	}
	var rows []*row
	byName := map[string]*row{}
	fns := config.Functions()
	for _, fn := range fns {
		vars, err := config.Vars(fn.Spec)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fn.Name, err)
		}
		for _, v := range vars {
			r, ok := byName[v.Name]
			if !ok {
				r = &row{v: v, defaults: map[string]string{}}
				byName[v.Name] = r
				rows = append(rows, r)
			}
			r.functions = append(r.functions, fn.Name)
			r.defaults[fn.Name] = defaultText(v)
		}
	}
	var b strings.Builder
	b.WriteString("| variable | functions | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, r := range rows {
		name := "`" + r.v.Name + "`"
		if r.v.Secret {
			name += " (secret; or `" + r.v.Name + "_FILE`)"
		}
		who := strings.Join(r.functions, ", ")
		if len(r.functions) == len(fns) {
			who = "all"
		}
		def := r.defaults[r.functions[0]]
		for _, fn := range r.functions[1:] {
			if r.defaults[fn] != def {
				var parts []string
				for _, fn := range r.functions {
					parts = append(parts, r.defaults[fn]+" ("+fn+")")
				}
				def = strings.Join(parts, ", ")
				break
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, who, def, escape(r.v.Help))
	}
	return b.String(), nil
}

func defaultText(v config.Var) string {
	switch {
	case v.DevDefault:
		return "required; with `" + config.DevModeVar + "=true`, a local development value"
	case v.Required:
		return "required"
	case v.Shown != "":
		return v.Shown
	case v.Default != "":
		return "`" + v.Default + "`"
	}
	return "none"
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ReplaceTable puts table between the markers in doc.
func ReplaceTable(doc, table string) (string, error) {
	i := strings.Index(doc, TableBegin)
	j := strings.Index(doc, TableEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("the markers %q and %q are missing", TableBegin, TableEnd)
	}
	return doc[:i+len(TableBegin)] + "\n" + table + doc[j:], nil
}
