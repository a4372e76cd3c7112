package printout_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/pdf417/pdf417test"
	"github.com/dtecl/pipeline/shared/printout"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/timbre"
)

// dpi the tests rasterize at: a laser printer's, and the resolution the
// SII names for the timbre.
const dpi = 300

// samplesEnv names a directory where TestPrintedTimbre leaves the PDFs
// and page images it made, for people to look at (make print-samples).
const samplesEnv = "DTE_PRINT_SAMPLES"

// printed is one rendering to check.
type printed struct {
	name   string
	signed []byte
	opts   printout.Options
	pages  int // pages expected: one per copy for these documents
}

// checkPages rasterizes a PDF like a printout, has zxing-cpp read every
// page, and checks that each page that should carry the timbre carries
// exactly the TED's bytes, that FRMT (and the CAF, with keys) verify
// from the scanned bytes alone, and that the printed symbol is within the
// SII's size bounds.
func checkPages(t *testing.T, name string, pdf, signed []byte, wantPages int, keys *caf.Keys) {
	t.Helper()
	want, err := timbre.Bytes(signed)
	if err != nil {
		t.Fatal(err)
	}
	pages := pdf417test.Rasterize(t, pdf, dpi)
	if len(pages) != wantPages {
		t.Fatalf("%s: %d pages, want %d", name, len(pages), wantPages)
	}
	found := pdf417test.Decode(t, pages...)
	for i, syms := range found {
		if len(syms) != 1 {
			t.Errorf("%s page %d: zxing-cpp found %d PDF417 symbols, want 1", name, i+1, len(syms))
			continue
		}
		if !bytes.Equal(syms[0].Bytes, want) {
			t.Errorf("%s page %d: the scanned bytes are not the TED's (%d bytes, want %d)", name, i+1, len(syms[0].Bytes), len(want))
			continue
		}
		if _, err := timbre.Verify(syms[0].Bytes, keys); err != nil {
			t.Errorf("%s page %d: the scanned timbre does not verify: %v", name, i+1, err)
		}
		w, h := syms[0].Size()
		wmm, hmm := w/dpi*25.4, h/dpi*25.4
		// The SII: at least 2 × 5 cm, at most about 4 × 9 cm.
		if wmm < 49 || wmm > 90 || hmm < 19.5 || hmm > 40.5 {
			t.Errorf("%s page %d: the timbre prints %.1f × %.1f mm; the SII wants 50-90 × 20-40 mm", name, i+1, wmm, hmm)
		}
	}
}

// TestPrintedTimbre renders every sample type (33, 34, 52, 56, 61) in
// both formats, with the cedible copy where the type has one, and reads
// the timbre back from the rasterized pages with an independent decoder.
func TestPrintedTimbre(t *testing.T) {
	pdf417test.NeedDecoder(t)
	pdf417test.NeedRasterizer(t)
	f := getFixture(t)
	keep := os.Getenv(samplesEnv)
	seen := map[int]bool{}
	for _, s := range f.samples {
		typ := s.req.Document.Type
		seen[typ] = true
		for _, format := range []printout.Format{printout.FormatLetter, printout.FormatTicket} {
			cedible := printout.HasCedible(typ)
			name := fmt.Sprintf("%s-%s", s.name, format)
			t.Run(name, func(t *testing.T) {
				res := s.req.Issuer.Resolution
				pdf, err := printout.Render(s.signed, printout.Options{Format: format, Cedible: cedible, Resolution: &res, SIIKeys: f.pki.Keys()})
				if err != nil {
					t.Fatal(err)
				}
				pages := 1
				if cedible {
					pages = 2
				}
				checkPages(t, name, pdf, s.signed, pages, f.pki.Keys())
				if keep != "" {
					saveSamples(t, keep, name, pdf, pages)
				}
			})
		}
	}
	for _, typ := range []int{33, 34, 52, 56, 61} {
		if !seen[typ] {
			t.Errorf("no sample request of type %d", typ)
		}
	}
}

