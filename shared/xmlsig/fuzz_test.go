package xmlsig_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dtecl/pipeline/shared/testenv"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

func seedSamples(f *testing.F) {
	for _, name := range testenv.Glob(f, filepath.Join(samples, "*", "*.xml")) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(envelopeLike))
	f.Add([]byte(getToken))
}

// FuzzVerify feeds arbitrary documents to the verifier: it may reject
// them, never panic.
func FuzzVerify(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := xmlsig.ParseDocument(b)
		if err != nil {
			return
		}
		for _, sig := range doc.FindElements("//Signature") {
			xmlsig.Verify(sig, xmlsig.VerifyOptions{})
			if p := sig.Parent(); p != nil {
				xmlsig.Verify(sig, xmlsig.VerifyOptions{Boundary: p, Base: siiDte})
			}
		}
	})
}

// FuzzCanonicalize checks that canonical XML is a fixed point: reading the
// canonical form back and canonicalizing it again changes nothing.
func FuzzCanonicalize(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := xmlsig.ParseDocument(b)
		if err != nil {
			return
		}
		c1 := xmlsig.Canonicalize(doc.Root())
		doc2, err := xmlsig.ParseDocument(c1)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c1)
		}
		if c2 := xmlsig.Canonicalize(doc2.Root()); !bytes.Equal(c1, c2) {
			t.Fatalf("not a fixed point:\n%s\n%s", c1, c2)
		}
	})
}
