package xmlsig

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// NS is a namespace binding: a prefix ("" for the default namespace) and
// its URI.
type NS struct {
	Prefix string
	URI    string
}

const nsXMLURI = "http://www.w3.org/XML/1998/namespace"

// Canonicalize returns the inclusive Canonical XML 1.0 form (without
// comments) of el and its descendants, as the document subset of a
// same-document reference "#id" defines it: the namespaces el inherits from
// its ancestors are rendered on el, and so are inherited xml:* attributes.
//
// It writes the canonical bytes in one pass over the tree without copying
// elements, so canonicalizing a whole SetDTE costs one traversal.
func Canonicalize(el *etree.Element) []byte {
	return appendCanonical(nil, el, c14nOptions{})
}

// CanonicalizeIn is Canonicalize as if the ancestors of el above boundary
// did not exist and base were in scope instead: the SII's way of verifying a
// DTE that sits inside an envelope (boundary = the DTE element, base = the
// SiiDte default namespace). boundary must be el or an ancestor of el.
func CanonicalizeIn(el, boundary *etree.Element, base []NS) []byte {
	return appendCanonical(nil, el, c14nOptions{boundary: boundary, base: base, bounded: true})
}

type c14nOptions struct {
	bounded  bool           // use boundary/base instead of all ancestors
	boundary *etree.Element // highest ancestor whose declarations count
	base     []NS           // bindings in scope above boundary
	comments bool           // keep comments (…#WithComments)
	exclude  *etree.Element // element left out (enveloped-signature transform)
}

// inherited returns the namespace bindings in scope at el's parent and the
// xml:* attributes el inherits, honouring the options' boundary.
func inherited(el *etree.Element, o c14nOptions) ([]NS, []etree.Attr) {
	var chain []*etree.Element
	if !(o.bounded && o.boundary == el) {
		for p := el.Parent(); p != nil; p = p.Parent() {
			chain = append(chain, p)
			if o.bounded && p == o.boundary {
				break
			}
		}
	}
	var scope []NS
	if o.bounded {
		scope = append(scope, o.base...)
	}
	var xmlAttrs []etree.Attr
	for i := len(chain) - 1; i >= 0; i-- {
		for _, a := range chain[i].Attr {
			switch {
			case a.Space == "" && a.Key == "xmlns":
				scope = bind(scope, "", a.Value)
			case a.Space == "xmlns" && a.Key != "xml":
				scope = bind(scope, a.Key, a.Value)
			case a.Space == "xml":
				xmlAttrs = slices.DeleteFunc(xmlAttrs, func(x etree.Attr) bool { return x.Key == a.Key })
				xmlAttrs = append(xmlAttrs, a)
			}
		}
	}
	return scope, xmlAttrs
}

// bind sets prefix to uri in a small scope list.
func bind(scope []NS, prefix, uri string) []NS {
	for i := range scope {
		if scope[i].Prefix == prefix {
			scope[i].URI = uri
			return scope
		}
	}
	return append(scope, NS{prefix, uri})
}

type c14nWriter struct {
	out   []byte
	scope []NS // stack of bindings; the last one for a prefix wins
	o     c14nOptions
	nsBuf []NS
	atBuf []sortAttr
}

type sortAttr struct {
	uri string
	a   *etree.Attr
}

func appendCanonical(dst []byte, el *etree.Element, o c14nOptions) []byte {
	ctx, xmlAttrs := inherited(el, o)
	w := &c14nWriter{out: dst, o: o}
	w.element(el, true, ctx, xmlAttrs)
	return w.out
}

func (w *c14nWriter) lookup(prefix string) (string, bool) {
	for i := len(w.scope) - 1; i >= 0; i-- {
		if w.scope[i].Prefix == prefix {
			return w.scope[i].URI, true
		}
	}
	if prefix == "xml" {
		return nsXMLURI, true
	}
	return "", false
}

