package siisim

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Errors an Inspector's VerifySeed may wrap to get the SII's specific
// getToken codes (21 and 11) instead of 05 "invalid signature".
var (
	ErrKeyMismatch   = errors.New("KeyValue is not the certificate's key")
	ErrNoCertificate = errors.New("no certificate in KeyInfo")
)

// VerifySeedSignature verifies a signed getToken document with the
// project's XMLDSig code: one enveloped signature over the whole document
// (Reference URI=""), the key of the certificate in KeyInfo. It is the
// VerifySeed of the project's Inspector, usable by other Inspectors too.
func VerifySeedSignature(doc []byte) (*x509.Certificate, error) {
	d, err := xmlsig.ParseDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("signed seed: %w", err)
	}
	root := d.Root()
	if root == nil {
		return nil, errors.New("signed seed: empty document")
	}
	var sig = root.SelectElement("Signature")
	if sig == nil {
		return nil, errors.New("signed seed: no Signature under the root")
	}
	res, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{})
	switch {
	case errors.Is(err, xmlsig.ErrKeyMismatch):
		return nil, fmt.Errorf("signed seed: %w: %w", ErrKeyMismatch, err)
	case errors.Is(err, xmlsig.ErrNoCertificate):
		return nil, fmt.Errorf("signed seed: %w: %w", ErrNoCertificate, err)
	case err != nil:
		return nil, fmt.Errorf("signed seed: %w", err)
	}
	if res.URI != "" {
		return nil, fmt.Errorf("signed seed: Reference URI %q, the SII wants \"\" (the whole document)", res.URI)
	}
	if res.Certificate == nil {
		return nil, errors.New("signed seed: no certificate")
	}
	return res.Certificate, nil
}
