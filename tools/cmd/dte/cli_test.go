package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCommandLineConventions: help and -h print usage to standard output
// and exit 0; unknown commands, bad flags and stray arguments exit 2 with
// the usage on standard error.
func TestCommandLineConventions(t *testing.T) {
	real := filepath.Join(siiSamples, "real-dte", "DTE--76354771-K--33--170--cleaned.xml")
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each must appear on standard output
		stderr     []string // each must appear on standard error
		quietError bool     // nothing on standard error
	}{
		{"help", []string{"help"}, 0, []string{"usage: dte COMMAND", "verify", "envelope"}, nil, true},
		{"-h", []string{"-h"}, 0, []string{"usage: dte COMMAND"}, nil, true},
		{"--help", []string{"--help"}, 0, []string{"usage: dte COMMAND"}, nil, true},
		{"help COMMAND", []string{"help", "verify"}, 0, []string{"usage: dte verify", "-json"}, nil, true},
		{"help of an unknown command", []string{"help", "frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "usage: dte COMMAND"}, false},
		{"no command", nil, 2, nil, []string{"usage: dte COMMAND"}, false},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`dte: unknown command "frobnicate"`, "usage: dte COMMAND"}, false},
		{"caf -h", []string{"caf", "-h"}, 0, []string{"usage: dte caf add", "dte caf list"}, nil, true},
		{"caf add -h", []string{"caf", "add", "-h"}, 0, []string{"usage: dte caf add", "-sii-keys"}, nil, true},
		{"caf list --help", []string{"caf", "list", "--help"}, 0, []string{"usage: dte caf list", "-at"}, nil, true},
		{"caf unknown subcommand", []string{"caf", "remove"}, 2, nil, []string{`unknown subcommand "remove"`, "usage: dte caf add"}, false},
		{"bad flag", []string{"verify", "--nope", real}, 2, nil, []string{"flag provided but not defined: -nope", "usage: dte verify"}, false},
		{"bad flag after the arguments", []string{"verify", real, "--nope"}, 2, nil, []string{"flag provided but not defined: -nope", "usage: dte verify"}, false},
		{"bad flag value", []string{"siisim", "-step", "soon"}, 2, nil, []string{`invalid value "soon" for flag -step`, "usage: dte siisim"}, false},
		{"flag without its value", []string{"envelope", "DTE.xml", "--out"}, 2, nil, []string{"flag needs an argument: -out", "usage: dte envelope"}, false},
		{"stray argument", []string{"topology", "now"}, 2, nil, []string{`unexpected argument "now"`, "usage: dte topology"}, false},
		{"dead without a subcommand", []string{"dead"}, 2, nil, []string{"usage: dte dead"}, false},
		{"dead list with keys", []string{"dead", "list", "76086428-5-33-1042"}, 2, nil, []string{"list takes no arguments"}, false},
		{"dead replay of a bad key", []string{"dead", "replay", "nokey"}, 2, nil, []string{"nokey"}, false},
		{"retry without now", []string{"retry"}, 2, nil, []string{"usage: dte retry now"}, false},
		{"retry now without keys", []string{"retry", "now"}, 2, nil, []string{"give DTEKEYs or --all"}, false},
		{"retry now of a bad key", []string{"retry", "now", "nokey"}, 2, nil, []string{"nokey"}, false},
		{"retry -h", []string{"retry", "-h"}, 0, []string{"usage: dte retry now", "-all"}, nil, true},
		{"flags after the file", []string{"verify", real, "--json"}, 0, []string{`"valid": true`}, nil, true},
		{"-- ends the flags", []string{"verify", "--", "--json"}, 1, nil, []string{"--json"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runDTE(t, nil, tt.args...)
			if code != tt.code {
				t.Fatalf("dte %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("standard output lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("standard error lacks %q:\n%s", w, stderr)
				}
			}
			if tt.quietError && stderr != "" {
				t.Errorf("standard error is not empty:\n%s", stderr)
			}
		})
	}
}

// TestEveryCommandHelp: `dte COMMAND -h` and `dte help COMMAND` print that
// command's usage on standard output and exit 0, for every command.
func TestEveryCommandHelp(t *testing.T) {
	var names []string
	for n := range commands() {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 11 {
		t.Fatalf("only %d commands: %v", len(names), names)
	}
	for _, n := range names {
		for _, args := range [][]string{{n, "-h"}, {n, "--help"}, {"help", n}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, code := runDTE(t, nil, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr:\n%s", code, stderr)
				}
				if !strings.HasPrefix(stdout, "usage: dte "+n) {
					t.Errorf("standard output does not start with the usage of %s:\n%s", n, stdout)
				}
			})
		}
	}
}

// TestVerifyFromAnyFolder builds dte and verifies the SII's real sample
// and its tampered copy from the repository root and from /, with no
// --sii-keys and no SII_CAF_KEYS: the verdicts must be the same (the SII's
// CAF keys are built in, nothing is looked up relative to the folder).
func TestVerifyFromAnyFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "dte")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	type verdict struct {
		code   int
		report string
	}
	verify := func(dir, file string) verdict {
		t.Helper()
		cmd := exec.Command(bin, "verify", file, "--json")
		cmd.Dir = dir
		cmd.Env = withoutEnv(os.Environ(), "SII_CAF_KEYS")
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run dte in %s: %v", dir, err)
		}
		var r map[string]any
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("dte verify in %s: %v\n%s", dir, err, out)
		}
		delete(r, "file") // named as given: relative in one run, absolute in the other
		b, _ := json.Marshal(r)
		return verdict{code, string(b)}
	}
	for _, tt := range []struct {
		file string
		code int
		want string
	}{
		{"testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml", 0, `"valid":true`},
		{"testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", 1, `"valid":false`},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			fromRoot := verify(root, tt.file)
			fromSlash := verify("/", filepath.Join(root, tt.file))
			if fromRoot.code != tt.code || !strings.Contains(fromRoot.report, tt.want) {
				t.Fatalf("from the repository root: exit %d, want %d with %s:\n%s", fromRoot.code, tt.code, tt.want, fromRoot.report)
			}
			var r struct {
				Documents []struct {
					CAF struct{ Status string } `json:"caf"`
				} `json:"documents"`
			}
			if err := json.Unmarshal([]byte(fromRoot.report), &r); err != nil || len(r.Documents) != 1 || r.Documents[0].CAF.Status != "ok" {
				t.Errorf("the CAF was not checked with the built-in keys:\n%s", fromRoot.report)
			}
			if fromSlash != fromRoot {
				t.Errorf("from /: exit %d\n%s\nfrom the repository root: exit %d\n%s", fromSlash.code, fromSlash.report, fromRoot.code, fromRoot.report)
			}
		})
	}
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
