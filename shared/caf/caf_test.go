package caf_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

const samples = "../../testdata/sii"

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join(samples, name))
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func siiKeys(t testing.TB) *caf.Keys {
	t.Helper()
	k, err := caf.LoadKeys("siikeys")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseSample(t *testing.T) {
	raw := readSample(t, "caf/FoliosSII7623529133120254111137.xml")
	if bytes.Contains(raw, []byte("encoding=")) || !bytes.Contains(raw, []byte("DISE\xd1O")) {
		t.Fatal("the sample is supposed to be ISO-8859-1 without a declaration")
	}
	c, err := caf.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := caf.CAF{Issuer: rut.MustParse("76235291-5"), Name: "DISEÑO Y ENTRETENIMIENTOS WITHIN PLAY LI", Type: 33, From: 1, To: 20, Authorized: "2025-04-11", IDK: 100}
	if c.Issuer != want.Issuer || c.Name != want.Name || c.Type != want.Type || c.From != want.From || c.To != want.To || c.Authorized != want.Authorized || c.IDK != want.IDK {
		t.Errorf("got %s %q", c, c.Name)
	}
	if c.PublicKey.N.BitLen() != 512 || c.PublicKey.E != 3 || !c.CanStamp() {
		t.Errorf("key %d bits e=%d, can stamp %v", c.PublicKey.N.BitLen(), c.PublicKey.E, c.CanStamp())
	}
	if err := c.VerifySII(siiKeys(t)); err != nil {
		t.Errorf("FRMA with the SII's 100.cer: %v", err)
	}
	// The production key must not verify a certification CAF.
	k300, _ := caf.ParsePublicKey(readFile(t, "siikeys/300.cer"))
	if err := c.VerifySII(caf.NewKeys(map[int64]*rsa.PublicKey{100: k300})); !errors.Is(err, caf.ErrFRMA) {
		t.Errorf("with the wrong key: %v", err)
	}
	if err := c.VerifySII(caf.NewKeys(map[int64]*rsa.PublicKey{300: k300})); !errors.Is(err, caf.ErrUnknownIDK) {
		t.Errorf("without IDK 100: %v", err)
	}
	sig, err := c.SignTED([]byte("<DD>x</DD>"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyTED([]byte("<DD>x</DD>"), sig); err != nil {
		t.Error(err)
	}
	if err := c.VerifyTED([]byte("<DD>y</DD>"), sig); !errors.Is(err, caf.ErrTEDSignature) {
		t.Errorf("changed DD: %v", err)
	}
	if exp, ok := c.ExpiresAt(); !ok || exp.Format(time.DateOnly) != "2025-10-11" {
		t.Errorf("expires %v %v", exp, ok)
	}
}

// TestSampleTEDs checks the TEDs and CAFs of the real documents.
func TestSampleTEDs(t *testing.T) {
	keys := siiKeys(t)
	tests := []struct {
		file    string
		wantTED error
	}{
		{"real-dte/DTE--76354771-K--33--170--cleaned.xml", nil},
		{"sii-official/F60T33-ejemplo-oficial-SII.xml", nil},
		{"real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", caf.ErrTEDSignature},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := xmlsig.ParseDocument(readSample(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ted := doc.FindElement("//TED")
			c, err := caf.FromElement(ted.FindElement("DD/CAF"))
			if err != nil {
				t.Fatal(err)
			}
			if c.CanStamp() {
				t.Error("a CAF from a TED has no private key")
			}
			if err := c.VerifySII(keys); err != nil {
				t.Errorf("FRMA: %v", err)
			}
			dd, err := caf.Flatten(ted.SelectElement("DD"))
			if err != nil {
				t.Fatal(err)
			}
			frmt, _ := decode(ted.SelectElement("FRMT").Text())
			if err := c.VerifyTED(dd, frmt); !errors.Is(err, tt.wantTED) && !(err == nil && tt.wantTED == nil) {
				t.Errorf("FRMT: got %v, want %v", err, tt.wantTED)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	raw := readSample(t, "caf/FoliosSII7623529133120254111137.xml")
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	sk := raw[bytes.Index(raw, []byte("<RSASK>"))+7 : bytes.Index(raw, []byte("</RSASK>"))]
	tests := []struct {
		name, old, new string
		want           error
		message        string
	}{
		{"not XML", "<AUTORIZACION>", "<AUTORIZACION", caf.ErrMalformed, "well-formed"},
		{"range upside down", "<D>1</D><H>20</H>", "<D>30</D><H>20</H>", caf.ErrMalformed, "RNG 30-20"},
		{"bad RUT", "<RE>76235291-5</RE>", "<RE>76235291-6</RE>", caf.ErrMalformed, "DA/RE"},
		{"no FA", "<FA>2025-04-11</FA>", "", caf.ErrMalformed, "FA"},
		{"bad FA", "<FA>2025-04-11</FA>", "<FA>11-04-2025</FA>", caf.ErrMalformed, "DA/FA"},
		{"DSA key", "<RSAPK>", "<DSAPK>", caf.ErrMalformed, ""},
		{"private key of another CAF", string(sk), string(otherPEM), caf.ErrKeyMismatch, "RSASK"},
		{"FRMA not base64", "algoritmo=\"SHA1withRSA\">", "algoritmo=\"SHA1withRSA\">!!", caf.ErrMalformed, "FRMA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Replace(raw, []byte(tt.old), []byte(tt.new), 1)
			if bytes.Equal(b, raw) {
				t.Fatal("nothing replaced")
			}
			_, err := caf.Parse(b)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want %v mentioning %q", err, tt.want, tt.message)
			}
		})
	}
	if _, err := caf.Parse([]byte(`<?xml version="1.0"?><DTE/>`)); err == nil {
		t.Error("a DTE parsed as a CAF")
	}
}

func TestParsePublicKey(t *testing.T) {
	k100, err := caf.ParsePublicKey(readFile(t, "siikeys/100.cer"))
	if err != nil {
		t.Fatalf("100.cer: %v", err)
	}
	if k100.N.BitLen() != 512 || k100.E != 65537 {
		t.Errorf("100.cer: %d bits e=%d", k100.N.BitLen(), k100.E)
	}
	pki := dtetest.MustShared(t)
	spki, _ := x509.MarshalPKIXPublicKey(&pki.SIIKey.PublicKey)
	forms := map[string][]byte{
		"PEM certificate": dtetest.CertPEM(pki.SIICert.Raw),
		"DER certificate": pki.SIICert.Raw,
		"PUBLIC KEY":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}),
		"RSA PUBLIC KEY":  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&pki.SIIKey.PublicKey)}),
	}
	for name, b := range forms {
		t.Run(name, func(t *testing.T) {
			k, err := caf.ParsePublicKey(b)
			if err != nil || !k.Equal(&pki.SIIKey.PublicKey) {
				t.Fatalf("%v", err)
			}
		})
	}
	if _, err := caf.ParsePublicKey([]byte("nonsense")); err == nil {
		t.Error("nonsense parsed")
	}
}

