package caf

import (
	"encoding/binary"
	"math/big"
	"math/bits"
)

// montModulus is an odd modulus for Montgomery exponentiation in fixed
// width: the CAF key's primes (256 bits). math/big's Exp is variable-time
// and, at this size, slow (its per-call overhead dominates); this one
// takes the same steps whatever the exponent and the base, and is about
// twice as fast.
type montModulus struct {
	n     int      // limbs
	m     []uint64 // little-endian
	m0inv uint64   // -m⁻¹ mod 2⁶⁴
	rr    []uint64 // R² mod m, R = 2^(64n)
	one   []uint64 // R mod m: 1 in Montgomery form
	bits  int
}

func newMontModulus(p *big.Int) *montModulus {
	n := (p.BitLen() + 63) / 64
	mm := &montModulus{n: n, m: toLimbs(p, n), bits: p.BitLen()}
	inv := mm.m[0] // Newton's iteration for m0⁻¹ mod 2⁶⁴ (m0 odd)
	for range 6 {
		inv *= 2 - mm.m[0]*inv
	}
	mm.m0inv = -inv
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*n))
	mm.one = toLimbs(new(big.Int).Mod(r, p), n)
	mm.rr = toLimbs(new(big.Int).Mod(new(big.Int).Mul(r, r), p), n)
	return mm
}

func toLimbs(x *big.Int, n int) []uint64 {
	b := x.FillBytes(make([]byte, 8*n))
	out := make([]uint64, n)
	for i := range n {
		out[i] = binary.BigEndian.Uint64(b[len(b)-8*(i+1):])
	}
	return out
}

func fromLimbs(l []uint64) *big.Int {
	b := make([]byte, 8*len(l))
	for i, w := range l {
		binary.BigEndian.PutUint64(b[len(b)-8*(i+1):], w)
	}
	return new(big.Int).SetBytes(b)
}

// mul sets z = x·y·R⁻¹ mod m (CIOS). x, y < m; z may alias x or y; t is
// scratch of n+2 limbs.
func (mm *montModulus) mul(z, x, y, t []uint64) {
	n, m := mm.n, mm.m
	clear(t)
	for i := range n {
		var c, cc uint64
		yi := y[i]
		for j := range n {
			hi, lo := bits.Mul64(x[j], yi)
			lo, cc = bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j], c = lo, hi
		}
		t[n], cc = bits.Add64(t[n], c, 0)
		t[n+1] = cc
		u := t[0] * mm.m0inv
		hi, lo := bits.Mul64(u, m[0])
		_, cc = bits.Add64(lo, t[0], 0)
		c = hi + cc
		for j := 1; j < n; j++ {
			hi, lo = bits.Mul64(u, m[j])
			lo, cc = bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j-1], c = lo, hi
		}
		t[n-1], cc = bits.Add64(t[n], c, 0)
		t[n] = t[n+1] + cc
	}
	// t < 2m: subtract m unless that borrows, without branching.
	var b uint64
	var diff [8]uint64
	ds := diff[:0]
	if n > len(diff) {
		ds = make([]uint64, 0, n)
	}
	for j := range n {
		var dj uint64
		dj, b = bits.Sub64(t[j], m[j], b)
		ds = append(ds, dj)
	}
	_, b = bits.Sub64(t[n], 0, b)
	keep := -b // all ones when t < m
	for j := range n {
		z[j] = t[j]&keep | ds[j]&^keep
	}
}

// exp returns base^e mod m for 0 ≤ base < m and 0 ≤ e < 2^bits, with a
// fixed 4-bit window over all of the modulus' bits and a table lookup that
// reads every entry.
func (mm *montModulus) exp(base, e *big.Int) *big.Int {
	if mm.n == 4 {
		return mm.exp4(base, e)
	}
	n := mm.n
	t := make([]uint64, n+2)
	var table [16][]uint64
	table[0] = append([]uint64(nil), mm.one...)
	table[1] = make([]uint64, n)
	mm.mul(table[1], toLimbs(base, n), mm.rr, t)
	for i := 2; i < 16; i++ {
		table[i] = make([]uint64, n)
		mm.mul(table[i], table[i-1], table[1], t)
	}
	eb := e.FillBytes(make([]byte, (mm.bits+7)/8))
	acc := append([]uint64(nil), mm.one...)
	sel := make([]uint64, n)
	windows := (mm.bits + 3) / 4
	for w := windows - 1; w >= 0; w-- {
		for range 4 {
			mm.mul(acc, acc, acc, t)
		}
		// Nibble w of the exponent (little-endian nibble order).
		byt := eb[len(eb)-1-w/2]
		idx := uint64(byt>>(4*(w%2))) & 0xf
		clear(sel)
		for i := range 16 {
			mask := -uint64(eq(uint64(i), idx))
			for j := range n {
				sel[j] |= table[i][j] & mask
			}
		}
		mm.mul(acc, acc, sel, t)
	}
	one := make([]uint64, n)
	one[0] = 1
	mm.mul(acc, acc, one, t)
	return fromLimbs(acc)
}

