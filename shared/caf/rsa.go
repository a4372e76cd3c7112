package caf

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"math/big"
)

// sha1Prefix is the DER DigestInfo header of a SHA-1 hash in PKCS#1 v1.5.
var sha1Prefix = []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}

var errRSAVerify = errors.New("RSA signature does not verify")

// emSHA1 is the PKCS#1 v1.5 encoding of a SHA-1 digest for a k-byte modulus.
func emSHA1(k int, msg []byte) ([]byte, error) {
	h := sha1.Sum(msg)
	tLen := len(sha1Prefix) + len(h)
	if k < tLen+11 {
		return nil, errors.New("RSA key too short for SHA1withRSA")
	}
	em := make([]byte, k)
	em[1] = 1
	for i := 2; i < k-tLen-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-tLen:], sha1Prefix)
	copy(em[k-len(h):], h[:])
	return em, nil
}

// verifySHA1 checks an RSASSA-PKCS1-v1_5 SHA-1 signature of msg with any
// key size. A signature shorter than the modulus (leading zero bytes
// dropped by some signers) is accepted.
func verifySHA1(pub *rsa.PublicKey, msg, sig []byte) error {
	k := (pub.N.BitLen() + 7) / 8
	if len(sig) == 0 || len(sig) > k || pub.E < 2 {
		return errRSAVerify
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(pub.N) >= 0 {
		return errRSAVerify
	}
	m := new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N)
	em, err := emSHA1(k, msg)
	if err != nil {
		return err
	}
	got := m.FillBytes(make([]byte, k))
	if subtle.ConstantTimeCompare(got, em) != 1 {
		return errRSAVerify
	}
	return nil
}

// signer signs with a small RSA key using the CRT. It is immutable.
type signer struct {
	pub    rsa.PublicKey
	p, q   *big.Int
	dp, dq *big.Int
	qinv   *big.Int
	k      int
	bigE   *big.Int
	mp, mq *montModulus
}

func newSigner(key *rsa.PrivateKey) (*signer, error) {
	if len(key.Primes) != 2 {
		return nil, errors.New("CAF key: expected a two-prime RSA key")
	}
	p, q := key.Primes[0], key.Primes[1]
	if new(big.Int).Mul(p, q).Cmp(key.N) != 0 {
		return nil, errors.New("CAF key: primes do not multiply to the modulus")
	}
	one := big.NewInt(1)
	s := &signer{
		pub:  key.PublicKey,
		p:    p,
		q:    q,
		dp:   new(big.Int).Mod(key.D, new(big.Int).Sub(p, one)),
		dq:   new(big.Int).Mod(key.D, new(big.Int).Sub(q, one)),
		qinv: new(big.Int).ModInverse(q, p),
		k:    (key.N.BitLen() + 7) / 8,
		bigE: big.NewInt(int64(key.E)),
		mp:   newMontModulus(p),
		mq:   newMontModulus(q),
	}
	if s.qinv == nil {
		return nil, errors.New("CAF key: primes are not coprime")
	}
	return s, nil
}

// signSHA1 makes an RSASSA-PKCS1-v1_5 SHA-1 signature of msg. The private
// exponentiations run in fixed time (montgomery.go), the base is blinded
// so that the big-number steps around them do not depend on the message,
// and the result is checked with the public key before it leaves (a CRT
// fault would reveal the key).
func (s *signer) signSHA1(msg []byte) ([]byte, error) {
	em, err := emSHA1(s.k, msg)
	if err != nil {
		return nil, err
	}
	m := new(big.Int).SetBytes(em)
	n := s.pub.N
	var r, rinv *big.Int
	for {
		r, err = rand.Int(rand.Reader, n)
		if err != nil {
			return nil, err
		}
		if r.Sign() > 0 {
			if rinv = new(big.Int).ModInverse(r, n); rinv != nil {
				break
			}
		}
	}
	// c = m · r^e mod n
	c := new(big.Int).Exp(r, s.bigE, n)
	c.Mul(c, m).Mod(c, n)
	// CRT: m1 = c^dp mod p, m2 = c^dq mod q, h = qinv (m1 - m2) mod p.
	m1 := s.mp.exp(new(big.Int).Mod(c, s.p), s.dp)
	m2 := s.mq.exp(new(big.Int).Mod(c, s.q), s.dq)
	h := m1.Sub(m1, m2)
	h.Mul(h, s.qinv).Mod(h, s.p)
	sig := h.Mul(h, s.q).Add(h, m2)
	sig.Mul(sig, rinv).Mod(sig, n)
	if check := new(big.Int).Exp(sig, s.bigE, n); check.Cmp(m) != 0 {
		return nil, errors.New("CAF key: signature self-check failed")
	}
	return sig.FillBytes(make([]byte, s.k)), nil
}
