package deploycheck

import (
	"context"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Stage is one stage of a Dockerfile, as far as this check reads it.
type Stage struct {
	From string   // the image, without "AS name"
	Runs []string // RUN commands, continuation lines joined, flags (--mount=...) dropped
	User string   // the last USER
}

// ParseDockerfile reads the stages of a Dockerfile.
func ParseDockerfile(path string) ([]Stage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var stages []Stage
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			from := strings.Fields(rest)
			for len(from) > 0 && strings.HasPrefix(from[0], "--") {
				from = from[1:]
			}
			if len(from) == 0 {
				return nil, fmt.Errorf("%s: FROM without an image", path)
			}
			stages = append(stages, Stage{From: from[0]})
		case "RUN", "USER":
			if len(stages) == 0 {
				return nil, fmt.Errorf("%s: %s before FROM", path, instr)
			}
			s := &stages[len(stages)-1]
			if strings.ToUpper(instr) == "USER" {
				s.User = rest
				continue
			}
			for strings.HasPrefix(rest, "--") {
				_, rest, _ = strings.Cut(rest, " ")
				rest = strings.TrimSpace(rest)
			}
			s.Runs = append(s.Runs, rest)
		}
	}
	return stages, nil
}

var cgoOff = regexp.MustCompile(`\bCGO_ENABLED=0\b`)

// CheckDockerfile checks an OpenFaaS function's Dockerfile: a build stage
// that makes a go.work from the function and ./shared and builds with CGO
// off, and a final stage on a minimal base that runs as a non-root user.
func CheckDockerfile(where string, stages []Stage) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if len(stages) < 2 {
		add("want a multi-stage build (a Go stage, then a minimal one), found %d stage(s)", len(stages))
		return problems
	}
	build := strings.Join(stages[0].Runs, "\n")
	if !strings.Contains(build, "go work init . ./shared") {
		add("the build stage must run `go work init . ./shared`: the module does not require shared")
	}
	if !cgoOff.MatchString(build) || !strings.Contains(build, "go build") {
		add("the build stage must run go build with CGO_ENABLED=0 (a static binary)")
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.From, "gcr.io/distroless/static") && final.From != "scratch" && !strings.HasPrefix(final.From, "cgr.dev/chainguard/static") {
		add("final stage FROM %s: want a minimal static base (distroless static, chainguard static or scratch)", final.From)
	}
	if u := final.User; u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
		add("final stage runs as %q: set a non-root USER", u)
	}
	return problems
}

// AssembleContext lays out in dir what faas-cli sends to the image build of
// a lang: dockerfile function: the handler folder's files, plus each
// configuration.copy path under its own name.
func AssembleContext(root, dir string, st Stack, fn string) error {
	f, ok := st.Functions[fn]
	if !ok {
		return fmt.Errorf("no function %s in the stack", fn)
	}
	if err := copyTree(filepath.Join(root, f.Handler), dir); err != nil {
		return err
	}
	for _, c := range st.Configuration.Copy {
		if err := copyTree(filepath.Join(root, c), filepath.Join(dir, filepath.Clean(c))); err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// RunBuildStage runs the RUN commands of a Dockerfile's first stage in the
// context dir with sh, as the image build would, with the absolute path
// /out/ mapped to out/. The Go toolchain runs offline (GOPROXY=off): the
// modules must come from the module cache, as the workspace has them.
func RunBuildStage(ctx context.Context, dir, out string, build Stage) ([]byte, error) {
	var log []byte
	env := append(os.Environ(), "GOWORK=", "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	for _, run := range build.Runs {
		cmdline := strings.ReplaceAll(run, "/out/", out+"/")
		cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
		cmd.Dir, cmd.Env = dir, env
		b, err := cmd.CombinedOutput()
		log = append(log, fmt.Sprintf("$ %s\n%s", cmdline, b)...)
		if err != nil {
			return log, fmt.Errorf("RUN %s: %w", run, err)
		}
	}
	return log, nil
}

// CheckStatic fails unless the file is a statically linked ELF executable:
// no program interpreter and no shared libraries.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (it has a program interpreter)", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	if len(libs) > 0 {
		return fmt.Errorf("%s needs shared libraries %v", path, libs)
	}
	return nil
}
