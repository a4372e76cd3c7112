package printout

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/timbre"
)

// Format is the paper a document is printed on.
type Format string

// Formats.
const (
	// FormatAuto follows the DTE: IdDoc/TpoImpresion T is a ticket,
	// anything else (N or absent) letter size.
	FormatAuto Format = ""
	// FormatLetter is letter size (carta), 215.9 × 279.4 mm.
	FormatLetter Format = "letter"
	// FormatTicket is an 80 mm roll, as long as the document needs.
	FormatTicket Format = "ticket"
)

// ParseFormat reads a format name ("letter", "ticket" or "" for auto).
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatAuto, FormatLetter, FormatTicket:
		return f, nil
	}
	return "", fmt.Errorf("%w: format %q: use letter or ticket", ErrCannotPrint, s)
}

// Options say how to print. Everything else comes from the signed DTE.
type Options struct {
	Format Format
	// Cedible adds, after the original, the cedible copy with the acuse
	// de recibo (facturas 33 and 34; a guía 52 that is a sale, marked
	// "CEDIBLE CON SU FACTURA"). Asking it for a document that has none
	// (56, 61, a guía that is not a sale) is an error.
	Cedible bool
	// CedibleIfAny adds the cedible copy when the document has one (a
	// factura, a guía that is a sale) and prints the original alone
	// otherwise: what the pipeline archives.
	CedibleIfAny bool
	// Resolution is the SII resolution that authorises the issuer
	// (FchResol, NroResol), printed under the timbre. A DTE does not carry
	// it; an EnvioDTE's Carátula does and is used when this is nil.
	Resolution *request.Resolution
	// Office is the SII office printed under the header box, for an issuer
	// whose comuna (CmnaOrigen) is not in the table (see Office); it
	// overrides the table.
	Office string
	// DocumentID picks the DTE of an EnvioDTE holding several (its
	// Documento ID).
	DocumentID string
	// SIIKeys, when given, also check the CAF inside the timbre against
	// the SII's keys before printing; FRMT is always checked.
	SIIKeys *caf.Keys
}

// Errors of Render. Every error Render returns is permanent
// (errs.IsPermanent): the same input will fail the same way.
var (
	// ErrNotDTE: the input is not a readable signed DTE.
	ErrNotDTE = errors.New("not a printable DTE")
	// ErrCannotPrint: the DTE is readable but cannot be printed as asked
	// (no resolution, unknown office, a type or copy that does not exist,
	// text the fonts cannot print, a timbre that does not verify).
	ErrCannotPrint = errors.New("cannot print the DTE")
)

// Render prints a signed DTE (a standalone DTE as Sign writes it, as the
// SII's portal or any other issuer writes it, or an EnvioDTE) as a PDF:
// its printed representation with the timbre as a PDF417 symbol drawn
// with vector rectangles. The timbre's bytes are checked (FRMT, and the
// CAF with Options.SIIKeys) before anything is drawn. The output depends
// only on the input and the options (dates in the PDF come from the DTE),
// so the same document renders to the same bytes.
func Render(signed []byte, o Options) ([]byte, error) {
	out, err := render(signed, o)
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("printout: %w", err))
	}
	return out, nil
}

// renderer holds one document being printed.
type renderer struct {
	d       *document
	office  string
	res     request.Resolution
	stamp   *stamp
	cedible bool // drawing the cedible copy
	legend  string
	ticket  bool
}

func render(signed []byte, o Options) ([]byte, error) {
	d, err := load(signed, o.DocumentID)
	if err != nil {
		return nil, err
	}
	if _, ok := documentNames[d.Type]; !ok {
		return nil, fmt.Errorf("%w: document type %d is not printed here (33, 34, 52, 56 and 61 are)", ErrCannotPrint, d.Type)
	}
	if _, err := timbre.Verify(d.TED, o.SIIKeys); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotPrint, err)
	}
	if o.CedibleIfAny && HasCedible(d.Type) && (d.Type != 52 || saleTransfers[d.Transfer]) {
		o.Cedible = true
	}
	r := &renderer{d: d}
	switch {
	case o.Resolution != nil:
		r.res = *o.Resolution
	case d.Resolution != nil:
		r.res = *d.Resolution
	default:
		return nil, fmt.Errorf("%w: the SII resolution (FchResol, NroResol) printed under the timbre is not in a DTE; give it (Options.Resolution, dte print --resolution-date)", ErrCannotPrint)
	}
	if _, err := time.Parse(time.DateOnly, r.res.Date); err != nil || r.res.Number < 0 {
		return nil, fmt.Errorf("%w: resolution %d of %q: the number must be 0 or more and the date YYYY-MM-DD", ErrCannotPrint, r.res.Number, r.res.Date)
	}
	r.office = o.Office
	if r.office == "" {
		var ok bool
		if r.office, ok = Office(d.Issuer.Commune); !ok {
			return nil, fmt.Errorf("%w: Encabezado/Emisor/CmnaOrigen %q is not in the table of SII offices; give the office (Options.Office, dte print --office)", ErrCannotPrint, d.Issuer.Commune)
		}
	}
	if o.Cedible {
		if !HasCedible(d.Type) {
			return nil, fmt.Errorf("%w: a %s has no cedible copy (Manual de muestras impresas: only facturas and guías de despacho that are sales)", ErrCannotPrint, documentNames[d.Type])
		}
		if d.Type == 52 && !saleTransfers[d.Transfer] {
			return nil, fmt.Errorf("%w: this guía de despacho is not a sale (IndTraslado %q) and has no cedible copy", ErrCannotPrint, d.Transfer)
		}
	}
	if err := d.printable(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotPrint, err)
	}
	if _, err := winAnsi(r.office); err != nil {
		return nil, fmt.Errorf("%w: Options.Office: %w", ErrCannotPrint, err)
	}
	r.office = "S.I.I. - " + r.office
	r.legend = "CEDIBLE"
	if d.Type == 52 {
		r.legend = "CEDIBLE CON SU FACTURA"
	}

	format := o.Format
	if format == FormatAuto {
		format = FormatLetter
		if d.PrintFormat == "T" {
			format = FormatTicket
		}
	}
	var f *fpdf.Fpdf
	switch format {
	case FormatLetter:
		if r.stamp, err = fitStamp(d.TED, letterStampW, letterStampH); err != nil {
			return nil, err
		}
		f = newPDF(fpdf.SizeType{Wd: letterW, Ht: letterH})
		r.letter(f, false)
		if o.Cedible {
			r.letter(f, true)
		}
	case FormatTicket:
		r.ticket = true
		if r.stamp, err = fitStamp(d.TED, ticketStampW, ticketStampH); err != nil {
			return nil, err
		}
		f = newPDF(fpdf.SizeType{Wd: ticketW, Ht: 200})
		r.ticketCopy(f, false)
		if o.Cedible {
			r.ticketCopy(f, true)
		}
	default:
		return nil, fmt.Errorf("%w: format %q: use letter or ticket", ErrCannotPrint, format)
	}
	f.SetTitle(documentNames[d.Type]+" N° "+d.Folio, true)
	f.SetSubject(d.ID, true)
	when := r.when()
	f.SetCreationDate(when)
	f.SetModificationDate(when)
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("%w: PDF: %w", ErrCannotPrint, err)
	}
	return buf.Bytes(), nil
}

