package printout_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/request"
)

const (
	siiDir      = "../../testdata/sii"
	requestsDir = "../../samples/requests"
)

// sample is a signed DTE made from one of samples/requests.
type sample struct {
	name   string // file name without .json
	req    *request.Request
	signed []byte
}

type fixture struct {
	pki     *dtetest.PKI
	signer  *dte.Signer
	cafs    []*caf.CAF
	v       *request.Validator
	samples []sample
}

var fixtureOnce = sync.OnceValues(func() (*fixture, error) {
	pki, err := dtetest.Shared()
	if err != nil {
		return nil, err
	}
	f := &fixture{pki: pki}
	if f.signer, f.cafs, err = pki.SigningKit(); err != nil {
		return nil, err
	}
	if f.v, err = request.NewValidator(); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(requestsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		req, err := f.v.Parse(raw)
		if err != nil {
			return nil, err
		}
		s, err := f.signer.Sign(context.Background(), req, f.cafs)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(file)
		f.samples = append(f.samples, sample{name: name[:len(name)-len(".json")], req: req, signed: s.XML})
	}
	return f, nil
})

func getFixture(t testing.TB) *fixture {
	t.Helper()
	f, err := fixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.samples) < 5 {
		t.Fatalf("only %d sample requests in %s", len(f.samples), requestsDir)
	}
	return f
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signJSON validates and signs a request given as JSON.
func signJSON(t testing.TB, raw []byte) []byte {
	t.Helper()
	f := getFixture(t)
	req, err := f.v.Parse(raw)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	s, err := f.signer.Sign(context.Background(), req, f.cafs)
	if err != nil {
		t.Fatal(err)
	}
	return s.XML
}

// dteHeader is a Carátula header for test envelopes.
func dteHeader() dte.Header {
	return dte.Header{Resolution: request.Resolution{Number: 0, Date: "2024-08-22"}}
}
