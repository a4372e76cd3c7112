package signerbench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/testenv"
	"github.com/dtecl/pipeline/tools/xsd"
)

const sample = "../../samples/requests/factura-33.json"

// The test binary is also a Go worker: with SIGNERBENCH_WORKER=1 it runs
// WorkerMain on its arguments instead of the tests. SIGNERBENCH_SHIFT
// moves -at by a duration, making a worker that signs something else.
func TestMain(m *testing.M) {
	if os.Getenv("SIGNERBENCH_WORKER") == "1" {
		args := os.Args[1:]
		if d, err := time.ParseDuration(os.Getenv("SIGNERBENCH_SHIFT")); err == nil {
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "-at" {
					t, _ := dte.ParseTimestamp(args[i+1])
					args[i+1] = dte.Timestamp(t.Add(d))
				}
			}
		}
		if err := WorkerMain(context.Background(), args, os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func goWorker(name string, env ...string) Variant {
	return Variant{Name: name, Command: []string{os.Args[0]}, Env: append([]string{"SIGNERBENCH_WORKER=1", "GOMAXPROCS=1"}, env...)}
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFixtureSignsAndVerifies: the fixture signs the sample, the document
// verifies (signature, TED, CAF against the test SII key), and a short
// Work measures something.
func TestFixtureSignsAndVerifies(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixture(dir, sample); err != nil {
		t.Fatal(err)
	}
	doc, err := SignAt(t.Context(), dir, sample, time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := caf.LoadKeys(FixtureFiles(dir).SIIKeysDir)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	defer schema.Close()
	if rep := dte.Verify(doc, dte.VerifyOptions{Keys: keys, Schema: schema}); !rep.Valid() {
		t.Fatalf("the fixture's DTE does not verify: %+v", rep.Failures())
	}
	if !strings.Contains(string(doc), "<TmstFirma>2026-11-27T10:00:00</TmstFirma>") {
		t.Errorf("TmstFirma is not the time asked for (Chile time)")
	}
	r, err := Work(t.Context(), dir, sample, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Docs < 1 || r.CPUSeconds <= 0 || r.WallSeconds < 0.2 || r.Bytes != len(doc) || r.RSAPerCPUSecond <= 0 {
		t.Errorf("work result %+v", r)
	}
}

// TestRun: a run with a Go worker measures every round and reports; a
// worker that signs something else fails the run before any figure.
func TestRun(t *testing.T) {
	cfg := Config{Variants: []Variant{goWorker("std")}, Request: abs(t, sample), Rounds: 2, Duration: 150 * time.Millisecond, Dir: t.TempDir()}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || len(rep.Rows[0].Runs) != 2 || rep.Rows[0].Median() <= 0 {
		t.Fatalf("report %+v", rep)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "std ") || !strings.Contains(b.String(), "Load average before") {
		t.Errorf("table:\n%s", b.String())
	}

	cfg.Dir = t.TempDir()
	cfg.Variants = []Variant{goWorker("std"), goWorker("shifted", "SIGNERBENCH_SHIFT=1s")}
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "shifted: its DTE is not shared/dte's") {
		t.Errorf("a worker signing at another time: error %v, want it refused", err)
	}

	cfg.Dir = t.TempDir()
	cfg.Variants = []Variant{{Name: "boring", Command: []string{os.Args[0]}, Env: []string{"SIGNERBENCH_WORKER=1"}, Boring: !boringEnabled()}}
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "BoringCrypto") {
		t.Errorf("a worker that is not on BoringCrypto taken for one: error %v", err)
	}
}

// TestPythonPeers: both Python flavours write shared/dte's document
// (Run checks digest, TED signature and signature value) and measure.
func TestPythonPeers(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import lxml, xmlsec, cryptography").CombinedOutput(); err != nil {
		testenv.Unavailable(t, "%s with lxml, xmlsec and cryptography is not available (apt-get install python3-lxml python3-xmlsec python3-cryptography): %v %s", py, err, out)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "sign_dte.py")
	if err := os.WriteFile(script, PythonScript, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Request: abs(t, sample), Rounds: 1, Duration: 200 * time.Millisecond, Dir: dir, Variants: []Variant{
		{Name: "python-xmlsec", Command: []string{py, script, "-flavour", "xmlsec"}},
		{Name: "python-openssl", Command: []string{py, script, "-flavour", "openssl"}},
	}}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rep.Rows {
		if len(row.Runs) != 1 || row.Median() <= 0 || row.Runs[0].Bytes < 5000 {
			t.Errorf("%s: %+v", row.Name, row.Runs)
		}
	}
}
