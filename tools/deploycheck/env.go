package deploycheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dtecl/pipeline/shared/config"
)

// EnvRead is one environment variable a function reads, from its
// configuration's declaration (shared/config): the code has no other way to
// read the environment (TestNoOtherEnvironmentReads).
type EnvRead struct {
	Name      string
	Pos       string // the Go field that declares it, e.g. Sign.S3.Endpoint
	IsSecret  bool   // may also be given as NAME_FILE
	MustBeSet bool   // the function refuses to start without it
}

// Secret tells whether the variable may also be given as a file, NAME_FILE.
func (r EnvRead) Secret() bool { return r.IsSecret }

// Required tells whether the function refuses to start without it (in a
// deployment, where DTE_DEV_MODE is off).
func (r EnvRead) Required() bool { return r.MustBeSet }

// FunctionReads returns the variables each function reads, by function,
// from config.Functions().
func FunctionReads() (map[string][]EnvRead, error) {
	out := map[string][]EnvRead{}
	for _, fn := range config.Functions() {
		vars, err := config.Vars(fn.Spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name, err)
		}
		for _, v := range vars {
			out[fn.Name] = append(out[fn.Name], EnvRead{Name: v.Name, Pos: v.Field, IsSecret: v.Secret, MustBeSet: v.MustBeSet()})
		}
	}
	return out, nil
}

// EnvPolicy is what a deployment must give a function: the variables the
// code reads (FunctionReads) and those it deliberately leaves to the code's
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

// WorkspaceModules maps the module path of each go.mod under root (shared,
// tools and functions/*) to its directory.
func WorkspaceModules(root string) (map[string]string, error) {
	dirs := []string{filepath.Join(root, "shared"), filepath.Join(root, "tools")}
	fns, err := filepath.Glob(filepath.Join(root, "functions", "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	for _, f := range fns {
		dirs = append(dirs, filepath.Dir(f))
	}
	mods := map[string]string{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err != nil {
			return nil, err
		}
		path := modulePath(b)
		if path == "" {
			return nil, fmt.Errorf("%s/go.mod names no module", d)
		}
		mods[path] = d
	}
	return mods, nil
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}
