package printout

import (
	"fmt"
	"math"

	"github.com/dtecl/pipeline/shared/pdf417"
)

// The SII's rules for printing the timbre (docs/sii-printing.md §2).
const (
	// MinModule is the narrowest module the SII allows: 6.7 mil.
	MinModule = 0.17
	// maxModule keeps short payloads from growing huge modules.
	maxModule = 0.30
	// QuietZone is the blank margin the SII asks for on every side of
	// the symbol: 0.25 in.
	QuietZone = 6.35
)

// stamp is the timbre's symbol with its printed size.
type stamp struct {
	sym    *pdf417.Symbol
	module float64 // X, mm; rows are 3X high
	w, h   float64 // the symbol, mm (without the quiet zone)
}

// fitStamp encodes the timbre at the SII's level 5 choosing the number of
// columns that gives the widest modules (up to maxModule) within maxW ×
// maxH millimetres; among equally good layouts it takes the one whose
// shape is nearest 2.5:1. It fails when even the best layout would need
// modules narrower than the SII's minimum.
func fitStamp(ted []byte, maxW, maxH float64) (*stamp, error) {
	bestCols, bestX, bestShape := 0, 0.0, math.Inf(1)
	for cols := pdf417.MinColumns; cols <= pdf417.MaxColumns; cols++ {
		rows, ok := pdf417.RowsFor(len(ted), cols, pdf417.LevelSII)
		if !ok {
			continue
		}
		width := float64(pdf417.Width(cols))
		x := math.Min(maxModule, math.Min(maxW/width, maxH/float64(3*rows)))
		x = math.Floor(x*1000) / 1000 // whole micrometres: equal layouts compare equal
		shape := math.Abs(width/float64(3*rows) - 2.5)
		if x > bestX || (x == bestX && shape < bestShape) {
			bestCols, bestX, bestShape = cols, x, shape
		}
	}
	if bestCols == 0 {
		return nil, fmt.Errorf("%w: the timbre (%d bytes) does not fit in one PDF417 symbol at error correction level 5", ErrCannotPrint, len(ted))
	}
	if bestX < MinModule {
		return nil, fmt.Errorf("%w: the timbre (%d bytes) needs modules of %.3f mm to fit in %.0f × %.0f mm; the SII's minimum is %.2f mm",
			ErrCannotPrint, len(ted), bestX, maxW, maxH, MinModule)
	}
	sym, err := pdf417.Encode(ted, bestCols, pdf417.LevelSII)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotPrint, err)
	}
	return &stamp{sym: sym, module: bestX, w: float64(sym.Width()) * bestX, h: float64(3*sym.Rows) * bestX}, nil
}

// drawStamp draws the symbol with its top left at x, y and the captions
// the SII asks for centred under it, a quiet zone below, and returns the
// y under the captions.
func (r *renderer) drawStamp(p *pen, x, y float64) float64 {
	s := r.stamp
	p.symbol(s.sym, x, y, s.module)
	y += s.h + QuietZone
	cx, cw := x-10, s.w+20
	p.textColor(0, 0, 0)
	p.font("B", 8)
	p.text(cx, y, cw, "Timbre Electrónico SII", "C")
	y += p.lh()
	p.font("", 8)
	p.text(cx, y, cw, r.resolutionLine(), "C")
	y += p.lh()
	p.text(cx, y, cw, "Verifique documento: www.sii.cl", "C")
	return y + p.lh()
}

// resolutionLine is the SII resolution that authorises the issuer, as
// printed under the timbre: "Res. 80 de 2014".
func (r *renderer) resolutionLine() string {
	year := r.res.Date
	if len(year) >= 4 {
		year = year[:4]
	}
	return fmt.Sprintf("Res. %d de %s", r.res.Number, year)
}
