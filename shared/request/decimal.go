package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

// Decimal is an exact decimal number as written in the request JSON
// (quantities, unit prices, percentages). It keeps the value as a rational so
// that amounts are computed the way the SII computes them, without binary
// floating point.
type Decimal struct {
	r     big.Rat
	valid bool
}

// NewDecimal parses a plain decimal ("12", "0.5", "1500.25").
func NewDecimal(s string) (Decimal, error) {
	var d Decimal
	if err := d.parse(s); err != nil {
		return Decimal{}, err
	}
	return d, nil
}

// MustDecimal is NewDecimal for constants; it panics on error.
func MustDecimal(s string) Decimal {
	d, err := NewDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

var errNotDecimal = errors.New("not a decimal number")

func (d *Decimal) parse(s string) error {
	if s == "" || strings.ContainsAny(s, "/ ") {
		return errNotDecimal
	}
	if _, ok := d.r.SetString(s); !ok {
		return errNotDecimal
	}
	d.valid = true
	return nil
}

// Valid reports whether the decimal was set.
func (d Decimal) Valid() bool { return d.valid }

// Rat returns the exact value.
func (d Decimal) Rat() *big.Rat { return new(big.Rat).Set(&d.r) }

// Sign is -1, 0 or +1.
func (d Decimal) Sign() int { return d.r.Sign() }

// Scale is the number of decimal places needed to write the value exactly, or
// -1 when it has no finite decimal expansion.
func (d Decimal) Scale() int {
	den := new(big.Int).Set(d.r.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	twos, fives := 0, 0
	m := new(big.Int)
	for m.Mod(den, two).Sign() == 0 {
		den.Quo(den, two)
		twos++
	}
	for m.Mod(den, five).Sign() == 0 {
		den.Quo(den, five)
		fives++
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		return -1
	}
	return max(twos, fives)
}

// IntegerDigits is the number of digits before the decimal point.
func (d Decimal) IntegerDigits() int {
	q := new(big.Int).Quo(d.r.Num(), d.r.Denom())
	q.Abs(q)
	if q.Sign() == 0 {
		return 1
	}
	return len(q.String())
}

// String writes the value in plain notation with no trailing zeros, as the
// SII's decimal types expect ("2", "0.5", "1500.25").
func (d Decimal) String() string {
	if !d.valid {
		return ""
	}
	sc := d.Scale()
	if sc < 0 {
		sc = 6
	}
	s := d.r.FloatString(sc)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// MarshalJSON writes the value as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !d.valid {
		return []byte("null"), nil
	}
	return []byte(d.String()), nil
}

// UnmarshalJSON accepts a JSON number (also in exponent form). Strings are
// refused: a quantity is a number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*d = Decimal{}
		return nil
	}
	var n json.Number
	if len(b) == 0 || b[0] == '"' {
		return errNotDecimal
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return errNotDecimal
	}
	return d.parse(n.String())
}

// RoundHalfUp rounds a non-negative rational to the nearest integer, halves
// up, which is how the SII rounds CLP amounts.
func RoundHalfUp(r *big.Rat) int64 {
	num := new(big.Int).Mul(r.Num(), big.NewInt(2))
	num.Add(num, r.Denom())
	den := new(big.Int).Mul(r.Denom(), big.NewInt(2))
	q := new(big.Int)
	m := new(big.Int)
	q.DivMod(num, den, m) // floor((2n + d) / 2d) = floor(x + 1/2) for x ≥ 0
	return q.Int64()
}