// saveSamples copies a PDF and its pages as PNG into dir; copies is 2
// when the PDF holds the original and the cedible copy.
func saveSamples(t *testing.T, dir, name string, pdf []byte, copies int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	pngs := pdf417test.RasterizePNG(t, pdf, 100)
	perCopy := len(pngs) / copies
	for i, p := range pngs {
		suffix := ""
		if i/perCopy == 1 {
			suffix = "-cedible"
		}
		if perCopy > 1 {
			suffix += fmt.Sprintf("-p%d", i%perCopy+1)
		}
		if err := os.WriteFile(filepath.Join(dir, name+suffix+".png"), readFile(t, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRealDocuments prints documents this pipeline did not make: the
// SII's official example (an EnvioDTE whose Carátula gives the
// resolution) and a real DTE from the SII's portal (a standalone DTE:
// the resolution is given), and checks their timbres with the SII's
// real keys.
func TestRealDocuments(t *testing.T) {
	pdf417test.NeedDecoder(t)
	pdf417test.NeedRasterizer(t)
	keys, err := caf.BuiltinKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		res  *request.Resolution
	}{
		{"sii-official/F60T33-ejemplo-oficial-SII.xml", nil},
		{"real-dte/DTE--76354771-K--33--170--cleaned.xml", &request.Resolution{Number: 80, Date: "2014-08-22"}},
	} {
		doc := readFile(t, filepath.Join(siiDir, tc.file))
		for _, format := range []printout.Format{printout.FormatLetter, printout.FormatTicket} {
			pdf, err := printout.Render(doc, printout.Options{Format: format, Cedible: true, Resolution: tc.res, SIIKeys: keys})
			if err != nil {
				t.Fatalf("%s %s: %v", tc.file, format, err)
			}
			checkPages(t, filepath.Base(tc.file)+"-"+string(format), pdf, doc, 2, keys)
		}
	}
}

// TestManyLines: a factura with the 60 lines the SII allows runs over
// several letter pages; the timbre is on the last page only.
func TestManyLines(t *testing.T) {
	pdf417test.NeedDecoder(t)
	pdf417test.NeedRasterizer(t)
	var req map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(requestsDir, "factura-33.json")), &req); err != nil {
		t.Fatal(err)
	}
	var lines []any
	for i := range 60 {
		lines = append(lines, map[string]any{"code": fmt.Sprintf("ART-%03d", i+1),
			"name": fmt.Sprintf("Artículo número %d de la lista de precios", i+1), "description": "Descripción larga del artículo, que ocupa más de una línea en la tabla de detalle del documento impreso",
			"quantity": 2, "unit": "UN", "unit_price": 500, "amount": 1000})
	}
	req["lines"] = lines
	delete(req, "global_adjustments")
	req["totals"] = map[string]any{"net": 60000, "exempt": 0, "vat_rate": 19, "vat": 11400, "total": 71400}
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	signed := signJSON(t, raw)
	pdf, err := printout.Render(signed, printout.Options{Format: printout.FormatLetter, Resolution: &request.Resolution{Number: 0, Date: "2024-08-22"}})
	if err != nil {
		t.Fatal(err)
	}
	pages := pdf417test.Rasterize(t, pdf, dpi)
	if len(pages) < 2 {
		t.Fatalf("60 lines on %d page(s)", len(pages))
	}
	found := pdf417test.Decode(t, pages...)
	for i, syms := range found {
		last := i == len(found)-1
		if last != (len(syms) == 1) || len(syms) > 1 {
			t.Errorf("page %d of %d: %d timbres", i+1, len(found), len(syms))
		}
	}
	want, _ := timbre.Bytes(signed)
	if last := found[len(found)-1]; len(last) == 1 && !bytes.Equal(last[0].Bytes, want) {
		t.Error("the last page's timbre is not the TED")
	}
	if os.Getenv(samplesEnv) != "" {
		saveSamples(t, os.Getenv(samplesEnv), "factura-33-60-lineas-letter", pdf, 1)
	}
}

// TestRefuses: what cannot be printed as asked is an error that names
// the reason, permanent, never a half-made PDF.
func TestRefuses(t *testing.T) {
	f := getFixture(t)
	byType := map[int]sample{}
	for _, s := range f.samples {
		byType[s.req.Document.Type] = s
	}
	res := &request.Resolution{Number: 0, Date: "2024-08-22"}
	factura := string(byType[33].signed)
	for _, tc := range []struct {
		name   string
		doc    string
		opts   printout.Options
		want   error
		reason string
	}{
		{"no resolution", factura, printout.Options{}, printout.ErrCannotPrint, "resolution"},
		{"bad resolution", factura, printout.Options{Resolution: &request.Resolution{Date: "22-08-2024"}}, printout.ErrCannotPrint, "YYYY-MM-DD"},
		{"unknown comuna", strings.Replace(factura, "<CmnaOrigen>Providencia<", "<CmnaOrigen>Atlantis<", 1), printout.Options{Resolution: res}, printout.ErrCannotPrint, "CmnaOrigen"},
		{"cedible credit note", string(byType[61].signed), printout.Options{Resolution: res, Cedible: true}, printout.ErrCannotPrint, "cedible"},
		{"cedible debit note", string(byType[56].signed), printout.Options{Resolution: res, Cedible: true}, printout.ErrCannotPrint, "cedible"},
		{"cedible guía not a sale", strings.Replace(string(byType[52].signed), "<IndTraslado>1<", "<IndTraslado>5<", 1), printout.Options{Resolution: res, Cedible: true}, printout.ErrCannotPrint, "not a sale"},
		{"unprintable text", strings.Replace(factura, "Propuesta, dos revisiones", "Propuesta &#10003; dos revisiones", 1), printout.Options{Resolution: res}, printout.ErrCannotPrint, "Detalle[1]/DscItem"},
		{"changed timbre", strings.Replace(factura, "<MNT>207618</MNT>", "<MNT>207619</MNT>", 1), printout.Options{Resolution: res}, timbre.ErrSignature, "FRMT"},
		{"foreign CAF", factura, printout.Options{Resolution: res, SIIKeys: mustBuiltin(t)}, timbre.ErrCAF, "CAF"},
		{"unknown format", factura, printout.Options{Resolution: res, Format: "a4"}, printout.ErrCannotPrint, "format"},
		{"not XML", "%PDF-1.4", printout.Options{Resolution: res}, printout.ErrNotDTE, "XML"},
		{"not a DTE", `<Foo/>`, printout.Options{Resolution: res}, printout.ErrNotDTE, "<Foo>"},
		{"no TED", `<DTE xmlns="http://www.sii.cl/SiiDte"><Documento ID="F1T33"/></DTE>`, printout.Options{Resolution: res}, timbre.ErrNoTED, "TED"},
		{"wrong ID", factura, printout.Options{Resolution: res, DocumentID: "F1T33"}, printout.ErrNotDTE, "F1T33"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := printout.Render([]byte(tc.doc), tc.opts)
			if err == nil || pdf != nil {
				t.Fatalf("printed (%d bytes)", len(pdf))
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.reason) || !errs.IsPermanent(err) {
				t.Errorf("got %v; want %v mentioning %q, permanent", err, tc.want, tc.reason)
			}
		})
	}
	if !strings.Contains(factura, "<CmnaOrigen>Providencia<") || !strings.Contains(string(byType[52].signed), "<IndTraslado>1<") {
		t.Fatal("the sample documents changed: the cases above no longer test what they say")
	}
}

