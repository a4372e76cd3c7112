package request

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/rut"
)

// checkRules applies the SII rules that the JSON Schema cannot express. It
// runs on every request the decoder could read, even when the schema already
// found problems, so that one answer lists every bad field.
func checkRules(vs *violations, r *Request) {
	checkText(vs, r)
	checkRUT(vs, "issuer.rut", r.Issuer.RUT)
	checkRUT(vs, "receiver.rut", r.Receiver.RUT)
	checkDate(vs, "document.issue_date", r.Document.IssueDate)
	checkDate(vs, "document.due_date", r.Document.DueDate)
	checkDate(vs, "issuer.sii_resolution.date", r.Issuer.Resolution.Date)
	checkDocument(vs, r)
	checkReceiver(vs, r)
	checkExchangeEmail(vs, r)
	checkReferences(vs, r)
	linesOK := checkLines(vs, r)
	adjOK := checkAdjustments(vs, r)
	if linesOK && adjOK && !vs.has("totals") {
		checkTotals(vs, r)
	}
}

func checkRUT(vs *violations, field, s string) {
	if s == "" || vs.has(field) {
		return
	}
	if _, err := rut.Parse(s); err != nil {
		if errors.Is(err, rut.ErrCheckDigit) {
			vs.add(field, "rut-check-digit", "%s: the check digit is wrong (módulo 11 gives %c)", s, rutDigit(s))
			return
		}
		vs.add(field, "rut-format", "%v", err)
	}
}

func rutDigit(s string) byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			n, _ := strconv.ParseInt(s[:i], 10, 64)
			return rut.CheckDigit(n)
		}
	}
	return '?'
}

func checkDate(vs *violations, field, s string) {
	if s == "" || vs.has(field) {
		return
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		vs.add(field, "date", "%q is not a date (YYYY-MM-DD)", s)
		return
	}
	if d.Year() < 2000 || d.Year() > 2050 {
		vs.add(field, "date", "%s is outside the SII's range 2000-01-01..2050-12-31", s)
	}
}

func checkDocument(vs *violations, r *Request) {
	d := r.Document
	if d.Type == TypeGuiaDespacho {
		if d.TransferType == 0 && !vs.has("document.transfer_type") {
			vs.add("document.transfer_type", "required", "is required on a guía de despacho (52): IndTraslado 1..9")
		}
		return
	}
	if d.TransferType != 0 {
		vs.add("document.transfer_type", "not-allowed", "only a guía de despacho (52) carries IndTraslado")
	}
	if d.DispatchType != 0 {
		vs.add("document.dispatch_type", "not-allowed", "only a guía de despacho (52) carries TipoDespacho")
	}
	if d.DueDate != "" && d.IssueDate != "" && d.DueDate < d.IssueDate && !vs.has("document.due_date") {
		vs.add("document.due_date", "date-order", "%s is before the issue date %s", d.DueDate, d.IssueDate)
	}
}

// checkReceiver applies the SII's rule that facturas and notes name the
// receiver's giro, address and commune (the XSD leaves them optional).
func checkReceiver(vs *violations, r *Request) {
	if r.Document.Type == TypeGuiaDespacho {
		return
	}
	for field, v := range map[string]string{
		"receiver.activity": r.Receiver.Activity,
		"receiver.address":  r.Receiver.Address,
		"receiver.commune":  r.Receiver.Commune,
	} {
		if v == "" && !vs.has(field) {
			vs.add(field, "required", "is required by the SII on document type %d", r.Document.Type)
		}
	}
}

// checkExchangeEmail: the receiver's DTE exchange address is one bare
// e-mail address (local@domain), as the SII's registry of electronic
// issuers lists it.
func checkExchangeEmail(vs *violations, r *Request) {
	e := r.Receiver.ExchangeEmail
	if e == "" || vs.has("receiver.exchange_email") {
		return
	}
	if !ValidEmail(e) {
		vs.add("receiver.exchange_email", "email", "%q is not an e-mail address (local@domain, nothing else: no name, no spaces, no angle brackets)", e)
	}
}

// ValidEmail reports whether s is one bare e-mail address: what net/mail
// parses, written exactly so, with a dot in the domain.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

var dteTypes = map[string]bool{"33": true, "34": true, "39": true, "41": true, "43": true, "46": true, "52": true, "56": true, "61": true, "110": true, "111": true, "112": true}

