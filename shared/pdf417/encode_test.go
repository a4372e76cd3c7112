package pdf417

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGenerators compares the computed generator polynomials with the
// coefficients ISO/IEC 15438 tabulates (levels 0 and 1 in full, the
// first and last of level 5, the SII's).
func TestGenerators(t *testing.T) {
	g := generators()
	if !slices.Equal(g[0], []int{27, 917}) || !slices.Equal(g[1], []int{522, 568, 723, 809}) {
		t.Errorf("levels 0, 1: %v %v", g[0], g[1])
	}
	l5 := g[5]
	if len(l5) != 64 || !slices.Equal(l5[:8], []int{539, 422, 6, 93, 862, 771, 453, 106}) || !slices.Equal(l5[60:], []int{843, 623, 264, 543}) {
		t.Errorf("level 5: %v", l5)
	}
}

// TestTables: each cluster's patterns are distinct 17-module codewords
// with 4 bars and 4 spaces starting with a bar and ending with a space,
// in the cluster the standard's formula assigns ((b1-b3+b5-b7+9) mod 9).
func TestTables(t *testing.T) {
	for c := range patterns {
		seen := map[uint32]bool{}
		for v, p := range patterns[c] {
			if seen[p] {
				t.Fatalf("cluster %d: pattern of %d repeats", 3*c, v)
			}
			seen[p] = true
			var widths []int
			prev, run := true, 0
			for i := 16; i >= 0; i-- {
				bit := p>>uint(i)&1 == 1
				if i == 16 && !bit {
					t.Fatalf("cluster %d codeword %d starts with a space", 3*c, v)
				}
				if bit == prev {
					run++
				} else {
					widths = append(widths, run)
					prev, run = bit, 1
				}
			}
			widths = append(widths, run)
			if len(widths) != 8 || prev {
				t.Fatalf("cluster %d codeword %d: widths %v", 3*c, v, widths)
			}
			if k := (widths[0] - widths[2] + widths[4] - widths[6] + 9) % 9; k != 3*c {
				t.Fatalf("codeword %d of cluster %d is in cluster %d", v, 3*c, k)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 5, 6, 7, 12, 13, 100, 599, 600, 601, 731, 900, 1000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		for _, cols := range []int{1, 3, 13, 18, 30} {
			s, err := Encode(data, cols, LevelSII)
			if err != nil {
				if errors.Is(err, ErrTooLong) {
					if _, ok := RowsFor(n, cols, LevelSII); ok {
						t.Errorf("%d bytes %d cols: RowsFor says it fits: %v", n, cols, err)
					}
					continue
				}
				t.Fatal(err)
			}
			if s.Rows < MinRows || s.Rows > MaxRows || len(s.Codewords) != s.Rows*s.Columns {
				t.Errorf("%d bytes %d cols: %d rows, %d codewords", n, cols, s.Rows, len(s.Codewords))
			}
			got, err := decode(s)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d bytes %d cols: decoded %d bytes, %v", n, cols, len(got), err)
			}
		}
	}
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		n, cols, level int
	}{{0, 10, 5}, {10, 0, 5}, {10, 31, 5}, {10, 10, -1}, {10, 10, 9}, {2000, 30, 5}, {1000, 5, 5}} {
		if _, err := Encode(make([]byte, tc.n), tc.cols, tc.level); err == nil {
			t.Errorf("%+v: no error", tc)
		}
	}
	// The largest TED that fits at level 5 with 30 columns.
	n := 0
	for ; ; n++ {
		if _, ok := RowsFor(n+1, 30, LevelSII); !ok {
			break
		}
	}
	if n < 1000 {
		t.Errorf("only %d bytes fit at level 5; a TED is up to ~1000", n)
	}
	if _, err := Encode(make([]byte, n), 30, LevelSII); err != nil {
		t.Errorf("%d bytes: %v", n, err)
	}
	if _, err := Encode(make([]byte, n+1), 30, LevelSII); !errors.Is(err, ErrTooLong) {
		t.Errorf("%d bytes: %v", n+1, err)
	}
}

// TestBars: the bars of a row cover exactly its dark modules.
func TestBars(t *testing.T) {
	s, err := Encode([]byte("Timbre Electrónico SII"), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	for r := range s.Rows {
		row := make([]bool, s.Width())
		last := -1
		s.Bars(r, func(x, w int) {
			if x <= last || w < 1 {
				t.Fatalf("row %d: bar at %d after %d", r, x, last)
			}
			for i := x; i < x+w; i++ {
				row[i] = true
			}
			last = x + w
		})
		for x := range row {
			if row[x] != s.Dark(r, x) {
				t.Fatalf("row %d module %d", r, x)
			}
		}
	}
}

// FuzzRoundTrip: whatever the bytes, columns and level, Encode either
// refuses with a reason or makes a symbol that reads back to the bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("<TED version=\"1.0\"><DD><RE>76086428-5</RE></DD></TED>"), uint8(13), uint8(5))
	f.Add([]byte{0, 0xff, 0xd1, 0xc3, 0xb1}, uint8(1), uint8(0))
	f.Add(bytes.Repeat([]byte{0xe9}, 600), uint8(18), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, cols, level uint8) {
		c, l := int(cols%31), int(level%10)
		s, err := Encode(data, c, l)
		if err != nil {
			return
		}
		got, err := decode(s)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes, %d columns, level %d: %v", len(data), c, l, err)
		}
	})
}
