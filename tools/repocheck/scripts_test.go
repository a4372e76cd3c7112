package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// coreUtils are the programs scripts/prereqs.sh itself runs; the fake
// environments link them from the real system.
var coreUtils = []string{"bash", "awk", "paste", "sed", "grep", "uname", "id", "dirname"}

// prereqTools are the programs scripts/prereqs.sh looks for; the fake
// environments provide them as stubs, all but those a case removes.
var prereqTools = []string{"go", "gcc", "pkg-config", "curl", "flock", "setsid", "rabbitmq-server", "rabbitmqctl", "xmllint", "xmlsec1", "git", "pdftoppm", "chromium"}

// fakeEnv is a PATH of stubs and a Python that lacks some modules.
type fakeEnv struct {
	without      []string // tools to leave out
	pythonLacks  []string // modules the fake Python cannot import
	noPython     bool
	libxml2NoDev bool // pkg-config does not know libxml-2.0
	os           string
	root         string // DTE_PREREQS_ROOT
}

func (f fakeEnv) build(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range coreUtils {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.Symlink(real, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	stub := func(path, script string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
tools:
	for _, name := range prereqTools {
		for _, w := range f.without {
			if w == name {
				continue tools
			}
		}
		switch name {
		case "pkg-config":
			if f.libxml2NoDev {
				stub(filepath.Join(bin, name), "exit 1")
				continue
			}
		case "rabbitmqctl":
			stub(filepath.Join(bin, name), "exit 1") // installed, not running
			continue
		}
		stub(filepath.Join(bin, name), "exit 0")
	}
	python := filepath.Join(dir, "python3")
	if !f.noPython {
		script := ""
		for _, m := range f.pythonLacks {
			script += `case "$2" in *"import ` + m + `"*) exit 1;; esac` + "\n"
		}
		stub(python, script+"exit 0")
	}
	return []string{"PATH=" + bin, "HOME=" + dir, "DTE_PYTHON=" + python,
		"DTE_PREREQS_OS=" + f.os, "DTE_PREREQS_ROOT=" + f.root}
}

// TestPrereqsScript runs scripts/prereqs.sh in fake environments: what it
// reports missing, the one command it prints, and its exit status. It never
// installs anything (--check and --dry-run).
func TestPrereqsScript(t *testing.T) {
	root := repoRoot(t)
	script := filepath.Join(root, "scripts", "prereqs.sh")
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     fakeEnv
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{"everything there", fakeEnv{os: "linux-debian", root: "1"}, []string{"--check", "test"}, 0,
			[]string{"everything make test needs is installed", "RabbitMQ is installed but not running; make test starts it"}, []string{"missing"}},
		{"a fresh Debian as root, dry run", fakeEnv{os: "linux-debian", root: "1", without: []string{"xmllint", "xmlsec1"}, pythonLacks: []string{"jsonschema"}},
			[]string{"--dry-run", "test"}, 1,
			[]string{"missing for make test: xmllint, xmlsec1, Python jsonschema for", "would run: apt-get update && apt-get install -y --no-install-recommends libxml2-utils xmlsec1 python3-jsonschema"},
			[]string{"sudo"}},
		{"not root, no sudo", fakeEnv{os: "linux-debian", root: "0", without: []string{"xmlsec1", "git"}, pythonLacks: []string{"yaml"}},
			[]string{"test"}, 1,
			[]string{"install them with:", "sudo apt-get update && sudo apt-get install -y --no-install-recommends xmlsec1 git python3-yaml"},
			[]string{"installing"}},
		{"the browser test needs chromium", fakeEnv{os: "linux-debian", root: "1", without: []string{"chromium"}},
			[]string{"--dry-run", "test"}, 1, []string{"--no-install-recommends chromium"}, nil},
		{"make run does not need xmllint, xmlsec1, chromium or Python", fakeEnv{os: "linux-debian", root: "1", without: []string{"xmllint", "xmlsec1", "git", "chromium"}, noPython: true},
			[]string{"--check", "run"}, 0, []string{"everything make run needs is installed"}, []string{"xmlsec1", "xmllint"}},
		{"cgo needs gcc and libxml2's headers", fakeEnv{os: "linux-debian", root: "1", without: []string{"gcc"}, libxml2NoDev: true},
			[]string{"--check", "run"}, 1,
			[]string{"gcc (cgo), libxml2 headers (libxml-2.0.pc)", "apt-get install -y --no-install-recommends gcc libxml2-dev"}, nil},
		{"no Python at all", fakeEnv{os: "linux-debian", root: "1", noPython: true}, []string{"--check", "test"}, 1,
			[]string{"python3 python3-jsonschema python3-yaml python3-zxing-cpp python3-xmlsec python3-cryptography"}, nil},
		{"RabbitMQ missing", fakeEnv{os: "linux-debian", root: "1", without: []string{"rabbitmq-server", "rabbitmqctl"}}, []string{"--check", "run"}, 1,
			[]string{"RabbitMQ (rabbitmq-server, rabbitmqctl)", "--no-install-recommends rabbitmq-server"}, nil},
		{"macOS", fakeEnv{os: "darwin", without: []string{"xmlsec1", "rabbitmq-server"}, pythonLacks: []string{"jsonschema"}},
			[]string{"test"}, 1,
			[]string{"brew install rabbitmq libxmlsec1 && ", " -m pip install --user jsonschema pyyaml zxing-cpp lxml xmlsec cryptography"}, []string{"apt-get"}},
		{"another system", fakeEnv{os: "other", without: []string{"xmllint"}}, []string{"test"}, 1,
			[]string{"install with your package manager: xmllint; (Debian names: libxml2-utils)"}, nil},
		{"no Go", fakeEnv{os: "linux-debian", root: "1", without: []string{"go"}}, []string{"test"}, 1,
			[]string{"Go is not installed (go.work wants 1.", "https://go.dev/dl/"}, nil},
		{"bad usage", fakeEnv{os: "linux-debian"}, []string{"everything"}, 2, []string{"usage: scripts/prereqs.sh"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bash, append([]string{script}, tt.args...)...)
			cmd.Env = tt.env.build(t)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("output has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("scripts/prereqs.sh %s:\n%s", strings.Join(tt.args, " "), out)
			}
		})
	}
}

// TestFreshCopy runs a command through scripts/fresh-copy.sh: it must run
// in a clone of HEAD with nothing beside it, pass the exit status through,
// and remove the clone afterwards.
func TestFreshCopy(t *testing.T) {
	root := repoRoot(t)
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	report := filepath.Join(tmp, "report")
	probe := `pwd > "$REPORT"; ls -A .. >> "$REPORT"; git rev-parse HEAD >> "$REPORT"; test -f go.work || exit 9; exit 7`
	cmd := exec.Command(filepath.Join(root, "scripts", "fresh-copy.sh"), "sh", "-c", probe)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "REPORT="+report)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 7 {
		t.Fatalf("want exit 7 (the command's), got %v:\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("the command did not run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("report:\n%s\noutput:\n%s", b, out)
	}
	dir, beside, cloneHead := lines[0], lines[1], lines[2]
	if !strings.HasPrefix(dir, tmp+"/dte-fresh.") || filepath.Base(dir) != "dte-pipeline" {
		t.Errorf("ran in %s, want $TMPDIR/dte-fresh.*/dte-pipeline", dir)
	}
	if beside != "dte-pipeline" {
		t.Errorf("the clone's folder holds %q, want the clone alone", beside)
	}
	if cloneHead != strings.TrimSpace(string(head)) {
		t.Errorf("clone at %s, HEAD is %s", cloneHead, head)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Errorf("%s was not removed: %v", filepath.Dir(dir), err)
	}
}
