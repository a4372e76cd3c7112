package xmlsig

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
)

// Signer signs in the SII's profile with one certificate. It is immutable
// and safe for concurrent use.
type Signer struct {
	cert    *certs.Certificate
	keyInfo []byte // <KeyInfo>…</KeyInfo> in canonical form, without xmlns
}

// NewSigner prepares a Signer for a certificate.
func NewSigner(c *certs.Certificate) (*Signer, error) {
	if c == nil || c.Key == nil || c.Cert == nil {
		return nil, errors.New("xmlsig: a certificate with its private key is required")
	}
	if !c.Key.PublicKey.Equal(c.Cert.PublicKey) {
		return nil, certs.ErrKeyMismatch
	}
	s := &Signer{cert: c}
	s.keyInfo = appendKeyInfo(nil, &c.Key.PublicKey, c.Cert.Raw)
	return s, nil
}

// Certificate is the signing certificate.
func (s *Signer) Certificate() *certs.Certificate { return s.cert }

// AppendKeyInfo appends the KeyInfo element the SII requires:
// KeyValue/RSAKeyValue(Modulus, Exponent) then X509Data/X509Certificate.
// It is written in canonical form and relies on the enclosing Signature to
// declare the XMLDSig namespace.
func (s *Signer) AppendKeyInfo(dst []byte) []byte { return append(dst, s.keyInfo...) }

// SignSignedInfo signs the canonical form of a SignedInfo (RSA-SHA1,
// PKCS#1 v1.5) and returns the raw signature.
func (s *Signer) SignSignedInfo(canonical []byte) ([]byte, error) {
	h := sha1.Sum(canonical)
	// rand makes the RSA blinding unpredictable; the signature itself is
	// deterministic.
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.cert.Key, crypto.SHA1, h[:])
	if err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	return sig, nil
}

func appendKeyInfo(dst []byte, pub *rsa.PublicKey, certDER []byte) []byte {
	dst = append(dst, "<KeyInfo><KeyValue><RSAKeyValue><Modulus>"...)
	dst = base64.StdEncoding.AppendEncode(dst, pub.N.Bytes())
	dst = append(dst, "</Modulus><Exponent>"...)
	dst = base64.StdEncoding.AppendEncode(dst, big.NewInt(int64(pub.E)).Bytes())
	dst = append(dst, "</Exponent></RSAKeyValue></KeyValue><X509Data><X509Certificate>"...)
	dst = base64.StdEncoding.AppendEncode(dst, certDER)
	return append(dst, "</X509Certificate></X509Data></KeyInfo>"...)
}

// AppendSignedInfo appends the profile's SignedInfo for one reference:
// C14N 1.0, RSA-SHA1, one Transform (enveloped-signature when enveloped,
// else C14N 1.0), SHA-1. decls are the namespace declarations to write on
// SignedInfo: for the canonical form that is signed, every namespace in
// scope where the Signature will be (at least the XMLDSig one, see
// SignedInfoNS); for the copy written inside a Signature, none.
//
// goxmldsig's enveloped signatures carry a second, C14N Transform; the SII
// schema allows only one in DTE and EnvioDTE, and none is needed: C14N 1.0
// is what a node-set becomes without one.
func AppendSignedInfo(dst []byte, decls []NS, uri string, enveloped bool, digest []byte) []byte {
	dst = append(dst, "<SignedInfo"...)
	for _, d := range decls {
		if d.Prefix == "" {
			dst = append(dst, ` xmlns="`...)
		} else {
			dst = append(dst, ` xmlns:`...)
			dst = append(dst, d.Prefix...)
			dst = append(dst, `="`...)
		}
		dst = appendAttrValue(dst, d.URI)
		dst = append(dst, '"')
	}
	dst = append(dst, `><CanonicalizationMethod Algorithm="`+AlgC14N10+`"></CanonicalizationMethod>`+
		`<SignatureMethod Algorithm="`+AlgRSASHA1+`"></SignatureMethod><Reference URI="`...)
	dst = appendAttrValue(dst, uri)
	dst = append(dst, `"><Transforms>`...)
	if enveloped {
		dst = append(dst, `<Transform Algorithm="`+AlgEnveloped+`"></Transform>`...)
	} else {
		dst = append(dst, `<Transform Algorithm="`+AlgC14N10+`"></Transform>`...)
	}
	dst = append(dst, `</Transforms><DigestMethod Algorithm="`+AlgSHA1+`"></DigestMethod><DigestValue>`...)
	dst = base64.StdEncoding.AppendEncode(dst, digest)
	return append(dst, "</DigestValue></Reference></SignedInfo>"...)
}

// SignedInfoNS returns the namespace declarations the canonical SignedInfo
// carries when its Signature (declaring the XMLDSig default namespace) sits
// where inScope are the bindings: the XMLDSig default namespace plus every
// prefixed binding, sorted as C14N sorts them.
func SignedInfoNS(inScope []NS) []NS {
	out := []NS{{"", Namespace}}
	for _, b := range inScope {
		if b.Prefix != "" && b.Prefix != "xml" {
			out = bind(out, b.Prefix, b.URI)
		}
	}
	sortNS(out)
	return out
}

// RUT is the certificate holder's RUT (Carátula/RutEnvia, rutSender).
func (s *Signer) RUT() rut.RUT { return s.cert.RUT }

// ID identifies the certificate (a SHA-256 prefix of it, no secret), e.g.
// for a token cache.
func (s *Signer) ID() string {
	h := sha256.Sum256(s.cert.Cert.Raw)
	return hex.EncodeToString(h[:12])
}

// SignSeed signs the SII's getToken document
// (<getToken><item><Semilla>…</Semilla></item></getToken>) with an
// enveloped signature; with RUT and ID it makes a Signer an sii.Credential.
func (s *Signer) SignSeed(ctx context.Context, doc []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.SignEnvelopedXML(doc)
}
