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
// With seeded set, what the event says of the state (none yet, from a
// sign that writes none; an older sign's seed) stands for the stored one
// (the usual case: nothing has happened to the document since), and the
// happy path is two writes: the envelope, create-only at the document's
// fixed key (the upload mark), and the state with the TrackID,
// conditional on that version. When the envelope is there already, the
// event is handled again from the stored state.
func (f *Function) onSigned(ctx context.Context, e events.Event, seeded bool) ([]stage.Emit, error) {
	k, d, err := decode[events.Signed](e)
	if err != nil {
		return nil, err
	}
	// The seed is used on a first attempt only: a retry or a redelivery
	// has most likely found the state changed.
	if from := seedOf(k, d); seeded && from != nil && stage.Attempt(ctx) == 1 && carriedTrackID(e) == "" && untouched(from.State) {
		if wait, err := f.referencesReady(ctx, e, k, d); err != nil || wait != nil {
			return wait, err
		}
		out, err := f.upload(ctx, k, from, d)
		if !errors.Is(err, errEnvelopeThere) {
			return out, err
		}
		return f.fromStored(ctx, e, k, d, true)
	}
	return f.fromStored(ctx, e, k, d, false)
}

// seedOf is the version cl.dte.signed says the state is in: the seed an
// older sign wrote, or none at all (an empty version: the first write
// creates the state) from a sign that writes no state. nil when unknown.
func seedOf(k dtekey.Key, d events.Signed) *archive.Version {
	if v := archive.VersionOf(k, d.State); v != nil {
		return v
	}
	if d.State == nil && d.RequestDigest != "" {
		return &archive.Version{}
	}
	return nil
}

// fromSign fills in what sign knows of the document, in a state that
// submit's write creates (sign writes none; an older sign did, and then
// its record stays).
func fromSign(s *archive.State, d events.Signed, now time.Time) {
	if s.ArchiveKey == "" {
		s.RequestDigest, s.ArchiveKey, s.Digest = d.RequestDigest, d.ArchiveKey, d.Digest
	}
	if s.Status == "" || s.Status == archive.StatusQueued {
		at := d.SignedAt
		if at.IsZero() {
			at = now
		}
		s.Record(at, archive.StatusSigned, "signed DTE "+d.ArchiveKey, "")
	}
}

// fromStored decides from the stored state. envelopeThere says that the
// document's envelope is known to be archived already.
func (f *Function) fromStored(ctx context.Context, e events.Event, k dtekey.Key, d events.Signed, envelopeThere bool) ([]stage.Emit, error) {
	st, etag, err := f.archive.LoadState(ctx, k)
	switch {
	case errors.Is(err, archive.ErrNotFound):
		// Nothing recorded yet: sign writes no state.
		st, etag = archive.State{DTEKey: k.String(), History: []archive.Entry{}}, ""
	case err != nil:
		return nil, fmt.Errorf("submit %s: read state: %w", k, err)
	}
	v := archive.Version{State: st, ETag: etag}
	for range 2 {
		switch {
		case archive.FinalStatus(v.State.Status):
			return stage.One(f.settledFromState(k, v.State, d.Odoo))
		case v.State.TrackID != "":
			return f.announce(k, v.State, d)
		case carriedTrackID(e) != "":
			return f.recordTrackID(ctx, k, carriedTrackID(e), d)
		case v.State.UploadStartedAt != nil:
			return f.lostAnswer(ctx, e, k, v.State, d)
		}
		if wait, err := f.referencesReady(ctx, e, k, d); err != nil || wait != nil {
			return wait, err
		}
		if v.State.EnvioKey != "" {
			// An upload of this envelope failed before it reached the
			// SII: the same envelope goes again.
			return f.resend(ctx, e, k, v, d)
		}
		if !envelopeThere {
			out, err := f.upload(ctx, k, &v, d)
			if !errors.Is(err, errEnvelopeThere) {
				return out, err
			}
		}
		// The envelope is there and the state does not record it: an
		// upload began when it was written. Recorded as the upload mark,
		// it is the case above.
		if v, err = f.adopt(ctx, k, d); err != nil {
			return nil, err
		}
		envelopeThere = true
	}
	return nil, fmt.Errorf("submit %s: the document's envelope is archived and the state shows nothing of its upload, even after recording it", k)
}

// untouched reports whether a state shows nothing of an upload: what sign
// leaves.
func untouched(st archive.State) bool {
	return !archive.FinalStatus(st.Status) && st.TrackID == "" && st.UploadStartedAt == nil && st.EnvioKey == ""
}

