package xsd_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/tools/xsd"
)

const samples = "../../testdata/sii"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type xsdCase struct {
	name, kind string
	doc        []byte
	valid      bool
	stricter   bool
}

// cases are documents with their verdict: xmllint's (TestMatchesXMLLint),
// except where the validator is stricter on purpose (stricter: the root
// element must be the schema's entry point, and a DTD is refused).
func cases(t testing.TB) []xsdCase {
	official := read(t, "sii-official/F60T33-ejemplo-oficial-SII.xml")
	real := read(t, "real-dte/DTE--76354771-K--33--170--cleaned.xml")
	return []xsdCase{
		{"official EnvioDTE", dte.KindEnvioDTE, official, true, false},
		{"real DTE", dte.KindDTE, real, true, false},
		{"real DTE, changed amount", dte.KindDTE, read(t, "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"), true, false},
		{"DTE against the EnvioDTE schema", dte.KindEnvioDTE, real, false, true},
		{"negative folio", dte.KindDTE, bytes.Replace(real, []byte("<Folio>170</Folio>"), []byte("<Folio>-170</Folio>"), 1), false, false},
		{"second Documento", dte.KindDTE, bytes.Replace(real, []byte("</DTE>"), []byte("<Documento ID=\"x\"/></DTE>"), 1), false, false},
		{"not well-formed", dte.KindDTE, real[:len(real)/2], false, false},
		{"DTD", dte.KindDTE, append([]byte(`<?xml version="1.0"?><!DOCTYPE DTE [<!ENTITY e "x">]>`), bytes.SplitN(real, []byte("?>"), 2)[1]...), false, true},
		{"empty", dte.KindDTE, nil, false, false},
		// Over StreamAbove: streamed through the schema.
		{"official, padded past 1 MiB", dte.KindEnvioDTE, pad(official), true, false},
		{"real DTE, padded, negative folio", dte.KindDTE, pad(bytes.Replace(real, []byte("<Folio>170</Folio>"), []byte("<Folio>-170</Folio>"), 1)), false, false},
	}
}

// pad inserts whitespace before the root's end tag, past xsd.StreamAbove.
func pad(doc []byte) []byte {
	i := bytes.LastIndex(doc, []byte("</"))
	return append(append(append([]byte(nil), doc[:i]...), bytes.Repeat([]byte(" \n"), xsd.StreamAbove/2+1)...), doc[i:]...)
}

// TestStreamStops: a large hostile document is read until the schema has
// said enough, not to its end.
func TestStreamStops(t *testing.T) {
	s, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	doc := append([]byte(`<EnvioDTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><SetDTE ID="S">`), bytes.Repeat([]byte("<a/>"), 1<<20)...)
	doc = append(doc, "</SetDTE></EnvioDTE>"...)
	var se *dte.SchemaError
	if err := s.ValidateSchema(dte.KindEnvioDTE, doc); !errors.As(err, &se) || len(se.Problems) > 21 {
		t.Fatalf("%v", err)
	}
}

func TestValidate(t *testing.T) {
	s, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			err := s.ValidateSchema(c.kind, c.doc)
			var se *dte.SchemaError
			switch {
			case c.valid && err != nil:
				t.Fatalf("want valid: %v", err)
			case !c.valid && !errors.As(err, &se):
				t.Fatalf("want *dte.SchemaError, got %v", err)
			case !c.valid && len(se.Problems) == 0:
				t.Fatal("no problems listed")
			}
		})
	}
	if err := s.ValidateSchema("Nonsense", nil); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestMatchesXMLLint: the in-process verdicts are xmllint's.
func TestMatchesXMLLint(t *testing.T) {
	s, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	oracle := dtetest.XMLLintSchema(t)
	for _, c := range cases(t) {
		if len(c.doc) == 0 || c.stricter {
			continue
		}
		got, want := s.ValidateSchema(c.kind, c.doc) == nil, oracle.ValidateSchema(c.kind, c.doc) == nil
		if got != want {
			t.Errorf("%s: in process valid=%v, xmllint valid=%v", c.name, got, want)
		}
	}
}

// TestConcurrent validates from many goroutines at once: messages do not
// mix, verdicts do not change (run with -race).
func TestConcurrent(t *testing.T) {
	s, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	cs := cases(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				c := cs[(g+i)%len(cs)]
				err := s.ValidateSchema(c.kind, c.doc)
				if (err == nil) != c.valid {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestClose(t *testing.T) {
	path, err := siischema.Path(siischema.DTE)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := xsd.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc.Close()
	sc.Close()
	if err := sc.Validate([]byte("<a/>")); !errors.Is(err, xsd.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := xsd.Compile("no-such.xsd"); err == nil {
		t.Error("missing schema compiled")
	}
}

func BenchmarkValidateDTE(b *testing.B) {
	s, err := xsd.NewSII()
	if err != nil {
		b.Fatal(err)
	}
	doc := read(b, "real-dte/DTE--76354771-K--33--170--cleaned.xml")
	for b.Loop() {
		if err := s.ValidateSchema(dte.KindDTE, doc); err != nil {
			b.Fatal(err)
		}
	}
}
