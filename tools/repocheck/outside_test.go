package repocheck

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The reference folder that sat beside the first checkouts, spelt in
// pieces so that this file does not mention it.
var outsideNeedles = []string{".." + "/shared", "/work" + "/shared"}

// referenceDocs are documents of that folder the code once cited (names
// without ".md", so that this file does not cite them). A mention is
// allowed only where the repository has a file of that name.
var referenceDocs = []string{"DESIGN", "PROTOCOL", "PRINTING", "PLATFORM", "STYLE", "ODOO19"}

// repoRoot is the top of the checkout these tests run in.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v (the repository checks need git and a clone)", err)
	}
	return strings.TrimSpace(string(out))
}

// trackedFiles lists the files git tracks, relative to the root, with the
// text of each (binary files left out).
func trackedFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := map[string][]byte{}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(root, name))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree, not yet committed
			}
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary (the test certificate)
		}
		files[name] = b
	}
	if len(files) < 100 {
		t.Fatalf("git ls-files gave %d text files: not the repository", len(files))
	}
	return files
}

// allowedOutside is what may mention the needles: .ci/run may take the Odoo
// source for the addon's framework tests from the reference folder, as an
// absolute ODOO_SRC resolved before the repository is copied; and a go.mod
// may replace the unpublished shared module with its folder in this
// repository (from functions/sign, two folders up is the repository root),
// which is not outside at all.
func allowedOutside(root, file, line string) bool {
	if file == ".ci/run" && strings.Contains(line, "ODOO_SRC=") {
		return true
	}
	return path.Base(file) == "go.mod" && replacesInside(root, file, line)
}

// replacesInside reports whether line is a go.mod replace directive whose
// target is a relative path to a folder inside the repository.
func replacesInside(root, file, line string) bool {
	m := replaceLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return false
	}
	target := filepath.Join(root, filepath.Dir(file), filepath.FromSlash(m[1]))
	rel, err := filepath.Rel(root, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	fi, err := os.Stat(target)
	return err == nil && fi.IsDir()
}

// replaceLine matches `replace MODULE => ../path` (a directory replacement).
var replaceLine = regexp.MustCompile(`^replace\s+\S+(?:\s+\S+)?\s+=>\s+(\.\.?/\S*)$`)

func TestNoPathOutsideTheRepository(t *testing.T) {
	root := repoRoot(t)
	for name, b := range trackedFiles(t, root) {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			for _, needle := range outsideNeedles {
				if strings.Contains(line, needle) && !allowedOutside(root, name, line) {
					t.Errorf("%s:%d refers to %s, outside the repository: %s", name, n, needle, strings.TrimSpace(line))
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAllowedOutside(t *testing.T) {
	root := repoRoot(t)
	for _, tt := range []struct {
		file, line string
		want       bool
	}{
		{".ci/run", `export ODOO_SRC=$(cd "$ROOT/` + outsideNeedles[0] + `/odoo/odoo-19.0" && pwd)`, true},
		{".ci/run", `source ` + outsideNeedles[0] + `/env.sh`, false},
		{"Makefile", `ODOO_SRC=` + outsideNeedles[0] + `/odoo`, false},
		{"functions/sign/go.mod", `replace github.com/dtecl/pipeline/shared => ../` + outsideNeedles[0], true},
		{"tools/go.mod", `replace github.com/dtecl/pipeline/shared => ` + outsideNeedles[0], true},
		{"go.mod", `replace github.com/dtecl/pipeline/shared => ` + outsideNeedles[0], false}, // the sibling folder
		{"tools/go.mod", `replace github.com/dtecl/pipeline/shared => ../` + outsideNeedles[0], false},
		{"functions/sign/go.mod", `replace x => ../` + outsideNeedles[0] + `/nope`, false}, // no such folder
		{"functions/sign/go.mod", `// ../` + outsideNeedles[0], false},
	} {
		if got := allowedOutside(root, tt.file, tt.line); got != tt.want {
			t.Errorf("allowedOutside(%q, %q) = %v", tt.file, tt.line, got)
		}
	}
}

func TestNoReferenceDocumentOutsideTheRepository(t *testing.T) {
	root := repoRoot(t)
	files := trackedFiles(t, root)
	have := map[string]bool{}
	for name := range files {
		have[path.Base(name)] = true
	}
	for name, b := range files {
		for _, doc := range referenceDocs {
			doc += ".md"
			if have[doc] || !bytes.Contains(b, []byte(doc)) {
				continue
			}
			for n, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, doc) {
					t.Errorf("%s:%d cites %s, which is not in the repository (docs/ has the project's documents): %s", name, n+1, doc, strings.TrimSpace(line))
				}
			}
		}
	}
}

// mdLink is an inline Markdown link or image: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// TestMarkdownLinksStayInside: every relative link of a tracked Markdown
// file names a file or folder of the repository.
func TestMarkdownLinksStayInside(t *testing.T) {
	root := repoRoot(t)
	files := trackedFiles(t, root)
	checked := 0
	for name, b := range files {
		if !strings.HasSuffix(name, ".md") {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			rel := path.Clean(path.Join(path.Dir(name), target))
			if rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(target) {
				t.Errorf("%s links %s, outside the repository", name, m[1])
				continue
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				t.Errorf("%s links %s: %v", name, m[1], err)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no relative Markdown link found: the check checked nothing")
	}
}
