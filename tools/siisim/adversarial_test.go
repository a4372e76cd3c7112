package siisim

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/tools/adversarial"
)

const corpusDir = "../../testdata/adversarial"

// TestAdversarialCorpus uploads every case of testdata/adversarial (a DTE
// in an envelope its sender signed, adversarial.Wrap) and checks the SII's
// answer: schema and structure → STATUS 7, the SetDTE signature → 8, the
// rest per document (RCH), the valid ones accepted.
func TestAdversarialCorpus(t *testing.T) {
	m, err := adversarial.ReadManifest(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := adversarial.LoadKeys(filepath.Join(corpusDir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := caf.SIIKeys(adversarial.SIIKeysDir(filepath.Join(corpusDir, "keys")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cases {
		name := c.File
		if name == "" {
			name = c.Generated
		}
		t.Run(name, func(t *testing.T) {
			var doc []byte
			if c.File != "" {
				if doc, err = os.ReadFile(filepath.Join(corpusDir, "cases", c.File)); err != nil {
					t.Fatal(err)
				}
			} else {
				path, err := adversarial.Huge(t.TempDir(), c.Generated, c.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				if doc, err = os.ReadFile(path); err != nil {
					t.Fatal(err)
				}
			}
			h := newHarness(t, Config{Inspector: NewProjectInspector(keys, schemas(t)), MaxFileSize: DefaultMaxFileSize})
			rc, err := h.upload(t, adversarial.Wrap(doc, k.Signer))
			if c.Simulator.Status != 0 {
				e, ok := sii.AsError(err)
				if !ok || e.Code != strconv.Itoa(c.Simulator.Status) {
					t.Fatalf("got %v, want STATUS %d", err, c.Simulator.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			st, _ := h.waitFinal(t, rc.TrackID)
			got, _ := h.sim.Upload(rc.TrackID)
			if len(got.Documents) == 0 {
				t.Fatalf("final %s, reason %q: no document verdicts", st.Estado, got.Reason)
			}
			for _, d := range got.Documents {
				if d.Verdict != c.Simulator.Document {
					t.Errorf("%s: %s (%s), want %s", d.DTEKey, d.Verdict, d.Reason, c.Simulator.Document)
				}
			}
		})
	}
}
