package dte

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
)

// Namespaces and fixed values of the SII's documents.
const (
	NamespaceSiiDte = "http://www.sii.cl/SiiDte"
	NamespaceXSI    = "http://www.w3.org/2001/XMLSchema-instance"
	xmlDecl         = `<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n"
)

// Types lists the document types this package builds: 33, 34, 52, 56, 61.
func Types() []int {
	return []int{request.TypeFactura, request.TypeFacturaExenta, request.TypeGuiaDespacho, request.TypeNotaDebito, request.TypeNotaCredito}
}

func supportedType(t int) bool {
	switch t {
	case request.TypeFactura, request.TypeFacturaExenta, request.TypeGuiaDespacho, request.TypeNotaDebito, request.TypeNotaCredito:
		return true
	}
	return false
}

// document is a Documento under construction: the canonical bytes up to
// (not including) the TED, and what the TED needs.
type document struct {
	id       string
	canon    []byte // "<Documento xmlns=… ID=…>" + Encabezado … Referencia
	issuer   rut.RUT
	receiver rut.RUT
	rsr      string // RznSocRecep cut to 40 characters
	it1      string // NmbItem of line 1 cut to 40 characters
	total    int64
}

// openTag is Documento's start tag in canonical form: in a standalone DTE
// it inherits the SiiDte default namespace, which C14N renders on it.
func openTag(id string) string {
	return `<Documento xmlns="` + NamespaceSiiDte + `" ID="` + id + `">`
}

// build writes Encabezado, Detalle, DscRcgGlobal and Referencia for req.
func build(req *request.Request, buf []byte) (*document, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: no request", ErrInvalidRequest)
	}
	d := req.Document
	if !supportedType(d.Type) {
		return nil, &FieldError{Field: "document.type", Element: "IdDoc/TipoDTE", Err: fmt.Errorf("%w: type %d is not one of %v", ErrInvalidRequest, d.Type, Types())}
	}
	if d.Folio <= 0 || d.Folio > 9999999999 {
		return nil, &FieldError{Field: "document.folio", Element: "IdDoc/Folio", Err: fmt.Errorf("%w: folio %d is not 1..9999999999", ErrInvalidRequest, d.Folio)}
	}
	doc := &document{id: "F" + strconv.FormatInt(d.Folio, 10) + "T" + strconv.Itoa(d.Type)}
	w := &writer{b: append(buf, openTag(doc.id)...), path: []string{"Documento"}}
	w.open("Encabezado")
	writeIdDoc(w, req)
	doc.issuer = writeEmisor(w, req)
	doc.receiver, doc.rsr = writeReceptor(w, req)
	doc.total = writeTotales(w, req)
	w.close("Encabezado")
	if n := len(req.Lines); n == 0 || n > request.MaxLines {
		w.invalid("lines", "Detalle", "a DTE has 1 to %d lines, got %d", request.MaxLines, n)
	}
	for i, l := range req.Lines {
		name := writeDetalle(w, req, i, l)
		if i == 0 {
			doc.it1 = truncate(name, 40)
		}
	}
	if len(req.Adjustments) > request.MaxAdjustments {
		w.invalid("global_adjustments", "DscRcgGlobal", "at most %d, got %d", request.MaxAdjustments, len(req.Adjustments))
	}
	for i, a := range req.Adjustments {
		writeDscRcg(w, req, i, a)
	}
	if len(req.References) > request.MaxReferences {
		w.invalid("references", "Referencia", "at most %d, got %d", request.MaxReferences, len(req.References))
	}
	for i, r := range req.References {
		writeReferencia(w, i, r)
	}
	if w.err != nil {
		return nil, w.err
	}
	doc.canon = w.b
	return doc, nil
}

func writeIdDoc(w *writer, req *request.Request) {
	d := req.Document
	w.open("IdDoc")
	w.int("TipoDTE", int64(d.Type))
	w.int("Folio", d.Folio)
	w.raw("FchEmis", date(w, "document.issue_date", "FchEmis", d.IssueDate, true))
	if d.Type == request.TypeGuiaDespacho {
		if d.DispatchType != 0 {
			if d.DispatchType < 1 || d.DispatchType > 3 {
				w.invalid("document.dispatch_type", "TipoDespacho", "must be 1, 2 or 3, got %d", d.DispatchType)
			}
			w.int("TipoDespacho", int64(d.DispatchType))
		}
		if d.TransferType < 1 || d.TransferType > 9 {
			w.invalid("document.transfer_type", "IndTraslado", "a guía de despacho needs IndTraslado 1..9, got %d", d.TransferType)
		}
		w.int("IndTraslado", int64(d.TransferType))
	} else if d.TransferType != 0 || d.DispatchType != 0 {
		w.invalid("document.transfer_type", "IndTraslado", "only a guía de despacho (52) carries IndTraslado and TipoDespacho")
	}
	switch d.PrintFormat {
	case request.PrintTicket:
		w.raw("TpoImpresion", "T") // the printout follows it (printout.FormatAuto)
	case "", request.PrintLetter:
	default:
		w.invalid("document.print_format", "TpoImpresion", "must be letter or ticket, got %q", d.PrintFormat)
	}
	if d.PaymentForm != 0 {
		if d.PaymentForm < 1 || d.PaymentForm > 3 {
			w.invalid("document.payment_form", "FmaPago", "must be 1 (contado), 2 (crédito) or 3 (sin costo), got %d", d.PaymentForm)
		}
		w.int("FmaPago", int64(d.PaymentForm))
	}
	if d.DueDate != "" {
		w.raw("FchVenc", date(w, "document.due_date", "FchVenc", d.DueDate, true))
	}
	w.close("IdDoc")
}

func writeEmisor(w *writer, req *request.Request) rut.RUT {
	is := req.Issuer
	w.open("Emisor")
	r := parseRUT(w, "issuer.rut", "RUTEmisor", is.RUT)
	w.raw("RUTEmisor", r.String())
	w.text("RznSoc", "issuer.name", nonEmpty(w, "issuer.name", "RznSoc", is.Name), 100)
	w.text("GiroEmis", "issuer.activity", nonEmpty(w, "issuer.activity", "GiroEmis", is.Activity), 80)
	w.optText("Telefono", "issuer.phone", is.Phone, 20)
	w.optText("CorreoEmisor", "issuer.email", is.Email, 80)
	if n := len(is.Acteco); n < 1 || n > 4 {
		w.invalid("issuer.acteco", "Acteco", "1 to 4 economic activity codes, got %d", n)
	}
	for i, a := range is.Acteco {
		if a < 1 || a > 999999 {
			w.invalid(fmt.Sprintf("issuer.acteco[%d]", i), "Acteco", "%d is not a 1..6 digit code", a)
		}
		w.int("Acteco", int64(a))
	}
	if is.BranchCode != 0 {
		if is.BranchCode < 1 || is.BranchCode > 999999999 {
			w.invalid("issuer.branch_code", "CdgSIISucur", "%d is not a 1..9 digit code", is.BranchCode)
		}
		w.int("CdgSIISucur", is.BranchCode)
	}
	w.text("DirOrigen", "issuer.address", nonEmpty(w, "issuer.address", "DirOrigen", is.Address), 70)
	w.text("CmnaOrigen", "issuer.commune", nonEmpty(w, "issuer.commune", "CmnaOrigen", is.Commune), 20)
	w.optText("CiudadOrigen", "issuer.city", is.City, 20)
	w.close("Emisor")
	return r
}

func writeReceptor(w *writer, req *request.Request) (rut.RUT, string) {
	rc := req.Receiver
	w.open("Receptor")
	r := parseRUT(w, "receiver.rut", "RUTRecep", rc.RUT)
	w.raw("RUTRecep", r.String())
	name := w.text("RznSocRecep", "receiver.name", nonEmpty(w, "receiver.name", "RznSocRecep", rc.Name), 100)
	w.optText("GiroRecep", "receiver.activity", rc.Activity, 40)
	w.optText("Contacto", "receiver.contact", rc.Contact, 80)
	w.optText("CorreoRecep", "receiver.email", rc.Email, 80)
	w.optText("DirRecep", "receiver.address", rc.Address, 70)
	w.optText("CmnaRecep", "receiver.commune", rc.Commune, 20)
	w.optText("CiudadRecep", "receiver.city", rc.City, 20)
	w.close("Receptor")
	return r, truncate(name, 40)
}

// writeTotales writes the totals, recomputed by the SII's rules and
// checked against the request's (docs/sii-protocol.md §4.5).
func writeTotales(w *writer, req *request.Request) int64 {
	t := req.Totals
	want := req.Compute()
	typ := req.Document.Type
	if want.Net < 0 || want.Exempt < 0 {
		w.invalid("global_adjustments", "DscRcgGlobal", "the discounts are larger than the amounts they apply to")
	}
	if t.Net != want.Net || t.Exempt != want.Exempt || t.VAT != want.VAT || t.Total != want.Total {
		w.invalid("totals", "Totales", "the lines and global adjustments add up to net %d, exempt %d, VAT %d, total %d; the request says net %d, exempt %d, VAT %d, total %d",
			want.Net, want.Exempt, want.VAT, want.Total, t.Net, t.Exempt, t.VAT, t.Total)
	}
	if t.VATRate != nil && t.VATRate.String() != strconv.Itoa(request.DefaultVATRate) {
		w.invalid("totals.vat_rate", "TasaIVA", "the VAT rate is %d%%, got %s", request.DefaultVATRate, t.VATRate)
	}
	w.open("Totales")
	if typ == request.TypeFacturaExenta {
		w.int("MntExe", t.Exempt)
	} else {
		affected := t.Net > 0 || typ == request.TypeFactura
		if affected {
			w.int("MntNeto", t.Net)
		}
		if t.Exempt > 0 {
			w.int("MntExe", t.Exempt)
		}
		if affected {
			w.int("TasaIVA", request.DefaultVATRate)
			w.int("IVA", t.VAT)
		}
	}
	w.int("MntTotal", t.Total)
	w.close("Totales")
	return t.Total
}

// writeDetalle writes one line and returns its name as written.
func writeDetalle(w *writer, req *request.Request, i int, l request.Line) string {
	w.prefix = "lines[" + strconv.Itoa(i) + "]"
	defer func() { w.prefix = "" }()
	w.open("Detalle")
	w.int("NroLinDet", int64(i+1))
	if l.Code != "" {
		w.open("CdgItem")
		w.raw("TpoCodigo", "INT1")
		w.text("VlrCodigo", ".code", l.Code, 35)
		w.close("CdgItem")
	}
	if req.LineExempt(l) {
		w.int("IndExe", 1)
	}
	name := w.text("NmbItem", ".name", nonEmpty(w, ".name", "NmbItem", l.Name), 80)
	w.optText("DscItem", ".description", l.Description, 1000)
	if q := decimal(w, ".quantity", "QtyItem", l.Quantity, 6, 12); q != "" {
		w.raw("QtyItem", q)
	}
	w.optText("UnmdItem", ".unit", l.Unit, 4)
	if p := decimal(w, ".unit_price", "PrcItem", l.UnitPrice, 6, 12); p != "" {
		w.raw("PrcItem", p)
	}
	if p := decimal(w, ".discount_percent", "DescuentoPct", l.DiscountPercent, 2, 3); p != "" {
		w.raw("DescuentoPct", p)
	}
	if disc := l.Discount(); disc > 0 {
		w.int("DescuentoMonto", disc)
	} else if disc < 0 {
		w.invalid(".discount_amount", "DescuentoMonto", "must not be negative, got %d", disc)
	}
	if l.Amount < 0 {
		w.invalid(".amount", "MontoItem", "must not be negative, got %d", l.Amount)
	}
	w.int("MontoItem", l.Amount)
	w.close("Detalle")
	return name
}

func writeDscRcg(w *writer, req *request.Request, i int, a request.Adjustment) {
	w.prefix = "global_adjustments[" + strconv.Itoa(i) + "]"
	defer func() { w.prefix = "" }()
	w.open("DscRcgGlobal")
	w.int("NroLinDR", int64(i+1))
	switch a.Kind {
	case "discount":
		w.raw("TpoMov", "D")
	case "surcharge":
		w.raw("TpoMov", "R")
	default:
		w.invalid(".kind", "TpoMov", "must be discount or surcharge, got %q", a.Kind)
	}
	w.optText("GlosaDR", ".description", a.Description, 45)
	scale := 2
	switch a.ValueType {
	case "%":
	case "$":
		scale = 0
	default:
		w.invalid(".value_type", "TpoValor", `must be "%%" or "$", got %q`, a.ValueType)
	}
	w.raw("TpoValor", a.ValueType)
	if v := decimal(w, ".value", "ValorDR", a.Value, scale, 16); v != "" {
		w.raw("ValorDR", v)
	} else {
		w.invalid(".value", "ValorDR", "is required")
	}
	if a.Exempt || req.Document.Type == request.TypeFacturaExenta {
		w.int("IndExeDR", 1)
	}
	w.close("DscRcgGlobal")
}

func writeReferencia(w *writer, i int, r request.Reference) {
	w.prefix = "references[" + strconv.Itoa(i) + "]"
	defer func() { w.prefix = "" }()
	w.open("Referencia")
	w.int("NroLinRef", int64(i+1))
	if n := len(r.Type); n < 1 || n > 3 {
		w.invalid(".type", "TpoDocRef", "1 to 3 characters, got %q", r.Type)
	}
	w.text("TpoDocRef", ".type", r.Type, 3)
	w.text("FolioRef", ".folio", nonEmpty(w, ".folio", "FolioRef", r.Folio), 18)
	w.raw("FchRef", date(w, ".date", "FchRef", r.Date, true))
	if r.Code != 0 {
		if r.Code < 1 || r.Code > 3 {
			w.invalid(".code", "CodRef", "must be 1 (anula), 2 (corrige texto) or 3 (corrige montos), got %d", r.Code)
		}
		w.int("CodRef", int64(r.Code))
	}
	w.optText("RazonRef", ".reason", r.Reason, 90)
	w.close("Referencia")
}

// date checks a FechaType value: YYYY-MM-DD between 2000 and 2050.
func date(w *writer, field, tag, s string, required bool) string {
	if s == "" && !required {
		return ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 2000 || t.Year() > 2050 {
		w.invalid(field, tag, "%q is not a date YYYY-MM-DD between 2000-01-01 and 2050-12-31", s)
		return "2000-01-01"
	}
	return s
}

func parseRUT(w *writer, field, tag, s string) rut.RUT {
	r, err := rut.Parse(s)
	if err != nil {
		w.fail(field, tag, fmt.Errorf("%w: %v", ErrInvalidRequest, err))
		return rut.RUT{Number: 1, DV: '9'}
	}
	return r
}

func nonEmpty(w *writer, field, tag, s string) string {
	if s == "" {
		w.invalid(field, tag, "is required")
		return "-"
	}
	return s
}

// decimal formats a quantity, price or percentage for the SII's decimal
// types: "" when absent or zero (the types' minimum is above zero), an
// error when negative or more precise than the type allows.
func decimal(w *writer, field, tag string, d request.Decimal, maxScale, maxInt int) string {
	if !d.Valid() || d.Sign() == 0 {
		return ""
	}
	if d.Sign() < 0 {
		w.invalid(field, tag, "must be positive, got %s", d)
		return ""
	}
	if sc := d.Scale(); sc < 0 || sc > maxScale {
		w.invalid(field, tag, "at most %d decimals, got %s", maxScale, d.Rat().FloatString(8))
		return ""
	}
	if d.IntegerDigits() > maxInt {
		w.invalid(field, tag, "at most %d digits before the decimal point, got %s", maxInt, d)
		return ""
	}
	return d.String()
}
