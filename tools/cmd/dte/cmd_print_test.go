package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/pdf417/pdf417test"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/timbre"
)

// scanned rasterizes a PDF and returns the timbre zxing-cpp reads on each
// page.
func scanned(t *testing.T, pdf string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, syms := range pdf417test.Decode(t, pdf417test.Rasterize(t, b, 300)...) {
		if len(syms) != 1 {
			t.Fatalf("%s page %d: %d PDF417 symbols", pdf, i+1, len(syms))
		}
		out = append(out, syms[0].Bytes)
	}
	return out
}

func TestPrintCommand(t *testing.T) {
	pdf417test.NeedDecoder(t)
	pdf417test.NeedRasterizer(t)
	dir := t.TempDir()

	t.Run("the SII's example", func(t *testing.T) {
		in := filepath.Join(siiSamples, "sii-official", "F60T33-ejemplo-oficial-SII.xml")
		out := filepath.Join(dir, "oficial.pdf")
		// Flags after the file, as people type them.
		if stdout, stderr, code := runDTE(t, nil, "print", in, "--format", "letter", "--out", out); code != 0 || !strings.Contains(stdout, out) {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		doc, _ := os.ReadFile(in)
		want, err := timbre.Bytes(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := scanned(t, out); len(got) != 1 || !bytes.Equal(got[0], want) {
			t.Error("the printed timbre is not the TED")
		}
	})

	real := filepath.Join(siiSamples, "real-dte", "DTE--76354771-K--33--170--cleaned.xml")
	t.Run("a DTE needs the resolution", func(t *testing.T) {
		_, stderr, code := runDTE(t, nil, "print", real, "--out", filepath.Join(dir, "x.pdf"))
		if code != 1 || !strings.Contains(stderr, "--resolution-date") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.pdf")); err == nil {
			t.Error("a PDF was written")
		}
	})
	t.Run("ticket with the cedible copy", func(t *testing.T) {
		out := filepath.Join(dir, "real.pdf")
		if _, stderr, code := runDTE(t, nil, "print", "--format", "ticket", "--cedible", "--resolution-date", "2014-08-22", "--resolution-number", "80", "--out", out, real); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if got := scanned(t, out); len(got) != 2 {
			t.Errorf("%d pages, want the original and the cedible copy", len(got))
		}
	})
	t.Run("bad format", func(t *testing.T) {
		if _, _, code := runDTE(t, nil, "print", "--format", "a4", real); code != 2 {
			t.Errorf("exit %d", code)
		}
	})

	// Our own document: its CAF is signed by the test SII, whose key the
	// command only knows with --sii-keys.
	f := pkiFiles(t)
	env := map[string]string{"P12_PASSWORD": f.Password}
	signed := filepath.Join(dir, "f33.xml")
	if _, stderr, code := runDTE(t, env, signArgs(f, "--out", signed, filepath.Join(sampleRequests, "factura-33.json"))...); code != 0 {
		t.Fatal(stderr)
	}
	t.Run("our factura", func(t *testing.T) {
		if _, stderr, code := runDTE(t, nil, "print", signed, "--resolution-date", "2024-08-22"); code != 1 || !strings.Contains(stderr, "CAF") {
			t.Errorf("without the test SII key: exit %d\n%s", code, stderr)
		}
		if _, stderr, code := runDTE(t, nil, "print", signed, "--resolution-date", "2024-08-22", "--sii-keys", f.SIIKeysDir, "--cedible"); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if got := scanned(t, strings.TrimSuffix(signed, ".xml")+".pdf"); len(got) != 2 {
			t.Errorf("%d pages", len(got))
		}
	})

	t.Run("envelope for the receiver", func(t *testing.T) {
		out := filepath.Join(dir, "envio-receptor.xml")
		stdout, stderr, code := runDTE(t, env, "envelope", "--for-receiver", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--resolution-date", "2024-08-22", "--out", out, signed)
		if code != 0 || !strings.Contains(stdout, "sent by 11111111-1 to 77654321-7") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		x, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, x); err != nil {
			t.Error(err)
		}
		if err := dtetest.XMLSec1Verify(t, x, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']"}); err != nil {
			t.Error(err)
		}
		if r := dte.Verify(x, strictOptions(t, f.SIIKeysDir)); !r.Valid() || r.Envelope.Caratula.Receiver != "77654321-7" {
			t.Errorf("%+v", r.Failures())
		}
		if _, _, code := runDTE(t, env, "envelope", "--for-receiver", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--resolution-date", "2024-08-22", signed, signed); code != 2 {
			t.Errorf("two DTEs: exit %d", code)
		}
	})
}
