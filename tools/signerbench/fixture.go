package signerbench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dtecl/pipeline/shared/localpki"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
)

// WriteFixture writes the test PKI every worker signs with into dir: the
// signing certificate and key (PEM), the test SII key, and a CAF for the
// request's issuer and type with its private key, covering every folio.
// The keys are throwaway keys (shared/localpki); the CAF is authorised the
// day before the request's issue date, so the document verifies whatever
// day the benchmark runs.
func WriteFixture(dir, requestPath string) error {
	body, err := os.ReadFile(requestPath)
	if err != nil {
		return err
	}
	v, err := request.NewValidator()
	if err != nil {
		return err
	}
	req, err := v.Parse(body)
	if err != nil {
		return fmt.Errorf("%s: %w", requestPath, err)
	}
	issuer, err := rut.Parse(req.Issuer.RUT)
	if err != nil {
		return fmt.Errorf("%s: issuer.rut: %w", requestPath, err)
	}
	issued, err := time.Parse(time.DateOnly, req.Document.IssueDate)
	if err != nil {
		return fmt.Errorf("%s: document.issue_date: %w", requestPath, err)
	}
	pki, err := localpki.New()
	if err != nil {
		return err
	}
	files, err := pki.WriteFiles(dir, "signerbench", localpki.CAFSpec{
		Issuer: issuer, Name: req.Issuer.Name, Type: req.Document.Type, From: 1, To: 1 << 30,
		Authorized: issued.AddDate(0, 0, -1),
	})
	if err != nil {
		return err
	}
	if len(files.CAFs) != 1 {
		return fmt.Errorf("fixture: want one CAF, wrote %d", len(files.CAFs))
	}
	f := FixtureFiles(dir)
	if err := os.Rename(files.CAFs[0], f.CAF); err != nil {
		return err
	}
	for _, p := range []string{f.SignerCert, f.SignerKey, f.CAF, filepath.Join(f.SIIKeysDir, "100.cer")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
	}
	return nil
}