// errEnvelopeThere is an upload that found the document's envelope
// archived already: another delivery began to upload it.
var errEnvelopeThere = errors.New("the document's envelope is archived already")

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
	envioKey, err := documentEnvioKey(k, d)
	if err != nil {
		return nil, err
	}
	st, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		if s.TrackID != "" || archive.FinalStatus(s.Status) {
			return archive.ErrNoUpdate
		}
		fromSign(s, d, f.now())
		if s.EnvioKey == "" {
			s.EnvioKey = envioKey // the envelope is the upload mark: it is there
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

// upload makes the document's EnvioDTE, archives it create-only at the
// document's fixed key with the moment the upload begins (from then on it
// is the upload mark: another delivery finds it and waits for this
// upload's result), sends it and records the TrackID, from the version
// from (re-read if it is not current). errEnvelopeThere when the envelope
// is archived already.
func (f *Function) upload(ctx context.Context, k dtekey.Key, from *archive.Version, d events.Signed) ([]stage.Emit, error) {
	started := f.now().UTC()
	envio, err := f.newEnvelope(ctx, k, d, started)
	if errors.Is(err, archive.ErrExists) {
		return nil, errEnvelopeThere
	}
	if err != nil {
		return nil, err
	}
	return f.send(ctx, k, from, envio, started, d)
}

// send uploads an archived envelope whose upload began at started and
// records the TrackID the SII gives, from the version from.
func (f *Function) send(ctx context.Context, k dtekey.Key, from *archive.Version, envio archive.Document, started time.Time, d events.Signed) ([]stage.Emit, error) {
	receipt, err := f.sii.Upload(ctx, f.cred, sii.Envelope{Company: k.Issuer, Filename: envioFilename(k), XML: envio.Body})
	if err != nil {
		return stage.One(f.uploadFailed(ctx, k, d, envio.Key, started, err))
	}
	// Conditional on from: nobody else writes while the upload is marked,
	// so on the happy path this is one write and no read.
	v, err := f.archive.UpdateStateFrom(ctx, k, from, func(s *archive.State) error {
		if archive.FinalStatus(s.Status) {
			return archive.ErrNoUpdate
		}
		fromSign(s, d, f.now())
		s.TrackID, s.UploadStartedAt, s.EnvioKey = receipt.TrackID, nil, envio.Key
		s.Record(f.now(), archive.StatusSent, "TrackID "+receipt.TrackID, "")
		return nil
	})
	if err != nil {
		// The SII has the document and we could not write its TrackID: the
		// retried event carries it to the next attempt.
		return nil, stage.Carry(fmt.Errorf("submit %s: record TrackID %s: %w", k, receipt.TrackID, err), map[string]string{ExtTrackID: receipt.TrackID})
	}
	if archive.FinalStatus(v.State.Status) {
		return stage.One(f.settledFromState(k, v.State, d.Odoo))
	}
	return f.submitted(k, receipt.TrackID, envio.Key, 1, d, &v)
}

// resend uploads again the envelope the state records, after an upload of
// it that failed before reaching the SII: the start is recorded first,
// conditional on v, so that only one delivery sends it.
func (f *Function) resend(ctx context.Context, e events.Event, k dtekey.Key, v archive.Version, d events.Signed) ([]stage.Emit, error) {
	started := f.now().UTC()
	v, err := f.archive.UpdateStateFrom(ctx, k, &v, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt != nil || archive.FinalStatus(s.Status) || s.EnvioKey == "" {
			return errConcurrent
		}
		s.UploadStartedAt = &started
		return nil
	})
	if errors.Is(err, errConcurrent) {
		// Another delivery got there first: its result wins; look again
		// once it must be known.
		return []stage.Emit{stage.Again(e, f.cfg.LostUploadGrace)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("submit %s: record upload start: %w", k, err)
	}
	return f.sendRecorded(ctx, k, v, started, d)
}

// sendRecorded sends again the envelope the state v records, whose upload
// v marks as begun at started.
func (f *Function) sendRecorded(ctx context.Context, k dtekey.Key, v archive.Version, started time.Time, d events.Signed) ([]stage.Emit, error) {
	envio, err := f.archive.GetDocument(ctx, v.State.EnvioKey)
	if err != nil {
		return nil, fmt.Errorf("submit %s: read envelope: %w", k, err)
	}
	return f.send(ctx, k, &v, envio, started, d)
}

// adopt records, as the upload mark, the document's envelope that the
// state does not know of: its upload began when it was written (the time
// stored with it), by a delivery that may still be sending it or crashed.
// The answer is the state now stored, which records an upload one way or
// another.
func (f *Function) adopt(ctx context.Context, k dtekey.Key, d events.Signed) (archive.Version, error) {
	key, err := documentEnvioKey(k, d)
	if err != nil {
		return archive.Version{}, err
	}
	envio, err := f.archive.GetDocument(ctx, key)
	if err != nil {
		return archive.Version{}, fmt.Errorf("submit %s: read the envelope another delivery archived: %w", k, err)
	}
	started := envio.UploadStarted
	if started.IsZero() {
		started = f.now().UTC() // not recorded: wait a whole grace from now
	}
	v, err := f.archive.UpdateStateFrom(ctx, k, nil, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt != nil || s.EnvioKey != "" || archive.FinalStatus(s.Status) {
			return archive.ErrNoUpdate
		}
		fromSign(s, d, f.now())
		s.EnvioKey, s.UploadStartedAt = key, &started
		return nil
	})
	if err != nil {
		return archive.Version{}, fmt.Errorf("submit %s: record the upload of %s: %w", k, key, err)
	}
	return v, nil
}

