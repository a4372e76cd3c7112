package dte

import (
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
)

// textOf is the trimmed text of the element at path under el ("" when
// absent).
func textOf(el *etree.Element, path string) string {
	if el == nil {
		return ""
	}
	if e := el.FindElement(path); e != nil {
		return strings.TrimSpace(e.Text())
	}
	return ""
}

// child returns the first child named local in the SiiDte namespace (or
// in no namespace, for the SII's own unqualified examples).
func child(el *etree.Element, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == local {
			return c
		}
	}
	return nil
}

// decodeB64 decodes base64 that may hold line breaks.
func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}

// documentNames are the elements a DTE's signature signs.
var documentNames = []string{"Documento", "Exportaciones", "Liquidacion"}

// isDocumentElement reports whether el is a Documento, Exportaciones or
// Liquidacion.
func isDocumentElement(el *etree.Element) bool { return contains(documentNames, el.Tag) }

// documentElement is the signed part of a DTE: Documento, or Exportaciones
// (110-112) and Liquidacion (43), which this package does not build but
// can inspect and verify.
func documentElement(dteEl *etree.Element) *etree.Element {
	for _, name := range documentNames {
		if el := child(dteEl, name); el != nil {
			return el
		}
	}
	return nil
}
