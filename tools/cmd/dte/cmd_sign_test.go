package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/testenv"
)

// Paths from this package's directory (tools/cmd/dte).
var (
	siiSamples     = filepath.Join("..", "..", "..", "testdata", "sii")
	siiCAFKeys     = filepath.Join(siiSamples, "sii-caf-keys")
	sampleRequests = filepath.Join("..", "..", "..", "samples", "requests")
)

// datedSamples copies samples/requests to a folder with every request
// dated today (dtetest.DatedToday): the documents they become must verify,
// and a document dated before its CAF does not.
func datedSamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(sampleRequests, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("sample requests: %v (%d)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if b, err = dtetest.DatedToday(b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runDTE runs `dte args...` with env as the whole environment.
func runDTE(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := &cliEnv{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = run(ctx, e, args)
	return out.String(), errb.String(), code
}

// pkiFiles writes the test PKI and a CAF per type for the sample issuer.
func pkiFiles(t *testing.T) *dtetest.Files {
	t.Helper()
	pki := dtetest.MustShared(t)
	var specs []dtetest.CAFSpec
	for _, typ := range dte.Types() {
		specs = append(specs, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada", Type: typ, From: 1, To: 5000, Authorized: time.Now().AddDate(0, -1, 0)})
	}
	f, err := pki.WriteFiles(t.TempDir(), "clave-p12", specs...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func signArgs(f *dtetest.Files, extra ...string) []string {
	args := []string{"sign", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--sii-keys", f.SIIKeysDir}
	for _, c := range f.CAFs {
		args = append(args, "--caf", c)
	}
	return append(args, extra...)
}

func TestSignCommand(t *testing.T) {
	f := pkiFiles(t)
	env := map[string]string{"P12_PASSWORD": f.Password}
	out := t.TempDir()
	samples := datedSamples(t)
	reqs := testenv.Glob(t, filepath.Join(samples, "*.json"))
	stdout, stderr, code := runDTE(t, env, signArgs(f, append([]string{"--out-dir", out}, reqs...)...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	signed := testenv.Glob(t, filepath.Join(out, "*.xml"))
	if len(signed) != len(reqs) || len(reqs) < 5 {
		t.Fatalf("%d requests, %d signed DTEs:\n%s", len(reqs), len(signed), stdout)
	}
	t.Run("xmllint and xmlsec1", func(t *testing.T) {
		for _, s := range signed {
			b, err := os.ReadFile(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := dtetest.ValidateXSD(t, siischema.DTE, b); err != nil {
				t.Errorf("%s: %v", s, err)
			}
			if err := dtetest.XMLSec1Verify(t, b, dtetest.XMLSec1{IDNode: "Documento"}); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	})
	if !strings.Contains(stdout, "76086428-5-33-1042.xml (Documento F1042T33") {
		t.Errorf("stdout does not say where F1042T33 went:\n%s", stdout)
	}

	// One request to standard output, PEM certificate this time.
	one := filepath.Join(samples, "factura-33.json")
	args := []string{"sign", "--cert", f.SignerCert, "--key", f.SignerKey, "--sii-keys", f.SIIKeysDir, "--caf", f.CAFs[0], "--out", "-", one}
	stdout, stderr, code = runDTE(t, nil, args...)
	if code != 0 || !strings.HasPrefix(stdout, `<?xml version="1.0" encoding="ISO-8859-1"?>`) {
		t.Fatalf("exit %d\n%.200s\n%s", code, stdout, stderr)
	}
	if r := dte.Verify([]byte(stdout), strictOptions(t, f.SIIKeysDir)); !r.Valid() {
		t.Errorf("%+v", r.Failures())
	}
}

func TestSignCommandErrors(t *testing.T) {
	f := pkiFiles(t)
	f33 := filepath.Join(sampleRequests, "factura-33.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	b, _ := os.ReadFile(f33)
	os.WriteFile(bad, bytes.Replace(b, []byte(`"total": 207618`), []byte(`"total": 207619`), 1), 0o644)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"wrong password", map[string]string{"P12_PASSWORD": "nope"}, signArgs(f, f33), 1, []string{f.SignerP12, "wrong password", "$P12_PASSWORD"}},
		{"CAF of another type", map[string]string{"P12_PASSWORD": f.Password},
			[]string{"sign", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--sii-keys", f.SIIKeysDir, "--caf", f.CAFs[1], f33}, 1,
			[]string{f33, "sign 33 folio 1042", "another document type"}},
		{"CAF not signed by the SII", map[string]string{"P12_PASSWORD": f.Password},
			[]string{"sign", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--sii-keys", siiCAFKeys, "--caf", f.CAFs[0], f33}, 1,
			[]string{f.CAFs[0], "FRMA"}},
		{"invalid request", map[string]string{"P12_PASSWORD": f.Password}, signArgs(f, bad), 1, []string{bad, "totals.total"}},
		{"no CAF", nil, []string{"sign", "--cert", f.SignerP12, f33}, 2, []string{"--caf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runDTE(t, tt.env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
