package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/testenv"
)

func TestEnvelopeCommand(t *testing.T) {
	f := pkiFiles(t)
	env := map[string]string{"P12_PASSWORD": f.Password}
	dir := t.TempDir()
	reqs := testenv.Glob(t, filepath.Join(datedSamples(t), "*.json"))
	if _, stderr, code := runDTE(t, env, signArgs(f, append([]string{"--out-dir", dir}, reqs...)...)...); code != 0 {
		t.Fatal(stderr)
	}
	dtes := testenv.Glob(t, filepath.Join(dir, "*.xml"))
	if len(dtes) != len(reqs) {
		t.Fatalf("%d requests, %d signed DTEs", len(reqs), len(dtes))
	}
	out := filepath.Join(dir, "envio.xml")
	// As the README writes it: the DTEs, then --out.
	args := append([]string{"envelope", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--resolution-date", "2024-08-22", "--set-id", "SetDoc"}, dtes...)
	args = append(args, "--out", out)
	stdout, stderr, code := runDTE(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "EnvioDTE SetDoc with 5 DTE(s) of 76086428-5, sent by 11111111-1 to 60803000-K") {
		t.Errorf("stdout:\n%s", stdout)
	}
	x, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("xmllint and xmlsec1", func(t *testing.T) {
		if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, x); err != nil {
			t.Error(err)
		}
		if err := dtetest.XMLSec1Verify(t, x, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']"}); err != nil {
			t.Error(err)
		}
	})
	keys := f.SIIKeysDir
	if stdout, stderr, code := runDTE(t, nil, "verify", "--sii-keys", keys, out); code != 0 || !strings.Contains(stdout, "result: valid") {
		t.Errorf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	if r := dte.Verify(x, strictOptions(t, keys)); len(r.Documents) != 5 || !r.Valid() {
		t.Errorf("%+v", r.Failures())
	}

	t.Run("a DTE of another issuer", func(t *testing.T) {
		real := filepath.Join(siiSamples, "real-dte", "DTE--76354771-K--33--170--cleaned.xml")
		_, stderr, code := runDTE(t, env, "envelope", "--cert", f.SignerP12, "--password-env", "P12_PASSWORD", "--resolution-date", "2024-08-22", dtes[0], real)
		if code != 1 || !strings.Contains(stderr, "DTE 2 (MiPE76354771-13419) is issued by 76354771-K") || !strings.Contains(stderr, "DTE 2: "+real) {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	})
	t.Run("missing resolution date", func(t *testing.T) {
		if _, _, code := runDTE(t, env, "envelope", "--cert", f.SignerP12, dtes[0]); code != 2 {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("tampered envelope", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.xml")
		os.WriteFile(bad, bytes.Replace(x, []byte("<NroResol>0</NroResol>"), []byte("<NroResol>1</NroResol>"), 1), 0o644)
		stdout, _, code := runDTE(t, nil, "verify", "--sii-keys", keys, bad)
		if code != 1 || !strings.Contains(stdout, "digest-mismatch") {
			t.Errorf("exit %d\n%s", code, stdout)
		}
	})
}
