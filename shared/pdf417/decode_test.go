package pdf417

import (
	"errors"
	"fmt"
	"sync"
)

// decode reads a symbol back from its modules, the inverse of Encode for
// what Encode writes (byte compaction only). It checks every pattern is a
// codeword of the row's cluster, the start and stop patterns, the row
// indicators, the length descriptor and the Reed–Solomon syndromes. It is
// this package's own reader: the independent one is zxing-cpp
// (pdf417test).
func decode(s *Symbol) ([]byte, error) {
	inverse := inversePatterns()
	read := func(row, x, n int) uint32 {
		var v uint32
		for i := range n {
			v <<= 1
			if s.Dark(row, x+i) {
				v |= 1
			}
		}
		return v
	}
	var cw []int
	for r := range s.Rows {
		if read(r, 0, 17) != startPattern || read(r, s.Width()-18, 18) != stopPattern {
			return nil, fmt.Errorf("row %d: no start or stop pattern", r)
		}
		words := make([]int, s.Columns+2)
		for i := range words {
			v, ok := inverse[r%3][read(r, 17*(i+1), 17)]
			if !ok {
				return nil, fmt.Errorf("row %d column %d: not a codeword of cluster %d", r, i, 3*(r%3))
			}
			words[i] = v
		}
		left, right := rowIndicators(r, s.Rows, s.Columns, s.Level)
		if words[0] != left || words[len(words)-1] != right {
			return nil, fmt.Errorf("row %d: row indicators %d/%d, want %d/%d", r, words[0], words[len(words)-1], left, right)
		}
		cw = append(cw, words[1:len(words)-1]...)
	}
	if err := syndromes(cw, ECCodewords(s.Level)); err != nil {
		return nil, err
	}
	n := cw[0]
	if n < 2 || n > len(cw)-ECCodewords(s.Level) {
		return nil, fmt.Errorf("length descriptor %d", n)
	}
	data := cw[1:n]
	for len(data) > 0 && data[len(data)-1] == padCodeword {
		data = data[:len(data)-1]
	}
	if len(data) == 0 || (data[0] != latchByte && data[0] != latchByte6) {
		return nil, errors.New("no byte compaction latch")
	}
	six := data[0] == latchByte6
	data = data[1:]
	var out []byte
	// With 901 the last 1 to 5 codewords are single bytes, so a group
	// needs more than 5 codewords left.
	for (six && len(data) >= 5) || (!six && len(data) > 5) {
		var v uint64
		for _, d := range data[:5] {
			v = v*900 + uint64(d)
		}
		if v >= 1<<48 {
			return nil, fmt.Errorf("byte group %v out of range", data[:5])
		}
		for i := 5; i >= 0; i-- {
			out = append(out, byte(v>>(8*uint(i))))
		}
		data = data[5:]
	}
	if six && len(data) > 0 {
		return nil, errors.New("latch 924 with a tail")
	}
	for _, d := range data {
		if d > 255 {
			return nil, fmt.Errorf("tail codeword %d is not a byte", d)
		}
		out = append(out, byte(d))
	}
	return out, nil
}

var inversePatterns = sync.OnceValue(func() (inv [3]map[uint32]int) {
	for c := range inv {
		inv[c] = make(map[uint32]int, 929)
		for v, p := range patterns[c] {
			inv[c][p] = v
		}
	}
	return inv
})

// syndromes checks the codewords, read as a polynomial (first codeword
// the highest degree), vanish at 3, 3², …, 3^k.
func syndromes(cw []int, k int) error {
	root := 1
	for i := 1; i <= k; i++ {
		root = root * 3 % gf929
		s := 0
		for _, c := range cw {
			s = (s*root + c) % gf929
		}
		if s != 0 {
			return fmt.Errorf("syndrome %d is %d, not 0", i, s)
		}
	}
	return nil
}
