// Package config declares the functions' configuration and reads it from
// the environment, once, at start.
//
// Each function's configuration is a struct (Enqueue, Sign, Submit,
// Notify) made of blocks that every function, or several, share (Base,
// Broker, Reply, S3, Cert, Dev). Each field declares its variable with
// tags:
//
//		Port int `env:"PORT" default:"8080" help:"HTTP port"`
//
//	  - env names the variable; the option ",secret" lets it also be given as
//	    a file, NAME_FILE=/path (how Kubernetes and OpenFaaS mount secrets),
//	    and ",required" makes the function refuse to start without it;
//	  - default is its value when it is unset or blank, written as the
//	    variable would be;
//	  - dev makes it required unless DTE_DEV_MODE=true, and is then its value:
//	    the development secrets of `make run`, never in a deployment;
//	  - enum lists the values it may take; help says what it is, and show
//	    replaces the default in the documentation (for a default that is a
//	    credential of the local servers).
//
// The declarations are the one source of the names and defaults: Load reads
// them, the README's configuration table is generated from them (Vars), and
// the deployment check compares kn/ and stack.yml with them. No other
// package reads the environment.
//
// Supported field types: string, bool, int, int64, time.Duration and
// []time.Duration (comma-separated, "1s,5s,1m").
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DevModeVar is the development switch: with it true, a secret that has a
// development value (tag dev) may be left unset.
const DevModeVar = "DTE_DEV_MODE"

// Source is where Load reads variables and secret files.
type Source struct {
	Lookup   func(name string) (string, bool)
	ReadFile func(path string) ([]byte, error)
}

// OS reads the process environment and the file system.
func OS() Source { return Source{Lookup: os.LookupEnv, ReadFile: os.ReadFile} }

// Map reads a fixed map of variables (tests); files come from disk.
func Map(m map[string]string) Source {
	return Source{Lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }, ReadFile: os.ReadFile}
}

// get returns a variable's value, trimmed; blank counts as unset.
func (s Source) get(name string) (string, bool) {
	v, ok := s.Lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Load fills the struct v points to from src. The error lists every
// problem (unset required variables, values that do not parse, values
// outside their enum), so that one start-up tells everything. dev names the
// variables that took their development value (DTE_DEV_MODE=true): the
// caller logs a warning for each.
func Load(src Source, v any) (dev []string, err error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: Load wants a pointer to a struct, got %T", v)
	}
	fields, err := walk(rv.Elem(), rv.Elem().Type().Name())
	if err != nil {
		return nil, err
	}
	var problems []string
	devMode := false
	for _, f := range fields {
		if f.name == DevModeVar {
			if p := f.load(src, false); p != "" {
				problems = append(problems, p)
			}
			devMode = f.v.Bool()
		}
	}
	for _, f := range fields {
		if f.name == DevModeVar {
			continue
		}
		_, set := f.given(src)
		if f.hasDev && !set && !devMode {
			problems = append(problems, fmt.Sprintf("%s is required%s (%s=true, for development only, uses a local value instead)", f.name, f.fileHint(), DevModeVar))
			continue
		}
		if p := f.load(src, devMode); p != "" {
			problems = append(problems, p)
			continue
		}
		if f.hasDev && !set {
			dev = append(dev, f.name)
		}
	}
	if len(problems) > 0 {
		return dev, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return dev, nil
}

// field is one declared variable and where its value goes.
type field struct {
	v      reflect.Value
	path   string // the Go field, e.g. Sign.S3.Endpoint
	name   string
	secret bool
	req    bool
	def    string
	hasDef bool
	dev    string
	hasDev bool
	enum   []string
	help   string
	show   string
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	durationsType = reflect.TypeOf([]time.Duration(nil))
)

// walk lists the declared fields of a struct, blocks included, in order.
func walk(v reflect.Value, path string) ([]field, error) {
	var out []field
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		fv := v.Field(i)
		fpath := path + "." + sf.Name
		tag, ok := sf.Tag.Lookup("env")
		if !ok {
			if sf.Type.Kind() == reflect.Struct {
				sub, err := walk(fv, fpath)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
				continue
			}
			return nil, fmt.Errorf("config: %s has no env tag", fpath)
		}
		if !supported(sf.Type) {
			return nil, fmt.Errorf("config: %s: type %s is not supported", fpath, sf.Type)
		}
		f := field{v: fv, path: fpath, help: sf.Tag.Get("help"), show: sf.Tag.Get("show")}
		opts := strings.Split(tag, ",")
		f.name = opts[0]
		for _, o := range opts[1:] {
			switch o {
			case "secret":
				f.secret = true
			case "required":
				f.req = true
			default:
				return nil, fmt.Errorf("config: %s: unknown env option %q", fpath, o)
			}
		}
		f.def, f.hasDef = sf.Tag.Lookup("default")
		f.dev, f.hasDev = sf.Tag.Lookup("dev")
		if e, ok := sf.Tag.Lookup("enum"); ok {
			f.enum = strings.Split(e, ",")
		}
		if f.name == "" || (f.hasDev && (f.hasDef || f.req)) {
			return nil, fmt.Errorf("config: %s: a variable needs a name, and dev excludes default and required", fpath)
		}
		out = append(out, f)
	}
	seen := map[string]string{}
	for _, f := range out {
		if prev, ok := seen[f.name]; ok {
			return nil, fmt.Errorf("config: %s declared twice (%s, %s)", f.name, prev, f.path)
		}
		seen[f.name] = f.path
	}
	return out, nil
}

