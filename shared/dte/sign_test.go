package dte_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// variants are requests beyond the samples: every type, accents and ñ,
// many lines, exempt and affected lines, discounts, references, the
// characters XML escapes.
func variants(t *testing.T) map[string]*request.Request {
	t.Helper()
	f33 := sample(t, "factura-33.json")
	out := map[string]*request.Request{}
	for _, name := range sampleNames(t) {
		out["sample "+name] = sample(t, name)
	}
	out["33 accents and ñ"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2001
		r.Issuer.Name = "Pingüino Ñuñoa Óptica y Cía. «Señal» Ltda."
		r.Receiver.Name = "Cañón del Maipú Árbol Ébano Índigo Úbeda"
		r.Receiver.Contact = "Ñandú Müller"
		r.Lines[0].Name = "Diseño gráfico: año, señal, güiro"
		r.Lines[0].Description = "Descripción con acentos: á é í ó ú ü ñ Ñ ¿? ¡! ° ª º ½"
	})
	out["33 sixty lines, exempt and affected, discounts"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2002
		r.Lines = nil
		for i := range request.MaxLines {
			l := request.Line{
				Name:      fmt.Sprintf("Artículo %02d ñandú", i+1),
				Quantity:  request.MustDecimal(strconv.Itoa(i%7 + 1)),
				UnitPrice: request.MustDecimal(fmt.Sprintf("%d.%02d", 1000+i*37, i%100)),
				Exempt:    i%5 == 0,
			}
			if i%3 == 0 {
				l.DiscountPercent = request.MustDecimal("12.5")
			}
			if i%4 == 1 {
				l.Code = fmt.Sprintf("SKU-%03d", i)
				l.Unit = "KG"
			}
			r.Lines = append(r.Lines, l)
		}
	})
	out["33 global discount, surcharge and exempt discount"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2003
		r.Adjustments = []request.Adjustment{
			{Kind: "discount", Description: "Descuento por volumen", ValueType: "%", Value: request.MustDecimal("7.5")},
			{Kind: "surcharge", Description: "Flete", ValueType: "$", Value: request.MustDecimal("2500")},
			{Kind: "discount", Description: "Descuento exento", ValueType: "$", Value: request.MustDecimal("100"), Exempt: true},
		}
	})
	out["33 XML special characters"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2004
		r.Receiver.Name = `O'Higgins & "Hermanos" <Ltda>`
		r.Lines[0].Name = `Tornillos 1/2" & tuercas <M8> 'galvanizados'`
		r.Lines[0].Description = "Línea 1\nLínea 2\tcon tab"
	})
	out["33 names longer than the TED keeps"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2005
		r.Receiver.Name = "Ñañañaña Sociedad Comercializadora de Productos Agrícolas del Sur de Chile Limitada"
		r.Lines[0].Name = "Servicio profesional de diseño y diagramación de catálogos anuales con fotos"
	})
	out["33 decimals"] = variant(t, f33, func(r *request.Request) {
		r.Document.Folio = 2006
		r.Lines[0].Quantity = request.MustDecimal("0.333333")
		r.Lines[0].UnitPrice = request.MustDecimal("123456.789012")
		r.Lines[1].DiscountPercent = request.MustDecimal("33.33")
	})
	out["34 with a global discount"] = variant(t, sample(t, "factura-exenta-34.json"), func(r *request.Request) {
		r.Document.Folio = 2007
		r.Adjustments = []request.Adjustment{{Kind: "discount", Description: "Beca", ValueType: "%", Value: request.MustDecimal("10")}}
	})
	out["52 traslado interno without prices"] = variant(t, sample(t, "guia-despacho-52.json"), func(r *request.Request) {
		r.Document.Folio = 2008
		r.Document.TransferType = 5
		r.Document.DispatchType = 0
		r.Receiver.RUT = "76086428-5"
		for i := range r.Lines {
			r.Lines[i].UnitPrice = request.Decimal{}
			r.Lines[i].Amount = 0
		}
	})
	out["56 several references"] = variant(t, sample(t, "nota-debito-56.json"), func(r *request.Request) {
		r.Document.Folio = 2009
		r.References = append([]request.Reference{{Type: "SET", Folio: "1", Date: "2026-11-20", Reason: "CASO 4541379-3"}},
			append(r.References, request.Reference{Type: "801", Folio: "OC-77", Date: "2026-11-01", Reason: "Orden de compra"})...)
	})
	out["61 corrige texto, zero amounts"] = variant(t, sample(t, "nota-credito-61.json"), func(r *request.Request) {
		r.Document.Folio = 2010
		r.References[0].Code = 2
		r.References[0].Reason = "Corrige giro del receptor"
		r.Lines = []request.Line{{Name: "Donde dice «Importación» debe decir «Importación y exportación»"}}
	})
	out["61 anula with exempt line"] = variant(t, sample(t, "nota-credito-61.json"), func(r *request.Request) {
		r.Document.Folio = 2011
		r.References[0].Code = 1
		r.Lines = append(r.Lines, request.Line{Name: "Despacho (exento)", Quantity: request.MustDecimal("1"), UnitPrice: request.MustDecimal("5000"), Exempt: true})
	})
	return out
}

