package sii

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dtecl/pipeline/shared/latin1"
)

// The SII's web services are Apache Axis 1 ".jws" RPC services: the request
// is an element named like the operation with one child per parameter, and
// the answer is a string (the element named <op>Return) holding an XML
// document, escaped (docs/sii-protocol.md §1.1).

const soapEnvNS = "http://schemas.xmlsoap.org/soap/envelope/"

// param is one RPC parameter, in the order the WSDL declares them.
type param struct{ name, value string }

// soapRequest builds the envelope for operation op of the service at ns
// (Axis dispatches on the local name; the SII's manual uses the service URL
// as namespace).
func soapRequest(ns, op string, params []param) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + soapEnvNS + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	b.WriteString(`<soapenv:Body><m:` + op + ` xmlns:m="`)
	xml.EscapeText(&b, []byte(ns))
	b.WriteString(`">`)
	for _, p := range params {
		b.WriteString("<" + p.name + ` xsi:type="xsd:string">`)
		// EscapeText also escapes \n, \r and \t as character references, so
		// a signed document travels with its whitespace intact.
		xml.EscapeText(&b, []byte(p.value))
		b.WriteString("</" + p.name + ">")
	}
	b.WriteString(`</m:` + op + `></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}

// soapFault is an Axis SOAP fault.
type soapFault struct {
	Code   string
	String string
	Detail string
}

// errNotSOAP is returned by soapReturn for a body that holds no SOAP body.
var errNotSOAP = errors.New("no SOAP Body")

// soapReturn reads a SOAP answer and returns the text of the return element
// (the first child of the first child of Body, whatever its name or
// prefix), or the fault if the body is one.
func soapReturn(body []byte) (ret string, fault *soapFault, err error) {
	d := newDecoder(body)
	depth, bodyDepth := 0, -1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", nil, errNotSOAP
		}
		if err != nil {
			return "", nil, fmt.Errorf("read SOAP: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case bodyDepth < 0 && t.Name.Local == "Body":
				bodyDepth = depth
			case bodyDepth > 0 && depth == bodyDepth+1:
				if t.Name.Local == "Fault" {
					f, err := readFault(d)
					if err != nil {
						return "", nil, err
					}
					return "", f, nil
				}
			case bodyDepth > 0 && depth == bodyDepth+2:
				text, err := readText(d)
				if err != nil {
					return "", nil, fmt.Errorf("read %s: %w", t.Name.Local, err)
				}
				return text, nil, nil
			}
		case xml.EndElement:
			if depth == bodyDepth+1 && bodyDepth > 0 {
				// an operation response without a return element
				return "", nil, fmt.Errorf("%s: no return element", t.Name.Local)
			}
			depth--
		}
	}
}

func readFault(d *xml.Decoder) (*soapFault, error) {
	f := &soapFault{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("read SOAP fault: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			text, err := readText(d)
			if err != nil {
				return nil, fmt.Errorf("read SOAP fault: %w", err)
			}
			switch t.Name.Local {
			case "faultcode":
				f.Code = strings.TrimSpace(text)
			case "faultstring":
				f.String = strings.TrimSpace(text)
			default:
				if s := strings.TrimSpace(text); s != "" {
					if f.Detail != "" {
						f.Detail += "; "
					}
					f.Detail += s
				}
			}
		case xml.EndElement:
			return f, nil
		}
	}
}

// readText returns the character data of the element just opened,
// including that of nested elements, and consumes its end.
func readText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	depth := 1
	for depth > 0 {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return b.String(), nil
}

// newDecoder reads SII XML leniently: the bytes are first made UTF-8 (see
// toUTF8), so whatever encoding the declaration names is already dealt with.
func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(toUTF8(b)))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// toUTF8 decodes an SII answer: the SII declares UTF-8 but non-ASCII glosas
// may arrive as ISO-8859-1 bytes (docs/sii-protocol.md §1.1), and some documents
// declare ISO-8859-1. Bytes that are not valid UTF-8, or that declare
// Latin-1, are read as Latin-1, which cannot fail.
func toUTF8(b []byte) []byte {
	if declaresLatin1(b) || !utf8.Valid(b) {
		return latin1.Decode(b)
	}
	return b
}

func declaresLatin1(b []byte) bool {
	head := b
	if len(head) > 200 {
		head = head[:200]
	}
	end := bytes.Index(head, []byte("?>"))
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("<?xml")) || end < 0 {
		return false
	}
	decl := strings.ToLower(string(head[:end]))
	for _, enc := range []string{"iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252"} {
		if strings.Contains(decl, enc) {
			return true
		}
	}
	return false
}

// isHTML reports whether an answer is an HTML page rather than XML: what the
// SII serves when overloaded, in maintenance, or to ask for a login.
func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "text/html") && !looksXML(body) {
		return true
	}
	head := body
	if len(head) > 1024 {
		head = head[:1024]
	}
	h := strings.ToLower(string(head))
	return strings.Contains(h, "<html") || strings.Contains(h, "<!doctype html")
}

func looksXML(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<soapenv:")) ||
		bytes.HasPrefix(t, []byte("<RECEPCIONDTE")) || bytes.HasPrefix(t, []byte("<SII:"))
}

// isLoginPage reports whether an HTML page is the SII's authentication page,
// which its CGIs serve instead of an answer when the TOKEN cookie is not
// accepted. The markers are the login CGI's name and the form's title
// (inferred from the SII's pages; the manual does not document them).
func isLoginPage(body []byte) bool {
	h := strings.ToLower(string(toUTF8(body)))
	for _, m := range []string{"cautinicio", "aut2000", "ingreso de rut y clave", "ingresar con rut", "iniciar sesi"} {
		if strings.Contains(h, m) {
			return true
		}
	}
	return false
}
