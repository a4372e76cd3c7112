package submit

import (
	"context"
	"fmt"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
)

// doc is what the stage carries about a document from event to event.
type doc struct {
	receiver  string
	issueDate string
	total     int64
	odoo      request.Odoo
}

func docOfSigned(d events.Signed) doc {
	return doc{receiver: d.Receiver, issueDate: d.IssueDate, total: d.Total, odoo: d.Odoo}
}

func docOf(d events.Check) doc {
	return doc{receiver: d.Receiver, issueDate: d.IssueDate, total: d.Total, odoo: d.Odoo}
}

// query identifies the document to QueryEstDte.
func (d doc) query(k dtekey.Key) sii.DocumentQuery {
	recv, _ := rut.Parse(d.receiver)
	return sii.DocumentQuery{Issuer: k.Issuer, Receiver: recv, Type: k.Type, Folio: k.Folio, IssueDate: d.issueDate, Total: d.total}
}

// decode reads an event's document key and data; unreadable input is
// permanent (retrying the same bytes cannot help).
func decode[T any](e events.Event) (dtekey.Key, T, error) {
	var zero T
	k, err := events.Key(e)
	if err != nil {
		return k, zero, errs.Permanent(err)
	}
	d, err := events.Decode[T](e)
	if err != nil {
		return k, zero, errs.Permanent(err)
	}
	return k, d, nil
}

func (f *Function) submittedEvent(k dtekey.Key, trackID, envioKey string, d events.Signed) (*events.Event, error) {
	e, err := events.New(events.ID(k, "submitted", trackID), events.TypeSubmitted, events.SourceSubmit, k,
		events.Submitted{DTEKey: k.String(), TrackID: trackID, EnvioKey: envioKey, Odoo: d.Odoo})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// settle records a verdict reached outside a status check (a lost answer
// resolved by asking about the document) and announces it.
func (f *Function) settle(ctx context.Context, k dtekey.Key, trackID string, r sii.Result, state, msg string, odoo request.Odoo) (*events.Event, error) {
	st, err := f.archive.UpdateState(ctx, k, func(s *archive.State) error {
		s.UploadStartedAt = nil
		if archive.FinalStatus(s.Status) {
			return nil
		}
		s.SIIState, s.SIIMessage = state, msg
		s.Record(f.now(), statusOf(r), state+": "+msg, "")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("submit %s: record verdict: %w", k, err)
	}
	return f.settledFromState(k, st, odoo)
}

// settledFromState announces the verdict the state holds; its id depends
// only on the document and the verdict, so announcing twice is harmless.
func (f *Function) settledFromState(k dtekey.Key, st archive.State, odoo request.Odoo) (*events.Event, error) {
	result := map[string]string{
		archive.StatusAccepted: events.ResultAccepted,
		archive.StatusObjected: events.ResultObjected,
		archive.StatusRejected: events.ResultRejected,
	}[st.Status]
	return f.settled(k, st.TrackID, result, st.SIIState, st.SIIMessage, odoo)
}

func (f *Function) settled(k dtekey.Key, trackID, result, state, msg string, odoo request.Odoo) (*events.Event, error) {
	e, err := events.New(events.ID(k, "settled", trackID, result, state), events.TypeSettled, events.SourceSubmit, k,
		events.Settled{DTEKey: k.String(), TrackID: trackID, Result: result, SIIState: state, SIIMessage: msg, Odoo: odoo})
	if err != nil {
		return nil, err
	}
	return &e, nil
}