// element writes el. For the apex, ctx holds the bindings in scope at its
// parent (all rendered on it) and xmlAttrs the inherited xml:* attributes.
func (w *c14nWriter) element(el *etree.Element, apex bool, ctx []NS, xmlAttrs []etree.Attr) {
	mark := len(w.scope)
	w.scope = append(w.scope, ctx...)
	ns := w.nsBuf[:0]
	// Own declarations are rendered when they change what is in scope (on
	// the apex everything in scope is rendered, below).
	for _, a := range el.Attr {
		var prefix string
		switch {
		case a.Space == "" && a.Key == "xmlns":
			prefix = ""
		case a.Space == "xmlns" && a.Key != "xml":
			prefix = a.Key
		default:
			continue
		}
		if !apex {
			cur, _ := w.lookup(prefix)
			if cur != a.Value {
				ns = append(ns, NS{prefix, a.Value})
			}
		}
		w.scope = append(w.scope, NS{prefix, a.Value})
	}
	if apex {
		for i := len(w.scope) - 1; i >= mark; i-- {
			b := w.scope[i]
			if slices.ContainsFunc(ns, func(x NS) bool { return x.Prefix == b.Prefix }) {
				continue // overridden later in the list
			}
			if b.Prefix == "" && b.URI == "" {
				// An empty default namespace is never rendered on the
				// apex, but it still hides an inherited one.
				ns = append(ns, b)
				continue
			}
			ns = append(ns, b)
		}
		ns = slices.DeleteFunc(ns, func(x NS) bool { return x.Prefix == "" && x.URI == "" })
	}
	slices.SortFunc(ns, func(a, b NS) int { return strings.Compare(a.Prefix, b.Prefix) })

	attrs := w.atBuf[:0]
	for i := range el.Attr {
		a := &el.Attr[i]
		if (a.Space == "" && a.Key == "xmlns") || a.Space == "xmlns" {
			continue
		}
		uri := ""
		if a.Space != "" {
			uri, _ = w.lookup(a.Space)
		}
		attrs = append(attrs, sortAttr{uri, a})
	}
	for i := range xmlAttrs {
		if el.SelectAttr("xml:"+xmlAttrs[i].Key) == nil {
			attrs = append(attrs, sortAttr{nsXMLURI, &xmlAttrs[i]})
		}
	}
	slices.SortFunc(attrs, func(a, b sortAttr) int {
		if c := strings.Compare(a.uri, b.uri); c != 0 {
			return c
		}
		return strings.Compare(a.a.Key, b.a.Key)
	})

	w.out = append(w.out, '<')
	w.out = appendQName(w.out, el.Space, el.Tag)
	for _, b := range ns {
		if b.Prefix == "" {
			w.out = append(w.out, ` xmlns="`...)
		} else {
			w.out = append(w.out, ` xmlns:`...)
			w.out = append(w.out, b.Prefix...)
			w.out = append(w.out, `="`...)
		}
		w.out = appendAttrValue(w.out, b.URI)
		w.out = append(w.out, '"')
	}
	for _, sa := range attrs {
		w.out = append(w.out, ' ')
		w.out = appendQName(w.out, sa.a.Space, sa.a.Key)
		w.out = append(w.out, `="`...)
		w.out = appendAttrValue(w.out, sa.a.Value)
		w.out = append(w.out, '"')
	}
	w.out = append(w.out, '>')
	// Children reuse the buffers; nothing here needs them any more.
	w.nsBuf, w.atBuf = ns[:0], attrs[:0]

	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t != w.o.exclude {
				w.element(t, false, nil, nil)
			}
		case *etree.CharData:
			w.out = appendText(w.out, t.Data)
		case *etree.Comment:
			if w.o.comments {
				w.out = append(w.out, "<!--"...)
				w.out = append(w.out, t.Data...)
				w.out = append(w.out, "-->"...)
			}
		case *etree.ProcInst:
			w.out = append(w.out, "<?"...)
			w.out = append(w.out, t.Target...)
			if t.Inst != "" {
				w.out = append(w.out, ' ')
				w.out = append(w.out, t.Inst...)
			}
			w.out = append(w.out, "?>"...)
		}
	}
	w.out = append(w.out, "</"...)
	w.out = appendQName(w.out, el.Space, el.Tag)
	w.out = append(w.out, '>')
	w.scope = w.scope[:mark]
}

func appendQName(dst []byte, space, local string) []byte {
	if space != "" {
		dst = append(dst, space...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

// appendText escapes character data the C14N way: & < > and CR.
func appendText(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// appendAttrValue escapes an attribute value the C14N way: & < " TAB LF CR.
func appendAttrValue(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// AppendText appends s escaped as C14N character data, for writers that
// produce canonical XML directly.
func AppendText(dst []byte, s string) []byte { return appendText(dst, s) }

// AppendAttrValue appends s escaped as a C14N attribute value.
func AppendAttrValue(dst []byte, s string) []byte { return appendAttrValue(dst, s) }

// CanonicalizeAsChild returns the canonical form el takes as a descendant
// inside a canonicalized element whose in-scope namespaces are scope:
// declarations that repeat scope are left out, inherited xml:* attributes
// are not added. An EnvioDTE builder uses it for each DTE under SetDTE.
func CanonicalizeAsChild(el *etree.Element, scope []NS) []byte {
	w := &c14nWriter{}
	w.scope = append(w.scope, scope...)
	w.element(el, false, nil, nil)
	return w.out
}
