package submit

import (
	"context"
	"errors"
	"fmt"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage"
)

// referencesReady holds back a credit or debit note until the SII has
// accepted the documents it modifies (the SII rejects a note whose
// reference it has not processed yet, docs/sii-protocol.md §12). wait is
// not nil when the note must look again later: the note itself, back to
// submit after NoteWait.
//
// A referenced document the archive does not know may be late (its
// request still queued, its signing retried during an S3 outage) or may
// not have been issued through this pipeline at all. The note waits
// NOTE_REFERENCE_GRACE for it to appear; after that the SII decides.
func (f *Function) referencesReady(ctx context.Context, e events.Event, k dtekey.Key, d events.Signed) (wait []stage.Emit, err error) {
	for _, ref := range d.References {
		rk, err := dtekey.Parse(ref)
		if err != nil {
			return nil, errs.Permanentf("submit %s: reference %q: %w", k, ref, err)
		}
		st, err := f.archive.DocumentState(ctx, rk)
		switch {
		case errors.Is(err, archive.ErrNotFound) && f.now().Sub(e.Time()) >= f.cfg.NoteRefGrace:
			continue // not issued through this pipeline: the SII decides
		case errors.Is(err, archive.ErrNotFound):
			return []stage.Emit{stage.Again(e, f.cfg.NoteWait)}, nil // late, perhaps: look again
		case err != nil:
			return nil, fmt.Errorf("submit %s: read state of referenced %s: %w", k, rk, err)
		}
		switch st.Status {
		case archive.StatusAccepted, archive.StatusObjected:
			continue
		case archive.StatusRejected:
			return nil, errs.Permanentf("submit %s: it modifies %d folio %d, which the SII rejected (%s %s); a note cannot reference a rejected document",
				k, rk.Type, rk.Folio, st.SIIState, st.SIIMessage)
		case archive.StatusError:
			return nil, errs.Permanentf("submit %s: it modifies %d folio %d, which failed in the pipeline and was not accepted by the SII; send that document again first, then this one",
				k, rk.Type, rk.Folio)
		}
		if waited := f.now().Sub(e.Time()); waited > f.cfg.NoteDeadline && f.cfg.NoteDeadline > 0 {
			return nil, errs.Permanentf("submit %s: waited %s for the SII to accept %d folio %d (still %s)", k, waited.Round(1e9), rk.Type, rk.Folio, st.Status)
		}
		return []stage.Emit{stage.Again(e, f.cfg.NoteWait)}, nil
	}
	return nil, nil
}
