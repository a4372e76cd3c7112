// Package events defines the CloudEvents the pipeline exchanges (docs/design.md,
// "Events"): their types, their data, the dtekey extension, and their
// structured-mode JSON form on the wire.
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/request"
)

// Event types, which are also the routing keys on exchange dte.direct.
const (
	TypeRequested = "cl.dte.requested"
	TypeSigned    = "cl.dte.signed"
	TypeSubmitted = "cl.dte.submitted"
	TypeCheck     = "cl.dte.check"
	TypeSettled   = "cl.dte.settled"
	TypeFailed    = "cl.dte.failed"
	// TypeRetrying tells Odoo that a stage failed transiently and waits in
	// the slow retry tier (docs/design.md, "Retries").
	TypeRetrying = "cl.dte.retrying"
)

// Types lists every event type the pipeline emits.
var Types = []string{TypeRequested, TypeSigned, TypeSubmitted, TypeCheck, TypeSettled, TypeFailed, TypeRetrying}

// Sources name the producers.
const (
	SourceEnqueue    = "/dte/enqueue"
	SourceSign       = "/dte/sign"
	SourceSubmit     = "/dte/submit"
	SourceNotify     = "/dte/notify"
	SourceDispatcher = "/dte/dispatcher"
)

// Extension and content-type names.
const (
	ExtDTEKey       = "dtekey"      // {rutEmisor}-{tipoDTE}-{folio}
	ExtTraceparent  = "traceparent" // W3C trace context: the span the event was made in
	ExtTracestate   = "tracestate"  // W3C trace state, beside traceparent
	ContentTypeJSON = "application/json"
	// ContentTypeStructured is the AMQP content type of an event in
	// structured mode: the body is the whole event as JSON.
	ContentTypeStructured = "application/cloudevents+json"
)

// Event is a CloudEvent (sdk-go's type, so handlers have the Knative shape).
type Event = cloudevents.Event

// New builds an event for a document. The id should be deterministic for the
// work it reports (see ID), so that a redelivered message produces the same
// event and Odoo can drop the repeat.
func New(id, typ, source string, key dtekey.Key, data any) (Event, error) {
	e := cloudevents.New()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(source)
	e.SetSubject(key.String())
	e.SetTime(time.Now().UTC())
	e.SetExtension(ExtDTEKey, key.String())
	switch raw := data.(type) {
	case []byte:
		// JSON already (the request as Odoo sent it): kept as it is, and
		// written as JSON in structured mode, not as data_base64.
		if !json.Valid(raw) {
			return Event{}, fmt.Errorf("event %s for %s: data is not JSON", typ, key)
		}
		e.SetDataContentType(ContentTypeJSON)
		e.DataEncoded, e.DataBase64 = raw, false
	default:
		if err := e.SetData(ContentTypeJSON, data); err != nil {
			return Event{}, fmt.Errorf("event %s for %s: %w", typ, key, err)
		}
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("event %s for %s: %w", typ, key, err)
	}
	return e, nil
}

// ID derives a deterministic event id from the document and the facts that
// make the event unique: the same work done twice gives the same id.
func ID(key dtekey.Key, stage string, facts ...string) string {
	h := sha256.New()
	h.Write([]byte(key.String()))
	for _, f := range facts {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return key.String() + "." + stage + "." + hex.EncodeToString(h.Sum(nil)[:8])
}

// ErrNotDTEEvent is returned for an event that lacks a valid dtekey.
var ErrNotDTEEvent = errors.New("event has no valid dtekey extension")

// Key reads the dtekey extension.
func Key(e Event) (dtekey.Key, error) {
	v, ok := e.Extensions()[ExtDTEKey]
	if !ok {
		return dtekey.Key{}, ErrNotDTEEvent
	}
	s, ok := v.(string)
	if !ok {
		return dtekey.Key{}, ErrNotDTEEvent
	}
	k, err := dtekey.Parse(s)
	if err != nil {
		return dtekey.Key{}, fmt.Errorf("%w: %w", ErrNotDTEEvent, err)
	}
	return k, nil
}

// Decode reads an event's JSON data into T.
func Decode[T any](e Event) (T, error) {
	var v T
	if err := json.Unmarshal(e.Data(), &v); err != nil {
		return v, fmt.Errorf("decode %s data: %w", e.Type(), err)
	}
	return v, nil
}

// Marshal writes an event in structured mode (the AMQP body).
func Marshal(e Event) ([]byte, error) { return json.Marshal(e) }

// Unmarshal reads a structured-mode event and validates its attributes.
func Unmarshal(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("not a structured CloudEvent: %w", err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("invalid CloudEvent: %w", err)
	}
	return e, nil
}

// Requested is the data of cl.dte.requested: the DTE request itself.
type Requested = request.Request