func TestLoadKeys(t *testing.T) {
	k := siiKeys(t)
	for _, idk := range []int64{100, 300} {
		if _, ok := k.Get(idk); !ok {
			t.Errorf("no key for IDK %d", idk)
		}
	}
	if _, err := caf.LoadKeys(t.TempDir()); err == nil {
		t.Error("an empty directory gave keys")
	}
}

func TestSelect(t *testing.T) {
	pki := dtetest.MustShared(t)
	issuer := dtetest.IssuerRUT
	now := time.Now()
	mk := func(typ int, from, to int64, fa time.Time) *caf.CAF {
		c, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: issuer, Name: "X", Type: typ, From: from, To: to, Authorized: fa})
		return c
	}
	old := mk(33, 1, 100, now.AddDate(0, -2, 0))
	newer := mk(33, 50, 150, now.AddDate(0, -1, 0))
	gone := mk(33, 200, 300, now.AddDate(-1, 0, 0))
	guia := mk(52, 1, 100, now.AddDate(-5, 0, 0))
	all := []*caf.CAF{old, newer, gone, guia}
	tests := []struct {
		name  string
		typ   int
		folio int64
		cafs  []*caf.CAF
		want  *caf.CAF
		err   error
	}{
		{"only one fits", 33, 10, all, old, nil},
		{"overlap: the newest", 33, 60, all, newer, nil},
		{"expired", 33, 250, all, nil, caf.ErrExpired},
		{"outside every CAF", 33, 1000, all, nil, caf.ErrNoCAF},
		{"guías do not expire", 52, 5, all, guia, nil},
		{"only a CAF of another type", 34, 5, []*caf.CAF{old}, nil, caf.ErrWrongType},
		{"no CAFs", 33, 5, nil, nil, caf.ErrNoCAF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := caf.Select(tt.cafs, issuer, tt.typ, tt.folio, now)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("got %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
	if _, err := caf.Select(all, rut.MustParse("77654321-7"), 33, 10, now); !errors.Is(err, caf.ErrNoCAF) || !strings.Contains(err.Error(), "loaded: ") {
		t.Errorf("another issuer: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	pki := dtetest.MustShared(t)
	fa := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	for typ, expires := range map[int]bool{33: true, 34: false, 43: true, 46: true, 52: false, 56: true, 61: true, 110: false} {
		c, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "X", Type: typ, From: 1, To: 2, Authorized: fa})
		exp, ok := c.ExpiresAt()
		if ok != expires {
			t.Errorf("type %d: expires %v, want %v", typ, ok, expires)
			continue
		}
		if ok && (!c.Expired(exp) || c.Expired(exp.Add(-time.Second)) || exp.Format(time.DateOnly) != "2025-07-31") {
			t.Errorf("type %d: expiry %v", typ, exp)
		}
	}
}

func TestFlatten(t *testing.T) {
	doc, err := xmlsig.ParseDocument([]byte("<DD xmlns=\"http://www.sii.cl/SiiDte\">\n  <RSR>O'Higgins &amp; \"Cía\" &lt;1&gt;</RSR>\n  <X a=\"1\">  two  spaces  </X>\n</DD>"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := caf.Flatten(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	want := "<DD><RSR>O&apos;Higgins &amp; &quot;C\xeda&quot; &lt;1&gt;</RSR><X a=\"1\">  two  spaces  </X></DD>"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	doc2, _ := xmlsig.ParseDocument([]byte("<DD><RSR>10 €</RSR></DD>"))
	if _, err := caf.Flatten(doc2.Root()); err == nil {
		t.Error("€ flattened")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readSample(f, "caf/FoliosSII7623529133120254111137.xml"))
	f.Add([]byte(`<?xml version="1.0"?><CAF version="1.0"><DA><RE>1-9</RE><RS>x</RS><TD>33</TD><RNG><D>1</D><H>2</H></RNG><FA>2025-01-01</FA><RSAPK><M>AQAB</M><E>Aw==</E></RSAPK><IDK>100</IDK></DA><FRMA>AA==</FRMA></CAF>`))
	keys := siiKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := caf.Parse(b)
		if err != nil {
			return
		}
		if c.From <= 0 || c.To < c.From || c.PublicKey == nil || c.Issuer.IsZero() {
			t.Fatalf("accepted an impossible CAF: %s", c)
		}
		c.VerifySII(keys)
		c.ExpiresAt()
		if c.CanStamp() {
			sig, err := c.SignTED([]byte("dd"))
			if err != nil || c.VerifyTED([]byte("dd"), sig) != nil {
				t.Fatalf("a CAF that can stamp does not verify its own TED: %v", err)
			}
		}
	})
}

func decode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}
