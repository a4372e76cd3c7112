package sii

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// CertificateCredential is the Credential of a certificate loaded with
// shared/certs: it signs the seed with xmlsig in the SII's profile.
type CertificateCredential struct {
	signer *xmlsig.Signer
	rut    rut.RUT
	id     string
}

// NewCertificateCredential prepares a certificate for authentication.
func NewCertificateCredential(c *certs.Certificate) (*CertificateCredential, error) {
	if c == nil || c.Cert == nil {
		return nil, fmt.Errorf("sii credential: a certificate is required")
	}
	if c.RUT.IsZero() {
		return nil, fmt.Errorf("sii credential %q: %w", c.Cert.Subject.CommonName, certs.ErrNoRUT)
	}
	s, err := xmlsig.NewSigner(c)
	if err != nil {
		return nil, fmt.Errorf("sii credential %s: %w", c.RUT, err)
	}
	sum := sha256.Sum256(c.Cert.Raw)
	return &CertificateCredential{signer: s, rut: c.RUT, id: hex.EncodeToString(sum[:16])}, nil
}

// RUT implements Credential.
func (c *CertificateCredential) RUT() rut.RUT { return c.rut }

// ID implements Credential: a digest of the certificate.
func (c *CertificateCredential) ID() string { return c.id }

// SignSeed implements Credential: an enveloped signature over the whole
// getToken document, with KeyValue and X509Certificate.
func (c *CertificateCredential) SignSeed(_ context.Context, doc []byte) ([]byte, error) {
	out, err := c.signer.SignEnvelopedXML(doc)
	if err != nil {
		return nil, fmt.Errorf("sign seed as %s: %w", c.rut, err)
	}
	return out, nil
}
