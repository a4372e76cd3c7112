package deploycheck

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/config"
)

var update = flag.Bool("update", false, "rewrite README.md's configuration table")

// TestConfigTableInREADME fails when README.md's configuration table is
// not what the functions declare; -update rewrites it.
func TestConfigTableInREADME(t *testing.T) {
	table, err := ConfigTable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "README.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceTable(string(doc), table)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Errorf("README.md's configuration table is not what shared/config declares; run\n\tgo test ./tools/deploycheck -run ConfigTable -update\nwant:\n%s", table)
	}
	if n := strings.Count(table, "\n| `"); n < 30 {
		t.Errorf("the table has %d variables: was anything declared?", n)
	}
}

// TestConfigDeclaresEveryFunction: each folder of functions/ has its
// configuration in shared/config, and nothing else does.
func TestConfigDeclaresEveryFunction(t *testing.T) {
	f := loadFixture(t)
	var declared []string
	for _, fn := range config.Functions() {
		declared = append(declared, fn.Name)
	}
	slices.Sort(declared)
	if strings.Join(declared, " ") != strings.Join(f.functions, " ") {
		t.Fatalf("config.Functions() declares %v; functions/ has %v", declared, f.functions)
	}
}

// TestFunctionsEnvReads guards the extraction on the real functions: were
// it to find nothing, every environment check would pass vacuously.
func TestFunctionsEnvReads(t *testing.T) {
	f := loadFixture(t)
	tests := []struct {
		fn   string
		want []string // reads that must be found: NAME, NAME:secret or NAME:required
	}{
		{"enqueue", []string{"PORT", "AMQP_URL:secret", "ENQUEUE_SECRET:secret:required", "LOG_LEVEL"}},
		{"sign", []string{"PORT", "REPLY_MODE", "CERT_FILE:required", "CERT_PASSWORD:secret", "S3_BUCKET", "S3_ACCESS_KEY:secret"}},
		{"submit", []string{"PORT", "REPLY_MODE", "SII_ENV", "S3_ENDPOINT", "S3_SECRET_KEY:secret", "CHECK_DELAYS"}},
		{"notify", []string{"PORT", "ODOO_CALLBACK_URL", "CALLBACK_SECRET:secret:required"}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			got := map[string]bool{}
			for _, r := range f.policy.Reads[tt.fn] {
				k := r.Name
				if r.Secret() {
					k += ":secret"
				}
				if r.Required() {
					k += ":required"
				}
				got[k] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s: %s not found among %v", tt.fn, w, f.policy.Reads[tt.fn])
				}
			}
		})
	}
}

// goList lists the packages pkgs depend on (go list -deps) with fields
// given as a template.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", format}, pkgs...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", pkgs, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// binaries are the programs that run in production: the functions and the
// dte command (the OpenFaaS connector).
func binaries(t *testing.T) []string {
	f := loadFixture(t)
	var out []string
	for _, fn := range f.functions {
		out = append(out, "./functions/"+fn)
	}
	return append(out, "./tools/cmd/dte")
}

// TestNoOtherEnvironmentReads: in what the functions link, only
// shared/config reads the environment, so that its declarations are the
// whole of their configuration (what the deployment check and the README
// rely on). The libraries (shared/archive and the rest) never do.
func TestNoOtherEnvironmentReads(t *testing.T) {
	f := loadFixture(t)
	var pkgs []string
	for _, fn := range f.functions {
		pkgs = append(pkgs, "./functions/"+fn)
	}
	const module = "github.com/dtecl/pipeline/"
	checked := 0
	for _, line := range goList(t, "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}", pkgs...) {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[0], module) || parts[0] == module+"shared/config" {
			continue
		}
		for _, name := range strings.Fields(parts[2]) {
			checked++
			file := filepath.Join(parts[1], name)
			for _, call := range envReads(t, file) {
				t.Errorf("%s: %s reads the environment; declare the variable in shared/config instead", file, call)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d files: the check would pass on nothing", checked)
	}
}

// envReads finds the calls of os.Getenv, os.LookupEnv, os.Environ and
// os.ExpandEnv in a Go file.
func envReads(t *testing.T, file string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	osName := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "os" {
			osName = "os"
			if imp.Name != nil {
				osName = imp.Name.Name
			}
		}
	}
	if osName == "" {
		return nil
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == osName {
			switch sel.Sel.Name {
			case "Getenv", "LookupEnv", "Environ", "ExpandEnv":
				found = append(found, fset.Position(sel.Pos()).String()+" os."+sel.Sel.Name)
			}
		}
		return true
	})
	return found
}

// TestNoTestHelpersInBinaries: the production binaries link no test helper
// package (dtetest, bustest, archivetest, servetest) and not package
// testing.
func TestNoTestHelpersInBinaries(t *testing.T) {
	deps := goList(t, "{{.ImportPath}}", binaries(t)...)
	if len(deps) < 50 {
		t.Fatalf("go list found %d packages: the check would pass on nothing", len(deps))
	}
	for _, d := range deps {
		if d == "testing" || (strings.HasPrefix(d, "github.com/dtecl/pipeline/") && strings.HasSuffix(d, "test")) {
			t.Errorf("a production binary links %s", d)
		}
	}
}
