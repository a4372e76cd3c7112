package caf

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// TestMontgomeryExp compares the fixed-width exponentiation with math/big
// on random odd moduli of the CAF keys' prime size and others.
func TestMontgomeryExp(t *testing.T) {
	for _, size := range []int{64, 128, 200, 256, 257, 512} {
		for range 30 {
			p, err := rand.Prime(rand.Reader, size)
			if err != nil {
				t.Fatal(err)
			}
			mm := newMontModulus(p)
			base, _ := rand.Int(rand.Reader, p)
			e, _ := rand.Int(rand.Reader, p)
			for _, c := range []struct{ base, e *big.Int }{
				{base, e}, {big.NewInt(0), e}, {big.NewInt(1), e}, {base, big.NewInt(0)}, {base, big.NewInt(1)},
				{new(big.Int).Sub(p, big.NewInt(1)), e},
			} {
				want := new(big.Int).Exp(c.base, c.e, p)
				if got := mm.exp(c.base, c.e); got.Cmp(want) != 0 {
					t.Fatalf("%d-bit p=%x: %x^%x = %x, want %x", size, p, c.base, c.e, got, want)
				}
			}
		}
	}
}
