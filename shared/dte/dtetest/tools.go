package dtetest

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/testenv"
)

// NeedTool returns the path of an external program (xmllint, xmlsec1).
// When it is missing the test fails under make test and CI (testenv.Strict)
// and is skipped when go test is run by hand.
func NeedTool(t TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	testenv.Unavailable(t, "%s is not installed (apt-get install %s): %v", name, debPackage(name), err)
	return ""
}

func debPackage(tool string) string {
	switch tool {
	case "xmllint":
		return "libxml2-utils"
	case "xmlsec1":
		return "xmlsec1"
	}
	return tool
}

// ValidateXSD validates an XML document with xmllint, the independent
// implementation, against one of the SII's schemas, named as in package
// siischema (siischema.DTE for a DTE, siischema.EnvioDTE for an envelope).
// It returns xmllint's complaint when the document is invalid.
func ValidateXSD(t TB, schema string, doc []byte) error {
	t.Helper()
	tool := NeedTool(t, "xmllint")
	xsd, err := siischema.Path(schema)
	if err != nil {
		t.Fatalf("%v", err)
	}
	f := writeTemp(t, "doc.xml", doc)
	out, err := run(tool, "--noout", "--nonet", "--schema", xsd, f)
	if err != nil {
		return fmt.Errorf("xmllint --schema %s: %v\n%s", filepath.Base(xsd), err, out)
	}
	return nil
}

// XMLSec1 describes one verification with xmlsec1.
type XMLSec1 struct {
	// IDNode is the element whose ID attribute a Reference points to
	// (Documento, SetDTE); empty for URI="".
	IDNode string
	// Node is an XPath selecting the Signature to verify; empty for the
	// first one in the document.
	Node string
	// Trusted are PEM certificates the signer's certificate must chain
	// to. Without them the key in KeyInfo is used as is (--insecure).
	Trusted [][]byte
}

// XMLSec1Verify verifies a signature with xmlsec1, the independent
// implementation (libxml2 + OpenSSL). It returns xmlsec1's output when the
// signature does not verify.
func XMLSec1Verify(t TB, doc []byte, o XMLSec1) error {
	t.Helper()
	tool := NeedTool(t, "xmlsec1")
	args := []string{"--verify"}
	if o.IDNode != "" {
		args = append(args, "--id-attr:ID", o.IDNode)
	}
	if o.Node != "" {
		args = append(args, "--node-xpath", o.Node)
	}
	if len(o.Trusted) == 0 {
		args = append(args, "--insecure")
	}
	for i, c := range o.Trusted {
		args = append(args, "--trusted-pem", writeTemp(t, fmt.Sprintf("trusted%d.pem", i), c))
	}
	args = append(args, writeTemp(t, "signed.xml", doc))
	out, err := run(tool, args...)
	if err != nil {
		return fmt.Errorf("xmlsec1 %v: %v\n%s", args, err, out)
	}
	if !bytes.Contains(out, []byte("OK")) {
		return fmt.Errorf("xmlsec1 did not say OK:\n%s", out)
	}
	return nil
}

// CertPEM encodes a DER certificate as PEM, for XMLSec1.Trusted.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writeTemp(t TB, name string, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*-"+name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatalf("%v", err)
	}
	return f.Name()
}

func run(tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return out, fmt.Errorf("%s timed out", tool)
	}
	return out, err
}

// XMLLintSchema is a dte.SchemaValidator backed by xmllint, the
// independent implementation, for tests of packages that cannot use the
// in-process validator (tools/xsd needs cgo). It starts one xmllint per
// document: slow, and only for tests.
func XMLLintSchema(t TB) dte.SchemaValidator {
	t.Helper()
	return xmllintSchema{tool: NeedTool(t, "xmllint")}
}

type xmllintSchema struct{ tool string }

// ValidateSchema implements dte.SchemaValidator.
func (x xmllintSchema) ValidateSchema(kind string, doc []byte) error {
	name := dte.SchemaFor(kind)
	if name == "" {
		return fmt.Errorf("no schema for %q", kind)
	}
	xsd, err := siischema.Path(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.tool, "--noout", "--nonet", "--schema", xsd, "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() >= 1 && ee.ExitCode() <= 4:
		return &dte.SchemaError{Schema: name, Problems: []string{string(bytes.TrimSpace(out))}}
	default:
		return fmt.Errorf("xmllint: %v: %s", err, out)
	}
}
