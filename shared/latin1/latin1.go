// Package latin1 handles the SII's text encoding, ISO-8859-1: checking that a
// text can be represented in it, and converting between it and UTF-8.
package latin1

import (
	"fmt"
	"unicode/utf8"
)

// InvalidCharError reports the first character of a text that ISO-8859-1 (or
// XML 1.0) cannot carry.
type InvalidCharError struct {
	Rune   rune
	Offset int // byte offset in the UTF-8 text
}

func (e *InvalidCharError) Error() string {
	if e.Rune == utf8.RuneError {
		return fmt.Sprintf("invalid UTF-8 at byte %d", e.Offset)
	}
	if e.Rune <= 0xFF {
		return fmt.Sprintf("control character U+%04X at byte %d is not allowed in an SII document", e.Rune, e.Offset)
	}
	return fmt.Sprintf("character %q (U+%04X) at byte %d cannot be written in ISO-8859-1, the SII's encoding", e.Rune, e.Rune, e.Offset)
}

// Check returns nil when every character of s can be written in ISO-8859-1
// and is allowed in XML text: Latin-1 letters (ñ, á, ü, ...) pass; emoji,
// curly quotes, the euro sign and control characters other than tab and new
// line do not.
func Check(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return &InvalidCharError{Rune: r, Offset: i}
			}
		}
		if !allowed(r) {
			return &InvalidCharError{Rune: r, Offset: i}
		}
	}
	return nil
}

func allowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20: // C0 controls are not XML 1.0 characters
		return false
	case r >= 0x7F && r <= 0x9F: // DEL and C1 controls: legal bytes, never real text
		return false
	default:
		return r <= 0xFF
	}
}

// Encode converts UTF-8 text to ISO-8859-1 bytes. It fails on the first
// character that Check would reject.
func Encode(s string) ([]byte, error) {
	if err := Check(s); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out, nil
}

// EncodeBytes is Encode for UTF-8 bytes (e.g. serialized XML). Unlike Encode it
// only requires Latin-1 range characters, so it can carry any text that was
// already checked field by field.
func EncodeBytes(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return nil, &InvalidCharError{Rune: r, Offset: i}
		}
		if r > 0xFF {
			return nil, &InvalidCharError{Rune: r, Offset: i}
		}
		out = append(out, byte(r))
		i += size
	}
	return out, nil
}

// Decode converts ISO-8859-1 bytes to UTF-8. Every byte is a valid Latin-1
// character, so it cannot fail.
func Decode(b []byte) []byte {
	n := 0
	for _, c := range b {
		if c >= utf8.RuneSelf {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}
