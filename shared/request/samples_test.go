package request

import (
	"os"
	"path/filepath"
	"testing"
)

// samplesDir holds the sample requests of every document type that users and
// the local run send.
const samplesDir = "../../samples/requests"

func TestSamplesAreValid(t *testing.T) {
	v := newValidator(t)
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("expected the sample requests in %s, found %d (%v)", samplesDir, len(files), err)
	}
	types := map[int]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, err := v.Parse(body)
			if err != nil {
				t.Fatalf("sample is invalid: %v", err)
			}
			types[req.Document.Type] = true
		})
	}
	for _, typ := range []int{33, 34, 52, 56, 61} {
		if !types[typ] {
			t.Errorf("no valid sample request of type %d", typ)
		}
	}
}

func newValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