// IsDTEType reports whether a reference's type (TpoDocRef) is an electronic
// document's code, as opposed to a paper document, a purchase order (801)
// or SET.
func IsDTEType(code string) bool { return dteTypes[code] }

func checkReferences(vs *violations, r *Request) {
	for i, ref := range r.References {
		checkDate(vs, fmt.Sprintf("references[%d].date", i), ref.Date)
		if ref.Date != "" && r.Document.IssueDate != "" && ref.Date > r.Document.IssueDate {
			vs.add(fmt.Sprintf("references[%d].date", i), "date-order", "%s is after the issue date %s: a document can only reference an earlier one", ref.Date, r.Document.IssueDate)
		}
	}
	if !r.IsNote() {
		return
	}
	modifies := false
	for i, ref := range r.References {
		if !dteTypes[ref.Type] {
			continue
		}
		modifies = true
		if ref.Code == 0 {
			vs.add(fmt.Sprintf("references[%d].code", i), "required", "is required on a nota de %s: 1 anula, 2 corrige texto, 3 corrige montos", noteName(r.Document.Type))
		}
		if _, err := strconv.ParseInt(ref.Folio, 10, 64); err != nil && !vs.has(fmt.Sprintf("references[%d].folio", i)) {
			vs.add(fmt.Sprintf("references[%d].folio", i), "folio", "%q: the folio of a DTE is a number", ref.Folio)
		}
	}
	if !modifies && !vs.has("references") {
		vs.add("references", "required", "a nota de %s (%d) must reference the document it modifies (type, folio, date, code)", noteName(r.Document.Type), r.Document.Type)
	}
}

func noteName(t int) string {
	if t == TypeNotaCredito {
		return "crédito"
	}
	return "débito"
}

// checkLines checks each line's decimals and arithmetic; ok is false when the
// totals cannot be meaningfully checked.
func checkLines(vs *violations, r *Request) (ok bool) {
	ok = !vs.has("lines")
	for i, l := range r.Lines {
		if !checkLine(vs, fmt.Sprintf("lines[%d]", i), l) {
			ok = false
		}
	}
	return ok
}

func checkLine(vs *violations, p string, l Line) bool {
	ok := checkDecimal(vs, p+".quantity", l.Quantity, 6, 12)
	ok = checkDecimal(vs, p+".unit_price", l.UnitPrice, 6, 12) && ok
	ok = checkDecimal(vs, p+".discount_percent", l.DiscountPercent, 2, 3) && ok
	if l.UnitPrice.Valid() && !l.Quantity.Valid() {
		vs.add(p+".quantity", "required", "is required when unit_price is given")
		ok = false
	}
	if l.DiscountPercent.Valid() && !(l.Quantity.Valid() && l.UnitPrice.Valid()) {
		vs.add(p+".discount_percent", "requires-price", "a percent discount needs quantity and unit_price")
		ok = false
	}
	if !ok || vs.has(p) {
		return false
	}
	gross, priced := l.LineGross()
	if !priced {
		return true
	}
	if pd, has := l.PercentDiscount(); has && l.DiscountAmount != 0 && pd != l.DiscountAmount {
		vs.add(p+".discount_amount", "discount-amount", "must be %d (%s%% of %s × %s, rounded), got %d", pd, l.DiscountPercent, l.Quantity, l.UnitPrice, l.DiscountAmount)
		return false
	}
	disc := l.Discount()
	if disc > gross {
		vs.add(p+".discount_amount", "discount-amount", "discount %d is larger than the line's %d", disc, gross)
		return false
	}
	if want := gross - disc; l.Amount != want {
		if disc > 0 {
			vs.add(p+".amount", "line-amount", "must be %d (%s × %s = %d, rounded half up, minus discount %d), got %d", want, l.Quantity, l.UnitPrice, gross, disc, l.Amount)
		} else {
			vs.add(p+".amount", "line-amount", "must be %d (%s × %s, rounded half up), got %d", want, l.Quantity, l.UnitPrice, l.Amount)
		}
		return false
	}
	return true
}

func checkDecimal(vs *violations, field string, d Decimal, maxScale, maxIntDigits int) bool {
	if !d.Valid() || vs.has(field) {
		return !vs.has(field)
	}
	if sc := d.Scale(); sc < 0 || sc > maxScale {
		vs.add(field, "max-decimals", "%s has more than %d decimals", d.Rat().FloatString(8), maxScale)
		return false
	}
	if d.IntegerDigits() > maxIntDigits {
		vs.add(field, "maximum", "%s has more than %d digits before the decimal point", d, maxIntDigits)
		return false
	}
	return true
}

