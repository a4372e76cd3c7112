package printout

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// cp1252Extra are the characters outside Latin-1 that the PDF core
// fonts (WinAnsiEncoding, cp1252) still have: typographic quotes and
// dashes a user may paste into a glosa.
var cp1252Extra = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// winAnsi converts text to the bytes the PDF's core fonts print
// (WinAnsiEncoding): Latin-1 as is, the cp1252 extras, tabs and line
// breaks as spaces. It fails, naming the character, for anything else (a
// DTE in ISO-8859-1 never has it; one declared UTF-8 may).
func winAnsi(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b = append(b, ' ')
		case r < 0x20 || (r >= 0x7F && r <= 0x9F):
			return "", fmt.Errorf("control character U+%04X cannot be printed", r)
		case r <= 0xFF:
			b = append(b, byte(r))
		default:
			c, ok := cp1252Extra[r]
			if !ok {
				return "", fmt.Errorf("character %q (U+%04X) cannot be printed with the PDF's Latin-1 fonts", r, r)
			}
			b = append(b, c)
		}
	}
	return string(b), nil
}

// groupThousands writes the integer part of a number with dots between
// thousands, the Chilean way: "1234567" → "1.234.567".
func groupThousands(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if len(digits) <= 3 {
		if neg {
			return "-" + digits
		}
		return digits
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 && !(neg && b.Len() == 1) {
			b.WriteByte('.')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// number formats a decimal as written in the DTE ("12990.50") the
// Chilean way ("12.990,5"): thousands with dots, decimals after a comma,
// trailing zeros dropped. Text that is not a plain decimal is kept.
func number(s string) string {
	if s == "" {
		return ""
	}
	intPart, frac, _ := strings.Cut(s, ".")
	body := strings.TrimPrefix(intPart, "-")
	if body == "" || strings.Trim(body, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return s
	}
	frac = strings.TrimRight(frac, "0")
	out := groupThousands(intPart)
	if frac != "" {
		out += "," + frac
	}
	return out
}

// pesos formats an amount: "$ 207.618".
func pesos(s string) string {
	if s == "" {
		return ""
	}
	return "$ " + number(s)
}

var months = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
	"septiembre", "octubre", "noviembre", "diciembre"}

// longDate writes a DTE date in Spanish: "27 de noviembre de 2026".
func longDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%d de %s de %d", t.Day(), months[t.Month()-1], t.Year())
}

// shortDate writes a DTE date as "27-11-2026".
func shortDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("02-01-2006")
}
