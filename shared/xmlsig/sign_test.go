package xmlsig_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/xmlsig"
	dsig "github.com/russellhaering/goxmldsig"
)

const getToken = `<?xml version="1.0"?>
<getToken><item><Semilla>000000000078</Semilla></item></getToken>`

func newSigner(t *testing.T) (*xmlsig.Signer, *dtetest.PKI) {
	t.Helper()
	pki := dtetest.MustShared(t)
	s, err := xmlsig.NewSigner(pki.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return s, pki
}

func TestSignEnvelopedGetToken(t *testing.T) {
	s, pki := newSigner(t)
	signed, err := s.SignEnvelopedXML([]byte(getToken))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsig.ParseDocument(signed)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	kids := root.ChildElements()
	if root.Tag != "getToken" || len(kids) != 2 || kids[0].Tag != "item" || kids[1].Tag != "Signature" {
		t.Fatalf("want <getToken><item/><Signature/></getToken>, got %s", signed)
	}
	sig := kids[1]
	checkProfile(t, sig, "", xmlsig.AlgEnveloped)

	t.Run("own verifier", func(t *testing.T) {
		res, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Certificate.Equal(pki.Signer.Cert) {
			t.Error("wrong certificate in the result")
		}
	})
	t.Run("goxmldsig", func(t *testing.T) {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pki.Signer.Cert}})
		ctx.Clock = dsig.NewFakeClockAt(time.Now())
		if _, err := ctx.Validate(root); err != nil {
			t.Fatalf("goxmldsig does not verify it: %v", err)
		}
	})
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, signed, dtetest.XMLSec1{Trusted: [][]byte{dtetest.CertPEM(pki.CACert.Raw)}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tampered seed", func(t *testing.T) {
		bad := bytes.Replace(signed, []byte("000000000078"), []byte("000000000079"), 1)
		d, _ := xmlsig.ParseDocument(bad)
		_, err := xmlsig.Verify(d.Root().SelectElement("Signature"), xmlsig.VerifyOptions{})
		if !errors.Is(err, xmlsig.ErrDigest) {
			t.Fatalf("got %v, want ErrDigest", err)
		}
	})
}

// checkProfile checks the shape the SII's schema and services want.
func checkProfile(t *testing.T, sig *etree.Element, uri, transform string) {
	t.Helper()
	if sig.Space != "" || sig.SelectAttrValue("xmlns", "") != xmlsig.Namespace {
		t.Errorf("Signature must declare the XMLDSig namespace as default, no prefix")
	}
	si := sig.SelectElement("SignedInfo")
	for path, want := range map[string]string{
		"CanonicalizationMethod": xmlsig.AlgC14N10,
		"SignatureMethod":        xmlsig.AlgRSASHA1,
		"Reference/DigestMethod": xmlsig.AlgSHA1,
	} {
		if got := si.FindElement(path).SelectAttrValue("Algorithm", ""); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if got := si.FindElement("Reference").SelectAttrValue("URI", "-"); got != uri {
		t.Errorf("Reference URI = %q, want %q", got, uri)
	}
	tr := si.FindElements("Reference/Transforms/Transform")
	if len(tr) != 1 || tr[0].SelectAttrValue("Algorithm", "") != transform {
		t.Errorf("want exactly one Transform %s", transform)
	}
	ki := sig.SelectElement("KeyInfo").ChildElements()
	if len(ki) != 2 || ki[0].Tag != "KeyValue" || ki[1].Tag != "X509Data" ||
		ki[0].FindElement("RSAKeyValue/Modulus") == nil || ki[0].FindElement("RSAKeyValue/Exponent") == nil ||
		len(ki[1].SelectElements("X509Certificate")) != 1 {
		t.Errorf("KeyInfo must be KeyValue/RSAKeyValue(Modulus, Exponent) then X509Data with one X509Certificate")
	}
}

// envelopeLike is an EnvioDTE-shaped document: the root declares xmlns:xsi,
// which inclusive C14N carries into the digest of SetDTE and SignedInfo.
const envelopeLike = `<?xml version="1.0" encoding="ISO-8859-1"?>
<EnvioDTE xmlns="http://www.sii.cl/SiiDte" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.sii.cl/SiiDte EnvioDTE_v10.xsd" version="1.0"><SetDTE ID="SetDoc"><Caratula version="1.0"><RutEmisor>76086428-5</RutEmisor></Caratula>
<DTE version="1.0"><Documento ID="F1T33"><Encabezado>Pe&#241;alol&#233;n &amp; C&#237;a</Encabezado></Documento></DTE></SetDTE></EnvioDTE>`

func TestSignElement(t *testing.T) {
	s, pki := newSigner(t)
	doc, err := xmlsig.ParseDocument([]byte(envelopeLike))
	if err != nil {
		t.Fatal(err)
	}
	set := doc.Root().SelectElement("SetDTE")
	sig, err := s.SignElement(set)
	if err != nil {
		t.Fatal(err)
	}
	if set.NextSibling() != sig {
		t.Fatal("the Signature must be SetDTE's next sibling")
	}
	checkProfile(t, sig, "#SetDoc", xmlsig.AlgC14N10)
	if _, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{}); err != nil {
		t.Fatalf("own verifier: %v", err)
	}
	// goxmldsig's canonicalizer gives the same digest for SetDTE.
	want, err := dsig.MakeC14N10RecCanonicalizer().Canonicalize(set)
	if err != nil {
		t.Fatal(err)
	}
	if got := xmlsig.Canonicalize(set); !bytes.Equal(got, want) {
		t.Errorf("canonical SetDTE differs from goxmldsig's:\n%s\n%s", got, want)
	}
	out := append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), xmlsig.Serialize(doc.Root())...)
	t.Run("xmlsec1", func(t *testing.T) {
		if err := dtetest.XMLSec1Verify(t, out, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']",
			Trusted: [][]byte{dtetest.CertPEM(pki.CACert.Raw)}}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, err := s.SignElement(etree.NewElement("SetDTE")); err == nil || !strings.Contains(err.Error(), "no ID") {
			t.Errorf("element without ID: %v", err)
		}
		loose := etree.NewElement("SetDTE")
		loose.CreateAttr("ID", "x")
		if _, err := s.SignElement(loose); err == nil || !strings.Contains(err.Error(), "attached") {
			t.Errorf("detached element: %v", err)
		}
	})
}
