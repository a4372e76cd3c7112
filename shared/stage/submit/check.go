package submit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// onCheck asks the SII about an upload: pending → the next check, later;
// final → cl.dte.settled.
//
// With seeded set, the state the check carries (as the check's sender left
// it) stands for the stored one, and the write that records the answer is
// conditional on its ETag. A check that finds, at that write, that it was
// another copy's or a processed one is handled again from the stored
// state.
func (f *Function) onCheck(ctx context.Context, e events.Event, seeded bool) ([]stage.Emit, error) {
	k, d, err := decode[events.Check](e)
	if err != nil {
		return nil, err
	}
	var from *archive.Version
	if seeded {
		from = archive.VersionOf(k, d.State)
	}
	var st archive.State
	if from != nil {
		st = from.State
	} else if st, _, err = f.archive.LoadState(ctx, k); err != nil {
		return nil, fmt.Errorf("check %s: read state: %w", k, err)
	}
	switch {
	case archive.FinalStatus(st.Status):
		return stage.One(f.settledFromState(k, st, d.Odoo))
	case st.TrackID != d.TrackID || d.Attempt < st.Checks:
		return nil, nil // a stale check: a later one carries on
	case d.Attempt == st.Checks && st.CheckCopy == checkCopy(e):
		// The very check the state recorded, delivered again: the
		// delivery that processed it may have failed to publish the next
		// one. Send it again (the same id); if the first did go out, the
		// copy processed second is dropped below.
		next, err := f.nextCheck(k, d.TrackID, d.Attempt+1, docOf(d), nil)
		if err != nil {
			return nil, err
		}
		return []stage.Emit{next}, nil
	case d.Attempt == st.Checks:
		return nil, nil // another copy of a processed check: its chain carries on
	}
	us, err := f.sii.GetUploadStatus(ctx, f.cred, k.Issuer, d.TrackID)
	if err != nil {
		return nil, fmt.Errorf("check %s TrackID %s: %w", k, d.TrackID, err)
	}
	if !us.Result.Final() {
		out, err := f.pending(ctx, e, k, st, from, d, us)
		if errors.Is(err, errDuplicateCheck) {
			// Processed already, as the stored state shows: decide from it
			// (the very copy delivered again sends the next check again).
			return f.onCheck(ctx, e, false)
		}
		return out, err
	}
	result, state, msg := us.Result, us.Estado, describe(us)
	if result == sii.Rejected && (us.Estado == "RPT" || strings.Contains(strings.ToUpper(us.Glosa), "REPETID")) {
		// A repeated upload (after a lost answer): the first one decides.
		if ds, err := f.sii.GetDocumentStatus(ctx, f.cred, docOf(d).query(k)); err == nil && ds.Received && ds.Result.Final() {
			result, state, msg = ds.Result, ds.Estado, ds.Glosa
		}
	}
	return stage.One(f.settleCheck(ctx, k, d, from, result, state, msg))
}

// pending records the check and emits the next one, later, unless the SII
// has taken longer than the deadline. from is the version st is believed
// to be (nil: read); errDuplicateCheck when, from it, the check turns out
// to be processed already.
func (f *Function) pending(ctx context.Context, e events.Event, k dtekey.Key, st archive.State, from *archive.Version, d events.Check, us *sii.UploadStatus) ([]stage.Emit, error) {
	if sent := sentAt(st); !sent.IsZero() && f.now().Sub(sent) > f.cfg.CheckDeadline && f.cfg.CheckDeadline > 0 {
		return nil, errs.Permanentf("check %s: the SII has not finished processing TrackID %s after %s (last state %s %s); ask the SII (dte status %s)",
			k, d.TrackID, f.cfg.CheckDeadline, us.Estado, us.Glosa, k)
	}
	copyID := checkCopy(e)
	v, err := f.archive.UpdateStateFrom(ctx, k, from, func(s *archive.State) error {
		if d.Attempt <= s.Checks {
			return errDuplicateCheck
		}
		s.Checks, s.CheckCopy, s.SIIState, s.SIIMessage = d.Attempt, copyID, us.Estado, us.Glosa
		return nil
	})
	if errors.Is(err, errDuplicateCheck) {
		if from != nil {
			return nil, errDuplicateCheck
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check %s: record: %w", k, err)
	}
	next, err := f.nextCheck(k, d.TrackID, d.Attempt+1, docOf(d), &v)
	if err != nil {
		return nil, err
	}
	return []stage.Emit{next}, nil
}

var errDuplicateCheck = errors.New("check already processed")

// checkCopy tells copies of the same status check apart: each was made by
// a different delivery at a different time, while a copy delivered again
// keeps its time.
func checkCopy(e events.Event) string { return e.Time().UTC().Format(time.RFC3339Nano) }

func (f *Function) settleCheck(ctx context.Context, k dtekey.Key, d events.Check, from *archive.Version, result sii.Result, state, msg string) (*events.Event, error) {
	v, err := f.archive.UpdateStateFrom(ctx, k, from, func(s *archive.State) error {
		s.Checks = max(s.Checks, d.Attempt)
		if archive.FinalStatus(s.Status) {
			return nil
		}
		s.SIIState, s.SIIMessage = state, msg
		s.Record(f.now(), statusOf(result), state+": "+msg, "")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check %s: record verdict: %w", k, err)
	}
	return f.settledFromState(k, v.State, d.Odoo)
}

// nextCheck is the status check with the given attempt number, emitted
// after the delay for that attempt, carrying the state v when known.
func (f *Function) nextCheck(k dtekey.Key, trackID string, attempt int, d doc, v *archive.Version) (stage.Emit, error) {
	var seed *events.StateSeed
	if v != nil {
		seed = v.Seed()
	}
	e, err := events.New(events.ID(k, "check", trackID, fmt.Sprint(attempt)), events.TypeCheck, events.SourceSubmit, k,
		events.Check{DTEKey: k.String(), TrackID: trackID, Attempt: attempt, Receiver: d.receiver, IssueDate: d.issueDate, Total: d.total, Odoo: d.odoo, State: seed})
	if err != nil {
		return stage.Emit{}, fmt.Errorf("submit %s: status check %d: %w", k, attempt, err)
	}
	delays := f.cfg.CheckDelays
	return stage.Later(e, delays[min(attempt-1, len(delays)-1)]), nil
}

func describe(us *sii.UploadStatus) string {
	parts := []string{us.Glosa}
	for _, c := range us.Counts {
		parts = append(parts, fmt.Sprintf("tipo %d: %d informados, %d aceptados, %d rechazados, %d reparos", c.Type, c.Informed, c.Accepted, c.Rejected, c.Objected))
	}
	return strings.Join(parts, "; ")
}

func statusOf(r sii.Result) string {
	switch r {
	case sii.Accepted:
		return archive.StatusAccepted
	case sii.Objected:
		return archive.StatusObjected
	default:
		return archive.StatusRejected
	}
}

func sentAt(st archive.State) time.Time {
	for _, h := range st.History {
		if h.Status == archive.StatusSent {
			return h.At
		}
	}
	return time.Time{}
}
