package pdf417

import (
	"errors"
	"fmt"
)

// Limits of the symbology.
const (
	MinRows    = 3
	MaxRows    = 90
	MinColumns = 1
	MaxColumns = 30
	// MaxCodewords is the most codewords a symbol holds: data, padding,
	// the length descriptor and error correction together.
	MaxCodewords = 928
	// LevelSII is the error correction level the SII requires for the
	// timbre.
	LevelSII = 5
)

// Codewords with a meaning of their own.
const (
	latchByte     = 901 // byte compaction, any length
	latchByte6    = 924 // byte compaction, a multiple of 6 bytes
	padCodeword   = 900
	startPattern  = 0x1fea8 // 17 modules: 81111113
	stopPattern   = 0x3fa29 // 18 modules: 711311121
	moduleWidthCW = 17
)

// ErrTooLong: the data does not fit in a symbol with the given level and
// columns.
var ErrTooLong = errors.New("pdf417: data too long for the symbol")

// Symbol is an encoded PDF417 symbol: Rows rows of Width modules each.
type Symbol struct {
	Rows    int // 3..90
	Columns int // data columns, 1..30
	Level   int // error correction level, 0..8
	// Codewords are the data region's codewords in reading order: the
	// length descriptor, the data, the padding and the error correction.
	Codewords []int
	modules   [][]bool
}

// Width is the number of modules of a row: start pattern, left row
// indicator, the data columns, right row indicator and stop pattern.
func (s *Symbol) Width() int { return Width(s.Columns) }

// Width is the number of modules of a row of a symbol with columns data
// columns.
func Width(columns int) int { return moduleWidthCW*(columns+4) + 1 }

// Dark reports whether the module at row, x is a bar.
func (s *Symbol) Dark(row, x int) bool { return s.modules[row][x] }

// Bars calls fn for each bar of a row, left to right, with its first
// module and its width in modules: what a drawing needs.
func (s *Symbol) Bars(row int, fn func(x, w int)) {
	m := s.modules[row]
	for x := 0; x < len(m); {
		if !m[x] {
			x++
			continue
		}
		start := x
		for x < len(m) && m[x] {
			x++
		}
		fn(start, x-start)
	}
}

// DataCodewords is how many codewords byte compaction makes of n bytes,
// the latch included (not the length descriptor).
func DataCodewords(n int) int { return 1 + n/6*5 + n%6 }

// ECCodewords is the number of error correction codewords of a level.
func ECCodewords(level int) int { return 2 << level }

// RowsFor is the number of rows n bytes take with the given columns and
// level; ok is false when they do not fit in one symbol.
func RowsFor(n, columns, level int) (rows int, ok bool) {
	if columns < MinColumns || columns > MaxColumns || level < 0 || level > 8 || n < 1 {
		return 0, false
	}
	total := 1 + DataCodewords(n) + ECCodewords(level)
	rows = max(MinRows, (total+columns-1)/columns)
	return rows, rows <= MaxRows && rows*columns <= MaxCodewords
}

// Encode encodes data in byte compaction with the given number of data
// columns and error correction level (LevelSII for the timbre).
func Encode(data []byte, columns, level int) (*Symbol, error) {
	if len(data) == 0 {
		return nil, errors.New("pdf417: no data to encode")
	}
	if columns < MinColumns || columns > MaxColumns {
		return nil, fmt.Errorf("pdf417: %d data columns; a symbol has %d to %d", columns, MinColumns, MaxColumns)
	}
	if level < 0 || level > 8 {
		return nil, fmt.Errorf("pdf417: error correction level %d; levels are 0 to 8", level)
	}
	rows, ok := RowsFor(len(data), columns, level)
	if !ok {
		return nil, fmt.Errorf("%w: %d bytes at level %d in %d columns need %d rows (%d codewords); at most %d rows and %d codewords",
			ErrTooLong, len(data), level, columns, rows, rows*columns, MaxRows, MaxCodewords)
	}
	ec := ECCodewords(level)
	cw := make([]int, 1, rows*columns)
	cw = compactBytes(cw, data)
	for len(cw) < rows*columns-ec {
		cw = append(cw, padCodeword)
	}
	cw[0] = len(cw) // the symbol length descriptor counts itself
	cw = appendEC(cw, level)

	s := &Symbol{Rows: rows, Columns: columns, Level: level, Codewords: cw}
	s.modules = make([][]bool, rows)
	width := s.Width()
	cells := make([]bool, rows*width)
	for r := range rows {
		row := cells[r*width : (r+1)*width]
		cluster := r % 3
		left, right := rowIndicators(r, rows, columns, level)
		x := put(row, 0, startPattern, 17)
		x = put(row, x, patterns[cluster][left], 17)
		for c := range columns {
			x = put(row, x, patterns[cluster][cw[r*columns+c]], 17)
		}
		x = put(row, x, patterns[cluster][right], 17)
		put(row, x, stopPattern, 18)
		s.modules[r] = row
	}
	return s, nil
}

// put writes the n-module pattern p (highest bit leftmost) at x.
func put(row []bool, x int, p uint32, n int) int {
	for i := n - 1; i >= 0; i-- {
		row[x] = p>>uint(i)&1 == 1
		x++
	}
	return x
}

// rowIndicators are the left and right row indicator codewords of row r:
// together the three clusters tell a reader the rows, the columns and the
// error correction level.
func rowIndicators(r, rows, columns, level int) (left, right int) {
	base := 30 * (r / 3)
	rowsInfo := (rows - 1) / 3
	levelInfo := level*3 + (rows-1)%3
	colsInfo := columns - 1
	switch r % 3 {
	case 0:
		return base + rowsInfo, base + colsInfo
	case 1:
		return base + levelInfo, base + rowsInfo
	default:
		return base + colsInfo, base + levelInfo
	}
}

// compactBytes appends data in byte compaction: every 6 bytes become 5
// base-900 codewords; a tail shorter than 6 bytes goes one byte per
// codeword, which only latch 901 allows.
func compactBytes(cw []int, data []byte) []int {
	if len(data)%6 == 0 {
		cw = append(cw, latchByte6)
	} else {
		cw = append(cw, latchByte)
	}
	i := 0
	for ; i+6 <= len(data); i += 6 {
		var v uint64
		for _, b := range data[i : i+6] {
			v = v<<8 | uint64(b)
		}
		var group [5]int
		for j := 4; j >= 0; j-- {
			group[j] = int(v % 900)
			v /= 900
		}
		cw = append(cw, group[:]...)
	}
	for ; i < len(data); i++ {
		cw = append(cw, int(data[i]))
	}
	return cw
}
