package dte

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// embedded is a signed DTE read for an envelope.
type embedded struct {
	element []byte // the DTE element byte for byte, ISO-8859-1
	head    []byte // canonical form as a child of SetDTE (UTF-8) is head + body
	body    []byte
	id      string // Documento ID
	typ     int
	folio   int64
	issuer  rut.RUT
}

// setScope is what is in scope inside SetDTE of an EnvioDTE.
var setScope = []xmlsig.NS{{Prefix: "", URI: NamespaceSiiDte}, {Prefix: "xsi", URI: NamespaceXSI}}

// readDTE reads a standalone signed DTE. Documents already in canonical
// form (as Sign writes them) are checked and taken as they are by a
// single scan; any other form goes through the XML parser and the
// canonicalizer.
func readDTE(b []byte) (*embedded, error) {
	u, enc, err := xmlsig.DecodeXML(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDTE, err)
	}
	e, start, end, ok := scanCanonical(u)
	if ok && enc == xmlsig.EncodingLatin1 {
		// Before and after the element there is only ASCII, so its
		// ISO-8859-1 bytes are the same range counted from both ends.
		e.element = b[start : len(b)-(len(u)-end)]
		return e, nil
	}
	if !ok {
		if e, err = parseDTE(u); err != nil {
			return nil, err
		}
	}
	if e.element, err = toLatin1(bytes.Clone(e.element)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrText, err)
	}
	return e, nil
}

// xmlDeclaration is the declaration the fast path accepts.
var xmlDeclaration = regexp.MustCompile(`^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*("1\.0"|'1\.0')([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*("[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*("(yes|no)"|'(yes|no)'))?[ \t\r\n]*\?>`)

// Paths of the values an envelope needs, innermost first under DTE.
var (
	pathTipoDTE   = [][]byte{[]byte("TipoDTE"), []byte("IdDoc"), []byte("Encabezado"), []byte("Documento")}
	pathFolio     = [][]byte{[]byte("Folio"), []byte("IdDoc"), []byte("Encabezado"), []byte("Documento")}
	pathRUTEmisor = [][]byte{[]byte("RUTEmisor"), []byte("Emisor"), []byte("Encabezado"), []byte("Documento")}
)

// scanCanonical accepts a DTE whose element is already in canonical form
// apart from its own redundant xmlns: no comments, processing
// instructions, CDATA or self-closing tags, no prefixes, sorted
// attributes in double quotes, canonical escaping. Those are exactly the
// documents whose canonical form inside SetDTE is the same text minus the
// xmlns on <DTE>. ok is false for anything else; nothing is guessed. It
// returns the byte range of the DTE element in u.
func scanCanonical(u []byte) (e *embedded, start, end int, ok bool) {
	p := 0
	if bytes.HasPrefix(u, []byte("<?xml")) {
		m := xmlDeclaration.Find(u)
		if m == nil {
			return nil, 0, 0, false
		}
		p = len(m)
	}
	p = skipSpace(u, p)
	start = p
	var s scanner
	s.u = u
	name, attrs, p, ok := s.startTag(p)
	if !ok || string(name) != "DTE" || len(attrs) == 0 || string(attrs[0].name) != "xmlns" || string(attrs[0].value) != NamespaceSiiDte {
		return nil, 0, 0, false
	}
	e = &embedded{}
	// Canonical start tag inside SetDTE: the redundant xmlns goes.
	head := append(make([]byte, 0, 32), "<DTE"...)
	for _, a := range attrs[1:] {
		head = append(head, ' ')
		head = append(head, a.name...)
		head = append(head, `="`...)
		head = append(head, a.value...)
		head = append(head, '"')
	}
	e.head = append(head, '>')
	bodyStart := p

	var stackBuf [16][]byte
	var defBuf [16]bool // whether the element switched to the XMLDSig default namespace
	stack, defs := append(stackBuf[:0], name), append(defBuf[:0], false)
	inDSig := false
	leafStart, leaf := 0, false
	var typ, folio, issuer []byte
	for len(stack) > 0 {
		q := bytes.IndexByte(u[p:], '<')
		if q < 0 {
			return nil, 0, 0, false
		}
		q += p
		if !canonicalText(u[p:q]) {
			return nil, 0, 0, false
		}
		switch {
		case q+1 < len(u) && u[q+1] == '/':
			top := stack[len(stack)-1]
			close := q + 2 + len(top)
			if close >= len(u) || !bytes.Equal(u[q+2:close], top) || u[close] != '>' {
				return nil, 0, 0, false
			}
			if leaf {
				switch {
				case is(stack, pathTipoDTE):
					typ = u[leafStart:q]
				case is(stack, pathFolio):
					folio = u[leafStart:q]
				case is(stack, pathRUTEmisor):
					issuer = u[leafStart:q]
				}
			}
			leaf = false
			if defs[len(defs)-1] {
				inDSig = false
			}
			stack, defs = stack[:len(stack)-1], defs[:len(defs)-1]
			p = close + 1
		case q+1 < len(u) && (u[q+1] == '?' || u[q+1] == '!'):
			return nil, 0, 0, false // comments, PIs and CDATA change in C14N
		default:
			name, attrs, np, ok := s.startTag(q)
			if !ok {
				return nil, 0, 0, false
			}
			switched := false
			for i, a := range attrs {
				if string(a.name) != "xmlns" {
					continue
				}
				// The one change of default namespace a DTE has is the
				// Signature's; anything else is left to the parser.
				if i != 0 || inDSig || string(a.value) != xmlsig.Namespace {
					return nil, 0, 0, false
				}
				inDSig, switched = true, true
			}
			if len(stack) == 1 && string(name) == "Documento" {
				for _, a := range attrs {
					if string(a.name) == "ID" {
						e.id = string(a.value)
					}
				}
			}
			stack, defs = append(stack, name), append(defs, switched)
			leafStart, leaf = np, true
			p = np
		}
	}
	end = p
	if skipSpace(u, p) != len(u) || e.id == "" {
		return nil, 0, 0, false
	}
	var err error
	if e.typ, err = strconv.Atoi(string(typ)); err != nil {
		return nil, 0, 0, false
	}
	if e.folio, err = strconv.ParseInt(string(folio), 10, 64); err != nil {
		return nil, 0, 0, false
	}
	if e.issuer, err = rut.Parse(string(issuer)); err != nil {
		return nil, 0, 0, false
	}
	e.body = u[bodyStart:end]
	e.element = u[start:end]
	return e, start, end, true
}

