package printout

import "strings"

// Texts shared by both formats.

// acuseText is the declaration the Ley 19.983 asks on the acuse de
// recibo of a cedible copy.
const acuseText = "El acuse de recibo que se declara en este acto, de acuerdo a lo dispuesto en la letra b) del Art. 4°, " +
	"y la letra c) del Art. 5° de la Ley 19.983, acredita que la entrega de mercaderías o servicio(s) prestado(s) ha(n) sido recibido(s)."

// acuseFields are the blanks the receiver fills in.
var acuseFields = []string{"Nombre:", "R.U.T.:", "Fecha:", "Recinto:", "Firma:"}

// pair is a label and its value in the receiver block.
type pair struct{ label, value string }

// receiverPairs are the receiver's data, then the document's dates and
// terms, as label/value pairs (empty values left out).
func (r *renderer) receiverPairs() (receiver, terms []pair) {
	d := r.d
	add := func(list []pair, label, value string) []pair {
		if value == "" {
			return list
		}
		return append(list, pair{label, value})
	}
	receiver = add(receiver, "Señor(es):", d.Receiver.Name)
	receiver = add(receiver, "R.U.T.:", dotted(d.Receiver.RUT))
	receiver = add(receiver, "Giro:", d.Receiver.Activity)
	receiver = add(receiver, "Dirección:", d.Receiver.Address)
	receiver = add(receiver, "Comuna:", d.Receiver.Commune)
	receiver = add(receiver, "Ciudad:", d.Receiver.City)
	receiver = add(receiver, "Contacto:", d.Receiver.Contact)
	receiver = add(receiver, "Correo:", d.Receiver.Email)

	terms = add(terms, "Fecha emisión:", longDate(d.IssueDate))
	terms = add(terms, "Vencimiento:", longDate(d.DueDate))
	terms = add(terms, "Forma de pago:", paymentForms[d.PaymentForm])
	if d.Type == 52 {
		terms = add(terms, "Traslado:", transferTypes[d.Transfer])
		terms = add(terms, "Despacho:", dispatchTypes[d.Dispatch])
		terms = add(terms, "Patente:", d.Patent)
		if d.Carrier != "" {
			terms = add(terms, "Transportista:", dotted(d.Carrier))
		}
		dest := strings.Join(nonEmpty(d.DestAddress, d.DestCommune, d.DestCity), ", ")
		terms = add(terms, "Destino:", dest)
	}
	return receiver, terms
}

// issuerLines are the issuer's data under its name: giro (never
// abbreviated), address, comuna and city, branch, phones and e-mail.
func (r *renderer) issuerLines() []string {
	d := r.d
	var out []string
	if d.Issuer.Activity != "" {
		out = append(out, d.Issuer.Activity)
	}
	if d.Issuer.Address != "" {
		out = append(out, d.Issuer.Address)
	}
	if place := strings.Join(nonEmpty(d.Issuer.Commune, d.Issuer.City), ", "); place != "" {
		out = append(out, place)
	}
	if d.Issuer.Branch != "" {
		out = append(out, "Sucursal: "+d.Issuer.Branch)
	}
	if len(d.Issuer.Phones) > 0 {
		out = append(out, "Teléfono: "+strings.Join(d.Issuer.Phones, " / "))
	}
	if d.Issuer.Email != "" {
		out = append(out, d.Issuer.Email)
	}
	return out
}

// totalRows are the totals box: label, amount, and whether it is the
// grand total.
func (r *renderer) totalRows() [][2]string {
	d := r.d
	var rows [][2]string
	if d.Net != "" {
		rows = append(rows, [2]string{"Monto neto", pesos(d.Net)})
	}
	if d.Exempt != "" {
		rows = append(rows, [2]string{"Monto exento", pesos(d.Exempt)})
	}
	if d.VAT != "" {
		label := "IVA"
		if d.VATRate != "" {
			label += " " + number(d.VATRate) + "%"
		}
		rows = append(rows, [2]string{label, pesos(d.VAT)})
	}
	for _, t := range d.OtherTaxes {
		label := taxName(t.Code)
		if t.Rate != "" {
			label += " " + number(t.Rate) + "%"
		}
		rows = append(rows, [2]string{label, pesos(t.Amount)})
	}
	if d.NotBillable != "" {
		rows = append(rows, [2]string{"Monto no facturable", pesos(d.NotBillable)})
	}
	return append(rows, [2]string{"TOTAL", pesos(d.Total)})
}

// globalText describes a global discount or surcharge.
func globalText(g adjustment) string {
	label := "Descuento global"
	if g.Kind == "R" {
		label = "Recargo global"
	}
	value := number(g.Value) + "%"
	if g.ValueType == "$" {
		value = pesos(g.Value)
	}
	s := label + ": " + value
	if g.Text != "" {
		s += " (" + g.Text + ")"
	}
	if g.Exempt {
		s += ", sobre lo exento"
	}
	return s
}

// referenceText describes a Referencia: "Factura electrónica N° 1042 del
// 27-11-2026. Corrige montos: Devolución parcial".
func referenceText(ref reference) string {
	s := referenceType(ref.Type)
	if ref.Folio != "" && ref.Folio != "0" {
		s += " N° " + ref.Folio
	}
	if ref.Global {
		s += " (referencia global)"
	}
	if ref.Date != "" {
		s += " del " + shortDate(ref.Date)
	}
	what := referenceCodes[ref.Code]
	switch {
	case what != "" && ref.Reason != "":
		s += ". " + what + ": " + ref.Reason
	case what != "":
		s += ". " + what
	case ref.Reason != "":
		s += ". " + ref.Reason
	}
	return s
}

// lineAdjustment is a line's discount or surcharge: "-3.248 (10%)".
func lineAdjustment(l line) string {
	var parts []string
	if l.Discount != "" {
		s := "-" + number(l.Discount)
		if l.DiscountPct != "" {
			s += " (" + number(l.DiscountPct) + "%)"
		}
		parts = append(parts, s)
	}
	if l.Surcharge != "" {
		s := "+" + number(l.Surcharge)
		if l.SurchargePct != "" {
			s += " (" + number(l.SurchargePct) + "%)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