func mustBuiltin(t *testing.T) *caf.Keys {
	k, err := caf.BuiltinKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestOfficeOverride: Options.Office prints for a comuna the table lacks.
func TestOfficeOverride(t *testing.T) {
	f := getFixture(t)
	doc := strings.Replace(string(f.samples[0].signed), "<CmnaOrigen>Providencia<", "<CmnaOrigen>Navidad<", 1)
	if _, err := printout.Render([]byte(doc), printout.Options{Resolution: &request.Resolution{Date: "2024-08-22"}, Office: "PICHILEMU"}); err != nil {
		t.Fatal(err)
	}
}

// TestEnvelopeChoice: an EnvioDTE with several DTEs prints the one asked.
func TestEnvelopeChoice(t *testing.T) {
	f := getFixture(t)
	env, err := f.signer.Envelope(t.Context(), dteHeader(), f.samples[0].signed, f.samples[1].signed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := printout.Render(env.XML, printout.Options{}); !errors.Is(err, printout.ErrNotDTE) || !strings.Contains(err.Error(), "2 DTEs") {
		t.Errorf("no ID: %v", err)
	}
	id := "F" + fmt.Sprint(f.samples[1].req.Document.Folio) + "T" + fmt.Sprint(f.samples[1].req.Document.Type)
	pdf, err := printout.Render(env.XML, printout.Options{DocumentID: id})
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("%s: %v", id, err)
	}
}

// TestDeterministic: the same DTE always renders to the same bytes, so an
// archived PDF can be rebuilt and compared.
func TestDeterministic(t *testing.T) {
	s := getFixture(t).samples[0]
	o := printout.Options{Cedible: true, Resolution: &s.req.Issuer.Resolution}
	a, err := printout.Render(s.signed, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := printout.Render(s.signed, o)
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("two renderings differ (%v)", err)
	}
}

// FuzzRender: whatever the input, Render answers with a PDF or an error,
// never a panic.
func FuzzRender(f *testing.F) {
	fx := getFixture(f)
	for _, s := range fx.samples {
		f.Add(s.signed, false, true)
	}
	f.Add(readFile(f, filepath.Join(siiDir, "sii-official/F60T33-ejemplo-oficial-SII.xml")), true, true)
	f.Fuzz(func(t *testing.T, doc []byte, ticket, cedible bool) {
		o := printout.Options{Cedible: cedible, Resolution: &request.Resolution{Date: "2024-08-22"}, Format: printout.FormatLetter}
		if ticket {
			o.Format = printout.FormatTicket
		}
		pdf, err := printout.Render(doc, o)
		if err == nil && !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatal("no error and no PDF")
		}
	})
}
