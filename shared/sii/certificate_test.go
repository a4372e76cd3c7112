package sii

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/testenv"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// requireTool returns the path of an external program; when it is missing
// the test fails under make test and CI, and is skipped otherwise.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(t, "%s is not installed: %v", name, err)
	}
	return p
}

func loadTestCert(t *testing.T) *certs.Certificate {
	t.Helper()
	b, err := os.ReadFile("../../testdata/sii/certs/ks.p12")
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.LoadPKCS12(b, "11111111")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificateCredentialSignsSeed(t *testing.T) {
	cred, err := NewCertificateCredential(loadTestCert(t))
	if err != nil {
		t.Fatal(err)
	}
	if cred.RUT().String() != "11111111-1" || cred.ID() == "" {
		t.Fatalf("RUT %s ID %q", cred.RUT(), cred.ID())
	}
	signed, err := cred.SignSeed(context.Background(), seedDocument("000000000078"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsig.ParseDocument(signed)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if root.Tag != "getToken" || root.FindElement("item/Semilla").Text() != "000000000078" {
		t.Fatalf("wrong structure: %s", signed)
	}
	sig := root.SelectElement("Signature")
	res, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{})
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if res.URI != "" {
		t.Errorf("Reference URI %q, want \"\" (whole document)", res.URI)
	}
	for _, p := range []string{"KeyInfo/KeyValue/RSAKeyValue/Modulus", "KeyInfo/KeyValue/RSAKeyValue/Exponent", "KeyInfo/X509Data/X509Certificate"} {
		if sig.FindElement(p) == nil {
			t.Errorf("signature lacks %s, which the SII requires", p)
		}
	}
	// An independent verifier: what xmlsec1 accepts, the SII's Java stack does.
	xmlsec := requireTool(t, "xmlsec1")
	f := filepath.Join(t.TempDir(), "seed.xml")
	if err := os.WriteFile(f, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmlsec, "--verify", "--insecure", f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("xmlsec1 rejects the signed seed: %v\n%s", err, out)
	}
}
