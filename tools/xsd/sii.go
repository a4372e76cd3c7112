package xsd

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/siischema"
)

// SII is the SII's schema set compiled for the documents the verifier
// reads: DTE_v10.xsd for a DTE, EnvioDTE_v10.xsd for an EnvioDTE,
// EnvioBOLETA_v11.xsd for an EnvioBOLETA. It implements
// dte.SchemaValidator and is safe for concurrent use.
type SII struct {
	byKind map[string]*Schema
}

// NewSII compiles the SII's schemas built into the program (package
// siischema). Compiling takes a fraction of a second; do it once.
func NewSII() (*SII, error) {
	dir, err := siischema.Dir()
	if err != nil {
		return nil, err
	}
	return LoadSII(dir)
}

// LoadSII compiles the SII's schemas from a folder holding the set (for a
// newer set than the one built in).
func LoadSII(dir string) (*SII, error) {
	s := &SII{byKind: map[string]*Schema{}}
	for _, kind := range []string{dte.KindDTE, dte.KindEnvioDTE, dte.KindEnvioBOLETA} {
		sc, err := Compile(filepath.Join(dir, dte.SchemaFor(kind)))
		if err != nil {
			s.Close()
			return nil, err
		}
		s.byKind[kind] = sc
	}
	return s, nil
}

// ValidateSchema implements dte.SchemaValidator.
func (s *SII) ValidateSchema(kind string, doc []byte) error {
	sc := s.byKind[kind]
	if sc == nil {
		return fmt.Errorf("xsd: no SII schema for %q", kind)
	}
	err := sc.ValidateRoot(doc, dte.NamespaceSiiDte, kind)
	var inv *Invalid
	if errors.As(err, &inv) {
		return &dte.SchemaError{Schema: inv.Schema, Problems: inv.Problems}
	}
	return err
}

// Close frees the compiled schemas.
func (s *SII) Close() {
	for _, sc := range s.byKind {
		sc.Close()
	}
}
