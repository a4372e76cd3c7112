package dte

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// writer appends canonical XML (UTF-8, C14N escaping, explicit end tags)
// and keeps the first error, so that building code reads straight.
type writer struct {
	b      []byte
	path   []string // open elements, for error messages
	prefix string   // request path of the item being written ("lines[2]"), prepended to field names on error
	err    error
}

func (w *writer) open(tag string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.path = append(w.path, tag)
}

func (w *writer) close(tag string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.path = w.path[:len(w.path)-1]
}

// raw writes an element whose text needs no escaping (numbers, dates,
// RUTs, codes produced by this package).
func (w *writer) raw(tag, s string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.b = append(w.b, s...)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
}

func (w *writer) int(tag string, v int64) {
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
}

// text writes request text: checked for ISO-8859-1 and XML, cut to the
// schema's maximum length in characters (docs/sii-protocol.md §4.1), escaped.
// It returns the text as written.
func (w *writer) text(tag, field, s string, max int) string {
	if err := latin1.Check(s); err != nil {
		w.fail(field, tag, fmt.Errorf("%w: %v", ErrText, err))
		return ""
	}
	s = truncate(s, max)
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.b = xmlsig.AppendText(w.b, s)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	return s
}

// optText is text for an optional element: nothing when s is empty.
func (w *writer) optText(tag, field, s string, max int) {
	if s != "" {
		w.text(tag, field, s, max)
	}
}

func (w *writer) fail(field, tag string, err error) {
	if w.err == nil {
		field = w.prefix + field
		parts := append([]string(nil), w.path...)
		if len(parts) > 0 && parts[0] == "Documento" {
			parts = parts[1:]
		}
		el := strings.Join(append(parts, tag), "/")
		w.err = &FieldError{Field: field, Element: el, Err: err}
	}
}

func (w *writer) invalid(field, tag, format string, args ...any) {
	w.fail(field, tag, fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...)))
}

// truncate cuts s to max characters.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
