package caf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Flatten writes an element the way the SII signs a DA (FRMA) and a DD
// (FRMT), docs/sii-protocol.md §5.3: no namespace declarations and no prefixes, the
// whitespace between tags dropped (text that is only whitespace), text and
// attribute values escaped with the five XML entities, ISO-8859-1 bytes.
func Flatten(el *etree.Element) ([]byte, error) {
	return appendFlat(nil, el)
}

func appendFlat(dst []byte, el *etree.Element) ([]byte, error) {
	dst = append(dst, '<')
	dst = append(dst, el.Tag...)
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, a.Key...)
		dst = append(dst, `="`...)
		var err error
		if dst, err = appendEntities(dst, a.Value); err != nil {
			return nil, fmt.Errorf("%s/@%s: %w", el.Tag, a.Key, err)
		}
		dst = append(dst, '"')
	}
	dst = append(dst, '>')
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			var err error
			if dst, err = appendFlat(dst, t); err != nil {
				return nil, fmt.Errorf("%s/%w", el.Tag, err)
			}
		case *etree.CharData:
			if isSpace(t.Data) {
				continue
			}
			var err error
			if dst, err = appendEntities(dst, t.Data); err != nil {
				return nil, fmt.Errorf("%s: %w", el.Tag, err)
			}
		}
	}
	dst = append(dst, "</"...)
	dst = append(dst, el.Tag...)
	return append(dst, '>'), nil
}

// AppendEntities appends s as ISO-8859-1 with the five XML entities
// (& < > " '), the escaping of the SII's flattened DA and DD. It fails on
// a character ISO-8859-1 cannot carry.
func AppendEntities(dst []byte, s string) ([]byte, error) { return appendEntities(dst, s) }

func appendEntities(dst []byte, s string) ([]byte, error) {
	for _, r := range s {
		switch r {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&apos;"...)
		default:
			if r > 0xFF {
				return nil, fmt.Errorf("character %q cannot be written in ISO-8859-1", r)
			}
			dst = append(dst, byte(r))
		}
	}
	return dst, nil
}

// appendCompact writes el compactly in canonical form (UTF-8, C14N
// escaping, sorted attributes, no namespace declarations, whitespace-only
// text dropped): how a CAF goes into a TED of a document we write.
func appendCompact(dst []byte, el *etree.Element) []byte {
	dst = append(dst, '<')
	dst = append(dst, el.Tag...)
	attrs := slices.Clone(el.Attr)
	attrs = slices.DeleteFunc(attrs, func(a etree.Attr) bool {
		return a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")
	})
	slices.SortFunc(attrs, func(a, b etree.Attr) int { return strings.Compare(a.Key, b.Key) })
	for _, a := range attrs {
		dst = append(dst, ' ')
		dst = append(dst, a.Key...)
		dst = append(dst, `="`...)
		dst = xmlsig.AppendAttrValue(dst, a.Value)
		dst = append(dst, '"')
	}
	dst = append(dst, '>')
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			dst = appendCompact(dst, t)
		case *etree.CharData:
			if !isSpace(t.Data) {
				dst = xmlsig.AppendText(dst, t.Data)
			}
		}
	}
	dst = append(dst, "</"...)
	dst = append(dst, el.Tag...)
	return append(dst, '>')
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}
