package dte

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// checkStructure checks what the signatures rely on, over the whole file
// (inside Signature elements too, where wrapping attacks hide the signed
// original): every ID names one element, and only Documento, Exportaciones,
// Liquidacion and SetDTE carry one; there is one Documento per DTE, one
// SetDTE and Carátula per envelope, one Signature per signed element and
// no other copy of any of them anywhere; each sits where the SII's
// structure puts it; every element outside the signatures is in the SiiDte
// namespace and every element inside them in the XMLDSig one. The schema
// says much of this too; this check does not depend on a schema validator
// being there.
func checkStructure(l *loaded) Check {
	var found findings
	note := found.add
	ids := map[string]int{}
	counts := map[string]int{}
	nsReported := false
	var walk func(e *etree.Element, inSig bool)
	walk = func(e *etree.Element, inSig bool) {
		ns := e.NamespaceURI()
		if e.Tag == "Signature" && ns == xmlsig.Namespace {
			inSig = true
		}
		want := NamespaceSiiDte
		if inSig {
			want = xmlsig.Namespace
		}
		if ns != want && !nsReported {
			nsReported = true
			note(CodeMisplaced, "<%s> is in namespace %q, where the SII's structure has %q", e.FullTag(), ns, want)
		}
		counts[e.Tag]++
		for _, a := range e.Attr {
			if !strings.EqualFold(a.Key, "ID") || a.Space == "xmlns" {
				continue
			}
			ids[a.Value]++
			if ids[a.Value] == 2 {
				note(CodeDuplicateID, "more than one element has ID %q", a.Value)
			}
			if inSig || !(isDocumentElement(e) || e.Tag == "SetDTE") || a.Key != "ID" || a.Space != "" {
				note(CodeWrongElement, "<%s> carries %s=%q: only Documento, Exportaciones, Liquidacion and SetDTE carry an ID", e.FullTag(), a.FullKey(), a.Value)
			}
		}
		for _, c := range e.ChildElements() {
			walk(c, inSig)
		}
	}
	root := l.doc.Root()
	walk(root, false)

	n := len(l.dtes)
	docs := counts["Documento"] + counts["Exportaciones"] + counts["Liquidacion"]
	expect := func(name string, got, want int) {
		if got != want {
			note(CodeExtraCopy, "the file holds %d <%s> element(s) where the SII's structure has %d", got, name, want)
		}
	}
	expect("Documento", docs, n)
	expect("DTE", counts["DTE"], n)
	expect("TED", counts["TED"], n)
	sets := 0
	if l.set != nil {
		sets = 1
	}
	expect("SetDTE", counts["SetDTE"], sets)
	expect("Caratula", counts["Caratula"], sets)
	expect("Signature", counts["Signature"], n+sets)

	// Each element where it belongs.
	order := func(parent *etree.Element, want ...string) {
		var got []string
		for _, c := range parent.ChildElements() {
			got = append(got, c.Tag)
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i] == want[i] || want[i] == "Documento" && contains(documentNames, got[i])
		}
		if !ok {
			note(CodeMisplaced, "<%s> holds %s; the SII's structure is %s", parent.Tag, list(got), list(want))
		}
	}
	if l.set != nil {
		order(root, "SetDTE", "Signature")
		want := []string{"Caratula"}
		for range l.dtes {
			want = append(want, "DTE")
		}
		order(l.set, want...)
	}
	for _, d := range l.dtes {
		order(d, "Documento", "Signature")
	}
	return found.check(fmt.Sprintf("%d DTE(s), one Documento and one Signature each, every ID once", n))
}

func list(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}
