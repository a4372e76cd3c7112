package xmlsig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Encodings this package reads.
const (
	EncodingUTF8   = "UTF-8"
	EncodingLatin1 = "ISO-8859-1"
)

// ErrEncoding is returned for a document whose declared encoding is neither
// UTF-8 nor ISO-8859-1, or whose bytes do not match the declaration.
var ErrEncoding = errors.New("unsupported or inconsistent XML encoding")

// ErrNotXML is returned for input that is not well-formed XML.
var ErrNotXML = errors.New("not well-formed XML")

var declEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']`)

// DecodeXML returns the document as UTF-8 and the encoding it was in: the
// declared one, or, when nothing is declared, UTF-8 if the bytes are valid
// UTF-8 and ISO-8859-1 otherwise (CAF files declare nothing but hold
// ISO-8859-1 bytes).
func DecodeXML(b []byte) ([]byte, string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	enc := ""
	if m := declEncoding.FindSubmatch(b); m != nil {
		enc = strings.ToUpper(string(m[1]))
	}
	switch enc {
	case "UTF-8", "UTF8":
		if !utf8.Valid(b) {
			return nil, "", fmt.Errorf("%w: declared UTF-8 but the bytes are not UTF-8", ErrEncoding)
		}
		return b, EncodingUTF8, nil
	case "ISO-8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "LATIN-1", "L1", "ISO-IR-100", "CP819", "IBM819":
		return decodeLatin1(b), EncodingLatin1, nil
	case "WINDOWS-1252", "CP1252":
		// Mislabelled Latin-1 is common; accept it when no byte falls in
		// the range where the two differ.
		for _, c := range b {
			if c >= 0x80 && c <= 0x9F {
				return nil, "", fmt.Errorf("%w: windows-1252 text with byte 0x%02X; the SII wants ISO-8859-1", ErrEncoding, c)
			}
		}
		return decodeLatin1(b), EncodingLatin1, nil
	case "":
		if utf8.Valid(b) {
			return b, EncodingUTF8, nil
		}
		return decodeLatin1(b), EncodingLatin1, nil
	default:
		return nil, "", fmt.Errorf("%w: %q", ErrEncoding, enc)
	}
}

// decodeLatin1 is latin1.Decode with a byte loop instead of a rune
// encoder: an envelope decodes every DTE it embeds.
func decodeLatin1(b []byte) []byte {
	n := 0
	for _, c := range b {
		if c >= 0x80 {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, len(b)+n)
	j := 0
	for _, c := range b {
		if c < 0x80 {
			out[j] = c
			j++
			continue
		}
		out[j], out[j+1] = 0xC0|c>>6, 0x80|c&0x3F
		j += 2
	}
	return out
}

// ParseDocument decodes (DecodeXML) and parses an XML document within the
// default Limits. The text is already UTF-8 when the parser sees it,
// whatever the declaration says. Documents with a DTD are refused: entity
// definitions would change what is signed behind the signer's back.
func ParseDocument(b []byte) (*etree.Document, error) {
	return ParseDocumentLimits(b, Limits{})
}

// ParseDocumentLimits is ParseDocument within l: the bytes are checked
// (CheckLimits) before anything is decoded or parsed, so a refusal costs
// one pass over them. The errors wrap ErrTooLarge, ErrTooDeep,
// ErrTooManyElements, ErrDTD, ErrEncoding or ErrNotXML.
func ParseDocumentLimits(b []byte, l Limits) (*etree.Document, error) {
	l = l.WithDefaults()
	if err := CheckLimits(b, l); err != nil {
		return nil, err
	}
	u, _, err := DecodeXML(b)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	doc.ReadSettings.MaxDepth = l.MaxDepth
	if err := doc.ReadFromBytes(u); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, l.MaxDepth)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotXML, err)
	}
	for _, t := range doc.Child {
		if _, ok := t.(*etree.Directive); ok {
			return nil, ErrDTD
		}
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("%w: no root element", ErrNotXML)
	}
	return doc, nil
}
