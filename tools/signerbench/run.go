package signerbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/tools/machine"
	"github.com/dtecl/pipeline/tools/xsd"
)

// Variant is one signer under test: a command that takes the worker flags
// (-fixture, -request, -for SECONDS; or -at TIME -out FILE).
type Variant struct {
	Name    string   // "std", "boringcrypto", "python"
	Command []string // program and leading arguments
	Env     []string // added to the environment (GOMAXPROCS=1 for Go workers)
	Boring  bool     // the worker must report that it runs on BoringCrypto
}

// Config is one benchmark run.
type Config struct {
	Variants []Variant
	Request  string        // the DTE request every variant signs
	Rounds   int           // each round runs every variant once, in a rotating order
	Duration time.Duration // per variant and round
	Dir      string        // scratch directory (fixture, documents)
	Progress func(format string, args ...any)
}

// Row is one variant's runs.
type Row struct {
	Name string   `json:"name"`
	Runs []Result `json:"runs"`
}

// Median is the median of the runs' DTEs per CPU second.
func (r Row) Median() float64 { return median(r.rates(Result.PerCPUSecond)) }

func (r Row) rates(f func(Result) float64) []float64 {
	var out []float64
	for _, x := range r.Runs {
		out = append(out, f(x))
	}
	return out
}

// Report is the whole run.
type Report struct {
	Started    time.Time `json:"started"`
	LoadBefore string    `json:"load_before"`
	LoadAfter  string    `json:"load_after"`
	Cores      int       `json:"cores"`
	Rounds     int       `json:"rounds"`
	Seconds    float64   `json:"seconds_per_run"`
	Request    string    `json:"request"`
	Rows       []Row     `json:"rows"`
}

// Run writes the fixture, checks that every variant writes the same
// signed document as shared/dte for the same time (same digest, same
// TED signature, same signature value; each verifies), then runs the
// rounds. A variant that cannot run or writes another document fails the
// whole run: a figure for a signer that did different work means nothing.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Variants) == 0 {
		return nil, errors.New("signerbench: no signers to measure")
	}
	if cfg.Rounds < 1 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("signerbench: rounds %d and duration %s must be positive", cfg.Rounds, cfg.Duration)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	fixture := filepath.Join(cfg.Dir, "fixture")
	if err := WriteFixture(fixture, cfg.Request); err != nil {
		return nil, err
	}
	if err := checkSame(ctx, cfg, fixture, progress); err != nil {
		return nil, err
	}
	rep := &Report{Started: time.Now().UTC(), LoadBefore: machine.LoadAverage(), Cores: cores(), Rounds: cfg.Rounds,
		Seconds: cfg.Duration.Seconds(), Request: filepath.Base(cfg.Request)}
	for _, v := range cfg.Variants {
		rep.Rows = append(rep.Rows, Row{Name: v.Name})
	}
	secs := strconv.FormatFloat(cfg.Duration.Seconds(), 'f', -1, 64)
	for round := range cfg.Rounds {
		for k := range cfg.Variants {
			i := (k + round) % len(cfg.Variants) // rotate, so that no signer always runs first
			v := cfg.Variants[i]
			out, err := run(ctx, v, "-fixture", fixture, "-request", cfg.Request, "-for", secs)
			if err != nil {
				return nil, err
			}
			var res Result
			if err := json.Unmarshal(lastLine(out), &res); err != nil {
				return nil, fmt.Errorf("%s: its result %q: %w", v.Name, lastLine(out), err)
			}
			if res.Docs < 1 || res.CPUSeconds <= 0 {
				return nil, fmt.Errorf("%s: measured nothing (%d documents in %.3f CPU seconds)", v.Name, res.Docs, res.CPUSeconds)
			}
			if v.Boring && !res.Boring {
				return nil, fmt.Errorf("%s: the worker does not run on BoringCrypto (%s): build it with CGO_ENABLED=1 GOEXPERIMENT=boringcrypto", v.Name, res.Stack)
			}
			rep.Rows[i].Runs = append(rep.Rows[i].Runs, res)
			progress("round %d/%d %-14s %7.0f DTE/s per CPU second (%.0f%% of a core)", round+1, cfg.Rounds, v.Name, res.PerCPUSecond(), 100*res.CPUSeconds/res.WallSeconds)
		}
	}
	rep.LoadAfter = machine.LoadAverage()
	return rep, nil
}

// checkSame has every variant sign at one fixed time and compares the
// parts that only equal work makes equal.
func checkSame(ctx context.Context, cfg Config, fixture string, progress func(string, ...any)) error {
	at := time.Now().Truncate(time.Second)
	ts := dte.Timestamp(at)
	ref, err := SignAt(ctx, fixture, cfg.Request, at)
	if err != nil {
		return fmt.Errorf("reference document: %w", err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		return err
	}
	defer schema.Close()
	keys, err := caf.LoadKeys(FixtureFiles(fixture).SIIKeysDir)
	if err != nil {
		return err
	}
	want, err := signedParts(ref)
	if err != nil {
		return fmt.Errorf("reference document: %w", err)
	}
	for _, v := range cfg.Variants {
		path := filepath.Join(cfg.Dir, v.Name+".xml")
		if _, err := run(ctx, v, "-fixture", fixture, "-request", cfg.Request, "-at", ts, "-out", path); err != nil {
			return err
		}
		doc, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		if rep := dte.Verify(doc, dte.VerifyOptions{Keys: keys, Schema: schema}); !rep.Valid() {
			return fmt.Errorf("%s: its DTE does not verify: %+v", v.Name, rep.Failures())
		}
		got, err := signedParts(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		for _, p := range []string{"DigestValue", "FRMT", "SignatureValue"} {
			if got[p] != want[p] {
				return fmt.Errorf("%s: its DTE is not shared/dte's for the same request and time: %s %q, want %q", v.Name, p, got[p], want[p])
			}
		}
		progress("%-14s writes the same DTE as shared/dte (digest %s, %d bytes; shared/dte %d)", v.Name, want["DigestValue"], len(doc), len(ref))
	}
	return nil
}

var partRE = regexp.MustCompile(`<(DigestValue|FRMT|SignatureValue)(?:\s[^>]*)?>([^<]*)</`)

// signedParts are the texts of DigestValue (the Documento with its TED),
// FRMT (the TED signature) and SignatureValue, whitespace removed.
func signedParts(doc []byte) (map[string]string, error) {
	out := map[string]string{}
	for _, m := range partRE.FindAllSubmatch(doc, -1) {
		name := string(m[1])
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("more than one %s", name)
		}
		out[name] = strings.Join(strings.Fields(string(m[2])), "")
	}
	for _, p := range []string{"DigestValue", "FRMT", "SignatureValue"} {
		if out[p] == "" {
			return nil, fmt.Errorf("no %s", p)
		}
	}
	return out, nil
}

// run starts a worker and returns its standard output.
func run(ctx context.Context, v Variant, args ...string) ([]byte, error) {
	if len(v.Command) == 0 {
		return nil, fmt.Errorf("%s: no command", v.Name)
	}
	cmd := exec.CommandContext(ctx, v.Command[0], append(slices.Clone(v.Command[1:]), args...)...)
	cmd.Env = append(os.Environ(), v.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w: %s", v.Name, strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
