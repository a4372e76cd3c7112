package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/handover"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/stage/notify"
	"github.com/dtecl/pipeline/shared/timbre"
)

// recorder is Odoo: it keeps every callback.
type recorder struct{ got []callback.Payload }

func (r *recorder) Send(_ context.Context, _ string, p callback.Payload) error {
	r.got = append(r.got, p)
	return nil
}

type signing struct {
	pki    *dtetest.PKI
	signer *dte.Signer
	cafs   []*caf.CAF
	v      *request.Validator
}

var signingOnce = sync.OnceValues(func() (*signing, error) {
	pki, err := dtetest.Shared()
	if err != nil {
		return nil, err
	}
	s := &signing{pki: pki}
	if s.signer, s.cafs, err = pki.SigningKit(); err != nil {
		return nil, err
	}
	s.v, err = request.NewValidator()
	return s, err
})

// accepted is one sample request signed and archived, and the settled
// event the SII's acceptance makes of it.
type accepted struct {
	req    *request.Request
	signed []byte
	event  events.Event
}

// acceptedDocument signs samples/requests/<name>.json after edit and
// archives it in mem, as sign would.
func acceptedDocument(t testing.TB, a *archive.Archive, name, result string, edit func(string) string) accepted {
	t.Helper()
	s, err := signingOnce()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("../../../samples/requests", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.v.Parse([]byte(edit(string(raw))))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	signed, err := s.signer.Sign(context.Background(), req, s.cafs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutDTE(context.Background(), req.Key(), signed.XML, "digest"); err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.ID(req.Key(), "settled", "x"), events.TypeSettled, events.SourceSubmit, req.Key(),
		events.Settled{DTEKey: req.Key().String(), TrackID: "7", Result: result, SIIState: "EPR", Odoo: req.OdooForEvents()})
	if err != nil {
		t.Fatal(err)
	}
	return accepted{req: req, signed: signed.XML, event: e}
}

func withExchange(s string) string {
	return strings.Replace(s, `"receiver": {`, `"receiver": {"exchange_email": "dte@cliente.cl", `, 1)
}

func asTicket(s string) string {
	return strings.Replace(s, `"document": {`, `"document": {"print_format": "ticket", `, 1)
}

func same(s string) string { return s }

func newStage(t *testing.T, mem *archivetest.Mem) (*notify.Function, *recorder, *archive.Archive) {
	t.Helper()
	s, err := signingOnce()
	if err != nil {
		t.Fatal(err)
	}
	a := archive.New(mem)
	odoo := &recorder{}
	return notify.New(odoo, handover.New(a, s.signer, s.pki.Keys()), nil), odoo, a
}

var mediaBox = regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`)

// pageWidthMM is the first page's width.
func pageWidthMM(t *testing.T, pdf []byte) float64 {
	t.Helper()
	m := mediaBox.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no /MediaBox in the PDF")
	}
	w, _ := strconv.ParseFloat(string(m[1]), 64)
	return w / 72 * 25.4
}

func decode(t *testing.T, a callback.Attachment) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil {
		t.Fatalf("%s: %v", a.Name, err)
	}
	if len(b) != a.Size || archive.Digest(b) != a.SHA256 {
		t.Fatalf("%s: size %d / sha256 %s do not describe its data (%d bytes)", a.Name, a.Size, a.SHA256, len(b))
	}
	return b
}

// TestAcceptedHandsOver: an accepted factura for a receiver with a DTE
// exchange address gets its PDF and its EnvioDTE archived and carried by
// the callback, with one GET and one PUT each; a redelivery of the same
// settled event gives the same objects and the same callback.
func TestAcceptedHandsOver(t *testing.T) {
	mem := archivetest.NewMem()
	f, odoo, a := newStage(t, mem)
	doc := acceptedDocument(t, a, "factura-33", events.ResultAccepted, withExchange)
	gets, puts := mem.Calls("get"), mem.Calls("put")
	if _, err := f.Handle(context.Background(), doc.event); err != nil {
		t.Fatal(err)
	}
	if g, p := mem.Calls("get")-gets, mem.Calls("put")-puts; g != 1 || p != 2 {
		t.Errorf("S3 operations: %d GET and %d PUT, want 1 GET (the signed DTE) and 2 PUT (PDF, EnvioDTE)", g, p)
	}
	if len(odoo.got) != 1 {
		t.Fatalf("%d callbacks", len(odoo.got))
	}
	p := odoo.got[0]
	if p.Status != callback.StatusAccepted || len(p.Attachments) != 2 || p.AttachmentsError != "" {
		t.Fatalf("callback: status %s, %d attachments, error %q", p.Status, len(p.Attachments), p.AttachmentsError)
	}
	k := doc.req.Key()
	pdfKey, _ := archive.PDFObjectKey(k)
	envKey, _ := archive.ReceiverEnvelopeObjectKey(k)
	if pdfKey != "pdf/76086428-5/33/"+strconv.FormatInt(k.Folio, 10)+".pdf" {
		t.Errorf("PDF key %s", pdfKey)
	}
	want := map[string]string{callback.AttachmentPDF: pdfKey, callback.AttachmentReceiverEnvelope: envKey}
	stored := map[string][]byte{}
	for _, att := range p.Attachments {
		body := decode(t, att)
		if want[att.Kind] != att.ArchiveKey {
			t.Errorf("%s archived at %s, want %s", att.Kind, att.ArchiveKey, want[att.Kind])
		}
		raw, ok := mem.Raw(att.ArchiveKey)
		if !ok || !bytes.Equal(raw, body) {
			t.Errorf("%s: the archive does not hold the bytes Odoo got", att.ArchiveKey)
		}
		stored[att.ArchiveKey] = raw
	}
	pdf := stored[pdfKey]
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || pageWidthMM(t, pdf) < 200 {
		t.Errorf("the PDF is not a letter page (%.1f mm wide)", pageWidthMM(t, pdf))
	}
	env := stored[envKey]
	if !bytes.Contains(env, []byte("<RutReceptor>"+doc.req.Receiver.RUT+"</RutReceptor>")) {
		t.Error("the EnvioDTE is not addressed to the receiver")
	}
	ted, err := timbre.Bytes(doc.signed)
	if err != nil {
		t.Fatal(err)
	}
	if in, err := dte.Inspect(env); err != nil || len(in.Documents) != 1 {
		t.Errorf("the receiver's EnvioDTE: %v", err)
	} else if got, err := timbre.Bytes(env); err != nil || !bytes.Equal(got, ted) {
		t.Errorf("the DTE in the EnvioDTE is not the signed DTE (%v)", err)
	}

	// Redelivered: the same objects, the same callback.
	keys := mem.Keys()
	if _, err := f.Handle(context.Background(), doc.event); err != nil {
		t.Fatal(err)
	}
	if got := mem.Keys(); strings.Join(got, " ") != strings.Join(keys, " ") {
		t.Errorf("redelivery changed the archive's keys: %v → %v", keys, got)
	}
	for key, b := range stored {
		if raw, _ := mem.Raw(key); !bytes.Equal(raw, b) {
			t.Errorf("redelivery changed %s", key)
		}
	}
	if len(odoo.got) != 2 {
		t.Fatalf("%d callbacks", len(odoo.got))
	}
	for i, att := range odoo.got[1].Attachments {
		if att != p.Attachments[i] {
			t.Errorf("redelivered callback's %s differs from the first", att.Kind)
		}
	}
}

// TestHandoverChoices: the ticket format when the request asks for it, no
// EnvioDTE without an exchange address, attachments on objected too, none
// on rejected.
func TestHandoverChoices(t *testing.T) {
	tests := []struct {
		name      string
		sample    string
		result    string
		edit      func(string) string
		wantKinds []string
		ticket    bool
	}{
		{"ticket asked for", "factura-33", events.ResultAccepted, asTicket, []string{callback.AttachmentPDF}, true},
		{"no exchange address: PDF only", "nota-credito-61", events.ResultAccepted, same, []string{callback.AttachmentPDF}, false},
		{"objected is accepted with reparos", "guia-despacho-52", events.ResultObjected, withExchange, []string{callback.AttachmentPDF, callback.AttachmentReceiverEnvelope}, false},
		{"rejected gets nothing", "factura-exenta-34", events.ResultRejected, withExchange, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := archivetest.NewMem()
			f, odoo, a := newStage(t, mem)
			doc := acceptedDocument(t, a, tt.sample, tt.result, tt.edit)
			if _, err := f.Handle(context.Background(), doc.event); err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, att := range odoo.got[0].Attachments {
				kinds = append(kinds, att.Kind)
				if att.Kind == callback.AttachmentPDF {
					w := pageWidthMM(t, decode(t, att))
					if isTicket := w < 100; isTicket != tt.ticket {
						t.Errorf("page %.1f mm wide; ticket wanted: %v", w, tt.ticket)
					}
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantKinds, ",") {
				t.Errorf("attachments %v, want %v", kinds, tt.wantKinds)
			}
			if tt.result == events.ResultRejected && len(mem.Keys()) != 1 {
				t.Errorf("a rejected document left %v in the archive", mem.Keys())
			}
		})
	}
}

// TestHandoverS3Fails: S3 failing is transient: Odoo is not told, the
// delivery is retried, and the retry hands everything over; a PUT that
// failed after the PDF was stored is also healed by the retry.
func TestHandoverS3Fails(t *testing.T) {
	for _, op := range []string{"get", "put"} {
		t.Run(op, func(t *testing.T) {
			mem := archivetest.NewMem()
			f, odoo, a := newStage(t, mem)
			doc := acceptedDocument(t, a, "factura-33", events.ResultAccepted, withExchange)
			boom := errors.New("S3: 503 Slow Down")
			if op == "put" {
				// the PDF is stored, the EnvioDTE's PUT fails
				mem.FailNext(op, nil, boom)
			} else {
				mem.FailNext(op, boom)
			}
			_, err := f.Handle(context.Background(), doc.event)
			if err == nil || errs.IsPermanent(err) {
				t.Fatalf("err = %v, want a transient error", err)
			}
			if len(odoo.got) != 0 {
				t.Fatalf("Odoo was told before the files were made: %+v", odoo.got)
			}
			if _, err := f.Handle(context.Background(), doc.event); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if len(odoo.got) != 1 || len(odoo.got[0].Attachments) != 2 {
				t.Fatalf("after the retry: %+v", odoo.got)
			}
		})
	}
}

// TestHandoverCannotPrint: a DTE that is not in the archive (or cannot be
// printed) is permanent, and must not keep Odoo from learning that the SII
// accepted it: the callback goes, without files, saying why.
func TestHandoverCannotPrint(t *testing.T) {
	mem := archivetest.NewMem()
	f, odoo, a := newStage(t, mem)
	doc := acceptedDocument(t, a, "factura-33", events.ResultAccepted, same)
	dteKey, _ := archive.DTEObjectKey(doc.req.Key())
	if err := mem.Delete(context.Background(), dteKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Handle(context.Background(), doc.event); err != nil {
		t.Fatal(err)
	}
	if len(odoo.got) != 1 {
		t.Fatalf("%d callbacks", len(odoo.got))
	}
	p := odoo.got[0]
	if p.Status != callback.StatusAccepted || len(p.Attachments) != 0 || !strings.Contains(p.AttachmentsError, "not in the archive") {
		t.Errorf("callback %s with %d attachments, error %q", p.Status, len(p.Attachments), p.AttachmentsError)
	}
}
