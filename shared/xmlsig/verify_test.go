package xmlsig_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

var siiDte = []xmlsig.NS{{Prefix: "", URI: "http://www.sii.cl/SiiDte"}}

func readSample(t *testing.T, name string) *etree.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsig.ParseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestVerifySamples(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		sig     string // path of the Signature
		opts    func(doc *etree.Document) xmlsig.VerifyOptions
		want    error
		wantURI string
	}{
		{name: "real DTE", file: "real-dte/DTE--76354771-K--33--170--cleaned.xml", sig: "/DTE/Signature", wantURI: "#MiPE76354771-13419"},
		{name: "real DTE taken out SII-style", file: "real-dte/DTE--76354771-K--33--170--cleaned.xml", sig: "/DTE/Signature",
			opts: func(d *etree.Document) xmlsig.VerifyOptions {
				return xmlsig.VerifyOptions{Boundary: d.Root(), Base: siiDte}
			}},
		{name: "real DTE changed after signing", file: "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", sig: "/DTE/Signature", want: xmlsig.ErrDigest},
		// The SII's own example: its KeyValue is not its certificate's key.
		{name: "official SetDTE", file: "sii-official/F60T33-ejemplo-oficial-SII.xml", sig: "/EnvioDTE/Signature", want: xmlsig.ErrKeyMismatch},
		{name: "official DTE SII-style", file: "sii-official/F60T33-ejemplo-oficial-SII.xml", sig: "/EnvioDTE/SetDTE/DTE/Signature", want: xmlsig.ErrDigest,
			opts: func(d *etree.Document) xmlsig.VerifyOptions {
				return xmlsig.VerifyOptions{Boundary: d.FindElement("//DTE"), Base: siiDte}
			}},
		{name: "official DTE without namespace", file: "sii-official/F60T33-ejemplo-oficial-SII.xml", sig: "/EnvioDTE/SetDTE/DTE/Signature", want: xmlsig.ErrKeyMismatch,
			opts: func(d *etree.Document) xmlsig.VerifyOptions {
				return xmlsig.VerifyOptions{Boundary: d.FindElement("//DTE")}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readSample(t, tt.file)
			var o xmlsig.VerifyOptions
			if tt.opts != nil {
				o = tt.opts(doc)
			}
			res, err := xmlsig.Verify(doc.FindElement(tt.sig), o)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantURI != "" && res.URI != tt.wantURI {
				t.Errorf("URI %q, want %q", res.URI, tt.wantURI)
			}
		})
	}
}