// is reports whether the open elements end with path (innermost first)
// directly under DTE.
func is(stack [][]byte, path [][]byte) bool {
	if len(stack) != len(path)+1 {
		return false
	}
	for i, name := range path {
		if !bytes.Equal(stack[len(stack)-1-i], name) {
			return false
		}
	}
	return true
}

type scanAttr struct{ name, value []byte }

type scanner struct {
	u     []byte
	attrs [8]scanAttr
}

// startTag reads <name a="v" …> in canonical form starting at p (at '<').
// The attributes returned are valid until the next call.
func (s *scanner) startTag(p int) ([]byte, []scanAttr, int, bool) {
	u := s.u
	if p >= len(u) || u[p] != '<' {
		return nil, nil, 0, false
	}
	p++
	n := nameEnd(u, p)
	if n == p {
		return nil, nil, 0, false
	}
	name := u[p:n]
	p = n
	attrs := s.attrs[:0]
	var last []byte
	for {
		if p >= len(u) {
			return nil, nil, 0, false
		}
		switch u[p] {
		case '>':
			return name, attrs, p + 1, true
		case ' ':
		default:
			return nil, nil, 0, false
		}
		p++
		n := nameEnd(u, p)
		if n == p || n+1 >= len(u) || u[n] != '=' || u[n+1] != '"' || len(attrs) == len(s.attrs) {
			return nil, nil, 0, false
		}
		an := u[p:n]
		if string(an) == "xmlns" {
			if len(attrs) != 0 {
				return nil, nil, 0, false // C14N: the namespace declaration comes first
			}
		} else {
			if last != nil && bytes.Compare(an, last) <= 0 {
				return nil, nil, 0, false // C14N: attributes sorted by name
			}
			last = an
		}
		v := n + 2
		q := bytes.IndexByte(u[v:], '"')
		if q < 0 {
			return nil, nil, 0, false
		}
		q += v
		if !canonicalAttr(u[v:q]) {
			return nil, nil, 0, false
		}
		attrs = append(attrs, scanAttr{an, u[v:q]})
		p = q + 1
	}
}

// nameEnd returns the end of an unprefixed XML name starting at p.
func nameEnd(u []byte, p int) int {
	i := p
	for i < len(u) {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > p && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return i
		}
		i++
	}
	return i
}

