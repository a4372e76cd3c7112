package submit

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// onSigned uploads a signed DTE, unless the state shows it was uploaded
// already (then it only re-announces the TrackID).
func (f *Function) onSigned(ctx context.Context, e events.Event) ([]stage.Emit, error) {
	k, d, err := decode[events.Signed](e)
	if err != nil {
		return nil, err
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
	case st.UploadStartedAt != nil:
		return f.lostAnswer(ctx, e, k, st, d)
	}
	if wait, err := f.referencesReady(ctx, e, k, d); err != nil || wait != nil {
		return wait, err
	}
	return f.upload(ctx, k, st, d)
}

// announce re-emits cl.dte.submitted for an upload that has its TrackID
// (a redelivered message), with a status check so that one is on its way.
func (f *Function) announce(k dtekey.Key, st archive.State, d events.Signed) ([]stage.Emit, error) {
	return f.submitted(k, st.TrackID, st.EnvioKey, st.Checks+1, d)
}

// submitted is cl.dte.submitted, at once, and the status check with the
// given attempt number, later.
func (f *Function) submitted(k dtekey.Key, trackID, envioKey string, attempt int, d events.Signed) ([]stage.Emit, error) {
	e, err := f.submittedEvent(k, trackID, envioKey, d)
	if err != nil {
		return nil, err
	}
	check, err := f.nextCheck(k, trackID, attempt, docOfSigned(d))
	if err != nil {
		return nil, err
	}
	return []stage.Emit{stage.Now(*e), check}, nil
}

// upload builds (or reuses) the EnvioDTE, records that an upload starts,
// sends it and records the TrackID.
func (f *Function) upload(ctx context.Context, k dtekey.Key, st archive.State, d events.Signed) ([]stage.Emit, error) {
	envio, err := f.envelope(ctx, k, st, d)
	if err != nil {
		return nil, err
	}
	// One write records the envelope and that its upload starts: from here
	// on a redelivery asks the SII before sending anything again.
	started := f.now().UTC()
	if _, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		if s.TrackID != "" || s.UploadStartedAt != nil || (s.EnvioKey != "" && s.EnvioKey != envio.Key) {
			return errConcurrent
		}
		s.EnvioKey, s.UploadStartedAt = envio.Key, &started
		return nil
	}); err != nil {
		if errors.Is(err, errConcurrent) {
			return nil, fmt.Errorf("submit %s: another delivery is uploading it; will look again", k)
		}
		return nil, fmt.Errorf("submit %s: record upload start: %w", k, err)
	}
	receipt, err := f.sii.Upload(ctx, f.cred, sii.Envelope{Company: k.Issuer, Filename: envioFilename(k), XML: envio.Body})
	if err != nil {
		return stage.One(f.uploadFailed(ctx, k, d, err))
	}
	st, err = f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		s.TrackID, s.UploadStartedAt, s.EnvioKey = receipt.TrackID, nil, envio.Key
		s.Record(f.now(), archive.StatusSent, "TrackID "+receipt.TrackID, "")
		return nil
	})
	if err != nil {
		// The SII has the document and we could not write its TrackID: the
		// redelivery finds the upload mark and asks the SII first.
		return nil, fmt.Errorf("submit %s: record TrackID %s: %w", k, receipt.TrackID, err)
	}
	return f.submitted(k, receipt.TrackID, envio.Key, 1, d)
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
	dte, err := f.archive.GetDocument(ctx, d.ArchiveKey)
	if err != nil {
		return archive.Document{}, fmt.Errorf("submit %s: read signed DTE: %w", k, err)
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

// lostAnswer handles a redelivered document whose upload started but whose
// TrackID never came back: ask the SII whether it has the document before
// anything is sent again.
func (f *Function) lostAnswer(ctx context.Context, e events.Event, k dtekey.Key, st archive.State, d events.Signed) ([]stage.Emit, error) {
	ds, err := f.sii.GetDocumentStatus(ctx, f.cred, docOfSigned(d).query(k))
	if err != nil {
		return nil, fmt.Errorf("submit %s: ask the SII about a lost upload: %w", k, err)
	}
	if ds.Received && ds.Result.Final() {
		return stage.One(f.settle(ctx, k, "", ds.Result, ds.Estado, ds.Glosa+" (TrackID perdido; estado consultado por documento)", d.Odoo))
	}
	if wait := st.UploadStartedAt.Add(f.cfg.LostUploadGrace).Sub(f.now()); wait > 0 {
		// The SII may still be processing the first upload: look again later.
		return []stage.Emit{stage.Again(e, wait)}, nil
	}
	if _, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		s.UploadStartedAt = nil
		return nil
	}); err != nil {
		return nil, fmt.Errorf("submit %s: clear lost upload: %w", k, err)
	}
	st.UploadStartedAt = nil
	return f.upload(ctx, k, st, d)
}

func envioFilename(k dtekey.Key) string {
	return fmt.Sprintf("EnvioDTE-%s-%d-%d.xml", k.Issuer, k.Type, k.Folio)
}
