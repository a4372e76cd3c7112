// Package testenv holds the rules every test of the repository follows
// about its surroundings, in one place:
//
//   - A test that needs an external program (xmllint, xmlsec1, python3) or
//     a server (RabbitMQ, the S3 server) and cannot find it is skipped only
//     when someone runs `go test` by hand. Under `make test` and CI
//     (DTE_TEST_STRICT=1 or CI=true) it fails: a check that could not be
//     made is a failure, never a pass.
//   - A test fed by a glob fails when the glob matches nothing: otherwise
//     it checks nothing and passes.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// StrictVar is the variable `make test` sets to 1 so that a missing tool
// or server fails the tests that need it.
const StrictVar = "DTE_TEST_STRICT"

// Strict reports whether a missing tool or server must fail a test:
// DTE_TEST_STRICT=1 (make test) or CI=true.
func Strict() bool {
	return os.Getenv(StrictVar) == "1" || os.Getenv("CI") == "true"
}

// TB is the part of testing.TB these helpers use. The package does not
// import testing, so that helpers linked into tools (dtetest) can use it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Unavailable ends a test that cannot run because something outside it is
// missing: a failure under Strict, a skip otherwise. The message should
// say what is missing and how to get it.
func Unavailable(t TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s (a missing tool or server fails the tests under %s=1 or CI=true)", msg, StrictVar)
	}
	t.Skipf("%s (skipped; under make test this fails)", msg)
}

// Glob returns the files matching pattern, sorted, and fails the test when
// there are none or the pattern is malformed.
func Glob(t TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("glob %s: %v", pattern, err)
	}
	if len(files) == 0 {
		t.Fatalf("glob %s matches no file: a test fed by it would check nothing", pattern)
	}
	return files
}

// ReadDir returns the entries of dir and fails the test when it cannot be
// read or is empty.
func ReadDir(t TB, dir string) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	if len(entries) == 0 {
		t.Fatalf("%s is empty: a test fed by it would check nothing", dir)
	}
	return entries
}
