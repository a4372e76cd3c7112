package printout

import (
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/dtecl/pipeline/shared/pdf417"
)

// ptMM is one typographic point in millimetres.
const ptMM = 25.4 / 72

// pen draws on the current page in millimetres from the top left, with
// the core Helvetica fonts and texts already in WinAnsiEncoding. In a dry
// run it only measures: the ticket is laid out twice, once to learn its
// height and once on a page of that height.
type pen struct {
	f     *fpdf.Fpdf
	dry   bool
	size  float64 // current font size, points
	pageH float64
}

func (p *pen) font(style string, size float64) {
	p.f.SetFont("Helvetica", style, size)
	p.size = size
}

// lh is the line height of the current font.
func (p *pen) lh() float64 { return p.size * ptMM * 1.2 }

// width measures UTF-8 text in the current font.
func (p *pen) width(s string) float64 { return p.f.GetStringWidth(tr(s)) }

func (p *pen) textColor(r, g, b int) {
	if !p.dry {
		p.f.SetTextColor(r, g, b)
	}
}

func (p *pen) drawColor(r, g, b int) {
	if !p.dry {
		p.f.SetDrawColor(r, g, b)
	}
}

// text writes one line of UTF-8 text whose top is y, aligned in
// [x, x+w] (L, C or R).
func (p *pen) text(x, y, w float64, s, align string) {
	if p.dry || s == "" {
		return
	}
	switch align {
	case "C":
		x += (w - p.width(s)) / 2
	case "R":
		x += w - p.width(s)
	}
	p.f.Text(x, y+p.size*ptMM*0.85, tr(s))
}

// para writes s wrapped to w, aligned, from top y, and returns the y
// under it.
func (p *pen) para(x, y, w float64, s, align string) float64 {
	for _, l := range p.wrap(s, w) {
		p.text(x, y, w, l, align)
		y += p.lh()
	}
	return y
}

// wrap splits s into lines no wider than w, at spaces where it can and
// inside a word that alone is wider.
func (p *pen) wrap(s string, w float64) []string {
	if s == "" {
		return nil
	}
	if p.width(s) <= w {
		return []string{s}
	}
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		cand := word
		if cur != "" {
			cand = cur + " " + word
		}
		if p.width(cand) <= w {
			cur = cand
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
		}
		for p.width(word) > w {
			rs := []rune(word)
			n := len(rs) - 1
			for n > 1 && p.width(string(rs[:n])) > w {
				n--
			}
			lines = append(lines, string(rs[:n]))
			word = string(rs[n:])
		}
		cur = word
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

func (p *pen) rect(x, y, w, h float64, style string) {
	if !p.dry {
		p.f.Rect(x, y, w, h, style)
	}
}

func (p *pen) line(x1, y1, x2, y2 float64) {
	if !p.dry {
		p.f.Line(x1, y1, x2, y2)
	}
}

func (p *pen) lineWidth(w float64) {
	if !p.dry {
		p.f.SetLineWidth(w)
	}
}

// symbol draws a PDF417 symbol with its top left at x, y: modules x mm
// wide, rows 3x high (the SII's 3:1), each bar a filled rectangle. The
// content is written in module units under one transformation, so a bar
// costs a dozen bytes and the drawing is exact at any printer resolution.
func (p *pen) symbol(s *pdf417.Symbol, x, y, module float64) {
	if p.dry {
		return
	}
	k := p.f.GetConversionRatio()
	b := make([]byte, 0, 64+s.Rows*s.Columns*60)
	b = append(b, "q 0 g "...)
	b = strconv.AppendFloat(b, module*k, 'f', 4, 64)
	b = append(b, " 0 0 "...)
	b = strconv.AppendFloat(b, -3*module*k, 'f', 4, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, x*k, 'f', 3, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, (p.pageH-y)*k, 'f', 3, 64)
	b = append(b, " cm\n"...)
	for r := range s.Rows {
		s.Bars(r, func(bx, bw int) {
			b = strconv.AppendInt(b, int64(bx), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(r), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(bw), 10)
			b = append(b, " 1 re\n"...)
		})
	}
	b = append(b, "f Q\n"...)
	p.f.RawWriteStr(string(b))
}
