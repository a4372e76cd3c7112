package dte_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// strict are the options of a full verification: the keys, the schema
// (xmllint here: this package has no cgo) and the default limits.
func strict(t testing.TB, keys *caf.Keys) dte.VerifyOptions {
	t.Helper()
	return dte.VerifyOptions{Keys: keys, Schema: dtetest.XMLLintSchema(t)}
}

func siiKeys(t testing.TB) *caf.Keys {
	t.Helper()
	k, err := caf.LoadKeys(filepath.Join(samplesDir, "sii-caf-keys"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifySamples: what the SII's and real-world files must give.
func TestVerifySamples(t *testing.T) {
	keys := siiKeys(t)
	t.Run("real DTE", func(t *testing.T) {
		r := dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned.xml"), strict(t, keys))
		if !r.Valid() || r.Kind != dte.KindDTE || len(r.Documents) != 1 {
			t.Fatalf("%+v", r.Failures())
		}
		d := r.Documents[0]
		for what, c := range map[string]dte.Check{"signature": d.Signature.Check, "certificate": d.Signature.Certificate, "TED": d.TED, "CAF": d.CAF} {
			if !c.OK() {
				t.Errorf("%s: %+v", what, c)
			}
		}
		if d.Signature.SignerRUT != "13185095-6" || d.Document.Total != 2996301 || d.Document.Folio != 170 || len(d.Document.References) != 1 {
			t.Errorf("%+v", d)
		}
	})
	t.Run("real DTE changed after signing", func(t *testing.T) {
		r := dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"), strict(t, keys))
		d := r.Documents[0]
		if r.Valid() || d.Signature.Code != string(xmlsig.CodeDigest) || d.TED.Code != dte.CodeTEDSignature || !d.CAF.OK() {
			t.Fatalf("signature %+v TED %+v CAF %+v", d.Signature.Check, d.TED, d.CAF)
		}
	})
	t.Run("the SII's official example", func(t *testing.T) {
		r := dte.Verify(readFile(t, "sii-official/F60T33-ejemplo-oficial-SII.xml"), strict(t, keys))
		e := r.Envelope
		if e == nil || e.SetID != "SetDoc" || !e.Cover.OK() || e.Caratula.Issuer != "97975000-5" {
			t.Fatalf("envelope %+v", e)
		}
		// Its KeyValue is not its certificate's key; its DTE digest only
		// matches without any namespace.
		if e.Signature.Code != string(xmlsig.CodeKeyMismatch) {
			t.Errorf("SetDTE: %+v", e.Signature)
		}
		d := r.Documents[0]
		if d.Signature.Code != string(xmlsig.CodeKeyMismatch) || d.Signature.Context != dte.ContextNoNamespace {
			t.Errorf("DTE signature: %+v", d.Signature)
		}
		if !d.TED.OK() || !d.CAF.OK() {
			t.Errorf("TED %+v CAF %+v", d.TED, d.CAF)
		}
	})
	t.Run("without SII keys or schema nothing passes", func(t *testing.T) {
		r := dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned.xml"), dte.VerifyOptions{})
		if r.Valid() || r.Documents[0].CAF.Status != dte.StatusFailed || r.Documents[0].CAF.Code != dte.CodeCAFNoKeys ||
			r.Schema.Code != dte.CodeSchemaUnavailable {
			t.Fatalf("CAF %+v schema %+v", r.Documents[0].CAF, r.Schema)
		}
	})
	t.Run("a CAF with an IDK we have no key for", func(t *testing.T) {
		pki := getFixture(t).pki
		r := dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned.xml"), strict(t, pki.Keys()))
		if r.Valid() || r.Documents[0].CAF.Code != dte.CodeCAFUnknownIDK || r.Documents[0].CAF.Status != dte.StatusFailed {
			t.Fatalf("%+v", r.Documents[0].CAF)
		}
		// Only the named downgrade lets it through, and the report says so.
		o := strict(t, pki.Keys())
		o.AllowUnknownCAFKey = true
		r = dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned.xml"), o)
		if !r.Valid() || r.Documents[0].CAF.Status != dte.StatusAllowed || len(r.Downgrades) != 1 || r.Downgrades[0] != dte.DowngradeUnknownCAFKey {
			t.Fatalf("%+v %v", r.Documents[0].CAF, r.Downgrades)
		}
	})
	t.Run("not a DTE", func(t *testing.T) {
		for name, b := range map[string][]byte{"CAF file": readFile(t, "caf/FoliosSII7623529133120254111137.xml"), "garbage": []byte("\x00\x01")} {
			r := dte.Verify(b, dte.VerifyOptions{})
			if r.Valid() || r.Read.OK() {
				t.Errorf("%s: %+v", name, r.Read)
			}
		}
	})
}

// TestVerifyCaratula changes the Carátula of a signed envelope and signs
// SetDTE again: the signature is valid, the cover is not.
func TestVerifyCaratula(t *testing.T) {
	f := getFixture(t)
	xs := [][]byte{sign(t, sample(t, "factura-33.json")).XML, sign(t, sample(t, "nota-credito-61.json")).XML}
	env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution}, xs...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, code string
	}{
		{"count", "<TpoDTE>61</TpoDTE><NroDTE>1</NroDTE>", "<TpoDTE>61</TpoDTE><NroDTE>2</NroDTE>", dte.CodeCaratulaCount},
		{"missing type", "<SubTotDTE><TpoDTE>61</TpoDTE><NroDTE>1</NroDTE></SubTotDTE>", "", dte.CodeCaratulaCount},
		{"issuer", "<RutEmisor>76086428-5</RutEmisor>", "<RutEmisor>77654321-7</RutEmisor>", dte.CodeCaratulaIssuer},
		{"sender", "<RutEnvia>11111111-1</RutEnvia>", "<RutEnvia>13185095-6</RutEnvia>", dte.CodeCaratulaSender},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := bytes.Replace(env.XML, []byte(tt.old), []byte(tt.new), 1)
			if bytes.Equal(x, env.XML) {
				t.Fatal("nothing replaced")
			}
			if r := dte.Verify(x, strict(t, f.pki.Keys())); r.Envelope.Signature.OK() {
				t.Fatal("the changed envelope still verifies")
			}
			x = resignSetDTE(t, f, x)
			r := dte.Verify(x, strict(t, f.pki.Keys()))
			if !r.Envelope.Signature.OK() || r.Envelope.Cover.Code != tt.code {
				t.Fatalf("signature %+v, cover %+v", r.Envelope.Signature, r.Envelope.Cover)
			}
			fs := r.Failures()
			if len(fs) != 1 || fs[0].Where != "SetDTE" || fs[0].What != "caratula" {
				t.Errorf("failures %+v", fs)
			}
		})
	}
}

