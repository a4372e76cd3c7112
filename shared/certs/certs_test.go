package certs_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/rut"
	"software.sslmate.com/src/go-pkcs12"
)

const samples = "../../testdata/sii"

func TestLoadPKCS12SIISample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples, "certs/ks.p12"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.LoadPKCS12(data, "11111111")
	if err != nil {
		t.Fatalf("legacy RC2-40 PKCS#12: %v", err)
	}
	if got, want := c.RUT, rut.MustParse("11111111-1"); got != want {
		t.Errorf("RUT = %s, want %s (from OU \"RUT - 11111111-1\")", got, want)
	}
	if c.Key.N.BitLen() != 2048 {
		t.Errorf("key size %d, want 2048", c.Key.N.BitLen())
	}
	if err := c.ValidAt(time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("valid in 2019: %v", err)
	}
	err = c.ValidAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if !errors.Is(err, certs.ErrExpired) {
		t.Fatalf("in 2026: got %v, want ErrExpired", err)
	}
	if !strings.Contains(err.Error(), "expired on 2020-12-19") {
		t.Errorf("error does not say when it expired: %v", err)
	}
}

func TestLoadPKCS12Errors(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(samples, "certs/ks.p12"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		password string
		want     error
	}{
		{"wrong password", sample, "22222222", certs.ErrWrongPassword},
		{"empty password", sample, "", certs.ErrWrongPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := certs.LoadPKCS12(tt.data, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("not PKCS#12", func(t *testing.T) {
		if _, err := certs.LoadPKCS12([]byte("hello"), "x"); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestLoadGenerated(t *testing.T) {
	pki := dtetest.MustShared(t)
	dir := t.TempDir()
	f, err := pki.WriteFiles(dir, "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	keyOnly := filepath.Join(dir, "other-key.pem")
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	os.WriteFile(keyOnly, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	combined := filepath.Join(dir, "combined.pem")
	a, _ := os.ReadFile(f.SignerCert)
	b, _ := os.ReadFile(f.SignerKey)
	os.WriteFile(combined, append(b, a...), 0o600)
	pkcs1 := filepath.Join(dir, "pkcs1.pem")
	os.WriteFile(pkcs1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pki.Signer.Key)}), 0o600)

	tests := []struct {
		name               string
		cert, key, pass    string
		wantErr            error
		wantErrMentionFile string
	}{
		{name: "pkcs12", cert: f.SignerP12, pass: "s3cr3t"},
		{name: "pkcs12 wrong password", cert: f.SignerP12, pass: "nope", wantErr: certs.ErrWrongPassword, wantErrMentionFile: f.SignerP12},
		{name: "pem cert and pkcs8 key", cert: f.SignerCert, key: f.SignerKey},
		{name: "pem cert and pkcs1 key", cert: f.SignerCert, key: pkcs1},
		{name: "one pem file with both", cert: combined},
		{name: "pem without key", cert: f.SignerCert, wantErr: certs.ErrNoKey, wantErrMentionFile: f.SignerCert},
		{name: "key of another certificate", cert: f.SignerCert, key: keyOnly, wantErr: certs.ErrKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := certs.LoadFile(tt.cert, tt.key, tt.pass)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if tt.wantErrMentionFile != "" && !strings.Contains(err.Error(), tt.wantErrMentionFile) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RUT != dtetest.SignerRUT {
				t.Errorf("RUT %s, want %s", c.RUT, dtetest.SignerRUT)
			}
			if !c.Cert.Equal(pki.Signer.Cert) {
				t.Error("picked the wrong certificate as the leaf")
			}
			if len(c.Chain) > 0 && !c.Chain[0].Equal(pki.CACert) {
				t.Error("chain is not the CA")
			}
		})
	}
}

// realCert is the signer certificate of a real DTE (E-CERTCHILE, RUT in the
// otherName SAN).
func realCert(t *testing.T) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, "real-dte/DTE--76354771-K--33--170--cleaned.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<X509Certificate>(.*?)</X509Certificate>`).FindSubmatch(b)
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRUTOf(t *testing.T) {
	pki := dtetest.MustShared(t)
	ou, err := pki.NewSigner(dtetest.SignerSpec{RUT: rut.MustParse("13185095-6"), Name: "Ramón", RUTInOU: true, Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"real E-CERTCHILE certificate (SAN otherName)", realCert(t), "13185095-6"},
		{"generated SAN otherName", pki.Signer.Cert, dtetest.SignerRUT.String()},
		{"subject OU", ou.Cert, "13185095-6"},
		{"subject serialNumber", bare(t, pkix.Name{CommonName: "X", SerialNumber: "RUT:13.185.095-6"}), "13185095-6"},
		{"serialNumber with K", bare(t, pkix.Name{CommonName: "X", SerialNumber: "60803000-k"}), "60803000-K"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := certs.RUTOf(tt.cert)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, name := range []pkix.Name{
		{CommonName: "Sin RUT"},
		{CommonName: "X", SerialNumber: "12345678-9"}, // wrong check digit
	} {
		t.Run("none in "+name.String(), func(t *testing.T) {
			if _, err := certs.RUTOf(bare(t, name)); !errors.Is(err, certs.ErrNoRUT) {
				t.Fatalf("got %v, want ErrNoRUT", err)
			}
		})
	}
}

func bare(t *testing.T, name pkix.Name) *x509.Certificate {
	t.Helper()
	pki := dtetest.MustShared(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: name, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pki.CACert, &pki.SIIKey.PublicKey, pki.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidAt(t *testing.T) {
	pki := dtetest.MustShared(t)
	c := pki.Signer
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"now", time.Now(), nil},
		{"before", c.Cert.NotBefore.Add(-time.Second), certs.ErrNotYetValid},
		{"after", c.Cert.NotAfter.Add(time.Second), certs.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.ValidAt(tt.at)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var ve *certs.ValidityError
			if tt.want != nil && !errors.As(err, &ve) {
				t.Fatalf("%v is not a *ValidityError", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	pki := dtetest.MustShared(t)
	if _, err := certs.New(nil, []*x509.Certificate{pki.Signer.Cert}); !errors.Is(err, certs.ErrNoKey) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := certs.New(pki.Signer.Key, nil); !errors.Is(err, certs.ErrNoCertificate) {
		t.Errorf("no certificate: %v", err)
	}
	if _, err := certs.New("not a key", []*x509.Certificate{pki.Signer.Cert}); !errors.Is(err, certs.ErrNotRSA) {
		t.Errorf("non-RSA key: %v", err)
	}
	// PKCS#12 files do not always put the leaf first.
	c, err := certs.New(pki.Signer.Key, []*x509.Certificate{pki.CACert, pki.Signer.Cert})
	if err != nil || !c.Cert.Equal(pki.Signer.Cert) {
		t.Errorf("leaf not found by key: %v", err)
	}
	p12, err := pkcs12.LegacyRC2.Encode(pki.Signer.Key, pki.Signer.Cert, []*x509.Certificate{pki.CACert}, "1234")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := certs.LoadPKCS12(p12, "1234"); err != nil || c.RUT != dtetest.SignerRUT {
		t.Errorf("RC2 PKCS#12 round trip: %v", err)
	}
}
