package dtetest

import (
	"sync"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/localpki"
)

// The key material of package localpki, under the names tests use.
type (
	CAFSpec    = localpki.CAFSpec
	SignerSpec = localpki.SignerSpec
	Files      = localpki.Files
)

// IDK is the CAF key identifier the test SII key stands for.
const IDK = localpki.IDK

// Default identities of the shared fixture.
var (
	SignerRUT = localpki.SignerRUT
	IssuerRUT = localpki.IssuerRUT
)

// PKI is a set of throwaway keys (localpki.PKI) with test helpers.
type PKI struct{ *localpki.PKI }

// New generates a fresh PKI.
func New() (*PKI, error) {
	p, err := localpki.New()
	if err != nil {
		return nil, err
	}
	return &PKI{p}, nil
}

// shared is the one PKI tests use; generating it costs about a second.
var shared = sync.OnceValues(New)

// Shared returns a PKI made once per process.
func Shared() (*PKI, error) { return shared() }

// TB is the part of testing.TB this package uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}

// MustShared is Shared for tests: it fails the test on error.
func MustShared(t TB) *PKI {
	t.Helper()
	p, err := Shared()
	if err != nil {
		t.Fatalf("dtetest: %v", err)
	}
	return p
}

// MustCAF is CAF for tests.
func (p *PKI) MustCAF(t TB, s CAFSpec) (*caf.CAF, []byte) {
	t.Helper()
	c, b, err := p.CAF(s)
	if err != nil {
		t.Fatalf("dtetest: %v", err)
	}
	return c, b
}
