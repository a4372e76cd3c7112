// Package handover makes what the customer receives once the SII accepted
// a document: the printed DTE (a PDF with the timbre as a PDF417) and, for
// a receiver with a DTE exchange address, the EnvioDTE addressed to it.
// Both are made from the archived signed DTE, archived next to it
// (pdf/…, envio-receptor/…) and returned as the callback's attachments.
// notify calls it on an accepted or objected settlement, before the
// callback (docs/design.md, "What the customer receives").
package handover

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/printout"
	"github.com/dtecl/pipeline/shared/request"
)

// Archive is what the handover reads and writes (archive.Archive).
type Archive interface {
	GetDTE(ctx context.Context, k dtekey.Key) (archive.Document, error)
	GetDocument(ctx context.Context, key string) (archive.Document, error)
	PutPDF(ctx context.Context, k dtekey.Key, pdf []byte) (archive.Document, error)
	PutReceiverEnvelope(ctx context.Context, k dtekey.Key, envio []byte) (archive.Document, error)
}

// Enveloper builds the receiver's EnvioDTE (dte.Signer).
type Enveloper interface {
	ReceiverEnvelope(ctx context.Context, signed []byte, res request.Resolution) (*dte.Envelope, error)
}

// Maker makes and archives the attachments of accepted documents.
type Maker struct {
	archive   Archive
	enveloper Enveloper
	keys      *caf.Keys
	max       int
}

// New returns a Maker. keys, when not nil, also check the CAF inside each
// timbre against the SII's keys before printing (FRMT is always checked).
func New(a Archive, e Enveloper, keys *caf.Keys) *Maker {
	return &Maker{archive: a, enveloper: e, keys: keys, max: callback.MaxAttachmentBytes}
}

// ErrTooLarge: the attachments are over callback.MaxAttachmentBytes; they
// are archived and listed, without their data.
var ErrTooLarge = errors.New("attachments too large for the callback")

// Attachments makes the printed DTE of k, and its receiver's EnvioDTE when
// h names a DTE exchange address, archives them create-only and returns
// them for the callback. S3 operations: one GET of the signed DTE and one
// PUT per file; a redelivery finds the files there (the PUT answers that
// it exists) and reads them back, so that Odoo always gets what the
// archive holds (the PDF is the same bytes anyway; the EnvioDTE's
// signature time is not).
//
// Errors: transient ones (S3 unreachable) are returned as they are, to be
// retried before Odoo is told anything; permanent ones (errs.IsPermanent: a
// DTE that cannot be printed, no handover data) say what is wrong. When
// the files are over the bound they are returned without data together
// with an error wrapping ErrTooLarge (permanent).
func (m *Maker) Attachments(ctx context.Context, k dtekey.Key, h *request.Handover) ([]callback.Attachment, error) {
	if h == nil {
		return nil, errs.Permanentf("handover %s: the event carries no SII resolution (the document was signed by an older sign); print it with «dte print»", k)
	}
	doc, err := m.archive.GetDTE(ctx, k)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, errs.Permanent(fmt.Errorf("handover %s: %w", k, err))
	}
	if err != nil {
		return nil, fmt.Errorf("handover %s: %w", k, err)
	}
	res := h.Resolution
	pdf, err := printout.Render(doc.Body, printout.Options{CedibleIfAny: true, Resolution: &res, SIIKeys: m.keys})
	if err != nil {
		return nil, fmt.Errorf("handover %s: %w", k, err)
	}
	stored, err := m.keep(ctx, k, func() (archive.Document, error) { return m.archive.PutPDF(ctx, k, pdf) }, archive.PDFObjectKey)
	if err != nil {
		return nil, fmt.Errorf("handover %s: %w", k, err)
	}
	out := []callback.Attachment{attachment(callback.AttachmentPDF, k.String()+".pdf", "application/pdf", stored)}
	if h.ExchangeEmail != "" {
		env, err := m.enveloper.ReceiverEnvelope(ctx, doc.Body, res)
		if err != nil {
			return nil, fmt.Errorf("handover %s: %w", k, err)
		}
		stored, err := m.keep(ctx, k, func() (archive.Document, error) { return m.archive.PutReceiverEnvelope(ctx, k, env.XML) }, archive.ReceiverEnvelopeObjectKey)
		if err != nil {
			return nil, fmt.Errorf("handover %s: %w", k, err)
		}
		out = append(out, attachment(callback.AttachmentReceiverEnvelope, "EnvioDTE-"+k.String()+".xml", "application/xml", stored))
	}
	total := 0
	for _, a := range out {
		total += a.Size
	}
	if total > m.max {
		for i := range out {
			out[i].Data = ""
		}
		return out, errs.Permanent(fmt.Errorf("handover %s: %w: %d bytes, at most %d inline; they are in the archive («dte archive url»)", k, ErrTooLarge, total, m.max))
	}
	return out, nil
}

// keep archives body with put, create-only; when it is already there (a
// redelivery) it reads back what the archive holds.
func (m *Maker) keep(ctx context.Context, k dtekey.Key, put func() (archive.Document, error), keyOf func(dtekey.Key) (string, error)) (archive.Document, error) {
	doc, err := put()
	if !errors.Is(err, archive.ErrExists) {
		return doc, err
	}
	key, err := keyOf(k)
	if err != nil {
		return archive.Document{}, err
	}
	return m.archive.GetDocument(ctx, key)
}

func attachment(kind, name, mime string, d archive.Document) callback.Attachment {
	return callback.Attachment{
		Kind: kind, Name: name, MimeType: mime, ArchiveKey: d.Key, SHA256: d.Digest, Size: len(d.Body),
		Data: base64.StdEncoding.EncodeToString(d.Body),
	}
}
