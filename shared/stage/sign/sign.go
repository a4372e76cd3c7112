// Package sign is the sign stage: it turns a DTE request into the signed
// DTE, stamped with a TED made with the folio's CAF, archives it, and
// announces it (cl.dte.signed).
//
// A folio is signed once. The archived DTE carries the digest of the
// request it was built from: a redelivered request's create-only write is
// refused and the archived document is announced (no second signature with
// a new timestamp is ever archived or sent), while a different request
// under the same dtekey is refused for good ("folio already used"). The
// happy path reads nothing from the archive and writes one object: the
// DTE, create-only, carried on in cl.dte.signed with what the state needs
// (the request's digest, the signing time). sign writes no state: the
// archived DTE is the record that the folio is signed, and submit's first
// write creates the state.
package sign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/stage"
)

// Signer builds, stamps and signs a DTE (dte.Signer).
type Signer interface {
	Sign(ctx context.Context, req *request.Request, cafs []*caf.CAF) (*dte.Signed, error)
}

// Archive is what sign needs from the archive.
type Archive interface {
	PutDTE(ctx context.Context, k dtekey.Key, signed []byte, requestDigest string) (archive.Document, error)
	GetDTE(ctx context.Context, k dtekey.Key) (archive.Document, error)
	CAFs(ctx context.Context, issuer rut.RUT, docType int) ([]archive.CAFFile, error)
}

// ErrFolioUsed is a second, different request for a folio already signed.
var ErrFolioUsed = errors.New("folio already used")

// Types are the events sign takes.
var Types = []string{events.TypeRequested}

// Function is the sign stage.
type Function struct {
	validator *request.Validator
	signer    Signer
	archive   Archive
	cafs      *cafCache
	now       func() time.Time
	log       *slog.Logger
}

// New returns the sign stage. CAFs read from the archive are reused for
// cafTTL.
func New(v *request.Validator, s Signer, a Archive, cafTTL time.Duration, now func() time.Time, log *slog.Logger) *Function {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Function{validator: v, signer: s, archive: a, cafs: newCAFCache(a, cafTTL, now), now: now, log: log}
}

// Handle signs the requested document, or finds it signed already, and
// emits cl.dte.signed.
func (f *Function) Handle(ctx context.Context, e events.Event) ([]stage.Emit, error) {
	k, err := events.Key(e)
	if err != nil {
		return nil, errs.Permanent(err)
	}
	// Validated again, in full, though enqueue did: an event carries no
	// proof that enqueue accepted its body (a dead letter replayed, an
	// event an operator published, a request an older enqueue accepted
	// under other rules), and a DTE signed from a bad request uses up the
	// folio. The schema's checks (lengths, enums, ranges, unknown fields)
	// and the SII's rules are what the DTE needs; no cheaper subset of
	// them is safe.
	req, err := f.validator.Parse(e.Data())
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("sign %s: %w", k, err))
	}
	if req.Key() != k {
		return nil, errs.Permanentf("sign %s: the request is for %s", k, req.Key())
	}
	digest, err := request.Digest(req)
	if err != nil {
		return nil, errs.Permanent(err)
	}
	// A first attempt signs and writes without reading: the create-only
	// write finds a repeat out. A delivery known to be a repeat looks
	// first, and signs only when nothing was archived.
	var doc archive.Document
	err = archive.ErrNotFound
	if stage.Attempt(ctx) > 1 {
		doc, err = f.existing(ctx, k, digest)
	}
	if errors.Is(err, archive.ErrNotFound) {
		doc, err = f.sign(ctx, k, req, digest)
	}
	if err != nil {
		return nil, err
	}
	return stage.One(signedEvent(k, req, doc, digest, f.now()))
}

// existing returns the document already signed for this request, or
// archive.ErrNotFound; another request's document is ErrFolioUsed.
func (f *Function) existing(ctx context.Context, k dtekey.Key, digest string) (archive.Document, error) {
	doc, err := f.archive.GetDTE(ctx, k)
	if err != nil {
		if errors.Is(err, archive.ErrNotFound) {
			return archive.Document{}, archive.ErrNotFound
		}
		return archive.Document{}, fmt.Errorf("sign %s: read archive: %w", k, err)
	}
	if doc.RequestDigest != digest {
		return archive.Document{}, errs.Permanent(fmt.Errorf("sign %s: %w: the archive holds a DTE for this folio built from a different request (%s); issue the document with a new folio",
			k, ErrFolioUsed, doc.Key))
	}
	return doc, nil
}

// sign makes the document and archives it, create-only; if another
// delivery archived one first, that one is used (or refused, if it came
// from another request). The archive is not read first (Handle does, for
// a delivery known to be a repeat): a repeat the platform did not tell
// signs again, its write is refused, and the archived document is the one
// used (no second signature is ever archived or sent). When signing fails
// (a CAF that expired since, say), a document archived earlier for the
// same request is used.
func (f *Function) sign(ctx context.Context, k dtekey.Key, req *request.Request, digest string) (archive.Document, error) {
	signed, err := f.make(ctx, k, req)
	if err != nil {
		doc, eerr := f.existing(ctx, k, digest)
		switch {
		case eerr == nil:
			return doc, nil
		case errors.Is(eerr, ErrFolioUsed):
			return archive.Document{}, eerr
		}
		return archive.Document{}, err
	}
	doc, err := f.archive.PutDTE(ctx, k, signed.XML, digest)
	if errors.Is(err, archive.ErrExists) {
		return f.existing(ctx, k, digest)
	}
	if err != nil {
		return archive.Document{}, fmt.Errorf("sign %s: %w", k, err)
	}
	return doc, nil
}

// make builds, stamps and signs the document.
func (f *Function) make(ctx context.Context, k dtekey.Key, req *request.Request) (*dte.Signed, error) {
	cafs, err := f.cafs.get(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", k, err)
	}
	signed, err := f.signer.Sign(ctx, req, cafs)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", k, err)
	}
	for _, w := range signed.Warnings {
		f.log.WarnContext(ctx, "sign warning", "dtekey", k.String(), "code", w.Code, "message", w.Message)
	}
	return signed, nil
}

// signedEvent is cl.dte.signed, carrying the signed DTE (so that submit
// does not read it back) and what the state will record of this stage.
// Its id depends only on the document.
func signedEvent(k dtekey.Key, req *request.Request, doc archive.Document, digest string, at time.Time) (*events.Event, error) {
	var refs []string
	for _, r := range req.References {
		t, terr := strconv.Atoi(r.Type)
		folio, ferr := strconv.ParseInt(r.Folio, 10, 64)
		if !request.IsDTEType(r.Type) || terr != nil || ferr != nil || folio <= 0 {
			continue
		}
		refs = append(refs, dtekey.Key{Issuer: k.Issuer, Type: t, Folio: folio}.String())
	}
	e, err := events.New(events.ID(k, "signed", doc.Digest), events.TypeSigned, events.SourceSign, k, events.Signed{
		DTEKey: k.String(), ArchiveKey: doc.Key, Digest: doc.Digest,
		Receiver: req.Receiver.RUT, IssueDate: req.Document.IssueDate, Total: req.Totals.Total,
		Resolution: req.Issuer.Resolution, References: refs, Odoo: req.OdooForEvents(),
		DTE: doc.Body, RequestDigest: digest, SignedAt: at.UTC(),
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}
