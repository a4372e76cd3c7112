package request

import "math/big"

// Amounts are the totals a request's lines and adjustments add up to, computed
// by the SII's rules (docs/sii-protocol.md §4.3–4.5).
type Amounts struct {
	Net    int64 // affected amount after global adjustments (MntNeto)
	Exempt int64 // exempt amount after global adjustments (MntExe)
	VAT    int64 // round_half_up(Net × rate / 100)
	Total  int64 // Net + Exempt + VAT
}

// LineGross is round_half_up(quantity × unit_price), the line amount before
// discounts. ok is false when the line has no quantity and price.
func (l Line) LineGross() (gross int64, ok bool) {
	if !l.Quantity.Valid() || !l.UnitPrice.Valid() {
		return 0, false
	}
	return RoundHalfUp(new(big.Rat).Mul(&l.Quantity.r, &l.UnitPrice.r)), true
}

// PercentDiscount is round_half_up(quantity × unit_price × pct / 100).
func (l Line) PercentDiscount() (int64, bool) {
	if !l.Quantity.Valid() || !l.UnitPrice.Valid() || !l.DiscountPercent.Valid() {
		return 0, false
	}
	x := new(big.Rat).Mul(&l.Quantity.r, &l.UnitPrice.r)
	x.Mul(x, &l.DiscountPercent.r)
	x.Quo(x, big.NewRat(100, 1))
	return RoundHalfUp(x), true
}

// Discount is the line's discount in CLP: the amount given, or the one the
// percent yields.
func (l Line) Discount() int64 {
	if l.DiscountAmount > 0 {
		return l.DiscountAmount
	}
	d, _ := l.PercentDiscount()
	return d
}

// LineExempt reports whether a line counts as exempt: flagged, or on a 34,
// where every line is exempt.
func (r *Request) LineExempt(l Line) bool {
	return l.Exempt || r.Document.Type == TypeFacturaExenta
}

// AdjustmentAmount is what a global adjustment takes off (or adds to) its base
// in CLP: a percent of the base rounded half up, or the value itself.
func AdjustmentAmount(a Adjustment, base int64) int64 {
	if a.ValueType == "%" {
		x := new(big.Rat).Mul(big.NewRat(base, 1), &a.Value.r)
		return RoundHalfUp(x.Quo(x, big.NewRat(100, 1)))
	}
	return RoundHalfUp(&a.Value.r)
}

// Compute adds up the lines and global adjustments the way the SII does.
func (r *Request) Compute() Amounts {
	var affected, exempt int64
	for _, l := range r.Lines {
		if r.LineExempt(l) {
			exempt += l.Amount
		} else {
			affected += l.Amount
		}
	}
	baseAffected, baseExempt := affected, exempt
	for _, a := range r.Adjustments {
		base, target := baseAffected, &affected
		if a.Exempt || r.Document.Type == TypeFacturaExenta {
			base, target = baseExempt, &exempt
		}
		amt := AdjustmentAmount(a, base)
		if a.Kind == "discount" {
			*target -= amt
		} else {
			*target += amt
		}
	}
	out := Amounts{Net: affected, Exempt: exempt}
	if r.Document.Type != TypeFacturaExenta {
		out.VAT = RoundHalfUp(new(big.Rat).Mul(big.NewRat(out.Net, 1), big.NewRat(DefaultVATRate, 100)))
	}
	out.Total = out.Net + out.Exempt + out.VAT
	return out
}

var bigHundred = big.NewRat(100, 1)
