package archive_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/rut"
)

func TestObjectKeys(t *testing.T) {
	k, err := dtekey.Parse("76086428-5-33-1042")
	if err != nil {
		t.Fatal(err)
	}
	issuer := rut.MustParse("60803000-K")
	santiago := time.FixedZone("CLT", -3*3600)
	tests := []struct {
		name string
		got  func() (string, error)
		want string // "" means an ErrInvalidKey
	}{
		{"dte", func() (string, error) { return archive.DTEObjectKey(k) }, "dte/76086428-5/33/1042.xml"},
		{"state", func() (string, error) { return archive.StateObjectKey(k) }, "state/76086428-5/33/1042.json"},
		{"envio", func() (string, error) {
			return archive.EnvioObjectKey(issuer, time.Date(2025, 3, 1, 1, 0, 0, 0, santiago), "SetDoc")
		}, "envio/60803000-K/2025/03/SetDoc.xml"},
		{"caf", func() (string, error) { return archive.CAFObjectKey(issuer, 61, 1, 50) }, "caf/60803000-K/61/1-50.xml"},
		{"caf prefix type", func() (string, error) { return archive.CAFPrefix(issuer, 33) }, "caf/60803000-K/33/"},
		{"caf prefix issuer", func() (string, error) { return archive.CAFPrefix(issuer, 0) }, "caf/60803000-K/"},
		{"caf prefix all", func() (string, error) { return archive.CAFPrefix(rut.RUT{}, 0) }, "caf/"},

		{"zero key", func() (string, error) { return archive.DTEObjectKey(dtekey.Key{}) }, ""},
		{"bad check digit", func() (string, error) {
			return archive.StateObjectKey(dtekey.Key{Issuer: rut.RUT{Number: 76086428, DV: '4'}, Type: 33, Folio: 1})
		}, ""},
		{"type out of range", func() (string, error) {
			return archive.DTEObjectKey(dtekey.Key{Issuer: issuer, Type: 1000, Folio: 1})
		}, ""},
		{"folio zero", func() (string, error) { return archive.DTEObjectKey(dtekey.Key{Issuer: issuer, Type: 33}) }, ""},
		{"envio path traversal", func() (string, error) { return archive.EnvioObjectKey(issuer, time.Now(), "../x") }, ""},
		{"envio empty id", func() (string, error) { return archive.EnvioObjectKey(issuer, time.Now(), "") }, ""},
		{"envio zero time", func() (string, error) { return archive.EnvioObjectKey(issuer, time.Time{}, "a") }, ""},
		{"caf reversed range", func() (string, error) { return archive.CAFObjectKey(issuer, 33, 10, 9) }, ""},
		{"caf prefix type without issuer", func() (string, error) { return archive.CAFPrefix(rut.RUT{}, 33) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if tt.want == "" {
				if !errors.Is(err, archive.ErrInvalidKey) || !errs.IsPermanent(err) {
					t.Fatalf("got %q, %v; want a permanent ErrInvalidKey", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseCAFObjectKey(t *testing.T) {
	tests := []struct {
		key  string
		want archive.CAFRef
		ok   bool
	}{
		{"caf/76086428-5/33/1-100.xml", archive.CAFRef{Issuer: rut.MustParse("76086428-5"), Type: 33, From: 1, To: 100}, true},
		{"caf/60803000-K/61/7-7.xml", archive.CAFRef{Issuer: rut.MustParse("60803000-K"), Type: 61, From: 7, To: 7}, true},
		{"caf/76086428-5/33/01-100.xml", archive.CAFRef{}, false},
		{"caf/76086428-5/33/1-100.json", archive.CAFRef{}, false},
		{"caf/76086428-4/33/1-100.xml", archive.CAFRef{}, false},
		{"caf/76086428-5/33/x/1-100.xml", archive.CAFRef{}, false},
		{"caf/76086428-5/033/1-100.xml", archive.CAFRef{}, false},
		{"caf/76086428-5/33/100-1.xml", archive.CAFRef{}, false},
		{"dte/76086428-5/33/1.xml", archive.CAFRef{}, false},
		{"", archive.CAFRef{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := archive.ParseCAFObjectKey(tt.key)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v ok=%v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, archive.ErrInvalidKey) {
				t.Fatalf("error %v is not ErrInvalidKey", err)
			}
		})
	}
}

// FuzzParseCAFObjectKey: no panic, and whatever parses round-trips.
func FuzzParseCAFObjectKey(f *testing.F) {
	for _, s := range []string{"caf/76086428-5/33/1-100.xml", "caf/60803000-K/61/7-7.xml", "caf//-.xml", "caf/1-9/1/1-1.xml"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		ref, err := archive.ParseCAFObjectKey(key)
		if err != nil {
			return
		}
		back, err := archive.CAFObjectKey(ref.Issuer, ref.Type, ref.From, ref.To)
		if err != nil || back != key {
			t.Fatalf("%q parsed to %+v, which gives %q, %v", key, ref, back, err)
		}
	})
}

// Every Prefix constant is in IssuerPrefixes: a prefix added later and
// left out would survive the local stack's clearing, and a new run would
// read an earlier run's files for the same folio.
func TestIssuerPrefixesListsEveryPrefix(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range archive.IssuerPrefixes {
		listed[p] = true
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for i, name := range s.(*ast.ValueSpec).Names {
				if !strings.HasPrefix(name.Name, "Prefix") {
					continue
				}
				n++
				lit, ok := s.(*ast.ValueSpec).Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				if !listed[v] {
					t.Errorf("%s (%q) is not in IssuerPrefixes", name.Name, v)
				}
			}
		}
	}
	if n == 0 || n != len(archive.IssuerPrefixes) {
		t.Errorf("found %d Prefix constants, IssuerPrefixes has %d", n, len(archive.IssuerPrefixes))
	}
}
