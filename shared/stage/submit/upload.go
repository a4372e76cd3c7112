package submit

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// ExtTrackID is the extension a retried cl.dte.signed carries when the SII
// gave the upload a TrackID that the archive could not record: the next
// attempt records it (stage.Carry).
const ExtTrackID = "trackid"

// onSigned uploads a signed DTE, unless the state shows it was uploaded
// already (then it only re-announces the TrackID) or is being uploaded by
// another delivery (then it waits for that upload's result).
//
// With seeded set, the state sign wrote and the event carries (the usual
// case: nothing has happened to the document since) stands for the stored
// one: the upload's first write is conditional on its ETag. When that write
// finds the state changed, the event is handled again from the stored
// state.
func (f *Function) onSigned(ctx context.Context, e events.Event, seeded bool) ([]stage.Emit, error) {
	k, d, err := decode[events.Signed](e)
	if err != nil {
		return nil, err
	}
	// The seed is used on a first attempt only: a retry or a redelivery
	// has most likely found the state changed.
	if v := archive.VersionOf(k, d.State); seeded && v != nil && stage.Attempt(ctx) == 1 && carriedTrackID(e) == "" && untouched(v.State) {
		if wait, err := f.referencesReady(ctx, e, k, d); err != nil || wait != nil {
			return wait, err
		}
		out, err := f.upload(ctx, e, k, v.State, v, d)
		if !errors.Is(err, errStale) {
			return out, err
		}
		return f.onSigned(ctx, e, false)
	}
	st, _, err := f.archive.LoadState(ctx, k)
	if err != nil {
		// sign saves the state before it emits cl.dte.signed.
		return nil, fmt.Errorf("submit %s: read state: %w", k, err)
	}
	switch {
	case archive.FinalStatus(st.Status):
		return stage.One(f.settledFromState(k, st, d.Odoo))
	case st.TrackID != "":
		return f.announce(k, st, d)
	case carriedTrackID(e) != "":
		return f.recordTrackID(ctx, k, carriedTrackID(e), d)
	case st.UploadStartedAt != nil:
		return f.lostAnswer(ctx, e, k, st, d)
	}
	if wait, err := f.referencesReady(ctx, e, k, d); err != nil || wait != nil {
		return wait, err
	}
	return f.upload(ctx, e, k, st, nil, d)
}

// untouched reports whether a state shows nothing of an upload: what sign
// leaves.
func untouched(st archive.State) bool {
	return !archive.FinalStatus(st.Status) && st.TrackID == "" && st.UploadStartedAt == nil && st.EnvioKey == ""
}

// errStale is an upload that found, at its first write, that the state
// carried by the event was not the stored one.
var errStale = errors.New("the state the event carries is not current")

func carriedTrackID(e events.Event) string {
	s, _ := e.Extensions()[ExtTrackID].(string)
	return s
}

// announce re-emits cl.dte.submitted for an upload that has its TrackID
// (a redelivered message, a duplicate request), and the first status check
// when none was processed yet: a later one has its own chain, which a
// check delivered again mends (onCheck).
func (f *Function) announce(k dtekey.Key, st archive.State, d events.Signed) ([]stage.Emit, error) {
	if st.Checks > 0 {
		e, err := f.submittedEvent(k, st.TrackID, st.EnvioKey, d)
		if err != nil {
			return nil, err
		}
		return []stage.Emit{stage.Now(*e)}, nil
	}
	return f.submitted(k, st.TrackID, st.EnvioKey, 1, d, nil)
}

// recordTrackID records the TrackID an earlier attempt got from the SII
// but could not write (it travelled in the retried event), then announces
// it as the upload would have.
func (f *Function) recordTrackID(ctx context.Context, k dtekey.Key, trackID string, d events.Signed) ([]stage.Emit, error) {
	st, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		if s.TrackID != "" || archive.FinalStatus(s.Status) {
			return archive.ErrNoUpdate
		}
		s.TrackID, s.UploadStartedAt = trackID, nil
		s.Record(f.now(), archive.StatusSent, "TrackID "+trackID, "")
		return nil
	})
	if errors.Is(err, archive.ErrNoUpdate) {
		if st, _, err = f.archive.LoadState(ctx, k); err != nil {
			return nil, fmt.Errorf("submit %s: read state: %w", k, err)
		}
		if archive.FinalStatus(st.Status) {
			return stage.One(f.settledFromState(k, st, d.Odoo))
		}
		return f.announce(k, st, d)
	}
	if err != nil {
		return nil, stage.Carry(fmt.Errorf("submit %s: record TrackID %s: %w", k, trackID, err), map[string]string{ExtTrackID: trackID})
	}
	return f.submitted(k, trackID, st.EnvioKey, 1, d, nil)
}

