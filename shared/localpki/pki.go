package localpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
)

// IDK is the CAF key identifier the test SII key stands for
// (certification).
const IDK = 100

// Default identities of the shared fixture.
var (
	// SignerRUT is the RUT in the shared signing certificate.
	SignerRUT = rut.MustParse("11111111-1")
	// IssuerRUT is the issuer of the sample requests (samples/requests).
	IssuerRUT = rut.MustParse("76086428-5")
)

// PKI is a set of test keys: the "SII" that signs CAFs, a CA, and one
// personal signing certificate issued by it.
type PKI struct {
	// SIIKey and SIICert stand in for the SII's CAF-signing key (IDK 100).
	SIIKey  *rsa.PrivateKey
	SIICert *x509.Certificate
	// CAKey and CACert are a test certification authority.
	CAKey  *rsa.PrivateKey
	CACert *x509.Certificate
	// Signer is a personal certificate (RSA-2048, RUT SignerRUT in the
	// otherName SAN) issued by the CA, valid from a year ago for two years.
	Signer *certs.Certificate
}

// Keys returns the SII key set for verifying test CAFs (IDK 100 → the
// test SII key).
func (p *PKI) Keys() *caf.Keys {
	return caf.NewKeys(map[int64]*rsa.PublicKey{IDK: &p.SIIKey.PublicKey})
}

// New generates a fresh PKI.
func New() (*PKI, error) {
	now := time.Now()
	p := &PKI{}
	var err error
	if p.SIIKey, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		return nil, err
	}
	siiName := pkix.Name{Country: []string{"CL"}, Organization: []string{"Servicio de Impuestos Internos (TEST)"},
		OrganizationalUnit: []string{"dtetest"}, CommonName: "SII CAF IDK 100 (TEST)"}
	if p.SIICert, err = selfSigned(p.SIIKey, siiName, now); err != nil {
		return nil, err
	}
	if p.CAKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	caName := pkix.Name{Country: []string{"CL"}, Organization: []string{"dtetest"}, CommonName: "dtetest CA (TEST)"}
	if p.CACert, err = selfSigned(p.CAKey, caName, now); err != nil {
		return nil, err
	}
	p.Signer, err = p.NewSigner(SignerSpec{RUT: SignerRUT, Name: "Ñandú Pérez Test"})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func selfSigned(key *rsa.PrivateKey, name pkix.Name, now time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               name,
		NotBefore:             now.AddDate(-2, 0, 0),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n.Add(n, big.NewInt(1))
}

// SignerSpec describes a personal signing certificate.
type SignerSpec struct {
	RUT  rut.RUT
	Name string // the holder's name (CN)
	// NotBefore and NotAfter default to a year ago and a year from now.
	NotBefore, NotAfter time.Time
	// RUTInOU puts the RUT in the subject OU ("RUT - 11111111-1") instead
	// of subjectAltName, as some CAs do.
	RUTInOU bool
	// Bits is the RSA key size; 2048 by default.
	Bits int
}

// NewSigner issues a personal signing certificate from the test CA.
func (p *PKI) NewSigner(s SignerSpec) (*certs.Certificate, error) {
	now := time.Now()
	if s.NotBefore.IsZero() {
		s.NotBefore = now.AddDate(-1, 0, 0)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = now.AddDate(1, 0, 0)
	}
	if s.Bits == 0 {
		s.Bits = 2048
	}
	key, err := rsa.GenerateKey(rand.Reader, s.Bits)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Country: []string{"CL"}, CommonName: s.Name},
		NotBefore:    s.NotBefore,
		NotAfter:     s.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if s.RUTInOU {
		tmpl.Subject.OrganizationalUnit = []string{"RUT - " + s.RUT.String()}
	} else {
		ext, err := sanWithRUT(s.RUT)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = []pkix.Extension{ext}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CACert, &key.PublicKey, p.CAKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return certs.New(key, []*x509.Certificate{cert, p.CACert})
}

// sanWithRUT builds subjectAltName with otherName 1.3.6.1.4.1.8321.1 =
// IA5String RUT, the way E-CERTCHILE writes it.
func sanWithRUT(r rut.RUT) (pkix.Extension, error) {
	ia5, err := asn1.MarshalWithParams(r.String(), "ia5")
	if err != nil {
		return pkix.Extension{}, err
	}
	oid, err := asn1.Marshal(certs.OIDRUT)
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ia5})
	if err != nil {
		return pkix.Extension{}, err
	}
	otherName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, value...)}
	names, err := asn1.Marshal([]asn1.RawValue{otherName})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: names}, nil
}

// signFRMA is the test SII's signature over a flattened DA.
func (p *PKI) signFRMA(da []byte) ([]byte, error) {
	h := sha1.Sum(da)
	return rsa.SignPKCS1v15(nil, p.SIIKey, crypto.SHA1, h[:])
}
