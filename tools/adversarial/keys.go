package adversarial

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/rut"
)

// Keys are the test keys the corpus is made with. They are committed
// (testdata/adversarial/keys) so that generating the corpus again gives the
// same bytes: RSA PKCS#1 v1.5 signatures are deterministic.
type Keys struct {
	SII      *rsa.PrivateKey    // the test "SII" that signs CAFs, IDK 100
	Signer   *certs.Certificate // the issuer's signer, valid 2025-2035
	Expired  *certs.Certificate // the same person's certificate of 2019-2020
	Attacker *certs.Certificate // a certificate the attacker made (its own CA), same RUT
	CAF      []byte             // the issuer's CAF, type 33 folios 1-5000, FA 2026-11-01
	// Forged CAFs, stamped by the attacker's own "SII" key.
	CAFUnknownIDK []byte // IDK 999
	CAFKnownIDK   []byte // claims IDK 100
}

// Identities of the corpus.
var (
	Issuer   = rut.MustParse("76086428-5")
	SignerID = rut.MustParse("11111111-1")
)

// Key file names under the keys folder.
const (
	fileSII        = "sii-key.pem"
	fileSIIPublic  = "sii-keys/100.pem"
	fileSigner     = "signer.pem"
	fileExpired    = "expired.pem"
	fileAttacker   = "attacker.pem"
	fileCAF        = "caf-33.xml"
	fileCAFUnknown = "caf-33-forged-idk999.xml"
	fileCAFKnown   = "caf-33-forged-idk100.xml"
)

// SIIKeysDir is the folder of the test SII's public key, for
// `dte verify --sii-keys` and caf.SIIKeys.
func SIIKeysDir(keysDir string) string { return filepath.Join(keysDir, "sii-keys") }

// LoadKeys reads the keys folder.
func LoadKeys(dir string) (*Keys, error) {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	k := &Keys{}
	b, err := read(fileSII)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: not PEM", fileSII)
	}
	if k.SII, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
		return nil, fmt.Errorf("%s: %w", fileSII, err)
	}
	for _, c := range []struct {
		name string
		dst  **certs.Certificate
	}{{fileSigner, &k.Signer}, {fileExpired, &k.Expired}, {fileAttacker, &k.Attacker}} {
		if *c.dst, err = certs.LoadFile(filepath.Join(dir, c.name), "", ""); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		name string
		dst  *[]byte
	}{{fileCAF, &k.CAF}, {fileCAFUnknown, &k.CAFUnknownIDK}, {fileCAFKnown, &k.CAFKnownIDK}} {
		if *c.dst, err = read(c.name); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// SIIKeys is the CAF key set of the corpus: the SII's own keys with the
// test SII as IDK 100.
func (k *Keys) SIIKeys() *caf.Keys {
	m := map[int64]*rsa.PublicKey{100: &k.SII.PublicKey}
	if b, err := caf.BuiltinKeys(); err == nil {
		if p, ok := b.Get(300); ok {
			m[300] = p
		}
	}
	return caf.NewKeys(m)
}

// WriteNewKeys makes a new set of keys and writes it to dir (go test
// ./tools/adversarial -run TestCorpus -update -new-keys). Every case changes.
func WriteNewKeys(dir string) error {
	pki, err := dtetest.New()
	if err != nil {
		return err
	}
	attackerPKI, err := dtetest.New()
	if err != nil {
		return err
	}
	utc := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	signer, err := pki.NewSigner(dtetest.SignerSpec{RUT: SignerID, Name: "Ñandú Pérez Test", NotBefore: utc(2025), NotAfter: utc(2035)})
	if err != nil {
		return err
	}
	expired, err := pki.NewSigner(dtetest.SignerSpec{RUT: SignerID, Name: "Ñandú Pérez Test", NotBefore: utc(2019), NotAfter: utc(2020)})
	if err != nil {
		return err
	}
	attacker, err := attackerPKI.NewSigner(dtetest.SignerSpec{RUT: SignerID, Name: "Ñandú Pérez Test", NotBefore: utc(2025), NotAfter: utc(2035)})
	if err != nil {
		return err
	}
	fa := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	spec := dtetest.CAFSpec{Issuer: Issuer, Name: "Comercial Ñandú y Compañía Limitada", Type: 33, From: 1, To: 5000, Authorized: fa}
	_, cafFile, err := pki.CAF(spec)
	if err != nil {
		return err
	}
	spec.IDK = 999
	_, unknown, err := attackerPKI.CAF(spec)
	if err != nil {
		return err
	}
	spec.IDK = 100
	_, known, err := attackerPKI.CAF(spec)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&pki.SIIKey.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		fileSII:       pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pki.SIIKey)}),
		fileSIIPublic: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		fileCAF:       cafFile, fileCAFUnknown: unknown, fileCAFKnown: known,
	}
	for name, c := range map[string]*certs.Certificate{fileSigner: signer, fileExpired: expired, fileAttacker: attacker} {
		if files[name], err = certPEM(c); err != nil {
			return err
		}
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// certPEM is a certificate, its chain and its key in one PEM file.
func certPEM(c *certs.Certificate) ([]byte, error) {
	var out []byte
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})...)
	for _, ch := range c.Chain {
		if !ch.Equal(c.Cert) {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ch.Raw})...)
		}
	}
	if c.Key == nil {
		return nil, errors.New("no private key")
	}
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(c.Key)})...), nil
}