func checkAdjustments(vs *violations, r *Request) (ok bool) {
	ok = !vs.has("global_adjustments")
	for i, a := range r.Adjustments {
		f := fmt.Sprintf("global_adjustments[%d].value", i)
		if !a.Value.Valid() || vs.has(f) {
			ok = false
			continue
		}
		switch a.ValueType {
		case "%":
			if !checkDecimal(vs, f, a.Value, 2, 3) {
				ok = false
			} else if a.Kind == "discount" && a.Value.Rat().Cmp(bigHundred) > 0 {
				vs.add(f, "maximum", "a discount of %s%% is more than 100%%", a.Value)
				ok = false
			}
		case "$":
			if a.Value.Scale() != 0 {
				vs.add(f, "clp-integer", "%s: an amount in CLP is an integer", a.Value)
				ok = false
			}
		}
	}
	return ok
}

func checkTotals(vs *violations, r *Request) {
	want := r.Compute()
	t := r.Totals
	if want.Net < 0 || want.Exempt < 0 {
		vs.add("global_adjustments", "totals-negative", "the discounts are larger than the amounts they apply to")
		return
	}
	if r.Document.Type == TypeFacturaExenta {
		if t.Net != 0 {
			vs.add("totals.net", "no-vat", "must be 0 on a factura exenta (34): every line is exempt, got %d", t.Net)
		}
		if t.VAT != 0 {
			vs.add("totals.vat", "no-vat", "must be 0 on a factura exenta (34), got %d", t.VAT)
		}
	} else {
		if t.Net != want.Net {
			vs.add("totals.net", "totals-net", "must be %d (the sum of the affected lines after global adjustments), got %d", want.Net, t.Net)
		}
		if t.VAT != want.VAT && t.Net == want.Net {
			vs.add("totals.vat", "totals-vat", "must be %d (19%% of net %d, rounded half up), got %d", want.VAT, want.Net, t.VAT)
		}
	}
	if t.Exempt != want.Exempt {
		vs.add("totals.exempt", "totals-exempt", "must be %d (the sum of the exempt lines after global adjustments), got %d", want.Exempt, t.Exempt)
	}
	if sum := t.Net + t.VAT + t.Exempt; t.Total != sum {
		vs.add("totals.total", "totals-sum", "must be %d (net %d + vat %d + exempt %d), got %d", sum, t.Net, t.VAT, t.Exempt, t.Total)
	} else if t.Total != want.Total && !vs.has("totals") {
		vs.add("totals.total", "totals-sum", "must be %d, got %d", want.Total, t.Total)
	}
}

// checkText checks that every text can be written in ISO-8859-1.
func checkText(vs *violations, r *Request) {
	check := func(field, s string) {
		if err := latin1.Check(s); err != nil {
			vs.add(field, "iso-8859-1", "%v", err)
		}
	}
	check("issuer.name", r.Issuer.Name)
	check("issuer.activity", r.Issuer.Activity)
	check("issuer.address", r.Issuer.Address)
	check("issuer.commune", r.Issuer.Commune)
	check("issuer.city", r.Issuer.City)
	check("issuer.email", r.Issuer.Email)
	check("issuer.phone", r.Issuer.Phone)
	check("receiver.name", r.Receiver.Name)
	check("receiver.activity", r.Receiver.Activity)
	check("receiver.address", r.Receiver.Address)
	check("receiver.commune", r.Receiver.Commune)
	check("receiver.city", r.Receiver.City)
	check("receiver.contact", r.Receiver.Contact)
	check("receiver.email", r.Receiver.Email)
	for i, l := range r.Lines {
		check(fmt.Sprintf("lines[%d].code", i), l.Code)
		check(fmt.Sprintf("lines[%d].name", i), l.Name)
		check(fmt.Sprintf("lines[%d].description", i), l.Description)
		check(fmt.Sprintf("lines[%d].unit", i), l.Unit)
	}
	for i, a := range r.Adjustments {
		check(fmt.Sprintf("global_adjustments[%d].description", i), a.Description)
	}
	for i, ref := range r.References {
		check(fmt.Sprintf("references[%d].folio", i), ref.Folio)
		check(fmt.Sprintf("references[%d].reason", i), ref.Reason)
	}
}
