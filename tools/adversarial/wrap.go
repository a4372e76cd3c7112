package adversarial

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
)

// Wrap puts a corpus DTE in an EnvioDTE signed by its sender, for the
// SII simulator, which takes envelopes only: what comes before the DTE
// (a DOCTYPE) goes before the envelope, the DTE goes in as it is. When the
// result cannot be parsed (the hostile cases), it is returned unsigned:
// it must be refused before any signature matters. An envelope is returned
// as it is.
func Wrap(x []byte, sender *certs.Certificate) []byte {
	i := bytes.Index(x, []byte("<DTE "))
	if i < 0 || bytes.Contains(x[:i], []byte("<EnvioDTE")) {
		return x
	}
	prolog := x[:i]
	if j := bytes.Index(prolog, []byte("?>")); j >= 0 {
		prolog = prolog[j+2:]
	}
	var env []byte
	env = append(env, `<?xml version="1.0" encoding="ISO-8859-1"?>`...)
	env = append(env, prolog...)
	env = append(env, `<EnvioDTE xmlns="`+dte.NamespaceSiiDte+`" xmlns:xsi="`+dte.NamespaceXSI+
		`" xsi:schemaLocation="`+dte.NamespaceSiiDte+` EnvioDTE_v10.xsd" version="1.0"><SetDTE ID="SetDoc">`...)
	env = append(env, caratula(1)...)
	env = append(env, bytes.TrimRight(x[i:], "\n")...)
	env = append(env, "</SetDTE></EnvioDTE>\n"...)
	g := &gen{}
	signed, err := g.resignSet(env, sender)
	if err != nil {
		return env
	}
	return signed
}

// Huge writes the generated case of that name to dir and returns its
// path: "many-elements" is an EnvioDTE of n bytes, almost all of them
// small empty elements.
func Huge(dir, name string, n int) (string, error) {
	head := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n" + `<EnvioDTE xmlns="` + dte.NamespaceSiiDte + `" version="1.0"><SetDTE ID="SetDoc">`)
	tail := []byte("</SetDTE></EnvioDTE>\n")
	el := []byte("<a/>")
	path := filepath.Join(dir, name+".xml")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(head); err != nil {
		return "", err
	}
	chunk := bytes.Repeat(el, 1<<16)
	left := n - len(head) - len(tail)
	for left > 0 {
		c := chunk
		if left < len(c) {
			c = c[:left-left%len(el)]
			if len(c) == 0 {
				c = bytes.Repeat([]byte(" "), left)
			}
		}
		if _, err := f.Write(c); err != nil {
			return "", err
		}
		left -= len(c)
	}
	if _, err := f.Write(tail); err != nil {
		return "", err
	}
	return path, f.Close()
}
