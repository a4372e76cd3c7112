// Package pdf417 encodes bytes as a PDF417 symbol (ISO/IEC 15438) the way
// the SII wants the timbre electrónico printed (docs/sii-printing.md §2): byte
// compaction only (latch 901, or 924 when the length is a multiple of 6),
// a chosen error correction level (the SII: 5, 64 codewords) computed
// with Reed–Solomon over GF(929), and a chosen number of data columns. It
// returns the module matrix; drawing it (3:1 rows, quiet zone, size) is
// the caller's, e.g. as vector rectangles in a PDF.
//
// github.com/boombuler/barcode/pdf417 was evaluated first: it switches
// between text, numeric and byte compaction by itself, picks the columns
// itself, stops at 30 rows and draws rows 2 modules high, so it cannot
// give the SII's parameters. Only its transcription of the standard's
// codeword tables is used here (patterns.go, MIT).
package pdf417
