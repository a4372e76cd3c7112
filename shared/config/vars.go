package config

import (
	"fmt"
	"reflect"
)

// Var describes one declared variable, for the documentation and the
// deployment check.
type Var struct {
	Name     string
	Field    string // the Go field that holds it, e.g. Sign.S3.Endpoint
	Type     string // string, bool, int, duration, durations
	Secret   bool   // may be given as NAME_FILE
	Required bool   // the function refuses to start without it
	// DevDefault: required, unless DTE_DEV_MODE=true gives it a local
	// development value.
	DevDefault bool
	Default    string // as written in the variable; "" when none
	Shown      string // what the documentation shows as the default, if not Default
	Enum       []string
	Help       string
}

// MustBeSet tells whether a deployment must set the variable: it is
// required, or has only a development value.
func (v Var) MustBeSet() bool { return v.Required || v.DevDefault }

// Vars lists the variables a configuration struct declares, in the order
// of its fields (spec is a struct value or a pointer to one).
func Vars(spec any) ([]Var, error) {
	rv := reflect.ValueOf(spec)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: Vars wants a struct, got %T", spec)
	}
	// A copy, so that walk has addressable fields to describe.
	cp := reflect.New(rv.Type()).Elem()
	fields, err := walk(cp, rv.Type().Name())
	if err != nil {
		return nil, err
	}
	out := make([]Var, 0, len(fields))
	for _, f := range fields {
		out = append(out, Var{
			Name: f.name, Field: f.path, Type: typeName(f.v.Type()), Secret: f.secret, Required: f.req,
			DevDefault: f.hasDev, Default: f.def, Shown: f.show, Enum: f.enum, Help: f.help,
		})
	}
	return out, nil
}

func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case durationsType:
		return "durations"
	}
	return t.Kind().String()
}

// DefaultOf is the declared default of the variable name in spec, for the
// tools that talk to the same servers as the functions (the dte command's
// AMQP and S3 flags); "" when spec declares no default for it.
func DefaultOf(spec any, name string) string {
	return lookup(spec, name, func(f field) string { return f.def })
}

// DevValueOf is the development value of the variable name in spec (what
// the local stack and `dte send` use); "" when it has none.
func DevValueOf(spec any, name string) string {
	return lookup(spec, name, func(f field) string { return f.dev })
}

func lookup(spec any, name string, get func(field) string) string {
	rv := reflect.ValueOf(spec)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return ""
	}
	fields, err := walk(reflect.New(rv.Type()).Elem(), rv.Type().Name())
	if err != nil {
		return ""
	}
	for _, f := range fields {
		if f.name == name {
			return get(f)
		}
	}
	return ""
}
