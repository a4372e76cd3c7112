package sii

import (
	"bytes"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/errs"
)

// axis wraps an inner answer the way the SII's Axis services do: escaped
// text in <op>Return inside <ns1:opResponse>.
func axis(op, inner string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`)
	b.WriteString(`<ns1:` + op + `Response soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="https://palena.sii.cl/DTEWS/X.jws"><` + op + `Return xsi:type="xsd:string">`)
	xml.EscapeText(&b, []byte(inner))
	b.WriteString(`</` + op + `Return></ns1:` + op + `Response></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}

func resp(hdr, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema"><SII:RESP_HDR>` + hdr +
		`</SII:RESP_HDR><SII:RESP_BODY>` + body + `</SII:RESP_BODY></SII:RESPUESTA>`
}

// wantErr is what a failing answer must produce.
type wantErr struct {
	code      string
	transient bool
	token     bool
}

func checkErr(t *testing.T, e *Error, w *wantErr) {
	t.Helper()
	if w == nil {
		if e != nil {
			t.Fatalf("unexpected error: %v", e)
		}
		return
	}
	if e == nil {
		t.Fatalf("no error, want code %s", w.code)
	}
	if e.Code != w.code || e.Transient != w.transient || e.TokenRejected != w.token {
		t.Fatalf("error %v: code %q transient %v token %v; want %q %v %v", e, e.Code, e.Transient, e.TokenRejected, w.code, w.transient, w.token)
	}
	if got := errs.IsPermanent(e.wrap()); got == w.transient {
		t.Fatalf("errs.IsPermanent = %v for transient=%v", got, w.transient)
	}
	if e.Message == "" {
		t.Errorf("error without message: %v", e)
	}
}

