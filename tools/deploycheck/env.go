package deploycheck

import (
	"fmt"
	"sort"
	"strings"
)

// EnvPolicy is what a deployment must give a function: the variables the
// code reads (EnvReads) and those it deliberately leaves to the code's
// default.
type EnvPolicy struct {
	Reads     map[string][]EnvRead // by function
	Defaulted map[string]string    // variable → why the default is right
}

// CheckEnv compares the variables a deployment sets for fn with what fn
// reads. Every variable read must be set (as NAME, or as NAME_FILE for a
// secret) or deliberately defaulted, a required one always set; every
// variable set must be one fn reads. where names the function's entry in
// messages.
func (p EnvPolicy) CheckEnv(fn, where string, set []string) []string {
	var problems []string
	reads := map[string]EnvRead{}
	for _, r := range p.Reads[fn] {
		reads[r.Name] = r
	}
	given := map[string]bool{}
	for _, name := range set {
		if given[name] {
			problems = append(problems, fmt.Sprintf("%s: %s set twice", where, name))
		}
		given[name] = true
		if _, ok := reads[name]; ok {
			continue
		}
		if base, ok := strings.CutSuffix(name, "_FILE"); ok {
			if r, ok := reads[base]; ok && r.Secret() {
				continue
			}
		}
		problems = append(problems, fmt.Sprintf("%s: %s is set but %s does not read it (stale?)", where, name, fn))
	}
	for _, r := range p.Reads[fn] {
		isSet := given[r.Name] || (r.Secret() && given[r.Name+"_FILE"])
		if r.Secret() && given[r.Name] && given[r.Name+"_FILE"] {
			problems = append(problems, fmt.Sprintf("%s: both %s and %s_FILE are set", where, r.Name, r.Name))
		}
		_, deflt := p.Defaulted[r.Name]
		switch {
		case isSet && deflt:
			problems = append(problems, fmt.Sprintf("%s: %s is set but also listed as deliberately defaulted", where, r.Name))
		case isSet:
		case r.Required():
			problems = append(problems, fmt.Sprintf("%s: %s is required by %s (%s) and not set", where, r.Name, fn, r.Pos))
		case !deflt:
			problems = append(problems, fmt.Sprintf("%s: %s, read by %s (%s), is neither set nor deliberately defaulted", where, r.Name, fn, r.Pos))
		}
	}
	sort.Strings(problems)
	return problems
}

// CheckDefaulted reports defaulted variables that no function reads, or
// that a function requires.
func (p EnvPolicy) CheckDefaulted() []string {
	var problems []string
	for name := range p.Defaulted {
		read := false
		for fn, reads := range p.Reads {
			for _, r := range reads {
				if r.Name != name {
					continue
				}
				read = true
				if r.Required() {
					problems = append(problems, fmt.Sprintf("%s is listed as defaulted but %s requires it", name, fn))
				}
			}
		}
		if !read {
			problems = append(problems, fmt.Sprintf("%s is listed as defaulted but no function reads it (stale)", name))
		}
	}
	sort.Strings(problems)
	return problems
}
