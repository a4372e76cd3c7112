package sii

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The parsers below turn what the SII answered into results or *Error. They
// never trust a missing code: no ESTADO or STATUS is a malformed answer
// (transient), never success (docs/sii-protocol.md §2: "never read a missing STATUS
// as 0").

// maxSnippet bounds how much of an unreadable answer goes into an error.
const maxSnippet = 200

// readSOAPAnswer checks the HTTP side of a SOAP call and returns the
// unescaped return text.
func readSOAPAnswer(op string, status int, contentType string, body []byte) (string, *Error) {
	if isHTML(contentType, body) {
		return "", htmlError(op, status, body)
	}
	ret, fault, err := soapReturn(body)
	switch {
	case fault != nil:
		// Axis answers faults with HTTP 500; a Client fault is our request's
		// fault, anything else the server's.
		transient := !strings.HasPrefix(strings.TrimPrefix(localName(fault.Code), "soapenv:"), "Client")
		e := &Error{Op: op, Code: CodeSOAPFault, Message: fault.Code + ": " + fault.String, HTTPStatus: status, Transient: transient}
		if fault.Detail != "" {
			e.Detail = []string{fault.Detail}
		}
		return "", e
	case status != http.StatusOK:
		return "", httpError(op, status, body)
	case err != nil:
		return "", malformed(op, body, err)
	}
	return ret, nil
}

func localName(qname string) string {
	if i := strings.LastIndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

func htmlError(op string, status int, body []byte) *Error {
	if isLoginPage(body) {
		return &Error{Op: op, Code: CodeLoginPage, Message: "the SII answered with its login page", HTTPStatus: status, Transient: true, TokenRejected: true}
	}
	return &Error{Op: op, Code: CodeHTML, Message: "the SII answered with an HTML page: " + snippet(body), HTTPStatus: status, Transient: true}
}

func httpError(op string, status int, body []byte) *Error {
	msg := http.StatusText(status)
	if s := snippet(body); s != "" {
		msg += ": " + s
	}
	return &Error{Op: op, Code: CodeHTTP, HTTPStatus: status, Message: msg, Transient: httpKind(status) != kindPermanent}
}

func malformed(op string, body []byte, err error) *Error {
	msg := "unreadable answer"
	if len(bytes.TrimSpace(body)) == 0 {
		msg = "empty answer"
	} else if s := snippet(body); s != "" {
		msg += ": " + s
	}
	return &Error{Op: op, Code: CodeMalformed, Message: msg, Transient: true, Err: err}
}

// snippet is a short, one-line excerpt of an answer for error messages.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(toUTF8(body))), " ")
	if len(s) > maxSnippet {
		s = s[:maxSnippet] + "…"
	}
	return s
}

func kindError(op string, k kind, code, msg string) *Error {
	if msg == "" {
		msg = "code not documented by the SII"
	}
	return &Error{Op: op, Code: code, Message: msg, Transient: k != kindPermanent, TokenRejected: k == kindToken}
}

// parseSeed reads getSeed's answer.
func parseSeed(ret string) (string, *Error) {
	r, err := parseRespuesta(ret)
	if err != nil {
		return "", malformed(OpGetSeed, []byte(ret), err)
	}
	estado := r.get("ESTADO")
	if estado == "" {
		return "", malformed(OpGetSeed, []byte(ret), fmt.Errorf("no ESTADO"))
	}
	if k := seedKind(estado); k != kindOK {
		return "", kindError(OpGetSeed, k, estado, orDefault(r.get("GLOSA"), "no seed"))
	}
	seed := r.get("SEMILLA")
	if seed == "" || strings.Trim(seed, "0123456789") != "" {
		return "", malformed(OpGetSeed, []byte(ret), fmt.Errorf("SEMILLA %q is not numeric", seed))
	}
	return seed, nil
}

// parseToken reads getToken's answer.
func parseToken(ret string) (string, *Error) {
	r, err := parseRespuesta(ret)
	if err != nil {
		return "", malformed(OpGetToken, []byte(ret), err)
	}
	estado := r.get("ESTADO")
	if estado == "" {
		return "", malformed(OpGetToken, []byte(ret), fmt.Errorf("no ESTADO"))
	}
	if k := tokenKind(estado); k != kindOK {
		return "", kindError(OpGetToken, k, estado, orDefault(r.get("GLOSA"), tokenText(estado)))
	}
	tok := r.get("TOKEN")
	if tok == "" {
		return "", malformed(OpGetToken, []byte(ret), fmt.Errorf("ESTADO 00 without TOKEN"))
	}
	return tok, nil
}

// parseEstUp reads getEstUp's answer.
func parseEstUp(ret string) (*UploadStatus, *Error) {
	r, err := parseRespuesta(ret)
	if err != nil {
		return nil, malformed(OpGetEstUp, []byte(ret), err)
	}
	estado := r.get("ESTADO")
	if estado == "" {
		return nil, malformed(OpGetEstUp, []byte(ret), fmt.Errorf("no ESTADO"))
	}
	st := &UploadStatus{
		TrackID:     r.get("TRACKID"),
		Estado:      estado,
		Glosa:       orDefault(r.get("GLOSA"), estUpText(estado)),
		NumAtencion: r.get("NUM_ATENCION"),
		ErrCode:     r.get("ERR_CODE"),
	}
	res, ok := estUpResult(estado)
	if !ok {
		msg := st.Glosa
		if st.ErrCode != "" {
			msg += " (ERR_CODE " + st.ErrCode + ")"
		}
		return nil, kindError(OpGetEstUp, estUpErrorKind(estado), estado, msg)
	}
	counts, cerr := readCounts(r.body)
	if cerr != nil {
		return nil, malformed(OpGetEstUp, []byte(ret), cerr)
	}
	st.Counts = counts
	st.Result = res
	if estado == "EPR" {
		if len(counts) == 0 {
			return nil, malformed(OpGetEstUp, []byte(ret), fmt.Errorf("EPR without counts in RESP_BODY"))
		}
		st.Result = resultFromCounts(counts)
	}
	return st, nil
}

