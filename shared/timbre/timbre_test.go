package timbre_test

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
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/timbre"
)

const siiDir = "../../testdata/sii"

func builtinKeys(t *testing.T) *caf.Keys {
	t.Helper()
	k, err := caf.BuiltinKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRealDocuments takes the timbre of the SII's official example (an
// EnvioDTE, CRLF, tabs) and of a real DTE from the SII's portal, and
// checks the bytes: flat, no namespace, ISO-8859-1, starting and ending
// where the TED does, and verifying from the bytes alone with the SII's
// real keys.
func TestRealDocuments(t *testing.T) {
	for _, tc := range []struct {
		file  string
		folio int64
		rr    string
	}{
		{"sii-official/F60T33-ejemplo-oficial-SII.xml", 60, "77777777-7"},
		{"real-dte/DTE--76354771-K--33--170--cleaned.xml", 170, "96790240-3"},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join(siiDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			b, err := timbre.Bytes(doc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(`<TED version="1.0"><DD><RE>`)) || !bytes.HasSuffix(b, []byte(`</FRMT></TED>`)) {
				t.Errorf("not a flat TED: %.60q … %q", b, b[max(0, len(b)-30):])
			}
			for _, bad := range []string{"xmlns", ">\n", ">\r", ">\t", "> <"} {
				if bytes.Contains(b, []byte(bad)) {
					t.Errorf("timbre holds %q", bad)
				}
			}
			// Inside text the whitespace stays (the SII signed it so).
			if tc.folio == 60 && !bytes.Contains(b, []byte("<RSR>EMPRESA  LTDA</RSR>")) {
				t.Error("the double space of RSR is gone")
			}
			s, err := timbre.Verify(b, builtinKeys(t))
			if err != nil {
				t.Fatal(err)
			}
			if s.Folio != tc.folio || s.Type != 33 || s.Receiver != tc.rr || !s.CAFVerified {
				t.Errorf("stamp: %+v", s)
			}
		})
	}
}

// TestOurDocuments takes the timbre of every sample request as Sign
// writes it, with Latin-1 names, and verifies it from the bytes alone.
func TestOurDocuments(t *testing.T) {
	pki := dtetest.MustShared(t)
	signer, err := dte.NewSigner(pki.Signer, dte.WithSIIKeys(pki.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../samples/requests/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("sample requests: %v (%d)", err, len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, err := v.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada",
			Type: req.Document.Type, From: 1, To: 100000, Authorized: time.Now().AddDate(0, -1, 0)})
		signed, err := signer.Sign(context.Background(), req, []*caf.CAF{c})
		if err != nil {
			t.Fatal(err)
		}
		b, err := timbre.Bytes(signed.XML)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("<RS>Comercial \xd1and\xfa")) {
			t.Errorf("%s: the CAF name is not ISO-8859-1 in the timbre: %.200q", f, b)
		}
		s, err := timbre.Verify(b, pki.Keys())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.Folio != req.Document.Folio || s.Type != req.Document.Type || s.Total != req.Totals.Total || !s.CAFVerified {
			t.Errorf("%s: stamp %+v", f, s)
		}
		// Another SII does not vouch for the CAF.
		other, err := dtetest.New()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := timbre.Verify(b, other.Keys()); !errors.Is(err, timbre.ErrCAF) {
			t.Errorf("%s: verified with another SII's key: %v", f, err)
		}
	}
}

// TestVerifyRejects changes the scanned bytes the ways a forger or a bad
// printer would.
func TestVerifyRejects(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(siiDir, "real-dte/DTE--76354771-K--33--170--cleaned.xml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := timbre.Bytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	keys := builtinKeys(t)
	for _, tc := range []struct {
		name   string
		change func(string) string
		want   error
	}{
		{"amount", func(s string) string { return strings.Replace(s, "<MNT>2996301</MNT>", "<MNT>2996302</MNT>", 1) }, timbre.ErrSignature},
		{"folio", func(s string) string { return strings.Replace(s, "<F>170</F>", "<F>171</F>", 1) }, timbre.ErrSignature},
		{"receiver", func(s string) string { return strings.Replace(s, "MINERA", "MINERO", 1) }, timbre.ErrSignature},
		{"cut", func(s string) string { return s[:len(s)/2] }, timbre.ErrMalformed},
		{"no FRMT", func(s string) string { return s[:strings.Index(s, "<FRMT")] + "</TED>" }, timbre.ErrMalformed},
		{"not a TED", func(s string) string { return "<DD>" + s + "</DD>" }, timbre.ErrMalformed},
		{"FRMT not base64", func(s string) string {
			i := strings.Index(s, "<FRMT")
			return s[:i] + `<FRMT algoritmo="SHA1withRSA">***</FRMT></TED>`
		}, timbre.ErrMalformed},
		{"empty", func(string) string { return "" }, timbre.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := []byte(tc.change(string(b)))
			if _, err := timbre.Verify(changed, keys); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Without keys only FRMT is checked, and the stamp says so.
	s, err := timbre.Verify(b, nil)
	if err != nil || s.CAFVerified {
		t.Errorf("without keys: %+v %v", s, err)
	}
}

func TestBytesRejects(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"not XML", "not xml", timbre.ErrNoTED},
		{"other root", `<Foo/>`, timbre.ErrNoTED},
		{"no TED", `<DTE xmlns="http://www.sii.cl/SiiDte"><Documento ID="x"/></DTE>`, timbre.ErrNoTED},
		{"no Documento", `<DTE xmlns="http://www.sii.cl/SiiDte"/>`, timbre.ErrNoTED},
		{"TED without FRMT", `<DTE><Documento><TED version="1.0"><DD/></TED></Documento></DTE>`, timbre.ErrMalformed},
		{"two DTEs", `<EnvioDTE><SetDTE><DTE/><DTE/></SetDTE></EnvioDTE>`, timbre.ErrNoTED},
		{"no SetDTE", `<EnvioDTE/>`, timbre.ErrNoTED},
		{"not Latin-1", `<?xml version="1.0" encoding="UTF-8"?><DTE><Documento><TED version="1.0"><DD><RSR>€</RSR></DD><FRMT>AA==</FRMT></TED></Documento></DTE>`, timbre.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := timbre.Bytes([]byte(tc.doc)); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerify: any bytes a scanner returns get an answer, never a panic,
// and only a real timbre verifies.
func FuzzVerify(f *testing.F) {
	doc, err := os.ReadFile(filepath.Join(siiDir, "real-dte/DTE--76354771-K--33--170--cleaned.xml"))
	if err != nil {
		f.Fatal(err)
	}
	b, err := timbre.Bytes(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("<TED/>"))
	f.Add([]byte(`<?xml version="1.0"?><TED><DD><CAF/></DD><FRMT/></TED>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := timbre.Verify(in, nil)
		if err == nil && (s == nil || s.CAF == nil) {
			t.Fatal("verified without a stamp")
		}
		if err == nil && !bytes.Equal(in, b) {
			// Only byte-for-byte equivalent TEDs may verify: same DD.
			if s.Folio != 170 || s.Total != 2996301 {
				t.Fatalf("a changed timbre verified: %+v", s)
			}
		}
	})
}