func resignSetDTE(t *testing.T, f *fixture, x []byte) []byte {
	t.Helper()
	doc, err := xmlsig.ParseDocument(x)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	root.RemoveChild(root.SelectElement("Signature"))
	xs, _ := xmlsig.NewSigner(f.pki.Signer)
	if _, err := xs.SignElement(root.SelectElement("SetDTE")); err != nil {
		t.Fatal(err)
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), xmlsig.Serialize(root)...)
}

// TestVerifyCertificateTime signs with a certificate that had expired at
// TmstFirma (another tool's doing: Sign refuses to).
func TestVerifyCertificateTime(t *testing.T) {
	f := getFixture(t)
	x := sign(t, sample(t, "factura-33.json")).XML
	old, err := f.pki.NewSigner(dtetest.SignerSpec{RUT: dtetest.SignerRUT, Name: "Vencido", NotBefore: mustTime(t, "2019-01-01T00:00:00"), NotAfter: mustTime(t, "2020-01-01T00:00:00"), Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := xmlsig.ParseDocument(x)
	root := doc.Root()
	root.RemoveChild(root.SelectElement("Signature"))
	xs, _ := xmlsig.NewSigner(old)
	if _, err := xs.SignElement(root.SelectElement("Documento")); err != nil {
		t.Fatal(err)
	}
	y := append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), xmlsig.Serialize(root)...)
	r := dte.Verify(y, strict(t, f.pki.Keys()))
	d := r.Documents[0]
	if !d.Signature.OK() || d.Signature.Certificate.Code != dte.CodeCertExpired || r.Valid() {
		t.Fatalf("%+v", d.Signature)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := dte.ParseTimestamp(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReportJSON: the report is what the simulator and `dte verify
// --json` hand on; codes and statuses must survive the trip.
func TestReportJSON(t *testing.T) {
	r := dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"), strict(t, siiKeys(t)))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back dte.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Documents[0].Signature.Code != "digest-mismatch" || back.Documents[0].TED.Status != dte.StatusFailed {
		t.Fatalf("%s", b)
	}
}

func TestInspectEnvelope(t *testing.T) {
	in, err := dte.Inspect(readFile(t, "sii-official/F60T33-ejemplo-oficial-SII.xml"))
	if err != nil {
		t.Fatal(err)
	}
	c := in.Caratula
	if in.Kind != dte.KindEnvioDTE || c.Sender != "7880442-4" || c.Receiver != "60803000-K" || c.ResolutionDate != "2003-09-02" ||
		c.ResolutionNumber != "0" || len(c.SubTotals) != 1 || c.SubTotals[0] != (dte.SubTotal{Type: 33, Count: 1}) {
		t.Fatalf("%+v", c)
	}
	d := in.Documents[0]
	if d.ID != "F60T33" || d.Total != 119000 || d.Net != 100000 || d.VAT != 19000 || d.Receiver != "77777777-7" || d.ReceiverName != "EMPRESA  LTDA" || d.Lines != 3 {
		t.Fatalf("%+v", d)
	}
	if _, err := dte.Inspect([]byte("<x/>")); err == nil {
		t.Error("no error for a non-DTE")
	}
}

// FuzzVerify: the verifier reports on anything, never panics.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"real-dte/DTE--76354771-K--33--170--cleaned.xml", "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", "sii-official/F60T33-ejemplo-oficial-SII.xml"} {
		f.Add(readFile(f, name))
	}
	// One envelope in our own form, kept in testdata so that fuzz workers
	// need no key generation (TestFuzzSeed rewrites it with -update).
	f.Add(readTestdata(f, "seed-envelope.xml"))
	keys := siiKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := dte.Verify(b, strict(t, keys))
		if r == nil {
			t.Fatal("nil report")
		}
		r.Failures()
	})
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (go test -run TestFuzzSeed -update writes it)", err)
	}
	return b
}

