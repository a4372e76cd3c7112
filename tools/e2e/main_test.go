package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root seen from this package; go runs there so
// that go.work applies.
const repoRoot = "../.."

// binDir holds the function binaries and the dte command, built once by
// TestMain. It is set before any test runs and never changed after.
var binDir string

// binaries are the packages TestMain builds: the four functions and the
// dashboard (what the local stack runs) and the dte command (dead-letter
// replay).
var binaries = []string{"./functions/enqueue", "./functions/sign", "./functions/submit", "./functions/notify", "./functions/dashboard", "./tools/cmd/dte"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse() // for testing.Verbose below
	dir, err := os.MkdirTemp("", "dte-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

// build compiles the binaries into dir the way `make build` does (the
// functions static, CGO off; the dte command with cgo, for libxml2), from
// the repository root so that the workspace applies.
func build(dir string) error {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return err
	}
	start := time.Now()
	var functions, tools []string
	for _, b := range binaries {
		if strings.HasPrefix(b, "./functions/") {
			functions = append(functions, b)
		} else {
			tools = append(tools, b)
		}
	}
	for _, set := range []struct {
		pkgs []string
		env  []string
	}{{functions, []string{"CGO_ENABLED=0"}}, {tools, nil}} {
		if len(set.pkgs) == 0 {
			continue
		}
		args := append([]string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}, set.pkgs...)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), set.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	}
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, filepath.Base(b))); err != nil {
			return fmt.Errorf("built %s but: %w", b, err)
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %d binaries in %s\n", len(binaries), time.Since(start).Round(time.Millisecond))
	}
	return nil
}
