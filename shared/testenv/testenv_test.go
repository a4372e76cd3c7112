package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var _ TB = testing.TB(nil)

// recorder is a TB that records how a helper ended the test.
type recorder struct {
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(r)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	panic(r)
}

// call runs f with a recorder and returns it after f ended the "test".
func call(f func(TB)) (r *recorder) {
	r = &recorder{}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f(r)
	return r
}

func TestStrict(t *testing.T) {
	tests := []struct {
		strict, ci string
		want       bool
	}{
		{"", "", false},
		{"1", "", true},
		{"", "true", true},
		{"0", "false", false},
		{"yes", "", false}, // only 1 switches it on, as make test sets it
	}
	for _, tt := range tests {
		t.Run(tt.strict+"/"+tt.ci, func(t *testing.T) {
			t.Setenv(StrictVar, tt.strict)
			t.Setenv("CI", tt.ci)
			if got := Strict(); got != tt.want {
				t.Errorf("Strict() = %v, want %v", got, tt.want)
			}
			r := call(func(tb TB) { Unavailable(tb, "xmllint is not installed") })
			if tt.want && (r.fatal == "" || r.skip != "") {
				t.Errorf("strict: want a failure, got fatal %q skip %q", r.fatal, r.skip)
			}
			if !tt.want && (r.skip == "" || r.fatal != "") {
				t.Errorf("lenient: want a skip, got fatal %q skip %q", r.fatal, r.skip)
			}
		})
	}
}

func TestGlobAndReadDir(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.xml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Glob(t, filepath.Join(dir, "*.xml")); len(got) != 1 {
		t.Errorf("Glob: %v", got)
	}
	if got := ReadDir(t, dir); len(got) != 2 {
		t.Errorf("ReadDir: %v", got)
	}
	for name, f := range map[string]func(TB){
		"empty glob":        func(tb TB) { Glob(tb, filepath.Join(dir, "*.json")) },
		"malformed pattern": func(tb TB) { Glob(tb, "[") },
		"empty folder":      func(tb TB) { ReadDir(tb, empty) },
		"missing folder":    func(tb TB) { ReadDir(tb, filepath.Join(dir, "nope")) },
	} {
		if r := call(f); r.fatal == "" {
			t.Errorf("%s: did not fail the test", name)
		}
	}
}