// canonicalText reports whether character data is written the C14N way
// (and holds only XML characters).
func canonicalText(t []byte) bool {
	for i := 0; i < len(t); i++ {
		switch c := t[i]; c {
		case '\t', '\n':
		case '>', '\r':
			return false
		case 0xEF:
			if notXMLChar(t[i:]) {
				return false
			}
		case '&':
			rest := t[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("&amp;")), bytes.HasPrefix(rest, []byte("&lt;")),
				bytes.HasPrefix(rest, []byte("&gt;")), bytes.HasPrefix(rest, []byte("&#xD;")):
			default:
				return false
			}
		default:
			if c < 0x20 {
				return false // control characters are not XML
			}
		}
	}
	return true
}

// notXMLChar reports whether b starts with U+FFFE or U+FFFF, which UTF-8
// can encode and XML forbids.
func notXMLChar(b []byte) bool {
	return len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBF && (b[2] == 0xBE || b[2] == 0xBF)
}

// canonicalAttr reports whether an attribute value is written the C14N way.
func canonicalAttr(v []byte) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '<', '\t', '\n', '\r':
			return false
		case 0xEF:
			if notXMLChar(v[i:]) {
				return false
			}
		case '&':
			rest := v[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("&amp;")), bytes.HasPrefix(rest, []byte("&lt;")),
				bytes.HasPrefix(rest, []byte("&quot;")), bytes.HasPrefix(rest, []byte("&#x9;")),
				bytes.HasPrefix(rest, []byte("&#xA;")), bytes.HasPrefix(rest, []byte("&#xD;")):
			default:
				return false
			}
		default:
			if c < 0x20 {
				return false
			}
		}
	}
	return true
}

func skipSpace(u []byte, p int) int {
	for p < len(u) && (u[p] == ' ' || u[p] == '\t' || u[p] == '\n' || u[p] == '\r') {
		p++
	}
	return p
}

// parseDTE reads a DTE in any form: the parser gives the tree, the
// canonicalizer its form under SetDTE, and a token pass the byte range of
// the element to embed unchanged.
func parseDTE(u []byte) (*embedded, error) {
	doc, err := xmlsig.ParseDocument(u)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDTE, err)
	}
	root := doc.Root()
	if root.Tag != "DTE" || root.NamespaceURI() != NamespaceSiiDte {
		return nil, fmt.Errorf("%w: the root element is <%s> in namespace %q; a standalone DTE is <DTE xmlns=%q>", ErrNotDTE, root.FullTag(), root.NamespaceURI(), NamespaceSiiDte)
	}
	d := root.SelectElement("Documento")
	if d == nil {
		return nil, fmt.Errorf("%w: no Documento (exports and liquidaciones are not supported)", ErrNotDTE)
	}
	e := &embedded{id: d.SelectAttrValue("ID", "")}
	if e.id == "" {
		return nil, fmt.Errorf("%w: Documento has no ID", ErrNotDTE)
	}
	if e.typ, err = strconv.Atoi(textOf(d, "Encabezado/IdDoc/TipoDTE")); err != nil {
		return nil, fmt.Errorf("%w: IdDoc/TipoDTE %q", ErrNotDTE, textOf(d, "Encabezado/IdDoc/TipoDTE"))
	}
	if e.folio, err = strconv.ParseInt(textOf(d, "Encabezado/IdDoc/Folio"), 10, 64); err != nil {
		return nil, fmt.Errorf("%w: IdDoc/Folio %q", ErrNotDTE, textOf(d, "Encabezado/IdDoc/Folio"))
	}
	if e.issuer, err = rut.Parse(textOf(d, "Encabezado/Emisor/RUTEmisor")); err != nil {
		return nil, fmt.Errorf("%w: Emisor/RUTEmisor: %v", ErrNotDTE, err)
	}
	e.body = xmlsig.CanonicalizeAsChild(root, setScope)
	start, end, err := rootRange(u)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDTE, err)
	}
	e.element = u[start:end]
	return e, nil
}

// rootRange finds the byte range of the root element.
func rootRange(u []byte) (int, int, error) {
	dec := xml.NewDecoder(bytes.NewReader(u))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth, start := 0, -1
	for {
		off := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err != nil {
			return 0, 0, err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				start = off
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				return start, int(dec.InputOffset()), nil
			}
		}
	}
}
