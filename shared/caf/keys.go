package caf

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Keys are the SII's public keys that sign CAFs, by IDK (100 in
// certification, 300 in production). A Keys is immutable.
type Keys struct {
	byIDK map[int64]*rsa.PublicKey
}

// NewKeys makes a key set from IDK → key.
func NewKeys(m map[int64]*rsa.PublicKey) *Keys {
	k := &Keys{byIDK: make(map[int64]*rsa.PublicKey, len(m))}
	for idk, pub := range m {
		k.byIDK[idk] = pub
	}
	return k
}

// Get returns the key for an IDK.
func (k *Keys) Get(idk int64) (*rsa.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	pub, ok := k.byIDK[idk]
	return pub, ok
}

// IDKs lists the IDKs the set has keys for.
func (k *Keys) IDKs() []int64 {
	var out []int64
	for idk := range k.byIDK {
		out = append(out, idk)
	}
	return out
}

// LoadKeys reads a directory of SII keys named by IDK: "100.cer",
// "300.cer" (also .pem, .crt, .der), in any format ParsePublicKey reads.
func LoadKeys(dir string) (*Keys, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[int64]*rsa.PublicKey{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		switch strings.ToLower(ext) {
		case ".cer", ".pem", ".crt", ".der":
		default:
			continue
		}
		idk, err := strconv.ParseInt(strings.TrimSuffix(name, ext), 10, 64)
		if err != nil {
			continue // not named by IDK
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		pub, err := ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		m[idk] = pub
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no SII keys (files named by IDK, such as 100.cer and 300.cer)", dir)
	}
	return NewKeys(m), nil
}

// ParsePublicKey reads an RSA public key from a certificate (PEM or DER)
// or a PEM public key (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"). The
// SII's CAF certificates (100.cer, 300.cer) declare an X.509 version Go's
// parser rejects, so certificates are read leniently: only the key is
// taken from them.
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	der := b
	kind := "CERTIFICATE"
	if block, _ := pem.Decode(b); block != nil {
		der, kind = block.Bytes, block.Type
	}
	switch kind {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, err
		}
		return asRSA(k)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(der)
	case "CERTIFICATE":
		if c, err := x509.ParseCertificate(der); err == nil {
			return asRSA(c.PublicKey)
		}
		return spkiFromCertificate(der)
	default:
		return nil, fmt.Errorf("unexpected PEM block %q: want a certificate or public key", kind)
	}
}

func asRSA(k any) (*rsa.PublicKey, error) {
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, not RSA", k)
	}
	return pub, nil
}

// spkiFromCertificate takes the subjectPublicKeyInfo out of a certificate
// without judging the rest of it.
func spkiFromCertificate(der []byte) (*rsa.PublicKey, error) {
	var cert struct {
		TBS struct {
			Version   int `asn1:"optional,explicit,default:0,tag:0"`
			Serial    *big.Int
			SigAlg    asn1.RawValue
			Issuer    asn1.RawValue
			Validity  asn1.RawValue
			Subject   asn1.RawValue
			PublicKey asn1.RawValue
		}
	}
	rest, err := asn1.Unmarshal(der, &cert)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("not a certificate or public key")
	}
	var spki struct {
		Algorithm struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue `asn1:"optional"`
		}
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.TBS.PublicKey.FullBytes, &spki); err != nil {
		return nil, fmt.Errorf("certificate public key: %w", err)
	}
	if !spki.Algorithm.OID.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}) {
		return nil, fmt.Errorf("certificate key algorithm %v is not RSA", spki.Algorithm.OID)
	}
	var pk struct {
		N *big.Int
		E int
	}
	if _, err := asn1.Unmarshal(spki.Key.Bytes, &pk); err != nil {
		return nil, fmt.Errorf("certificate RSA key: %w", err)
	}
	if pk.N == nil || pk.N.Sign() <= 0 || pk.E < 3 {
		return nil, errors.New("certificate RSA key is invalid")
	}
	return &rsa.PublicKey{N: pk.N, E: pk.E}, nil
}
