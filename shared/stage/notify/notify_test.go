package notify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

type sent struct {
	db string
	p  callback.Payload
}

type fakeSender struct {
	got []sent
	err error
}

func (s *fakeSender) Send(_ context.Context, db string, p callback.Payload) error {
	s.got = append(s.got, sent{db, p})
	return s.err
}

var odoo = request.Odoo{Database: "odoo", MoveID: 77}

func event(t *testing.T, typ string, data any, ext map[string]string) events.Event {
	t.Helper()
	k, _ := dtekey.Parse("76086428-5-33-1042")
	e, err := events.New("orig-"+typ, typ, "/test", k, data)
	if err != nil {
		t.Fatal(err)
	}
	for n, v := range ext {
		e.SetExtension(n, v)
	}
	return e
}

func TestHandleReportsStatus(t *testing.T) {
	s := &fakeSender{}
	f := New(s, nil, nil)
	if _, err := f.Handle(context.Background(), event(t, events.TypeSubmitted, events.Submitted{TrackID: "99", Odoo: odoo}, nil)); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 1 || s.got[0].p.Status != callback.StatusSent || s.got[0].p.TrackID != "99" || s.got[0].db != "odoo" {
		t.Fatalf("sent %+v", s.got)
	}
	s.err = errs.Permanent(&callback.RejectedError{Status: 404})
	if _, err := f.Handle(context.Background(), event(t, events.TypeSigned, events.Signed{Odoo: odoo}, nil)); !errs.IsPermanent(err) {
		t.Fatalf("Odoo's 404 should be permanent, got %v", err)
	}
}

func TestHandleDead(t *testing.T) {
	tests := []struct {
		name       string
		e          func(t *testing.T) events.Event
		sendErr    error
		wantStatus string
		wantInMsg  string
		wantErr    bool
	}{
		{"died in sign: error with stage and reason", func(t *testing.T) events.Event {
			return event(t, events.TypeRequested, request.Request{Odoo: odoo}, map[string]string{"deadqueue": "dte.sign", "deadreason": "HTTP 503: S3 unreachable"})
		}, nil, callback.StatusError, "firma: HTTP 503: S3 unreachable", false},
		{"check died under Knative (no queue given)", func(t *testing.T) events.Event {
			return event(t, events.TypeCheck, events.Check{Odoo: odoo}, nil)
		}, nil, callback.StatusError, "consulta de estado", false},
		{"a status that died on its way to Odoo is delivered again", func(t *testing.T) events.Event {
			return event(t, events.TypeSettled, events.Settled{Result: events.ResultAccepted, Odoo: odoo}, map[string]string{"deadqueue": "dte.notify"})
		}, nil, callback.StatusAccepted, "", false},
		{"Odoo still down: transient, retried", func(t *testing.T) events.Event {
			return event(t, events.TypeSigned, events.Signed{Odoo: odoo}, map[string]string{"deadqueue": "dte.submit"})
		}, errors.New("connection refused"), callback.StatusError, "envío al SII", true},
		{"Odoo refuses for good: dropped, not looped", func(t *testing.T) events.Event {
			return event(t, events.TypeSigned, events.Signed{Odoo: odoo}, map[string]string{"deadqueue": "dte.submit"})
		}, errs.Permanent(&callback.RejectedError{Status: 404}), callback.StatusError, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSender{err: tt.sendErr}
			e := tt.e(t)
			_, err := New(s, nil, nil).HandleDead(context.Background(), e)
			if (err != nil) != tt.wantErr || errs.IsPermanent(err) {
				t.Fatalf("err %v", err)
			}
			if len(s.got) != 1 {
				t.Fatalf("sent %d callbacks", len(s.got))
			}
			p := s.got[0].p
			if p.Status != tt.wantStatus || !strings.Contains(p.Message, tt.wantInMsg) || p.MoveID != 77 {
				t.Fatalf("payload %+v", p)
			}
			if p.Status == callback.StatusError && p.EventID == e.ID() {
				t.Fatal("the error callback reuses the dead event's id; Odoo would drop it as seen")
			}
		})
	}
}

func TestHandleDeadPoison(t *testing.T) {
	s := &fakeSender{}
	e := event(t, events.TypeRequested, map[string]any{}, nil)
	e.SetExtension(events.ExtDTEKey, nil)
	if _, err := New(s, nil, nil).HandleDead(context.Background(), e); err != nil || len(s.got) != 0 {
		t.Fatalf("a dead letter without a document: err %v, sent %d", err, len(s.got))
	}
}

func TestDeadAttempts(t *testing.T) {
	for _, tt := range []struct {
		ext  any
		want int
	}{{"3", 3}, {int32(2), 2}, {nil, 0}, {"many", 0}, {"-1", 0}} {
		e := event(t, events.TypeSigned, events.Signed{Odoo: odoo}, nil)
		if tt.ext != nil {
			e.SetExtension(events.ExtDeadAttempts, tt.ext)
		}
		if got := deadAttempts(e); got != tt.want {
			t.Errorf("deadattempts %v: %d, want %d", tt.ext, got, tt.want)
		}
	}
}
