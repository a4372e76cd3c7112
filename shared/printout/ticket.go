package printout

import (
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// Ticket layout (80 mm roll, TpoImpresion T), millimetres.
const (
	ticketW      = 80.0
	ticketMargin = 5.0
	ticketInner  = ticketW - 2*ticketMargin
	// The timbre fits 64 mm, so 8 mm of paper stay blank on each side
	// (the SII's quiet zone is 6.35 mm).
	ticketStampW = 64.0
	ticketStampH = 40.0
)

// ticketCopy draws one copy on a page as long as it needs: laid out once
// to measure, then drawn.
func (r *renderer) ticketCopy(f *fpdf.Fpdf, cedible bool) {
	r.cedible = cedible
	h := r.ticketBody(&pen{f: f, dry: true}) + ticketMargin
	f.AddPageFormat("P", fpdf.SizeType{Wd: ticketW, Ht: h})
	r.ticketBody(&pen{f: f, pageH: h})
}

// ticketBody lays the ticket out from the top and returns where it ends.
func (r *renderer) ticketBody(p *pen) float64 {
	d := r.d
	x, w := ticketMargin, ticketInner
	y := ticketMargin
	p.textColor(0, 0, 0)
	p.drawColor(0, 0, 0)

	p.font("B", 10)
	y = p.para(x, y, w, d.Issuer.Name, "C")
	p.font("", 7.5)
	for _, l := range r.issuerLines() {
		y = p.para(x, y, w, l, "C")
	}

	// The box: RUT, document, folio; the SII office under it.
	y += 2
	const boxX, boxW = ticketMargin + 4, ticketInner - 8
	p.font("B", 9)
	name := p.wrap(documentNames[d.Type], boxW-4)
	boxH := float64(2+len(name))*p.lh() + 3
	p.lineWidth(0.5)
	p.rect(boxX, y, boxW, boxH, "D")
	by := y + 1.5
	p.text(boxX, by, boxW, "R.U.T.: "+dotted(d.Issuer.RUT), "C")
	by += p.lh()
	for _, l := range name {
		p.text(boxX, by, boxW, l, "C")
		by += p.lh()
	}
	p.text(boxX, by, boxW, "N° "+d.Folio, "C")
	y += boxH + 1
	p.font("B", 8)
	p.text(x, y, w, r.office, "C")
	y += p.lh() + 1

	receiver, terms := r.receiverPairs()
	y = r.separator(p, y)
	p.font("", 7.5)
	y = r.pairs(p, append(terms, receiver...), x, y, w, 22)

	// Detail: name and description, then quantity × price and amount.
	y = r.separator(p, y)
	for _, l := range d.Lines {
		p.font("B", 7.5)
		y = p.para(x, y, w, l.Name, "L")
		if l.Description != "" {
			p.font("", 7)
			y = p.para(x, y, w, l.Description, "L")
		}
		p.font("", 7.5)
		qty := strings.TrimSpace(number(l.Quantity) + " " + l.Unit)
		if l.Price != "" {
			qty += " x " + number(l.Price)
		}
		if l.Exempt {
			qty += " (exento)"
		}
		p.text(x, y, w, qty, "L")
		p.text(x, y, w, number(l.Amount), "R")
		y += p.lh()
		if adj := lineAdjustment(l); adj != "" {
			p.text(x, y, w, adj, "R")
			y += p.lh()
		}
		y += 0.8
	}
	for _, g := range d.Globals {
		p.font("", 7.5)
		y = p.para(x, y, w, globalText(g), "L")
	}

	y = r.separator(p, y)
	for i, row := range r.totalRows() {
		style := ""
		if i == len(r.totalRows())-1 {
			style = "B"
		}
		p.font(style, 8.5)
		p.text(x, y, w, row[0], "L")
		p.text(x, y, w, row[1], "R")
		y += p.lh()
	}

	if len(d.References) > 0 {
		y = r.separator(p, y)
		p.font("B", 7.5)
		p.text(x, y, w, "REFERENCIAS", "L")
		y += p.lh()
		p.font("", 7)
		for _, ref := range d.References {
			y = p.para(x, y, w, referenceText(ref), "L")
		}
	}

	// The timbre, centred, with its quiet zone above and below.
	y = r.separator(p, y)
	y = r.drawStamp(p, (ticketW-r.stamp.w)/2, y+QuietZone)

	if r.cedible {
		y = r.drawAcuse(p, x, y+3, w)
		p.font("B", 12)
		p.text(x, y+2, w, r.legend, "C")
		y += 2 + p.lh()
	}
	return y
}

// separator draws a thin rule across the ticket and returns the y under it.
func (r *renderer) separator(p *pen, y float64) float64 {
	y += 1.5
	p.lineWidth(0.2)
	p.line(ticketMargin, y, ticketW-ticketMargin, y)
	return y + 1.5
}
