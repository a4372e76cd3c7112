package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedSize bounds a tracked file: the largest the repository needs is
// a kubeconform schema of about 450 KB; a program built inside a module's
// folder and committed by mistake is tens of MB.
const maxTrackedSize = 2 << 20

// executableMagic are the first bytes of programs built for Linux, macOS
// and Windows.
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xcf, 0xfa, 0xed, 0xfe}, {0xfe, 0xed, 0xfa, 0xcf}, // Mach-O 64-bit
	[]byte("MZ"),
}

// TestNoBuiltProgramsTracked: no compiled program and no oversized file is
// committed (go build in a function's folder leaves one there; .gitignore
// lists those names, and this catches the ones it does not).
func TestNoBuiltProgramsTracked(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(names) < 100 {
		t.Fatalf("git ls-files listed %d files; expected the whole repository", len(names))
	}
	for _, name := range names {
		fi, err := os.Lstat(filepath.Join(root, name))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		if fi.Size() > maxTrackedSize {
			t.Errorf("%s is %d bytes (over %d): a build output or data that belongs outside git", name, fi.Size(), maxTrackedSize)
			continue
		}
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		for _, magic := range executableMagic {
			if n >= len(magic) && bytes.Equal(head[:len(magic)], magic) {
				t.Errorf("%s is a compiled program: remove it from git and list it in .gitignore", name)
			}
		}
	}
}
