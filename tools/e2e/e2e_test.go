package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/siischema"
)

// TestEndToEnd sends one document of each type (33, 34, 52, 56, 61)
// through enqueue, RabbitMQ, sign, submit, the SII simulator and notify:
// each is accepted, Odoo (which checks every callback's signature) applies
// queued → signed → sent → accepted in order of occurrence, the SII got
// one upload per document, and the archived signed DTE and EnvioDTE verify
// with xmlsec1 and validate against the SII's schemas with xmllint. It runs
// with the archive on versitygw and on MinIO (subtests named for them).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	vgw, minio := archivetest.Targets()[0], archivetest.Targets()[1]
	for _, target := range []archivetest.Target{vgw, minio} {
		t.Run(target.Name, func(t *testing.T) {
			t.Parallel()
			// One callback at a time, as kn/ delivers them: with two, a
			// fast sign can have "signed" reach Odoo before "queued", which
			// Odoo then (rightly) ignores, and every status is checked here.
			endToEnd(t, newStack(t, stackOptions{s3: &target, notifyParallelism: 1}))
		})
	}
}

func endToEnd(t *testing.T, s *stack) {
	docs := s.allDocs()
	for _, d := range docs {
		s.send(d)
	}
	s.waitStatus("accepted", docs...)
	s.checkLedger(docs, nil)
	if n := s.SII.Stats()["upload"]; n != len(docs) {
		t.Errorf("the SII had %d upload calls for %d documents", n, len(docs))
	}

	ca, err := os.ReadFile(filepath.Join(s.work, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	trusted := [][]byte{ca}
	for _, d := range docs {
		st, err := s.state(d.key)
		if err != nil {
			t.Fatal(err)
		}
		signed, envio := s.document(st.ArchiveKey), s.document(st.EnvioKey)
		t.Run(strconv.Itoa(d.key.Type), func(t *testing.T) {
			t.Run("DTE xmlsec1", func(t *testing.T) {
				// The archived DTE alone, as the SII checks it: the
				// Reference points at Documento's ID; the signer's
				// certificate must chain to the stack's test CA.
				if err := dtetest.XMLSec1Verify(t, signed, dtetest.XMLSec1{IDNode: "Documento", Trusted: trusted}); err != nil {
					t.Errorf("%s (%s): %v", d.key, st.ArchiveKey, err)
				}
			})
			t.Run("DTE xmllint", func(t *testing.T) {
				if err := dtetest.ValidateXSD(t, siischema.DTE, signed); err != nil {
					t.Errorf("%s (%s): %v", d.key, st.ArchiveKey, err)
				}
			})
			t.Run("EnvioDTE xmlsec1", func(t *testing.T) {
				if err := dtetest.XMLSec1Verify(t, envio, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']", Trusted: trusted}); err != nil {
					t.Errorf("%s (%s): %v", d.key, st.EnvioKey, err)
				}
			})
			t.Run("EnvioDTE xmllint", func(t *testing.T) {
				if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, envio); err != nil {
					t.Errorf("%s (%s): %v", d.key, st.EnvioKey, err)
				}
			})
		})
	}
}
