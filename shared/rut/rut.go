// Package rut parses, validates and formats Chilean RUTs (Rol Único Tributario)
// the way the SII writes them in XML: digits, a hyphen and the check digit,
// no dots, no leading zeros, an upper-case K.
package rut

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RUT is a validated RUT: the body number and its check digit.
type RUT struct {
	Number int64 // body, without the check digit, > 0
	DV     byte  // check digit: '0'..'9' or 'K'
}

// SII is the RUT of the Servicio de Impuestos Internos (Carátula/RutReceptor).
var SII = RUT{Number: 60803000, DV: 'K'}

// Errors returned by Parse. They are wrapped with the offending text.
var (
	ErrFormat     = errors.New("not a RUT: expected digits, a hyphen and the check digit, like 76086428-5 (no dots, no leading zeros, upper-case K)")
	ErrCheckDigit = errors.New("check digit does not match (módulo 11)")
)

// CheckDigit computes the módulo-11 check digit of a RUT body.
func CheckDigit(number int64) byte {
	sum, factor := int64(0), int64(2)
	for n := number; n > 0; n /= 10 {
		sum += (n % 10) * factor
		factor++
		if factor > 7 {
			factor = 2
		}
	}
	switch r := 11 - sum%11; r {
	case 11:
		return '0'
	case 10:
		return 'K'
	default:
		return byte('0' + r)
	}
}

// Parse reads a RUT in the SII's XML form ("76086428-5") and checks its digit.
func Parse(s string) (RUT, error) {
	body, dv, ok := strings.Cut(s, "-")
	if !ok || len(body) == 0 || len(body) > 8 || len(dv) != 1 || body[0] == '0' {
		return RUT{}, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	for i := 0; i < len(body); i++ {
		if body[i] < '0' || body[i] > '9' {
			return RUT{}, fmt.Errorf("%q: %w", s, ErrFormat)
		}
	}
	d := dv[0]
	if !(d >= '0' && d <= '9') && d != 'K' {
		return RUT{}, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	n, err := strconv.ParseInt(body, 10, 64)
	if err != nil {
		return RUT{}, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	if want := CheckDigit(n); want != d {
		return RUT{}, fmt.Errorf("%q: %w (expected %c)", s, ErrCheckDigit, want)
	}
	return RUT{Number: n, DV: d}, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) RUT {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// New builds a RUT from a body number, computing its check digit.
func New(number int64) RUT { return RUT{Number: number, DV: CheckDigit(number)} }

// String formats the RUT as the SII writes it: "76086428-5".
func (r RUT) String() string {
	if r.Number == 0 {
		return ""
	}
	return strconv.FormatInt(r.Number, 10) + "-" + string(r.DV)
}

// IsZero reports whether r is the zero value.
func (r RUT) IsZero() bool { return r.Number == 0 }

// NumberString is the body without the check digit, as DTEUpload's rutSender wants it.
func (r RUT) NumberString() string { return strconv.FormatInt(r.Number, 10) }

// DVString is the check digit as a one-character string.
func (r RUT) DVString() string { return string(r.DV) }

// MarshalText implements encoding.TextMarshaler.
func (r RUT) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with full validation.
func (r *RUT) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*r = p
	return nil
}