// when is the PDF's date: the issue date at noon, Chile time, so that the
// same DTE always renders to the same bytes.
func (r *renderer) when() time.Time {
	t, err := time.ParseInLocation(time.DateOnly, r.d.IssueDate, chile)
	if err != nil {
		return time.Date(2000, 1, 1, 12, 0, 0, 0, time.UTC)
	}
	return t.Add(12 * time.Hour)
}

var chile = func() *time.Location {
	if l, err := time.LoadLocation("America/Santiago"); err == nil {
		return l
	}
	return time.UTC
}()

func newPDF(size fpdf.SizeType) *fpdf.Fpdf {
	f := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: size})
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	f.SetCatalogSort(true)
	f.SetProducer("dte-async printout", false)
	f.SetCreator("dte-async", false)
	return f
}

// tr converts text to WinAnsiEncoding for the fonts: the document's
// texts were checked (printable) and this package's labels are all
// printable (TestLabels), so nothing is lost here.
func tr(s string) string {
	out, err := winAnsi(s)
	if err != nil {
		return s
	}
	return out
}

// dotted writes a RUT with thousands dots, as printed: 76.086.428-5.
func dotted(s string) string {
	r, err := rut.Parse(s)
	if err != nil {
		return s
	}
	return r.Dotted()
}

// field is one text of the document and the element it comes from.
type field struct {
	name string
	v    *string
}

// printable checks every text of the document can be printed with the
// PDF's fonts (WinAnsiEncoding), naming the element whose text cannot.
func (d *document) printable() error {
	fields := []field{
		{"Emisor/RznSoc", &d.Issuer.Name}, {"Emisor/GiroEmis", &d.Issuer.Activity}, {"Emisor/DirOrigen", &d.Issuer.Address},
		{"Emisor/CmnaOrigen", &d.Issuer.Commune}, {"Emisor/CiudadOrigen", &d.Issuer.City}, {"Emisor/CorreoEmisor", &d.Issuer.Email},
		{"Emisor/Sucursal", &d.Issuer.Branch},
		{"Receptor/RznSocRecep", &d.Receiver.Name}, {"Receptor/GiroRecep", &d.Receiver.Activity}, {"Receptor/DirRecep", &d.Receiver.Address},
		{"Receptor/CmnaRecep", &d.Receiver.Commune}, {"Receptor/CiudadRecep", &d.Receiver.City}, {"Receptor/Contacto", &d.Receiver.Contact},
		{"Receptor/CorreoRecep", &d.Receiver.Email},
		{"Transporte/Patente", &d.Patent}, {"Transporte/DirDest", &d.DestAddress}, {"Transporte/CmnaDest", &d.DestCommune},
		{"Transporte/CiudadDest", &d.DestCity}, {"IdDoc/Folio", &d.Folio},
	}
	for i := range d.Issuer.Phones {
		fields = append(fields, field{"Emisor/Telefono", &d.Issuer.Phones[i]})
	}
	for i := range d.Lines {
		l := &d.Lines[i]
		n := fmt.Sprintf("Detalle[%d]/", i+1)
		fields = append(fields, field{n + "NmbItem", &l.Name}, field{n + "DscItem", &l.Description}, field{n + "UnmdItem", &l.Unit})
		for j := range l.Codes {
			fields = append(fields, field{n + "CdgItem/VlrCodigo", &l.Codes[j]})
		}
	}
	for i := range d.Globals {
		fields = append(fields, field{fmt.Sprintf("DscRcgGlobal[%d]/GlosaDR", i+1), &d.Globals[i].Text})
	}
	for i := range d.References {
		n := fmt.Sprintf("Referencia[%d]/", i+1)
		fields = append(fields, field{n + "FolioRef", &d.References[i].Folio}, field{n + "RazonRef", &d.References[i].Reason})
	}
	for _, f := range fields {
		if _, err := winAnsi(*f.v); err != nil {
			return fmt.Errorf("Encabezado/%s: %w", f.name, err)
		}
	}
	return nil
}
