// Package submit is the submit stage: it uploads each signed DTE to the SII
// in its own EnvioDTE, records the TrackID, and follows the upload until
// the SII's verdict (docs/design.md; docs/sii-protocol.md §2, §3, §12).
//
// Every step is idempotent, because delivery is at least once:
//   - the TrackID is saved before cl.dte.submitted is emitted, and a
//     document with a TrackID is never uploaded again;
//   - the moment an upload starts is saved first: the document's EnvioDTE
//     is written create-only at a key fixed per document
//     (archive.DocumentEnvioID), with that moment, so a second delivery
//     cannot make a second envelope and finds the first. Until
//     LOST_UPLOAD_GRACE has passed since then (longer than EVENT_TIMEOUT,
//     so the upload cannot still be running after it), another delivery
//     of the document waits: the upload in progress settles it, with its
//     TrackID. After it, the answer was lost: the SII is asked about the
//     document before anything is sent again, and only the same envelope
//     is ever sent again;
//   - a TrackID the SII gave but the archive could not record travels with
//     the retried event (stage.Carry), so it is recorded later, not lost;
//   - status checks carry an attempt number and the state records which
//     copy of a check it processed: another copy is dropped, so a
//     duplicated chain of checks dies out, while the very copy delivered
//     again (its next check may never have been published) sends the next
//     check again;
//   - the stage publishes nothing itself: it returns its events, delayed
//     status checks included, and delivery publishes them with confirms;
//   - event ids derive from the document and the TrackID, so a repeated
//     event is the same event, which Odoo drops.
//
// cl.dte.signed carries the signed DTE and no state (sign writes none: the
// first write here creates it, create-only, with what sign knew), and each
// status check the state as the check's sender wrote it (a seed, with its
// ETag): on the happy path submit reads nothing from the archive, and each
// state write is conditional on the version it starts from. A version that
// is not current any more (a redelivered or duplicated event) is found out
// by that condition, and the event is then handled from the stored state,
// as above. The happy path writes three objects: the envelope, the state
// with the TrackID, and the verdict.
package submit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// SII is what submit needs from the SII client.
type SII interface {
	Upload(ctx context.Context, cred sii.Credential, env sii.Envelope) (*sii.Receipt, error)
	GetUploadStatus(ctx context.Context, cred sii.Credential, company rut.RUT, trackID string) (*sii.UploadStatus, error)
	GetDocumentStatus(ctx context.Context, cred sii.Credential, q sii.DocumentQuery) (*sii.DocumentStatus, error)
}

// Caratula is the envelope's cover: who issues, who sends, the resolution,
// and the SetDTE ID to give it.
type Caratula struct {
	Issuer     rut.RUT
	Resolution request.Resolution
	SetID      string
}

// Enveloper wraps one signed DTE in a signed EnvioDTE.
type Enveloper interface {
	// Envelope returns the signed EnvioDTE (ISO-8859-1) and its SetDTE
	// ID, which must be c.SetID: the archived file is named after it.
	Envelope(ctx context.Context, dte []byte, c Caratula, at time.Time) (envio []byte, envioID string, err error)
}

// Archive is what submit needs from the archive.
type Archive interface {
	LoadState(ctx context.Context, k dtekey.Key) (archive.State, string, error)
	UpdateState(ctx context.Context, k dtekey.Key, fn func(*archive.State) error) (archive.State, error)
	UpdateStateFrom(ctx context.Context, k dtekey.Key, from *archive.Version, fn func(*archive.State) error) (archive.Version, error)
	GetDocument(ctx context.Context, key string) (archive.Document, error)
	DocumentState(ctx context.Context, k dtekey.Key) (archive.State, error)
	PutEnvio(ctx context.Context, issuer rut.RUT, at time.Time, envioID string, signed []byte, started time.Time) (archive.Document, error)
}

// Config holds the stage's timing (its defaults: config.Submit).
type Config struct {
	CheckDelays   []time.Duration // waits before status checks 1, 2, ...; the last repeats; at least one
	CheckDeadline time.Duration   // give up waiting for the verdict after this
	NoteWait      time.Duration   // a note re-checks the document it references this often
	NoteDeadline  time.Duration   // and gives up after this
	// NoteRefGrace is how long a note waits for the document it modifies
	// to appear in the archive before deciding that it was not issued
	// through this pipeline (then the SII decides).
	NoteRefGrace time.Duration
	// LostUploadGrace is how long after it began an upload may still be in
	// progress; after it, an upload without a TrackID is lost.
	LostUploadGrace time.Duration
	// EventTimeout bounds one event's handling (the upload included):
	// LostUploadGrace must exceed it. Zero: not checked (tests).
	EventTimeout time.Duration
}

// Function is the submit stage.
type Function struct {
	sii       SII
	cred      sii.Credential
	envelopes Enveloper
	archive   Archive
	cfg       Config
	now       func() time.Time
}

// New returns the submit stage.
func New(s SII, cred sii.Credential, e Enveloper, a Archive, cfg Config, now func() time.Time) (*Function, error) {
	if now == nil {
		now = time.Now
	}
	if len(cfg.CheckDelays) == 0 {
		return nil, errors.New("submit: no status check delays (CHECK_DELAYS)")
	}
	if cfg.EventTimeout > 0 && cfg.LostUploadGrace <= cfg.EventTimeout {
		return nil, fmt.Errorf("submit: LOST_UPLOAD_GRACE (%s) must exceed EVENT_TIMEOUT (%s): an upload may run that long, and it must not be taken for lost while it does",
			cfg.LostUploadGrace, cfg.EventTimeout)
	}
	return &Function{sii: s, cred: cred, envelopes: e, archive: a, cfg: cfg, now: now}, nil
}

// Types are the events submit takes.
var Types = []string{events.TypeSigned, events.TypeCheck}

// Handle takes cl.dte.signed (upload) and cl.dte.check (status query). It
// emits cl.dte.submitted with the first status check (delayed), the next
// check, cl.dte.settled, or the same event again later (a note waiting for
// the document it modifies, an upload whose answer was lost).
func (f *Function) Handle(ctx context.Context, e events.Event) ([]stage.Emit, error) {
	switch e.Type() {
	case events.TypeSigned:
		return f.onSigned(ctx, e, true)
	case events.TypeCheck:
		return f.onCheck(ctx, e, true)
	}
	return nil, nil
}
