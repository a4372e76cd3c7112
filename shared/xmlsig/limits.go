package xmlsig

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits bound what a parser is asked to read, so that a hostile document
// is refused before it costs time or memory: a document is read into a
// tree only after a single pass over its bytes found it within the
// limits. Zero fields take the defaults.
type Limits struct {
	// MaxBytes is the largest document accepted. The SII publishes no
	// byte limit for an upload; the default (DefaultMaxBytes) is the one
	// the project's SII simulator applies to DTEUpload and holds the
	// largest real envelope (2000 DTEs) with room to spare.
	MaxBytes int64
	// MaxDepth bounds element nesting. The SII's schemas nest about 12
	// levels deep (EnvioDTE/SetDTE/DTE/Documento/…/Signature/KeyInfo/…).
	MaxDepth int
	// MaxElements bounds the number of elements: what a tree costs in
	// memory grows with it, not with the bytes. Real DTEs hold 15 to 20
	// elements per KB, so the default fits DefaultMaxBytes of them.
	MaxElements int
}

// Defaults of Limits.
const (
	DefaultMaxBytes    = 20 << 20
	DefaultMaxDepth    = 64
	DefaultMaxElements = 400_000
)

// WithDefaults returns l with its zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// Errors of CheckLimits, each a kind of refusal (errors.Is).
var (
	ErrTooLarge        = errors.New("document too large")
	ErrTooDeep         = errors.New("elements nested too deep")
	ErrTooManyElements = errors.New("too many elements")
	ErrDTD             = errors.New("a DTD (<!DOCTYPE …>, <!ENTITY …>) is not allowed")
)

// CheckLimits makes one pass over the raw bytes of a document and refuses
// it when it is over l's size, depth or element count, or when it holds a
// document type declaration (entity definitions, internal or external,
// would change what is signed behind the signer's back and are how
// billion-laughs and XXE attacks work). It does not check that the
// document is well-formed (the parser does, afterwards); it never counts
// fewer elements or levels than a well-formed document has. Markup is
// ASCII in every encoding this package reads, so no decoding is needed.
func CheckLimits(b []byte, l Limits) error {
	l = l.WithDefaults()
	if int64(len(b)) > l.MaxBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(b), l.MaxBytes)
	}
	depth, elems := 0, 0
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 || i+j+1 >= len(b) {
			return nil
		}
		i += j + 1
		switch b[i] {
		case '/':
			depth--
			i = skipPast(b, i, ">")
		case '?':
			i = skipPast(b, i, "?>")
		case '!':
			switch {
			case bytes.HasPrefix(b[i:], []byte("!--")):
				i = skipPast(b, i+3, "-->")
			case bytes.HasPrefix(b[i:], []byte("![CDATA[")):
				i = skipPast(b, i+8, "]]>")
			default:
				return fmt.Errorf("%w (byte %d)", ErrDTD, i-1)
			}
		default:
			elems++
			if elems > l.MaxElements {
				return fmt.Errorf("%w: more than %d", ErrTooManyElements, l.MaxElements)
			}
			if depth+1 > l.MaxDepth {
				return fmt.Errorf("%w: more than %d levels", ErrTooDeep, l.MaxDepth)
			}
			var selfClosing bool
			if i, selfClosing = tagEnd(b, i); !selfClosing {
				depth++
			}
		}
		if i >= len(b) {
			return nil
		}
	}
}

// skipPast returns the index after the first end at or after i (len(b)
// when there is none).
func skipPast(b []byte, i int, end string) int {
	k := bytes.Index(b[i:], []byte(end))
	if k < 0 {
		return len(b)
	}
	return i + k + len(end)
}

// tagEnd finds the end of a start tag whose name begins at i, skipping
// quoted attribute values (which may hold '>'), and reports whether the
// tag closes itself.
func tagEnd(b []byte, i int) (int, bool) {
	for i < len(b) {
		switch c := b[i]; c {
		case '"', '\'':
			k := bytes.IndexByte(b[i+1:], c)
			if k < 0 {
				return len(b), false
			}
			i += k + 2
		case '>':
			return i + 1, b[i-1] == '/'
		default:
			i++
		}
	}
	return len(b), false
}