// TestFuzzSeed checks the stored fuzz seed is an envelope this package
// wrote (from test keys) and rewrites it with -update.
func TestFuzzSeed(t *testing.T) {
	if *update {
		f := getFixture(t)
		xs := [][]byte{sign(t, variants(t)["33 XML special characters"]).XML, sign(t, sample(t, "nota-credito-61.json")).XML}
		env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution, SetID: "SetDoc"}, xs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "seed-envelope.xml"), env.XML, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := dte.Verify(readTestdata(t, "seed-envelope.xml"), strict(t, getFixture(t).pki.Keys()))
	if r.Kind != dte.KindEnvioDTE || len(r.Documents) != 2 || !r.Envelope.Signature.OK() || !r.Documents[0].TED.OK() {
		t.Fatalf("%+v", r.Failures())
	}
}

// TestSignatureMessageCause: a signature that fails for its value is not
// blamed on the namespace; the namespace is named only when the digest
// matches without it.
func TestSignatureMessageCause(t *testing.T) {
	f := getFixture(t)
	x := sign(t, sample(t, "factura-33.json")).XML
	sv := between(string(x), "<SignatureValue>", "</SignatureValue>")
	broken := []byte(strings.Replace(string(x), sv, "<SignatureValue>"+strings.Repeat("A", len(sv)-len("<SignatureValue>")-4)+"AAA=", 1))
	r := dte.Verify(broken, strict(t, f.pki.Keys()))
	d := r.Documents[0].Signature
	if d.Code != dte.CodeSignatureInvalid || d.Context != dte.ContextStandalone || strings.Contains(d.Message, "namespace") {
		t.Errorf("broken value: %+v", d)
	}
	// The SII's 2003 example verifies its digest only without the
	// namespace: there the namespace is named.
	r = dte.Verify(readFile(t, "sii-official/F60T33-ejemplo-oficial-SII.xml"), strict(t, siiKeys(t)))
	if d := r.Documents[0].Signature; d.Context != dte.ContextNoNamespace || !strings.Contains(d.Message, "namespace") {
		t.Errorf("2003 example: %+v", d)
	}
	// A changed content is a digest mismatch in the SII's context.
	r = dte.Verify(readFile(t, "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"), strict(t, siiKeys(t)))
	if d := r.Documents[0].Signature; d.Code != dte.CodeDigest || d.Context != dte.ContextStandalone || strings.Contains(d.Message, "namespace") {
		t.Errorf("changed content: %+v", d)
	}
}

// TestVerifyDates: the dates a signer's clock can get wrong.
func TestVerifyDates(t *testing.T) {
	f := getFixture(t)
	x := sign(t, sample(t, "factura-33.json")).XML
	now := time.Now()
	for _, tt := range []struct {
		name string
		now  time.Time
		code string
	}{
		{"signed in the future", now.Add(-time.Hour), dte.CodeSignedInFuture},
		{"now", now, ""},
	} {
		o := strict(t, f.pki.Keys())
		o.Now = func() time.Time { return tt.now }
		r := dte.Verify(x, o)
		if got := r.Documents[0].Dates; tt.code == "" && !got.OK() || tt.code != "" && got.Code != tt.code {
			t.Errorf("%s: %+v", tt.name, got)
		}
	}
}
