package callback

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/webhook"
)

var secret = []byte("callback-secret")

func TestSend(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		wantErr   bool
		permanent bool
		calls     int32
	}{
		{"accepted", []int{200}, false, false, 1},
		// One POST per Send: the platform's deliveries retry.
		{"transient: one POST, a transient error", []int{503, 200}, true, false, 1},
		{"unknown move", []int{404}, true, true, 1},
		{"dtekey mismatch", []int{409}, true, true, 1},
		{"bad signature is a config error, not permanent", []int{401}, true, false, 1},
		{"down", []int{500}, true, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				if err := webhook.Verify(secret, r.Header.Get(webhook.Header), body, time.Now(), webhook.DefaultWindow); err != nil {
					t.Errorf("signature: %v", err)
				}
				if r.Header.Get(HeaderDatabase) != "odoo19" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get(HeaderIdempotencyKey) != "e1" {
					t.Errorf("headers %v", r.Header)
				}
				var p Payload
				if err := json.Unmarshal(body, &p); err != nil || p.DTEKey != "76086428-5-33-1" {
					t.Errorf("payload %s: %v", body, err)
				}
				w.WriteHeader(tt.statuses[min(int(n)-1, len(tt.statuses)-1)])
			}))
			defer srv.Close()
			c := &Client{URL: srv.URL, Secret: secret}
			err := c.Send(context.Background(), "odoo19", Payload{EventID: "e1", DTEKey: "76086428-5-33-1", MoveID: 3, Status: StatusQueued})
			if (err != nil) != tt.wantErr || errs.IsPermanent(err) != tt.permanent || IsRejected(err) != tt.permanent {
				t.Fatalf("err %v (permanent %v)", err, errs.IsPermanent(err))
			}
			if calls.Load() != tt.calls {
				t.Fatalf("%d calls, want %d", calls.Load(), tt.calls)
			}
		})
	}
}

// A kept-alive connection that Odoo closed just as it was reused (its idle
// timeout, a worker restart) does not fail the callback: the POST says it
// is idempotent, and the HTTP transport sends it again on a new connection.
func TestSendResendsOnAReusedConnectionOdooClosed(t *testing.T) {
	odoo := &servetest.DropSecond{Status: http.StatusOK}
	srv := httptest.NewServer(odoo)
	defer srv.Close()
	c := &Client{URL: srv.URL, Secret: secret, HTTP: &http.Client{}}
	for i, id := range []string{"e1", "e2"} {
		if err := c.Send(context.Background(), "odoo19", Payload{EventID: id, DTEKey: "76086428-5-33-1", MoveID: 3, Status: StatusQueued}); err != nil {
			t.Fatalf("callback %d: %v", i+1, err)
		}
	}
	if n := odoo.Requests(); n != 3 {
		t.Errorf("%d requests reached Odoo, want 3 (the second sent again)", n)
	}
}

func TestFromEvent(t *testing.T) {
	k, _ := dtekey.Parse("76086428-5-61-23")
	odoo := request.Odoo{Database: "odoo", MoveID: 505}
	mk := func(typ string, data any) events.Event {
		e, err := events.New("id-"+typ, typ, "/test", k, data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tests := []struct {
		e       events.Event
		status  string
		track   string
		message string
		next    string
		skip    bool
	}{
		{e: mk(events.TypeRequested, request.Request{Odoo: odoo}), status: StatusQueued},
		{e: mk(events.TypeSigned, events.Signed{Odoo: odoo}), status: StatusSigned},
		{e: mk(events.TypeSubmitted, events.Submitted{TrackID: "123", Odoo: odoo}), status: StatusSent, track: "123"},
		{e: mk(events.TypeSettled, events.Settled{TrackID: "123", Result: events.ResultRejected, SIIState: "RCH", SIIMessage: "DTE Rechazado", Odoo: odoo}), status: StatusRejected, track: "123", message: "DTE Rechazado"},
		{e: mk(events.TypeSettled, events.Settled{Result: events.ResultObjected, Odoo: odoo}), status: StatusObjected},
		{e: mk(events.TypeFailed, events.Failed{Stage: "sign", Reason: "folio 23 outside every CAF", Odoo: odoo}), status: StatusError, message: "Falló la firma: folio 23 outside every CAF"},
		{e: mk(events.TypeFailed, events.Failed{Stage: "submit", Reason: "SII 503", Odoo: odoo}), status: StatusError, message: "Falló el envío al SII: SII 503"},
		{e: mk(events.TypeRetrying, events.Retrying{Stage: "submit", Reason: "SII 503", Attempts: 3, Odoo: odoo,
			NextAttemptAt: time.Date(2026, 3, 2, 10, 1, 0, 0, time.UTC), GiveUpAt: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)}),
			status: StatusRetrying, next: "2026-03-02T10:01:00Z",
			message: "Falló el envío al SII (intento 3): SII 503. Próximo intento automático: 2026-03-02 10:01 UTC (los reintentos terminan el 2026-03-03 10:00 UTC)"},
		{e: mk(events.TypeCheck, events.Check{Odoo: odoo}), skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.e.Type()+" "+tt.status, func(t *testing.T) {
			p, o, ok, err := FromEvent(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if ok == tt.skip {
				t.Fatalf("ok = %v", ok)
			}
			if tt.skip {
				return
			}
			if p.Status != tt.status || p.TrackID != tt.track || p.Message != tt.message || p.MoveID != 505 || o.Database != "odoo" || p.DTEKey != k.String() || p.EventID != tt.e.ID() || p.OccurredAt == "" || p.NextAttemptAt != tt.next {
				t.Fatalf("payload %+v odoo %+v", p, o)
			}
		})
	}
}
