package pdf417

import "sync"

// gf929 is arithmetic modulo the prime 929, the field PDF417's
// Reed–Solomon code works in.
const gf929 = 929

// generators[level] are the coefficients a0..a(k-1) of the generator
// polynomial g(x) = (x - 3)(x - 3²)…(x - 3^k), k = 2^(level+1), without
// the leading 1: computed once rather than transcribed, and checked in
// the tests against the values the standard tabulates.
var generators = sync.OnceValue(func() [9][]int {
	var g [9][]int
	for level := range 9 {
		k := ECCodewords(level)
		poly := []int{1} // poly[i] is the coefficient of x^i
		root := 1
		for range k {
			root = root * 3 % gf929
			next := make([]int, len(poly)+1)
			for i, c := range poly {
				next[i+1] = (next[i+1] + c) % gf929
				next[i] = (next[i] + (gf929-root)*c) % gf929
			}
			poly = next
		}
		g[level] = poly[:k]
	}
	return g
})

// appendEC appends the error correction codewords of level to data: the
// remainder of data(x)·x^k divided by g(x), negated, highest degree first.
func appendEC(data []int, level int) []int {
	a := generators()[level]
	k := len(a)
	e := make([]int, k)
	for _, d := range data {
		t := (d + e[k-1]) % gf929
		for j := k - 1; j > 0; j-- {
			e[j] = (e[j-1] + gf929 - t*a[j]%gf929) % gf929
		}
		e[0] = (gf929 - t*a[0]%gf929) % gf929
	}
	for j := k - 1; j >= 0; j-- {
		data = append(data, (gf929-e[j])%gf929)
	}
	return data
}
