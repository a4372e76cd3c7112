package adversarial_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/tools/adversarial"
	"github.com/dtecl/pipeline/tools/xsd"
)

var (
	update  = flag.Bool("update", false, "write the corpus to testdata/adversarial")
	newKeys = flag.Bool("new-keys", false, "with -update: make new test keys first (every case changes)")
)

const corpusDir = "../../testdata/adversarial"

// TestCorpusUpToDate generates the corpus again and compares it byte for
// byte with testdata/adversarial (rewrite with -update).
func TestCorpusUpToDate(t *testing.T) {
	keysDir := filepath.Join(corpusDir, "keys")
	if *update && *newKeys {
		if err := adversarial.WriteNewKeys(keysDir); err != nil {
			t.Fatal(err)
		}
	}
	k, err := adversarial.LoadKeys(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := adversarial.Generate(k)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := c.ManifestJSON()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"manifest.json": manifest}
	for name, b := range c.Files {
		files[filepath.Join("cases", name)] = b
	}
	if *update {
		os.RemoveAll(filepath.Join(corpusDir, "cases"))
		for name, b := range files {
			path := filepath.Join(corpusDir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatalf("%v (go test ./tools/adversarial -run TestCorpusUpToDate -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes now (go test ./tools/adversarial -run TestCorpusUpToDate -update)", name)
		}
	}
	committed, _ := filepath.Glob(filepath.Join(corpusDir, "cases", "*.xml"))
	if len(committed) != len(c.Files) {
		t.Errorf("%d committed cases, the generator makes %d", len(committed), len(c.Files))
	}
}

// Manifest reads the committed manifest; it fails on an empty one.
func readManifest(t testing.TB) adversarial.Manifest {
	t.Helper()
	m, err := adversarial.ReadManifest(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func check(t *testing.T, c adversarial.Case, r *dte.Report, allowUnknown bool) {
	t.Helper()
	for _, p := range c.ReportProblems(r, allowUnknown) {
		t.Error(p)
	}
	if allowUnknown && c.ValidAllowingUnknownCAFKey && (r.Documents[0].CAF.Status != dte.StatusAllowed || r.Documents[0].CAF.Code != dte.CodeCAFUnknownIDK) {
		t.Errorf("CAF %+v, want allowed caf-unknown-idk", r.Documents[0].CAF)
	}
}

// TestCorpusVerdicts verifies every committed case in process, strictly
// and with --allow-unknown-caf-key, and once without the schema, to show
// the structure checks catch wrapping on their own.
func TestCorpusVerdicts(t *testing.T) {
	m := readManifest(t)
	keys, err := caf.SIIKeys(adversarial.SIIKeysDir(filepath.Join(corpusDir, "keys")))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cases {
		if c.File == "" {
			continue
		}
		t.Run(c.File, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpusDir, "cases", c.File))
			if err != nil {
				t.Fatal(err)
			}
			check(t, c, dte.Verify(b, dte.VerifyOptions{Keys: keys, Schema: schema}), false)
			check(t, c, dte.Verify(b, dte.VerifyOptions{Keys: keys, Schema: schema, AllowUnknownCAFKey: true}), true)
			r := dte.Verify(b, dte.VerifyOptions{Keys: keys})
			if !c.Valid && len(r.Failures()) < 2 && slices.Contains(c.Codes, dte.CodeSchemaInvalid) {
				t.Errorf("without the schema only %v fails", r.Codes())
			}
		})
	}
}

// TestCorpusCovers: the corpus holds what the issue asks for.
func TestCorpusCovers(t *testing.T) {
	m := readManifest(t)
	count := map[string]int{}
	var kinds []string
	for _, c := range m.Cases {
		for _, code := range c.Codes {
			count[code]++
		}
		if len(c.File) > 9 && (c.File[:9] == "dte-wrap-" || c.File[:9] == "env-wrap-") {
			count[c.File[:9]]++
		}
		kinds = append(kinds, c.Kind)
	}
	sort.Strings(kinds)
	for what, n := range map[string]int{"dte-wrap-": 4, "env-wrap-": 4, dte.CodeDuplicateID: 2, dte.CodeWrongElement: 1, dte.CodeTEDMismatch: 3,
		dte.CodeKeyMismatch: 2, dte.CodeCAFUnknownIDK: 1, dte.CodeCAFSignature: 2, dte.CodeCAFFolio: 1, dte.CodeDTD: 3, dte.CodeTooDeep: 1, dte.CodeTooLarge: 1} {
		if count[what] < n {
			t.Errorf("%d cases of %s, want at least %d", count[what], what, n)
		}
	}
}
