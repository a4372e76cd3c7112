package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestModulesStandOnTheirOwn: each module builds without the workspace
// (GOWORK=off, as the image builds do): a function's go.mod requires shared
// directly and replaces it with the repository's copy, and `go mod tidy`
// has nothing to change in any module. tidy also looks at the tests of
// every dependency, which a build never downloads, so on a fresh machine it
// fetches them through the Go module proxy (GOPROXY as configured).
func TestModulesStandOnTheirOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy in every module")
	}
	modules, err := WorkspaceModules(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) < 6 {
		t.Fatalf("found %d modules, want shared, tools and the four functions", len(modules))
	}
	requireShared := regexp.MustCompile(`(?m)^\s*(require\s+)?github\.com/dtecl/pipeline/shared v0\.0\.0\s*$`)
	for path, dir := range modules {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(path, "/shared") {
				if !requireShared.Match(gomod) {
					t.Errorf("%s/go.mod does not require shared directly (a line `github.com/dtecl/pipeline/shared v0.0.0`)", dir)
				}
				rel, _ := filepath.Rel(dir, filepath.Join(root, "shared"))
				if !strings.Contains(string(gomod), "replace github.com/dtecl/pipeline/shared => "+filepath.ToSlash(rel)+"\n") {
					t.Errorf("%s/go.mod does not replace shared with %s", dir, rel)
				}
			}
			cmd := exec.Command("go", "mod", "tidy", "-diff")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go mod tidy would change %s (%v):\n%s", dir, err, out)
			}
		})
	}
}
