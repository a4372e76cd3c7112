package pdf417_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dtecl/pipeline/shared/pdf417"
	"github.com/dtecl/pipeline/shared/pdf417/pdf417test"
)

// image draws a symbol as pixels: scale pixels a module, rows 3 modules
// high (the SII's 3:1), a quiet zone of quiet modules.
func image(s *pdf417.Symbol, scale, quiet int) (w, h int, pix []byte) {
	w = (s.Width() + 2*quiet) * scale
	h = (3*s.Rows + 2*quiet) * scale
	pix = bytes.Repeat([]byte{255}, w*h)
	for r := range s.Rows {
		for y := (quiet + 3*r) * scale; y < (quiet+3*r+3)*scale; y++ {
			s.Bars(r, func(x, bw int) {
				for px := (quiet + x) * scale; px < (quiet+x+bw)*scale; px++ {
					pix[y*w+px] = 0
				}
			})
		}
	}
	return w, h, pix
}

// TestZXing encodes random payloads of many lengths (every tail length
// of byte compaction, both latches, up to the size of a large TED) in
// several column counts and has zxing-cpp read them: the bytes must come
// back exactly, whatever their values (Latin-1, NUL, 0xFF).
func TestZXing(t *testing.T) {
	pdf417test.NeedDecoder(t)
	rng := rand.New(rand.NewPCG(7, 11))
	dir := t.TempDir()
	var paths []string
	var want [][]byte
	for _, n := range []int{1, 2, 5, 6, 7, 11, 12, 17, 35, 36, 100, 255, 600, 601, 604, 605, 731, 880, 1000} {
		for _, cols := range []int{2, 9, 13, 18, 27} {
			if _, ok := pdf417.RowsFor(n, cols, pdf417.LevelSII); !ok {
				continue
			}
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(rng.IntN(256))
			}
			s, err := pdf417.Encode(data, cols, pdf417.LevelSII)
			if err != nil {
				t.Fatal(err)
			}
			w, h, pix := image(s, 2, 4)
			p := filepath.Join(dir, fmt.Sprintf("n%d-c%d.pgm", n, cols))
			if err := pdf417test.WritePGM(p, w, h, pix); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
			want = append(want, data)
		}
	}
	if len(paths) < 50 {
		t.Fatalf("only %d symbols", len(paths))
	}
	got := pdf417test.Decode(t, paths...)
	for i, p := range paths {
		if len(got[i]) != 1 || !bytes.Equal(got[i][0].Bytes, want[i]) {
			t.Errorf("%s: zxing-cpp read %d symbols, want the %d bytes back", filepath.Base(p), len(got[i]), len(want[i]))
		}
	}
}
