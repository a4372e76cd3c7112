package dte_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

var resolution = request.Resolution{Number: 0, Date: "2024-08-22"}

// TestEnvelope wraps every variant in one EnvioDTE and checks it with the
// schema, xmlsec1 (SetDTE in place, each DTE taken out as the SII does)
// and Verify.
func TestEnvelope(t *testing.T) {
	f := getFixture(t)
	var xs [][]byte
	var names []string
	for name, req := range variants(t) {
		xs = append(xs, sign(t, req).XML)
		names = append(names, name)
	}
	env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution}, xs...)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, f, env, xs)
	if env.Issuer != dtetest.IssuerRUT || env.Sender != dtetest.SignerRUT || env.Receiver != rut.SII {
		t.Errorf("RUTs %s %s %s", env.Issuer, env.Sender, env.Receiver)
	}
	counts := map[int]int{}
	for _, req := range variants(t) {
		counts[req.Document.Type]++
	}
	for _, st := range env.SubTotals {
		if counts[st.Type] != st.Count {
			t.Errorf("SubTotDTE %d: %d, want %d", st.Type, st.Count, counts[st.Type])
		}
		delete(counts, st.Type)
	}
	if len(counts) > 0 {
		t.Errorf("types missing from SubTotDTE: %v", counts)
	}
}

func checkEnvelope(t *testing.T, f *fixture, env *dte.Envelope, xs [][]byte) {
	t.Helper()
	t.Run("xmllint", func(t *testing.T) {
		if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, env.XML); err != nil {
			t.Errorf("schema: %v", err)
		}
	})
	trusted := [][]byte{dtetest.CertPEM(f.pki.CACert.Raw)}
	var extracted [][]byte
	for i, x := range xs {
		start := bytes.Index(x, []byte("<DTE "))
		el := x[start : bytes.LastIndex(x, []byte("</DTE>"))+len("</DTE>")]
		if !bytes.Contains(env.XML, el) {
			t.Fatalf("DTE %d is not in the envelope byte for byte", i+1)
		}
		extracted = append(extracted, append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), el...))
	}
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, env.XML, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']", Trusted: trusted}); err != nil {
			t.Errorf("xmlsec1, SetDTE in place: %v", err)
		}
		// The SII's way for the DTEs: each one out of the envelope, alone.
		for i, out := range extracted {
			if err := dtetest.XMLSec1Verify(t, out, dtetest.XMLSec1{IDNode: "Documento", Trusted: trusted}); err != nil {
				t.Errorf("xmlsec1, DTE %d taken out: %v", i+1, err)
			}
		}
	})
	r := dte.Verify(env.XML, strict(t, f.pki.Keys()))
	if !r.Valid() {
		t.Errorf("Verify: %+v", r.Failures())
	}
	if r.Kind != dte.KindEnvioDTE || r.Envelope == nil || r.Envelope.SetID != env.SetID || len(r.Documents) != len(xs) {
		t.Fatalf("report %+v", r)
	}
	if r.Envelope.Signature.Context != dte.ContextInPlace || r.Envelope.Signature.SignerRUT != env.Sender.String() {
		t.Errorf("SetDTE signature %+v", r.Envelope.Signature)
	}
	for _, d := range r.Documents {
		if d.Signature.Context != dte.ContextStandalone {
			t.Errorf("DTE %s verified %s", d.Document.ID, d.Signature.Context)
		}
	}
}

// TestEnvelopeOfForeignDTEs embeds DTEs that are not in canonical form:
// the real signed sample (it holds a comment and indentation) and a DTE of
// ours re-encoded as UTF-8 with character references.
func TestEnvelopeOfForeignDTEs(t *testing.T) {
	f := getFixture(t)
	real, err := os.ReadFile(filepath.Join(samplesDir, "real-dte/DTE--76354771-K--33--170--cleaned.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// The real DTE's issuer is not ours: its own envelope.
	env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution}, real)
	if err != nil {
		t.Fatal(err)
	}
	if env.Issuer != rut.MustParse("76354771-K") {
		t.Errorf("issuer %s", env.Issuer)
	}
	trusted := [][]byte{dtetest.CertPEM(f.pki.CACert.Raw)}
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, env.XML, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']", Trusted: trusted}); err != nil {
			t.Errorf("xmlsec1: %v", err)
		}
	})
	t.Run("xmllint", func(t *testing.T) {
		if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, env.XML); err != nil {
			t.Errorf("schema: %v", err)
		}
	})
	keys, err := caf.LoadKeys(filepath.Join(samplesDir, "sii-caf-keys"))
	if err != nil {
		t.Fatal(err)
	}
	r := dte.Verify(env.XML, strict(t, keys))
	if !r.Valid() {
		t.Errorf("Verify: %+v", r.Failures())
	}

	ours := sign(t, sample(t, "factura-33.json")).XML
	u, _, _ := xmlsig.DecodeXML(ours)
	utf := bytes.Replace(u, []byte(`encoding="ISO-8859-1"`), []byte(`encoding="UTF-8"`), 1)
	utf = bytes.Replace(utf, []byte("Peñalolén"), []byte("Pe&#241;alol&#xE9;n"), 1)
	env2, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution}, utf, sign(t, sample(t, "factura-exenta-34.json")).XML)
	if err != nil {
		t.Fatal(err)
	}
	r2 := dte.Verify(env2.XML, strict(t, f.pki.Keys()))
	if !r2.Valid() {
		t.Errorf("Verify: %+v", r2.Failures())
	}
	t.Run("xmlsec1 UTF-8 input", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, env2.XML, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']", Trusted: trusted}); err != nil {
			t.Errorf("xmlsec1: %v", err)
		}
	})
}