// submitted is cl.dte.submitted, at once, and the status check with the
// given attempt number, later, carrying the state v when known.
func (f *Function) submitted(k dtekey.Key, trackID, envioKey string, attempt int, d events.Signed, v *archive.Version) ([]stage.Emit, error) {
	e, err := f.submittedEvent(k, trackID, envioKey, d)
	if err != nil {
		return nil, err
	}
	check, err := f.nextCheck(k, trackID, attempt, docOfSigned(d), v)
	if err != nil {
		return nil, err
	}
	return []stage.Emit{stage.Now(*e), check}, nil
}

// upload builds (or reuses) the EnvioDTE, records that an upload starts,
// sends it and records the TrackID. from, when not nil, is the version st
// is believed to be (the event's seed): when the first write finds it is
// not, errStale (the envelope archived meanwhile stays unused).
func (f *Function) upload(ctx context.Context, e events.Event, k dtekey.Key, st archive.State, from *archive.Version, d events.Signed) ([]stage.Emit, error) {
	envio, err := f.envelope(ctx, k, st, d)
	if err != nil && from != nil && errors.Is(err, archive.ErrExists) {
		return nil, errStale // an envelope of this second is there: a repeat
	}
	if err != nil {
		return nil, err
	}
	// One write records the envelope and that its upload starts: from here
	// on another delivery waits for this upload's result, and after the
	// grace asks the SII before sending anything again.
	started := f.now().UTC()
	v, err := f.archive.UpdateStateFrom(ctx, k, from, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt != nil || (s.EnvioKey != "" && s.EnvioKey != envio.Key) {
			return errConcurrent
		}
		s.EnvioKey, s.UploadStartedAt = envio.Key, &started
		return nil
	})
	if err != nil {
		if errors.Is(err, errConcurrent) && from != nil {
			return nil, errStale
		}
		if errors.Is(err, errConcurrent) {
			// Another delivery got there first: its result wins; look
			// again once it must be known.
			return []stage.Emit{stage.Again(e, f.cfg.LostUploadGrace)}, nil
		}
		return nil, fmt.Errorf("submit %s: record upload start: %w", k, err)
	}
	receipt, err := f.sii.Upload(ctx, f.cred, sii.Envelope{Company: k.Issuer, Filename: envioFilename(k), XML: envio.Body})
	if err != nil {
		return stage.One(f.uploadFailed(ctx, k, d, err))
	}
	// From the version just written: nobody else writes while the upload
	// mark is there, so this is one conditional write, no read.
	v, err = f.archive.UpdateStateFrom(ctx, k, &v, func(s *archive.State) error {
		s.TrackID, s.UploadStartedAt, s.EnvioKey = receipt.TrackID, nil, envio.Key
		s.Record(f.now(), archive.StatusSent, "TrackID "+receipt.TrackID, "")
		return nil
	})
	if err != nil {
		// The SII has the document and we could not write its TrackID: the
		// retried event carries it to the next attempt.
		return nil, stage.Carry(fmt.Errorf("submit %s: record TrackID %s: %w", k, receipt.TrackID, err), map[string]string{ExtTrackID: receipt.TrackID})
	}
	return f.submitted(k, receipt.TrackID, envio.Key, 1, d, &v)
}

var errConcurrent = errors.New("concurrent upload")

// envelope returns the document's EnvioDTE: the archived one when an
// earlier attempt recorded it (never a second signature), else a new one,
// archived; upload records it in the state.
func (f *Function) envelope(ctx context.Context, k dtekey.Key, st archive.State, d events.Signed) (archive.Document, error) {
	if st.EnvioKey != "" {
		doc, err := f.archive.GetDocument(ctx, st.EnvioKey)
		if err != nil {
			return archive.Document{}, fmt.Errorf("submit %s: read envelope: %w", k, err)
		}
		return doc, nil
	}
	dte, err := f.signedDTE(ctx, k, d)
	if err != nil {
		return archive.Document{}, err
	}
	if dte.Digest != d.Digest {
		return archive.Document{}, errs.Permanentf("submit %s: the archived DTE (%s) is not the one signed (%s)", k, dte.Digest, d.Digest)
	}
	now := f.now()
	signed, id, err := f.envelopes.Envelope(ctx, dte.Body, Caratula{Issuer: k.Issuer, Resolution: d.Resolution}, now)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: build EnvioDTE: %w", k, err)
	}
	doc, err := f.archive.PutEnvio(ctx, k.Issuer, now, id, signed)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: %w", k, err)
	}
	return doc, nil
}

