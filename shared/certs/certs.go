package certs

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/rut"
)

// Certificate is a signing certificate with its private key and the RUT of
// its owner.
type Certificate struct {
	// Key is the private key; the SII's signature profile is RSA only.
	Key *rsa.PrivateKey
	// Cert is the leaf certificate, the one whose public key is Key's.
	Cert *x509.Certificate
	// Chain holds any other certificates found with it (CA certificates).
	// They never go into a signature: the SII wants exactly one certificate.
	Chain []*x509.Certificate
	// RUT is the owner's RUT, read from the certificate (see RUTOf).
	RUT rut.RUT
}

// Errors for loading and checking certificates. They are wrapped with the
// detail; branch on them with errors.Is.
var (
	ErrWrongPassword = errors.New("wrong password for the PKCS#12 file")
	ErrNotRSA        = errors.New("the private key is not RSA (the SII's signature profile is RSA-SHA1)")
	ErrKeyMismatch   = errors.New("the private key does not belong to the certificate")
	ErrNoCertificate = errors.New("no certificate found")
	ErrNoKey         = errors.New("no private key found")
	ErrNoRUT         = errors.New("the certificate carries no RUT (subjectAltName otherName 1.3.6.1.4.1.8321.1, serialNumber or OU)")
	ErrExpired       = errors.New("certificate expired")
	ErrNotYetValid   = errors.New("certificate not yet valid")
)

// ValidityError says why a certificate is not valid at a given time. It
// matches ErrExpired or ErrNotYetValid with errors.Is.
type ValidityError struct {
	Subject   string
	At        time.Time
	NotBefore time.Time
	NotAfter  time.Time
}

// Error says when the certificate is valid and when it was checked.
func (e *ValidityError) Error() string {
	if e.At.Before(e.NotBefore) {
		return fmt.Sprintf("certificate %q is not valid before %s (checked at %s)", e.Subject, e.NotBefore.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("certificate %q expired on %s (checked at %s)", e.Subject, e.NotAfter.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrExpired) and errors.Is(err, ErrNotYetValid) work.
func (e *ValidityError) Is(target error) bool {
	if e.At.Before(e.NotBefore) {
		return target == ErrNotYetValid
	}
	return target == ErrExpired
}

// ValidAt returns nil when the certificate is valid at t, else a
// *ValidityError. The SII checks validity at the signing time (TmstFirma).
func (c *Certificate) ValidAt(t time.Time) error {
	return CheckValidity(c.Cert, t)
}

// Name is the holder's name (the subject's common name).
func (c *Certificate) Name() string { return c.Cert.Subject.CommonName }

// CheckValidity is ValidAt for any certificate.
func CheckValidity(cert *x509.Certificate, t time.Time) error {
	if t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return &ValidityError{Subject: cert.Subject.CommonName, At: t, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}
	}
	return nil
}

// New assembles a Certificate from a key and certificates, picking as the
// leaf the certificate whose public key matches the key (PKCS#12 files do
// not always list it first), and reading the owner's RUT.
func New(key any, certs []*x509.Certificate) (*Certificate, error) {
	if key == nil {
		return nil, ErrNoKey
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %T", ErrNotRSA, key)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	leaf := -1
	for i, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&rk.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, fmt.Errorf("%w (certificate %q)", ErrKeyMismatch, certs[0].Subject.CommonName)
	}
	out := &Certificate{Key: rk, Cert: certs[leaf]}
	for i, c := range certs {
		if i != leaf {
			out.Chain = append(out.Chain, c)
		}
	}
	r, err := RUTOf(out.Cert)
	if err != nil {
		return nil, err
	}
	out.RUT = r
	return out, nil
}