func TestReadSOAPAnswer(t *testing.T) {
	tests := map[string]struct {
		status int
		ctype  string
		body   []byte
		want   string
		err    *wantErr
	}{
		"prefixed return": {200, "text/xml", axis("getSeed", "<X/>"), "<X/>", nil},
		"unprefixed return with CDATA": {200, "text/xml",
			[]byte(`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><getSeedResponse><getSeedReturn><![CDATA[<A>1</A>]]></getSeedReturn></getSeedResponse></Body></Envelope>`),
			"<A>1</A>", nil},
		"latin-1 bytes declared as UTF-8": {200, "text/xml; charset=utf-8",
			append(append([]byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r><ret>Env`), 0xED), []byte(`o</ret></r></soapenv:Body></soapenv:Envelope>`)...),
			"Envío", nil},
		"503 HTML page": {503, "text/html", []byte("<html><head><title>503 Service Unavailable</title></head><body>Servicio no disponible</body></html>"), "",
			&wantErr{CodeHTML, true, false}},
		"HTML page with 200": {200, "text/html; charset=iso-8859-1", []byte("<!DOCTYPE html><html><body>Mantencion</body></html>"), "",
			&wantErr{CodeHTML, true, false}},
		"login page": {200, "text/html", []byte(`<html><form action="https://zeusr.sii.cl/cgi_AUT2000/CAutInicio.cgi">Ingreso de RUT y Clave</form></html>`), "",
			&wantErr{CodeLoginPage, true, true}},
		"server fault": {500, "text/xml", []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server.userException</faultcode><faultstring>java.lang.NullPointerException</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`), "",
			&wantErr{CodeSOAPFault, true, false}},
		"client fault": {500, "text/xml", []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>No such operation</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`), "",
			&wantErr{CodeSOAPFault, false, false}},
		"plain 500":       {500, "text/plain", []byte("Error 500"), "", &wantErr{CodeHTTP, true, false}},
		"plain 502 empty": {502, "", nil, "", &wantErr{CodeHTTP, true, false}},
		"404":             {404, "text/plain", []byte("not found"), "", &wantErr{CodeHTTP, false, false}},
		"empty 200":       {200, "text/xml", nil, "", &wantErr{CodeMalformed, true, false}},
		"truncated":       {200, "text/xml", axis("getSeed", "<X/>")[:120], "", &wantErr{CodeMalformed, true, false}},
		"not SOAP":        {200, "text/xml", []byte(`<a>b</a>`), "", &wantErr{CodeMalformed, true, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, e := readSOAPAnswer(OpGetSeed, tt.status, tt.ctype, tt.body)
			checkErr(t, e, tt.err)
			if tt.err == nil && got != tt.want {
				t.Errorf("return = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSeedAndToken(t *testing.T) {
	tests := map[string]struct {
		parse func(string) (string, *Error)
		in    string
		want  string
		err   *wantErr
	}{
		"seed":                {parseSeed, resp("<ESTADO>00</ESTADO>", "<SEMILLA>012345678901</SEMILLA>"), "012345678901", nil},
		"seed body first":     {parseSeed, `<SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema"><SII:RESP_BODY><SEMILLA>7</SEMILLA></SII:RESP_BODY><SII:RESP_HDR><ESTADO>00</ESTADO></SII:RESP_HDR></SII:RESPUESTA>`, "7", nil},
		"seed -1":             {parseSeed, resp("<ESTADO>-1</ESTADO>", ""), "", &wantErr{"-1", true, false}},
		"seed not numeric":    {parseSeed, resp("<ESTADO>00</ESTADO>", "<SEMILLA>abc</SEMILLA>"), "", &wantErr{CodeMalformed, true, false}},
		"seed no ESTADO":      {parseSeed, resp("", "<SEMILLA>1</SEMILLA>"), "", &wantErr{CodeMalformed, true, false}},
		"token":               {parseToken, resp("<ESTADO>00</ESTADO><GLOSA>Token Creado</GLOSA>", "<TOKEN>ABC123</TOKEN>"), "ABC123", nil},
		"token 05 signature":  {parseToken, resp("<ESTADO>05</ESTADO><GLOSA>Firma no valida</GLOSA>", ""), "", &wantErr{"05", false, false}},
		"token 08 seed gone":  {parseToken, resp("<ESTADO>08</ESTADO><GLOSA>Error Retorno</GLOSA>", ""), "", &wantErr{"08", true, false}},
		"token -07 RUT":       {parseToken, resp("<ESTADO>-07</ESTADO>", ""), "", &wantErr{"-07", false, false}},
		"token 21 key":        {parseToken, resp("<ESTADO>21</ESTADO>", ""), "", &wantErr{"21", false, false}},
		"token 00 no TOKEN":   {parseToken, resp("<ESTADO>00</ESTADO>", ""), "", &wantErr{CodeMalformed, true, false}},
		"token not respuesta": {parseToken, "<html/>", "", &wantErr{CodeMalformed, true, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, e := tt.parse(tt.in)
			checkErr(t, e, tt.err)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func hdrUp(estado, glosa string) string {
	return "<TRACKID>4711</TRACKID><ESTADO>" + estado + "</ESTADO><GLOSA>" + glosa + "</GLOSA><NUM_ATENCION>1 ( 2025/01/01 10:00:00)</NUM_ATENCION>"
}

func group(tipo, inf, acc, rch, rep string) string {
	return "<TIPO_DOCTO>" + tipo + "</TIPO_DOCTO><INFORMADOS>" + inf + "</INFORMADOS><ACEPTADOS>" + acc +
		"</ACEPTADOS><RECHAZADOS>" + rch + "</RECHAZADOS><REPAROS>" + rep + "</REPAROS>"
}

func TestParseEstUp(t *testing.T) {
	tests := map[string]struct {
		in     string
		result Result
		counts []TypeCount
		err    *wantErr
	}{
		"REC pending":  {resp(hdrUp("REC", "Envio Recibido"), ""), Pending, nil, nil},
		"SOK pending":  {resp(hdrUp("SOK", "Schema Validado"), ""), Pending, nil, nil},
		"PDR spelling": {resp(hdrUp("PDR", "Envio en Proceso"), ""), Pending, nil, nil},
		"EPR accepted two types": {resp(hdrUp("EPR", "Envio Procesado"), group("33", "2", "2", "0", "0")+group("61", "1", "1", "0", "0")),
			Accepted, []TypeCount{{33, 2, 2, 0, 0}, {61, 1, 1, 0, 0}}, nil},
		"EPR one rejected": {resp(hdrUp("EPR", "Envio Procesado"), group("33", "2", "1", "1", "0")),
			Rejected, []TypeCount{{33, 2, 1, 1, 0}}, nil},
		"EPR objected": {resp(hdrUp("EPR", "Envio Procesado"), group("33", "1", "1", "0", "1")),
			Objected, []TypeCount{{33, 1, 1, 0, 1}}, nil},
		"EPR wrapped in ESTADISTICA": {resp(hdrUp("EPR", "Envio Procesado"), "<ESTADISTICA>"+group("34", "1", "1", "0", "0")+"</ESTADISTICA>"),
			Accepted, []TypeCount{{34, 1, 1, 0, 0}}, nil},
		"EPR without counts": {resp(hdrUp("EPR", "Envio Procesado"), ""), "", nil, &wantErr{CodeMalformed, true, false}},
		"EPR bad count":      {resp(hdrUp("EPR", "Envio Procesado"), group("33", "x", "1", "0", "0")), "", nil, &wantErr{CodeMalformed, true, false}},
		"RCT":                {resp(hdrUp("RCT", "Rechazado por Error en Caratula"), ""), Rejected, nil, nil},
		"RFR":                {resp(hdrUp("RFR", "Rechazado por Error en Firma"), ""), Rejected, nil, nil},
		"RSC":                {resp(hdrUp("RSC", "Rechazado por Error en Schema"), ""), Rejected, nil, nil},
		"RPR":                {resp(hdrUp("RPR", "Aceptado con Reparos"), ""), Objected, nil, nil},
		"RLV":                {resp(hdrUp("RLV", "Aceptado con Reparos Leves"), ""), Objected, nil, nil},
		"RPT":                {resp(hdrUp("RPT", "Repetido"), ""), Rejected, nil, nil},
		"token 001":          {resp("<ESTADO>001</ESTADO><GLOSA>Cookie Inactivo</GLOSA>", ""), "", nil, &wantErr{"001", true, true}},
		"token 003":          {resp("<ESTADO>003</ESTADO>", ""), "", nil, &wantErr{"003", true, true}},
		"-11 retry":          {resp("<ESTADO>-11</ESTADO><ERR_CODE>2</ERR_CODE>", ""), "", nil, &wantErr{"-11", true, false}},
		"-3 user unknown":    {resp("<ESTADO>-3</ESTADO>", ""), "", nil, &wantErr{"-3", false, false}},
		"-8 retry":           {resp("<ESTADO>-8</ESTADO><GLOSA>x</GLOSA>", ""), "", nil, &wantErr{"-8", true, false}},
		"unknown code":       {resp("<ESTADO>ZZZ</ESTADO>", ""), "", nil, &wantErr{"ZZZ", true, false}},
		"no ESTADO":          {resp("<GLOSA>x</GLOSA>", ""), "", nil, &wantErr{CodeMalformed, true, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			st, e := parseEstUp(tt.in)
			checkErr(t, e, tt.err)
			if tt.err != nil {
				return
			}
			if st.Result != tt.result || !slices.Equal(st.Counts, tt.counts) {
				t.Errorf("got %s %+v, want %s %+v", st.Result, st.Counts, tt.result, tt.counts)
			}
			if st.TrackID != "4711" || st.Glosa == "" || st.Estado == "" {
				t.Errorf("lost the SII's fields: %+v", st)
			}
		})
	}
}

func TestParseEstDte(t *testing.T) {
	hdr := func(estado, glosa, code string) string {
		return "<ESTADO>" + estado + "</ESTADO><GLOSA_ESTADO>" + glosa + "</GLOSA_ESTADO><ERR_CODE>" + code +
			"</ERR_CODE><GLOSA_ERR>" + glosa + "</GLOSA_ERR><NUM_ATENCION>9 ( 2025/01/01 10:00:00)</NUM_ATENCION>"
	}
	tests := map[string]struct {
		in       string
		result   Result
		received bool
		err      *wantErr
	}{
		"DOK":       {resp(hdr("DOK", "Documento Recibido por el SII. Datos Coinciden con los Registrados", "0"), ""), Accepted, true, nil},
		"MMC":       {resp(hdr("MMC", "Existe Nota de Credito que Modifica Montos Documento", "13"), ""), Accepted, true, nil},
		"DNK":       {resp(hdr("DNK", "Datos NO Coinciden", "1"), ""), Rejected, true, nil},
		"FAU":       {resp(hdr("FAU", "Documento No Recibido por el SII", "3"), ""), Rejected, false, nil},
		"FNA":       {resp(hdr("FNA", "Documento No Autorizado", "4"), ""), Rejected, false, nil},
		"token 002": {resp(hdr("002", "Token Inactivo", ""), ""), "", false, &wantErr{"002", true, true}},
		"-1":        {resp(hdr("-1", "ERROR RETORNO", ""), ""), "", false, &wantErr{"-1", true, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			st, e := parseEstDte(tt.in)
			checkErr(t, e, tt.err)
			if tt.err != nil {
				return
			}
			if st.Result != tt.result || st.Received != tt.received || st.Glosa == "" || st.NumAtencion == "" {
				t.Errorf("got %+v, want %s received=%v", st, tt.result, tt.received)
			}
		})
	}
}

func recepcion(status, extra string) string {
	return `<?xml version="1.0"?><RECEPCIONDTE><RUTSENDER>11111111-1</RUTSENDER><RUTCOMPANY>76086428-5</RUTCOMPANY><FILE>e.xml</FILE><TIMESTAMP>2025-01-01 10:00:00</TIMESTAMP>` +
		status + extra + `</RECEPCIONDTE>`
}

func TestParseReceipt(t *testing.T) {
	tests := map[string]struct {
		status int
		ctype  string
		body   string
		track  string
		err    *wantErr
		dup    bool
	}{
		"ok":               {200, "text/xml", recepcion("<STATUS>0</STATUS>", "<TRACKID>123</TRACKID>"), "123", nil, false},
		"ok no TRACKID":    {200, "text/xml", recepcion("<STATUS>0</STATUS>", ""), "", &wantErr{CodeMalformed, true, false}, false},
		"no STATUS":        {200, "text/xml", recepcion("", "<TRACKID>1</TRACKID>"), "", &wantErr{CodeMalformed, true, false}, false},
		"token 5":          {200, "text/xml", recepcion("<STATUS>5</STATUS>", ""), "", &wantErr{"5", true, true}, false},
		"signature 8":      {200, "text/xml", recepcion("<STATUS>8</STATUS>", ""), "", &wantErr{"8", false, false}, false},
		"permission 1":     {200, "text/xml", recepcion("<STATUS>1</STATUS>", ""), "", &wantErr{"1", false, false}, false},
		"locked 9":         {200, "text/xml", recepcion("<STATUS>9</STATUS>", ""), "", &wantErr{"9", true, false}, false},
		"truncated 3":      {200, "text/xml", recepcion("<STATUS>3</STATUS>", ""), "", &wantErr{"3", true, false}, false},
		"duplicate 99":     {200, "text/xml", recepcion("<STATUS>99</STATUS>", ""), "", &wantErr{"99", false, false}, true},
		"internal unknown": {200, "text/xml", recepcion("<STATUS>42</STATUS>", ""), "", &wantErr{"42", true, false}, false},
		"Error 500 body":   {200, "text/plain", "Error 500", "", &wantErr{CodeMalformed, true, false}, false},
		"empty body":       {200, "text/xml", "", "", &wantErr{CodeMalformed, true, false}, false},
		"HTML without PROG marker": {200, "text/html", "<HTML><BODY>Documento recibido</BODY></HTML>", "",
			&wantErr{CodeHTML, true, false}, false},
		"503": {503, "text/html", "<html>busy</html>", "", &wantErr{CodeHTML, true, false}, false},
		"500": {500, "text/plain", "boom", "", &wantErr{CodeHTTP, true, false}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rc, e := parseReceipt(tt.status, tt.ctype, []byte(tt.body))
			checkErr(t, e, tt.err)
			if tt.err == nil && rc.TrackID != tt.track {
				t.Errorf("TrackID = %q, want %q", rc.TrackID, tt.track)
			}
			if e != nil && errors.Is(e, ErrDuplicate) != tt.dup {
				t.Errorf("errors.Is(ErrDuplicate) = %v, want %v", !tt.dup, tt.dup)
			}
		})
	}
}

func TestSOAPRequestRoundTrip(t *testing.T) {
	// A signed document must reach the SII byte for byte: line breaks,
	// tabs, quotes and markup survive escaping.
	doc := "<?xml version=\"1.0\"?>\n<getToken>\r\n\t<item><Semilla>0001</Semilla></item>&amp;\"'</getToken>"
	req := soapRequest("https://maullin.sii.cl/DTEWS/GetTokenFromSeed.jws", "getToken", []param{{"pszXml", doc}})
	if !strings.Contains(string(req), "<m:getToken ") {
		t.Fatalf("no RPC wrapper: %s", req)
	}
	got, fault, err := soapReturn([]byte(strings.Replace(string(req), "<m:getToken ", "<m:getToken ", 1)))
	if err != nil || fault != nil {
		t.Fatalf("soapReturn: %v %v", err, fault)
	}
	if got != doc {
		t.Errorf("round trip changed the document:\n got %q\nwant %q", got, doc)
	}
}
