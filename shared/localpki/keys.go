package localpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"

	"github.com/dtecl/pipeline/shared/certs"
)

// newCAFKey makes an RSA key like the SII's CAF keys: 512 bits, public
// exponent 3. crypto/rsa no longer generates keys under 1024 bits (nor
// with e = 3), so the primes are drawn here.
func newCAFKey() (*rsa.PrivateKey, error) {
	e := big.NewInt(3)
	one := big.NewInt(1)
	for range 100 {
		p, err := prime(e)
		if err != nil {
			return nil, err
		}
		q, err := prime(e)
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != 512 {
			continue
		}
		pm1 := new(big.Int).Sub(p, one)
		qm1 := new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm1, qm1)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		if p.Cmp(q) < 0 {
			p, q = q, p // PKCS#1 convention: p > q
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 3}, D: d, Primes: []*big.Int{p, q}}
		k.Precomputed.Dp = new(big.Int).Mod(d, new(big.Int).Sub(p, one))
		k.Precomputed.Dq = new(big.Int).Mod(d, new(big.Int).Sub(q, one))
		k.Precomputed.Qinv = new(big.Int).ModInverse(q, p)
		return k, nil
	}
	return nil, errors.New("localpki: could not generate a CAF key")
}

// prime draws a 256-bit prime p with gcd(e, p-1) = 1.
func prime(e *big.Int) (*big.Int, error) {
	for {
		p, err := rand.Prime(rand.Reader, 256)
		if err != nil {
			return nil, err
		}
		if new(big.Int).Mod(p, e).Cmp(big.NewInt(1)) != 0 {
			return p, nil
		}
	}
}

func x509MarshalPKCS8(c *certs.Certificate) ([]byte, error) {
	return x509.MarshalPKCS8PrivateKey(c.Key)
}
