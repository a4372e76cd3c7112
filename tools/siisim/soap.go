package siisim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dtecl/pipeline/shared/latin1"
)

// readSOAPRequest reads an Axis RPC request: the operation is the first
// element inside Body and its children are the parameters, by local name.
func readSOAPRequest(body []byte) (op string, params map[string]string, err error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "iso-8859-1", "latin1", "latin-1":
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			return bytes.NewReader(latin1.Decode(b)), nil
		}
		return r, nil
	}
	params = map[string]string{}
	depth, bodyDepth := 0, -1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if op == "" {
				return "", nil, errors.New("no operation in the SOAP Body")
			}
			return op, params, nil
		}
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case bodyDepth < 0 && t.Name.Local == "Body":
				bodyDepth = depth
			case bodyDepth > 0 && depth == bodyDepth+1 && op == "":
				op = t.Name.Local
			case bodyDepth > 0 && depth == bodyDepth+2:
				var b strings.Builder
				if err := readInto(d, &b); err != nil {
					return "", nil, err
				}
				params[t.Name.Local] = b.String()
				depth--
			}
		case xml.EndElement:
			depth--
		}
	}
}

// readInto appends the text of the element just opened and consumes its end.
func readInto(d *xml.Decoder, b *strings.Builder) error {
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			return err
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
	return nil
}

// axisEscape escapes text the way Axis writes a string return: the four
// markup characters, quotes as &quot;, line breaks kept.
func axisEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

// writeSOAP answers op with inner (an SII answer document) as Axis does.
func writeSOAP(w http.ResponseWriter, r *http.Request, op, inner string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ns := scheme + "://" + r.Host + r.URL.Path
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	b.WriteString("<soapenv:Body>\n")
	fmt.Fprintf(&b, `<ns1:%sResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="%s">`+"\n", op, axisEscape(ns))
	fmt.Fprintf(&b, `<%sReturn xsi:type="xsd:string">%s</%sReturn>`+"\n", op, axisEscape(inner), op)
	fmt.Fprintf(&b, "</ns1:%sResponse>\n</soapenv:Body>\n</soapenv:Envelope>\n", op)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, b.String())
}

// writeFault answers with an Axis SOAP fault (HTTP 500).
func writeFault(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body>
<soapenv:Fault>
<faultcode>%s</faultcode>
<faultstring>%s</faultstring>
<detail/>
</soapenv:Fault>
</soapenv:Body>
</soapenv:Envelope>
`, axisEscape(code), axisEscape(msg))
}

// respuesta builds an SII answer document: the XML declaration on its own
// line, then RESPUESTA with RESP_HDR and RESP_BODY, as the samples show.
func respuesta(hdr, body []kv) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema"><SII:RESP_HDR>`)
	writeKVs(&b, hdr)
	b.WriteString(`</SII:RESP_HDR>`)
	if body != nil {
		b.WriteString(`<SII:RESP_BODY>`)
		writeKVs(&b, body)
		b.WriteString(`</SII:RESP_BODY>`)
	}
	b.WriteString(`</SII:RESPUESTA>`)
	return b.String()
}

type kv struct{ k, v string }

func writeKVs(b *strings.Builder, kvs []kv) {
	for _, f := range kvs {
		b.WriteString("<" + f.k + ">")
		xml.EscapeText(b, []byte(f.v))
		b.WriteString("</" + f.k + ">")
	}
}
