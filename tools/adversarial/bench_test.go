package adversarial_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/tools/xsd"
)

// BenchmarkVerifyStrict is a full verification as `dte verify` and the
// simulator make it: limits, the SII's schema in process, structure,
// signatures, TED, CAF, dates (shared/dte's BenchmarkVerify* leave the
// schema out, to compare with the verifier before it had one).
func BenchmarkVerifyStrict(b *testing.B) {
	keys, err := caf.SIIKeys(filepath.Join(corpusDir, "keys", "sii-keys"))
	if err != nil {
		b.Fatal(err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{
		{"RealDTE", "../../testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml"},
		{"Envelope2", filepath.Join(corpusDir, "cases", "env-valid.xml")},
	} {
		doc, err := os.ReadFile(c.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if r := dte.Verify(doc, dte.VerifyOptions{Keys: keys, Schema: schema}); !r.Valid() {
					b.Fatalf("%v", r.Codes())
				}
			}
		})
	}
}