var errConcurrent = errors.New("concurrent upload")

// newEnvelope makes the document's EnvioDTE and archives it, create-only,
// at the document's fixed key (ErrExists when it is there already: never a
// second signature), with the moment its upload begins.
func (f *Function) newEnvelope(ctx context.Context, k dtekey.Key, d events.Signed, started time.Time) (archive.Document, error) {
	id, folder, err := envelopePlace(k, d)
	if err != nil {
		return archive.Document{}, err
	}
	dte, err := f.signedDTE(ctx, k, d)
	if err != nil {
		return archive.Document{}, err
	}
	if dte.Digest != d.Digest {
		return archive.Document{}, errs.Permanentf("submit %s: the archived DTE (%s) is not the one signed (%s)", k, dte.Digest, d.Digest)
	}
	signed, got, err := f.envelopes.Envelope(ctx, dte.Body, Caratula{Issuer: k.Issuer, Resolution: d.Resolution, SetID: id}, started)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: build EnvioDTE: %w", k, err)
	}
	if got != id {
		return archive.Document{}, errs.Permanentf("submit %s: the EnvioDTE was given SetDTE ID %q, not %q", k, got, id)
	}
	doc, err := f.archive.PutEnvio(ctx, k.Issuer, folder, id, signed, started)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: %w", k, err)
	}
	return doc, nil
}

// documentEnvioKey is where the document's envelope is archived.
func documentEnvioKey(k dtekey.Key, d events.Signed) (string, error) {
	id, folder, err := envelopePlace(k, d)
	if err != nil {
		return "", err
	}
	key, err := archive.EnvioObjectKey(k.Issuer, folder, id)
	if err != nil {
		return "", errs.Permanent(fmt.Errorf("submit %s: %w", k, err))
	}
	return key, nil
}

// envelopePlace is the document's envelope's ID (its SetDTE ID and object
// name) and folder (envio/{rut}/{yyyy}/{mm}: the issue date's month), both
// fixed per document.
func envelopePlace(k dtekey.Key, d events.Signed) (id string, folder time.Time, err error) {
	if id, err = archive.DocumentEnvioID(k); err != nil {
		return "", time.Time{}, errs.Permanent(fmt.Errorf("submit %s: %w", k, err))
	}
	if folder, err = time.Parse(time.DateOnly, d.IssueDate); err != nil {
		return "", time.Time{}, errs.Permanentf("submit %s: issue_date %q is not a date (YYYY-MM-DD)", k, d.IssueDate)
	}
	return id, folder, nil
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
// transient error leaves the upload marked only when the file may have
// reached the SII (a timeout or a broken connection mid-request).
func (f *Function) uploadFailed(ctx context.Context, k dtekey.Key, d events.Signed, envioKey string, started time.Time, err error) (*events.Event, error) {
	se, _ := sii.AsError(err)
	mayHaveArrived := se != nil && (se.Code == sii.CodeTimeout || se.Code == sii.CodeNetwork) && !errors.Is(err, syscall.ECONNREFUSED)
	verdict := errs.IsPermanent(err) && se != nil && (se.Code == "7" || se.Code == "8")
	_, uerr := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		// The state records the envelope, and the upload mark only when
		// the file may have reached the SII: a retry then resends the same
		// envelope at once, or waits and asks the SII first.
		fromSign(s, d, f.now())
		s.EnvioKey = envioKey
		switch {
		case !mayHaveArrived:
			s.UploadStartedAt = nil
		case s.UploadStartedAt == nil || s.UploadStartedAt.Before(started):
			s.UploadStartedAt = &started
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
	// The SII does not have it: the same envelope goes again, marked anew
	// in one write that only succeeds while nobody else moved on.
	again := f.now().UTC()
	v, err := f.archive.UpdateStateFrom(ctx, k, nil, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt == nil || !s.UploadStartedAt.Equal(started) || archive.FinalStatus(s.Status) {
			return errConcurrent // someone else moved on meanwhile
		}
		if s.EnvioKey == "" {
			return errNoEnvelope
		}
		s.UploadStartedAt = &again
		return nil
	})
	switch {
	case errors.Is(err, errConcurrent):
		return []stage.Emit{stage.Again(e, f.cfg.LostUploadGrace)}, nil
	case errors.Is(err, errNoEnvelope):
		return nil, errs.Permanentf("submit %s: an upload is marked since %s without the envelope it sent; ask the SII (dte status %s)", k, started.Format(time.RFC3339), k)
	case err != nil:
		return nil, fmt.Errorf("submit %s: mark the upload again: %w", k, err)
	}
	return f.sendRecorded(ctx, k, v, again, d)
}

var errNoEnvelope = errors.New("upload marked without its envelope")

func envioFilename(k dtekey.Key) string {
	return fmt.Sprintf("EnvioDTE-%s-%d-%d.xml", k.Issuer, k.Type, k.Folio)
}
