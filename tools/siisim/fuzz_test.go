package siisim

import (
	"testing"
)

// FuzzReadSOAPRequest: whatever a client posts, the request parser
// returns an operation or an error, never a panic.
func FuzzReadSOAPRequest(f *testing.F) {
	f.Add([]byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getEstUp xmlns:m="x"><RutCompania>1</RutCompania><Token>&lt;x&gt;</Token></m:getEstUp></soapenv:Body></soapenv:Envelope>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><Envelope><Body><getSeed/></Body></Envelope>`))
	f.Add([]byte(`<Body><op><p><![CDATA[<a/>]]></p></op></Body>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		op, params, err := readSOAPRequest(b)
		if err == nil && op == "" {
			t.Fatalf("no operation and no error for %q", b)
		}
		_ = params
	})
}

// FuzzParseSeedDoc: the structure check of a signed seed never panics, and
// issueToken answers a known ESTADO for anything.
func FuzzParseSeedDoc(f *testing.F) {
	f.Add([]byte(`<getToken><item><Semilla>000000000078</Semilla></item><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><KeyInfo><X509Data><X509Certificate>AA==</X509Certificate></X509Data></KeyInfo></Signature></getToken>`))
	f.Add([]byte(`<getToken/>`))
	f.Add([]byte(``))
	s, err := New(Config{Inspector: jsonInspector{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSeedDoc(b)
		code, tok := s.issueToken(string(b))
		if tokenGlosa(code) == "" {
			t.Fatalf("ESTADO %q has no glosa", code)
		}
		if code == tokOK && tok == "" {
			t.Fatal("ESTADO 00 without a token")
		}
	})
}
