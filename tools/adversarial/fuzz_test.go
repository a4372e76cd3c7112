package adversarial_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/xmlsig"
	"github.com/dtecl/pipeline/tools/xsd"
)

// FuzzDifferential mutates real signed documents (the SII portal's real
// DTE, the corpus's valid DTE and envelope) and requires that whatever
// the verifier accepts, the independent implementations accept on the
// same bytes: xmlsec1 verifies its signatures (the SetDTE in place, each
// DTE taken out standalone, the SII's way) and xmllint validates it
// against the SII's schema. The seeds run with every `go test`; fuzz with
//
//	go test ./tools/adversarial -run '^$' -fuzz FuzzDifferential -fuzztime 10m -fuzzminimizetime 5x
//
// (make fuzz-verify). Minimization is capped because every accepted input
// starts xmllint and xmlsec1.
func FuzzDifferential(f *testing.F) {
	for _, p := range []string{"../../testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml",
		filepath.Join(corpusDir, "cases", "dte-valid.xml"), filepath.Join(corpusDir, "cases", "env-valid.xml")} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	keys, err := caf.SIIKeys(filepath.Join(corpusDir, "keys", "sii-keys"))
	if err != nil {
		f.Fatal(err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		f.Fatal(err)
	}
	opts := dte.VerifyOptions{Keys: keys, Schema: schema}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := dte.Verify(b, opts)
		if !r.Valid() {
			return
		}
		entry := siischema.DTE
		if r.Kind == dte.KindEnvioDTE {
			entry = siischema.EnvioDTE
		}
		if err := dtetest.ValidateXSD(t, entry, b); err != nil {
			t.Fatalf("accepted, but xmllint does not validate it: %v", err)
		}
		if r.Kind == dte.KindDTE {
			if err := dtetest.XMLSec1Verify(t, b, dtetest.XMLSec1{IDNode: "Documento"}); err != nil {
				t.Fatalf("accepted, but xmlsec1 does not verify it: %v", err)
			}
			return
		}
		if err := dtetest.XMLSec1Verify(t, b, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']"}); err != nil {
			t.Fatalf("accepted, but xmlsec1 does not verify the SetDTE: %v", err)
		}
		for i, d := range standalone(t, b) {
			if err := dtetest.XMLSec1Verify(t, d, dtetest.XMLSec1{IDNode: "Documento"}); err != nil {
				t.Fatalf("accepted, but xmlsec1 does not verify DTE %d taken out: %v", i+1, err)
			}
		}
	})
}

// standalone takes each DTE out of an envelope as the SII does: a document
// of its own with only the SiiDte namespace, ISO-8859-1.
func standalone(t *testing.T, env []byte) [][]byte {
	t.Helper()
	d, err := xmlsig.ParseDocument(env)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, el := range d.Root().FindElements("SetDTE/DTE") {
		cp := el.Copy()
		cp.RemoveAttr("xmlns")
		cp.CreateAttr("xmlns", dte.NamespaceSiiDte)
		b, err := latin1.EncodeBytes(xmlsig.Serialize(cp))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), b...))
	}
	return out
}