func supported(t reflect.Type) bool {
	if t == durationType || t == durationsType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64:
		return true
	}
	return false
}

// given tells whether the variable is set: NAME, or NAME_FILE for a
// secret.
func (f field) given(src Source) (value string, set bool) {
	if f.secret {
		if _, ok := src.get(f.name + "_FILE"); ok {
			return "", true
		}
	}
	return src.get(f.name)
}

func (f field) fileHint() string {
	if f.secret {
		return " (or " + f.name + "_FILE)"
	}
	return ""
}

// load sets the field from src, its default or its development value, and
// returns the problem, or "".
func (f field) load(src Source, devMode bool) string {
	raw, set := src.get(f.name)
	if f.secret {
		if path, ok := src.get(f.name + "_FILE"); ok {
			if set {
				return fmt.Sprintf("both %s and %s_FILE are set; give one", f.name, f.name)
			}
			b, err := src.ReadFile(path)
			if err != nil {
				return fmt.Sprintf("%s_FILE: %v", f.name, err)
			}
			raw, set = strings.TrimRight(string(b), "\r\n"), true
		}
	}
	if !set {
		switch {
		case f.hasDev && devMode:
			raw = f.dev
		case f.req:
			return fmt.Sprintf("%s is required%s", f.name, f.fileHint())
		case f.hasDef:
			raw = f.def
		default:
			return "" // the zero value: the code decides what it means
		}
	}
	if err := f.set(raw); err != nil {
		shown := strconv.Quote(raw)
		if f.secret {
			shown = "(secret)"
		}
		return fmt.Sprintf("%s=%s %v", f.name, shown, err)
	}
	if len(f.enum) > 0 && !slices.Contains(f.enum, raw) {
		return fmt.Sprintf("%s=%q must be one of %s", f.name, raw, strings.Join(f.enum, ", "))
	}
	return ""
}

// set parses raw into the field.
func (f field) set(raw string) error {
	switch f.v.Type() {
	case durationType:
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return errors.New("is not a duration like 5s or 2m")
		}
		f.v.SetInt(int64(d))
		return nil
	case durationsType:
		var ds []time.Duration
		for _, part := range strings.Split(raw, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil || d <= 0 {
				return errors.New("is not a list of positive durations like 1s,5s,1m")
			}
			ds = append(ds, d)
		}
		f.v.Set(reflect.ValueOf(ds))
		return nil
	}
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("is not a boolean (true or false)")
		}
		f.v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("is not an integer")
		}
		f.v.SetInt(n)
	}
	return nil
}