// TestVerifyRejects breaks a freshly signed document in the ways that
// matter and checks that each is caught with the right code.
func TestVerifyRejects(t *testing.T) {
	s, pki := newSigner(t)
	other, err := pki.NewSigner(dtetest.SignerSpec{RUT: dtetest.SignerRUT, Name: "Otro", Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, _ := xmlsig.NewSigner(other)
	sign := func(t *testing.T) *etree.Document {
		doc, err := xmlsig.ParseDocument([]byte(envelopeLike))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignElement(doc.FindElement("//SetDTE")); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	tests := []struct {
		name   string
		mangle func(t *testing.T, doc *etree.Document)
		want   error
	}{
		{"content changed", func(t *testing.T, d *etree.Document) {
			d.FindElement("//RutEmisor").SetText("76086428-6")
		}, xmlsig.ErrDigest},
		{"duplicate ID", func(t *testing.T, d *etree.Document) {
			d.FindElement("//Documento").CreateAttr("ID", "SetDoc")
		}, xmlsig.ErrDuplicateID},
		{"reference to nothing", func(t *testing.T, d *etree.Document) {
			d.FindElement("//SetDTE").CreateAttr("ID", "Other")
		}, xmlsig.ErrReference},
		{"SignatureValue changed", func(t *testing.T, d *etree.Document) {
			sv := d.FindElement("//SignatureValue")
			v := []byte(sv.Text())
			if v[10] == 'A' {
				v[10] = 'B'
			} else {
				v[10] = 'A'
			}
			sv.SetText(string(v))
		}, xmlsig.ErrSignature},
		{"SignedInfo changed", func(t *testing.T, d *etree.Document) {
			d.FindElement("//SignedInfo/Reference").CreateAttr("Id", "x")
		}, xmlsig.ErrSignature},
		{"certificate of someone else", func(t *testing.T, d *etree.Document) {
			ki := d.FindElement("//KeyInfo")
			var b []byte
			b = otherSigner.AppendKeyInfo(b)
			nd := etree.NewDocument()
			nd.ReadFromString(`<Signature xmlns="` + xmlsig.Namespace + `">` + string(b) + `</Signature>`)
			ki.SelectElement("X509Data").SelectElement("X509Certificate").SetText(nd.FindElement("//X509Certificate").Text())
		}, xmlsig.ErrKeyMismatch},
		{"KeyValue of someone else", func(t *testing.T, d *etree.Document) {
			var b []byte
			b = otherSigner.AppendKeyInfo(b)
			nd := etree.NewDocument()
			nd.ReadFromString(`<Signature xmlns="` + xmlsig.Namespace + `">` + string(b) + `</Signature>`)
			d.FindElement("//Modulus").SetText(nd.FindElement("//Modulus").Text())
		}, xmlsig.ErrKeyMismatch},
		{"no certificate", func(t *testing.T, d *etree.Document) {
			ki := d.FindElement("//KeyInfo")
			ki.RemoveChild(ki.SelectElement("X509Data"))
		}, xmlsig.ErrNoCertificate},
		{"DSA signature method", func(t *testing.T, d *etree.Document) {
			d.FindElement("//SignatureMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#dsa-sha1")
		}, xmlsig.ErrUnsupported},
		{"exclusive c14n", func(t *testing.T, d *etree.Document) {
			d.FindElement("//Transform").CreateAttr("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")
		}, xmlsig.ErrUnsupported},
		{"two SignedInfo", func(t *testing.T, d *etree.Document) {
			sig := d.FindElement("//Signature")
			sig.AddChild(sig.SelectElement("SignedInfo").Copy())
		}, xmlsig.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := sign(t)
			if _, err := xmlsig.Verify(doc.FindElement("//Signature"), xmlsig.VerifyOptions{}); err != nil {
				t.Fatalf("before breaking it: %v", err)
			}
			tt.mangle(t, doc)
			_, err := xmlsig.Verify(doc.FindElement("//Signature"), xmlsig.VerifyOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), string(err.(*xmlsig.Error).Code)) {
				t.Errorf("message %q does not start with its code", err)
			}
		})
	}
}

func TestDecodeXML(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantEnc string
		wantErr bool
	}{
		{"latin-1 declared", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xd1</a>"), "<a>Ñ</a>", xmlsig.EncodingLatin1, false},
		{"latin-1 undeclared (CAF)", []byte("<?xml version=\"1.0\"?><a>\xd1</a>"), "<a>Ñ</a>", xmlsig.EncodingLatin1, false},
		{"utf-8 undeclared", []byte("<a>Ñ</a>"), "<a>Ñ</a>", xmlsig.EncodingUTF8, false},
		{"utf-8 declared but latin-1 bytes", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\xd1</a>"), "", "", true},
		{"unknown encoding", []byte("<?xml version=\"1.0\" encoding=\"EBCDIC\"?><a/>"), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, enc, err := xmlsig.DecodeXML(tt.in)
			if tt.wantErr {
				if !errors.Is(err, xmlsig.ErrEncoding) {
					t.Fatalf("got %v, want ErrEncoding", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if enc != tt.wantEnc || !bytes.HasSuffix(got, []byte(tt.want)) {
				t.Errorf("got %q %s, want …%q %s", got, enc, tt.want, tt.wantEnc)
			}
		})
	}
	if _, err := xmlsig.ParseDocument([]byte(`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`)); !errors.Is(err, xmlsig.ErrDTD) {
		t.Errorf("DTD: got %v, want ErrDTD", err)
	}
}

func TestDecodeLatin1MatchesLatin1Package(t *testing.T) {
	all := make([]byte, 0, 256)
	for c := range 256 {
		all = append(all, byte(c))
	}
	b := append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`), all...)
	got, _, err := xmlsig.DecodeXML(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := latin1.Decode(b); !bytes.Equal(got, want) {
		t.Fatal("differs from latin1.Decode")
	}
}
