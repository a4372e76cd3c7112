package localpki

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dtecl/pipeline/shared/certs"
	"software.sslmate.com/src/go-pkcs12"
)

// Files are the paths WriteFiles wrote.
type Files struct {
	SIIKeysDir string   // directory with 100.cer (the test SII key, like sii-caf-keys)
	CACert     string   // the test CA certificate, PEM
	SignerP12  string   // the signing certificate and key, PKCS#12
	SignerCert string   // the signing certificate, PEM
	SignerKey  string   // its private key, PEM (PKCS#8)
	Password   string   // the PKCS#12 password
	CAFs       []string // CAF files, one per spec
}

// WriteFiles writes the PKI and CAFs for the given specs under dir, in the
// formats the tools read: sii-keys/100.cer, ca.pem, signer.p12, signer.pem,
// signer-key.pem and caf/CAF-{rut}-{type}-{from}-{to}.xml. The private
// keys are test keys; the files are written with mode 0600.
func (p *PKI) WriteFiles(dir, password string, specs ...CAFSpec) (*Files, error) {
	f := &Files{
		SIIKeysDir: filepath.Join(dir, "sii-keys"),
		CACert:     filepath.Join(dir, "ca.pem"),
		SignerP12:  filepath.Join(dir, "signer.p12"),
		SignerCert: filepath.Join(dir, "signer.pem"),
		SignerKey:  filepath.Join(dir, "signer-key.pem"),
		Password:   password,
	}
	for _, d := range []string{dir, f.SIIKeysDir, filepath.Join(dir, "caf")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	write := func(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
	certPEM := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	if err := write(filepath.Join(f.SIIKeysDir, strconv.Itoa(IDK)+".cer"), certPEM(p.SIICert.Raw)); err != nil {
		return nil, err
	}
	if err := write(f.CACert, certPEM(p.CACert.Raw)); err != nil {
		return nil, err
	}
	if err := writeSigner(f, p.Signer, write, certPEM); err != nil {
		return nil, err
	}
	for _, s := range specs {
		_, b, err := p.CAF(s)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "caf", fmt.Sprintf("CAF-%s-%d-%d-%d.xml", s.Issuer, s.Type, s.From, s.To))
		if err := write(path, b); err != nil {
			return nil, err
		}
		f.CAFs = append(f.CAFs, path)
	}
	return f, nil
}

func writeSigner(f *Files, c *certs.Certificate, write func(string, []byte) error, certPEM func([]byte) []byte) error {
	p12, err := pkcs12.Modern.Encode(c.Key, c.Cert, c.Chain, f.Password)
	if err != nil {
		return err
	}
	if err := write(f.SignerP12, p12); err != nil {
		return err
	}
	if err := write(f.SignerCert, certPEM(c.Cert.Raw)); err != nil {
		return err
	}
	keyDER, err := x509MarshalPKCS8(c)
	if err != nil {
		return err
	}
	return write(f.SignerKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}