// TestSign signs every sample and variant and checks each document with
// xmllint against the SII's schema, xmlsec1, goxmldsig's canonicalizer,
// the CAF key and this package's verifier and inspector.
func TestSign(t *testing.T) {
	f := getFixture(t)
	for name, req := range variants(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := sign(t, req)
			checkSigned(t, f, s.XML, req)
			if s.ID != req.Key().DocumentID() || s.Key != req.Key() {
				t.Errorf("ID %s key %s, want %s %s", s.ID, s.Key, req.Key().DocumentID(), req.Key())
			}
		})
	}
}

// checkSigned runs every check a signed standalone DTE must pass.
func checkSigned(t *testing.T, f *fixture, x []byte, req *request.Request) {
	t.Helper()
	if !bytes.HasPrefix(x, []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`)) {
		t.Errorf("no ISO-8859-1 declaration")
	}
	// The external tools get their own subtests: a missing tool skips
	// only its check (outside CI).
	t.Run("xmllint", func(t *testing.T) {
		if err := dtetest.ValidateXSD(t, siischema.DTE, x); err != nil {
			t.Errorf("schema: %v", err)
		}
	})
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, x, dtetest.XMLSec1{IDNode: "Documento", Trusted: [][]byte{dtetest.CertPEM(f.pki.CACert.Raw)}}); err != nil {
			t.Errorf("xmlsec1: %v", err)
		}
	})
	checkWithGoxmldsig(t, x)

	r := dte.Verify(x, strict(t, f.pki.Keys()))
	if !r.Valid() {
		t.Errorf("Verify: %+v", r.Failures())
	}
	if len(r.Documents) != 1 || r.Documents[0].Signature.Context != dte.ContextStandalone || !r.Documents[0].TED.OK() || !r.Documents[0].CAF.OK() {
		t.Errorf("Verify: %+v", r.Documents)
	}

	in, err := dte.Inspect(x)
	if err != nil {
		t.Fatal(err)
	}
	d := in.Documents[0]
	want := dte.Document{ID: req.Key().DocumentID(), Type: req.Document.Type, Folio: req.Document.Folio, IssueDate: req.Document.IssueDate,
		Issuer: req.Issuer.RUT, Receiver: req.Receiver.RUT, Total: req.Totals.Total, Lines: len(req.Lines)}
	if d.ID != want.ID || d.Type != want.Type || d.Folio != want.Folio || d.IssueDate != want.IssueDate || d.Issuer != want.Issuer ||
		d.Receiver != want.Receiver || d.Total != want.Total || d.Lines != want.Lines || len(d.References) != len(req.References) {
		t.Errorf("Inspect = %+v, want %+v", d, want)
	}
	if in.Encoding != xmlsig.EncodingLatin1 {
		t.Errorf("encoding %s", in.Encoding)
	}
	// Text survives the trip through ISO-8859-1.
	u, _, _ := xmlsig.DecodeXML(x)
	for _, s := range []string{req.Issuer.Name, req.Receiver.Contact} {
		if s != "" && !bytes.Contains(u, xmlsig.AppendText(nil, s)) {
			t.Errorf("%q is not in the document", s)
		}
	}
}

// checkWithGoxmldsig recomputes the Documento digest and checks the
// SignatureValue with goxmldsig's canonicalizer, independently of xmlsig.
func checkWithGoxmldsig(t *testing.T, x []byte) {
	t.Helper()
	doc, err := xmlsig.ParseDocument(x)
	if err != nil {
		t.Fatal(err)
	}
	docEl := doc.Root().SelectElement("Documento")
	sig := doc.Root().SelectElement("Signature")
	c := dsig.MakeC14N10RecCanonicalizer()
	canon, err := c.Canonicalize(docEl)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha1.Sum(canon)
	if got := sig.FindElement("SignedInfo/Reference/DigestValue").Text(); got != base64.StdEncoding.EncodeToString(digest[:]) {
		t.Errorf("goxmldsig digest %x differs from DigestValue %s", digest, got)
	}
	si, err := c.Canonicalize(sig.SelectElement("SignedInfo"))
	if err != nil {
		t.Fatal(err)
	}
	value, _ := base64.StdEncoding.DecodeString(sig.SelectElement("SignatureValue").Text())
	h := sha1.Sum(si)
	if err := rsa.VerifyPKCS1v15(&getFixture(t).pki.Signer.Key.PublicKey, crypto.SHA1, h[:], value); err != nil {
		t.Errorf("SignatureValue over goxmldsig's canonical SignedInfo: %v", err)
	}
}

// TestSignGolden pins the Documento each sample request becomes (up to
// the TED, which changes with the keys and the time). Rewrite with -update.
func TestSignGolden(t *testing.T) {
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			s := sign(t, sampleAsIs(t, name))
			u, _, err := xmlsig.DecodeXML(s.XML)
			if err != nil {
				t.Fatal(err)
			}
			got := between(string(u), "<Documento", "<TED") + "\n"
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".json")+".xml")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Documento differs from %s:\ngot  %s\nwant %s", path, got, want)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	f := getFixture(t)
	pki := f.pki
	f33 := sample(t, "factura-33.json")
	otherSII, err := dtetest.New()
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := otherSII.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 33, From: 1, To: 5000})
	wrongType, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 34, From: 1, To: 5000})
	wrongRUT, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: rut.MustParse("77654321-7"), Name: "X", Type: 33, From: 1, To: 5000})
	expired, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 33, From: 1, To: 5000, Authorized: time.Now().AddDate(0, -7, 0)})
	_, raw := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 33, From: 1, To: 5000})
	keyless, err := caf.Parse(raw[:bytes.Index(raw, []byte("<RSASK>"))])
	if err == nil {
		t.Fatal("a truncated CAF file parsed")
	}
	doc, _ := xmlsig.ParseDocument(raw)
	keyless, err = caf.FromElement(doc.FindElement("//CAF"))
	if err != nil {
		t.Fatal(err)
	}
	expiredCert, err := pki.NewSigner(dtetest.SignerSpec{RUT: dtetest.SignerRUT, Name: "Vencido", NotBefore: time.Now().AddDate(-3, 0, 0), NotAfter: time.Now().AddDate(0, 0, -1), Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	withExpired, _ := dte.NewSigner(expiredCert, dte.WithSIIKeys(pki.Keys()))
	noKeys, _ := dte.NewSigner(pki.Signer)
	euro := variant(t, f33, func(r *request.Request) {})
	euro.Lines[1].Name = "Impresión 10 €"

	tests := []struct {
		name    string
		signer  *dte.Signer
		req     *request.Request
		cafs    []*caf.CAF
		want    []error
		message string
	}{
		{"folio outside every CAF", f.signer, variant(t, f33, func(r *request.Request) { r.Document.Folio = 100001 }), f.cafs, []error{caf.ErrNoCAF}, "folio 100001"},
		{"CAF of another type", f.signer, f33, []*caf.CAF{wrongType}, []error{caf.ErrNoCAF, caf.ErrWrongType}, "another document type"},
		{"CAF of another issuer", f.signer, f33, []*caf.CAF{wrongRUT}, []error{caf.ErrNoCAF, caf.ErrWrongIssuer}, "another issuer"},
		{"CAF whose FRMA does not verify", f.signer, f33, []*caf.CAF{foreign}, []error{caf.ErrFRMA}, "FRMA"},
		{"expired CAF", f.signer, f33, []*caf.CAF{expired}, []error{caf.ErrExpired}, "expired on"},
		{"CAF without its private key", f.signer, f33, []*caf.CAF{keyless}, []error{caf.ErrNoPrivateKey}, "RSASK"},
		{"expired certificate", withExpired, f33, f.cafs, []error{dte.ErrCertificate, certs.ErrExpired}, "expired on"},
		{"no SII keys", noKeys, f33, f.cafs, []error{dte.ErrNoSIIKeys}, "FRMA"},
		{"text outside ISO-8859-1", f.signer, euro, f.cafs, []error{dte.ErrText}, "lines[1].name (Detalle/NmbItem)"},
		{"totals that do not add up", f.signer, variant(t, f33, func(r *request.Request) {}), f.cafs, []error{dte.ErrInvalidRequest}, "totals"},
		{"no request", f.signer, nil, f.cafs, []error{dte.ErrInvalidRequest}, "no request"},
	}
	tests[9].req.Totals.Total++
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.signer.Sign(context.Background(), tt.req, tt.cafs)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %v", err, w)
				}
			}
			if !errs.IsPermanent(err) {
				t.Errorf("error %q is not marked permanent", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", err, tt.message)
			}
			if tt.req != nil && !strings.HasPrefix(err.Error(), fmt.Sprintf("sign %d folio %d: ", tt.req.Document.Type, tt.req.Document.Folio)) {
				t.Errorf("error %q does not name the document", err)
			}
		})
	}
	t.Run("field error", func(t *testing.T) {
		_, err := f.signer.Sign(context.Background(), euro, f.cafs)
		var fe *dte.FieldError
		if !errors.As(err, &fe) || fe.Field != "lines[1].name" || fe.Element != "Detalle/NmbItem" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := f.signer.Sign(ctx, f33, f.cafs); !errors.Is(err, context.Canceled) || errs.IsPermanent(err) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSignWarnsBeforeCAFExpires(t *testing.T) {
	f := getFixture(t)
	soon, _ := f.pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 33, From: 1, To: 5000, Authorized: time.Now().AddDate(0, -6, 10)})
	s, err := f.signer.Sign(context.Background(), sample(t, "factura-33.json"), []*caf.CAF{soon})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Code != dte.WarnCAFExpiring {
		t.Fatalf("warnings %+v", s.Warnings)
	}
	// A guía's CAF never expires.
	old, _ := f.pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 52, From: 1, To: 5000, Authorized: time.Now().AddDate(-3, 0, 0)})
	s, err = f.signer.Sign(context.Background(), sample(t, "guia-despacho-52.json"), []*caf.CAF{old})
	if err != nil || len(s.Warnings) != 0 {
		t.Fatalf("52 with an old CAF: %v %+v", err, s)
	}
}

// TestSignPicksTheCAF checks the choice among several CAFs.
func TestSignPicksTheCAF(t *testing.T) {
	f := getFixture(t)
	var cafs []*caf.CAF
	for _, rng := range [][2]int64{{1, 1000}, {1001, 2000}, {2001, 3000}} {
		c, _ := f.pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: 33, From: rng[0], To: rng[1]})
		cafs = append(cafs, c)
	}
	req := variant(t, sample(t, "factura-33.json"), func(r *request.Request) { r.Document.Folio = 1500 })
	s, err := f.signer.Sign(context.Background(), req, cafs)
	if err != nil {
		t.Fatal(err)
	}
	if s.CAF != cafs[1] {
		t.Errorf("picked %s", s.CAF)
	}
}

// TestSignedBytesFollowTheClock checks TmstFirma, TSTED and Chile time.
func TestSignedBytesFollowTheClock(t *testing.T) {
	f := getFixture(t)
	at := time.Now().Truncate(time.Second)
	s, err := dte.NewSigner(f.pki.Signer, dte.WithSIIKeys(f.pki.Keys()), dte.WithClock(dte.ClockFunc(func() time.Time { return at })))
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Sign(context.Background(), sample(t, "factura-33.json"), f.cafs)
	if err != nil {
		t.Fatal(err)
	}
	ts := at.In(dte.Chile).Format("2006-01-02T15:04:05")
	for _, want := range []string{"<TmstFirma>" + ts + "</TmstFirma>", "<TSTED>" + ts + "</TSTED>"} {
		if !bytes.Contains(d.XML, []byte(want)) {
			t.Errorf("no %s", want)
		}
	}
	if got, _ := dte.ParseTimestamp(ts); !got.Equal(at) {
		t.Errorf("ParseTimestamp(%s) = %v, want %v", ts, got, at)
	}
}

// TestTEDWithTheWrongCAF re-stamps a document's TED with the CAF of
// another range (a different key) and re-signs it: the XML signature is
// fine, the TED is not.
func TestTEDWithTheWrongCAF(t *testing.T) {
	f := getFixture(t)
	s := sign(t, sample(t, "factura-33.json"))
	other, _ := f.pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada", Type: 33, From: 1, To: 100000})
	doc, err := xmlsig.ParseDocument(s.XML)
	if err != nil {
		t.Fatal(err)
	}
	dd := doc.FindElement("//TED/DD")
	old := dd.SelectElement("CAF")
	cd, _ := xmlsig.ParseDocument(other.AppendXML(nil))
	fresh := cd.Root()
	cd.RemoveChild(fresh)
	dd.InsertChildAt(old.Index(), fresh)
	dd.RemoveChild(old)
	root := doc.Root()
	root.RemoveChild(root.SelectElement("Signature"))
	xs, _ := xmlsig.NewSigner(f.pki.Signer)
	if _, err := xs.SignElement(root.SelectElement("Documento")); err != nil {
		t.Fatal(err)
	}
	x := append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), xmlsig.Serialize(root)...)
	r := dte.Verify(x, strict(t, f.pki.Keys()))
	d := r.Documents[0]
	if !d.Signature.OK() || d.TED.Code != dte.CodeTEDSignature || !d.CAF.OK() {
		t.Fatalf("signature %+v, TED %+v, CAF %+v", d.Signature.Check, d.TED, d.CAF)
	}
}

// TestChangedAfterSigning edits the total of a signed document.
func TestChangedAfterSigning(t *testing.T) {
	f := getFixture(t)
	s := sign(t, sample(t, "factura-33.json"))
	x := bytes.Replace(s.XML, []byte("<MntTotal>207618</MntTotal>"), []byte("<MntTotal>207619</MntTotal>"), 1)
	if bytes.Equal(x, s.XML) {
		t.Fatal("nothing replaced")
	}
	r := dte.Verify(x, strict(t, f.pki.Keys()))
	d := r.Documents[0]
	if d.Signature.Code != string(xmlsig.CodeDigest) || d.TED.Code != dte.CodeTEDMismatch || r.Valid() {
		t.Fatalf("signature %+v, TED %+v", d.Signature.Check, d.TED)
	}
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, x, dtetest.XMLSec1{IDNode: "Documento"}); err == nil {
			t.Error("xmlsec1 accepts the changed document")
		}
	})
}

// TestTEDFlattening checks the DD FRMT signs: ISO-8859-1, five entities.
func TestTEDFlattening(t *testing.T) {
	req := variants(t)["33 XML special characters"]
	s := sign(t, req)
	doc, _ := xmlsig.ParseDocument(s.XML)
	dd := doc.FindElement("//TED/DD")
	flat, err := caf.Flatten(dd)
	if err != nil {
		t.Fatal(err)
	}
	want := "<RSR>O&apos;Higgins &amp; &quot;Hermanos&quot; &lt;Ltda&gt;</RSR>"
	if !bytes.Contains(flat, []byte(want)) {
		t.Errorf("flattened DD lacks %s: %s", want, flat)
	}
	frmt, _ := base64.StdEncoding.DecodeString(doc.FindElement("//TED/FRMT").Text())
	if err := s.CAF.VerifyTED(flat, frmt); err != nil {
		t.Error(err)
	}
	// A UTF-8 flattening would not verify where there are accents.
	s2 := sign(t, variants(t)["33 accents and ñ"])
	doc2, _ := xmlsig.ParseDocument(s2.XML)
	dd2 := doc2.FindElement("//TED/DD")
	flat2, _ := caf.Flatten(dd2)
	utf8DD := latin1.Decode(flat2)
	frmt2, _ := base64.StdEncoding.DecodeString(doc2.FindElement("//TED/FRMT").Text())
	if bytes.Equal(utf8DD, flat2) || s2.CAF.VerifyTED(flat2, frmt2) != nil || s2.CAF.VerifyTED(utf8DD, frmt2) == nil {
		t.Error("FRMT must verify over ISO-8859-1 bytes only")
	}
}