// signedDTE is the signed DTE the event carries when its bytes are the
// ones signed (their digest), else the archived one.
func (f *Function) signedDTE(ctx context.Context, k dtekey.Key, d events.Signed) (archive.Document, error) {
	if len(d.DTE) > 0 && archive.Digest(d.DTE) == d.Digest {
		return archive.Document{Key: d.ArchiveKey, Body: d.DTE, Digest: d.Digest}, nil
	}
	dte, err := f.archive.GetDocument(ctx, d.ArchiveKey)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: read signed DTE: %w", k, err)
	}
	return dte, nil
}

// uploadFailed decides what a failed upload means. A refusal of the file
// (schema, signature) is the SII's verdict on this document: settled,
// rejected. Other permanent refusals (authorisation) are failures. A
// transient error keeps the upload mark only when the file may have
// reached the SII (a timeout or a broken connection mid-request).
func (f *Function) uploadFailed(ctx context.Context, k dtekey.Key, d events.Signed, err error) (*events.Event, error) {
	se, _ := sii.AsError(err)
	mayHaveArrived := se != nil && (se.Code == sii.CodeTimeout || se.Code == sii.CodeNetwork) && !errors.Is(err, syscall.ECONNREFUSED)
	verdict := errs.IsPermanent(err) && se != nil && (se.Code == "7" || se.Code == "8")
	_, uerr := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		if !mayHaveArrived {
			s.UploadStartedAt = nil
		}
		switch {
		case verdict:
			s.SIIState, s.SIIMessage = "STATUS "+se.Code, siiMessage(se)
			s.Record(f.now(), archive.StatusRejected, "upload refused: "+siiMessage(se), "")
		case errs.IsPermanent(err):
			s.Record(f.now(), archive.StatusError, err.Error(), "")
		}
		return nil
	})
	if uerr != nil {
		return nil, fmt.Errorf("submit %s: upload failed (%v) and recording it failed: %w", k, err, uerr)
	}
	if verdict {
		return f.settled(k, "", events.ResultRejected, "STATUS "+se.Code, siiMessage(se), d.Odoo)
	}
	return nil, fmt.Errorf("submit %s: upload: %w", k, err)
}

func siiMessage(se *sii.Error) string {
	msg := se.Message
	for _, l := range se.Detail {
		msg += "; " + l
	}
	return msg
}

// lostAnswer handles a document whose upload started but has no TrackID
// yet. Until LOST_UPLOAD_GRACE has passed since it began, the upload may
// still be in progress (a duplicate request, a redelivery while the first
// delivery still runs): this delivery waits, and the upload's own result
// settles the document, with its TrackID. After the grace the answer was
// lost: ask the SII whether it has the document before anything is sent
// again.
func (f *Function) lostAnswer(ctx context.Context, e events.Event, k dtekey.Key, st archive.State, d events.Signed) ([]stage.Emit, error) {
	started := *st.UploadStartedAt
	if wait := started.Add(f.cfg.LostUploadGrace).Sub(f.now()); wait > 0 {
		return []stage.Emit{stage.Again(e, wait)}, nil
	}
	ds, err := f.sii.GetDocumentStatus(ctx, f.cred, docOfSigned(d).query(k))
	if err != nil {
		return nil, fmt.Errorf("submit %s: ask the SII about a lost upload: %w", k, err)
	}
	switch {
	case ds.Received && ds.Result.Final():
		return stage.One(f.settle(ctx, k, "", ds.Result, ds.Estado, ds.Glosa+" (TrackID perdido; estado consultado por documento)", d.Odoo))
	case ds.Received:
		// The SII has it and has not decided: never send it again.
		if f.cfg.CheckDeadline > 0 && f.now().Sub(started) > f.cfg.CheckDeadline {
			return nil, errs.Permanentf("submit %s: the SII has had the document since %s without a verdict (%s %s); its TrackID was lost; ask the SII (dte status %s)",
				k, started.Format(time.RFC3339), ds.Estado, ds.Glosa, k)
		}
		return []stage.Emit{stage.Again(e, f.cfg.LostUploadGrace)}, nil
	}
	if _, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt == nil || !s.UploadStartedAt.Equal(started) {
			return errConcurrent // someone else moved on meanwhile
		}
		s.UploadStartedAt = nil
		return nil
	}); err != nil {
		if errors.Is(err, errConcurrent) {
			return []stage.Emit{stage.Again(e, f.cfg.LostUploadGrace)}, nil
		}
		return nil, fmt.Errorf("submit %s: clear lost upload: %w", k, err)
	}
	st.UploadStartedAt = nil
	return f.upload(ctx, e, k, st, nil, d)
}

func envioFilename(k dtekey.Key) string {
	return fmt.Sprintf("EnvioDTE-%s-%d-%d.xml", k.Issuer, k.Type, k.Folio)
}
