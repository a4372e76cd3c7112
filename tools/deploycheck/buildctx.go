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
	"slices"
	"strings"
)

// Stage is one stage of a Dockerfile, as far as this check reads it.
type Stage struct {
	From  string   // the image, without "AS name"
	Args  []string // ARG names
	Steps []Step   // ARG, WORKDIR, COPY and RUN, in order
	Runs  []string // the RUN commands (as in Steps)
	User  string   // the last USER
}

// Step is one instruction of a build stage that RunBuildStage replays.
type Step struct {
	Instr string   // ARG, WORKDIR, COPY or RUN
	Args  []string // COPY: sources then destination; WORKDIR: the path; RUN: the command line; ARG: the name
	From  string   // COPY --from=stage: not replayed
}

// ParseDockerfile reads the stages of a Dockerfile: continuation lines
// joined, flags (--mount=..., --from=...) set apart.
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
		instr = strings.ToUpper(instr)
		rest = strings.TrimSpace(rest)
		var flags []string
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			flags = append(flags, flag)
			rest = strings.TrimSpace(rest)
		}
		if instr == "FROM" {
			from := strings.Fields(rest)
			if len(from) == 0 {
				return nil, fmt.Errorf("%s: FROM without an image", path)
			}
			stages = append(stages, Stage{From: from[0]})
			continue
		}
		if len(stages) == 0 {
			if instr == "ARG" {
				continue // a global ARG, before any FROM
			}
			return nil, fmt.Errorf("%s: %s before FROM", path, instr)
		}
		s := &stages[len(stages)-1]
		switch instr {
		case "USER":
			s.User = rest
		case "RUN":
			s.Runs = append(s.Runs, rest)
			s.Steps = append(s.Steps, Step{Instr: instr, Args: []string{rest}})
		case "ARG":
			name, _, _ := strings.Cut(rest, "=")
			s.Args = append(s.Args, name)
			s.Steps = append(s.Steps, Step{Instr: instr, Args: []string{name}})
		case "WORKDIR":
			s.Steps = append(s.Steps, Step{Instr: instr, Args: []string{rest}})
		case "COPY", "ADD":
			st := Step{Instr: "COPY", Args: strings.Fields(rest)}
			for _, f := range flags {
				if from, ok := strings.CutPrefix(f, "--from="); ok {
					st.From = from
				}
			}
			if len(st.Args) < 2 {
				return nil, fmt.Errorf("%s: %s needs a source and a destination", path, instr)
			}
			s.Steps = append(s.Steps, st)
		}
	}
	return stages, nil
}

var cgoOff = regexp.MustCompile(`\bCGO_ENABLED=0\b`)

// CheckDockerfile checks the functions' Dockerfile: a build stage that
// takes the function as the build argument FUNCTION, copies only shared/
// and that function's folder, builds with CGO off and without a go.work
// (the module requires shared through a relative replace), and a final
// stage on a minimal base that runs as a non-root user.
func CheckDockerfile(where string, stages []Stage) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if len(stages) < 2 {
		add("want a multi-stage build (a Go stage, then a minimal one), found %d stage(s)", len(stages))
		return problems
	}
	if !slices.Contains(stages[0].Args, "FUNCTION") {
		add("the build stage must take ARG FUNCTION: one Dockerfile builds every function")
	}
	build := strings.Join(stages[0].Runs, "\n")
	if strings.Contains(build, "go work") {
		add("the build stage must not make a go.work: the function's go.mod requires shared")
	}
	if !strings.Contains(build, "GOWORK=off") {
		add("the build stage must build with GOWORK=off, as the module stands on its own")
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

// RunBuildStage replays a Dockerfile's build stage on the context dir, as
// the image build would: ARG values from args (the build arguments, also
// in the RUN commands' environment), WORKDIR and COPY (from the context)
// into a fresh file system under a temporary root, RUN with sh there, the
// absolute path /out/ mapped to out/. The Go toolchain runs offline
// (GOPROXY=off, -mod=readonly): the modules must come from the module
// cache and the go.sum files as they are.
func RunBuildStage(ctx context.Context, dir, out string, build Stage, args map[string]string) ([]byte, error) {
	fsRoot, err := os.MkdirTemp("", "buildstage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(fsRoot)
	var log []byte
	env := append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	expand := func(s string) string { return os.Expand(s, func(k string) string { return args[k] }) }
	workdir := "/"
	for _, st := range build.Steps {
		switch st.Instr {
		case "ARG":
			env = append(env, st.Args[0]+"="+args[st.Args[0]])
		case "WORKDIR":
			if w := expand(st.Args[0]); filepath.IsAbs(w) {
				workdir = filepath.Clean(w)
			} else {
				workdir = filepath.Join(workdir, w)
			}
			if err := os.MkdirAll(filepath.Join(fsRoot, workdir), 0o755); err != nil {
				return log, err
			}
		case "COPY":
			if st.From != "" {
				continue
			}
			dst := expand(st.Args[len(st.Args)-1])
			if !filepath.IsAbs(dst) {
				dst = filepath.Join(workdir, dst)
			}
			for _, src := range st.Args[:len(st.Args)-1] {
				src = filepath.Join(dir, filepath.Clean("/"+expand(src)))
				if err := copyTree(src, filepath.Join(fsRoot, dst)); err != nil {
					return log, fmt.Errorf("COPY %s: %w", strings.Join(st.Args, " "), err)
				}
				log = append(log, fmt.Sprintf("COPY %s %s\n", src, dst)...)
			}
		case "RUN":
			cmdline := strings.ReplaceAll(st.Args[0], "/out/", out+"/")
			cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
			cmd.Dir, cmd.Env = filepath.Join(fsRoot, workdir), env
			b, err := cmd.CombinedOutput()
			log = append(log, fmt.Sprintf("$ %s\n%s", cmdline, b)...)
			if err != nil {
				return log, fmt.Errorf("RUN %s: %w", st.Args[0], err)
			}
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
