package dte

import (
	"fmt"
	"unicode/utf8"
)

// toLatin1 converts UTF-8 to ISO-8859-1 in place (ISO-8859-1 is never
// longer). Every text was checked field by field before, so a failure here
// is a bug, reported rather than hidden.
func toLatin1(b []byte) ([]byte, error) {
	j := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			b[j] = c
			i++
			j++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size <= 1) || r > 0xFF {
			return nil, fmt.Errorf("character %q at byte %d cannot be written in ISO-8859-1", r, i)
		}
		b[j] = byte(r)
		i += size
		j++
	}
	return b[:j], nil
}
