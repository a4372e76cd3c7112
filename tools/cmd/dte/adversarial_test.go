package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/tools/adversarial"
)

// builtDTE is the dte command built once for the tests that run it as a
// program (from another working directory).
var builtDTE = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dte-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dte")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func dteBinary(t *testing.T) string {
	t.Helper()
	bin, err := builtDTE()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// runIn runs the built dte in dir.
func runIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(dteBinary(t), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type jsonReport struct {
	Valid bool     `json:"valid"`
	Codes []string `json:"codes"`
	dte.Report
}

func (j jsonReport) totals() []int64 {
	var out []int64
	for _, d := range j.Documents {
		out = append(out, d.Document.Total)
	}
	return out
}

// TestAdversarialCorpus runs `dte verify` as a program on every case of
// testdata/adversarial, from the repository's root (relative paths) and
// from / (absolute paths), strictly and with --allow-unknown-caf-key, and
// compares with the manifest.
func TestAdversarialCorpus(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	m, err := adversarial.ReadManifest(filepath.Join(root, "testdata/adversarial/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	keysRel := "testdata/adversarial/keys/sii-keys"
	for _, c := range m.Cases {
		if c.File == "" {
			continue
		}
		rel := "testdata/adversarial/cases/" + c.File
		for _, where := range []struct{ dir, file, keys string }{
			{root, rel, keysRel},
			{"/", filepath.Join(root, rel), filepath.Join(root, keysRel)},
		} {
			for _, allow := range []bool{false, true} {
				name := c.File + " from " + where.dir
				if allow {
					name += " allowing unknown CAF keys"
				}
				t.Run(name, func(t *testing.T) {
					args := []string{"verify", "--json", "--sii-keys", where.keys}
					if allow {
						args = append(args, "--allow-unknown-caf-key")
					}
					stdout, stderr, code := runIn(t, where.dir, append(args, where.file)...)
					var r jsonReport
					if err := json.Unmarshal([]byte(stdout), &r); err != nil {
						t.Fatalf("exit %d: %v\n%s%s", code, err, stdout, stderr)
					}
					if (code == 0) != r.Valid || code > 1 {
						t.Errorf("exit %d with valid=%v: %s", code, r.Valid, stderr)
					}
					for _, p := range c.Problems(r.Valid, r.Codes, r.totals(), r.Downgrades, allow) {
						t.Error(p)
					}
				})
			}
		}
	}
}

// TestDowngradeFirstLine: the text report names the downgrade first.
func TestDowngradeFirstLine(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	stdout, _, code := runIn(t, "/", "verify", "--allow-unknown-caf-key", "--sii-keys", filepath.Join(root, "testdata/adversarial/keys/sii-keys"),
		filepath.Join(root, "testdata/adversarial/cases/dte-forged-caf-unknown-idk.xml"))
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 0 || !strings.Contains(first, "DOWNGRADED: allow-unknown-caf-key") || !strings.Contains(stdout, "CAF          ALLOWED  caf-unknown-idk") ||
		!strings.Contains(stdout, "result: valid only with allow-unknown-caf-key") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	stdout, _, code = runIn(t, "/", "verify", "--sii-keys", filepath.Join(root, "testdata/adversarial/keys/sii-keys"),
		filepath.Join(root, "testdata/adversarial/cases/dte-forged-caf-unknown-idk.xml"))
	if code != 1 || !strings.Contains(stdout, "CAF          FAILED   caf-unknown-idk") || strings.Contains(stdout, "DOWNGRADED") {
		t.Errorf("strict: exit %d:\n%s", code, stdout)
	}
}

// TestHugeDocument: the 50 MiB document of small elements is refused
// unread by size, and, with a limit above its size, by its element count
// after one pass over its bytes (figures: see README, measured with
// /usr/bin/time -v).
func TestHugeDocument(t *testing.T) {
	path, err := adversarial.Huge(t.TempDir(), "many-elements", 50<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code string
	}{
		{nil, dte.CodeTooLarge},
		{[]string{"--max-size", strconv.Itoa(64 << 20)}, dte.CodeTooManyElements},
	} {
		stdout, stderr, code := runIn(t, "/", append(append([]string{"verify", "--json"}, tt.args...), path)...)
		var r jsonReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != 1 || len(r.Codes) != 1 || r.Codes[0] != tt.code {
			t.Errorf("%v: exit %d codes %v, want %s: %v %s", tt.args, code, r.Codes, tt.code, err, stderr)
		}
	}
}
