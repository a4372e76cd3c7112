package dte_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"os"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/request"
)

// Run with: go test -run XXX -bench . -cpu 1 ./shared/dte/
//
// Each benchmark also times a bare rsa.SignPKCS1v15 (SHA-1) with the same
// key in the same run, the ceiling for a DTE signer (one RSA-2048
// signature per DTE), and reports the ratio.

func benchSetup(b *testing.B) (*dte.Signer, *request.Request, []*caf.CAF) {
	b.Helper()
	pki := dtetest.MustShared(b)
	body, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		b.Fatal(err)
	}
	v, err := request.NewValidator()
	if err != nil {
		b.Fatal(err)
	}
	req, err := v.Parse(body)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := pki.MustCAF(b, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada", Type: 33, From: 1, To: 1 << 30,
		Authorized: time.Now().AddDate(0, -1, 0)})
	s, err := dte.NewSigner(pki.Signer, dte.WithSIIKeys(pki.Keys()))
	if err != nil {
		b.Fatal(err)
	}
	return s, req, []*caf.CAF{c}
}

// rsaRate is how many bare RSA signatures per second the key makes.
// Benchmarks take it before and after their loop and use the mean, so
// that the ratio compares like with like on a machine whose speed drifts.
func rsaRate(b *testing.B, key *rsa.PrivateKey) float64 {
	h := sha1.Sum([]byte("reference"))
	const n = 400
	start := time.Now()
	for range n {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, h[:]); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}

func report(b *testing.B, dtes int, before float64, key *rsa.PrivateKey) {
	ref := (before + rsaRate(b, key)) / 2
	rate := float64(dtes) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "DTE/s")
	b.ReportMetric(ref, "RSA/s")
	b.ReportMetric(rate/ref, "of-RSA")
}

// BenchmarkSign builds, stamps (TED with the CAF) and signs one factura
// with three lines per operation.
func BenchmarkSign(b *testing.B) {
	s, req, cafs := benchSetup(b)
	ref := rsaRate(b, s.Certificate().Key)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		if _, err := s.Sign(ctx, req, cafs); err != nil {
			b.Fatal(err)
		}
		n++
	}
	report(b, n, ref, s.Certificate().Key)
}

// BenchmarkEnvelope50 signs 50 DTEs and wraps them in a signed EnvioDTE
// per operation.
func BenchmarkEnvelope50(b *testing.B) {
	s, req, cafs := benchSetup(b)
	ref := rsaRate(b, s.Certificate().Key)
	ctx := context.Background()
	h := dte.Header{Resolution: request.Resolution{Date: "2024-08-22"}}
	xs := make([][]byte, 50)
	n := 0
	for b.Loop() {
		for i := range xs {
			r := *req
			r.Document.Folio = int64(n*50 + i + 1)
			sd, err := s.Sign(ctx, &r, cafs)
			if err != nil {
				b.Fatal(err)
			}
			xs[i] = sd.XML
		}
		if _, err := s.Envelope(ctx, h, xs...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	report(b, n*50, ref, s.Certificate().Key)
}

// BenchmarkRSA is the bare reference on its own.
func BenchmarkRSA(b *testing.B) {
	pki := dtetest.MustShared(b)
	h := sha1.Sum([]byte("reference"))
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, pki.Signer.Key, crypto.SHA1, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRealDTE verifies the SII portal's real DTE (signature,
// certificate, TED, CAF with the SII's key) per operation, without the
// schema (which needs cgo: tools/xsd BenchmarkVerifyStrict adds it).
func BenchmarkVerifyRealDTE(b *testing.B) {
	doc, err := os.ReadFile("../../testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := caf.BuiltinKeys()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if r := dte.Verify(doc, dte.VerifyOptions{Keys: keys}); len(r.Documents) != 1 || !r.Documents[0].Signature.OK() {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkVerifyEnvelope50 verifies an EnvioDTE of 50 DTEs per operation.
func BenchmarkVerifyEnvelope50(b *testing.B) {
	s, req, cafs := benchSetup(b)
	ctx := context.Background()
	xs := make([][]byte, 50)
	for i := range xs {
		r := *req
		r.Document.Folio = int64(i + 1)
		sd, err := s.Sign(ctx, &r, cafs)
		if err != nil {
			b.Fatal(err)
		}
		xs[i] = sd.XML
	}
	env, err := s.Envelope(ctx, dte.Header{Resolution: request.Resolution{Date: "2024-08-22"}}, xs...)
	if err != nil {
		b.Fatal(err)
	}
	keys := dtetest.MustShared(b).Keys()
	b.SetBytes(int64(len(env.XML)))
	for b.Loop() {
		if r := dte.Verify(env.XML, dte.VerifyOptions{Keys: keys}); len(r.Documents) != 50 || !r.Envelope.Signature.OK() {
			b.Fatal("does not verify")
		}
	}
}