func TestEnvelopeErrors(t *testing.T) {
	f := getFixture(t)
	a := sign(t, sample(t, "factura-33.json")).XML
	b := sign(t, sample(t, "nota-credito-61.json")).XML
	real, _ := os.ReadFile(filepath.Join(samplesDir, "real-dte/DTE--76354771-K--33--170--cleaned.xml"))
	official, _ := os.ReadFile(filepath.Join(samplesDir, "sii-official/F60T33-ejemplo-oficial-SII.xml"))
	expiredCert, _ := f.pki.NewSigner(dtetest.SignerSpec{RUT: dtetest.SignerRUT, Name: "Vencido", NotBefore: time.Now().AddDate(-3, 0, 0), NotAfter: time.Now().AddDate(0, 0, -1), Bits: 1024})
	withExpired, _ := dte.NewSigner(expiredCert)
	tests := []struct {
		name    string
		signer  *dte.Signer
		h       dte.Header
		dtes    [][]byte
		want    error
		message string
	}{
		{"no DTEs", f.signer, dte.Header{Resolution: resolution}, nil, dte.ErrEnvelope, "1 to 2000"},
		{"two issuers", f.signer, dte.Header{Resolution: resolution}, [][]byte{a, real}, dte.ErrEnvelope, "same issuer"},
		{"issuer other than the header's", f.signer, dte.Header{Issuer: rut.MustParse("77654321-7"), Resolution: resolution}, [][]byte{a}, dte.ErrEnvelope, "issued by"},
		{"the same DTE twice", f.signer, dte.Header{Resolution: resolution}, [][]byte{a, b, a}, dte.ErrEnvelope, "DTEs 1 and 3"},
		{"no resolution date", f.signer, dte.Header{}, [][]byte{a}, dte.ErrEnvelope, "FchResol"},
		{"SetDTE ID that is not a name", f.signer, dte.Header{Resolution: resolution, SetID: "1 set"}, [][]byte{a}, dte.ErrEnvelope, "not an XML name"},
		{"an envelope is not a DTE", f.signer, dte.Header{Resolution: resolution}, [][]byte{official}, dte.ErrNotDTE, "DTE 1"},
		{"not XML", f.signer, dte.Header{Resolution: resolution}, [][]byte{[]byte("<DTE>")}, dte.ErrNotDTE, "DTE 1"},
		{"expired certificate", withExpired, dte.Header{Resolution: resolution}, [][]byte{a}, dte.ErrCertificate, "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.signer.Envelope(context.Background(), tt.h, tt.dtes...)
			if !errors.Is(err, tt.want) || !errs.IsPermanent(err) {
				t.Fatalf("got %v, want permanent %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "envelope: ") || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q lacks %q", err, tt.message)
			}
		})
	}
}

// TestEnvelopeLimits fills an envelope with many DTEs of one type.
func TestEnvelopeLimits(t *testing.T) {
	f := getFixture(t)
	base := sample(t, "factura-33.json")
	var xs [][]byte
	for i := range 120 {
		r := *base
		r.Document.Folio = int64(5000 + i)
		xs = append(xs, sign(t, &r).XML)
	}
	env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution, SetID: "SetDoc"}, xs...)
	if err != nil {
		t.Fatal(err)
	}
	if env.SetID != "SetDoc" || len(env.SubTotals) != 1 || env.SubTotals[0] != (dte.SubTotal{Type: 33, Count: 120}) {
		t.Fatalf("%s %+v", env.SetID, env.SubTotals)
	}
	r := dte.Verify(env.XML, strict(t, f.pki.Keys()))
	if !r.Valid() || len(r.Documents) != 120 {
		t.Fatalf("Verify: %d documents, %+v", len(r.Documents), r.Failures())
	}
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, env.XML, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']"}); err != nil {
			t.Error(err)
		}
	})
}
