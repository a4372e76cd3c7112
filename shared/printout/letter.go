package printout

import (
	"fmt"
	"math"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// Letter-size layout, millimetres.
const (
	letterW      = 215.9
	letterH      = 279.4
	letterMargin = 12.0
	letterInner  = letterW - 2*letterMargin
	// The timbre: at least 2 cm from the left edge (we leave 2.5), within
	// 85 × 38 mm (the SII's bounds are ≥ 5 × 2 cm and ≤ about 9 × 4 cm).
	letterStampX = 25.0
	letterStampW = 85.0
	letterStampH = 38.0
	// The right column of the footer: totals and the acuse de recibo.
	letterRightX = 130.0
	letterRightW = letterW - letterMargin - letterRightX
)

// column is one column of the detail table.
type column struct {
	title string
	w     float64
	align string
}

var letterColumns = []column{
	{"Código", 20, "L"}, {"Descripción", 79.9, "L"}, {"Cantidad", 18, "R"}, {"Unidad", 13, "C"},
	{"P. unitario", 22, "R"}, {"Dcto./Rec.", 18, "R"}, {"Valor", 21, "R"},
}

// letter draws one copy (the original, or the cedible copy) on as many
// letter pages as its detail needs; the footer with the timbre goes on
// the last one.
func (r *renderer) letter(f *fpdf.Fpdf, cedible bool) {
	r.cedible = cedible
	p := &pen{f: f, pageH: letterH}
	first := f.PageCount() + 1
	// Rows may fill a page down to the page number, except on the last
	// page, whose bottom is the footer's: when the content ends inside the
	// footer's space, the footer goes on a page of its own.
	limit := letterH - letterMargin - 6
	footerTop := letterH - letterMargin - r.letterFooterHeight(p)

	f.AddPage()
	y := r.letterHeader(p)
	y = r.letterReceiver(p, y+3)
	newPage := func() float64 {
		f.AddPage()
		return r.letterHeader(p) + 3
	}
	y = r.letterDetail(p, y+4, limit, newPage)

	// Global discounts and surcharges, then the references.
	var notes []string
	for _, g := range r.d.Globals {
		notes = append(notes, globalText(g))
	}
	refs := make([]string, 0, len(r.d.References))
	for _, ref := range r.d.References {
		refs = append(refs, referenceText(ref))
	}
	p.font("", 8)
	y += 2
	for _, n := range notes {
		lines := p.wrap(n, letterInner)
		if y+float64(len(lines))*p.lh() > limit {
			y = newPage()
			p.font("", 8)
		}
		y = p.para(letterMargin, y, letterInner, n, "L")
	}
	if len(refs) > 0 {
		p.font("B", 8)
		if y+4*p.lh() > limit {
			y = newPage()
			p.font("B", 8)
		}
		y += 2
		p.text(letterMargin, y, letterInner, "REFERENCIAS", "L")
		y += p.lh()
		p.font("", 8)
		for _, ref := range refs {
			lines := p.wrap(ref, letterInner-4)
			if y+float64(len(lines))*p.lh() > limit {
				y = newPage()
				p.font("", 8)
			}
			p.text(letterMargin, y, 4, "•", "L")
			y = p.para(letterMargin+4, y, letterInner-4, ref, "L")
		}
	}
	if y > footerTop {
		newPage()
	}
	r.letterFooter(p, footerTop)

	if pages := f.PageCount() - first + 1; pages > 1 {
		for i := range pages {
			f.SetPage(first + i)
			p.font("", 7)
			p.textColor(0, 0, 0)
			p.text(letterMargin, letterH-8, letterInner, fmt.Sprintf("Página %d de %d", i+1, pages), "R")
		}
		f.SetPage(f.PageCount())
	}
}

// letterHeader draws the issuer block and the red box (RUT, document,
// folio) with the SII office under it; it returns the y under both.
func (r *renderer) letterHeader(p *pen) float64 {
	d := r.d
	const boxW = 72.0
	bx := letterW - letterMargin - boxW
	p.font("B", 11)
	name := p.wrap(documentNames[d.Type], boxW-6)
	lines := 2 + len(name)
	boxH := float64(lines)*p.lh()*1.15 + 6
	p.drawColor(204, 0, 0)
	p.lineWidth(0.6)
	p.rect(bx, letterMargin, boxW, boxH, "D")
	p.textColor(204, 0, 0)
	y := letterMargin + 3
	step := p.lh() * 1.15
	p.text(bx, y, boxW, "R.U.T.: "+dotted(d.Issuer.RUT), "C")
	y += step
	for _, l := range name {
		p.text(bx, y, boxW, l, "C")
		y += step
	}
	p.text(bx, y, boxW, "N° "+d.Folio, "C")
	p.font("B", 9)
	oy := letterMargin + boxH + 1.5
	p.text(bx, oy, boxW, r.office, "C")
	oy += p.lh()

	p.textColor(0, 0, 0)
	p.drawColor(0, 0, 0)
	p.lineWidth(0.2)
	lw := bx - letterMargin - 6
	p.font("B", 13)
	ly := p.para(letterMargin, letterMargin, lw, d.Issuer.Name, "L") + 0.5
	p.font("", 8.5)
	for _, l := range r.issuerLines() {
		ly = p.para(letterMargin, ly, lw, l, "L")
	}
	return math.Max(ly, oy)
}

// letterReceiver draws the receiver and the terms side by side in a box.
func (r *renderer) letterReceiver(p *pen, y float64) float64 {
	receiver, terms := r.receiverPairs()
	const leftW, rightX = 118.0, letterMargin + 122.0
	rightW := letterW - letterMargin - rightX
	top := y
	p.font("", 8)
	ly := r.pairs(p, receiver, letterMargin+2, y+2, leftW-2, 20)
	ry := r.pairs(p, terms, rightX, y+2, rightW-2, 24)
	bottom := math.Max(ly, ry) + 1.5
	p.drawColor(120, 120, 120)
	p.lineWidth(0.2)
	p.rect(letterMargin, top, letterInner, bottom-top, "D")
	p.drawColor(0, 0, 0)
	return bottom
}

// pairs draws label/value pairs, values wrapped beside their labels, and
// returns the y under them.
func (r *renderer) pairs(p *pen, list []pair, x, y, w, labelW float64) float64 {
	for _, pr := range list {
		p.font("B", 8)
		p.text(x, y, labelW, pr.label, "L")
		p.font("", 8)
		y = p.para(x+labelW, y, w-labelW, pr.value, "L")
	}
	return y
}

// letterDetail draws the detail table, starting a new page (and header)
// when a row would cross limit, and returns the y under the table.
func (r *renderer) letterDetail(p *pen, y, limit float64, newPage func() float64) float64 {
	head := func(y float64) float64 {
		p.font("B", 7.5)
		h := 6.0
		if !p.dry {
			p.f.SetFillColor(230, 230, 230)
		}
		p.rect(letterMargin, y, letterInner, h, "F")
		x := letterMargin
		for _, c := range letterColumns {
			p.text(x+1, y+1.3, c.w-2, c.title, c.align)
			x += c.w
		}
		return y + h + 1
	}
	y = head(y)
	for _, l := range r.d.Lines {
		cells := r.letterCells(p, l)
		h := 0.0
		for _, c := range cells {
			h = math.Max(h, c.height)
		}
		h += 1.5
		if y+h > limit {
			y = head(newPage() + 2)
		}
		x := letterMargin
		for i, c := range cells {
			cy := y
			for _, part := range c.parts {
				p.font(part.style, part.size)
				for _, ln := range part.lines {
					p.text(x+1, cy, letterColumns[i].w-2, ln, letterColumns[i].align)
					cy += p.lh()
				}
			}
			x += letterColumns[i].w
		}
		y += h
		p.drawColor(200, 200, 200)
		p.line(letterMargin, y-0.6, letterMargin+letterInner, y-0.6)
		p.drawColor(0, 0, 0)
	}
	return y
}

// cell is the content of one table cell: runs of lines in one font.
type cell struct {
	parts  []cellPart
	height float64
}

type cellPart struct {
	style string
	size  float64
	lines []string
}

func (r *renderer) letterCells(p *pen, l line) []cell {
	mk := func(col int, parts ...cellPart) cell {
		c := cell{}
		w := letterColumns[col].w - 2
		for _, pt := range parts {
			if len(pt.lines) == 0 {
				continue
			}
			p.font(pt.style, pt.size)
			var wrapped []string
			for _, s := range pt.lines {
				wrapped = append(wrapped, p.wrap(s, w)...)
			}
			pt.lines = wrapped
			c.height += float64(len(wrapped)) * p.lh()
			c.parts = append(c.parts, pt)
		}
		return c
	}
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var exempt []string
	if l.Exempt {
		exempt = []string{"Exento"}
	}
	return []cell{
		mk(0, cellPart{"", 7.5, one(strings.Join(l.Codes, " "))}),
		mk(1, cellPart{"B", 8, one(l.Name)}, cellPart{"", 7.5, one(l.Description)}, cellPart{"I", 7, exempt}),
		mk(2, cellPart{"", 8, one(number(l.Quantity))}),
		mk(3, cellPart{"", 8, one(l.Unit)}),
		mk(4, cellPart{"", 8, one(number(l.Price))}),
		mk(5, cellPart{"", 7.5, one(lineAdjustment(l))}),
		mk(6, cellPart{"", 8, one(number(l.Amount))}),
	}
}

// letterFooterHeight is the height the footer of the last page takes.
func (r *renderer) letterFooterHeight(p *pen) float64 {
	p.font("", 8)
	left := QuietZone + r.stamp.h + QuietZone + 3*p.lh()
	right := 2 + float64(len(r.totalRows()))*5.5
	if r.cedible {
		right += 4 + r.acuseHeight(p, letterRightW) + 9
	}
	return math.Max(left, right) + 2
}

// letterFooter draws the timbre on the left and the totals (and, on the
// cedible copy, the acuse de recibo and the legend) on the right, from
// top down to the bottom margin.
func (r *renderer) letterFooter(p *pen, top float64) {
	r.drawStamp(p, letterStampX, top+QuietZone)
	y := r.drawTotals(p, letterRightX, top+2, letterRightW)
	if r.cedible {
		y = r.drawAcuse(p, letterRightX, y+4, letterRightW)
		p.font("B", 14)
		p.textColor(0, 0, 0)
		p.text(letterRightX, y+2, letterRightW, r.legend, "C")
	}
}

// drawTotals draws the totals box and returns the y under it.
func (r *renderer) drawTotals(p *pen, x, y, w float64) float64 {
	rows := r.totalRows()
	const rowH = 5.5
	p.drawColor(0, 0, 0)
	p.lineWidth(0.3)
	p.rect(x, y, w, float64(len(rows))*rowH, "D")
	for i, row := range rows {
		style := ""
		if i == len(rows)-1 {
			style = "B"
			p.line(x, y, x+w, y)
		}
		p.font(style, 8.5)
		p.text(x+2, y+1.2, w/2, row[0], "L")
		p.text(x+w/2, y+1.2, w/2-2, row[1], "R")
		y += rowH
	}
	return y
}

// acuseHeight is the height of the acuse de recibo box at width w.
func (r *renderer) acuseHeight(p *pen, w float64) float64 {
	p.font("", 6)
	return 5 + float64(len(acuseFields))*6 + float64(len(p.wrap(acuseText, w-4)))*p.lh() + 2
}

// drawAcuse draws the acuse de recibo: blanks for the receiver and the
// Ley 19.983 declaration, boxed; it returns the y under the box.
func (r *renderer) drawAcuse(p *pen, x, y, w float64) float64 {
	h := r.acuseHeight(p, w)
	p.drawColor(0, 0, 0)
	p.lineWidth(0.3)
	p.rect(x, y, w, h, "D")
	p.font("B", 8)
	p.text(x, y+1.2, w, "ACUSE DE RECIBO", "C")
	fy := y + 5
	p.lineWidth(0.15)
	for _, label := range acuseFields {
		p.font("", 8)
		p.text(x+2, fy+1.5, 16, label, "L")
		p.line(x+18, fy+5, x+w-3, fy+5)
		fy += 6
	}
	p.font("", 6)
	p.para(x+2, fy+0.5, w-4, acuseText, "L")
	return y + h
}
