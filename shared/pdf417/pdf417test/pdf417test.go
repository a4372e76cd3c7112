// Package pdf417test reads PDF417 symbols back with an independent
// decoder, zxing-cpp (Debian python3-zxing-cpp, run with /usr/bin/python3),
// and rasterizes PDFs with poppler's pdftoppm (Debian poppler-utils), so
// that tests check what a scanner reads from the printed page rather than
// what the encoder meant to draw. Without those tools a test is skipped
// with the package to install, except under CI=true, where it fails.
package pdf417test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

//go:embed decode.py
var decodeScript string

// python is the Debian interpreter, whose python3-* packages the tests use.
const python = "/usr/bin/python3"

func missing(t testing.TB, what, pkg string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (CI=true) but is not available: %v (apt-get install %s)", what, err, pkg)
	}
	t.Skipf("%s is not available (%v): apt-get install %s; skipping the check that needs it", what, err, pkg)
}

// NeedDecoder skips (or, under CI=true, fails) the test when zxing-cpp's
// Python module cannot be imported.
func NeedDecoder(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		missing(t, python, "python3", err)
	}
	if out, err := run(python, "-c", "import zxingcpp, numpy"); err != nil {
		missing(t, "the zxing-cpp decoder (python3 module zxingcpp)", "python3-zxing-cpp", fmt.Errorf("%v: %s", err, bytes.TrimSpace(out)))
	}
}

// NeedRasterizer skips (or, under CI=true, fails) the test when pdftoppm
// is missing, and returns its path.
func NeedRasterizer(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("pdftoppm")
	if err != nil {
		missing(t, "pdftoppm", "poppler-utils", err)
	}
	return p
}

// Symbol is a PDF417 symbol zxing-cpp found in an image.
type Symbol struct {
	Bytes []byte `json:"bytes"` // the raw bytes it carries
	// Corners are top left, top right, bottom right and bottom left, in
	// pixels.
	Corners [4][2]float64 `json:"corners"`
}

// Size is the symbol's width (top edge) and height (left edge), in
// pixels; divide by the dpi and multiply by 25.4 for millimetres.
func (s Symbol) Size() (w, h float64) {
	dist := func(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }
	return dist(s.Corners[0], s.Corners[1]), dist(s.Corners[0], s.Corners[3])
}

// Decode reads every PDF417 symbol in each image (binary PGM, as
// Rasterize and WritePGM write them) with zxing-cpp and returns, per
// image, the symbols it found.
func Decode(t testing.TB, images ...string) [][]Symbol {
	t.Helper()
	NeedDecoder(t)
	out, err := run(python, append([]string{"-c", decodeScript}, images...)...)
	if err != nil {
		t.Fatalf("zxing-cpp: %v\n%s", err, out)
	}
	var found [][]Symbol
	if err := json.Unmarshal(out, &found); err != nil || len(found) != len(images) {
		t.Fatalf("zxing-cpp answered %q: %v", out, err)
	}
	return found
}

// Rasterize renders every page of a PDF in grey at dpi with pdftoppm and
// returns the PGM files, in page order.
func Rasterize(t testing.TB, pdf []byte, dpi int) []string {
	t.Helper()
	return render(t, pdf, dpi, "-gray", "*.pgm")
}

// RasterizePNG renders every page of a PDF as PNG at dpi, for people to
// look at, and returns the files in page order.
func RasterizePNG(t testing.TB, pdf []byte, dpi int) []string {
	t.Helper()
	return render(t, pdf, dpi, "-png", "*.png")
}

func render(t testing.TB, pdf []byte, dpi int, format, glob string) []string {
	t.Helper()
	tool := NeedRasterizer(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(tool, format, "-r", fmt.Sprint(dpi), in, filepath.Join(dir, "page")); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "page-"+glob))
	if err != nil || len(pages) == 0 {
		t.Fatalf("pdftoppm wrote no page (%v)", err)
	}
	sort.Strings(pages) // page-1, page-2, … (zero-padded by pdftoppm when needed)
	return pages
}

// WritePGM writes a grey image (one byte a pixel, 0 black) as binary PGM.
func WritePGM(path string, width, height int, pix []byte) error {
	if len(pix) != width*height {
		return errors.New("pdf417test: image size")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "P5\n%d %d\n255\n", width, height)
	b.Write(pix)
	return os.WriteFile(path, b.Bytes(), 0o600)
}

func run(tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return out, fmt.Errorf("%s timed out", tool)
	}
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}
