// Package config reads a function's configuration from its environment,
// once, at start. Each getter records a problem instead of failing at once,
// so that one start-up error lists every bad variable.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through a lookup function (os.LookupEnv in main, a
// map in tests) and collects the problems it finds.
type Env struct {
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	problems []string
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv, readFile: os.ReadFile} }

// FromMap reads a fixed map (for tests).
func FromMap(m map[string]string) *Env {
	return &Env{
		lookup:   func(k string) (string, bool) { v, ok := m[k]; return v, ok },
		readFile: os.ReadFile,
	}
}

func (e *Env) get(key string) (string, bool) {
	v, ok := e.lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable or def.
func (e *Env) String(key, def string) string {
	if v, ok := e.get(key); ok {
		return v
	}
	return def
}

// Required returns the variable and records a problem when it is unset.
func (e *Env) Required(key string) string {
	v, ok := e.get(key)
	if !ok {
		e.problems = append(e.problems, key+" is required")
	}
	return v
}

// Int returns the variable as an integer, or def.
func (e *Env) Int(key string, def int) int {
	v, ok := e.get(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not an integer", key, v))
		return def
	}
	return n
}

// Bool returns the variable as a boolean (true/false/1/0), or def.
func (e *Env) Bool(key string, def bool) bool {
	v, ok := e.get(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a boolean", key, v))
		return def
	}
	return b
}

// Duration returns the variable as a Go duration ("5s", "2m"), or def.
func (e *Env) Duration(key string, def time.Duration) time.Duration {
	v, ok := e.get(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a duration like 5s or 2m", key, v))
		return def
	}
	return d
}

// Secret returns a secret given either in KEY or in the file named by
// KEY_FILE (how Kubernetes and OpenFaaS mount secrets). It returns def when
// neither is set; ok tells whether it was set.
func (e *Env) Secret(key, def string) (value string, ok bool) {
	if path, set := e.get(key + "_FILE"); set {
		b, err := e.readFile(path)
		if err != nil {
			e.problems = append(e.problems, fmt.Sprintf("%s_FILE: %v", key, err))
			return def, false
		}
		return strings.TrimRight(string(b), "\r\n"), true
	}
	if v, set := e.get(key); set {
		return v, true
	}
	return def, false
}

// Err returns every problem found, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return errors.New("configuration: " + strings.Join(e.problems, "; "))
}

// Durations returns a comma-separated list of durations ("1s,5s,1m"), or def.
func (e *Env) Durations(key string, def []time.Duration) []time.Duration {
	v, ok := e.get(key)
	if !ok {
		return def
	}
	var out []time.Duration
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			e.problems = append(e.problems, fmt.Sprintf("%s=%q is not a list of durations like 1s,5s,1m", key, v))
			return def
		}
		out = append(out, d)
	}
	return out
}
