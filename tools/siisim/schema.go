package siisim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// schemaValidator checks an EnvioDTE against the official schemas with
// xmllint, as the SII does on upload (STATUS 7). A subprocess keeps the
// dte binary buildable without cgo.
type schemaValidator struct {
	xmllint string
	xsd     string
}

// maxSchemaErrors bounds the DETAIL of a STATUS 7 answer.
const maxSchemaErrors = 20

// validate returns the schema errors (nil when valid), or err when xmllint
// itself could not run.
func (v *schemaValidator) validate(ctx context.Context, doc []byte) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.xmllint, "--noout", "--nonet", "--schema", v.xsd, "-")
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("run %s: %w", v.xmllint, err)
	}
	// xmllint exits 1 (parse error), 3 or 4 (invalid); 5 means the schema
	// itself did not compile: the simulator's problem, not the document's.
	if code := ee.ExitCode(); code == 5 || code < 0 {
		return nil, fmt.Errorf("%s could not use schema %s (exit %d): %s", v.xmllint, v.xsd, code, strings.TrimSpace(stderr.String()))
	}
	var lines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasSuffix(l, "fails to validate") || strings.HasSuffix(l, "validates") {
			continue
		}
		if len(lines) == maxSchemaErrors {
			lines = append(lines, "...")
			break
		}
		lines = append(lines, strings.TrimPrefix(l, "-:"))
	}
	if len(lines) == 0 {
		lines = []string{fmt.Sprintf("invalid document (xmllint exit %d)", ee.ExitCode())}
	}
	return lines, nil
}
