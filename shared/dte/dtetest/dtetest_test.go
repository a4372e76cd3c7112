package dtetest_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/rut"
)

// TestCAFLooksReal checks a generated CAF against the real layout:
// ISO-8859-1 bytes, no encoding declaration, 512-bit key with e = 3,
// FRMA by the test SII key, the name cut at 40 characters.
func TestCAFLooksReal(t *testing.T) {
	pki := dtetest.MustShared(t)
	c, raw, err := pki.CAF(dtetest.CAFSpec{Issuer: rut.MustParse("76235291-5"), Name: "DISEÑO Y ENTRETENIMIENTOS WITHIN PLAY LIMITADA", Type: 33, From: 1, To: 20,
		Authorized: time.Date(2025, 4, 11, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("<?xml version=\"1.0\"?>\n<AUTORIZACION>\n<CAF version=\"1.0\">\n<DA>\n")) {
		t.Errorf("layout: %.80q", raw)
	}
	if !bytes.Contains(raw, []byte("<RS>DISE\xd1O Y ENTRETENIMIENTOS WITHIN PLAY LI</RS>")) {
		t.Error("RS is not ISO-8859-1 cut at 40 characters")
	}
	for _, part := range []string{"<RSASK>-----BEGIN RSA PRIVATE KEY-----", "<RSAPUBK>-----BEGIN PUBLIC KEY-----", "<E>Aw==</E>", "<IDK>100</IDK>", `<FRMA algoritmo="SHA1withRSA">`} {
		if !bytes.Contains(raw, []byte(part)) {
			t.Errorf("no %s", part)
		}
	}
	if c.PublicKey.N.BitLen() != 512 || c.PublicKey.E != 3 || !c.CanStamp() {
		t.Errorf("key: %d bits, e=%d", c.PublicKey.N.BitLen(), c.PublicKey.E)
	}
	if err := c.VerifySII(pki.Keys()); err != nil {
		t.Error(err)
	}
	// Another test SII does not vouch for it.
	other, err := dtetest.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifySII(other.Keys()); err == nil {
		t.Error("FRMA verifies with another SII key")
	}
}

func TestWriteFiles(t *testing.T) {
	pki := dtetest.MustShared(t)
	dir := t.TempDir()
	f, err := pki.WriteFiles(dir, "clave", dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú", Type: 33, From: 1, To: 100})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := caf.LoadKeys(f.SIIKeysDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.CAFs[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := caf.Parse(b)
	if err != nil || c.VerifySII(keys) != nil {
		t.Fatalf("CAF file: %v", err)
	}
	for _, load := range []struct{ cert, key, pass string }{{f.SignerP12, "", "clave"}, {f.SignerCert, f.SignerKey, ""}} {
		s, err := certs.LoadFile(load.cert, load.key, load.pass)
		if err != nil || s.RUT != dtetest.SignerRUT || !s.Cert.Equal(pki.Signer.Cert) {
			t.Errorf("%s: %v", load.cert, err)
		}
	}
	if st, err := os.Stat(f.SignerP12); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("signer.p12 mode: %v %v", st.Mode(), err)
	}
}
