package dte

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Documents as Sign writes them, reused as fuzz seeds.
const canonicalDTE = `<?xml version="1.0" encoding="ISO-8859-1"?>
<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><Documento ID="F7T33"><Encabezado><IdDoc><TipoDTE>33</TipoDTE><Folio>7</Folio></IdDoc><Emisor><RUTEmisor>76086428-5</RUTEmisor><RznSoc>A &amp; B &lt;C&gt; "D" 'E'</RznSoc></Emisor></Encabezado><TED version="1.0"><FRMT algoritmo="SHA1withRSA">x</FRMT></TED></Documento><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><Reference URI="#F7T33"></Reference></SignedInfo></Signature></DTE>
`

// TestScanMatchesParser checks that the fast path gives exactly what the
// parser and canonicalizer give, and refuses what it cannot be sure of.
func TestScanMatchesParser(t *testing.T) {
	accepted := map[string]string{
		"canonical":           canonicalDTE,
		"no declaration":      canonicalDTE[bytes.IndexByte([]byte(canonicalDTE), '\n')+1:],
		"whitespace children": `<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0">` + "\n  " + `<Documento ID="F1T33"><Encabezado><IdDoc><TipoDTE>33</TipoDTE><Folio>1</Folio></IdDoc><Emisor><RUTEmisor>76086428-5</RUTEmisor></Emisor></Encabezado></Documento>` + "\n</DTE>",
	}
	for name, doc := range accepted {
		t.Run(name, func(t *testing.T) {
			e, _, _, ok := scanCanonical([]byte(doc))
			if !ok {
				t.Fatal("refused")
			}
			slow, err := parseDTE([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			fast := append(append([]byte(nil), e.head...), e.body...)
			if !bytes.Equal(fast, slow.body) {
				t.Errorf("fast %s\nslow %s", fast, slow.body)
			}
			if e.id != slow.id || e.typ != slow.typ || e.folio != slow.folio || e.issuer != slow.issuer {
				t.Errorf("fast %+v, slow %+v", e, slow)
			}
		})
	}
	refused := map[string][2]string{
		"comment":                {`<Documento ID="F7T33">`, `<Documento ID="F7T33"><!-- c -->`},
		"self-closing element":   {`<FRMT algoritmo="SHA1withRSA">x</FRMT>`, `<FRMT algoritmo="SHA1withRSA"/>`},
		"unsorted attributes":    {`<Documento ID="F7T33">`, `<Documento b="1" ID="F7T33">`},
		"single quotes":          {`ID="F7T33"`, `ID='F7T33'`},
		"space before >":         {`<TED version="1.0">`, `<TED version="1.0" >`},
		"carriage return":        {`<Encabezado>`, "<Encabezado>\r\n"},
		"character reference":    {`&amp; B`, `&#38; B`},
		"escaped quote in text":  {`"D"`, `&quot;D&quot;`},
		"unescaped > in text":    {`&lt;C&gt;`, `&lt;C>`},
		"CDATA":                  {`'E'`, `<![CDATA['E']]>`},
		"prefixed element":       {`<Encabezado>`, `<x:Encabezado xmlns:x="http://www.sii.cl/SiiDte">`},
		"redundant xmlns":        {`<Documento ID="F7T33">`, `<Documento xmlns="http://www.sii.cl/SiiDte" ID="F7T33">`},
		"processing instruction": {`<Documento ID="F7T33">`, `<Documento ID="F7T33"><?pi x?>`},
	}
	for name, r := range refused {
		t.Run("refuses "+name, func(t *testing.T) {
			doc := bytes.Replace([]byte(canonicalDTE), []byte(r[0]), []byte(r[1]), 1)
			if bytes.Equal(doc, []byte(canonicalDTE)) {
				t.Fatal("nothing replaced")
			}
			if _, _, _, ok := scanCanonical(doc); ok {
				t.Error("accepted")
			}
		})
	}
	t.Run("real DTE goes the slow way", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("../../testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml"))
		if err != nil {
			t.Fatal(err)
		}
		u, _, _ := xmlsig.DecodeXML(b)
		if _, _, _, ok := scanCanonical(u); ok {
			t.Error("the fast path accepted a document with a comment")
		}
		if _, err := readDTE(b); err != nil {
			t.Error(err)
		}
	})
}

// FuzzScanCanonical: whatever the fast path accepts, the parser reads the
// same way (same canonical bytes, same identity).
func FuzzScanCanonical(f *testing.F) {
	f.Add([]byte(canonicalDTE))
	f.Add([]byte(canonicalDTE[bytes.IndexByte([]byte(canonicalDTE), '\n')+1:]))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _, _, ok := scanCanonical(b)
		if !ok {
			return
		}
		slow, err := parseDTE(b)
		if err != nil {
			t.Fatalf("fast path accepted what the parser refuses: %v\n%q", err, b)
		}
		fast := append(append([]byte(nil), e.head...), e.body...)
		if !bytes.Equal(fast, slow.body) || e.id != slow.id || e.typ != slow.typ || e.folio != slow.folio || e.issuer != slow.issuer {
			t.Fatalf("fast and slow disagree on %q:\n%s\n%s", b, fast, slow.body)
		}
	})
}
