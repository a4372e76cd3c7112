package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/pdf417/pdf417test"
	"github.com/dtecl/pipeline/shared/siischema"
	"github.com/dtecl/pipeline/shared/timbre"
	"github.com/dtecl/pipeline/tools/odoofake"
)

// TestEndToEnd sends one document of each type (33, 34, 52, 56, 61)
// through enqueue, RabbitMQ, sign, submit, the SII simulator and notify:
// each is accepted, Odoo (which checks every callback's signature) applies
// queued → signed → sent → accepted in order of occurrence, the SII got
// one upload per document, and the archived signed DTE and EnvioDTE verify
// with xmlsec1 and validate against the SII's schemas with xmllint; what
// the customer receives is archived and read back (checkHandover). It runs
// with the archive on versitygw and on MinIO (subtests named for them).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	vgw, minio := archivetest.Targets()[0], archivetest.Targets()[1]
	for _, target := range []archivetest.Target{vgw, minio} {
		t.Run(target.Name, func(t *testing.T) {
			t.Parallel()
			// Every status is checked here, so each document's callbacks
			// must reach Odoo in order: on versitygw as openfaas/ and `make
			// run` deliver them (four documents at once, each in order), on
			// MinIO as kn/ does (one callback at a time). Unordered, a fast
			// sign can have "signed" reach Odoo before "queued", which Odoo
			// then (rightly) ignores.
			par := 0 // the local stack's default: 4, order: document
			if target.Name == minio.Name {
				par = 1
			}
			endToEnd(t, newStack(t, stackOptions{s3: &target, notifyParallelism: par}))
		})
	}
}

func endToEnd(t *testing.T, s *stack) {
	// What the customer receives: the factura and the guía go to receivers
	// with a DTE exchange address (their EnvioDTE is made), the factura
	// exenta is printed on a ticket.
	var docs []doc
	for _, typ := range docTypes {
		docs = append(docs, s.request(typ, func(m map[string]any) {
			switch typ {
			case 33, 52:
				m["receiver"].(map[string]any)["exchange_email"] = "dte@cliente.cl"
			case 34:
				m["document"].(map[string]any)["print_format"] = "ticket"
			}
		}))
	}
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
			t.Run("handover", func(t *testing.T) { s.checkHandover(t, d, signed, trusted) })
		})
	}
}

// checkHandover: the accepted document's printed DTE is archived at
// pdf/{rut}/{type}/{folio}.pdf and its PDF417 reads back (zxing-cpp) as the
// TED; a receiver with an exchange address has its EnvioDTE archived at
// envio-receptor/…, valid (xmllint) and signed (xmlsec1); Odoo's accepted
// callback carried both, byte for byte.
func (s *stack) checkHandover(t *testing.T, d doc, signed []byte, trusted [][]byte) {
	get := func(key string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		doc, err := s.Archive.GetDocument(ctx, key)
		if err != nil {
			t.Fatalf("read %s from the archive: %v", key, err)
		}
		return doc.Body
	}
	pdfKey, _ := archive.PDFObjectKey(d.key)
	envKey, _ := archive.ReceiverEnvelopeObjectKey(d.key)
	pdf := get(pdfKey)
	ted, err := timbre.Bytes(signed)
	if err != nil {
		t.Fatal(err)
	}
	pages := pdf417test.Rasterize(t, pdf, 200)
	wantPages := 1
	if d.key.Type == 33 || d.key.Type == 34 || d.key.Type == 52 {
		wantPages = 2 // the cedible copy (the sample guía is a sale)
	}
	if len(pages) != wantPages {
		t.Errorf("%s: %d pages, want %d", pdfKey, len(pages), wantPages)
	}
	for i, syms := range pdf417test.Decode(t, pages...) {
		if len(syms) != 1 || !bytes.Equal(syms[0].Bytes, ted) {
			t.Errorf("%s page %d: the PDF417 does not read back as the TED (%d symbols)", pdfKey, i+1, len(syms))
		}
	}
	exchange := bytes.Contains(d.body, []byte(`"exchange_email"`))
	want := map[string][]byte{pdfKey: pdf}
	if exchange {
		envio := get(envKey)
		want[envKey] = envio
		if err := dtetest.ValidateXSD(t, siischema.EnvioDTE, envio); err != nil {
			t.Errorf("%s: %v", envKey, err)
		}
		if err := dtetest.XMLSec1Verify(t, envio, dtetest.XMLSec1{IDNode: "SetDTE", Node: "/*/*[local-name()='Signature']", Trusted: trusted}); err != nil {
			t.Errorf("%s: %v", envKey, err)
		}
		el := signed[bytes.Index(signed, []byte("<DTE ")) : bytes.LastIndex(signed, []byte("</DTE>"))+len("</DTE>")]
		if !bytes.Contains(envio, el) {
			t.Errorf("%s does not hold the signed DTE byte for byte", envKey)
		}
	} else if _, err := s.Archive.GetDocument(context.Background(), envKey); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("%s: a receiver without an exchange address got an EnvioDTE (%v)", envKey, err)
	}
	if s.Odoo == nil {
		return
	}
	var got []odoofake.Attachment
	for _, cb := range s.Odoo.Received() {
		if cb.DTEKey == d.key.String() && cb.Status == "accepted" {
			got = cb.Attachments
		}
	}
	if len(got) != len(want) {
		t.Fatalf("Odoo's accepted callback carried %d attachments, want %d", len(got), len(want))
	}
	for _, a := range got {
		b, err := a.Bytes()
		if err != nil || !bytes.Equal(b, want[a.ArchiveKey]) {
			t.Errorf("the callback's %s is not the archived %s", a.Name, a.ArchiveKey)
		}
	}
}