// eq is 1 when a == b, else 0, without branching.
func eq(a, b uint64) uint64 {
	x := a ^ b
	return 1 ^ ((x | -x) >> 63)
}

// mul4 is mul for four limbs (the 256-bit primes of a 512-bit CAF key),
// unrolled on fixed-size arrays: about three times faster than the
// general loop.
func (mm *montModulus) mul4(z, x, y *[4]uint64) {
	m := (*[4]uint64)(mm.m)
	var t0, t1, t2, t3, t4, t5 uint64
	for i := range 4 {
		yi := y[i]
		var c uint64
		c, t0 = mac(x[0], yi, t0, 0)
		c, t1 = mac(x[1], yi, t1, c)
		c, t2 = mac(x[2], yi, t2, c)
		c, t3 = mac(x[3], yi, t3, c)
		var cc uint64
		t4, cc = bits.Add64(t4, c, 0)
		t5 = cc
		u := t0 * mm.m0inv
		c, _ = mac(u, m[0], t0, 0)
		c, t0 = mac(u, m[1], t1, c)
		c, t1 = mac(u, m[2], t2, c)
		c, t2 = mac(u, m[3], t3, c)
		t3, cc = bits.Add64(t4, c, 0)
		t4 = t5 + cc
	}
	var d0, d1, d2, d3, b uint64
	d0, b = bits.Sub64(t0, m[0], 0)
	d1, b = bits.Sub64(t1, m[1], b)
	d2, b = bits.Sub64(t2, m[2], b)
	d3, b = bits.Sub64(t3, m[3], b)
	_, b = bits.Sub64(t4, 0, b)
	keep := -b // all ones when t < m
	z[0] = t0&keep | d0&^keep
	z[1] = t1&keep | d1&^keep
	z[2] = t2&keep | d2&^keep
	z[3] = t3&keep | d3&^keep
}

// mac returns the two words of a·b + c + carry.
func mac(a, b, c, carry uint64) (hi, lo uint64) {
	hi, lo = bits.Mul64(a, b)
	var cc uint64
	lo, cc = bits.Add64(lo, c, 0)
	hi += cc
	lo, cc = bits.Add64(lo, carry, 0)
	hi += cc
	return hi, lo
}

// exp4 is exp for four limbs.
func (mm *montModulus) exp4(base, e *big.Int) *big.Int {
	var table [16][4]uint64
	table[0] = [4]uint64(mm.one)
	mm.mul4(&table[1], (*[4]uint64)(toLimbs(base, 4)), (*[4]uint64)(mm.rr))
	for i := 2; i < 16; i++ {
		mm.mul4(&table[i], &table[i-1], &table[1])
	}
	eb := e.FillBytes(make([]byte, (mm.bits+7)/8))
	acc := [4]uint64(mm.one)
	for w := (mm.bits+3)/4 - 1; w >= 0; w-- {
		mm.mul4(&acc, &acc, &acc)
		mm.mul4(&acc, &acc, &acc)
		mm.mul4(&acc, &acc, &acc)
		mm.mul4(&acc, &acc, &acc)
		idx := uint64(eb[len(eb)-1-w/2]>>(4*(w%2))) & 0xf
		var sel [4]uint64
		for i := range 16 {
			mask := -eq(uint64(i), idx)
			sel[0] |= table[i][0] & mask
			sel[1] |= table[i][1] & mask
			sel[2] |= table[i][2] & mask
			sel[3] |= table[i][3] & mask
		}
		mm.mul4(&acc, &acc, &sel)
	}
	mm.mul4(&acc, &acc, &[4]uint64{1})
	return fromLimbs(acc[:])
}
