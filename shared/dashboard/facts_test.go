package dashboard

import (
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

func TestParseEvent(t *testing.T) {
	const key = "76086428-5-33-1042"
	k := mustKey(t, key)
	odoo := request.Odoo{Database: "odoo", MoveID: 7}
	tests := []struct {
		name string
		typ  string
		data any
		want Fact
	}{
		{"requested", events.TypeRequested, map[string]any{"receiver": map[string]any{"rut": "77654321-7", "name": "X"}, "totals": map[string]any{"total": 150}, "odoo": odoo},
			Fact{Kind: KindRequested, Status: "queued", Receiver: "77654321-7", Total: 150}},
		{"signed", events.TypeSigned, events.Signed{DTEKey: key, ArchiveKey: "dte/76086428-5/33/1042.xml", Receiver: "77654321-7", Total: 150, Odoo: odoo},
			Fact{Kind: KindSigned, Status: "signed", ArchiveKey: "dte/76086428-5/33/1042.xml", Receiver: "77654321-7", Total: 150}},
		{"submitted", events.TypeSubmitted, events.Submitted{DTEKey: key, TrackID: "42", EnvioKey: "envio/x.xml", Odoo: odoo},
			Fact{Kind: KindSubmitted, Status: "sent", TrackID: "42", EnvioKey: "envio/x.xml"}},
		{"check", events.TypeCheck, events.Check{DTEKey: key, TrackID: "42", Attempt: 3, Receiver: "77654321-7", Total: 150, Odoo: odoo},
			Fact{Kind: KindCheck, TrackID: "42", Attempt: 3, Receiver: "77654321-7", Total: 150}},
		{"accepted", events.TypeSettled, events.Settled{DTEKey: key, TrackID: "42", Result: "accepted", SIIState: "EPR", SIIMessage: "ok", Odoo: odoo},
			Fact{Kind: KindSettled, Status: "accepted", TrackID: "42", SIIState: "EPR", Detail: "EPR: ok"}},
		{"objected", events.TypeSettled, events.Settled{DTEKey: key, Result: "objected", SIIState: "RLV", Odoo: odoo},
			Fact{Kind: KindSettled, Status: "objected", SIIState: "RLV", Detail: "RLV"}},
		{"rejected", events.TypeSettled, events.Settled{DTEKey: key, Result: "rejected", SIIState: "RCH", SIIMessage: "monto", Odoo: odoo},
			Fact{Kind: KindSettled, Status: "rejected", SIIState: "RCH", Detail: "RCH: monto"}},
		{"failed", events.TypeFailed, events.Failed{DTEKey: key, Stage: "sign", Reason: "folio already used", Odoo: odoo},
			Fact{Kind: KindFailed, Status: "error", Stage: "sign", Detail: "folio already used"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := t0.Add(time.Second)
			got, err := ParseEvent(event(t, k, tt.typ, "id-"+tt.name, at, tt.data), t0.Add(3*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ID, want.Key, want.At, want.Received = "id-"+tt.name, k, at, t0.Add(3*time.Second)
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseEventUnreadable(t *testing.T) {
	k := mustKey(t, "76086428-5-33-1042")
	good := string(event(t, k, events.TypeSubmitted, "id", t0, events.Submitted{TrackID: "1"}))
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", "<xml/>", "not a structured CloudEvent"},
		{"another spec version", strings.Replace(good, `"specversion":"1.0"`, `"specversion":"0.3"`, 1), `specversion "0.3"`},
		{"unknown type", strings.Replace(good, events.TypeSubmitted, "cl.dte.other", 1), `type "cl.dte.other"`},
		{"bad dtekey", strings.Replace(good, `"dtekey":"76086428-5-33-1042"`, `"dtekey":"76086428-4-33-1042"`, 1), "dtekey"},
		{"no dtekey", strings.Replace(good, `"dtekey":"76086428-5-33-1042"`, `"x":"y"`, 1), "dtekey"},
		{"no time", strings.Replace(good, `"time":"2026-03-14T15:00:00Z"`, `"x":"y"`, 1), "no time"},
		{"no id", strings.Replace(good, `"id":"id"`, `"id":""`, 1), "no id"},
		{"data not an object", `{"specversion":"1.0","id":"x","type":"cl.dte.submitted","source":"/t","time":"2026-03-14T15:00:00Z","dtekey":"76086428-5-33-1042","data":[1,2]}`, "data"},
		{"settled with an unknown result", string(event(t, k, events.TypeSettled, "id", t0, events.Settled{Result: "maybe"})), `result "maybe"`},
		{"signed without the archive key", string(event(t, k, events.TypeSigned, "id", t0, events.Signed{})), "no archive_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == good {
				t.Fatal("the test's edit changed nothing")
			}
			_, err := ParseEvent([]byte(tt.body), t0)
			if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want ErrUnreadable mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseDeliveryDeadLetter(t *testing.T) {
	k := mustKey(t, "76086428-5-33-1042")
	body := event(t, k, events.TypeSigned, "ev-1", t0, events.Signed{ArchiveKey: "dte/a.xml"})
	for _, tt := range []struct {
		queue      string
		wantStatus string
	}{
		{bus.QueueSubmit, "error"},
		{bus.QueueNotify, ""}, // only Odoo was not told
	} {
		t.Run(tt.queue, func(t *testing.T) {
			d := amqp.Delivery{Exchange: bus.ExchangeDLX, MessageId: "ev-1", Body: body, Headers: amqp.Table{
				dispatch.HeaderDeadQueue: tt.queue, dispatch.HeaderDeadReason: "HTTP 503: SII down", dispatch.HeaderDeadAt: "2026-03-14T15:00:07Z",
			}}
			f, err := ParseDelivery(d, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			want := Fact{ID: "dead:ev-1:2026-03-14T15:00:07Z", Kind: KindDead, Key: k, At: t0.Add(7 * time.Second), Received: t0.Add(time.Minute),
				Status: tt.wantStatus, Stage: tt.queue, Detail: "HTTP 503: SII down", MessageID: "ev-1"}
			if f != want {
				t.Errorf("got  %+v\nwant %+v", f, want)
			}
		})
	}
	// A dead letter the broker dead-lettered itself: x-death names the queue.
	d := amqp.Delivery{Exchange: bus.ExchangeDLX, MessageId: "ev-1", Body: body, Headers: amqp.Table{
		"x-death": []any{amqp.Table{"queue": bus.QueueSign, "reason": "delivery_limit", "time": t0}},
	}}
	f, err := ParseDelivery(d, t0.Add(time.Minute))
	if err != nil || f.Stage != bus.QueueSign || f.Detail != "broker: delivery_limit" || !f.At.Equal(t0) {
		t.Errorf("x-death dead letter: %+v, %v", f, err)
	}
	// Not a pipeline event: unreadable.
	if _, err := ParseDelivery(amqp.Delivery{Exchange: bus.ExchangeDLX, Body: []byte("junk")}, t0); !errors.Is(err, ErrUnreadable) {
		t.Errorf("junk dead letter: %v", err)
	}
	// Through dte.direct: an event.
	if f, err := ParseDelivery(amqp.Delivery{Exchange: bus.ExchangeDirect, Body: body}, t0); err != nil || f.Kind != KindSigned {
		t.Errorf("event: %+v, %v", f, err)
	}
}

// FuzzParseEvent: any body either fails as ErrUnreadable or gives a fact
// with the fields every fact must have.
func FuzzParseEvent(f *testing.F) {
	k := mustKey(f, "76086428-5-33-1042")
	f.Add(event(f, k, events.TypeSettled, "id", t0, events.Settled{Result: "accepted"}))
	f.Add(event(f, k, events.TypeRequested, "id", t0, map[string]any{"receiver": map[string]any{"rut": "1-9"}}))
	f.Add(event(f, k, events.TypeCheck, "id", t0, events.Check{Attempt: 2}))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"cl.dte.failed","time":"2026-01-01T00:00:00Z","dtekey":"1-9-33-1","data":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fact, err := ParseEvent(body, t0)
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error %v is not ErrUnreadable", err)
			}
			return
		}
		if fact.ID == "" || fact.Key.IsZero() || fact.At.IsZero() || fact.Kind == "" {
			t.Fatalf("fact without its identity: %+v", fact)
		}
		if fact.Kind != KindCheck && tsOf(fact.Status) < 0 {
			t.Fatalf("fact %s with status %q", fact.Kind, fact.Status)
		}
	})
}