// readCounts reads RESP_BODY's groups: TIPO_DOCTO, INFORMADOS, ACEPTADOS,
// RECHAZADOS, REPAROS, repeated once per document type.
func readCounts(body []field) ([]TypeCount, error) {
	var out []TypeCount
	cur := -1
	for _, f := range body {
		var dst *int
		if f.name == "TIPO_DOCTO" {
			out = append(out, TypeCount{})
			cur = len(out) - 1
			dst = &out[cur].Type
		} else {
			if cur < 0 && isCount(f.name) {
				out = append(out, TypeCount{})
				cur = 0
			}
			switch f.name {
			case "INFORMADOS":
				dst = &out[cur].Informed
			case "ACEPTADOS":
				dst = &out[cur].Accepted
			case "RECHAZADOS":
				dst = &out[cur].Rejected
			case "REPAROS":
				dst = &out[cur].Objected
			default:
				continue
			}
		}
		n, err := strconv.Atoi(strings.TrimSpace(f.value))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s %q is not a count", f.name, f.value)
		}
		*dst = n
	}
	return out, nil
}

func isCount(name string) bool {
	switch name {
	case "INFORMADOS", "ACEPTADOS", "RECHAZADOS", "REPAROS":
		return true
	}
	return false
}

// parseEstDte reads getEstDte's answer.
func parseEstDte(ret string) (*DocumentStatus, *Error) {
	r, err := parseRespuesta(ret)
	if err != nil {
		return nil, malformed(OpGetEstDte, []byte(ret), err)
	}
	estado := r.get("ESTADO")
	if estado == "" {
		return nil, malformed(OpGetEstDte, []byte(ret), fmt.Errorf("no ESTADO"))
	}
	st := &DocumentStatus{
		Estado:      estado,
		Glosa:       orDefault(r.get("GLOSA_ESTADO"), orDefault(r.get("GLOSA"), estDteText(estado))),
		ErrCode:     r.get("ERR_CODE"),
		GlosaErr:    r.get("GLOSA_ERR"),
		NumAtencion: r.get("NUM_ATENCION"),
	}
	res, received, ok := estDteResult(estado)
	if !ok {
		msg := st.Glosa
		if st.GlosaErr != "" {
			msg += ": " + st.GlosaErr
		}
		return nil, kindError(OpGetEstDte, estDteErrorKind(estado), estado, msg)
	}
	st.Result, st.Received = res, received
	return st, nil
}

// parseReceipt reads DTEUpload's answer: a RECEPCIONDTE document.
func parseReceipt(status int, contentType string, body []byte) (*Receipt, *Error) {
	if isHTML(contentType, body) {
		return nil, htmlError(OpUpload, status, body)
	}
	if status != http.StatusOK {
		return nil, httpError(OpUpload, status, body)
	}
	fields, detail, err := readRecepcion(body)
	if err != nil {
		return nil, malformed(OpUpload, body, err)
	}
	code := fields["STATUS"]
	if code == "" {
		return nil, malformed(OpUpload, body, fmt.Errorf("no STATUS"))
	}
	rc := &Receipt{
		TrackID:    fields["TRACKID"],
		RutSender:  fields["RUTSENDER"],
		RutCompany: fields["RUTCOMPANY"],
		File:       fields["FILE"],
		Timestamp:  fields["TIMESTAMP"],
	}
	if k := uploadKind(code); k != kindOK {
		e := kindError(OpUpload, k, code, uploadText(code))
		e.Detail = detail
		return rc, e
	}
	if rc.TrackID == "" || strings.Trim(rc.TrackID, "0123456789") != "" {
		return nil, malformed(OpUpload, body, fmt.Errorf("STATUS 0 with TRACKID %q", rc.TrackID))
	}
	return rc, nil
}

// readRecepcion collects RECEPCIONDTE's leaf elements and DETAIL's ERROR
// lines.
func readRecepcion(body []byte) (map[string]string, []string, error) {
	d := newDecoder(body)
	d.Strict = false
	fields := map[string]string{}
	var detail []string
	var stack []string
	var text strings.Builder
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if t.Name.Local != "RECEPCIONDTE" {
					return nil, nil, fmt.Errorf("root element %s, want RECEPCIONDTE", t.Name.Local)
				}
				root = true
			}
			stack = append(stack, t.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			name := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			v := strings.TrimSpace(text.String())
			text.Reset()
			switch {
			case name == "ERROR" || (len(stack) > 0 && stack[len(stack)-1] == "DETAIL"):
				if v != "" {
					detail = append(detail, v)
				}
			case len(stack) == 1:
				fields[name] = v
			}
		}
	}
	if !root {
		return nil, nil, fmt.Errorf("no RECEPCIONDTE element")
	}
	return fields, detail, nil
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
